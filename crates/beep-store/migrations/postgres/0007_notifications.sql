-- Notifications, notification settings, delivery receipts and the gateway
-- presence leases the missed-mention digest reads.
--
-- Snowflake ids in BIGINT; times in BIGINT milliseconds since the Unix
-- epoch and flags as 0/1 BIGINTs (unlike 0001), so both backends share this SQL.

-- One notification of one user. A notification about a message is written
-- just before its message (see ARCHITECTURE.md, "Notifications and receipts")
-- and counts only while that message exists: every read joins `messages`.
CREATE TABLE notifications (
    id             BIGINT PRIMARY KEY,
    user_id        BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 1 mention, 2 reply, 3 direct message, 4 message (all-messages setting),
    -- 5 friend request, 6 friend request accepted.
    kind           BIGINT  NOT NULL,
    -- Who caused it (no foreign key: it outlives the account, as messages do).
    actor_id       BIGINT,
    guild_id       BIGINT,
    channel_id     BIGINT,
    message_id     BIGINT,
    read           BIGINT  NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    -- 1 while it waits for the missed-mention digest (unread, not mailed).
    digest_pending BIGINT  NOT NULL DEFAULT 0 CHECK (digest_pending IN (0, 1)),
    created_at     BIGINT  NOT NULL
);

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
    user_id               BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    guild_id              BIGINT  NOT NULL,
    -- Discord's: 0 all messages, 1 only mentions, 2 nothing, 3 inherit.
    message_notifications BIGINT  NOT NULL DEFAULT 3,
    muted                 BIGINT  NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    -- A mute with an end ends by itself: readers compare with the clock.
    mute_end_at           BIGINT,
    mute_window           BIGINT,
    suppress_everyone     BIGINT  NOT NULL DEFAULT 0 CHECK (suppress_everyone IN (0, 1)),
    suppress_roles        BIGINT  NOT NULL DEFAULT 0 CHECK (suppress_roles IN (0, 1)),
    version               BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, guild_id)
);

-- Who asked for every message of a guild.
CREATE INDEX notification_settings_all_idx ON notification_settings (guild_id) WHERE message_notifications = 0;

-- Per-channel overrides inside a user's guild (or @me) settings.
CREATE TABLE notification_channel_overrides (
    user_id               BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    guild_id              BIGINT  NOT NULL,
    channel_id            BIGINT  NOT NULL,
    message_notifications BIGINT  NOT NULL DEFAULT 3,
    muted                 BIGINT  NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    mute_end_at           BIGINT,
    mute_window           BIGINT,
    PRIMARY KEY (user_id, guild_id, channel_id)
);

-- Who asked for every message of a channel.
CREATE INDEX notification_overrides_channel_idx ON notification_channel_overrides (channel_id);

-- How far each recipient of a direct conversation has had messages delivered
-- to a live gateway session ("delivered" receipts; "read" comes from
-- read_states).
CREATE TABLE message_deliveries (
    channel_id BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- Gateway presence as every node sees it: one lease per user and node, renewed
-- while the user has a session there. A user is online while any lease is live;
-- `last_seen_at` says when the last one ended (a crashed node's lease simply
-- runs out).
CREATE TABLE user_presence_leases (
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node         TEXT    NOT NULL,
    live_until   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, node)
);
