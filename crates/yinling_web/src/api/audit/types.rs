//! The wire types of the audit log, mapped from the store's rows with `From`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_store::kernel::audit::AuditRow;

use crate::api::kernel::Micros;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditRow)]
pub struct AuditEventResponse {
    pub county_code: i64,
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_key: Option<String>,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditEventResponse {
    fn from(r: AuditRow) -> Self {
        AuditEventResponse {
            county_code: r.county_code,
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            ip: r.ip,
            action: r.action,
            entity: r.entity,
            entity_key: r.entity_key,
            before_digest: r.before_digest,
            after_digest: r.after_digest,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}
