//! SQL text of the guild tables (guilds, roles, channels, overwrites, members,
//! bans, invites, audit log), shared by both backends where the dialects agree.
//!
//! The rule of `sql.rs` holds: each statement mentions `$1`, `$2`, ... in that
//! order, because SQLite numbers parameters by first appearance. Where the
//! dialects differ (full-text search, row locks) the two variants sit side by
//! side with `SQLITE_` and `PG_` prefixes.

use chrono::{DateTime, Utc};

use crate::guilds::{ChannelPatch, GuildPatch, MemberPatch, RolePatch, nick_key};

/// The columns of `guilds`, in the order the row decoders read them.
macro_rules! guild_columns {
    () => {
        "id, name, icon, banner, splash, description, owner_id, public, afk_channel_id, \
         afk_timeout, system_channel_id, system_channel_flags, verification_level, \
         default_message_notifications, explicit_content_filter, preferred_locale, created_at"
    };
}

/// [`guild_columns!`] qualified with the alias `g`, for joins.
macro_rules! g_guild_columns {
    () => {
        "g.id, g.name, g.icon, g.banner, g.splash, g.description, g.owner_id, g.public, \
         g.afk_channel_id, g.afk_timeout, g.system_channel_id, g.system_channel_flags, \
         g.verification_level, g.default_message_notifications, g.explicit_content_filter, \
         g.preferred_locale, g.created_at"
    };
}

/// The columns of `roles`.
macro_rules! role_columns {
    () => {
        "id, guild_id, name, color, hoist, mentionable, permissions, position, icon, unicode_emoji"
    };
}

/// The columns of `channels` (overwrites are read apart).
macro_rules! channel_columns {
    () => {
        "id, guild_id, kind, name, topic, position, parent_id, nsfw, rate_limit_per_user, \
         bitrate, user_limit, rtc_region, created_at"
    };
}

/// The columns of `channel_overwrites`.
macro_rules! overwrite_columns {
    () => {
        "channel_id, target_id, kind, allow, deny"
    };
}

/// A member with its user and its role ids (comma-separated).
macro_rules! member_select {
    () => {
        "SELECT m.guild_id, m.user_id, u.username, u.global_name, u.avatar, u.banner, u.bot, \
         u.system, u.flags, m.nick, \
         (SELECT string_agg(CAST(r.role_id AS TEXT), ',') FROM member_roles r \
          WHERE r.guild_id = m.guild_id AND r.user_id = m.user_id) AS roles, \
         m.joined_at, m.deaf, m.mute, m.flags, m.temporary, m.communication_disabled_until \
         FROM members m JOIN users u ON u.id = m.user_id"
    };
}

/// A ban with its user.
macro_rules! ban_select {
    () => {
        "SELECT b.guild_id, b.user_id, u.username, u.global_name, u.avatar, u.banner, u.bot, \
         u.system, u.flags, b.reason, b.moderator_id, b.delete_message_seconds, b.created_at \
         FROM bans b JOIN users u ON u.id = b.user_id"
    };
}

/// An invite with its inviter (if the account still exists).
macro_rules! invite_select {
    () => {
        "SELECT i.code, i.guild_id, i.channel_id, i.inviter_id, u.username, u.global_name, \
         u.avatar, u.banner, u.bot, u.system, u.flags, i.max_age, i.max_uses, i.uses, \
         i.temporary, i.created_at, i.expires_at \
         FROM invites i LEFT JOIN users u ON u.id = i.inviter_id"
    };
}

/// The columns of `audit_log`.
macro_rules! audit_columns {
    () => {
        "id, guild_id, user_id, action_type, target_id, changes, options, reason"
    };
}

// Guilds.

