//! One-time backfills: data changes that need the application's code (the
//! search analyzer), so no SQL migration can make them. The first store to
//! open a database after the migration that needs one runs it and records it
//! in `backfills` (migration `0012_backfills`) in the same transaction; later
//! opens read that one small table instead of scanning guilds, users and
//! members again. Two nodes opening at once may both run one: each is
//! idempotent.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Result;

/// Guilds written before migration 0010 get their discovery entry.
const DISCOVERY: &str = "discovery";
/// Users and nicknames written before migration 0011 get their folded forms.
const MEMBER_NAMES: &str = "member_names";
/// Messages indexed before the text tokens carried their scope
/// (`beep_search::document::scope_prefix`) are indexed again.
const MESSAGE_INDEX_V2: &str = "message_index_v2";

const DONE: &str = "SELECT name FROM backfills";
const MARK: &str =
    "INSERT INTO backfills (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// SQLite: run the backfills not yet done, inside the writer's transaction.
pub(crate) fn sqlite_run(c: &rusqlite::Connection) -> Result<()> {
    let done: Vec<String> = c
        .prepare(DONE)?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mark = |name: &str| -> Result<()> {
        c.execute(MARK, rusqlite::params![name, now_ms()])?;
        Ok(())
    };
    if !done.iter().any(|d| d == DISCOVERY) {
        crate::discovery::sqlite_rebuild(c, false)?;
        mark(DISCOVERY)?;
    }
    if !done.iter().any(|d| d == MEMBER_NAMES) {
        crate::member_search::sqlite_rebuild(c, false)?;
        mark(MEMBER_NAMES)?;
    }
    if !done.iter().any(|d| d == MESSAGE_INDEX_V2) {
        let n = crate::sqlite::reindex_all_messages(c)?;
        if n > 0 {
            tracing::info!(messages = n, "indexed every message again for search");
        }
        mark(MESSAGE_INDEX_V2)?;
    }
    Ok(())
}

/// PostgreSQL: run the backfills not yet done, each in one transaction with
/// its mark.
pub(crate) async fn pg_run(c: &mut deadpool_postgres::Object) -> Result<()> {
    let done: Vec<String> = c
        .query(DONE, &[])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    for name in [DISCOVERY, MEMBER_NAMES, MESSAGE_INDEX_V2] {
        if done.iter().any(|d| d == name) {
            continue;
        }
        let tx = c.transaction().await?;
        match name {
            DISCOVERY => {
                crate::discovery::pg_rebuild(&tx, false).await?;
            }
            MEMBER_NAMES => {
                crate::member_search::pg_rebuild(&tx, false).await?;
            }
            _ => {
                let n = crate::postgres::reindex_all_messages(&tx).await?;
                if n > 0 {
                    tracing::info!(messages = n, "indexed every message again for search");
                }
            }
        }
        tx.execute(MARK, &[&name, &now_ms()]).await?;
        tx.commit().await?;
    }
    Ok(())
}
