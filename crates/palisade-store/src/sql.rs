//! A small builder for queries whose `WHERE` clauses depend on which filters
//! are set.
//!
//! Why not sqlx's `QueryBuilder`: through the `Any` driver its placeholders
//! must be the `$N` form both SQLite and PostgreSQL accept, and PostgreSQL
//! cannot type a parameter that appears only in `$1 IS NULL`. Building the
//! text with only the clauses in use avoids both problems; every value is
//! still bound, never spliced into the SQL.

use std::fmt::Write as _;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};

/// An optional float to bind as text, for SQL that casts it back with
/// `CAST($N AS DOUBLE PRECISION)`.
///
/// Why: sqlx 0.9's `Any` driver declares a `None::<f64>` to PostgreSQL as a
/// `real` (float4) parameter, and a statement prepared with that type then
/// refuses an `f64` on the same connection ("incorrect binary data format in
/// bind parameter"). Text is declared as text whether or not it is NULL, and
/// Rust's shortest round-trip formatting loses nothing.
pub(crate) fn real(v: Option<f64>) -> Option<String> {
    v.filter(|x| x.is_finite()).map(|x| x.to_string())
}

/// A value to bind.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text plus the values of its `$N` placeholders.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends raw SQL text (never user input).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Binds a value and returns its placeholder (`$N`).
    pub(crate) fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub(crate) fn bind_text(&mut self, s: impl Into<String>) -> String {
        self.bind(Arg::Text(s.into()))
    }

    pub(crate) fn bind_int(&mut self, i: i64) -> String {
        self.bind(Arg::Int(i))
    }

    /// Appends `AND <clause>` where `clause` is built around placeholders.
    pub(crate) fn and(&mut self, clause: &str) -> &mut Sql {
        self.text.push_str(" AND ");
        self.text.push_str(clause);
        self
    }

    /// A placeholder list `($1, $2, ...)` binding every value.
    pub(crate) fn in_list<I: IntoIterator<Item = String>>(&mut self, values: I) -> String {
        let ph: Vec<String> = values.into_iter().map(|v| self.bind_text(v)).collect();
        if ph.is_empty() {
            "(NULL)".to_owned()
        } else {
            format!("({})", ph.join(", "))
        }
    }

    /// The statement for a connection of `backend` (`AnyConnection::backend_name`).
    ///
    /// On SQLite the `$N` placeholders become anonymous `?`, each bound in
    /// order of appearance (a value used twice is bound twice): sqlx asks
    /// SQLite for every parameter's name, and SQLite finds a name by a
    /// linear scan of the statement's names, so binding is quadratic in the
    /// number of named placeholders: a 502-value `IN` list took 6 ms to bind
    /// named and 0.3 ms anonymous (Python's sqlite3 on the bench database;
    /// see also [`batched_values`]).
    fn query(&self, backend: &str) -> Query<'static, Any, AnyArguments> {
        let mut q;
        if backend == "SQLite" {
            let (text, order) = anonymous(&self.text, self.args.len());
            q = sqlx::query(sqlx::AssertSqlSafe(text));
            for i in order {
                q = bind_arg(q, &self.args[i]);
            }
        } else {
            q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
            for a in &self.args {
                q = bind_arg(q, a);
            }
        }
        q
    }

    pub(crate) async fn fetch_all(&self, pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        self.fetch_all_in(&mut conn).await
    }

    pub(crate) async fn execute_in(&self, conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
        let q = self.query(conn.backend_name());
        Ok(q.execute(&mut *conn).await?.rows_affected())
    }

    pub(crate) async fn fetch_all_in(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let q = self.query(conn.backend_name());
        q.fetch_all(&mut *conn).await
    }
}

