//! SQL text of the message tables (messages, mention rows, reactions, read
//! states, webhooks, applications), shared by both backends where the dialects
//! agree.
//!
//! The rule of `sql.rs` holds: each statement mentions `$1`, `$2`, ... in that
//! order, because SQLite numbers parameters by first appearance. Where the
//! dialects differ (a list of ids as one parameter, row locks) the two variants
//! sit side by side with `SQLITE_` and `PG_` prefixes.

/// A message with its author's account (none for webhook messages), in the
/// order the row decoders read the columns.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.channel_id, m.guild_id, m.author_id, m.webhook_id, m.application_id, \
         m.kind, m.content, m.flags, m.tts, m.nonce, m.edited_at, m.pinned_at, \
         m.mention_everyone, m.mention_users, m.mention_roles, m.mention_channels, \
         m.ref_message_id, m.ref_channel_id, m.ref_guild_id, m.embeds, m.author_name, \
         m.author_avatar, m.attachments, u.id, u.username, u.global_name, u.avatar, u.banner, u.bot, u.system, \
         u.flags \
         FROM messages m LEFT JOIN users u ON u.id = m.author_id AND m.webhook_id IS NULL"
    };
}

/// The user columns shown with messages, reactions and webhooks.
macro_rules! user_summary_columns {
    () => {
        "u.id, u.username, u.global_name, u.avatar, u.banner, u.bot, u.system, u.flags"
    };
}

/// A webhook with its creator's account.
macro_rules! webhook_select {
    () => {
        "SELECT w.id, w.kind, w.guild_id, w.channel_id, w.name, w.avatar, w.token, \
         w.application_id, w.created_at, u.id, u.username, u.global_name, u.avatar, u.banner, \
         u.bot, u.system, u.flags \
         FROM webhooks w LEFT JOIN users u ON u.id = w.creator_id"
    };
}

/// The columns of `applications`.
macro_rules! application_columns {
    () => {
        "id, owner_id, name, description, icon, bot_public, bot_require_code_grant, flags, \
         verify_key, created_at"
    };
}

// Messages.

/// `message_select!` for statements built elsewhere (the direct-message index).
pub(crate) const MESSAGE_SELECT: &str = message_select!();
pub(crate) const INSERT_MESSAGE: &str = "INSERT INTO messages (id, channel_id, guild_id, \
     author_id, webhook_id, application_id, kind, content, flags, tts, nonce, mention_everyone, \
     mention_users, mention_roles, mention_channels, ref_message_id, ref_channel_id, ref_guild_id, \
     embeds, author_name, author_avatar, attachments) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22)";
pub(crate) const INSERT_MENTION: &str = "INSERT INTO message_mentions \
     (channel_id, message_id, target_id, author_id) VALUES ($1, $2, $3, $4) \
     ON CONFLICT DO NOTHING";
pub(crate) const DELETE_MENTIONS: &str =
    "DELETE FROM message_mentions WHERE channel_id = $1 AND message_id = $2";
pub(crate) const NONCE_MATCH: &str = "SELECT id FROM messages WHERE channel_id = $1 \
     AND author_id = $2 AND nonce = $3 AND id >= $4 ORDER BY id LIMIT 1";
pub(crate) const MESSAGE_BY_ID: &str =
    concat!(message_select!(), " WHERE m.id = $1 AND m.channel_id = $2");
pub(crate) const MESSAGE_EXISTS: &str = "SELECT 1 FROM messages WHERE id = $1 AND channel_id = $2";
pub(crate) const SQLITE_MESSAGES_BY_IDS: &str = concat!(
    message_select!(),
    " WHERE m.id IN (SELECT value FROM json_each($1))"
);
pub(crate) const PG_MESSAGES_BY_IDS: &str = concat!(message_select!(), " WHERE m.id = ANY($1)");
pub(crate) const PAGE_LATEST: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 ORDER BY m.id DESC LIMIT $2"
);
pub(crate) const PAGE_BEFORE: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"
);
/// Oldest first: the caller reverses the page.
pub(crate) const PAGE_AFTER: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT $3"
);
/// Oldest first, the bound included: the newer half of an "around" page.
pub(crate) const PAGE_FROM: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 AND m.id >= $2 ORDER BY m.id ASC LIMIT $3"
);
pub(crate) const LAST_MESSAGE_ID: &str = "SELECT MAX(id) FROM messages WHERE channel_id = $1";
pub(crate) const UPDATE_MESSAGE: &str = "UPDATE messages SET content = COALESCE($1, content), \
     embeds = COALESCE($2, embeds), flags = COALESCE($3, flags), \
     edited_at = COALESCE($4, edited_at) WHERE id = $5 AND channel_id = $6";
