//! The database handle: opening SQLite (one writer, many readers) or PostgreSQL, the
//! migrations of each, transactions, the `meta` table and the advisory lock.

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    ConnectOptions, PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{Exec, Result, StoreError, db, q};

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db`, a bare file path, or `postgres://...`.
    pub url: String,
    /// Pool size for PostgreSQL and for SQLite's readers (SQLite has one writer).
    pub max_connections: u32,
    /// SQLite `synchronous=FULL` (default) makes every acknowledged commit durable across
    /// power loss; `false` selects NORMAL, which survives a process crash but not power loss.
    pub sqlite_full_sync: bool,
    /// SQLite page cache per connection, in MiB (bulk loads of a million people want more).
    pub sqlite_cache_mib: u32,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            max_connections: 8,
            sqlite_full_sync: true,
            sqlite_cache_mib: 64,
        }
    }
}

#[derive(Clone)]
enum Pools {
    /// WAL mode: many readers, one writer. Writes go through a pool of one connection so
    /// writers queue in the application instead of failing with SQLITE_BUSY.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The database handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pools: Arc<Pools>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.backend().name())
    }
}

/// Returns the SQLite file path in a `sqlite:` URL or bare path.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
        .split('?')
        .next()
        .unwrap_or_default()
}

impl Store {
    /// Opens (and for SQLite, creates) the database. Does not migrate.
    pub async fn open(opts: &StoreOptions) -> Result<Store> {
        let pools = match Backend::from_url(&opts.url) {
            Backend::Sqlite => {
                let path = sqlite_path(&opts.url);
                if let Some(dir) = Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Database(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(if opts.sqlite_full_sync {
                        SqliteSynchronous::Full
                    } else {
                        SqliteSynchronous::Normal
                    })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma(
                        "cache_size",
                        format!("-{}", u64::from(opts.sqlite_cache_mib.max(2)) * 1024),
                    )
                    .pragma("temp_store", "memory")
                    // Checkpoint every ~40 MB of WAL rather than 4 MB: write bursts (the
                    // ledger's group commits) rewrite the same index pages many times, and a
                    // longer interval copies each page back once.
                    .pragma("wal_autocheckpoint", "10000")
                    .pragma("mmap_size", "268435456")
                    .disable_statement_logging();
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .connect_with(base.clone().create_if_missing(true))
                    .await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .connect_with(base.read_only(true))
                    .await?;
                Pools::Sqlite { read, write }
            }
            Backend::Postgres => {
                let conn = PgConnectOptions::from_str(&opts.url)?
                    .application_name("yinling")
                    .disable_statement_logging();
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .idle_timeout(Duration::from_secs(60))
                    .connect_with(conn)
                    .await?;
                Pools::Postgres(pool)
            }
        };
        Ok(Store {
            pools: Arc::new(pools),
        })
    }

    /// Opens and applies any pending migrations.
    pub async fn open_and_migrate(opts: &StoreOptions) -> Result<Store> {
        let store = Store::open(opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let migrator = self.migrator();
        let before = self.migration_status().await?.1;
        self.run_migrator(migrator).await?;
        Ok(migrator.iter().count().saturating_sub(before))
    }

    /// Applies pending migrations up to and including `version` only: to test a migration
    /// on data written by the schema before it.
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        let all = self.migrator();
        let part = Migrator {
            migrations: all
                .iter()
                .filter(|x| x.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..Migrator::DEFAULT
        };
        self.run_migrator(&part).await
    }

    /// This backend's migrations.
    fn migrator(&self) -> &'static Migrator {
        match &*self.pools {
            Pools::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Pools::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    async fn run_migrator(&self, migrator: &Migrator) -> Result<()> {
        let result = match &*self.pools {
            Pools::Sqlite { write, .. } => migrator.run(write).await,
            Pools::Postgres(pool) => migrator.run(pool).await,
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    async fn applied<'a, E>(&self, e: E) -> usize
    where
        E: sqlx::Executor<'a>,
        for<'r> i64: sqlx::Decode<'r, E::Database> + sqlx::Type<E::Database>,
        for<'q> <E::Database as sqlx::Database>::Arguments<'q>:
            sqlx::IntoArguments<'q, E::Database>,
        usize: sqlx::ColumnIndex<<E::Database as sqlx::Database>::Row>,
    {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(e)
            .await
            .map(|n| usize::try_from(n).unwrap_or(0))
            .unwrap_or(0)
    }

    /// The schema versions this binary knows, and how many the database has applied.
    pub async fn migration_status(&self) -> Result<(usize, usize)> {
        let applied = match &*self.pools {
            Pools::Sqlite { write, .. } => self.applied(write).await,
            Pools::Postgres(pool) => self.applied(pool).await,
        };
        Ok((self.migrator().iter().count(), applied))
    }

    /// An executor for reads outside a transaction.
    pub fn read(&self) -> Exec<'_> {
        match &*self.pools {
            Pools::Sqlite { read, .. } => Exec::SqlitePool(read),
            Pools::Postgres(pool) => Exec::PgPool(pool),
        }
    }

    /// An executor for a single write outside a transaction (autocommit).
    pub fn write(&self) -> Exec<'_> {
        match &*self.pools {
            Pools::Sqlite { write, .. } => Exec::SqlitePool(write),
            Pools::Postgres(pool) => Exec::PgPool(pool),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails halfway with SQLITE_BUSY.
    pub async fn begin(&self) -> Result<Tx> {
        db::log_statement("BEGIN");
        let inner = match &*self.pools {
            Pools::Sqlite { write, .. } => {
                TxInner::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Checks the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        self.read()
            .scalar::<i64>(q!("SELECT COUNT(*) FROM meta"))
            .await
            .map(|_| ())
    }

    /// Writes a consistent copy of a SQLite database to `dest` while it stays online
    /// (`VACUUM INTO`). PostgreSQL is backed up with `pg_dump` by the binary.
    pub async fn backup_sqlite_to(&self, dest: &Path) -> Result<()> {
        let Pools::Sqlite { write, .. } = &*self.pools else {
            return Err(StoreError::Internal(
                "backup_sqlite_to on PostgreSQL".into(),
            ));
        };
        let dest = dest.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(write)
            .await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (after bulk loads).
    pub async fn analyze(&self) -> Result<()> {
        match &*self.pools {
            Pools::Sqlite { write, .. } => {
                sqlx::query("ANALYZE").execute(write).await?;
            }
            Pools::Postgres(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: TxInner,
}

impl Tx {
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => Exec::SqliteConn(&mut *tx),
            TxInner::Postgres(tx) => Exec::PgConn(&mut *tx),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        db::log_statement("COMMIT");
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        db::log_statement("ROLLBACK");
        match self.inner {
            TxInner::Sqlite(tx) => tx.rollback().await?,
            TxInner::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Current time as microseconds since the Unix epoch: the one timestamp format both
/// backends store (BIGINT), so ordering and arithmetic are identical on each.
pub type Micros = i64;

/// Reads a value from the `meta` table.
pub async fn meta_get(exec: &mut Exec<'_>, name: &str) -> Result<Option<String>> {
    exec.scalar_optional(q!("SELECT value FROM meta WHERE name = $1", name))
        .await
}

/// Sets a value in the `meta` table if it is not set yet; returns the value now stored.
pub async fn meta_init(exec: &mut Exec<'_>, name: &str, value: &str) -> Result<String> {
    exec.execute(q!(
        "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        value
    ))
    .await?;
    exec.scalar(q!("SELECT value FROM meta WHERE name = $1", name))
        .await
}

/// Serialises writers on `key` until the transaction ends: a PostgreSQL advisory
/// transaction lock. SQLite has one writer already, so there it is a no-op.
pub async fn lock_key(exec: &mut Exec<'_>, key: i64) -> Result<()> {
    if exec.is_postgres() {
        exec.execute(q!("SELECT pg_advisory_xact_lock($1)", key))
            .await?;
    }
    Ok(())
}
