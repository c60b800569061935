//! The ledger's rows: accounts, transfers, rules, adjustments and verification findings.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountRow {
    pub county_code: i64,
    pub id: i64,
    pub unit: String,
    pub kind: String,
    pub owner_id: i64,
    pub path: String,
    pub balance: i64,
    pub may_go_negative: bool,
    pub created_at: Micros,
    /// The account's latest transfer: the head of its chain.
    pub last_transfer: Option<i64>,
    /// The latest `created_at` of its transfers (0 before the first).
    pub last_at: Micros,
    /// How many transfers it is in.
    pub entries: i64,
}

pub(super) const ACCOUNT_COLUMNS: &str = "county_code, id, unit, kind, owner_id, path, balance, \
     may_go_negative, created_at, last_transfer, last_at, entries";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TransferRow {
    pub county_code: i64,
    pub id: i64,
    pub idem_key: String,
    pub fingerprint: String,
    pub unit: String,
    pub debit_id: i64,
    pub credit_id: i64,
    pub amount: i64,
    pub debit_after: i64,
    pub credit_after: i64,
    pub reason: String,
    pub source_kind: String,
    pub source_ref: String,
    pub memo: String,
    pub reverses: Option<i64>,
    pub actor_id: Option<i64>,
    pub created_at: Micros,
    /// The debit account's transfer before this one.
    pub debit_prev: Option<i64>,
    /// The credit account's transfer before this one.
    pub credit_prev: Option<i64>,
}

pub(super) const TRANSFER_COLUMNS: &str = "county_code, id, idem_key, fingerprint, unit, debit_id, credit_id, \
     amount, debit_after, credit_after, reason, source_kind, source_ref, memo, reverses, actor_id, \
     created_at, debit_prev, credit_prev";

/// An account to find or open: unique by (county, unit, kind, owner).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    pub county_code: i64,
    pub unit: &'static str,
    pub kind: &'static str,
    pub owner_id: i64,
}

/// Which side of its transfers an account is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Debit,
    Credit,
}

/// What a batch changed on a locked account: its balance and the head of its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountUpdate {
    pub id: i64,
    pub balance: i64,
    pub last_transfer: i64,
    pub last_at: Micros,
    pub entries: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RulesRow {
    pub county_code: i64,
    pub daily_points_cap: Option<i64>,
    pub daily_minutes_cap: Option<i64>,
    pub expiry_months: Option<i64>,
    pub family_transfer: String,
    pub family_max_minutes_year: i64,
    /// The most points one redemption code may spend (the elder may choose less).
    pub max_points_per_code: i64,
    pub updated_at: Micros,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EarningRuleRow {
    pub county_code: i64,
    pub source_kind: String,
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
    pub updated_at: Micros,
}

/// One difference `yinling ledger verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Finding {
    /// The cached balance is not credits minus debits.
    Balance {
        county_code: i64,
        account: i64,
        cached: i64,
        computed: i64,
    },
    /// An account that may not go negative is negative.
    Negative {
        county_code: i64,
        account: i64,
        balance: i64,
    },
    /// The balances of a unit in a county do not sum to zero.
    UnitSum {
        county_code: i64,
        unit: String,
        sum: i64,
    },
    /// A transfer joins accounts of another unit than its own.
    UnitMismatch { county_code: i64, transfer: i64 },
    /// An account's latest transfer does not end at its balance.
    RunningBalance {
        county_code: i64,
        account: i64,
        balance: i64,
        after_last: i64,
    },
    /// An account's head, count of transfers or latest time is not that of its transfers.
    Head { county_code: i64, account: i64 },
    /// A transfer's link to the account's previous transfer is wrong: the previous one is
    /// not of that account, not earlier, later in time, or does not step to this balance;
    /// or two transfers follow the same one (a fork).
    Link {
        county_code: i64,
        account: i64,
        transfer: i64,
    },
    /// A transfer made since every transfer is audited (migration 0008) has no audit event.
    Unaudited { county_code: i64, transfer: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifyCounts {
    pub accounts: i64,
    pub transfers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub county_code: i64,
    pub id: i64,
    pub unit: String,
    pub person_id: i64,
    pub path: String,
    pub amount: i64,
    pub memo: String,
    pub status: String,
    pub proposed_by: i64,
    pub proposed_by_name: String,
    pub proposed_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub transfer_id: Option<i64>,
}

pub(super) const ADJUSTMENT_COLUMNS: &str = "county_code, id, unit, person_id, path, amount, memo, status, \
     proposed_by, proposed_by_name, proposed_at, decided_by, decided_by_name, decided_at, transfer_id";
