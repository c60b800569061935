//! The one place that knows there are two databases.
//!
//! Queries are written once, in the SQL both SQLite and PostgreSQL accept, with `$1`-style
//! numbered parameters (sqlx binds `$N` by number on SQLite too). A [`Query`] carries the text
//! and its arguments as [`Arg`] values; [`Exec`] runs it on whichever backend the store was
//! opened on. Rows decode through `sqlx::FromRow`, whose derive is generic over the backend,
//! so one row struct serves both.
//!
//! The door is locked: [`Query`], [`Arg`], the `q!` macro and [`Exec`]'s raw methods
//! (`execute`, `fetch_*`, `scalar*`) are private to this crate, so every statement Yinling
//! runs is a named function of a capability here. Only the feature `test-support`, which
//! dev-dependencies and the app's `test-support` feature turn on, opens it (`pub`): tests
//! read and break the database directly to prove what a use case wrote or refuses. A build
//! without tests (`cargo build -p yinling`, `cargo check -p yinling_app --lib`) has no such
//! door.

use std::borrow::Cow;

use sqlx::{
    Arguments, Decode, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool, Type,
    postgres::{PgArguments, PgRow},
    sqlite::{SqliteArguments, SqliteRow},
};

use yinling_domain::{
    ids::{
        AccountId, AdjustmentId, CaseId, FollowUpId, GoodsId, LedgerAccountId, NeedId, OrderId,
        PersonId, PersonRoleId, PlaceId, ProviderId, RedeemLockId, RedemptionId,
        RedemptionReportId, ServiceItemId, SessionId, TagId, TransferId, UnitId,
    },
    region::CountyCode,
};

use crate::StoreError;

/// One bound value. The variant fixes the SQL type even when the value is NULL, which
/// PostgreSQL needs to infer the parameter type.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Bool(Option<bool>),
}

macro_rules! arg_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self { Arg::$variant(Some(($conv)(v))) }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self { Arg::$variant(v.map($conv)) }
        }
    )*};
}
arg_from!(I64: i64 => |v| v, i32 => i64::from, u32 => i64::from, &i64 => |v: &i64| *v);
// County codes and typed ids bind as the integers their columns hold.
arg_from!(I64:
    CountyCode => CountyCode::as_i64,
    UnitId => i64::from, PlaceId => i64::from, PersonId => i64::from,
    PersonRoleId => i64::from, TagId => i64::from, AccountId => i64::from,
    ProviderId => i64::from, ServiceItemId => i64::from, OrderId => i64::from,
    NeedId => i64::from, CaseId => i64::from, SessionId => i64::from,
    FollowUpId => i64::from, LedgerAccountId => i64::from,
    TransferId => i64::from, AdjustmentId => i64::from, GoodsId => i64::from,
    RedemptionId => i64::from, RedeemLockId => i64::from, RedemptionReportId => i64::from,
);
arg_from!(F64: f64 => |v| v);
arg_from!(Text: String => |v| v, &str => str::to_owned, &String => |v: &String| v.clone());
arg_from!(Bytes: Vec<u8> => |v| v, &[u8] => <[u8]>::to_vec, &Vec<u8> => |v: &Vec<u8>| v.clone());
arg_from!(Bool: bool => |v| v);

/// SQL text plus its arguments.
#[derive(Debug, Clone)]
pub struct Query {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg>,
}

impl Query {
    pub fn new(sql: impl Into<Cow<'static, str>>, args: Vec<Arg>) -> Self {
        Query {
            sql: sql.into(),
            args,
        }
    }

    /// Appends an argument and returns its `$N` placeholder, for statements built at run time.
    pub fn push_arg(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }
}

impl Query {
    /// On SQLite, rewrites `$1, $2, …` — when each appears once and in order — as plain `?`,
    /// which SQLite binds by position. A `$N` is found by walking the statement's list of
    /// named parameters, so binding a large batch statement costs the square of its
    /// parameter count (9% of the ledger's group commit). Other text is left as it is.
    pub fn positional(mut self, sqlite: bool) -> Query {
        if !sqlite {
            return self;
        }
        let mut out = String::with_capacity(self.sql.len());
        let mut next = 1usize;
        let mut rest = &*self.sql;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if rest[at + 1..at + 1 + digits].parse::<usize>() != Ok(next) {
                return self; // out of order or repeated: keep the numbered form
            }
            out.push('?');
            next += 1;
            rest = &rest[at + 1 + digits..];
        }
        out.push_str(rest);
        if next - 1 == self.args.len() {
            self.sql = out.into();
        }
        self
    }
}

