//! Database access: one codebase for SQLite (embedded default) and PostgreSQL (production).
//!
//! The backend follows the scheme of `DATABASE_URL`. Connections are made explicitly per scheme
//! (so a wrong PostgreSQL password reports the real error), pooled with r2d2, and every query runs
//! on the blocking thread pool, never on the async workers. On SQLite, write transactions are
//! serialised in-process so they never contend for the database lock.

pub mod api_keys;
pub mod audit;
pub mod contracts;
pub mod deals;
pub mod events;
pub mod funding;
pub mod idea_records;
pub mod ideas;
pub mod idempotency;
pub mod kpis;
pub mod organisations;
pub mod patents;
pub mod people;
pub mod schema;
pub mod webhooks;
mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed `DATABASE_URL`: the backend and what its driver is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub backend: Backend,
    /// For SQLite the file path; for PostgreSQL the whole URL.
    pub target: String,
}

impl DbTarget {
    /// `sqlite://PATH` (also `sqlite:PATH`) or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbTarget {
                backend: Backend::Postgres,
                target: url.to_string(),
            });
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(
                    "DATABASE_URL sqlite:// needs a file path, e.g. sqlite://innofolio.db".into(),
                );
            }
            return Ok(DbTarget {
                backend: Backend::Sqlite,
                target: rest.to_string(),
            });
        }
        Err(format!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got '{}')",
            url.split("://").next().unwrap_or("")
        ))
    }
}

/// Opens connections for the pool by backend, with the SQLite pragmas every connection needs.
#[derive(Debug, Clone)]
pub struct Manager {
    target: DbTarget,
    sqlite_synchronous: String,
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, r2d2::Error> {
        match self.target.backend {
            Backend::Postgres => PgConnection::establish(&self.target.target)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
                    self.sqlite_synchronous
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.open()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        std::thread::panicking()
    }
}

/// Handle to the database shared by all workers: a pool plus, on SQLite, the writer lock.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
    group_commit: bool,
    writer: Arc<std::sync::OnceLock<Option<writer::GroupWriter>>>,
    /// The database file, on SQLite.
    sqlite_path: Option<String>,
}

pub type DbConn = r2d2::PooledConnection<Manager>;

