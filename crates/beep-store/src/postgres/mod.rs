//! The PostgreSQL backend: a deadpool of connections, statements prepared once
//! per connection, and the database's own concurrency control.
//!
//! Timestamps are TIMESTAMPTZ (written truncated to milliseconds), booleans are
//! BOOLEAN, `settings` is JSONB.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Object, Pool};

use crate::{Lifecycle, PoolStatus, Result, StoreError};

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
mod search;
pub(crate) use search::reindex_all as reindex_all_messages;
mod social;

/// Settings of the PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// A libpq-style URL or key=value string, e.g. `postgres://beep@db/beep`.
    /// TLS is not supported yet; use a private network or a local proxy.
    pub url: String,
    /// A schema to keep Beep's tables in, created if missing; `None` uses the
    /// connection's default `search_path` (usually `public`).
    pub schema: Option<String>,
    /// Most connections this node opens.
    pub max_connections: usize,
}

impl PostgresConfig {
    /// The defaults for a database at `url`: default schema, 16 connections.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            max_connections: 16,
        }
    }
}

/// How long `close` waits for calls in flight to hand their connections back.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    closed: AtomicBool,
}

impl PostgresStore {
    /// Connect, create the schema if one is configured, and run pending migrations.
    pub async fn open(config: &PostgresConfig) -> Result<PostgresStore> {
        let pool = connection::pool(config).await?;
        connection::migrate(&pool).await?;
        tracing::info!(
            schema = config.schema.as_deref().unwrap_or("(default)"),
            max_connections = config.max_connections.max(1),
            "opened PostgreSQL store"
        );
        let store = PostgresStore {
            pool,
            closed: AtomicBool::new(false),
        };
        // The one-time backfills that need the analyzer (see `backfill`).
        crate::backfill::pg_run(&mut store.client().await?).await?;
        Ok(store)
    }

    /// A pooled connection, unless the store is closed.
    async fn client(&self) -> Result<Object> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        Ok(self.pool.get().await?)
    }
}

/// Run the pending migrations of the configured database; returns their names.
pub(crate) async fn migrate(config: &PostgresConfig) -> Result<Vec<String>> {
    let pool = connection::pool(config).await?;
    let applied = connection::migrate(&pool).await;
    pool.close();
    applied
}

/// The error for calls made after closing.
fn closed() -> StoreError {
    StoreError::Unavailable("the PostgreSQL store is closed".into())
}

#[async_trait]
impl Lifecycle for PostgresStore {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str {
        "postgres"
    }

    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> Result<()> {
        // A `SELECT 1` on a pooled connection.
        let c = self.client().await?;
        let st = c.prepare_cached("SELECT 1").await?;
        c.query_one(&st, &[]).await?;
        Ok(())
    }

    /// Finish queued writes and release connections; later calls fail with `Unavailable`.
    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.pool.close();
        // Calls in flight keep their connection until they finish; each is dropped
        // as it comes back. Wait for them, within reason.
        let start = Instant::now();
        while self.pool.status().size > 0 && start.elapsed() < CLOSE_GRACE {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Connection pool figures for metrics, where the backend has a pool.
    fn pool_status(&self) -> Option<PoolStatus> {
        let st = self.pool.status();
        Some(PoolStatus {
            size: st.size,
            max_size: st.max_size,
            available: st.available,
            waiting: st.waiting,
        })
    }
}
