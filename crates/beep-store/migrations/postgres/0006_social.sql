-- Social: relationships, private channels (DMs and groups), the per-user index
-- of direct messages, and verified phone numbers.
--
-- Same conventions as 0001: snowflake ids and every other integer in BIGINT,
-- TIMESTAMPTZ written to the millisecond. Same tables as the SQLite migration.

-- One row per side: what `user_id` has with `target_id` (Discord's types:
-- 1 friend, 2 blocked, 3 incoming request, 4 outgoing request). The store
-- writes both sides of a change in one transaction.
CREATE TABLE relationships (
    user_id   BIGINT      NOT NULL,
    target_id BIGINT      NOT NULL,
    kind      BIGINT      NOT NULL,
    since     TIMESTAMPTZ NOT NULL,
    CONSTRAINT relationships_pkey PRIMARY KEY (user_id, target_id),
    CONSTRAINT relationships_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT relationships_target_id_fkey FOREIGN KEY (target_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT relationships_kind_check CHECK (kind IN (1, 2, 3, 4)),
    CONSTRAINT relationships_self_check CHECK (user_id <> target_id)
);

-- What `channels` does not hold for kinds 1 (DM) and 3 (group). A DM keeps
-- its pair of users ordered (`dm_low` < `dm_high`), so a pair has one DM.
CREATE TABLE private_channels (
    channel_id BIGINT NOT NULL,
    owner_id   BIGINT,
    icon       TEXT,
    dm_low     BIGINT,
    dm_high    BIGINT,
    CONSTRAINT private_channels_pkey PRIMARY KEY (channel_id),
    CONSTRAINT private_channels_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX private_channels_dm_pair_uniq ON private_channels (dm_low, dm_high)
    WHERE dm_low IS NOT NULL;

-- Recipients of private channels. `closed_at` (a snowflake) hides the channel
-- from that user's list until a newer message arrives; `pinned_at` (a
-- snowflake) puts it first.
CREATE TABLE channel_recipients (
    channel_id BIGINT      NOT NULL,
    user_id    BIGINT      NOT NULL,
    added_at   TIMESTAMPTZ NOT NULL,
    closed_at  BIGINT,
    pinned_at  BIGINT,
    CONSTRAINT channel_recipients_pkey PRIMARY KEY (channel_id, user_id),
    CONSTRAINT channel_recipients_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT channel_recipients_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX channel_recipients_user_idx ON channel_recipients (user_id, channel_id);

-- "Every message sent to or by me": one row per recipient of each message of a
-- private channel, written by a trigger in the transaction of the insert, so
-- `GET /users/@me/messages` is a range of (user_id, message_id).
CREATE TABLE dm_inbox (
    user_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    CONSTRAINT dm_inbox_pkey PRIMARY KEY (user_id, message_id),
    CONSTRAINT dm_inbox_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE
);

CREATE INDEX dm_inbox_message_idx ON dm_inbox (message_id);

CREATE FUNCTION dm_inbox_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dm_inbox (user_id, message_id, channel_id)
    SELECT user_id, NEW.id, NEW.channel_id FROM channel_recipients
    WHERE channel_id = NEW.channel_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER dm_inbox_fill AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.guild_id IS NULL) EXECUTE FUNCTION dm_inbox_fill();

-- Verified phone numbers (E.164, kept as given: users see their own number and
-- lookups compare whole numbers), unique across users.
CREATE TABLE user_phones (
    user_id      BIGINT      NOT NULL,
    phone        TEXT        NOT NULL,
    discoverable BOOLEAN     NOT NULL DEFAULT FALSE,
    verified_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_phones_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_phones_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX user_phones_phone_uniq ON user_phones (phone);
