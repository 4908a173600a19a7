//! SQL text of relationships, private channels, the direct-message index and
//! phone numbers, shared by both backends.
//!
//! The rule of `sql.rs` holds: each statement mentions `$1`, `$2`, ... in that
//! order, because SQLite numbers parameters by first appearance.

use std::sync::LazyLock;

/// The user columns read with relationships and recipients.
macro_rules! user_cols {
    () => {
        "u.id, u.username, u.global_name, u.avatar, u.banner, u.bot, u.system, u.flags"
    };
}

// Relationships.

pub(crate) const RELATIONSHIP: &str =
    "SELECT kind FROM relationships WHERE user_id = $1 AND target_id = $2";
pub(crate) const RELATIONSHIPS: &str = concat!(
    "SELECT r.user_id, r.kind, r.since, ",
    user_cols!(),
    " FROM relationships r JOIN users u ON u.id = r.target_id \
     WHERE r.user_id = $1 ORDER BY r.target_id"
);
pub(crate) const FRIENDS: &str =
    "SELECT target_id FROM relationships WHERE user_id = $1 AND kind = 1 ORDER BY target_id";
pub(crate) const IS_BLOCKED: &str = "SELECT 1 FROM relationships \
     WHERE kind = 2 AND ((user_id = $1 AND target_id = $2) OR (user_id = $2 AND target_id = $1)) \
     LIMIT 1";
pub(crate) const COUNT_RELATIONSHIPS: &str =
    "SELECT COUNT(*) FROM relationships WHERE user_id = $1";
pub(crate) const UPSERT_RELATIONSHIP: &str = "INSERT INTO relationships \
     (user_id, target_id, kind, since) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id, target_id) DO UPDATE SET kind = excluded.kind, since = excluded.since";
pub(crate) const DELETE_RELATIONSHIP: &str =
    "DELETE FROM relationships WHERE user_id = $1 AND target_id = $2";
pub(crate) const USER_EXISTS: &str = "SELECT 1 FROM users WHERE id = $1";
/// Both users' rows, in id order, so two changes between the same users (or
/// touching the same user's limit) run one after the other.
pub(crate) const PG_LOCK_USERS: &str =
    "SELECT id FROM users WHERE id = $1 OR id = $2 ORDER BY id FOR NO KEY UPDATE";

// Private channels.

pub(crate) const PRIVATE_CHANNEL: &str = "SELECT c.id, c.kind, c.name, p.icon, p.owner_id, \
     c.created_at FROM channels c JOIN private_channels p ON p.channel_id = c.id WHERE c.id = $1";
pub(crate) const RECIPIENT_SUMMARIES: &str = concat!(
    "SELECT ",
    user_cols!(),
    " FROM channel_recipients r JOIN users u ON u.id = r.user_id \
     WHERE r.channel_id = $1 ORDER BY r.added_at, r.user_id"
);
pub(crate) const RECIPIENT_IDS: &str = "SELECT user_id FROM channel_recipients \
     WHERE channel_id = $1 ORDER BY added_at, user_id";
pub(crate) const IS_RECIPIENT: &str =
    "SELECT 1 FROM channel_recipients WHERE channel_id = $1 AND user_id = $2";
pub(crate) const DM_BETWEEN: &str =
    "SELECT channel_id FROM private_channels WHERE dm_low = $1 AND dm_high = $2";
pub(crate) const INSERT_CHANNEL: &str =
    "INSERT INTO channels (id, kind, name, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const INSERT_PRIVATE: &str = "INSERT INTO private_channels \
     (channel_id, owner_id, icon, dm_low, dm_high) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const INSERT_RECIPIENT: &str = "INSERT INTO channel_recipients \
     (channel_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub(crate) const REOPEN: &str =
    "UPDATE channel_recipients SET closed_at = NULL WHERE channel_id = $1 AND user_id = $2";
/// The channels a user lists: not closed, or with a message newer than the close.
pub(crate) const LIST_PRIVATE: &str = "SELECT c.id, c.kind, c.name, p.icon, p.owner_id, \
     c.created_at, r.pinned_at, (SELECT MAX(m.id) FROM messages m WHERE m.channel_id = c.id) \
     FROM channel_recipients r JOIN channels c ON c.id = r.channel_id \
     JOIN private_channels p ON p.channel_id = c.id \
     WHERE r.user_id = $1 AND (r.closed_at IS NULL OR EXISTS \
     (SELECT 1 FROM messages m WHERE m.channel_id = r.channel_id AND m.id > r.closed_at))";
