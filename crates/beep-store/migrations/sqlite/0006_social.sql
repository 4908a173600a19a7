-- Social: relationships, private channels (DMs and groups), the per-user index
-- of direct messages, and verified phone numbers.
--
-- Same conventions as 0001: snowflake ids in INTEGER, times in INTEGER
-- milliseconds since the Unix epoch (UTC), booleans 0/1, STRICT tables.

-- One row per side: what `user_id` has with `target_id` (Discord's types:
-- 1 friend, 2 blocked, 3 incoming request, 4 outgoing request). The store
-- writes both sides of a change in one transaction.
CREATE TABLE relationships (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind      INTEGER NOT NULL CHECK (kind IN (1, 2, 3, 4)),
    since     INTEGER NOT NULL,
    PRIMARY KEY (user_id, target_id),
    CHECK (user_id <> target_id)
) STRICT;

-- What `channels` does not hold for kinds 1 (DM) and 3 (group). A DM keeps
-- its pair of users ordered (`dm_low` < `dm_high`), so a pair has one DM.
CREATE TABLE private_channels (
    channel_id INTEGER PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    owner_id   INTEGER,
    icon       TEXT,
    dm_low     INTEGER,
    dm_high    INTEGER
) STRICT;

CREATE UNIQUE INDEX private_channels_dm_pair_uniq ON private_channels (dm_low, dm_high)
    WHERE dm_low IS NOT NULL;

-- Recipients of private channels. `closed_at` (a snowflake) hides the channel
-- from that user's list until a newer message arrives; `pinned_at` (a
-- snowflake) puts it first.
CREATE TABLE channel_recipients (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at   INTEGER NOT NULL,
    closed_at  INTEGER,
    pinned_at  INTEGER,
    PRIMARY KEY (channel_id, user_id)
) STRICT;

CREATE INDEX channel_recipients_user_idx ON channel_recipients (user_id, channel_id);

-- "Every message sent to or by me": one row per recipient of each message of a
-- private channel, written by a trigger in the transaction of the insert, so
-- `GET /users/@me/messages` is a range of (user_id, message_id).
CREATE TABLE dm_inbox (
    user_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, message_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX dm_inbox_message_idx ON dm_inbox (message_id);

CREATE TRIGGER dm_inbox_fill AFTER INSERT ON messages
WHEN NEW.guild_id IS NULL
BEGIN
    INSERT INTO dm_inbox (user_id, message_id, channel_id)
    SELECT user_id, NEW.id, NEW.channel_id FROM channel_recipients
    WHERE channel_id = NEW.channel_id;
END;

-- Verified phone numbers (E.164, kept as given: users see their own number and
-- lookups compare whole numbers), unique across users.
CREATE TABLE user_phones (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone        TEXT    NOT NULL,
    discoverable INTEGER NOT NULL DEFAULT 0 CHECK (discoverable IN (0, 1)),
    verified_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX user_phones_phone_uniq ON user_phones (phone);
