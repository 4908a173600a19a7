//! Stored files, quotas and the deletion queue on PostgreSQL. Recording a file
//! locks its uploader's usage row, so concurrent uploads on any node cannot
//! pass the quota together; claims skip rows another node holds
//! (`FOR UPDATE SKIP LOCKED`) and lease the rest.

use async_trait::async_trait;

use beep_types::UserId;

use super::PostgresStore;
use crate::Result;
use crate::files::{FileDeletion, FileStore, Folder, NewStoredFile, Picture};
use crate::sql_files as q;

#[async_trait]
impl FileStore for PostgresStore {
    /// Record an attachment against its uploader within `quota` (0: no limit).
    async fn record_stored_file(&self, f: &NewStoredFile, quota: u64) -> Result<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let user = f.user_id.as_i64();
        tx.execute(q::ENSURE_USAGE, &[&user]).await?;
        let row = tx
            .query_one(q::PG_STORAGE_USED_FOR_UPDATE, &[&user])
            .await?;
        let used: i64 = row.try_get(0)?;
        if quota > 0 && (used.max(0) as u64).saturating_add(f.size) > quota {
            return Ok(false);
        }
        let size = i64::try_from(f.size).unwrap_or(i64::MAX);
        tx.execute(
            q::INSERT_STORED_FILE,
            &[
                &f.key,
                &user,
                &f.channel_id.as_i64(),
                &size,
                &f.created_at_ms,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Bytes counted against `user`.
    async fn storage_used(&self, user: UserId) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::STORAGE_USED).await?;
        let used: Option<i64> = match c.query_opt(&st, &[&user.as_i64()]).await? {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        };
        Ok(used.unwrap_or(0).max(0) as u64)
    }

    /// Give up unattached files: queue their objects, release their bytes.
    async fn discard_stored_files(&self, keys: &[String]) -> Result<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let mut n = 0;
        for k in keys {
            tx.execute(q::QUEUE_UNATTACHED, &[k]).await?;
            n += tx.execute(q::DELETE_UNATTACHED, &[k]).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Give up unattached files recorded before `cutoff_ms`.
    async fn expire_unattached_files(&self, cutoff_ms: i64) -> Result<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(q::QUEUE_EXPIRED, &[&cutoff_ms]).await?;
        let n = tx.execute(q::DELETE_EXPIRED, &[&cutoff_ms]).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Queue object prefixes for deletion, due now.
    async fn queue_file_deletions(&self, prefixes: &[String]) -> Result<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for p in prefixes {
            tx.execute(q::QUEUE_PREFIX, &[p]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claim up to `limit` due entries under a lease.
    async fn claim_file_deletions(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<FileDeletion>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::PG_CLAIM_DELETIONS).await?;
        let rows = c
            .query(&st, &[&now_ms, &lease_ms, &i64::from(limit)])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(FileDeletion {
                id: r.try_get(0)?,
                prefix: r.try_get(1)?,
                attempts: r.try_get::<_, i32>(2)?.max(0) as u32,
            });
        }
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    /// Remove a done entry.
    async fn finish_file_deletion(&self, id: i64) -> Result<()> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::FINISH_DELETION).await?;
        c.execute(&st, &[&id]).await?;
        Ok(())
    }

    /// Put off a failed entry until `due_ms`.
    async fn retry_file_deletion(&self, id: i64, due_ms: i64, error: &str) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        let c = self.client().await?;
        let st = c.prepare_cached(q::RETRY_DELETION).await?;
        c.execute(&st, &[&due_ms, &error, &id]).await?;
        Ok(())
    }

    /// Entries in the queue.
    async fn file_deletions_pending(&self) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::COUNT_DELETIONS).await?;
        let n: i64 = c.query_one(&st, &[]).await?.try_get(0)?;
        Ok(n.max(0) as u64)
    }

    /// Which of these folders something still uses.
    async fn files_in_use(&self, prefixes: &[String]) -> Result<Vec<bool>> {
        let c = self.client().await?;
        let mut out = Vec::with_capacity(prefixes.len());
        for p in prefixes {
            let used = match Folder::of(p) {
                Folder::Attachment(key) => {
                    let st = c.prepare_cached(q::ATTACHMENT_IN_USE).await?;
                    c.query_one(&st, &[&key]).await?.try_get(0)?
                }
                Folder::Upload => false,
                Folder::Picture(pic, owner, hash) => {
                    let sql = match pic {
                        Picture::Avatar => q::AVATAR_IN_USE,
                        Picture::Banner => q::BANNER_IN_USE,
                        Picture::Icon => q::ICON_IN_USE,
                    };
                    let st = c.prepare_cached(sql).await?;
                    c.query_one(&st, &[&owner, &hash]).await?.try_get(0)?
                }
                Folder::Other => true,
            };
            out.push(used);
        }
        Ok(out)
    }
}
