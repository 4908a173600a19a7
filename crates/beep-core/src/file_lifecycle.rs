//! The lifecycle of stored files (`services.file_lifecycle`): per-user storage
//! quotas, the worker that empties the deletion queue, and the orphan sweeper.
//!
//! - **Quota.** Every attachment is recorded against its uploader
//!   (`FileStore::record_stored_file`, atomic per user) through the
//!   [`StoreLedger`] the files service is given; its bytes are released in the
//!   same transaction as the delete of its message, its channel, or the
//!   account when no message took it.
//! - **Deletion queue.** Store triggers queue object prefixes in the transaction
//!   that deletes what owned them (an outbox). [`FileLifecycle::run_deletions`]
//!   claims due entries under a lease (several nodes never take the same
//!   entry; a node that dies lets its entries come back), deletes the objects,
//!   and removes the entry, or puts it off with exponential backoff on failure,
//!   for ever until it succeeds.
//! - **Sweeper.** [`FileLifecycle::sweep`] expires uploads no message took within
//!   the grace period, then lists the stored objects and deletes the ones that
//!   nothing references and that are older than the grace period.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use beep_files::{Files, FilesError, UsageLedger};
use beep_store::DynStore;
use beep_store::files::{FileDeletion, NewStoredFile};
use beep_types::{ChannelId, UserId};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::Result;

/// Entries one pass of the deletion worker claims.
const BATCH: u32 = 32;
/// Deletions run at once within a pass.
const PARALLEL: usize = 8;
/// Units (attachment or picture folders) the sweeper checks per store read.
const SWEEP_CHUNK: usize = 256;
/// Top-level folders the sweeper looks into (anything else is not ours).
const SWEPT_FOLDERS: &[&str] = &["attachments", "uploads", "avatars", "banners", "icons"];

/// Settings of quotas, the deletion worker and the sweeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Bytes of attachments one user may store; 0 for no limit.
    pub user_quota_bytes: u64,
    /// How often the worker looks for due deletions when the queue was empty.
    pub deletion_poll: Duration,
    /// Delay after a first failed deletion; doubled on each failure.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// How long a claimed entry stays hidden from other workers.
    pub lease: Duration,
    /// How often the orphan sweeper runs; zero turns it off.
    pub sweep_interval: Duration,
    /// Age below which an unreferenced object is left alone (an upload whose
    /// message is still coming). Keep it above the upload URL lifetime (1 h).
    pub orphan_grace: Duration,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings {
            user_quota_bytes: 10 * 1024 * 1024 * 1024,
            deletion_poll: Duration::from_secs(2),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            sweep_interval: Duration::from_secs(6 * 3600),
            orphan_grace: Duration::from_secs(24 * 3600),
        }
    }
}

/// A user's storage: `GET /users/@me/storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StorageUsage {
    /// Bytes of the user's attachments in storage.
    pub used_bytes: u64,
    /// The most they may store; `null` when there is no limit.
    pub quota_bytes: Option<u64>,
}

/// What one pass of the deletion worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionPass {
    pub claimed: usize,
    pub done: usize,
    pub failed: usize,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Recorded uploads no message took, given up.
    pub expired_uploads: u64,
    /// Unreferenced objects deleted.
    pub orphans_deleted: u64,
}

/// The file lifecycle service, cheap to clone.
#[derive(Clone)]
pub struct FileLifecycle {
    store: DynStore,
    files: Files,
    settings: LifecycleSettings,
}

