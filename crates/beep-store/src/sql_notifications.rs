//! SQL text of notifications, notification settings, delivery positions and
//! presence leases, shared by both backends (migration 0007 keeps times as
//! milliseconds and flags as 0/1 on both, so almost every statement is the
//! same text).
//!
//! The rule of `sql.rs` holds: each statement mentions `$1`, `$2`, ... in that
//! order, because SQLite numbers parameters by first appearance. A list of ids
//! as one parameter differs: `SQLITE_` statements take a JSON array, `PG_` ones
//! a `BIGINT[]`.

/// Notification columns in the order the decoders read them, limited to
/// notifications whose message (if any) exists.
macro_rules! notification_select {
    () => {
        "SELECT n.id, n.user_id, n.kind, n.actor_id, n.guild_id, n.channel_id, n.message_id, \
         n.read, n.created_at FROM notifications n \
         WHERE (n.message_id IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = n.message_id))"
    };
}

pub(crate) const INSERT_NOTIFICATION: &str = "INSERT INTO notifications (id, user_id, kind, \
     actor_id, guild_id, channel_id, message_id, digest_pending, created_at) \
     SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), \
     CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS BIGINT), \
     CAST($7 AS BIGINT), CAST($8 AS BIGINT), CAST($9 AS BIGINT) WHERE EXISTS (SELECT 1 FROM users WHERE id = $2) \
     ON CONFLICT (id) DO NOTHING";
pub(crate) const DELETE_MESSAGE_NOTIFICATIONS: &str =
    "DELETE FROM notifications WHERE message_id = $1";
pub(crate) const NOTIFICATIONS_PAGE: &str = concat!(
    notification_select!(),
    " AND n.user_id = $1 AND n.id < $2 ORDER BY n.id DESC LIMIT $3"
);
pub(crate) const NOTIFICATION_ONE: &str =
    concat!(notification_select!(), " AND n.user_id = $1 AND n.id = $2");
pub(crate) const MARK_READ: &str = "UPDATE notifications SET read = 1, digest_pending = 0 \
     WHERE user_id = $1 AND id = $2 AND read = 0";
pub(crate) const MARK_ALL_READ: &str = "UPDATE notifications SET read = 1, digest_pending = 0 \
     WHERE user_id = $1 AND id <= $2 AND read = 0";
pub(crate) const MARK_CHANNEL_READ: &str = "UPDATE notifications SET read = 1, \
     digest_pending = 0 WHERE user_id = $1 AND channel_id = $2 AND read = 0 \
     AND message_id <= $3 RETURNING id";
/// Users whose digest is due: waiting notifications (of messages that exist),
/// no live lease at `$1`, and nothing newer than `$2` in either the oldest
/// waiting notification or the last lease's end.
pub(crate) const DIGESTS_DUE: &str = "SELECT n.user_id, MAX(n.id), COUNT(*) \
     FROM notifications n \
     WHERE n.digest_pending = 1 \
     AND (n.message_id IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = n.message_id)) \
     AND NOT EXISTS (SELECT 1 FROM user_presence_leases p \
         WHERE p.user_id = n.user_id AND p.live_until > $1) \
     GROUP BY n.user_id \
     HAVING MIN(n.created_at) <= $2 \
     AND COALESCE((SELECT MAX(p.last_seen_at) FROM user_presence_leases p \
         WHERE p.user_id = n.user_id), 0) <= $2 \
     ORDER BY n.user_id LIMIT $3";
pub(crate) const DIGEST_BATCH: &str = concat!(
    notification_select!(),
    " AND n.user_id = $1 AND n.digest_pending = 1 AND n.id <= $2 ORDER BY n.id LIMIT $3"
);
pub(crate) const MARK_DIGESTED: &str = "UPDATE notifications SET digest_pending = 0 \
     WHERE user_id = $1 AND digest_pending = 1 AND id <= $2";

// Presence leases.

pub(crate) const RENEW_PRESENCE: &str = "INSERT INTO user_presence_leases \
     (user_id, node, live_until, last_seen_at) \
     SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT), CAST($3 AS BIGINT), \
     CAST($4 AS BIGINT) WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) \
     ON CONFLICT (user_id, node) DO UPDATE SET live_until = excluded.live_until, \
     last_seen_at = excluded.last_seen_at";
pub(crate) const END_PRESENCE: &str = "UPDATE user_presence_leases \
     SET live_until = $1, last_seen_at = $1 WHERE user_id = $2 AND node = $3";
pub(crate) const IS_ONLINE: &str =
    "SELECT 1 FROM user_presence_leases WHERE user_id = $1 AND live_until > $2 LIMIT 1";
pub(crate) const SQLITE_ONLINE_AMONG: &str = "SELECT DISTINCT user_id FROM user_presence_leases \
     WHERE user_id IN (SELECT value FROM json_each($1)) AND live_until > $2";
pub(crate) const PG_ONLINE_AMONG: &str = "SELECT DISTINCT user_id FROM user_presence_leases \
     WHERE user_id = ANY($1) AND live_until > $2";

// Settings.