pub(crate) const INSERT_GUILD: &str = concat!(
    "INSERT INTO guilds (id, name, icon, description, owner_id, creator_id, public, \
     preferred_locale, system_channel_id, verification_level, default_message_notifications, \
     explicit_content_filter, created_at) \
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ",
    guild_columns!()
);
pub(crate) const GUILD_BY_ID: &str =
    concat!("SELECT ", guild_columns!(), " FROM guilds WHERE id = $1");
pub(crate) const GUILD_EXISTS: &str = "SELECT 1 FROM guilds WHERE id = $1";
pub(crate) const COUNT_OWNED_GUILDS: &str = "SELECT COUNT(*) FROM guilds WHERE owner_id = $1";
pub(crate) const COUNT_JOINED_GUILDS: &str = "SELECT COUNT(*) FROM members WHERE user_id = $1";
/// Guilds a user created since a time: how many, and when the oldest was.
pub(crate) const RECENT_CREATIONS: &str =
    "SELECT COUNT(*), MIN(created_at) FROM guilds WHERE creator_id = $1 AND created_at > $2";
pub(crate) const DELETE_GUILD: &str = "DELETE FROM guilds WHERE id = $1";
pub(crate) const GUILDS_OF_USER: &str = concat!(
    "SELECT ",
    guild_columns!(),
    " FROM guilds WHERE id IN (SELECT guild_id FROM members WHERE user_id = $1) \
     AND id > $2 AND id < $3 ORDER BY id LIMIT $4"
);
pub(crate) const MEMBER_COUNTS_OF_USER: &str = "SELECT m.guild_id, COUNT(*) FROM members m \
     WHERE m.guild_id IN (SELECT guild_id FROM members WHERE user_id = $1) GROUP BY m.guild_id";
pub(crate) const MEMBER_COUNT: &str = "SELECT COUNT(*) FROM members WHERE guild_id = $1";
pub(crate) const IS_MEMBER: &str = "SELECT 1 FROM members WHERE guild_id = $1 AND user_id = $2";
pub(crate) const IS_BANNED: &str = "SELECT 1 FROM bans WHERE guild_id = $1 AND user_id = $2";
pub(crate) const USER_EXISTS: &str = "SELECT 1 FROM users WHERE id = $1";

/// Every public guild, the larger first (a discovery query without words).
pub(crate) const DISCOVER_ALL: &str = concat!(
    "SELECT ",
    g_guild_columns!(),
    ", (SELECT COUNT(*) FROM members m WHERE m.guild_id = g.id) AS member_count \
     FROM guilds g WHERE g.public = TRUE ORDER BY member_count DESC, g.id LIMIT $1 OFFSET $2"
);
pub(crate) const DISCOVER_ALL_COUNT: &str = "SELECT COUNT(*) FROM guilds WHERE public = TRUE";
/// SQLite: bm25 over the four columns, the name weighted 10, the description 1.
pub(crate) const SQLITE_DISCOVER: &str = concat!(
    "SELECT ",
    g_guild_columns!(),
    ", (SELECT COUNT(*) FROM members m WHERE m.guild_id = g.id) AS member_count \
     FROM guild_search JOIN guilds g ON g.id = guild_search.rowid \
     WHERE guild_search MATCH $1 AND g.public = TRUE \
     ORDER BY bm25(guild_search, 10.0, 10.0, 1.0, 1.0), member_count DESC, g.id \
     LIMIT $2 OFFSET $3"
);
pub(crate) const SQLITE_DISCOVER_COUNT: &str = "SELECT COUNT(*) FROM guild_search \
     JOIN guilds g ON g.id = guild_search.rowid WHERE guild_search MATCH $1 AND g.public = TRUE";
