//! Scratch databases for tests: each test creates its own database and drops
//! it afterwards.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `PALISADE_TEST_POSTGRES` names a server (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); without it the PostgreSQL
//! half of a test prints a visible `SKIPPED:` line. With
//! `PALISADE_REQUIRE_POSTGRES=1` (set by CI) an unreachable server fails the
//! test instead of skipping it.

// Set-up failures in tests should stop the test at once, loudly.
#![allow(clippy::expect_used, clippy::panic)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{Store, new_id};

/// A scratch database and what it takes to remove it.
#[derive(Debug)]
pub struct TestDb {
    /// The store, migrations applied.
    pub store: Store,
    /// `sqlite` or `postgres`, for messages.
    pub label: &'static str,
    /// The URL the store was opened with (another process may open it too).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Closes the store and drops the database.
    pub async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            }
        }
    }
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("palisade.db").display());
    let store = Store::open(&url).await.expect("open SQLite test database");
    TestDb {
        store,
        label: "sqlite",
        url,
        cleanup: Cleanup::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, or `None` (after a visible `SKIPPED:` line)
/// when no server is configured.
pub async fn postgres() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("PALISADE_TEST_POSTGRES") else {
        eprintln!("SKIPPED: PostgreSQL half of this test (set PALISADE_TEST_POSTGRES to run it)");
        return None;
    };
    let required = std::env::var("PALISADE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if !required => {
            eprintln!(
                "SKIPPED: PostgreSQL at {} is unreachable: {e}",
                crate::redact(&admin_url)
            );
            return None;
        }
        Err(e) => panic!(
            "PostgreSQL at {} is unreachable: {e}",
            crate::redact(&admin_url)
        ),
    };
    let name = format!("palisade_test_{}", new_id());
    // The name is ours (a fixed prefix and a ULID), so it is safe to splice.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    let store = Store::open(&url)
        .await
        .expect("open PostgreSQL test database");
    Some(TestDb {
        store,
        label: "postgres",
        url,
        cleanup: Cleanup::Postgres { admin_url, name },
    })
}

/// SQLite, and PostgreSQL when configured.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