/// Settings columns in the order the decoders read them.
macro_rules! settings_select {
    () => {
        "SELECT user_id, guild_id, message_notifications, muted, mute_end_at, mute_window, \
         suppress_everyone, suppress_roles, version FROM notification_settings"
    };
}
/// Override columns in the order the decoders read them.
macro_rules! override_select {
    () => {
        "SELECT user_id, guild_id, channel_id, message_notifications, muted, mute_end_at, \
         mute_window FROM notification_channel_overrides"
    };
}

pub(crate) const SETTINGS_ONE: &str =
    concat!(settings_select!(), " WHERE user_id = $1 AND guild_id = $2");
pub(crate) const OVERRIDES_ONE: &str = concat!(
    override_select!(),
    " WHERE user_id = $1 AND guild_id = $2 ORDER BY channel_id"
);
pub(crate) const SETTINGS_ALL: &str =
    concat!(settings_select!(), " WHERE user_id = $1 ORDER BY guild_id");
pub(crate) const OVERRIDES_ALL: &str = concat!(
    override_select!(),
    " WHERE user_id = $1 ORDER BY guild_id, channel_id"
);
pub(crate) const PUT_SETTINGS: &str = "INSERT INTO notification_settings (user_id, guild_id, \
     message_notifications, muted, mute_end_at, mute_window, suppress_everyone, suppress_roles, \
     version) SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS BIGINT), \
     CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS BIGINT), CAST($7 AS BIGINT), \
     CAST($8 AS BIGINT), 1 \
     WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) \
     ON CONFLICT (user_id, guild_id) DO UPDATE SET \
     message_notifications = excluded.message_notifications, muted = excluded.muted, \
     mute_end_at = excluded.mute_end_at, mute_window = excluded.mute_window, \
     suppress_everyone = excluded.suppress_everyone, suppress_roles = excluded.suppress_roles, \
     version = notification_settings.version + 1";
pub(crate) const DELETE_OVERRIDES: &str =
    "DELETE FROM notification_channel_overrides WHERE user_id = $1 AND guild_id = $2";
pub(crate) const INSERT_OVERRIDE: &str = "INSERT INTO notification_channel_overrides \
     (user_id, guild_id, channel_id, message_notifications, muted, mute_end_at, mute_window) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const SQLITE_SETTINGS_OF: &str = concat!(
    settings_select!(),
    " WHERE guild_id = $1 AND user_id IN (SELECT value FROM json_each($2))"
);
pub(crate) const PG_SETTINGS_OF: &str = concat!(
    settings_select!(),
    " WHERE guild_id = $1 AND user_id = ANY($2)"
);
pub(crate) const SQLITE_OVERRIDES_OF: &str = concat!(
    override_select!(),
    " WHERE guild_id = $1 AND user_id IN (SELECT value FROM json_each($2)) ORDER BY channel_id"
);
pub(crate) const PG_OVERRIDES_OF: &str = concat!(
    override_select!(),
    " WHERE guild_id = $1 AND user_id = ANY($2) ORDER BY channel_id"
);
pub(crate) const USERS_WANTING_ALL: &str = "SELECT user_id FROM notification_settings \
     WHERE guild_id = $1 AND message_notifications = 0 \
     UNION SELECT user_id FROM notification_channel_overrides \
     WHERE channel_id = $2 AND message_notifications = 0 \
     ORDER BY user_id LIMIT $3";

// Delivery positions.

pub(crate) const MARK_DELIVERED: &str = "INSERT INTO message_deliveries \
     (channel_id, user_id, message_id) \
     SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS BIGINT) \
     WHERE EXISTS (SELECT 1 FROM users WHERE id = $2) \
     AND EXISTS (SELECT 1 FROM channels WHERE id = $1) \
     ON CONFLICT (channel_id, user_id) DO UPDATE SET message_id = excluded.message_id \
     WHERE message_deliveries.message_id < excluded.message_id";
pub(crate) const RECEIPT_POSITION: &str = "SELECT \
     (SELECT message_id FROM message_deliveries WHERE channel_id = $1 AND user_id = $2), \
     (SELECT last_message_id FROM read_states WHERE channel_id = $1 AND user_id = $2)";

/// Every statement, for the parameter-order test.
#[cfg(test)]
const ALL: &[&str] = &[
    INSERT_NOTIFICATION,
    DELETE_MESSAGE_NOTIFICATIONS,
    NOTIFICATIONS_PAGE,
    NOTIFICATION_ONE,
    MARK_READ,
    MARK_ALL_READ,
    MARK_CHANNEL_READ,
    DIGESTS_DUE,
    DIGEST_BATCH,
    MARK_DIGESTED,
    RENEW_PRESENCE,
    END_PRESENCE,
    IS_ONLINE,
    SQLITE_ONLINE_AMONG,
    PG_ONLINE_AMONG,
    SETTINGS_ONE,
    OVERRIDES_ONE,
    SETTINGS_ALL,
    OVERRIDES_ALL,
    PUT_SETTINGS,
    DELETE_OVERRIDES,
    INSERT_OVERRIDE,
    SQLITE_SETTINGS_OF,
    PG_SETTINGS_OF,
    SQLITE_OVERRIDES_OF,
    PG_OVERRIDES_OF,
    USERS_WANTING_ALL,
    MARK_DELIVERED,
    RECEIPT_POSITION,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn parameters_appear_in_order() {
        for sql in ALL {
            let mut next = 1usize;
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
}
