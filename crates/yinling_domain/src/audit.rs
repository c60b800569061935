//! The audit chain: each event's hash covers the previous event's hash and its own fields,
//! so changing or removing any row breaks every hash after it.

use sha2::{Digest, Sha256};

/// The hash a chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one audit event that the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub county_code: i64,
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub ip: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_key: Option<&'a str>,
    pub before_digest: Option<&'a str>,
    pub after_digest: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// SHA-256 over the previous hash and every field, each length-prefixed so no two
/// different events serialise alike. Hex-encoded.
pub fn event_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &[u8]| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s);
    };
    put(b"yinling-audit-v1");
    put(prev_hash.as_bytes());
    put(&f.county_code.to_be_bytes());
    put(&f.seq.to_be_bytes());
    put(&f.at.to_be_bytes());
    let opt = |o: Option<&str>| o.map(|s| format!("+{s}")).unwrap_or_else(|| "-".into());
    put(opt(f.actor_id.map(|i| i.to_string()).as_deref()).as_bytes());
    put(f.actor_name.as_bytes());
    put(opt(f.ip).as_bytes());
    put(f.action.as_bytes());
    put(f.entity.as_bytes());
    put(opt(f.entity_key).as_bytes());
    put(opt(f.before_digest).as_bytes());
    put(opt(f.after_digest).as_bytes());
    put(opt(f.detail).as_bytes());
    to_hex(&h.finalize())
}

pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(action: &str) -> AuditFields<'_> {
        AuditFields {
            county_code: 370830,
            seq: 1,
            at: 1_700_000_000_000_000,
            actor_id: Some(1),
            actor_name: "admin",
            ip: Some("127.0.0.1"),
            action,
            entity: "person",
            entity_key: Some("370830/1"),
            before_digest: None,
            after_digest: Some("abc"),
            detail: None,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = event_hash(GENESIS_HASH, &fields("person.create"));
        let b = event_hash(GENESIS_HASH, &fields("person.update"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(a, event_hash(&b, &fields("person.create")));
        // None and Some("") are different events.
        let mut f = fields("x");
        f.detail = Some("");
        assert_ne!(
            event_hash(GENESIS_HASH, &f),
            event_hash(GENESIS_HASH, &fields("x"))
        );
    }
}