/// How many rows a multi-row INSERT should carry. SQLite finds a `$N` parameter's slot by a
/// linear walk of the statement's parameter names, so binding costs grow with the square of
/// the parameter count; a few hundred parameters keeps that small while still
/// amortising each statement (measured: 26% of a million-person load was spent in that
/// walk at 6,600 parameters a statement).
pub fn rows_per_statement(params_per_row: usize) -> usize {
    (400 / params_per_row.max(1)).max(1)
}

/// A whole batch as one statement parameter: `param` holds a JSON array of arrays, and
/// `FROM {json_rows(..)}` yields one row `j` per element, its fields read as `j.value->>N`
/// (cast where a type is needed). The statement's text does not depend on the batch's size,
/// so it is prepared once, bound with one value and sent in one round trip: the ledger's
/// group commit writes a thousand transfers with four statements instead of sixty.
pub fn json_rows(postgres: bool, param: &str) -> String {
    if postgres {
        format!("jsonb_array_elements(CAST({param} AS jsonb)) AS j(value)")
    } else {
        format!("json_each({param}) AS j")
    }
}

/// `col` is one of a list bound as one parameter, made by [`id_list`] or [`text_list`];
/// `sql_type` is `BIGINT` or `TEXT`. PostgreSQL gets an array (`= ANY`), which it plans as an
/// index scan whatever the list's length. (Joined to a set-returning function it guesses 100
/// rows, and a plan cached while the table was small went on scanning it: a one-key lookup
/// took 38 ms at 100k transfers.)
pub fn in_list(postgres: bool, col: &str, param: &str, sql_type: &str) -> String {
    if postgres {
        format!("{col} = ANY(CAST({param} AS {sql_type}[]))")
    } else {
        format!(
            "{col} IN (SELECT CAST(j.value->>0 AS {sql_type}) FROM {})",
            json_rows(false, param)
        )
    }
}

/// Ids for [`in_list`]: a PostgreSQL array literal or a JSON batch.
pub fn id_list(postgres: bool, ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    if postgres {
        format!("{{{}}}", list.join(","))
    } else {
        format!("[[{}]]", list.join("],["))
    }
}

/// Texts for [`in_list`]: a PostgreSQL array literal (each element quoted, `"` and `\`
/// escaped) or a JSON batch.
pub fn text_list(postgres: bool, items: &[&str]) -> String {
    if postgres {
        let quoted: Vec<String> = items
            .iter()
            .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        format!("{{{}}}", quoted.join(","))
    } else {
        serde_json::to_string(&items.iter().map(|s| [s]).collect::<Vec<_>>()).unwrap_or_default()
    }
}

/// The row lock a `SELECT` takes until its transaction ends: the one place Yinling writes
/// `FOR UPDATE`.
///
/// On PostgreSQL, [`Lock::Update`] waits for rows another transaction holds and then holds
/// them (a read that a later write in the same transaction depends on stays true), and
/// [`Lock::SkipLocked`] passes over them (claimers running at once each take different
/// rows, or none). SQLite has no row locks and needs none: every write transaction begins
/// `BEGIN IMMEDIATE` on the one writer connection, so it holds the whole database from its
/// first read to its commit; no other writer can change a row between its read and its
/// write, and there is never a row held by someone else to wait for or skip. There the
/// clause is empty, and a statement run only to take locks need not run at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// `FOR UPDATE`.
    Update,
    /// `FOR UPDATE SKIP LOCKED`.
    SkipLocked,
}