pub(crate) const UPDATE_MENTIONS: &str = "UPDATE messages SET mention_everyone = $1, \
     mention_users = $2, mention_roles = $3, mention_channels = $4 \
     WHERE id = $5 AND channel_id = $6";
pub(crate) const DELETE_MESSAGE: &str = "DELETE FROM messages WHERE id = $1 AND channel_id = $2";
/// Messages of an author in a guild from an id on, oldest first (for bans).
pub(crate) const AUTHOR_MESSAGES_SINCE: &str = "SELECT channel_id, id FROM messages \
     WHERE author_id = $1 AND guild_id = $2 AND id >= $3 ORDER BY id";
pub(crate) const MESSAGE_AUTHOR: &str = "SELECT author_id FROM messages WHERE id = $1";
pub(crate) const SQLITE_USER_SUMMARIES: &str = concat!(
    "SELECT ",
    user_summary_columns!(),
    " FROM users u WHERE u.id IN (SELECT value FROM json_each($1))"
);
pub(crate) const PG_USER_SUMMARIES: &str = concat!(
    "SELECT ",
    user_summary_columns!(),
    " FROM users u WHERE u.id = ANY($1)"
);
/// Move a read state forward only (what sending and a normal ack do).
pub(crate) const ACK_FORWARD: &str = "INSERT INTO read_states \
     (user_id, channel_id, last_message_id, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id, channel_id) DO UPDATE SET \
     last_message_id = excluded.last_message_id, updated_at = excluded.updated_at \
     WHERE read_states.last_message_id < excluded.last_message_id";
/// Set a read state wherever it was (a manual "mark unread").
pub(crate) const ACK_SET: &str = "INSERT INTO read_states \
     (user_id, channel_id, last_message_id, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id, channel_id) DO UPDATE SET \
     last_message_id = excluded.last_message_id, updated_at = excluded.updated_at";
pub(crate) const READ_POSITION: &str =
    "SELECT last_message_id FROM read_states WHERE user_id = $1 AND channel_id = $2";
/// Read states with their counts. Unread messages are counted up to 1000
/// (`UNREAD_COUNT_CAP`), so the count is one bounded index range.
pub(crate) const READ_STATES: &str = "SELECT rs.channel_id, rs.last_message_id, \
     (SELECT COUNT(*) FROM (SELECT 1 FROM messages m WHERE m.channel_id = rs.channel_id \
       AND m.id > rs.last_message_id LIMIT 1000) AS unread) AS unread_count, \
     (SELECT COUNT(DISTINCT mm.message_id) FROM message_mentions mm \
       WHERE mm.channel_id = rs.channel_id AND mm.message_id > rs.last_message_id \
       AND mm.author_id <> $1 AND (mm.target_id = $1 OR mm.target_id = c.guild_id \
       OR mm.target_id IN (SELECT mr.role_id FROM member_roles mr \
         WHERE mr.guild_id = c.guild_id AND mr.user_id = $1))) AS mention_count, \
     (SELECT MAX(m2.id) FROM messages m2 WHERE m2.channel_id = rs.channel_id) AS last_id, \
     (SELECT MAX(m3.pinned_at) FROM messages m3 WHERE m3.channel_id = rs.channel_id \
       AND m3.pinned_at IS NOT NULL) AS last_pin, c.guild_id \
     FROM read_states rs JOIN channels c ON c.id = rs.channel_id \
     WHERE rs.user_id = $1 AND (c.guild_id IS NULL OR EXISTS (SELECT 1 FROM members mb \
       WHERE mb.guild_id = c.guild_id AND mb.user_id = $1)) \
     ORDER BY rs.channel_id";

// Pins.

pub(crate) const PIN_STATE: &str =
    "SELECT pinned_at FROM messages WHERE id = $1 AND channel_id = $2";
pub(crate) const COUNT_PINS: &str =
    "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND pinned_at IS NOT NULL";
pub(crate) const SET_PINNED: &str =
    "UPDATE messages SET pinned_at = $1 WHERE id = $2 AND channel_id = $3";
pub(crate) const UNPIN: &str = "UPDATE messages SET pinned_at = NULL \
     WHERE id = $1 AND channel_id = $2 AND pinned_at IS NOT NULL";