/// PostgreSQL: `ts_rank` over the `discovery` tsvector (name A, description B).
pub(crate) const PG_DISCOVER: &str = concat!(
    "SELECT ",
    g_guild_columns!(),
    ", (SELECT COUNT(*) FROM members m WHERE m.guild_id = g.id) AS member_count \
     FROM guilds g, (SELECT CAST($1 AS TEXT)::tsquery AS q) q \
     WHERE g.public = TRUE AND g.discovery @@ q.q \
     ORDER BY ts_rank(g.discovery, q.q) DESC, member_count DESC, g.id LIMIT $2 OFFSET $3"
);
pub(crate) const PG_DISCOVER_COUNT: &str = "SELECT COUNT(*) FROM guilds g \
     WHERE g.public = TRUE AND g.discovery @@ CAST($1 AS TEXT)::tsquery";

/// PostgreSQL: serialize writes that check a user's guild counts.
pub(crate) const PG_LOCK_USER: &str = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE";
/// PostgreSQL: serialize writes that check or renumber a guild's rows.
pub(crate) const PG_LOCK_GUILD: &str = "SELECT 1 FROM guilds WHERE id = $1 FOR NO KEY UPDATE";

// Roles.

pub(crate) const INSERT_ROLE: &str = concat!(
    "INSERT INTO roles (id, guild_id, name, color, hoist, mentionable, permissions, position, \
     icon, unicode_emoji) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
    role_columns!()
);
pub(crate) const ROLE_BY_ID: &str = concat!(
    "SELECT ",
    role_columns!(),
    " FROM roles WHERE guild_id = $1 AND id = $2"
);
pub(crate) const ROLES_OF_GUILD: &str = concat!(
    "SELECT ",
    role_columns!(),
    " FROM roles WHERE guild_id = $1 ORDER BY position, id"
);
/// Roles of a guild besides `@everyone` (whose id is the guild's).
pub(crate) const COUNT_ROLES: &str = "SELECT COUNT(*) FROM roles WHERE guild_id = $1 AND id <> $1";
pub(crate) const ROLE_IDS: &str = "SELECT id FROM roles WHERE guild_id = $1 AND id <> $1";
pub(crate) const SHIFT_ROLES_UP: &str =
    "UPDATE roles SET position = position + 1 WHERE guild_id = $1 AND id <> $1";
pub(crate) const SET_ROLE_POSITION: &str =
    "UPDATE roles SET position = $1 WHERE guild_id = $2 AND id = $3";
pub(crate) const DELETE_ROLE: &str = concat!(
    "DELETE FROM roles WHERE guild_id = $1 AND id = $2 AND id <> $1 RETURNING ",
    role_columns!()
);
pub(crate) const CLOSE_ROLE_GAP: &str =
    "UPDATE roles SET position = position - 1 WHERE guild_id = $1 AND position > $2";
pub(crate) const DELETE_ROLE_OVERWRITES: &str = "DELETE FROM channel_overwrites \
     WHERE target_id = $1 AND kind = 0 AND channel_id IN (SELECT id FROM channels WHERE guild_id = $2)";
pub(crate) const ROLE_IN_GUILD: &str =
    "SELECT 1 FROM roles WHERE guild_id = $1 AND id = $2 AND id <> $1";

// Audit log.

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (id, guild_id, user_id, action_type, \
     target_id, changes, options, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Newest first, before `$4` and after `$5`.
pub(crate) const AUDIT_LOG_DESC: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_log WHERE guild_id = $1 \
     AND (CAST($2 AS BIGINT) IS NULL OR user_id = $2) \
     AND (CAST($3 AS BIGINT) IS NULL OR action_type = $3) \
     AND id < $4 AND id > $5 ORDER BY id DESC LIMIT $6"
);
/// Oldest first, for paging forward with `after`; the caller reverses the page.
pub(crate) const AUDIT_LOG_ASC: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_log WHERE guild_id = $1 \
     AND (CAST($2 AS BIGINT) IS NULL OR user_id = $2) \
     AND (CAST($3 AS BIGINT) IS NULL OR action_type = $3) \
     AND id < $4 AND id > $5 ORDER BY id ASC LIMIT $6"
);

// Channels.