impl Lock {
    /// The clause to end a `SELECT` with, leading space included; empty on SQLite.
    pub(crate) fn clause(self, postgres: bool) -> &'static str {
        match (postgres, self) {
            (false, _) => "",
            (true, Lock::Update) => " FOR UPDATE",
            (true, Lock::SkipLocked) => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A comma-separated column list with each column qualified by a table alias:
/// `qualified("id, name", "a")` is `a.id, a.name`.
pub fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds a [`Query`]: `q!("SELECT .. WHERE id = $1", id)`. Crate-private; exported as
/// `yinling_store::q!` with the feature `test-support` only.
#[cfg_attr(feature = "test-support", macro_export)]
macro_rules! q {
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::db::Query::new($sql, vec![$($crate::db::Arg::from($arg)),*])
    };
}
#[cfg(not(feature = "test-support"))]
pub(crate) use q;

/// Declares a raw method of [`Exec`] `pub` with the feature `test-support` (the tests'
/// escape) and `pub(crate)` otherwise.
macro_rules! raw {
    ($(#[$meta:meta])* async fn $($rest:tt)*) => {
        #[cfg(feature = "test-support")]
        $(#[$meta])*
        pub async fn $($rest)*
        #[cfg(not(feature = "test-support"))]
        $(#[$meta])*
        pub(crate) async fn $($rest)*
    };
}

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>, StoreError> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
        }
        .map_err(|e| StoreError::Internal(format!("bind: {e}")))?;
    }
    Ok(out)
}

fn pg_args(args: Vec<Arg>) -> Result<PgArguments, StoreError> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
        }
        .map_err(|e| StoreError::Internal(format!("bind: {e}")))?;
    }
    Ok(out)
}

/// A row type both backends can decode.
pub trait DbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> DbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A single-column value both backends can decode.
pub trait DbScalar:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> DbScalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

#[cfg(feature = "test-support")]
tokio::task_local! {
    /// The statements the current task has run, while a log is open
    /// ([`crate::testing::statements_of`]). Only with the `test-support` feature: a test can
    /// then count what a use case or a whole request asks of the database.
    pub(crate) static STATEMENT_LOG: std::cell::RefCell<Vec<String>>;
}

/// Notes a statement in the current task's log, if one is open.
#[inline]
pub(crate) fn log_statement(sql: &str) {
    #[cfg(feature = "test-support")]
    let _ = STATEMENT_LOG.try_with(|log| log.borrow_mut().push(sql.to_owned()));
    #[cfg(not(feature = "test-support"))]
    let _ = sql;
}

