//! SQL text of the file lifecycle tables (`stored_files`, `storage_usage`,
//! `file_deletions`), shared by both backends where the dialects agree. Each
//! statement mentions `$1`, `$2`, ... in that order (see `sql.rs`).

/// Make sure the user has a usage row (to lock or read).
pub(crate) const ENSURE_USAGE: &str = "INSERT INTO storage_usage (user_id, used_bytes) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING";
/// The user's usage.
pub(crate) const STORAGE_USED: &str = "SELECT used_bytes FROM storage_usage WHERE user_id = $1";
/// The user's usage, locking the row until the transaction ends (PostgreSQL).
pub(crate) const PG_STORAGE_USED_FOR_UPDATE: &str =
    "SELECT used_bytes FROM storage_usage WHERE user_id = $1 FOR UPDATE";
/// Record a stored file (a trigger adds its size to the usage).
pub(crate) const INSERT_STORED_FILE: &str = "INSERT INTO stored_files \
     (key, user_id, channel_id, size, message_id, created_at) VALUES ($1, $2, $3, $4, NULL, $5)";
/// Queue the objects of an unattached file.
pub(crate) const QUEUE_UNATTACHED: &str = "INSERT INTO file_deletions (prefix) \
     SELECT key FROM stored_files WHERE key = $1 AND message_id IS NULL";
/// Forget an unattached file (a trigger releases its bytes).
pub(crate) const DELETE_UNATTACHED: &str =
    "DELETE FROM stored_files WHERE key = $1 AND message_id IS NULL";
/// Queue the objects of the unattached files recorded before a time.
pub(crate) const QUEUE_EXPIRED: &str = "INSERT INTO file_deletions (prefix) \
     SELECT key FROM stored_files WHERE message_id IS NULL AND created_at < $1";
/// Forget the unattached files recorded before a time.
pub(crate) const DELETE_EXPIRED: &str =
    "DELETE FROM stored_files WHERE message_id IS NULL AND created_at < $1";
/// Queue one prefix, due now.
pub(crate) const QUEUE_PREFIX: &str = "INSERT INTO file_deletions (prefix) VALUES ($1)";
/// Claim due entries (SQLite: the single writer serializes claims).
pub(crate) const SQLITE_CLAIM_DELETIONS: &str = "UPDATE file_deletions \
     SET due_at = $1 + $2, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM file_deletions WHERE due_at <= $1 ORDER BY due_at, id LIMIT $3) \
     RETURNING id, prefix, attempts";
/// Claim due entries, skipping rows another node is claiming.
pub(crate) const PG_CLAIM_DELETIONS: &str = "UPDATE file_deletions \
     SET due_at = $1 + $2, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM file_deletions WHERE due_at <= $1 ORDER BY due_at, id LIMIT $3 \
                  FOR UPDATE SKIP LOCKED) \
     RETURNING id, prefix, attempts";
/// Remove a done entry.
pub(crate) const FINISH_DELETION: &str = "DELETE FROM file_deletions WHERE id = $1";
/// Put off a failed entry.
pub(crate) const RETRY_DELETION: &str =
    "UPDATE file_deletions SET due_at = $1, last_error = $2 WHERE id = $3";
/// Entries in the queue.
pub(crate) const COUNT_DELETIONS: &str = "SELECT COUNT(*) FROM file_deletions";
/// Whether an attachment folder is recorded.
pub(crate) const ATTACHMENT_IN_USE: &str =
    "SELECT EXISTS (SELECT 1 FROM stored_files WHERE key = $1)";
/// Whether a user or a webhook shows this avatar.
pub(crate) const AVATAR_IN_USE: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND avatar = $2) \
     OR EXISTS (SELECT 1 FROM webhooks WHERE id = $1 AND avatar = $2)";
/// Whether a user or a guild shows this banner (or splash).
pub(crate) const BANNER_IN_USE: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND banner = $2) \
     OR EXISTS (SELECT 1 FROM guilds WHERE id = $1 AND (banner = $2 OR splash = $2))";
/// Whether a guild or a role shows this icon.
pub(crate) const ICON_IN_USE: &str = "SELECT EXISTS (SELECT 1 FROM guilds WHERE id = $1 AND icon = $2) \
     OR EXISTS (SELECT 1 FROM roles WHERE id = $1 AND icon = $2)";