impl std::fmt::Debug for FileLifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLifecycle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FileLifecycle {
    /// The service, and the files service told to count uploads against quotas.
    pub fn new(store: DynStore, files: Files, settings: LifecycleSettings) -> FileLifecycle {
        files.set_ledger(Arc::new(StoreLedger {
            store: store.clone(),
            quota: settings.user_quota_bytes,
        }));
        FileLifecycle {
            store,
            files,
            settings,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &LifecycleSettings {
        &self.settings
    }

    /// How much `user` stores and may store.
    pub async fn usage(&self, user: UserId) -> Result<StorageUsage> {
        Ok(StorageUsage {
            used_bytes: self.store.storage_used(user).await?,
            quota_bytes: (self.settings.user_quota_bytes > 0)
                .then_some(self.settings.user_quota_bytes),
        })
    }

    /// Entries waiting in the deletion queue (due or not).
    pub async fn pending_deletions(&self) -> Result<u64> {
        Ok(self.store.file_deletions_pending().await?)
    }

    /// One pass of the deletion worker: claim due entries, delete their objects,
    /// and remove the entries done or put off the ones that failed.
    pub async fn run_deletions(&self) -> Result<DeletionPass> {
        let now = Utc::now().timestamp_millis();
        let lease = duration_ms(self.settings.lease);
        let claimed = self.store.claim_file_deletions(now, lease, BATCH).await?;
        let mut pass = DeletionPass {
            claimed: claimed.len(),
            ..Default::default()
        };
        let outcomes: Vec<(FileDeletion, std::result::Result<(), FilesError>)> =
            futures::stream::iter(claimed)
                .map(|d| async move {
                    let r = self.delete_objects(&d.prefix).await;
                    (d, r)
                })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
        for (d, r) in outcomes {
            match r {
                Ok(()) => {
                    self.store.finish_file_deletion(d.id).await?;
                    pass.done += 1;
                }
                Err(e) => {
                    let delay = backoff(&self.settings, d.attempts);
                    tracing::warn!(
                        prefix = %d.prefix,
                        attempts = d.attempts,
                        retry_in_ms = delay,
                        error = %e,
                        "could not delete stored files; will retry"
                    );
                    let due = Utc::now().timestamp_millis().saturating_add(delay);
                    self.store
                        .retry_file_deletion(d.id, due, &e.to_string())
                        .await?;
                    pass.failed += 1;
                }
            }
        }
        Ok(pass)
    }

    /// Delete every object under `prefix`, unless it is a picture that was
    /// taken back into use since it was queued.
    async fn delete_objects(&self, prefix: &str) -> std::result::Result<(), FilesError> {
        let picture = SWEPT_FOLDERS[2..]
            .iter()
            .any(|f| prefix.starts_with(&format!("{f}/")))
            && prefix.split('/').count() == 3;
        if picture {
            let in_use = self
                .store
                .files_in_use(&[prefix.to_owned()])
                .await
                .map_err(|e| FilesError::Internal(e.to_string()))?;
            if in_use.first().copied().unwrap_or(true) {
                return Ok(());
            }
        }
        self.files.storage().delete_prefix(prefix).await
    }

    /// One sweep: give up uploads no message took within the grace period, then
    /// delete the stored objects nothing references that are older than it.
    pub async fn sweep(&self) -> Result<SweepReport> {
        let grace =
            chrono::Duration::from_std(self.settings.orphan_grace).unwrap_or(chrono::Duration::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(grace)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut report = SweepReport {
            expired_uploads: self
                .store
                .expire_unattached_files(cutoff.timestamp_millis())
                .await?,
            ..Default::default()
        };
        for folder in SWEPT_FOLDERS {
            let mut listing = Box::pin(self.files.storage().list_with_times(folder));
            let mut units: BTreeMap<String, Unit> = BTreeMap::new();
            while let Some(item) = listing.next().await {
                let (key, at) = item?;
                let Some(unit) = unit_of(&key) else {
                    continue;
                };
                let u = units.entry(unit.to_owned()).or_default();
                u.newest = u.newest.max(Some(at));
                u.keys.push(key);
                if units.len() >= SWEEP_CHUNK {
                    report.orphans_deleted += self.sweep_units(&mut units, cutoff).await?;
                }
            }
            report.orphans_deleted += self.sweep_units(&mut units, cutoff).await?;
        }
        if report != SweepReport::default() {
            tracing::info!(
                expired_uploads = report.expired_uploads,
                orphans_deleted = report.orphans_deleted,
                "swept stored files"
            );
        }
        Ok(report)
    }

    /// Delete the objects of the units older than `cutoff` that nothing uses.
    async fn sweep_units(
        &self,
        units: &mut BTreeMap<String, Unit>,
        cutoff: DateTime<Utc>,
    ) -> Result<u64> {
        let old: Vec<(String, Unit)> = std::mem::take(units)
            .into_iter()
            .filter(|(_, u)| u.newest.is_some_and(|t| t < cutoff))
            .collect();
        if old.is_empty() {
            return Ok(0);
        }
        let names: Vec<String> = old.iter().map(|(n, _)| n.clone()).collect();
        let in_use = self.store.files_in_use(&names).await?;
        let mut deleted = 0;
        for ((name, unit), used) in old.into_iter().zip(in_use) {
            if used {
                continue;
            }
            for key in unit.keys {
                match self.files.storage().delete(&key).await {
                    Ok(()) => deleted += 1,
                    // The next sweep tries again.
                    Err(e) => {
                        tracing::warn!(unit = %name, error = %e, "could not delete an orphan")
                    }
                }
            }
        }
        Ok(deleted)
    }

    /// Start the deletion worker and the sweeper; they run until aborted.
    pub fn spawn(&self) -> JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let deletions = async {
                loop {
                    match me.run_deletions().await {
                        // A full batch: there is probably more, go on at once.
                        Ok(p) if p.claimed == BATCH as usize && p.failed == 0 => continue,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(cause = ?e, "file deletion pass failed; will retry")
                        }
                    }
                    tokio::time::sleep(me.settings.deletion_poll).await;
                }
            };
            let sweeper = async {
                if me.settings.sweep_interval.is_zero() {
                    return;
                }
                loop {
                    tokio::time::sleep(me.settings.sweep_interval).await;
                    if let Err(e) = me.sweep().await {
                        tracing::warn!(cause = ?e, "orphan sweep failed; will retry");
                    }
                }
            };
            tokio::join!(deletions, sweeper);
        })
    }
}

