-- Messages: messages with their mentions and reactions, read states, incoming
-- webhooks and bot applications.
--
-- Same conventions as 0001: snowflake ids in INTEGER, times in INTEGER
-- milliseconds since the Unix epoch (UTC), booleans 0/1, JSON as text, STRICT
-- tables. A message's creation time is its snowflake's, so it has no column.

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- Kept on the message so events and mention counts need no channel lookup.
    guild_id         INTEGER,
    -- A user, or the webhook for webhook messages. No foreign key: a message
    -- outlives its author's account, as on Discord ("Deleted User").
    author_id        INTEGER NOT NULL,
    webhook_id       INTEGER,
    application_id   INTEGER,
    -- Discord's message type: 0 default, 6 pin notice, 19 reply.
    kind             INTEGER NOT NULL DEFAULT 0,
    content          TEXT    NOT NULL,
    flags            INTEGER NOT NULL DEFAULT 0,
    tts              INTEGER NOT NULL DEFAULT 0 CHECK (tts IN (0, 1)),
    -- The client's nonce as JSON text (a string or an integer).
    nonce            TEXT,
    edited_at        INTEGER,
    -- Set while the message is pinned.
    pinned_at        INTEGER,
    mention_everyone INTEGER NOT NULL DEFAULT 0 CHECK (mention_everyone IN (0, 1)),
    -- Comma-separated ids, in the order they first appear in the content.
    mention_users    TEXT    NOT NULL DEFAULT '',
    mention_roles    TEXT    NOT NULL DEFAULT '',
    mention_channels TEXT    NOT NULL DEFAULT '',
    -- What a reply or a pin notice points at.
    ref_message_id   INTEGER,
    ref_channel_id   INTEGER,
    ref_guild_id     INTEGER,
    -- A JSON array of embed objects.
    embeds           TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(embeds)),
    -- A JSON array of the stored attachments (see `beep-files`); their URLs are
    -- signed afresh on every read.
    attachments      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(attachments)),
    -- Webhook messages: the name and avatar URL shown for this message.
    author_name      TEXT,
    author_avatar    TEXT
) STRICT;

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
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    target_id  INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, target_id)
) STRICT, WITHOUT ROWID;

-- One row per user and emoji on a message. `emoji_key` is the unicode emoji, or
-- the custom emoji's id in decimal. `seq` orders emojis by first use.
CREATE TABLE reactions (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    emoji_key  TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    emoji_id   INTEGER,
    emoji_name TEXT    NOT NULL,
    animated   INTEGER NOT NULL DEFAULT 0 CHECK (animated IN (0, 1)),
    seq        INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, emoji_key, user_id)
) STRICT, WITHOUT ROWID;

-- How far each user has read each channel.
CREATE TABLE read_states (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_message_id INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX read_states_channel_id_idx ON read_states (channel_id);

-- Incoming webhooks. The token is kept as given out: members with Manage
-- Webhooks may read it back, as on Discord.
CREATE TABLE webhooks (
    id             INTEGER PRIMARY KEY,
    kind           INTEGER NOT NULL DEFAULT 1,
    guild_id       INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    channel_id     INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    creator_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name           TEXT    NOT NULL,
    avatar         TEXT,
    token          TEXT    NOT NULL,
    application_id INTEGER,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_channel_id_idx ON webhooks (channel_id);
CREATE INDEX webhooks_guild_id_idx ON webhooks (guild_id);
CREATE INDEX webhooks_creator_id_idx ON webhooks (creator_id);

-- Bot applications; an application shares its id with its bot user.
CREATE TABLE applications (
    id                     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    owner_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                   TEXT    NOT NULL,
    description            TEXT    NOT NULL DEFAULT '',
    icon                   TEXT,
    bot_public             INTEGER NOT NULL DEFAULT 1 CHECK (bot_public IN (0, 1)),
    bot_require_code_grant INTEGER NOT NULL DEFAULT 0 CHECK (bot_require_code_grant IN (0, 1)),
    flags                  INTEGER NOT NULL DEFAULT 0,
    verify_key             TEXT    NOT NULL,
    created_at             INTEGER NOT NULL
) STRICT;

CREATE INDEX applications_owner_id_idx ON applications (owner_id);

-- The role a bot gets when it is added to a guild (Discord's managed role,
-- `tags.bot_id`); it goes with the role, the guild or the bot.
CREATE TABLE bot_roles (
    role_id  INTEGER PRIMARY KEY REFERENCES roles (id) ON DELETE CASCADE,
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    bot_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
) STRICT;

CREATE UNIQUE INDEX bot_roles_guild_bot_uniq ON bot_roles (guild_id, bot_id);
CREATE INDEX bot_roles_bot_id_idx ON bot_roles (bot_id);
