//! Bulk loading on SQLite: the whole call is one job of the writer thread (so one
//! transaction), inserting up to [`ROWS`] messages per statement.

use async_trait::async_trait;
use rusqlite::Connection;

use super::SqliteStore;
use crate::Result;
use crate::bulk::{BulkStore, SeedMessage};

/// Messages per `INSERT` statement (5 parameters each, well under SQLite's limit
/// of 32,766 parameters).
const ROWS: usize = 200;

/// Page cache while a bulk job runs (negative: KiB), 256 MiB.
const BULK_CACHE_KIB: i64 = -262_144;

/// `INSERT INTO messages (...) VALUES (?,?,?,?,?), ...` with `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut s =
        String::from("INSERT INTO messages (id, channel_id, guild_id, author_id, content) VALUES ");
    for i in 0..rows {
        if i > 0 {
            s.push(',');
        }
        s.push_str("(?,?,?,?,?)");
    }
    s
}

fn insert_chunk(c: &Connection, chunk: &[SeedMessage]) -> Result<()> {
    let mut st = c.prepare_cached(&insert_sql(chunk.len()))?;
    for (i, m) in chunk.iter().enumerate() {
        let at = i * 5;
        st.raw_bind_parameter(at + 1, m.id.as_i64())?;
        st.raw_bind_parameter(at + 2, m.channel_id.as_i64())?;
        st.raw_bind_parameter(at + 3, m.guild_id.map(|g| g.as_i64()))?;
        st.raw_bind_parameter(at + 4, m.author_id.as_i64())?;
        st.raw_bind_parameter(at + 5, m.content.as_str())?;
    }
    st.raw_execute()?;
    Ok(())
}

#[async_trait]
impl BulkStore for SqliteStore {
    async fn bulk_insert_messages(&self, messages: Vec<SeedMessage>) -> Result<u64> {
        if messages.is_empty() {
            return Ok(0);
        }
        self.writer
            .write(move |c| {
                // A transaction this large spills SQLite's small default page
                // cache to the WAL over and over (each page written many times);
                // a big cache for this job writes each page about once.
                let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
                c.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
                let result = messages.chunks(ROWS).try_for_each(|chunk| {
                    insert_chunk(c, chunk)?;
                    // The search index goes in the same transaction (see `search.rs`).
                    super::search::index_seed(c, chunk)
                });
                c.pragma_update(None, "cache_size", cache)?;
                result?;
                Ok(messages.len() as u64)
            })
            .await
    }

    async fn finish_bulk_load(&self) -> Result<()> {
        // Statistics for the planner where they are missing or stale
        // (bounded work: SQLite samples large tables).
        self.writer
            .write(|c| Ok(c.execute_batch("PRAGMA optimize")?))
            .await
    }
}
