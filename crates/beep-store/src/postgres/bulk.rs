//! Bulk loading on PostgreSQL: one `INSERT ... SELECT FROM UNNEST(...)` per call,
//! the rows sent as five arrays, in one transaction.

use async_trait::async_trait;

use super::PostgresStore;
use crate::Result;
use crate::bulk::{BulkStore, SeedMessage};

const INSERT: &str = "INSERT INTO messages (id, channel_id, guild_id, author_id, content) \
     SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[])";

#[async_trait]
impl BulkStore for PostgresStore {
    async fn bulk_insert_messages(&self, messages: Vec<SeedMessage>) -> Result<u64> {
        if messages.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = messages.iter().map(|m| m.id.as_i64()).collect();
        let channels: Vec<i64> = messages.iter().map(|m| m.channel_id.as_i64()).collect();
        let guilds: Vec<Option<i64>> = messages
            .iter()
            .map(|m| m.guild_id.map(|g| g.as_i64()))
            .collect();
        let authors: Vec<i64> = messages.iter().map(|m| m.author_id.as_i64()).collect();
        let contents: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(INSERT).await?;
        let n = tx
            .execute(&st, &[&ids, &channels, &guilds, &authors, &contents])
            .await?;
        // The search index goes in the same transaction (see `search.rs`).
        super::search::index_seed(&tx, &messages).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn finish_bulk_load(&self) -> Result<()> {
        let c = self.client().await?;
        c.batch_execute("ANALYZE messages; ANALYZE message_search")
            .await?;
        Ok(())
    }
}
