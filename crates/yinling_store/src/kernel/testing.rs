//! Per-test databases (feature `test-support`).
//!
//! Every test gets a database of its own: a temporary SQLite file, or — when
//! `YINLING_TEST_DATABASE_URL` names a PostgreSQL server — a fresh database cloned from a
//! migrated template, which is built once per schema version and shared by all test
//! processes (guarded by an advisory lock).

use std::{cell::RefCell, future::Future, str::FromStr};

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

use crate::{Exec, Result, Store, StoreOptions, q};

/// A store for one test; its SQLite file lives as long as this value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server URL the suite runs against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("YINLING_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

impl TestDb {
    /// A fresh, migrated database on the backend the test run selected.
    pub async fn new() -> TestDb {
        match postgres_url() {
            Some(admin) => Self::postgres(&admin).await,
            None => Self::sqlite().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let db = Self::sqlite_unmigrated().await;
        db.store.migrate().await.expect("migrate sqlite test store");
        db
    }

    /// An empty database, no migration applied, on the backend the test run selected.
    pub async fn unmigrated() -> TestDb {
        match postgres_url() {
            Some(admin) => Self::postgres_database(&admin, None).await,
            None => Self::sqlite_unmigrated().await,
        }
    }

    async fn sqlite_unmigrated() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::open(&StoreOptions::new(&url))
            .await
            .expect("open sqlite test store");
        TestDb {
            store,
            url,
            _dir: Some(dir),
        }
    }

    pub async fn postgres(admin_url: &str) -> TestDb {
        let template = ensure_template(admin_url).await;
        Self::postgres_database(admin_url, Some(&template)).await
    }

    /// A new database on the server: a copy of `template`, or empty.
    async fn postgres_database(admin_url: &str, template: Option<&str>) -> TestDb {
        let name = format!("yinling_test_{}_{}", std::process::id(), rand_suffix());
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("connect admin");
        match template {
            Some(t) => {
                let create = format!("CREATE DATABASE {name} TEMPLATE {t}");
                without_sessions(&mut admin, t, &create).await
            }
            None => sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .map(drop),
        }
        .expect("create test database");
        admin.close().await.ok();
        let url = with_database(admin_url, &name);
        let mut opts = StoreOptions::new(&url);
        opts.max_connections = 4;
        let store = Store::open(&opts).await.expect("open postgres test store");
        TestDb {
            store,
            url,
            _dir: None,
        }
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{nanos}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Runs `sql`, which needs `database` to have no sessions (a rename, or a copy of it as a
/// template). The server may still be ending a closed pool's sessions, and on a fresh cluster
/// an autovacuum worker may have connected: end whatever is there and try again.
async fn without_sessions(
    admin: &mut PgConnection,
    database: &str,
    sql: &str,
) -> Result<(), sqlx::Error> {
    let mut tries = 0;
    loop {
        match sqlx::query(sql).execute(&mut *admin).await {
            Ok(_) => return Ok(()),
            Err(_) if tries < 100 => {
                tries += 1;
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                )
                .bind(database)
                .execute(&mut *admin)
                .await?;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn ensure_template(admin_url: &str) -> String {
    let checksum = super::store::POSTGRES_MIGRATIONS
        .iter()
        .fold(Sha256::new(), |mut h, m| {
            h.update(&m.checksum);
            h
        })
        .finalize();
    let template = format!(
        "yinling_tpl_{}",
        checksum[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let opts = PgConnectOptions::from_str(admin_url).expect("admin url");
    let mut admin = PgConnection::connect_with(&opts)
        .await
        .expect("connect admin");
    sqlx::query("SELECT pg_advisory_lock(7311)")
        .execute(&mut admin)
        .await
        .expect("lock");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .expect("check template");
    if exists.is_none() {
        let building = format!("{template}_building");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut admin)
            .await
            .expect("drop stale template");
        sqlx::query(&format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .await
            .expect("create template");
        let store =
            Store::open_and_migrate(&StoreOptions::new(with_database(admin_url, &building)))
                .await
                .expect("migrate template");
        store.close().await;
        let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
        without_sessions(&mut admin, &building, &rename)
            .await
            .expect("publish template");
    }
    sqlx::query("SELECT pg_advisory_unlock(7311)")
        .execute(&mut admin)
        .await
        .expect("unlock");
    admin.close().await.ok();
    template
}

/// Runs `fut` and returns its output with the SQL of every statement it ran, in order
/// (transaction begin, commit and rollback included). Only statements run in this task are
/// seen: work `fut` spawns onto other tasks is not.
pub async fn statements_of<F: Future>(fut: F) -> (F::Output, Vec<String>) {
    crate::db::STATEMENT_LOG
        .scope(RefCell::new(Vec::new()), async {
            let out = fut.await;
            let log = crate::db::STATEMENT_LOG.with(RefCell::take);
            (out, log)
        })
        .await
}

/// How many rows `table` holds (to prove a refused write changed nothing). `table` is
/// written into the statement: pass a name, never input.
pub async fn count_rows(exec: &mut Exec<'_>, table: &str) -> Result<i64> {
    exec.scalar(q!(format!("SELECT COUNT(*) FROM {table}")))
        .await
}

/// Sets a person's household directly, without the version check or audit a use case
/// gives it: a fixture for tests that need people sharing a home.
pub async fn set_household(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
    household_id: Option<i64>,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE people SET household_id = $3 WHERE county_code = $1 AND id = $2",
        county_code,
        person_id,
        household_id
    ))
    .await
    .map(|_| ())
}
