//! One query API over SQLite and PostgreSQL, so every repository query is
//! written once.
//!
//! Why not `sqlx::Any`: it carries no timestamps, and the PostgreSQL schema
//! keeps real `TIMESTAMPTZ` and `BOOLEAN` columns. Why not generic code over
//! `sqlx::Database`: the trait bounds would have to be repeated on every
//! function. This module is the small seam between the two: values are bound
//! as [`Value`]s, SQL is written with `?` placeholders (numbered `$1…` for
//! PostgreSQL here), and rows decode into types both drivers understand.

use crate::DbError;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Arguments, Decode, Postgres, Row as _, Sqlite, Transaction, Type};

/// Which SQL the connected server speaks, for the few queries that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Begins a transaction that writes (every one here does). On SQLite it
    /// takes the write lock at once: a deferred transaction that read first
    /// fails with "database is locked", without waiting, if another
    /// connection (another process, or this pool's) wrote meanwhile, while
    /// an immediate one waits its turn under the busy timeout.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Where a query runs: on the pool or inside a transaction.
pub(crate) enum Exec<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Pool> for Exec<'a> {
    fn from(pool: &'a Pool) -> Self {
        Exec::Pool(pool)
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Exec::Tx(tx)
    }
}

/// A bound parameter or a copied column, in a form both databases store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    /// Kept to the microsecond, PostgreSQL's resolution, so a value reads
    /// back the same from either database.
    Time(Option<DateTime<Utc>>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(Some(v.into()))
    }
}

impl From<Option<u32>> for Value {
    fn from(v: Option<u32>) -> Self {
        Value::Int(v.map(i64::from))
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        Value::Text(v.clone())
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Time(Some(v.trunc_subsecs(6)))
    }
}

impl From<Option<DateTime<Utc>>> for Value {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Value::Time(v.map(|t| t.trunc_subsecs(6)))
    }
}

impl Value {
    /// An unambiguous text form, the same whichever database it came from.
    pub fn canonical(&self) -> String {
        match self {
            Value::Int(Some(v)) => format!("i{v}"),
            Value::Text(Some(v)) => format!("t{}:{v}", v.len()),
            Value::Bool(Some(v)) => format!("b{v}"),
            Value::Time(Some(v)) => format!("d{}", v.to_rfc3339_opts(SecondsFormat::Micros, true)),
            Value::Int(None) | Value::Text(None) | Value::Bool(None) | Value::Time(None) => {
                "-".to_owned()
            }
        }
    }

    fn add_to<'q, A>(self, args: &mut A) -> Result<(), DbError>
    where
        A: Arguments<'q>,
        Option<i64>: sqlx::Encode<'q, A::Database> + Type<A::Database>,
        Option<String>: sqlx::Encode<'q, A::Database> + Type<A::Database>,
        Option<bool>: sqlx::Encode<'q, A::Database> + Type<A::Database>,
        Option<DateTime<Utc>>: sqlx::Encode<'q, A::Database> + Type<A::Database>,
    {
        match self {
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Bool(v) => args.add(v),
            Value::Time(v) => args.add(v),
        }
        .map_err(|e| DbError::Invalid(format!("cannot bind a parameter: {e}")))
    }
}

/// A statement and its parameters, run by [`Query::execute`] and the fetches.
#[must_use]
pub(crate) struct Query {
    sql: String,
    args: Vec<Value>,
}

