//! `innofolio backup PATH`: a consistent copy of a SQLite database while the service runs.
//!
//! `VACUUM INTO` reads the database in one read transaction (WAL readers never block the
//! writer and see one committed state), so the copy holds exactly the transactions committed
//! before it started: never half of a multi-row change. The copy is checked with
//! `PRAGMA integrity_check` before the command reports success. PostgreSQL is backed up with
//! `pg_dump` (docs/OPERATIONS.md).

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::db::{AnyConnection, Backend, Db};

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// Writes a backup of `db` to `path` (which must not exist yet) and checks it.
pub fn backup(db: &Db, path: &Path) -> Result<(), String> {
    if db.backend() != Backend::Sqlite {
        return Err(
            "innofolio backup copies SQLite databases; back PostgreSQL up with pg_dump \
             (see docs/OPERATIONS.md)"
                .into(),
        );
    }
    if path.exists() {
        return Err(format!(
            "{} exists already; choose a new file",
            path.display()
        ));
    }
    let target = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    match &mut *conn {
        AnyConnection::Sqlite(c) => c
            .batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
            .map_err(|e| format!("backup failed: {e}"))?,
        AnyConnection::Postgresql(_) => return Err("not a SQLite database".into()),
    }
    verify(path)
}

/// Opens a SQLite file and runs its integrity check.
pub fn verify(path: &Path) -> Result<(), String> {
    let target = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    let mut copy = SqliteConnection::establish(target).map_err(|e| e.to_string())?;
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .map_err(|e| e.to_string())?;
    match rows.first().map(|r| r.integrity_check.as_str()) {
        Some("ok") => Ok(()),
        other => Err(format!(
            "the copy at {} fails its integrity check: {}",
            path.display(),
            other.unwrap_or("no answer")
        )),
    }
}
