//! The SQLite backend: one file in WAL mode, a single writer thread that commits
//! in groups, and a fixed pool of reader threads.
//!
//! Timestamps are stored as INTEGER milliseconds since the Unix epoch, booleans as
//! 0/1, `settings` as JSON text.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

use crate::{Lifecycle, Result};

mod accounts;
mod auth;
mod bulk;
mod connection;
mod error;
mod files;
mod guilds;
mod messages;
mod messages_hooks;
mod notifications;
mod readers;
mod search;
pub(crate) use search::reindex_all as reindex_all_messages;
mod social;
mod writer;

use readers::Readers;
use writer::Writer;

/// How hard SQLite works to make a commit survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=FULL`: the WAL is synced on every commit, so an acknowledged
    /// write survives a power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: the WAL is synced only at checkpoints. An acknowledged
    /// write survives the process being killed, but the last commits before a power
    /// loss or OS crash may be lost (the database stays consistent).
    Normal,
}

/// Settings of the SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// The database file; it and its directory are created if missing.
    pub path: PathBuf,
    /// Read-only connections, each on its own thread (at least 1).
    pub readers: usize,
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// How long a statement waits for a lock held by another process (for example
    /// `beep admin` writing while the server runs) before failing with `Unavailable`.
    pub busy_timeout: Duration,
}

impl SqliteConfig {
    /// The defaults for a database at `path`: 4 readers, `synchronous=FULL`,
    /// a 5 second busy timeout.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            readers: 4,
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
}

impl SqliteStore {
    /// Open (creating if needed) the database, run pending migrations and start the
    /// writer and reader threads.
    pub async fn open(config: &SqliteConfig) -> Result<SqliteStore> {
        let (store, _) = Self::open_and_migrate(config).await?;
        Ok(store)
    }

    /// Like [`SqliteStore::open`], also returning the migrations applied.
    async fn open_and_migrate(config: &SqliteConfig) -> Result<(SqliteStore, Vec<String>)> {
        // The writer goes first: it creates the file, switches it to WAL and
        // migrates it, all of which read-only connections could not do.
        let (writer, applied) = Writer::start(config).await?;
        // The one-time backfills that need the analyzer (see `backfill`).
        if let Err(e) = writer.write(crate::backfill::sqlite_run).await {
            writer.stop().await;
            return Err(e);
        }
        let readers = match Readers::start(config).await {
            Ok(readers) => readers,
            Err(e) => {
                writer.stop().await;
                return Err(e);
            }
        };
        tracing::info!(
            path = %config.path.display(),
            readers = config.readers.max(1),
            synchronous = ?config.synchronous,
            "opened SQLite store"
        );
        Ok((SqliteStore { writer, readers }, applied))
    }
}

/// Run the pending migrations of the database at `config.path`; returns their names.
pub(crate) async fn migrate(config: &SqliteConfig) -> Result<Vec<String>> {
    let (store, applied) = SqliteStore::open_and_migrate(config).await?;
    store.close().await;
    Ok(applied)
}

#[async_trait]
impl Lifecycle for SqliteStore {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> Result<()> {
        // A read on the reader pool and an empty transaction on the writer, so
        // both kinds of thread are known to answer.
        self.readers
            .read(|c| Ok(c.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?))
            .await?;
        self.writer.write(|_| Ok(())).await
    }

    /// Finish queued writes and release connections; later calls fail with `Unavailable`.
    async fn close(&self) {
        // The writer commits every job queued before this call, then both kinds
        // of thread are joined.
        self.writer.stop().await;
        self.readers.stop().await;
    }
}

#[cfg(test)]
mod tests;