/// The objects of one attachment, upload or picture folder seen by a sweep.
#[derive(Debug, Default)]
struct Unit {
    newest: Option<DateTime<Utc>>,
    keys: Vec<String>,
}

/// The folder an object belongs to: its first three path segments
/// (`attachments/{channel}/{attachment}`, `uploads/{user}/{upload}`,
/// `avatars/{owner}/{hash}`), or `None` for a key too short to be ours.
fn unit_of(key: &str) -> Option<&str> {
    let mut ends = key.match_indices('/').map(|(i, _)| i);
    let _first = ends.next()?;
    let second = ends.next()?;
    match ends.next() {
        Some(third) => Some(&key[..third]),
        // `uploads/{user}/{upload}` is an object itself.
        None if key.len() > second + 1 => Some(key),
        None => None,
    }
}

/// Milliseconds before attempt `attempts + 1`: the base doubled per failure,
/// at most the maximum.
fn backoff(settings: &LifecycleSettings, attempts: u32) -> i64 {
    let base = duration_ms(settings.retry_base).max(1);
    let max = duration_ms(settings.retry_max).max(base);
    let shift = attempts.saturating_sub(1).min(30);
    base.saturating_mul(1 << shift).min(max)
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The quota ledger of the files service, kept in the store.
pub struct StoreLedger {
    store: DynStore,
    /// Bytes per user; 0 for no limit.
    quota: u64,
}

impl std::fmt::Debug for StoreLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLedger")
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

fn store_failure(e: beep_store::StoreError) -> FilesError {
    FilesError::Storage(format!("database: {e}"))
}

#[async_trait]
impl UsageLedger for StoreLedger {
    async fn remaining(&self, user: UserId) -> beep_files::Result<Option<u64>> {
        if self.quota == 0 {
            return Ok(None);
        }
        let used = self.store.storage_used(user).await.map_err(store_failure)?;
        Ok(Some(self.quota.saturating_sub(used)))
    }

    async fn record(
        &self,
        key: &str,
        user: UserId,
        channel: ChannelId,
        size: u64,
    ) -> beep_files::Result<bool> {
        let f = NewStoredFile {
            key: key.to_owned(),
            user_id: user,
            channel_id: channel,
            size,
            created_at_ms: Utc::now().timestamp_millis(),
        };
        self.store
            .record_stored_file(&f, self.quota)
            .await
            .map_err(store_failure)
    }

    async fn discard(&self, keys: &[String]) -> beep_files::Result<()> {
        self.store
            .discard_stored_files(keys)
            .await
            .map(|_| ())
            .map_err(store_failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_maximum() {
        let s = LifecycleSettings {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            ..Default::default()
        };
        let delays: Vec<i64> = (1..=6).map(|a| backoff(&s, a)).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(&s, u32::MAX), 1000, "no overflow");
    }

    #[test]
    fn objects_belong_to_their_folder() {
        assert_eq!(unit_of("attachments/1/2/file"), Some("attachments/1/2"));
        assert_eq!(
            unit_of("attachments/1/2/thumb-256.webp"),
            Some("attachments/1/2")
        );
        assert_eq!(unit_of("uploads/7/9"), Some("uploads/7/9"));
        assert_eq!(unit_of("avatars/5/abc/original.png"), Some("avatars/5/abc"));
        assert_eq!(unit_of("avatars/5"), None);
        assert_eq!(unit_of("readyz-probe"), None);
    }
}
