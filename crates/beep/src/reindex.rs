//! `beep admin reindex`: rebuild the message search index from the messages,
//! in batches (one transaction each), with a progress bar on standard error,
//! then the discovery index of guild names and descriptions (one transaction;
//! the store also fills in missing guild entries whenever it opens).
//!
//! The index is emptied first, so searches made while it runs miss messages
//! not yet done; messages sent meanwhile are indexed by their own write as
//! usual. Run it once after upgrading to a version that adds or changes the
//! index (migration `0008_search`), or to repair an index restored apart from
//! its database.

use anyhow::Context;
use beep_store::DynStore;
use indicatif::{ProgressBar, ProgressStyle};

/// Rebuild the index of every message, `batch` messages per transaction;
/// returns how many were indexed.
pub async fn run(store: &DynStore, batch: u32) -> anyhow::Result<u64> {
    let total = store.count_messages().await.context("counting messages")?;
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "reindex [{elapsed_precise}] {wide_bar} {pos}/{len} messages ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    store
        .clear_search_index()
        .await
        .context("emptying the index")?;
    let mut after = None;
    let mut done = 0u64;
    loop {
        let Some(last) = store
            .reindex_messages(after, batch)
            .await
            .context("indexing a batch")?
        else {
            break;
        };
        // Every batch is full but the last (messages sent meanwhile may make
        // the count a little short, never the index).
        done = (done + u64::from(batch)).min(total);
        pb.set_position(done);
        after = Some(last);
    }
    pb.finish();
    let guilds = store
        .reindex_guilds()
        .await
        .context("indexing guild names")?;
    eprintln!("reindex: {guilds} guilds in the discovery index");
    Ok(done)
}