fn bind_arg(q: Query<'static, Any, AnyArguments>, a: &Arg) -> Query<'static, Any, AnyArguments> {
    match a {
        Arg::Text(s) => q.bind(s.clone()),
        Arg::Int(i) => q.bind(*i),
    }
}

/// `text` with every `$N` placeholder (1 <= N <= `args`) outside string
/// literals replaced by `?`, and the argument index of each `?` in order.
fn anonymous(text: &str, args: usize) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut order = Vec::new();
    let mut in_literal = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            in_literal = !in_literal;
        } else if c == '$' && !in_literal {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            if let Ok(n) = rest[1..1 + digits].parse::<usize>()
                && (1..=args).contains(&n)
            {
                out.push('?');
                order.push(n - 1);
                rest = &rest[1 + digits..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    (out, order)
}

/// Splits values into chunks small enough for one statement's parameters
/// (SQLite allows 32,766; PostgreSQL 65,535).
pub(crate) const CHUNK: usize = 500;

/// One value of a multi-row statement ([`batched_values`]).
#[derive(Clone, Debug)]
pub(crate) enum Val {
    Text(Option<String>),
    Int(Option<i64>),
    /// Bound as text and cast back (see [`real`]).
    Real(Option<f64>),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(Some(s.to_owned()))
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(Some(s))
    }
}

impl From<Option<&str>> for Val {
    fn from(s: Option<&str>) -> Val {
        Val::Text(s.map(str::to_owned))
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(Some(i))
    }
}

impl From<Option<i64>> for Val {
    fn from(i: Option<i64>) -> Val {
        Val::Int(i)
    }
}

/// Writes `rows` with multi-row statements, `head VALUES (...), (...) tail`,
/// and returns whatever the statements return (`tail` may be a `RETURNING`
/// clause). Every row must have the same width.
///
/// Why: one statement per row costs a round trip to the database's worker
/// (SQLite) or server (PostgreSQL) each; re-analysis after one advisory can
/// write tens of thousands of rows, which one row at a time took seconds.
/// Statements hold at most 256 rows and 8,000 parameters (SQLite allows
/// 32,766). Full statements are kept prepared (their text recurs); the
/// shorter last one of a call is not. PostgreSQL takes the rows as one JSON
/// parameter instead ([`recordset_insert`]).
///
/// On SQLite the placeholders are anonymous (`?`, bound in order of
/// appearance): sqlx asks SQLite for each parameter's name, and SQLite finds
/// a name (`$N`) by a linear scan of the statement's names, so binding
/// thousands of named parameters was quadratic (half of SBOM ingest time
/// under `perf`); anonymous parameters have no name to scan for.
pub(crate) async fn batched_values(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Val>>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    if conn.backend_name() == "PostgreSQL" {
        return recordset_insert(conn, head, tail, rows).await;
    }
    let anonymous = conn.backend_name() == "SQLite";
    let per = (8_000 / width.max(1)).clamp(1, 256);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let mut text = String::with_capacity(head.len() + tail.len() + chunk.len() * width * 8);
        text.push_str(head);
        text.push_str(" VALUES ");
        let mut n = 0usize;
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push('(');
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    text.push_str(", ");
                }
                n += 1;
                let real = matches!(v, Val::Real(_));
                if real {
                    text.push_str("CAST(");
                }
                if anonymous {
                    text.push('?');
                } else {
                    let _ = write!(text, "${n}");
                }
                if real {
                    text.push_str(" AS DOUBLE PRECISION)");
                }
            }
            text.push(')');
        }
        text.push(' ');
        text.push_str(tail);
        // A full chunk's text recurs (same head, width and row count), so
        // its statement is kept prepared; a shorter last chunk is not.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text)).persistent(chunk.len() == per);
        for v in chunk.into_iter().flatten() {
            q = match v {
                Val::Text(s) => q.bind(s),
                Val::Int(i) => q.bind(i),
                Val::Real(r) => q.bind(real(r)),
            };
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Rows per statement of [`recordset_insert`].
const RECORDSET_ROWS: usize = 4_096;

/// [`batched_values`] on PostgreSQL: the rows travel as one JSON array
/// parameter, which `json_to_recordset` turns back into typed columns,
/// `head SELECT columns FROM json_to_recordset($1::json) AS r(column type,
/// ...) tail`.
///
/// Why: a multi-row `VALUES` statement binds every value as a parameter,
/// and PostgreSQL parses, binds and plans each of thousands of parameters
/// per statement; one text parameter per statement of thousands of rows
/// costs a JSON parse instead (see `bench/server/RESULTS.md`). The column
/// names are taken from `head` (`INSERT INTO table (a, b, ...)`), their
/// types from the first row's values.
async fn recordset_insert(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Val>>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let columns: Vec<&str> = head
        .split_once('(')
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(list, _)| list.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    if columns.len() != first.len() {
        return Err(sqlx::Error::Protocol(format!(
            "batched insert: {} columns named, {} values per row",
            columns.len(),
            first.len()
        )));
    }
    let typed: Vec<String> = columns
        .iter()
        .zip(first)
        .map(|(c, v)| {
            let ty = match v {
                Val::Text(_) => "text",
                Val::Int(_) => "bigint",
                Val::Real(_) => "double precision",
            };
            format!("{c} {ty}")
        })
        .collect();
    let text = format!(
        "{head} SELECT {} FROM json_to_recordset(CAST($1 AS json)) AS r({}) {tail}",
        columns.join(", "),
        typed.join(", ")
    );
    let mut out = Vec::new();
    for chunk in rows.chunks(RECORDSET_ROWS) {
        let mut json: Vec<u8> = Vec::with_capacity(chunk.len() * first.len() * 24);
        json.push(b'[');
        for (i, row) in chunk.iter().enumerate() {
            json.extend_from_slice(if i == 0 { b"{" } else { b",{" });
            for (j, (c, v)) in columns.iter().zip(row).enumerate() {
                if j > 0 {
                    json.push(b',');
                }
                json.push(b'"');
                json.extend_from_slice(c.as_bytes());
                json.extend_from_slice(b"\":");
                match v {
                    Val::Text(Some(s)) => serde_json::to_writer(&mut json, s)
                        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
                    Val::Int(Some(n)) => json.extend_from_slice(n.to_string().as_bytes()),
                    Val::Real(Some(x)) if x.is_finite() => serde_json::to_writer(&mut json, x)
                        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
                    _ => json.extend_from_slice(b"null"),
                }
            }
            json.push(b'}');
        }
        json.push(b']');
        // Column names and serde_json's output are UTF-8.
        let json = String::from_utf8(json).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let q = sqlx::query(sqlx::AssertSqlSafe(text.clone())).bind(json);
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::anonymous;

    #[test]
    fn placeholders_become_anonymous_in_order_of_appearance() {
        let (text, order) = anonymous("a = $2 AND (b = $1 OR c = $2) AND d IN ($10, $3)", 10);
        assert_eq!(text, "a = ? AND (b = ? OR c = ?) AND d IN (?, ?)");
        assert_eq!(order, vec![1, 0, 1, 9, 2]);
    }

    #[test]
    fn literals_and_unknown_numbers_are_left_alone() {
        let (text, order) = anonymous("x LIKE '$1' AND y = $1 AND z = $4 AND 'é' <> $", 2);
        assert_eq!(text, "x LIKE '$1' AND y = ? AND z = $4 AND 'é' <> $");
        assert_eq!(order, vec![0]);
    }
}