pub(crate) const PINNED: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL \
     ORDER BY m.pinned_at DESC, m.id DESC LIMIT $2"
);
pub(crate) const PINNED_BEFORE: &str = concat!(
    message_select!(),
    " WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL AND m.pinned_at < $2 \
     ORDER BY m.pinned_at DESC, m.id DESC LIMIT $3"
);
pub(crate) const LAST_PIN: &str =
    "SELECT MAX(pinned_at) FROM messages WHERE channel_id = $1 AND pinned_at IS NOT NULL";
/// Serializes pins, webhook creations and reactions of one channel on PostgreSQL
/// (SQLite's single writer already does).
pub(crate) const PG_LOCK_CHANNEL: &str = "SELECT 1 FROM channels WHERE id = $1 FOR NO KEY UPDATE";
/// Serializes sends with the same nonce on PostgreSQL, keyed by a hash.
pub(crate) const PG_NONCE_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

// Reactions.

pub(crate) const EMOJI_PRESENT: &str = "SELECT 1 FROM reactions WHERE channel_id = $1 \
     AND message_id = $2 AND emoji_key = $3 LIMIT 1";
pub(crate) const COUNT_EMOJIS: &str = "SELECT COUNT(DISTINCT emoji_key) FROM reactions \
     WHERE channel_id = $1 AND message_id = $2";
/// `seq` counts up per message, so emojis sort by first use even within one
/// millisecond (the caller serializes writes to a message: SQLite's single
/// writer, PostgreSQL's channel row lock).
pub(crate) const INSERT_REACTION: &str = "INSERT INTO reactions (channel_id, message_id, \
     emoji_key, user_id, emoji_id, emoji_name, animated, seq) \
     SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT), \
     CAST($5 AS BIGINT), CAST($6 AS TEXT), CAST($7 AS BOOLEAN), COALESCE(MAX(seq), 0) + 1 \
     FROM reactions WHERE channel_id = $1 AND message_id = $2 \
     ON CONFLICT DO NOTHING";
pub(crate) const DELETE_REACTION: &str = "DELETE FROM reactions WHERE channel_id = $1 \
     AND message_id = $2 AND emoji_key = $3 AND user_id = $4";
pub(crate) const DELETE_REACTIONS: &str =
    "DELETE FROM reactions WHERE channel_id = $1 AND message_id = $2";
pub(crate) const DELETE_EMOJI_REACTIONS: &str =
    "DELETE FROM reactions WHERE channel_id = $1 AND message_id = $2 AND emoji_key = $3";
pub(crate) const REACTION_USERS: &str = concat!(
    "SELECT ",
    user_summary_columns!(),
    " FROM reactions r JOIN users u ON u.id = r.user_id \
     WHERE r.channel_id = $1 AND r.message_id = $2 AND r.emoji_key = $3 AND r.user_id > $4 \
     ORDER BY r.user_id LIMIT $5"
);
pub(crate) const REACTION_COUNTS: &str = "SELECT message_id, emoji_key, MAX(emoji_id), \
     MAX(emoji_name), CAST(MAX(CASE WHEN animated THEN 1 ELSE 0 END) AS BIGINT), COUNT(*), \
     CAST(MAX(CASE WHEN user_id = $1 THEN 1 ELSE 0 END) AS BIGINT), MIN(seq) \
     FROM reactions WHERE channel_id = $2 AND message_id >= $3 AND message_id <= $4 \
     GROUP BY message_id, emoji_key ORDER BY message_id, MIN(seq), emoji_key";

// Webhooks.

pub(crate) const COUNT_CHANNEL_WEBHOOKS: &str =
    "SELECT COUNT(*) FROM webhooks WHERE channel_id = $1";
pub(crate) const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, guild_id, channel_id, \
     creator_id, name, avatar, token, application_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(crate) const WEBHOOK_BY_ID: &str = concat!(webhook_select!(), " WHERE w.id = $1");
pub(crate) const CHANNEL_WEBHOOKS: &str =
    concat!(webhook_select!(), " WHERE w.channel_id = $1 ORDER BY w.id");
pub(crate) const GUILD_WEBHOOKS: &str =
    concat!(webhook_select!(), " WHERE w.guild_id = $1 ORDER BY w.id");
pub(crate) const WEBHOOK_CHANNEL: &str = "SELECT channel_id FROM webhooks WHERE id = $1";
pub(crate) const UPDATE_WEBHOOK: &str = "UPDATE webhooks SET name = COALESCE($1, name), \
     channel_id = COALESCE($2, channel_id), \
     avatar = CASE WHEN $3 THEN $4 ELSE avatar END WHERE id = $5";
pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = $1";

// Applications.

