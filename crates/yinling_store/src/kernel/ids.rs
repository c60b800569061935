//! Id allocation: 64-bit ids in increasing order, taken before the insert so a batch can be
//! written in one statement. PostgreSQL uses a sequence per table; SQLite, which has none,
//! keeps the next id in `id_seq` and advances it inside the write transaction.

use crate::{Exec, Result, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seq {
    OrgUnits,
    Places,
    People,
    PersonRoles,
    TagDefs,
    PersonTags,
    Accounts,
    Grants,
    Providers,
    ServiceItems,
    Orders,
    AwardEntitlements,
    Needs,
    MediationCases,
    MediationSessions,
    MediationFollowups,
    LedgerAccounts,
    LedgerTransfers,
    LedgerAdjustments,
    ShopGoods,
    Redemptions,
    RedeemLocks,
    RedemptionReports,
    PersonDuplicates,
}

impl Seq {
    fn table(self) -> &'static str {
        match self {
            Seq::OrgUnits => "org_units",
            Seq::Places => "places",
            Seq::People => "people",
            Seq::PersonRoles => "person_roles",
            Seq::TagDefs => "tag_defs",
            Seq::PersonTags => "person_tags",
            Seq::Accounts => "accounts",
            Seq::Grants => "grants",
            Seq::Providers => "providers",
            Seq::ServiceItems => "service_items",
            Seq::Orders => "orders",
            Seq::AwardEntitlements => "award_entitlements",
            Seq::Needs => "needs",
            Seq::MediationCases => "mediation_cases",
            Seq::MediationSessions => "mediation_sessions",
            Seq::MediationFollowups => "mediation_followups",
            Seq::LedgerAccounts => "ledger_accounts",
            Seq::LedgerTransfers => "ledger_transfers",
            Seq::LedgerAdjustments => "ledger_adjustments",
            Seq::ShopGoods => "shop_goods",
            Seq::Redemptions => "redemptions",
            Seq::RedeemLocks => "redeem_locks",
            Seq::RedemptionReports => "redemption_reports",
            Seq::PersonDuplicates => "person_duplicates",
        }
    }
}

/// Allocates `n` new ids, in increasing order.
pub async fn allocate(exec: &mut Exec<'_>, seq: Seq, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    if exec.is_postgres() {
        let sql = format!(
            "SELECT nextval('{}_id_seq') FROM generate_series(1, $1) ORDER BY 1",
            seq.table()
        );
        exec.scalars::<i64>(q!(sql, count)).await
    } else {
        let end: i64 = exec
            .scalar(q!(
                "UPDATE id_seq SET next_id = next_id + $2 WHERE name = $1 RETURNING next_id",
                seq.table(),
                count
            ))
            .await?;
        Ok((end - count..end).collect())
    }
}

/// Allocates one id.
pub async fn next(exec: &mut Exec<'_>, seq: Seq) -> Result<i64> {
    let ids = allocate(exec, seq, 1).await?;
    ids.first()
        .copied()
        .ok_or_else(|| crate::StoreError::Internal("id allocation returned nothing".into()))
}