pub(crate) const INSERT_CHANNEL: &str = concat!(
    "INSERT INTO channels (id, guild_id, kind, name, topic, position, parent_id, nsfw, \
     rate_limit_per_user, bitrate, user_limit, rtc_region, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ",
    channel_columns!()
);
pub(crate) const CHANNEL_BY_ID: &str = concat!(
    "SELECT ",
    channel_columns!(),
    " FROM channels WHERE id = $1 AND guild_id IS NOT NULL"
);
pub(crate) const CHANNEL_IN_GUILD: &str = concat!(
    "SELECT ",
    channel_columns!(),
    " FROM channels WHERE guild_id = $1 AND id = $2"
);
pub(crate) const CHANNELS_OF_GUILD: &str = concat!(
    "SELECT ",
    channel_columns!(),
    " FROM channels WHERE guild_id = $1 ORDER BY position, id"
);
pub(crate) const COUNT_CHANNELS: &str = "SELECT COUNT(*) FROM channels WHERE guild_id = $1";
pub(crate) const LAYOUT_VERSION: &str = "SELECT channels_version FROM guilds WHERE id = $1";
/// Compare-and-set of the layout version; on PostgreSQL it also locks the guild
/// row, so structural writes to one guild run one at a time.
pub(crate) const BUMP_LAYOUT: &str = "UPDATE guilds SET channels_version = channels_version + 1 \
     WHERE id = $1 AND channels_version = $2";
pub(crate) const MOVE_CHANNEL: &str = concat!(
    "UPDATE channels SET position = $1, parent_id = $2 WHERE guild_id = $3 AND id = $4 RETURNING ",
    channel_columns!()
);
pub(crate) const DELETE_CHANNEL: &str = "DELETE FROM channels WHERE guild_id = $1 AND id = $2";
pub(crate) const CLEAR_CHANNEL_REFS: &str = "UPDATE guilds SET \
     system_channel_id = CASE WHEN system_channel_id = $1 THEN NULL ELSE system_channel_id END, \
     afk_channel_id = CASE WHEN afk_channel_id = $1 THEN NULL ELSE afk_channel_id END \
     WHERE id = $2";
pub(crate) const UPSERT_OVERWRITE: &str = "INSERT INTO channel_overwrites \
     (channel_id, target_id, kind, allow, deny) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (channel_id, target_id) DO UPDATE SET kind = excluded.kind, \
     allow = excluded.allow, deny = excluded.deny";
pub(crate) const OVERWRITES_OF_CHANNEL: &str = concat!(
    "SELECT ",
    overwrite_columns!(),
    " FROM channel_overwrites WHERE channel_id = $1 ORDER BY target_id"
);
pub(crate) const OVERWRITES_OF_GUILD: &str = "SELECT o.channel_id, o.target_id, o.kind, o.allow, \
     o.deny FROM channel_overwrites o JOIN channels c ON c.id = o.channel_id \
     WHERE c.guild_id = $1 ORDER BY o.channel_id, o.target_id";
pub(crate) const OVERWRITE: &str = concat!(
    "SELECT ",
    overwrite_columns!(),
    " FROM channel_overwrites WHERE channel_id = $1 AND target_id = $2"
);
pub(crate) const DELETE_OVERWRITES_OF_CHANNEL: &str =
    "DELETE FROM channel_overwrites WHERE channel_id = $1";
pub(crate) const DELETE_OVERWRITE: &str =
    "DELETE FROM channel_overwrites WHERE channel_id = $1 AND target_id = $2";

// Members.

pub(crate) const INSERT_MEMBER: &str =
    "INSERT INTO members (guild_id, user_id, joined_at, temporary) VALUES ($1, $2, $3, $4)";
