//! The lifecycle of stored files: which attachment objects exist and whose quota
//! they count against (`stored_files`, `storage_usage`), and the durable queue of
//! object prefixes to delete from storage (`file_deletions`).
//!
//! The queue is an outbox: triggers of migration `0009_file_lifecycle` fill it
//! in the same transaction as the delete of a message, a channel, a guild, a
//! user, a webhook or a role, or the change of a picture; a worker in
//! `beep-core` empties it. Keys follow `beep-files`' layout.

use async_trait::async_trait;
use beep_types::{ChannelId, UserId};

use crate::Result;

/// An attachment just written to object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStoredFile {
    /// Its folder in the store: `attachments/{channel}/{attachment}`.
    pub key: String,
    /// The uploader, whose quota it counts against.
    pub user_id: UserId,
    pub channel_id: ChannelId,
    /// Bytes counted.
    pub size: u64,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// A claimed entry of the deletion queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDeletion {
    pub id: i64,
    /// Every object under this prefix (whole path segments) is to go.
    pub prefix: String,
    /// Claims so far, this one included.
    pub attempts: u32,
}

/// Stored files, storage quotas and the deletion queue.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Record an attachment against its uploader, only if their usage stays within
    /// `quota` bytes (0: no limit); `false` (nothing written) otherwise. Atomic
    /// against concurrent calls for the same user. A key already recorded is
    /// `Conflict("key")`.
    async fn record_stored_file(&self, f: &NewStoredFile, quota: u64) -> Result<bool>;
    /// Bytes counted against `user` (0 when nothing is).
    async fn storage_used(&self, user: UserId) -> Result<u64>;
    /// Give up files no message took (an upload that failed, a message that was
    /// refused): queue their objects and release their bytes, in one transaction.
    /// Keys of files on a message, or unknown, are left alone. Returns how many went.
    async fn discard_stored_files(&self, keys: &[String]) -> Result<u64>;
    /// Give up, like [`FileStore::discard_stored_files`], every file no message
    /// took that was recorded before `cutoff_ms`. Returns how many went.
    async fn expire_unattached_files(&self, cutoff_ms: i64) -> Result<u64>;
    /// Queue object prefixes for deletion, due now.
    async fn queue_file_deletions(&self, prefixes: &[String]) -> Result<()>;
    /// Claim up to `limit` entries due at `now_ms`, oldest due first: each gets
    /// one more attempt and is hidden from other claims until `now_ms + lease_ms`
    /// (so a worker that dies lets its entries come back). Entries claimed by a
    /// concurrent call are skipped, never handed out twice.
    async fn claim_file_deletions(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<FileDeletion>>;
    /// The objects of entry `id` are gone: remove it.
    async fn finish_file_deletion(&self, id: i64) -> Result<()>;
    /// Entry `id` failed: due again at `due_ms`, with `error` kept for operators.
    async fn retry_file_deletion(&self, id: i64, due_ms: i64, error: &str) -> Result<()>;
    /// Entries in the queue (due or not).
    async fn file_deletions_pending(&self) -> Result<u64>;
    /// Of these object folders, which something still uses: an attachment
    /// folder with a `stored_files` row, a picture folder
    /// (`{avatars|banners|icons}/{owner}/{hash}`) whose owner holds that hash.
    /// Pending uploads (`uploads/...`) are never in use; anything else is
    /// answered `true` (not ours to judge). One answer per prefix, in order.
    async fn files_in_use(&self, prefixes: &[String]) -> Result<Vec<bool>>;
}

/// What a folder of the store names, for [`FileStore::files_in_use`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Folder<'a> {
    Attachment(&'a str),
    Upload,
    /// `(column check, owner, hash)`.
    Picture(Picture, i64, &'a str),
    Other,
}

/// Which owners' columns hold a picture folder's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Picture {
    Avatar,
    Banner,
    Icon,
}

impl Folder<'_> {
    /// Classify a folder prefix.
    pub(crate) fn of(prefix: &str) -> Folder<'_> {
        let parts: Vec<&str> = prefix.split('/').collect();
        match parts.as_slice() {
            ["attachments", c, a] if is_id(c) && is_id(a) => Folder::Attachment(prefix),
            ["uploads", ..] => Folder::Upload,
            [kind, owner, hash] if !hash.is_empty() => {
                let Ok(owner) = owner.parse::<i64>() else {
                    return Folder::Other;
                };
                let pic = match *kind {
                    "avatars" => Picture::Avatar,
                    "banners" => Picture::Banner,
                    "icons" => Picture::Icon,
                    _ => return Folder::Other,
                };
                Folder::Picture(pic, owner, hash)
            }
            _ => Folder::Other,
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_classified() {
        assert_eq!(
            Folder::of("attachments/1/2"),
            Folder::Attachment("attachments/1/2")
        );
        assert_eq!(Folder::of("uploads/1/2"), Folder::Upload);
        assert_eq!(
            Folder::of("avatars/5/abc"),
            Folder::Picture(Picture::Avatar, 5, "abc")
        );
        assert_eq!(Folder::of("icons/x/abc"), Folder::Other);
        assert_eq!(Folder::of("attachments/1"), Folder::Other);
        assert_eq!(Folder::of("readyz-probe"), Folder::Other);
    }
}
