//! The append-only, hash-chained audit log. One chain per county; appends to a chain are
//! serialised by the row lock on its head (`audit_heads`), taken by an UPDATE so the same
//! statement works on both backends.

use serde::Serialize;
use yinling_domain::audit::{AuditFields, GENESIS_HASH, event_hash};

use crate::{Exec, Micros, Query, Result, q};

/// An event to append. `county_code` selects the chain (0 for events outside any county).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub county_code: i64,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditRow {
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

impl AuditRow {
    pub fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            county_code: self.county_code,
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            actor_name: &self.actor_name,
            ip: self.ip.as_deref(),
            action: &self.action,
            entity: &self.entity,
            entity_key: self.entity_key.as_deref(),
            before_digest: self.before_digest.as_deref(),
            after_digest: self.after_digest.as_deref(),
            detail: self.detail.as_deref(),
        }
    }
}

const COLUMNS: &str = "county_code, seq, at, actor_id, actor_name, ip, action, entity, entity_key, \
     before_digest, after_digest, detail, prev_hash, hash";

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends events inside the caller's transaction, so an event exists exactly when the
/// change it records was committed. Returns the sequence numbers given, in the order of
/// `events`.
///
/// Whatever the number of events, each chain they touch costs three statements: the head
/// is advanced by all of its events at once (`seq = seq + n`, which takes the head's row
/// lock until commit on PostgreSQL; SQLite has one writer), their hashes are chained in
/// memory from the head's hash in the order given, the events go in as one insert carrying
/// the batch as one JSON parameter (so no bind-parameter limit applies and the statement is
/// prepared once), and the last hash is stored in the head. A chain seen for the first time
/// costs one more statement, to create its head. Chains are advanced in county order, so
/// two transactions appending to the same chains never wait for each other in a cycle.
pub async fn append(exec: &mut Exec<'_>, events: &[NewAuditEvent]) -> Result<Vec<i64>> {
    let mut seqs = vec![0_i64; events.len()];
    let mut chains: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, e) in events.iter().enumerate() {
        chains.entry(e.county_code).or_default().push(i);
    }
    let pg = exec.is_postgres();
    for (county, idx) in chains {
        let n = idx.len() as i64;
        let advance = || {
            q!(
                "UPDATE audit_heads SET seq = seq + $2 WHERE county_code = $1 RETURNING seq, hash",
                county,
                n
            )
        };
        // `hash` is still that of the chain's last event before this batch.
        let head: Head = match exec.fetch_optional::<Head>(advance()).await? {
            Some(h) => h,
            None => {
                exec.execute(q!(
                    "INSERT INTO audit_heads (county_code, seq, hash) VALUES ($1, 0, $2)
                     ON CONFLICT (county_code) DO NOTHING",
                    county,
                    GENESIS_HASH
                ))
                .await?;
                exec.fetch_one(advance()).await?
            }
        };
        let mut prev = head.hash;
        let mut seq = head.seq - n;
        let mut rows = Vec::with_capacity(idx.len());
        for &i in &idx {
            let e = &events[i];
            seq += 1;
            let fields = AuditFields {
                county_code: e.county_code,
                seq,
                at: e.at,
                actor_id: e.actor_id,
                actor_name: &e.actor_name,
                ip: e.ip.as_deref(),
                action: &e.action,
                entity: &e.entity,
                entity_key: e.entity_key.as_deref(),
                before_digest: e.before_digest.as_deref(),
                after_digest: e.after_digest.as_deref(),
                detail: e.detail.as_deref(),
            };
            let hash = event_hash(&prev, &fields);
            rows.push(serde_json::json!([
                e.county_code,
                seq,
                e.at,
                e.actor_id,
                e.actor_name,
                e.ip,
                e.action,
                e.entity,
                e.entity_key,
                e.before_digest,
                e.after_digest,
                e.detail,
                prev,
                hash
            ]));
            seqs[i] = seq;
            prev = hash;
        }
        let batch = serde_json::Value::Array(rows).to_string();
        exec.execute(q!(insert_sql(pg), batch)).await?;
        exec.execute(q!(
            "UPDATE audit_heads SET hash = $2 WHERE county_code = $1",
            county,
            &prev
        ))
        .await?;
    }
    Ok(seqs)
}

/// The insert of a batch of events, in `COLUMNS` order; the integers cast (PostgreSQL
/// reads text).
fn insert_sql(pg: bool) -> String {
    let fields: Vec<String> = (0..14)
        .map(|n| {
            if n < 4 {
                format!("CAST(j.value->>{n} AS BIGINT)")
            } else {
                format!("j.value->>{n}")
            }
        })
        .collect();
    format!(
        "INSERT INTO audit_events ({COLUMNS}) SELECT {} FROM {}",
        fields.join(", "),
        crate::db::json_rows(pg, "$1")
    )
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Chains to read: ranges of county codes in the caller's scope.
    pub counties: Vec<(i64, i64)>,
    pub action_prefix: Option<String>,
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub actor_id: Option<i64>,
}