pub(crate) const MEMBER: &str = concat!(
    member_select!(),
    " WHERE m.guild_id = $1 AND m.user_id = $2"
);
pub(crate) const MEMBERS: &str = concat!(
    member_select!(),
    " WHERE m.guild_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
);
pub(crate) const SEARCH_MEMBERS: &str = concat!(
    member_select!(),
    " WHERE m.guild_id = $1 AND (u.username_fold LIKE $2 ESCAPE '\\' \
     OR u.global_name_fold LIKE $2 ESCAPE '\\' OR m.nick_key LIKE $2 ESCAPE '\\') \
     ORDER BY CASE WHEN u.username_fold = $3 OR u.global_name_fold = $3 OR m.nick_key = $3 \
     THEN 0 WHEN u.username_fold LIKE $2 ESCAPE '\\' THEN 1 ELSE 2 END, u.username_fold, m.user_id \
     LIMIT $4"
);
pub(crate) const DELETE_MEMBER_ROLES: &str =
    "DELETE FROM member_roles WHERE guild_id = $1 AND user_id = $2";
/// Give a role only if it is a role of the guild and not `@everyone`.
pub(crate) const ADD_MEMBER_ROLE: &str = "INSERT INTO member_roles (guild_id, user_id, role_id) \
     SELECT $1, CAST($2 AS BIGINT), id FROM roles WHERE guild_id = $1 AND id = $3 AND id <> $1 \
     ON CONFLICT DO NOTHING";
pub(crate) const REMOVE_MEMBER_ROLE: &str =
    "DELETE FROM member_roles WHERE guild_id = $1 AND user_id = $2 AND role_id = $3";
pub(crate) const DELETE_MEMBER: &str = "DELETE FROM members WHERE guild_id = $1 AND user_id = $2";

// Bans.

pub(crate) const UPSERT_BAN: &str = "INSERT INTO bans (guild_id, user_id, reason, moderator_id, \
     delete_message_seconds, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, \
     moderator_id = excluded.moderator_id, \
     delete_message_seconds = excluded.delete_message_seconds, created_at = excluded.created_at";
pub(crate) const BAN: &str = concat!(ban_select!(), " WHERE b.guild_id = $1 AND b.user_id = $2");
pub(crate) const BANS_AFTER: &str = concat!(
    ban_select!(),
    " WHERE b.guild_id = $1 AND b.user_id > $2 ORDER BY b.user_id LIMIT $3"
);
/// Newest user ids first, for paging backwards; the caller reverses the page.
pub(crate) const BANS_BEFORE: &str = concat!(
    ban_select!(),
    " WHERE b.guild_id = $1 AND b.user_id < $2 ORDER BY b.user_id DESC LIMIT $3"
);
pub(crate) const DELETE_BAN: &str = "DELETE FROM bans WHERE guild_id = $1 AND user_id = $2";

// Invites.

pub(crate) const INSERT_INVITE: &str = "INSERT INTO invites (code, guild_id, channel_id, \
     inviter_id, max_age, max_uses, temporary, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(crate) const INVITE: &str = concat!(invite_select!(), " WHERE i.code = $1");
pub(crate) const GUILD_INVITES: &str = concat!(
    invite_select!(),
    " WHERE i.guild_id = $1 AND (i.expires_at IS NULL OR i.expires_at > $2) \
     ORDER BY i.created_at, i.code"
);
pub(crate) const CHANNEL_INVITES: &str = concat!(
    invite_select!(),
    " WHERE i.channel_id = $1 AND (i.expires_at IS NULL OR i.expires_at > $2) \
     ORDER BY i.created_at, i.code"
);
/// A live invite with the same settings, for non-unique creation.
pub(crate) const REUSABLE_INVITE: &str = "SELECT code FROM invites WHERE channel_id = $1 \
     AND inviter_id = $2 AND max_age = $3 AND max_uses = $4 AND temporary = $5 \
     AND (max_uses = 0 OR uses < max_uses) AND (expires_at IS NULL OR expires_at > $6) \
     ORDER BY created_at DESC LIMIT 1";
