-- Messages: messages with their mentions and reactions, read states, incoming
-- webhooks and bot applications.
--
-- Same conventions as 0001: snowflake ids and every other integer in BIGINT,
-- TIMESTAMPTZ written to the millisecond. Embeds are TEXT holding JSON (never
-- queried inside), as on SQLite. A message's creation time is its snowflake's,
-- so it has no column.

CREATE TABLE messages (
    id               BIGINT  NOT NULL,
    channel_id       BIGINT  NOT NULL,
    -- Kept on the message so events and mention counts need no channel lookup.
    guild_id         BIGINT,
    -- A user, or the webhook for webhook messages. No foreign key: a message
    -- outlives its author's account, as on Discord ("Deleted User").
    author_id        BIGINT  NOT NULL,
    webhook_id       BIGINT,
    application_id   BIGINT,
    -- Discord's message type: 0 default, 6 pin notice, 19 reply.
    kind             BIGINT  NOT NULL DEFAULT 0,
    content          TEXT    NOT NULL,
    flags            BIGINT  NOT NULL DEFAULT 0,
    tts              BOOLEAN NOT NULL DEFAULT FALSE,
    -- The client's nonce as JSON text (a string or an integer).
    nonce            TEXT,
    edited_at        TIMESTAMPTZ,
    -- Set while the message is pinned.
    pinned_at        TIMESTAMPTZ,
    mention_everyone BOOLEAN NOT NULL DEFAULT FALSE,
    -- Comma-separated ids, in the order they first appear in the content.
    mention_users    TEXT    NOT NULL DEFAULT '',
    mention_roles    TEXT    NOT NULL DEFAULT '',
    mention_channels TEXT    NOT NULL DEFAULT '',
    -- What a reply or a pin notice points at.
    ref_message_id   BIGINT,
    ref_channel_id   BIGINT,
    ref_guild_id     BIGINT,
    -- A JSON array of embed objects.
    embeds           TEXT    NOT NULL DEFAULT '[]',
    -- A JSON array of the stored attachments (see `beep-files`); their URLs are
    -- signed afresh on every read.
    attachments      TEXT    NOT NULL DEFAULT '[]',
    -- Webhook messages: the name and avatar URL shown for this message.
    author_name      TEXT,
    author_avatar    TEXT,
    CONSTRAINT messages_pkey PRIMARY KEY (id),
    CONSTRAINT messages_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

-- History pages: every read is a range of this index, newest first or oldest
-- first, so `GET .../messages?limit=50` costs the same at 10 rows or 10 million.
CREATE INDEX messages_channel_id_idx ON messages (channel_id, id);
-- Pins of a channel, newest pin first.
CREATE INDEX messages_pinned_idx ON messages (channel_id, pinned_at) WHERE pinned_at IS NOT NULL;
-- Nonce replay detection: the same author and nonce in the same channel.
CREATE INDEX messages_nonce_idx ON messages (channel_id, author_id, nonce) WHERE nonce IS NOT NULL;

-- Who a message mentions, one row per target, for mention counts: a user id, a
-- role id, or the guild id for @everyone and @here (the @everyone role shares it).
-- Rows go with their message (deleted by the store in the same transaction).
CREATE TABLE message_mentions (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    target_id  BIGINT NOT NULL,
    author_id  BIGINT NOT NULL,
    CONSTRAINT message_mentions_pkey PRIMARY KEY (channel_id, message_id, target_id),
    CONSTRAINT message_mentions_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

-- One row per user and emoji on a message. `emoji_key` is the unicode emoji, or
-- the custom emoji's id in decimal. `seq` orders emojis by first use.
CREATE TABLE reactions (
    channel_id BIGINT  NOT NULL,
    message_id BIGINT  NOT NULL,
    emoji_key  TEXT    NOT NULL,
    user_id    BIGINT  NOT NULL,
    emoji_id   BIGINT,
    emoji_name TEXT    NOT NULL,
    animated   BOOLEAN NOT NULL DEFAULT FALSE,
    seq        BIGINT  NOT NULL,
    CONSTRAINT reactions_pkey PRIMARY KEY (channel_id, message_id, emoji_key, user_id),
    CONSTRAINT reactions_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

-- How far each user has read each channel.
CREATE TABLE read_states (
    user_id         BIGINT      NOT NULL,
    channel_id      BIGINT      NOT NULL,
    last_message_id BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT read_states_pkey PRIMARY KEY (user_id, channel_id),
    CONSTRAINT read_states_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT read_states_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

CREATE INDEX read_states_channel_id_idx ON read_states (channel_id);

-- Incoming webhooks. The token is kept as given out: members with Manage
-- Webhooks may read it back, as on Discord.
CREATE TABLE webhooks (
    id             BIGINT      NOT NULL,
    kind           BIGINT      NOT NULL DEFAULT 1,
    guild_id       BIGINT      NOT NULL,
    channel_id     BIGINT      NOT NULL,
    creator_id     BIGINT,
    name           TEXT        NOT NULL,
    avatar         TEXT,
    token          TEXT        NOT NULL,
    application_id BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT webhooks_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT webhooks_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT webhooks_creator_id_fkey FOREIGN KEY (creator_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX webhooks_channel_id_idx ON webhooks (channel_id);
CREATE INDEX webhooks_guild_id_idx ON webhooks (guild_id);
CREATE INDEX webhooks_creator_id_idx ON webhooks (creator_id);

-- Bot applications; an application shares its id with its bot user.
CREATE TABLE applications (
    id                     BIGINT      NOT NULL,
    owner_id               BIGINT      NOT NULL,
    name                   TEXT        NOT NULL,
    description            TEXT        NOT NULL DEFAULT '',
    icon                   TEXT,
    bot_public             BOOLEAN     NOT NULL DEFAULT TRUE,
    bot_require_code_grant BOOLEAN     NOT NULL DEFAULT FALSE,
    flags                  BIGINT      NOT NULL DEFAULT 0,
    verify_key             TEXT        NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT applications_pkey PRIMARY KEY (id),
    CONSTRAINT applications_id_fkey FOREIGN KEY (id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT applications_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX applications_owner_id_idx ON applications (owner_id);

-- The role a bot gets when it is added to a guild (Discord's managed role,
-- `tags.bot_id`); it goes with the role, the guild or the bot.
CREATE TABLE bot_roles (
    role_id  BIGINT NOT NULL,
    guild_id BIGINT NOT NULL,
    bot_id   BIGINT NOT NULL,
    CONSTRAINT bot_roles_pkey PRIMARY KEY (role_id),
    CONSTRAINT bot_roles_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE,
    CONSTRAINT bot_roles_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT bot_roles_bot_id_fkey FOREIGN KEY (bot_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX bot_roles_guild_bot_uniq ON bot_roles (guild_id, bot_id);
CREATE INDEX bot_roles_bot_id_idx ON bot_roles (bot_id);
