-- Notifications, notification settings, delivery receipts and the gateway
-- presence leases the missed-mention digest reads.
--
-- Same conventions as 0001: snowflake ids in INTEGER, times in INTEGER
-- milliseconds since the Unix epoch (UTC), booleans 0/1, STRICT tables.

-- One notification of one user. A notification about a message is written
-- just before its message (see ARCHITECTURE.md, "Notifications and receipts")
-- and counts only while that message exists: every read joins `messages`.
CREATE TABLE notifications (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 1 mention, 2 reply, 3 direct message, 4 message (all-messages setting),
    -- 5 friend request, 6 friend request accepted.
    kind           INTEGER NOT NULL,
    -- Who caused it (no foreign key: it outlives the account, as messages do).
    actor_id       INTEGER,
    guild_id       INTEGER,
    channel_id     INTEGER,
    message_id     INTEGER,
    read           INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    -- 1 while it waits for the missed-mention digest (unread, not mailed).
    digest_pending INTEGER NOT NULL DEFAULT 0 CHECK (digest_pending IN (0, 1)),
    created_at     INTEGER NOT NULL
) STRICT;

-- The inbox, newest first.
CREATE INDEX notifications_user_id_idx ON notifications (user_id, id);
-- Reading a channel clears its notifications.
CREATE INDEX notifications_channel_idx ON notifications (user_id, channel_id) WHERE read = 0;
-- A message deleted or never written.
CREATE INDEX notifications_message_idx ON notifications (message_id) WHERE message_id IS NOT NULL;
-- The digest worker's scan: only what waits for a mail.
CREATE INDEX notifications_digest_idx ON notifications (user_id, id) WHERE digest_pending = 1;

-- Per-user settings of a guild, or of direct conversations (guild_id 0, "@me").
CREATE TABLE notification_settings (
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    guild_id              INTEGER NOT NULL,
    -- Discord's: 0 all messages, 1 only mentions, 2 nothing, 3 inherit.
    message_notifications INTEGER NOT NULL DEFAULT 3,
    muted                 INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    -- A mute with an end ends by itself: readers compare with the clock.
    mute_end_at           INTEGER,
    mute_window           INTEGER,
    suppress_everyone     INTEGER NOT NULL DEFAULT 0 CHECK (suppress_everyone IN (0, 1)),
    suppress_roles        INTEGER NOT NULL DEFAULT 0 CHECK (suppress_roles IN (0, 1)),
    version               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, guild_id)
) STRICT, WITHOUT ROWID;

-- Who asked for every message of a guild.
CREATE INDEX notification_settings_all_idx ON notification_settings (guild_id) WHERE message_notifications = 0;

-- Per-channel overrides inside a user's guild (or @me) settings.
CREATE TABLE notification_channel_overrides (
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    guild_id              INTEGER NOT NULL,
    channel_id            INTEGER NOT NULL,
    message_notifications INTEGER NOT NULL DEFAULT 3,
    muted                 INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    mute_end_at           INTEGER,
    mute_window           INTEGER,
    PRIMARY KEY (user_id, guild_id, channel_id)
) STRICT, WITHOUT ROWID;

-- Who asked for every message of a channel.
CREATE INDEX notification_overrides_channel_idx ON notification_channel_overrides (channel_id);

-- How far each recipient of a direct conversation has had messages delivered
-- to a live gateway session ("delivered" receipts; "read" comes from
-- read_states).
CREATE TABLE message_deliveries (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;

-- Gateway presence as every node sees it: one lease per user and node, renewed
-- while the user has a session there. A user is online while any lease is live;
-- `last_seen_at` says when the last one ended (a crashed node's lease simply
-- runs out).
CREATE TABLE user_presence_leases (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node         TEXT    NOT NULL,
    live_until   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, node)
) STRICT, WITHOUT ROWID;