pub(crate) const INSERT_APPLICATION: &str = concat!(
    "INSERT INTO applications (id, owner_id, name, description, bot_public, verify_key, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
    application_columns!()
);
pub(crate) const APPLICATION_BY_ID: &str = concat!(
    "SELECT ",
    application_columns!(),
    " FROM applications WHERE id = $1"
);
pub(crate) const APPLICATIONS_OF_OWNER: &str = concat!(
    "SELECT ",
    application_columns!(),
    " FROM applications WHERE owner_id = $1 ORDER BY id"
);
pub(crate) const SET_APPLICATION_FLAGS: &str = concat!(
    "UPDATE applications SET flags = $1 WHERE id = $2 RETURNING ",
    application_columns!()
);
pub(crate) const INSERT_BOT_ROLE: &str =
    "INSERT INTO bot_roles (role_id, guild_id, bot_id) VALUES ($1, $2, $3)";
pub(crate) const BOT_ROLE: &str =
    "SELECT role_id FROM bot_roles WHERE guild_id = $1 AND bot_id = $2";
pub(crate) const BOT_ROLES_OF_GUILD: &str =
    "SELECT role_id, bot_id FROM bot_roles WHERE guild_id = $1 ORDER BY role_id";

/// The advisory lock key of a nonce: the same for the same channel, author and nonce.
pub(crate) fn nonce_lock_key(channel: i64, author: i64, nonce: &str) -> i64 {
    let mut bytes = Vec::with_capacity(16 + nonce.len());
    bytes.extend_from_slice(&channel.to_le_bytes());
    bytes.extend_from_slice(&author.to_le_bytes());
    bytes.extend_from_slice(nonce.as_bytes());
    crate::migrations::fnv1a(bytes) as i64
}

/// Every fixed statement, for the parameter-order test.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    INSERT_MESSAGE,
    INSERT_MENTION,
    DELETE_MENTIONS,
    NONCE_MATCH,
    MESSAGE_BY_ID,
    MESSAGE_EXISTS,
    SQLITE_MESSAGES_BY_IDS,
    PG_MESSAGES_BY_IDS,
    PAGE_LATEST,
    PAGE_BEFORE,
    PAGE_AFTER,
    PAGE_FROM,
    LAST_MESSAGE_ID,
    UPDATE_MESSAGE,
    UPDATE_MENTIONS,
    DELETE_MESSAGE,
    MESSAGE_AUTHOR,
    SQLITE_USER_SUMMARIES,
    PG_USER_SUMMARIES,
    ACK_FORWARD,
    ACK_SET,
    READ_POSITION,
    READ_STATES,
    PIN_STATE,
    COUNT_PINS,
    SET_PINNED,
    UNPIN,
    PINNED,
    PINNED_BEFORE,
    LAST_PIN,
    PG_LOCK_CHANNEL,
    PG_NONCE_LOCK,
    EMOJI_PRESENT,
    COUNT_EMOJIS,
    INSERT_REACTION,
    DELETE_REACTION,
    DELETE_REACTIONS,
    DELETE_EMOJI_REACTIONS,
    REACTION_USERS,
    REACTION_COUNTS,
    COUNT_CHANNEL_WEBHOOKS,
    INSERT_WEBHOOK,
    WEBHOOK_BY_ID,
    CHANNEL_WEBHOOKS,
    GUILD_WEBHOOKS,
    WEBHOOK_CHANNEL,
    UPDATE_WEBHOOK,
    DELETE_WEBHOOK,
    INSERT_APPLICATION,
    APPLICATION_BY_ID,
    APPLICATIONS_OF_OWNER,
    SET_APPLICATION_FLAGS,
    INSERT_BOT_ROLE,
    BOT_ROLE,
    BOT_ROLES_OF_GUILD,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statement mentions `$1..$n` in order of first appearance.
    #[test]
    fn parameters_appear_in_order() {
        for sql in ALL {
            let mut next = 1;
            let bytes = sql.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'$' {
                    let digits: String = sql[i + 1..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    let n: usize = digits.parse().expect("a number after $");
                    assert!(n <= next, "{sql}: ${n} appears before ${next}");
                    if n == next {
                        next += 1;
                    }
                    i += digits.len();
                }
                i += 1;
            }
        }
    }

    #[test]
    fn nonce_lock_keys_differ_by_every_part() {
        let k = nonce_lock_key(1, 2, "a");
        assert_eq!(k, nonce_lock_key(1, 2, "a"));
        assert_ne!(k, nonce_lock_key(1, 3, "a"));
        assert_ne!(k, nonce_lock_key(2, 2, "a"));
        assert_ne!(k, nonce_lock_key(1, 2, "b"));
    }
}