pub(crate) const PURGE_EXPIRED_INVITES: &str =
    "DELETE FROM invites WHERE guild_id = $1 AND expires_at <= $2";
pub(crate) const COUNT_CHANNEL_INVITES: &str = "SELECT COUNT(*) FROM invites WHERE channel_id = $1";
pub(crate) const COUNT_GUILD_INVITES: &str = "SELECT COUNT(*) FROM invites WHERE guild_id = $1";
/// Count one use of an invite that is still live at `$2`; returns the new count,
/// or no row when it is gone. Atomic: PostgreSQL re-checks the condition on the
/// locked row, SQLite has one writer.
pub(crate) const USE_INVITE: &str = "UPDATE invites SET uses = uses + 1 WHERE code = $1 \
     AND (max_uses = 0 OR uses < max_uses) AND (expires_at IS NULL OR expires_at > $2) \
     RETURNING uses";
pub(crate) const DELETE_INVITE: &str = "DELETE FROM invites WHERE code = $1";

/// Every fixed statement both backends run, for the parameter-order test.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    INSERT_GUILD,
    GUILD_BY_ID,
    GUILD_EXISTS,
    COUNT_OWNED_GUILDS,
    COUNT_JOINED_GUILDS,
    RECENT_CREATIONS,
    DELETE_GUILD,
    GUILDS_OF_USER,
    MEMBER_COUNTS_OF_USER,
    MEMBER_COUNT,
    IS_MEMBER,
    IS_BANNED,
    USER_EXISTS,
    DISCOVER_ALL,
    DISCOVER_ALL_COUNT,
    SQLITE_DISCOVER,
    SQLITE_DISCOVER_COUNT,
    INSERT_ROLE,
    ROLE_BY_ID,
    ROLES_OF_GUILD,
    COUNT_ROLES,
    ROLE_IDS,
    SHIFT_ROLES_UP,
    SET_ROLE_POSITION,
    DELETE_ROLE,
    CLOSE_ROLE_GAP,
    DELETE_ROLE_OVERWRITES,
    ROLE_IN_GUILD,
    INSERT_AUDIT,
    AUDIT_LOG_DESC,
    AUDIT_LOG_ASC,
    INSERT_CHANNEL,
    CHANNEL_BY_ID,
    CHANNEL_IN_GUILD,
    CHANNELS_OF_GUILD,
    COUNT_CHANNELS,
    LAYOUT_VERSION,
    BUMP_LAYOUT,
    MOVE_CHANNEL,
    DELETE_CHANNEL,
    CLEAR_CHANNEL_REFS,
    UPSERT_OVERWRITE,
    OVERWRITES_OF_CHANNEL,
    OVERWRITES_OF_GUILD,
    OVERWRITE,
    DELETE_OVERWRITES_OF_CHANNEL,
    DELETE_OVERWRITE,
    INSERT_MEMBER,
    MEMBER,
    MEMBERS,
    SEARCH_MEMBERS,
    DELETE_MEMBER_ROLES,
    ADD_MEMBER_ROLE,
    REMOVE_MEMBER_ROLE,
    DELETE_MEMBER,
    UPSERT_BAN,
    BAN,
    BANS_AFTER,
    BANS_BEFORE,
    DELETE_BAN,
    INSERT_INVITE,
    INVITE,
    GUILD_INVITES,
    CHANNEL_INVITES,
    REUSABLE_INVITE,
    PURGE_EXPIRED_INVITES,
    COUNT_CHANNEL_INVITES,
    COUNT_GUILD_INVITES,
    USE_INVITE,
    DELETE_INVITE,
];

/// A value bound into a dynamically built statement; each backend converts it to
/// its driver's type (times: INTEGER milliseconds on SQLite, TIMESTAMPTZ on
/// PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
    Time(Option<DateTime<Utc>>),
}

/// An `UPDATE ... WHERE <keys> [RETURNING ...]` built from a patch; `values` bind
/// `$1..$n`, the keys last.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Update {
    pub sql: String,
    pub values: Vec<Bind>,
}

