//! Opening SQLite connections with Beep's settings, and running migrations on the
//! writer's connection.

use rusqlite::{Connection, OpenFlags, params};

use super::{SqliteConfig, Synchronous};
use crate::migrations::{self, Applied};
use crate::{Result, StoreError};

/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

/// Settings of every connection. The query-planner stability guarantee
/// (QPSG): plans do not depend on the values bound to parameters. Without it,
/// a statement whose plan looked at a bound value (a `LIMIT $n`, say) is
/// marked expired by the next binding and compiled again at every run, which
/// took ~30% of the server's CPU in the history benchmark (BENCHMARKS.md).
fn common(conn: &Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Open the read-write connection: create the file if missing, switch to WAL,
/// apply the durability setting and turn foreign keys on.
pub(super) fn open_writer(config: &SqliteConfig) -> Result<Connection> {
    if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let conn = Connection::open(&config.path)?;
    conn.busy_timeout(config.busy_timeout)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Internal(format!(
            "{} refused WAL journal mode (got {mode})",
            config.path.display()
        )));
    }
    let synchronous = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    common(&conn)?;
    Ok(conn)
}

/// Open a read-only connection to a database the writer has already set up.
pub(super) fn open_reader(config: &SqliteConfig) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&config.path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    common(&conn)?;
    Ok(conn)
}

/// Apply the pending migrations in one transaction; returns their names.
///
/// `BEGIN IMMEDIATE` takes the write lock first, so two processes starting on the
/// same file (a server and `beep migrate`) cannot both apply the same migration.
pub(super) fn migrate(conn: &mut Connection) -> Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS beep_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             checksum   TEXT    NOT NULL,
             applied_at INTEGER NOT NULL -- milliseconds since the Unix epoch
         ) STRICT;",
    )?;
    let applied = {
        let mut st = tx.prepare("SELECT version, name, checksum FROM beep_migrations")?;
        st.query_map([], |row| {
            Ok(Applied {
                version: row.get(0)?,
                name: row.get(1)?,
                checksum: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let pending = migrations::pending(migrations::SQLITE, &applied)?;
    let mut names = Vec::with_capacity(pending.len());
    for m in pending {
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::Internal(format!("migration {} failed: {e}", m.name)))?;
        tx.execute(
            "INSERT INTO beep_migrations (version, name, checksum, applied_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                m.version,
                m.name,
                migrations::checksum(m.sql),
                crate::sql::now().timestamp_millis()
            ],
        )?;
        names.push(m.name.to_owned());
    }
    tx.commit()?;
    for name in &names {
        tracing::info!(migration = %name, "applied SQLite migration");
    }
    Ok(names)
}
