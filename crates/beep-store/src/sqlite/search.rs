//! Message search on SQLite: the FTS5 table `message_search` (contentless,
//! rowid = message id). Same methods, order and comments as
//! `postgres/search.rs`.
//!
//! Index rows are written by the message writes, inside their writer job (so
//! the same transaction): [`index_new`] from `insert`, [`reindex`] from edits;
//! the `messages_search_delete` trigger removes them with their message, also
//! when a channel or guild delete cascades.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use beep_search::Document;
use beep_types::MessageId;

use super::SqliteStore;
use crate::Result;
use crate::bulk::SeedMessage;
use crate::messages::{MessageRecord, MessageStore, NewMessage};
use crate::search::{self as s, IndexRow, MessageSearch, SearchOrder, SearchPage, SearchStore};

#[async_trait]
impl SearchStore for SqliteStore {
    /// The messages matching `s` (their number, and the page asked for).
    async fn search_messages(&self, search: &MessageSearch) -> Result<SearchPage> {
        if s::is_void(search) {
            return Ok(SearchPage::default());
        }
        let expr = s::fts5_match(search);
        let filters = s::sqlite_filters(search.pinned);
        let order = match search.order {
            SearchOrder::Newest => "rowid DESC",
            SearchOrder::Oldest => "rowid ASC",
            SearchOrder::MostRelevant => "bm25(message_search, 0.5, 1.0, 1.0, 0.0), rowid DESC",
            SearchOrder::LeastRelevant => {
                "bm25(message_search, 0.5, 1.0, 1.0, 0.0) DESC, rowid DESC"
            }
        };
        let page_sql = format!(
            "SELECT rowid FROM message_search WHERE message_search MATCH $1 AND {filters} \
             ORDER BY {order} LIMIT $4 OFFSET $5"
        );
        // Bounded: FTS5 stops after `cap + 1` matches (an exact count of a
        // word in most messages walks its whole posting list).
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM message_search \
             WHERE message_search MATCH $1 AND {filters} LIMIT $4)"
        );
        let (lo, hi) = s::id_bounds(search);
        let (limit, offset) = (i64::from(search.limit), i64::from(search.offset));
        let cap = search.count_cap;
        let count_limit = i64::from(cap) + 1;
        let (ids, total) = self
            .readers
            .read(move |c| {
                let ids = c
                    .prepare_cached(&page_sql)?
                    .query_map(params![expr, lo, hi, limit, offset], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()?;
                let total: i64 = c
                    .prepare_cached(&count_sql)?
                    .query_row(params![expr, lo, hi, count_limit], |r| r.get(0))?;
                Ok((ids, total))
            })
            .await?;
        let wanted: Vec<MessageId> = ids.iter().map(|i| MessageId::from_i64(*i)).collect();
        let found = self.messages_by_ids(&wanted).await?;
        let (total, total_exact) = s::capped_total(total, cap);
        Ok(SearchPage {
            total,
            total_exact,
            messages: s::in_order(&ids, found),
        })
    }

    /// Empty the index (the first step of a rebuild).
    async fn clear_search_index(&self) -> Result<()> {
        self.writer
            .write(|c| {
                c.execute(s::SQLITE_CLEAR, [])?;
                Ok(())
            })
            .await
    }

    /// Index again up to `limit` messages with ids above `after`, oldest first,
    /// in one transaction; returns the last id done, `None` when there were no
    /// more.
    async fn reindex_messages(
        &self,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Option<MessageId>> {
        let after = after.map_or(i64::MIN, |a| a.as_i64());
        self.writer
            .write(move |c| {
                let done = index_after(c, after, i64::from(limit))?;
                Ok(done.map(|(last, _)| MessageId::from_i64(last)))
            })
            .await
    }

    /// How many messages there are (the size of a rebuild).
    async fn count_messages(&self) -> Result<u64> {
        self.readers
            .read(|c| {
                let n: i64 = c.query_row(s::COUNT_MESSAGES, [], |r| r.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    /// Rebuild the discovery index in one transaction (and fold the member
    /// search names again).
    async fn reindex_guilds(&self) -> Result<u64> {
        self.writer
            .write(|c| {
                crate::member_search::sqlite_rebuild(c, true)?;
                crate::discovery::sqlite_rebuild(c, true)
            })
            .await
    }
}

/// Empty the index and index every message again, inside the caller's
/// transaction (a backfill after the index's format changed); returns how
/// many messages were indexed.
pub(crate) fn reindex_all(c: &Connection) -> Result<u64> {
    c.execute(s::SQLITE_CLEAR, [])?;
    let (mut after, mut n) = (i64::MIN, 0);
    while let Some((last, done)) = index_after(c, after, 1000)? {
        (after, n) = (last, n + done);
    }
    Ok(n)
}

/// Index again up to `limit` messages with ids above `after`, oldest first:
/// the last id done and how many, `None` when there were no more.
fn index_after(c: &Connection, after: i64, limit: i64) -> Result<Option<(i64, u64)>> {
    let rows = c
        .prepare_cached(s::MESSAGES_AFTER)?
        .query_map(params![after, limit], |r| {
            Ok(IndexRow {
                id: r.get(0)?,
                channel_id: r.get(1)?,
                guild_id: r.get(2)?,
                author_id: r.get(3)?,
                mention_users: r.get(4)?,
                content: r.get(5)?,
                embeds: r.get(6)?,
                attachments: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for row in &rows {
        replace(c, row.id, &row.document())?;
    }
    Ok(rows.last().map(|r| (r.id, rows.len() as u64)))
}

/// Index a message just inserted (inside the writer job that inserted it).
pub(super) fn index_new(c: &Connection, m: &NewMessage) -> Result<()> {
    write(c, m.id.as_i64(), &s::new_message_document(m))
}

/// Index a stored message again (after an edit, inside the same job).
pub(super) fn reindex(c: &Connection, m: &MessageRecord) -> Result<()> {
    replace(c, m.id.as_i64(), &s::message_document(m))
}

/// Index bulk-loaded messages (inside the writer job that inserted them).
pub(super) fn index_seed(c: &Connection, chunk: &[SeedMessage]) -> Result<()> {
    for m in chunk {
        write(c, m.id.as_i64(), &s::seed_document(m))?;
    }
    Ok(())
}

fn replace(c: &Connection, id: i64, d: &Document) -> Result<()> {
    c.prepare_cached(s::SQLITE_UNINDEX)?.execute([id])?;
    write(c, id, d)
}

fn write(c: &Connection, id: i64, d: &Document) -> Result<()> {
    c.prepare_cached(s::SQLITE_INDEX)?
        .execute(params![id, d.plain, d.english, d.french, d.meta])?;
    Ok(())
}
