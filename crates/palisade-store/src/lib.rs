//! Palisade's database.
//!
//! One code path serves SQLite (the default: a file in the data directory,
//! nothing to install) and PostgreSQL (for many replicas): queries go through
//! sqlx's `Any` driver, written in the SQL subset both accept, with `$N`
//! placeholders (SQLite accepts them as numbered parameters). One set of
//! migrations (`migrations/`) is applied at start. Identifiers are sortable
//! text ids made here ([`new_id`]), times are milliseconds since the Unix
//! epoch, JSON is stored as text.
//!
//! The design decision: portable SQL over an ORM with per-backend code. The
//! few places where the backends must differ (the job queue's
//! `FOR UPDATE SKIP LOCKED`) branch on [`Backend`] explicitly.

pub mod advisories;
mod decision_log;
pub mod findings;
pub mod governance;
pub mod model;
pub mod notify;
pub mod portal_queries;
pub mod queue;
pub mod risk;
pub mod scans;
mod sql;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod tokens;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one we support.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// Connecting failed.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// A stored JSON document could not be read back.
    #[error("stored {what} is not valid JSON: {source}")]
    Json {
        /// Which column.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A row that must exist does not.
    #[error("{0} not found")]
    NotFound(String),
    /// The request is invalid (a bad state, justification or cursor).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The caller may not do this (the two-person rule).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request conflicts with what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
}

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file, one writer at a time.
    Sqlite,
    /// PostgreSQL, shared by many processes.
    Postgres,
}

/// A connection pool with migrations applied.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The group-commit writer of decision records, started on first use.
    decision_writer: std::sync::Arc<std::sync::Mutex<Option<decision_log::Writer>>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens (creating if needed) the database at `url` and applies
    /// migrations. `url` is `sqlite://PATH` or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url_for_driver = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options =
            AnyConnectOptions::from_str(&url_for_driver).map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed while one writer commits;
                        // the busy timeout makes writers queue instead of
                        // failing; foreign keys are off by default in SQLite.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            decision_writer: Default::default(),
        })
    }

    /// Opens the default SQLite database inside a data directory.
    pub async fn open_in_dir(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join("palisade.db");
        Store::open(&format!("sqlite://{}", path.display())).await
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that will write (every transaction of the
    /// store does).
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken at the
    /// start, waiting in the busy handler like any writer. A deferred
    /// transaction that reads first and then writes fails at once with
    /// `SQLITE_BUSY` when another connection committed in between (SQLite
    /// cannot upgrade a stale read snapshot), and the busy handler is not
    /// consulted for that.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        begin_write(&self.pool, self.backend).await
    }

    /// The pool, for queries of the crates built on the store.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The decision writer, started (again) when there is none or its task
    /// has ended.
    fn decision_writer(&self) -> decision_log::Writer {
        let mut slot = self
            .decision_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some(w) if !w.is_closed() => w.clone(),
            _ => {
                let w = decision_log::spawn(self.pool.clone(), self.backend);
                *slot = Some(w.clone());
                w
            }
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The `meta` counter bumped by every advisory change.
pub(crate) const ADVISORY_GENERATION: &str = "advisory_generation";
/// The `meta` counter bumped by every change to what a policy decision
/// reads about an artifact: SBOMs and names, findings and their triage or
/// priority, scanner results, EPSS and KEV, attestations and exceptions,
/// environments and namespace mappings.
pub(crate) const EVIDENCE_GENERATION: &str = "evidence_generation";

/// Bumps a generation counter of the `meta` table, inside the writer's
/// transaction where it has one, so that every process sharing the database
/// (replicas on PostgreSQL) can tell its caches are stale with one
/// primary-key read.
/// [`Store::begin_write`] on a pool.
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

pub(crate) async fn bump_counter<'c, E>(ex: E, key: &str) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, '1') \
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)",
    )
    .bind(key)
    .execute(ex)
    .await?;
    Ok(())
}

impl Store {
    /// The value of a generation counter (0 before its first bump).
    pub(crate) async fn counter(&self, key: &str) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => r.try_get::<String, _>("value")?.parse().unwrap_or(0),
            None => 0,
        })
    }

    /// A counter bumped by every change to the evidence that decisions read
    /// (see [`EVIDENCE_GENERATION`]): a decision cached at one value is
    /// still right while the value is unchanged.
    pub async fn evidence_generation(&self) -> Result<i64, StoreError> {
        self.counter(EVIDENCE_GENERATION).await
    }
}

/// A new sortable identifier: a ULID in lower case (time-ordered, 128 bits).
pub fn new_id() -> String {
    ulid::Ulid::new().to_string().to_ascii_lowercase()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id();
        std::thread::sleep(Duration::from_millis(2));
        let b = new_id();
        assert!(a < b, "{a} !< {b}");
        assert_eq!(a.len(), 26);
    }
}
