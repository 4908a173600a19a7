//! Message search on PostgreSQL: `message_search (message_id, doc tsvector)`
//! with a GIN index. Same methods, order and comments as `sqlite/search.rs`.
//!
//! Index rows are written by the message writes, inside their transaction:
//! [`index_new`] from `insert`, [`reindex`] from edits; the foreign key to
//! `messages` removes them with their message (cascades included).

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use beep_search::Document;
use beep_types::MessageId;

use super::PostgresStore;
use crate::Result;
use crate::bulk::SeedMessage;
use crate::messages::{MessageRecord, MessageStore, NewMessage};
use crate::search::{self as s, IndexRow, MessageSearch, SearchOrder, SearchPage, SearchStore};

/// Up to this many matches, a page is sorted from the matches the GIN index
/// gives rather than found by walking message ids backwards: walking reads
/// about `limit × rows / matches` rows, sorting reads `matches`; with 25 a
/// page and a million rows they cost the same near 5,000.
const FEW: i64 = 5_000;

#[async_trait]
impl SearchStore for PostgresStore {
    /// The messages matching `s` (their number, and the page asked for).
    async fn search_messages(&self, search: &MessageSearch) -> Result<SearchPage> {
        if s::is_void(search) {
            return Ok(SearchPage::default());
        }
        let query = s::pg_tsquery(search);
        let filters = s::pg_filters(search.pinned);
        let order = match search.order {
            SearchOrder::Newest => "s.message_id DESC",
            SearchOrder::Oldest => "s.message_id ASC",
            SearchOrder::MostRelevant => "ts_rank(s.doc, q.q) DESC, s.message_id DESC",
            SearchOrder::LeastRelevant => "ts_rank(s.doc, q.q) ASC, s.message_id DESC",
        };
        // For few matches the planner's favourite, a backward scan of the
        // primary key filtered by `@@`, reads far more rows than the GIN index
        // would: then the matches are taken from the index first (the count,
        // known before the page, decides).
        let page_sql = format!(
            "SELECT s.message_id FROM message_search s, \
             (SELECT CAST($1 AS TEXT)::tsquery AS q) q \
             WHERE s.doc @@ q.q AND {filters} ORDER BY {order} LIMIT $4 OFFSET $5"
        );
        let few_sql = format!(
            "WITH s AS MATERIALIZED (SELECT s.message_id, s.doc FROM message_search s, \
             (SELECT CAST($1 AS TEXT)::tsquery AS q) q WHERE s.doc @@ q.q AND {filters}) \
             SELECT s.message_id FROM s, (SELECT CAST($1 AS TEXT)::tsquery AS q) q \
             ORDER BY {order} LIMIT $4 OFFSET $5"
        );
        // Bounded: up to `max(cap, FEW) + 1` matches, enough to report the
        // capped total and to choose the plan. Always from the GIN index: for
        // frequent words the planner prefers a sequential scan stopping at the
        // limit, which reads and decodes every row's `tsvector` on the way
        // (190 ms against 80 ms for 20,000 matches of 1 M).
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM message_search s, \
             (SELECT CAST($1 AS TEXT)::tsquery AS q) q \
             WHERE s.doc @@ q.q AND {filters} LIMIT $4) n"
        );
        let (lo, hi) = s::id_bounds(search);
        let (limit, offset) = (i64::from(search.limit), i64::from(search.offset));
        let cap = search.count_cap;
        let count_limit = i64::from(cap).max(FEW) + 1;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // A plan for each query's own words: after five runs of a prepared
        // statement PostgreSQL may switch to one generic plan, blind to how
        // frequent the words are (2 s instead of 20 ms for rare pairs).
        tx.batch_execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_custom_plan",
        )
        .await?;
        let st = tx.prepare_cached(&count_sql).await?;
        let total: i64 = tx
            .query_one(&st, &[&query, &lo, &hi, &count_limit])
            .await?
            .try_get(0)?;
        let sql = if total <= FEW { &few_sql } else { &page_sql };
        let st = tx.prepare_cached(sql).await?;
        let ids: Vec<i64> = tx
            .query(&st, &[&query, &lo, &hi, &limit, &offset])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        tx.commit().await?;
        drop(c);
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
        let c = self.client().await?;
        c.batch_execute(s::PG_CLEAR).await?;
        Ok(())
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
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let done = index_after(&tx, after, i64::from(limit)).await?;
        tx.commit().await?;
        Ok(done.map(|(last, _)| MessageId::from_i64(last)))
    }

    /// How many messages there are (the size of a rebuild).
    async fn count_messages(&self) -> Result<u64> {
        let c = self.client().await?;
        let n: i64 = c.query_one(s::COUNT_MESSAGES, &[]).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Rebuild the discovery index in one transaction (and fold the member
    /// search names again).
    async fn reindex_guilds(&self) -> Result<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        crate::member_search::pg_rebuild(&tx, true).await?;
        let n = crate::discovery::pg_rebuild(&tx, true).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Empty the index and index every message again, inside the caller's
/// transaction (a backfill after the index's format changed); returns how
/// many messages were indexed.
pub(crate) async fn reindex_all<C: GenericClient>(c: &C) -> Result<u64> {
    c.execute(s::PG_CLEAR, &[]).await?;
    let (mut after, mut n) = (i64::MIN, 0);
    while let Some((last, done)) = index_after(c, after, 1000).await? {
        (after, n) = (last, n + done);
    }
    Ok(n)
}

/// Index again up to `limit` messages with ids above `after`, oldest first:
/// the last id done and how many, `None` when there were no more.
async fn index_after<C: GenericClient>(
    c: &C,
    after: i64,
    limit: i64,
) -> Result<Option<(i64, u64)>> {
    let st = c.prepare_cached(s::MESSAGES_AFTER).await?;
    let rows = c.query(&st, &[&after, &limit]).await?;
    for r in &rows {
        let row = IndexRow {
            id: r.try_get(0)?,
            channel_id: r.try_get(1)?,
            guild_id: r.try_get(2)?,
            author_id: r.try_get(3)?,
            mention_users: r.try_get(4)?,
            content: r.try_get(5)?,
            embeds: r.try_get(6)?,
            attachments: r.try_get(7)?,
        };
        write(c, row.id, &row.document()).await?;
    }
    let last: Option<i64> = match rows.last() {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    };
    Ok(last.map(|l| (l, rows.len() as u64)))
}

/// Index a message just inserted (inside the transaction that inserted it).
pub(super) async fn index_new<C: GenericClient>(c: &C, m: &NewMessage) -> Result<()> {
    write(c, m.id.as_i64(), &s::new_message_document(m)).await
}

/// Index a stored message again (after an edit, inside the same transaction).
pub(super) async fn reindex<C: GenericClient>(c: &C, m: &MessageRecord) -> Result<()> {
    write(c, m.id.as_i64(), &s::message_document(m)).await
}

/// Index bulk-loaded messages (inside the transaction that inserted them).
pub(super) async fn index_seed<C: GenericClient>(c: &C, messages: &[SeedMessage]) -> Result<()> {
    let ids: Vec<i64> = messages.iter().map(|m| m.id.as_i64()).collect();
    let docs: Vec<String> = messages
        .iter()
        .map(|m| s::pg_tsvector(&s::seed_document(m)))
        .collect();
    let st = c.prepare_cached(s::PG_INDEX_MANY).await?;
    c.execute(&st, &[&ids, &docs]).await?;
    Ok(())
}

async fn write<C: GenericClient>(c: &C, id: i64, d: &Document) -> Result<()> {
    let st = c.prepare_cached(s::PG_INDEX).await?;
    c.execute(&st, &[&id, &s::pg_tsvector(d)]).await?;
    Ok(())
}