pub async fn list(
    exec: &mut Exec<'_>,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditRow>> {
    let mut q = Query::new("", Vec::new());
    let ranges: Vec<String> = f
        .counties
        .iter()
        .map(|(lo, hi)| {
            format!(
                "county_code BETWEEN {} AND {}",
                q.push_arg(*lo),
                q.push_arg(*hi)
            )
        })
        .collect();
    let mut wh = vec![if ranges.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", ranges.join(" OR "))
    }];
    if let Some(a) = &f.action_prefix {
        wh.push(format!(
            "action >= {} AND action < {}",
            q.push_arg(a),
            q.push_arg(format!("{a}~"))
        ));
    }
    if let Some(e) = &f.entity {
        wh.push(format!("entity = {}", q.push_arg(e)));
    }
    if let Some(k) = &f.entity_key {
        wh.push(format!("entity_key = {}", q.push_arg(k)));
    }
    if let Some(a) = f.actor_id {
        wh.push(format!("actor_id = {}", q.push_arg(a)));
    }
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY at DESC, county_code, seq DESC LIMIT {l} OFFSET {o}",
        wh.join(" AND ")
    )
    .into();
    exec.fetch_all(q).await
}

/// What `verify` found wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub county_code: i64,
    pub seq: i64,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub county_code: i64,
    pub events: i64,
    pub head_seq: i64,
    pub head_hash: String,
}

/// Recomputes every chain from its genesis: a changed row breaks its own hash, a removed
/// row breaks the sequence and the next row's link, a removed tail disagrees with the head.
pub async fn verify(exec: &mut Exec<'_>) -> Result<(Vec<ChainReport>, Vec<ChainProblem>)> {
    #[derive(sqlx::FromRow)]
    struct HeadRow {
        county_code: i64,
        seq: i64,
        hash: String,
    }
    let heads: Vec<HeadRow> = exec
        .fetch_all(q!(
            "SELECT county_code, seq, hash FROM audit_heads ORDER BY county_code"
        ))
        .await?;
    let mut chains: Vec<i64> = exec
        .scalars(q!(
            "SELECT DISTINCT county_code FROM audit_events ORDER BY county_code"
        ))
        .await?;
    for h in &heads {
        if !chains.contains(&h.county_code) {
            chains.push(h.county_code);
        }
    }
    chains.sort_unstable();
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    let problem = |c: i64, s: i64, p: String| ChainProblem {
        county_code: c,
        seq: s,
        problem: p,
    };
    for county in chains {
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut expected_seq = 1;
        let mut events = 0;
        let mut after = 0_i64;
        loop {
            let page: Vec<AuditRow> = exec
                .fetch_all(q!(
                    format!(
                        "SELECT {COLUMNS} FROM audit_events WHERE county_code = $1 AND seq > $2 ORDER BY seq LIMIT 5000"
                    ),
                    county,
                    after
                ))
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                events += 1;
                if row.seq != expected_seq {
                    problems.push(problem(
                        county,
                        row.seq,
                        format!("第{expected_seq}条至第{}条记录缺失", row.seq - 1),
                    ));
                }
                if row.prev_hash != prev_hash {
                    problems.push(problem(
                        county,
                        row.seq,
                        "与上一条记录的链接不符（前一条被修改或删除）".into(),
                    ));
                }
                let recomputed = event_hash(&row.prev_hash, &row.fields());
                if recomputed != row.hash {
                    problems.push(problem(
                        county,
                        row.seq,
                        "记录内容与其哈希不符（记录被修改）".into(),
                    ));
                }
                prev_hash = row.hash.clone();
                expected_seq = row.seq + 1;
            }
        }
        let head = heads.iter().find(|h| h.county_code == county);
        match head {
            Some(h) if h.seq != expected_seq - 1 || h.hash != prev_hash => problems.push(problem(
                county,
                h.seq,
                format!(
                    "链头记录为第{}条，实际最后一条为第{}条（末尾记录被删除或链头被改动）",
                    h.seq,
                    expected_seq - 1
                ),
            )),
            None => problems.push(problem(county, expected_seq - 1, "缺少链头记录".into())),
            _ => {}
        }
        reports.push(ChainReport {
            county_code: county,
            events,
            head_seq: head.map_or(0, |h| h.seq),
            head_hash: head.map_or_else(String::new, |h| h.hash.clone()),
        });
    }
    Ok((reports, problems))
}

/// Total number of audit events (all chains).
pub async fn count(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM audit_events")).await
}