impl Db {
    /// Opens a pool for `url` and checks that one connection can be made, returning the
    /// driver's own error message when it cannot.
    pub fn connect(url: &str) -> Result<Db, String> {
        let target = DbTarget::parse(url)?;
        let backend = target.backend;
        let synchronous = std::env::var("INNOFOLIO_SQLITE_SYNCHRONOUS")
            .ok()
            .filter(|s| ["FULL", "NORMAL", "EXTRA"].contains(&s.to_uppercase().as_str()))
            .unwrap_or_else(|| "FULL".to_string());
        let manager_target = target.target.clone();
        let manager = Manager {
            target,
            sqlite_synchronous: synchronous,
        };
        // Fail fast with the real error instead of r2d2's generic timeout.
        manager
            .open()
            .map_err(|e| format!("cannot connect to the {} database: {e}", backend.name()))?;
        // PostgreSQL: twice the cores, at least 4 (the usual sizing rule: more connections than
        // that only queue inside PostgreSQL; on the 2-core bench machine 4 connections wrote
        // ~1,060 ideas/s and 10 connections ~890/s).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let default_size = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => u32::try_from(cores * 2).unwrap_or(8).max(4),
        };
        let size = std::env::var("INNOFOLIO_DB_POOL_SIZE")
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default_size);
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            // A SQLite connection is a file handle that cannot go stale: checking it with a
            // query before every use only costs time. A PostgreSQL connection can (a restarted
            // server, a dropped socket), so it is checked.
            .test_on_check_out(backend == Backend::Postgres)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| format!("cannot open the connection pool: {e}"))?;
        let group_commit = match std::env::var("INNOFOLIO_GROUP_COMMIT").as_deref() {
            Ok("on") => true,
            Ok("off") => false,
            _ => backend == Backend::Sqlite,
        };
        let sqlite_path = (backend == Backend::Sqlite).then(|| manager_target.clone());
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            sqlite_path,
            group_commit,
            writer: Arc::new(std::sync::OnceLock::new()),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database file, on SQLite.
    pub fn sqlite_path(&self) -> Option<&str> {
        self.sqlite_path.as_deref()
    }

    /// A connection for synchronous callers (CLI commands, start-up).
    pub fn get(&self) -> Result<DbConn, ApiError> {
        Ok(self.pool.get()?)
    }

    /// Applies pending migrations of this backend; returns the names applied.
    pub fn migrate(&self) -> Result<Vec<String>, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        let applied = run_migrations(&mut conn)?;
        drop(conn);
        self.write_blocking(|c| {
            patents::seed_rules(c, now())?;
            deals::seed_policy(c, now())?;
            Ok(())
        })
        .map_err(|e| format!("seeding default data failed: {e}"))?;
        Ok(applied)
    }

    /// Runs read-only work on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs `f` in one transaction: everything it writes commits together or not at all.
    ///
    /// With group commit on (the default on SQLite, `INNOFOLIO_GROUP_COMMIT`), writes go to one
    /// writer thread, which runs the writes waiting at the same moment in one database
    /// transaction, each in its own savepoint (a failing write rolls back only its own changes
    /// and gets its own error), and commits them with one disk flush. Nobody is answered before
    /// that commit, so an acknowledged write is durable either way.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let span = tracing::Span::current();
        if let Some(writer) = self.group_writer() {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let job: writer::Job = Box::new(move |c: &mut AnyConnection| {
                f(c).map(|out| Box::new(out) as Box<dyn std::any::Any + Send>)
            });
            writer
                .submit(writer::Request { job, reply, span })
                .map_err(|_| ApiError::Unavailable("the database writer has stopped".into()))?;
            let out = answer
                .await
                .map_err(|_| ApiError::internal("the database writer dropped a write"))??;
            return out
                .downcast::<T>()
                .map(|b| *b)
                .map_err(|_| ApiError::internal("a write returned an unexpected type"));
        }
        let db = self.clone();
        actix_web::web::block(move || {
            let _entered = span.enter();
            db.write_blocking(f)
        })
        .await?
    }

    fn group_writer(&self) -> Option<&writer::GroupWriter> {
        if !self.group_commit {
            return None;
        }
        let db = self.clone();
        self.writer
            .get_or_init(|| writer::GroupWriter::start(db))
            .as_ref()
    }

    /// The synchronous form of [`Db::write`].
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
    {
        let mut conn = self.pool.get()?;
        let _guard = match self.backend {
            // One writer at a time inside this process: SQLite allows one anyway, and queueing
            // here avoids lock-upgrade failures of deferred transactions.
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        events::discard();
        let backend = self.backend;
        let result = conn.transaction::<T, ApiError, _>(|c| {
            if backend == Backend::Sqlite {
                // Take the write lock first (as BEGIN IMMEDIATE would): a transaction that read
                // first could not upgrade while another process (a second instance, the CLI)
                // committed meanwhile, and would fail with SQLITE_BUSY instead of waiting.
                c.batch_execute("UPDATE app_meta SET meta_value = meta_value WHERE 1 = 0")?;
            }
            let out = f(c)?;
            events::flush(c, now())?;
            Ok(out)
        });
        events::discard();
        result
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read(|c| c.batch_execute("SELECT 1").map_err(ApiError::from))
            .await
            .is_ok()
    }
}

/// Applies the pending embedded migrations for the connection's backend.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| format!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Current time as stored: UTC, truncated to microseconds so both backends return the same value.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

diesel::define_sql_function! {
    /// SQL `lower()`, present on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern matching `needle` anywhere, with the wildcards in it escaped (`\`).
pub fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
