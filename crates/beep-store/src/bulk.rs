//! Bulk loading, for `beep admin seed`: many plain messages written in few large
//! transactions (SQLite: multi-row `INSERT`s through the writer thread; PostgreSQL:
//! one `INSERT ... SELECT FROM UNNEST` per chunk). Anything the database keeps
//! in step with `messages` by itself (indexes, triggers) is kept in step here too.

use async_trait::async_trait;

use beep_types::{ChannelId, GuildId, MessageId, UserId};

use crate::Result;

/// A plain message of a generated corpus: default type, no mentions, no nonce,
/// no embeds or attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub guild_id: Option<GuildId>,
    pub author_id: UserId,
    pub content: String,
}

/// Bulk writes.
#[async_trait]
pub trait BulkStore: Send + Sync {
    /// Insert these messages in one transaction (all or none); returns how many
    /// were inserted. Read states are left alone. `NotFound` when a channel does
    /// not exist; `Conflict` when an id is taken.
    async fn bulk_insert_messages(&self, messages: Vec<SeedMessage>) -> Result<u64>;

    /// After a bulk load: refresh the query planner's statistics of the loaded
    /// tables (PostgreSQL: `ANALYZE`; without it, plans made for empty tables
    /// turn index searches into scans until autovacuum catches up).
    async fn finish_bulk_load(&self) -> Result<()>;
}