/// Where a query runs: a pool (autocommit) or the connection of an open transaction.
pub enum Exec<'a> {
    SqlitePool(&'a SqlitePool),
    PgPool(&'a PgPool),
    SqliteConn(&'a mut SqliteConnection),
    PgConn(&'a mut PgConnection),
}

/// Runs `$body` with `$q` bound to the backend's query builder and `$e` to its executor.
macro_rules! dispatch {
    ($self:ident, $query:ident, $build:ident, |$q:ident, $e:ident| $body:expr) => {
        match $self {
            Exec::SqlitePool(p) => {
                let $q = sqlx::$build::<Sqlite, _, _>(&*$query.sql, sqlite_args($query.args)?);
                let $e = *p;
                $body
            }
            Exec::SqliteConn(c) => {
                let $q = sqlx::$build::<Sqlite, _, _>(&*$query.sql, sqlite_args($query.args)?);
                let $e = &mut **c;
                $body
            }
            Exec::PgPool(p) => {
                let $q = sqlx::$build::<Postgres, _, _>(&*$query.sql, pg_args($query.args)?);
                let $e = *p;
                $body
            }
            Exec::PgConn(c) => {
                let $q = sqlx::$build::<Postgres, _, _>(&*$query.sql, pg_args($query.args)?);
                let $e = &mut **c;
                $body
            }
        }
    };
}

impl Exec<'_> {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Exec::PgPool(_) | Exec::PgConn(_))
    }

    raw! {
        /// Runs a statement; returns the number of rows it changed.
        async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
            let sql = query.sql.clone();
            log_statement(&sql);
            let n = match self {
                Exec::SqlitePool(p) => sqlx::query_with(&query.sql, sqlite_args(query.args)?)
                    .execute(*p)
                    .await
                    .map(|r| r.rows_affected()),
                Exec::SqliteConn(c) => sqlx::query_with(&query.sql, sqlite_args(query.args)?)
                    .execute(&mut **c)
                    .await
                    .map(|r| r.rows_affected()),
                Exec::PgPool(p) => sqlx::query_with(&query.sql, pg_args(query.args)?)
                    .execute(*p)
                    .await
                    .map(|r| r.rows_affected()),
                Exec::PgConn(c) => sqlx::query_with(&query.sql, pg_args(query.args)?)
                    .execute(&mut **c)
                    .await
                    .map(|r| r.rows_affected()),
            };
            n.map_err(|e| StoreError::from_sqlx(e, &sql))
        }
    }

    raw! {
        async fn fetch_all<T: DbRow>(&mut self, query: Query) -> Result<Vec<T>, StoreError> {
            let sql = query.sql.clone();
            log_statement(&sql);
            let r: Result<Vec<T>, sqlx::Error> =
                dispatch!(self, query, query_as_with, |q, e| q.fetch_all(e).await);
            r.map_err(|e| StoreError::from_sqlx(e, &sql))
        }
    }

    raw! {
        async fn fetch_optional<T: DbRow>(
            &mut self,
            query: Query,
        ) -> Result<Option<T>, StoreError> {
            let sql = query.sql.clone();
            log_statement(&sql);
            let r: Result<Option<T>, sqlx::Error> =
                dispatch!(self, query, query_as_with, |q, e| q.fetch_optional(e).await);
            r.map_err(|e| StoreError::from_sqlx(e, &sql))
        }
    }

    raw! {
        /// Exactly one row, or [`StoreError::NotFound`].
        async fn fetch_one<T: DbRow>(&mut self, query: Query) -> Result<T, StoreError> {
            self.fetch_optional(query)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }

    raw! {
        async fn scalar<T: DbScalar>(&mut self, query: Query) -> Result<T, StoreError> {
            self.scalar_optional(query)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }

    raw! {
        async fn scalar_optional<T: DbScalar>(
            &mut self,
            query: Query,
        ) -> Result<Option<T>, StoreError> {
            let sql = query.sql.clone();
            log_statement(&sql);
            let r: Result<Option<T>, sqlx::Error> =
                dispatch!(self, query, query_scalar_with, |q, e| q
                    .fetch_optional(e)
                    .await);
            r.map_err(|e| StoreError::from_sqlx(e, &sql))
        }
    }

    raw! {
        async fn scalars<T: DbScalar>(&mut self, query: Query) -> Result<Vec<T>, StoreError> {
            let sql = query.sql.clone();
            log_statement(&sql);
            let r: Result<Vec<T>, sqlx::Error> =
                dispatch!(self, query, query_scalar_with, |q, e| q.fetch_all(e).await);
            r.map_err(|e| StoreError::from_sqlx(e, &sql))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_in_order_become_positional_on_sqlite_only() {
        let q = || {
            Query::new(
                "INSERT INTO t VALUES ($1, $2), ($3, $4)",
                vec![Arg::I64(Some(1)); 4],
            )
        };
        assert_eq!(
            q().positional(true).sql,
            "INSERT INTO t VALUES (?, ?), (?, ?)"
        );
        assert_eq!(q().positional(false).sql, q().sql);
        let reused = Query::new(
            "SELECT $1 WHERE a = $2 OR b = $1",
            vec![Arg::I64(Some(1)); 2],
        );
        assert_eq!(reused.clone().positional(true).sql, reused.sql);
        let skipped = Query::new("SELECT $2, $1", vec![Arg::I64(Some(1)); 2]);
        assert_eq!(skipped.clone().positional(true).sql, skipped.sql);
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;

    #[test]
    fn lists_quote_what_needs_quoting() {
        assert_eq!(id_list(true, &[3, -4]), "{3,-4}");
        assert_eq!(id_list(false, &[3, -4]), "[[3],[-4]]");
        assert_eq!(text_list(true, &["a,b", r#"q"\"#]), r#"{"a,b","q\"\\"}"#);
        assert_eq!(text_list(false, &["a\"b"]), r#"[["a\"b"]]"#);
    }
}