/// Build an update of `table` setting `sets` where every key column equals its
/// value; `None` when there is nothing to set. Columns always come in the same
/// order for the same fields, so the prepared-statement caches stay small.
fn update(
    table: &str,
    sets: Vec<(&'static str, Bind)>,
    keys: &[(&'static str, i64)],
    returning: &str,
) -> Option<Update> {
    if sets.is_empty() {
        return None;
    }
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let assignments: Vec<String> = sets
        .iter()
        .map(|(column, _)| format!("{column} = ${}", next()))
        .collect();
    let conditions: Vec<String> = keys
        .iter()
        .map(|(column, _)| format!("{column} = ${}", next()))
        .collect();
    let mut sql = format!(
        "UPDATE {table} SET {} WHERE {}",
        assignments.join(", "),
        conditions.join(" AND ")
    );
    if !returning.is_empty() {
        sql.push_str(" RETURNING ");
        sql.push_str(returning);
    }
    let mut values: Vec<Bind> = sets.into_iter().map(|(_, v)| v).collect();
    values.extend(keys.iter().map(|(_, v)| Bind::Int(Some(*v))));
    Some(Update { sql, values })
}

/// The update of guild `id` by `patch`, returning the guild.
pub(crate) fn guild_update(id: i64, patch: &GuildPatch) -> Option<Update> {
    let mut sets: Vec<(&'static str, Bind)> = Vec::new();
    if let Some(v) = &patch.name {
        sets.push(("name", Bind::Text(Some(v.clone()))));
    }
    for (column, value) in [
        ("icon", &patch.icon),
        ("banner", &patch.banner),
        ("splash", &patch.splash),
        ("description", &patch.description),
    ] {
        if let Some(v) = value {
            sets.push((column, Bind::Text(v.clone())));
        }
    }
    if let Some(v) = patch.owner_id {
        sets.push(("owner_id", Bind::Int(Some(v.as_i64()))));
    }
    if let Some(v) = patch.public {
        sets.push(("public", Bind::Bool(v)));
    }
    for (column, value) in [
        ("afk_channel_id", &patch.afk_channel_id),
        ("system_channel_id", &patch.system_channel_id),
    ] {
        if let Some(v) = value {
            sets.push((column, Bind::Int(v.map(|c| c.as_i64()))));
        }
    }
    for (column, value) in [
        ("afk_timeout", patch.afk_timeout),
        ("system_channel_flags", patch.system_channel_flags),
        ("verification_level", patch.verification_level),
        (
            "default_message_notifications",
            patch.default_message_notifications,
        ),
        ("explicit_content_filter", patch.explicit_content_filter),
    ] {
        if let Some(v) = value {
            sets.push((column, Bind::Int(Some(v))));
        }
    }
    if let Some(v) = &patch.preferred_locale {
        sets.push(("preferred_locale", Bind::Text(Some(v.clone()))));
    }
    update("guilds", sets, &[("id", id)], guild_columns!())
}

/// The update of role `role` of guild `guild` by `patch`, returning the role.
pub(crate) fn role_update(guild: i64, role: i64, patch: &RolePatch) -> Option<Update> {
    let mut sets: Vec<(&'static str, Bind)> = Vec::new();
    if let Some(v) = &patch.name {
        sets.push(("name", Bind::Text(Some(v.clone()))));
    }
    if let Some(v) = patch.color {
        sets.push(("color", Bind::Int(Some(v))));
    }
    if let Some(v) = patch.hoist {
        sets.push(("hoist", Bind::Bool(v)));
    }
    if let Some(v) = patch.mentionable {
        sets.push(("mentionable", Bind::Bool(v)));
    }
    if let Some(v) = patch.permissions {
        sets.push((
            "permissions",
            Bind::Int(Some(crate::guilds::permissions_i64(v))),
        ));
    }
    for (column, value) in [
        ("icon", &patch.icon),
        ("unicode_emoji", &patch.unicode_emoji),
    ] {
        if let Some(v) = value {
            sets.push((column, Bind::Text(v.clone())));
        }
    }
    update(
        "roles",
        sets,
        &[("guild_id", guild), ("id", role)],
        role_columns!(),
    )
}

/// The update of channel `id` of guild `guild` by `patch` (overwrites apart),
/// returning the channel.
pub(crate) fn channel_update(guild: i64, id: i64, patch: &ChannelPatch) -> Option<Update> {
    let mut sets: Vec<(&'static str, Bind)> = Vec::new();
    if let Some(v) = &patch.name {
        sets.push(("name", Bind::Text(Some(v.clone()))));
    }
    if let Some(v) = &patch.topic {
        sets.push(("topic", Bind::Text(v.clone())));
    }
    if let Some(v) = patch.nsfw {
        sets.push(("nsfw", Bind::Bool(v)));
    }
    for (column, value) in [
        ("rate_limit_per_user", patch.rate_limit_per_user),
        ("bitrate", patch.bitrate),
        ("user_limit", patch.user_limit),
        ("position", patch.position),
    ] {
        if let Some(v) = value {
            sets.push((column, Bind::Int(Some(v))));
        }
    }
    if let Some(v) = &patch.rtc_region {
        sets.push(("rtc_region", Bind::Text(v.clone())));
    }
    if let Some(v) = patch.parent_id {
        sets.push(("parent_id", Bind::Int(v.map(|c| c.as_i64()))));
    }
    update(
        "channels",
        sets,
        &[("guild_id", guild), ("id", id)],
        channel_columns!(),
    )
}

/// The update of member `user` of guild `guild` by `patch` (roles apart).
pub(crate) fn member_update(guild: i64, user: i64, patch: &MemberPatch) -> Option<Update> {
    let mut sets: Vec<(&'static str, Bind)> = Vec::new();
    if let Some(v) = &patch.nick {
        sets.push(("nick", Bind::Text(v.clone())));
        sets.push(("nick_key", Bind::Text(nick_key(v.as_deref()))));
    }
    if let Some(v) = patch.mute {
        sets.push(("mute", Bind::Bool(v)));
    }
    if let Some(v) = patch.deaf {
        sets.push(("deaf", Bind::Bool(v)));
    }
    if let Some(v) = patch.communication_disabled_until {
        sets.push(("communication_disabled_until", Bind::Time(v)));
    }
    update(
        "members",
        sets,
        &[("guild_id", guild), ("user_id", user)],
        "",
    )
}

#[cfg(test)]
mod tests {
    use beep_types::UserId;

    use super::*;

    #[test]
    fn updates_number_parameters_in_order_with_keys_last() {
        let patch = GuildPatch {
            name: Some("x".into()),
            description: Some(None),
            owner_id: Some(UserId::from_i64(5)),
            ..GuildPatch::default()
        };
        let u = guild_update(9, &patch).expect("non-empty");
        assert!(
            u.sql.starts_with(
                "UPDATE guilds SET name = $1, description = $2, owner_id = $3 WHERE id = $4 RETURNING id,"
            ),
            "{}",
            u.sql
        );
        assert_eq!(u.values.len(), 4);
        assert_eq!(u.values[3], Bind::Int(Some(9)));
        assert!(guild_update(1, &GuildPatch::default()).is_none());

        let m = member_update(
            1,
            2,
            &MemberPatch {
                nick: Some(Some("Bob".into())),
                ..MemberPatch::default()
            },
        )
        .expect("non-empty");
        assert_eq!(
            m.sql,
            "UPDATE members SET nick = $1, nick_key = $2 WHERE guild_id = $3 AND user_id = $4"
        );
        assert_eq!(m.values[1], Bind::Text(Some("bob".into())));
    }
}