/// The recipients of every channel of a user, for the listing.
pub(crate) const LIST_RECIPIENTS: &str = concat!(
    "SELECT o.channel_id, ",
    user_cols!(),
    " FROM channel_recipients r JOIN channel_recipients o ON o.channel_id = r.channel_id \
     JOIN users u ON u.id = o.user_id WHERE r.user_id = $1 \
     ORDER BY o.channel_id, o.added_at, o.user_id"
);
pub(crate) const RENAME_GROUP: &str =
    "UPDATE channels SET name = $1 WHERE id = $2 AND kind = 3 AND guild_id IS NULL";
pub(crate) const SET_GROUP_ICON: &str =
    "UPDATE private_channels SET icon = $1 WHERE channel_id = $2";
pub(crate) const IS_GROUP: &str =
    "SELECT 1 FROM channels WHERE id = $1 AND kind = 3 AND guild_id IS NULL";
pub(crate) const COUNT_RECIPIENTS: &str =
    "SELECT COUNT(*) FROM channel_recipients WHERE channel_id = $1";
pub(crate) const DELETE_RECIPIENT: &str =
    "DELETE FROM channel_recipients WHERE channel_id = $1 AND user_id = $2";
pub(crate) const OWNER: &str = "SELECT owner_id FROM private_channels WHERE channel_id = $1";
pub(crate) const SET_OWNER: &str =
    "UPDATE private_channels SET owner_id = $1 WHERE channel_id = $2";
/// A leaver's rows of the direct-message index for one channel (a range of
/// the channel's messages, each a key lookup).
pub(crate) const DELETE_INBOX_OF: &str = "DELETE FROM dm_inbox WHERE user_id = $1 AND \
     message_id IN (SELECT id FROM messages WHERE channel_id = $2)";
pub(crate) const CLOSE: &str =
    "UPDATE channel_recipients SET closed_at = $1 WHERE channel_id = $2 AND user_id = $3";
pub(crate) const PIN: &str =
    "UPDATE channel_recipients SET pinned_at = $1 WHERE channel_id = $2 AND user_id = $3";
pub(crate) const DELETE_PRIVATE: &str = "DELETE FROM channels WHERE id = $1 AND guild_id IS NULL";

/// A page of the direct-message index, as full message rows.
pub(crate) static DIRECT_MESSAGES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} JOIN dm_inbox i ON i.message_id = m.id \
         WHERE i.user_id = $1 AND i.message_id < $2 ORDER BY i.message_id DESC LIMIT $3",
        crate::sql_messages::MESSAGE_SELECT
    )
});

// Phone numbers.

pub(crate) const PHONE_OWNER: &str = "SELECT user_id FROM user_phones WHERE phone = $1";
pub(crate) const UPSERT_PHONE: &str = "INSERT INTO user_phones \
     (user_id, phone, discoverable, verified_at) VALUES ($1, $2, FALSE, $3) \
     ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, verified_at = excluded.verified_at";
pub(crate) const PHONE: &str =
    "SELECT user_id, phone, discoverable FROM user_phones WHERE user_id = $1";
pub(crate) const SET_DISCOVERABLE: &str =
    "UPDATE user_phones SET discoverable = $1 WHERE user_id = $2";
pub(crate) const DELETE_PHONE: &str = "DELETE FROM user_phones WHERE user_id = $1";
pub(crate) const DISCOVERABLE_BY_PHONE: &str = concat!(
    "SELECT p.phone, ",
    user_cols!(),
    " FROM user_phones p JOIN users u ON u.id = p.user_id \
     WHERE p.phone = $1 AND p.discoverable = TRUE"
);

/// Every fixed statement, for the parameter-order test.
#[cfg(test)]
pub(crate) fn all() -> Vec<&'static str> {
    vec![
        RELATIONSHIP,
        RELATIONSHIPS,
        FRIENDS,
        IS_BLOCKED,
        COUNT_RELATIONSHIPS,
        UPSERT_RELATIONSHIP,
        DELETE_RELATIONSHIP,
        USER_EXISTS,
        PRIVATE_CHANNEL,
        RECIPIENT_SUMMARIES,
        RECIPIENT_IDS,
        IS_RECIPIENT,
        DM_BETWEEN,
        INSERT_CHANNEL,
        INSERT_PRIVATE,
        INSERT_RECIPIENT,
        REOPEN,
        LIST_PRIVATE,
        LIST_RECIPIENTS,
        RENAME_GROUP,
        SET_GROUP_ICON,
        IS_GROUP,
        COUNT_RECIPIENTS,
        DELETE_RECIPIENT,
        OWNER,
        SET_OWNER,
        DELETE_INBOX_OF,
        CLOSE,
        PIN,
        DELETE_PRIVATE,
        DIRECT_MESSAGES.as_str(),
        PHONE_OWNER,
        UPSERT_PHONE,
        PHONE,
        SET_DISCOVERABLE,
        DELETE_PHONE,
        DISCOVERABLE_BY_PHONE,
    ]
}