pub(crate) fn query(sql: impl Into<String>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// `?` placeholders numbered for PostgreSQL. Our SQL has no `?` inside
/// string literals; those are skipped all the same.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut n, mut quoted) = (0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// `?, ?, ?` for an `IN (…)` list of `n` values (n > 0).
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A `LIKE` pattern matching text that contains `needle` literally; use
/// with `ESCAPE '\'`.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Query {
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    fn sqlite_args<'q>(self) -> Result<(String, SqliteArguments<'q>), DbError> {
        let mut args = SqliteArguments::default();
        for value in self.args {
            value.add_to(&mut args)?;
        }
        Ok((self.sql, args))
    }

    fn postgres_args(self) -> Result<(String, PgArguments), DbError> {
        let mut args = PgArguments::default();
        for value in self.args {
            value.add_to(&mut args)?;
        }
        Ok((numbered_placeholders(&self.sql), args))
    }

    /// Runs the statement; returns how many rows it changed.
    pub async fn execute<'a>(self, on: impl Into<Exec<'a>>) -> Result<u64, DbError> {
        Ok(match on.into() {
            Exec::Pool(Pool::Sqlite(pool)) => {
                let (sql, args) = self.sqlite_args()?;
                sqlx::query_with(&sql, args)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Exec::Tx(Tx::Sqlite(tx)) => {
                let (sql, args) = self.sqlite_args()?;
                sqlx::query_with(&sql, args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Exec::Pool(Pool::Postgres(pool)) => {
                let (sql, args) = self.postgres_args()?;
                sqlx::query_with(&sql, args)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Exec::Tx(Tx::Postgres(tx)) => {
                let (sql, args) = self.postgres_args()?;
                sqlx::query_with(&sql, args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn fetch_all<'a>(self, on: impl Into<Exec<'a>>) -> Result<Vec<Row>, DbError> {
        Ok(match on.into() {
            Exec::Pool(Pool::Sqlite(pool)) => {
                let (sql, args) = self.sqlite_args()?;
                let rows = sqlx::query_with(&sql, args).fetch_all(pool).await?;
                rows.into_iter().map(Row::Sqlite).collect()
            }
            Exec::Tx(Tx::Sqlite(tx)) => {
                let (sql, args) = self.sqlite_args()?;
                let rows = sqlx::query_with(&sql, args).fetch_all(&mut **tx).await?;
                rows.into_iter().map(Row::Sqlite).collect()
            }
            Exec::Pool(Pool::Postgres(pool)) => {
                let (sql, args) = self.postgres_args()?;
                let rows = sqlx::query_with(&sql, args).fetch_all(pool).await?;
                rows.into_iter().map(Row::Postgres).collect()
            }
            Exec::Tx(Tx::Postgres(tx)) => {
                let (sql, args) = self.postgres_args()?;
                let rows = sqlx::query_with(&sql, args).fetch_all(&mut **tx).await?;
                rows.into_iter().map(Row::Postgres).collect()
            }
        })
    }

    pub async fn fetch_optional<'a>(self, on: impl Into<Exec<'a>>) -> Result<Option<Row>, DbError> {
        Ok(match on.into() {
            Exec::Pool(Pool::Sqlite(pool)) => {
                let (sql, args) = self.sqlite_args()?;
                let row = sqlx::query_with(&sql, args).fetch_optional(pool).await?;
                row.map(Row::Sqlite)
            }
            Exec::Tx(Tx::Sqlite(tx)) => {
                let (sql, args) = self.sqlite_args()?;
                let row = sqlx::query_with(&sql, args)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.map(Row::Sqlite)
            }
            Exec::Pool(Pool::Postgres(pool)) => {
                let (sql, args) = self.postgres_args()?;
                let row = sqlx::query_with(&sql, args).fetch_optional(pool).await?;
                row.map(Row::Postgres)
            }
            Exec::Tx(Tx::Postgres(tx)) => {
                let (sql, args) = self.postgres_args()?;
                let row = sqlx::query_with(&sql, args)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.map(Row::Postgres)
            }
        })
    }

    pub async fn fetch_one<'a>(self, on: impl Into<Exec<'a>>) -> Result<Row, DbError> {
        self.fetch_optional(on)
            .await?
            .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }

    /// The first column of the only row.
    pub async fn scalar<'a, T>(self, on: impl Into<Exec<'a>>) -> Result<T, DbError>
    where
        T: for<'r> Column<'r>,
    {
        self.fetch_one(on).await?.at(0)
    }

    /// The first column of the row, if there is one.
    pub async fn scalar_optional<'a, T>(self, on: impl Into<Exec<'a>>) -> Result<Option<T>, DbError>
    where
        T: for<'r> Column<'r>,
    {
        self.fetch_optional(on)
            .await?
            .map(|row| row.at(0))
            .transpose()
    }

    /// The first column of every row.
    pub async fn scalars<'a, T>(self, on: impl Into<Exec<'a>>) -> Result<Vec<T>, DbError>
    where
        T: for<'r> Column<'r>,
    {
        self.fetch_all(on)
            .await?
            .iter()
            .map(|row| row.at(0))
            .collect()
    }
}

pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A Rust type both drivers decode (strings, `i64`, `bool`, timestamps and
/// their `Option`s). Unsigned numbers go through [`Row::unsigned`].
pub(crate) trait Column<'r>: Sized {
    fn read(row: &'r Row, index: ColumnIndex<'_>) -> Result<Self, sqlx::Error>;
}

#[derive(Clone, Copy)]
pub(crate) enum ColumnIndex<'n> {
    Name(&'n str),
    Position(usize),
}

impl<'r, T> Column<'r> for T
where
    T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>,
{
    fn read(row: &'r Row, index: ColumnIndex<'_>) -> Result<Self, sqlx::Error> {
        match (row, index) {
            (Row::Sqlite(row), ColumnIndex::Name(name)) => row.try_get(name),
            (Row::Sqlite(row), ColumnIndex::Position(at)) => row.try_get(at),
            (Row::Postgres(row), ColumnIndex::Name(name)) => row.try_get(name),
            (Row::Postgres(row), ColumnIndex::Position(at)) => row.try_get(at),
        }
    }
}

impl Row {
    pub fn try_get<'r, T: Column<'r>>(&'r self, name: &str) -> Result<T, DbError> {
        Ok(T::read(self, ColumnIndex::Name(name))?)
    }

    pub fn at<'r, T: Column<'r>>(&'r self, position: usize) -> Result<T, DbError> {
        Ok(T::read(self, ColumnIndex::Position(position))?)
    }

    /// A non-negative integer column as `u32`/`u64` (PostgreSQL has no
    /// unsigned types; the schemas keep these columns non-negative).
    pub fn unsigned<T: TryFrom<i64>>(&self, name: &str) -> Result<T, DbError> {
        let value: i64 = self.try_get(name)?;
        T::try_from(value).map_err(|_| DbError::Corrupt(format!("{name} = {value} out of range")))
    }

    /// The column as a [`Value`] of the given kind, for copying rows.
    pub fn value(&self, name: &str, kind: ValueKind) -> Result<Value, DbError> {
        Ok(match kind {
            ValueKind::Int => Value::Int(self.try_get(name)?),
            ValueKind::Text => Value::Text(self.try_get(name)?),
            ValueKind::Bool => Value::Bool(self.try_get(name)?),
            ValueKind::Time => Value::Time(
                self.try_get::<Option<DateTime<Utc>>>(name)?
                    .map(|t| t.trunc_subsecs(6)),
            ),
        })
    }
}

/// The kind of a column, for copying rows between databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Int,
    Text,
    Bool,
    Time,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_string_literals() {
        assert_eq!(
            numbered_placeholders("SELECT '?' , a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT '?' , a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }

    #[test]
    fn contains_patterns_match_wildcards_literally() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
