//! The ledger's rows: accounts, transfers, rules, adjustments and verification findings.

use yinling_domain::{
    ids::{AccountId, AdjustmentId, LedgerAccountId, PersonId, TransferId},
    ledger::{AccountKind, AdjustmentStatus, FamilyTransfer, Reason, SourceKind, Unit},
    region::CountyCode,
};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountRow {
    pub county_code: CountyCode,
    pub id: LedgerAccountId,
    pub unit: Unit,
    pub kind: AccountKind,
    /// The person's id of a person's account, the shop's unit id of a shop's, 0 for a
    /// county's pool and expiry accounts.
    pub owner_id: i64,
    pub path: String,
    pub balance: i64,
    pub may_go_negative: bool,
    pub created_at: Micros,
    /// The account's latest transfer: the head of its chain.
    pub last_transfer: Option<TransferId>,
    /// The latest `created_at` of its transfers (0 before the first).
    pub last_at: Micros,
    /// How many transfers it is in.
    pub entries: i64,
}

pub(super) const ACCOUNT_COLUMNS: &str = "county_code, id, unit, kind, owner_id, path, balance, \
     may_go_negative, created_at, last_transfer, last_at, entries";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TransferRow {
    pub county_code: CountyCode,
    pub id: TransferId,
    pub idem_key: String,
    pub fingerprint: String,
    pub unit: Unit,
    pub debit_id: LedgerAccountId,
    pub credit_id: LedgerAccountId,
    pub amount: i64,
    pub debit_after: i64,
    pub credit_after: i64,
    pub reason: Reason,
    pub source_kind: SourceKind,
    pub source_ref: String,
    pub memo: String,
    pub reverses: Option<TransferId>,
    pub actor_id: Option<AccountId>,
    pub created_at: Micros,
    /// The debit account's transfer before this one.
    pub debit_prev: Option<TransferId>,
    /// The credit account's transfer before this one.
    pub credit_prev: Option<TransferId>,
}

pub(super) const TRANSFER_COLUMNS: &str = "county_code, id, idem_key, fingerprint, unit, debit_id, credit_id, \
     amount, debit_after, credit_after, reason, source_kind, source_ref, memo, reverses, actor_id, \
     created_at, debit_prev, credit_prev";

/// An account to find or open: unique by (county, unit, kind, owner).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    pub county_code: CountyCode,
    pub unit: Unit,
    pub kind: AccountKind,
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
    pub id: LedgerAccountId,
    pub balance: i64,
    pub last_transfer: TransferId,
    pub last_at: Micros,
    pub entries: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RulesRow {
    /// A number in the audit record, as before it had a type.
    pub county_code: CountyCode,
    pub daily_points_cap: Option<i64>,
    pub daily_minutes_cap: Option<i64>,
    pub expiry_months: Option<i64>,
    pub family_transfer: FamilyTransfer,
    pub family_max_minutes_year: i64,
    /// The most points one redemption code may spend (the elder may choose less).
    pub max_points_per_code: i64,
    pub updated_at: Micros,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EarningRuleRow {
    /// A number in the audit record, as before it had a type.
    pub county_code: CountyCode,
    pub source_kind: SourceKind,
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
        county_code: CountyCode,
        account: LedgerAccountId,
        cached: i64,
        computed: i64,
    },
    /// An account that may not go negative is negative.
    Negative {
        county_code: CountyCode,
        account: LedgerAccountId,
        balance: i64,
    },
    /// The balances of a unit in a county do not sum to zero.
    UnitSum {
        county_code: CountyCode,
        unit: Unit,
        sum: i64,
    },
    /// A transfer joins accounts of another unit than its own.
    UnitMismatch {
        county_code: CountyCode,
        transfer: TransferId,
    },
    /// An account's latest transfer does not end at its balance.
    RunningBalance {
        county_code: CountyCode,
        account: LedgerAccountId,
        balance: i64,
        after_last: i64,
    },
    /// An account's head, count of transfers or latest time is not that of its transfers.
    Head {
        county_code: CountyCode,
        account: LedgerAccountId,
    },
    /// A transfer's link to the account's previous transfer is wrong: the previous one is
    /// not of that account, not earlier, later in time, or does not step to this balance;
    /// or two transfers follow the same one (a fork).
    Link {
        county_code: CountyCode,
        account: LedgerAccountId,
        transfer: TransferId,
    },
    /// A transfer made since every transfer is audited (migration 0008) has no audit event.
    Unaudited {
        county_code: CountyCode,
        transfer: TransferId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifyCounts {
    pub accounts: i64,
    pub transfers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub county_code: CountyCode,
    pub id: AdjustmentId,
    pub unit: Unit,
    pub person_id: PersonId,
    pub path: String,
    pub amount: i64,
    pub memo: String,
    pub status: AdjustmentStatus,
    pub proposed_by: AccountId,
    pub proposed_by_name: String,
    pub proposed_at: Micros,
    pub decided_by: Option<AccountId>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub transfer_id: Option<TransferId>,
}

pub(super) const ADJUSTMENT_COLUMNS: &str = "county_code, id, unit, person_id, path, amount, memo, status, \
     proposed_by, proposed_by_name, proposed_at, decided_by, decided_by_name, decided_at, transfer_id";
