//! Stored files, quotas and the deletion queue on SQLite. Every write is one job
//! of the writer thread, so a quota check and the insert it guards cannot
//! interleave with another, and two claims never see the same due entries.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use beep_types::UserId;

use super::SqliteStore;
use crate::Result;
use crate::files::{FileDeletion, FileStore, Folder, NewStoredFile, Picture};
use crate::sql_files as q;

#[async_trait]
impl FileStore for SqliteStore {
    /// Record an attachment against its uploader within `quota` (0: no limit).
    async fn record_stored_file(&self, f: &NewStoredFile, quota: u64) -> Result<bool> {
        let f = f.clone();
        self.writer
            .write(move |c| {
                let used: i64 = c
                    .prepare_cached(q::STORAGE_USED)?
                    .query_row([f.user_id.as_i64()], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                let size = i64::try_from(f.size).unwrap_or(i64::MAX);
                if quota > 0 && (used.max(0) as u64).saturating_add(f.size) > quota {
                    return Ok(false);
                }
                c.prepare_cached(q::INSERT_STORED_FILE)?.execute(params![
                    f.key,
                    f.user_id.as_i64(),
                    f.channel_id.as_i64(),
                    size,
                    f.created_at_ms,
                ])?;
                Ok(true)
            })
            .await
    }

    /// Bytes counted against `user`.
    async fn storage_used(&self, user: UserId) -> Result<u64> {
        self.readers
            .read(move |c| {
                let used: Option<i64> = c
                    .prepare_cached(q::STORAGE_USED)?
                    .query_row([user.as_i64()], |r| r.get(0))
                    .optional()?;
                Ok(used.unwrap_or(0).max(0) as u64)
            })
            .await
    }

    /// Give up unattached files: queue their objects, release their bytes.
    async fn discard_stored_files(&self, keys: &[String]) -> Result<u64> {
        let keys = keys.to_vec();
        self.writer
            .write(move |c| {
                let mut n = 0;
                for k in &keys {
                    c.prepare_cached(q::QUEUE_UNATTACHED)?.execute([k])?;
                    n += c.prepare_cached(q::DELETE_UNATTACHED)?.execute([k])? as u64;
                }
                Ok(n)
            })
            .await
    }

    /// Give up unattached files recorded before `cutoff_ms`.
    async fn expire_unattached_files(&self, cutoff_ms: i64) -> Result<u64> {
        self.writer
            .write(move |c| {
                c.prepare_cached(q::QUEUE_EXPIRED)?.execute([cutoff_ms])?;
                Ok(c.prepare_cached(q::DELETE_EXPIRED)?.execute([cutoff_ms])? as u64)
            })
            .await
    }

    /// Queue object prefixes for deletion, due now.
    async fn queue_file_deletions(&self, prefixes: &[String]) -> Result<()> {
        let prefixes = prefixes.to_vec();
        self.writer
            .write(move |c| {
                for p in &prefixes {
                    c.prepare_cached(q::QUEUE_PREFIX)?.execute([p])?;
                }
                Ok(())
            })
            .await
    }

    /// Claim up to `limit` due entries under a lease.
    async fn claim_file_deletions(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<FileDeletion>> {
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::SQLITE_CLAIM_DELETIONS)?;
                let rows = st.query_map(params![now_ms, lease_ms, limit], |r| {
                    Ok(FileDeletion {
                        id: r.get(0)?,
                        prefix: r.get(1)?,
                        attempts: r.get::<_, i64>(2)?.clamp(0, i64::from(u32::MAX)) as u32,
                    })
                })?;
                let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                out.sort_by_key(|d| d.id);
                Ok(out)
            })
            .await
    }

    /// Remove a done entry.
    async fn finish_file_deletion(&self, id: i64) -> Result<()> {
        self.writer
            .write(move |c| {
                c.prepare_cached(q::FINISH_DELETION)?.execute([id])?;
                Ok(())
            })
            .await
    }

    /// Put off a failed entry until `due_ms`.
    async fn retry_file_deletion(&self, id: i64, due_ms: i64, error: &str) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        self.writer
            .write(move |c| {
                c.prepare_cached(q::RETRY_DELETION)?
                    .execute(params![due_ms, error, id])?;
                Ok(())
            })
            .await
    }

    /// Entries in the queue.
    async fn file_deletions_pending(&self) -> Result<u64> {
        self.readers
            .read(|c| {
                let n: i64 = c
                    .prepare_cached(q::COUNT_DELETIONS)?
                    .query_row([], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            })
            .await
    }

    /// Which of these folders something still uses.
    async fn files_in_use(&self, prefixes: &[String]) -> Result<Vec<bool>> {
        let prefixes = prefixes.to_vec();
        self.readers
            .read(move |c| {
                let mut out = Vec::with_capacity(prefixes.len());
                for p in &prefixes {
                    let used = match Folder::of(p) {
                        Folder::Attachment(key) => c
                            .prepare_cached(q::ATTACHMENT_IN_USE)?
                            .query_row([key], |r| r.get(0))?,
                        Folder::Upload => false,
                        Folder::Picture(pic, owner, hash) => {
                            let sql = match pic {
                                Picture::Avatar => q::AVATAR_IN_USE,
                                Picture::Banner => q::BANNER_IN_USE,
                                Picture::Icon => q::ICON_IN_USE,
                            };
                            c.prepare_cached(sql)?
                                .query_row(params![owner, hash], |r| r.get(0))?
                        }
                        Folder::Other => true,
                    };
                    out.push(used);
                }
                Ok(out)
            })
            .await
    }
}
