-- Guilds: guilds, roles, channels and their overwrites, members and their roles,
-- bans, invites, the audit log, and the discovery index.
--
-- Same conventions as 0001: snowflake ids in BIGINT, every other integer BIGINT
-- too (one Rust type on both backends), TIMESTAMPTZ written to the millisecond,
-- JSONB. Permission sets are BIGINT bit sets (Discord's bits stay below 2^53).

CREATE TABLE guilds (
    id                            BIGINT      NOT NULL,
    name                          TEXT        NOT NULL,
    icon                          TEXT,
    banner                        TEXT,
    splash                        TEXT,
    description                   TEXT,
    -- No cascade: an account that owns guilds must hand them over (or delete
    -- them) before it can be deleted, as on Discord.
    owner_id                      BIGINT      NOT NULL,
    -- Who created the guild, for the creation rate limit; kept after transfers.
    creator_id                    BIGINT      NOT NULL,
    public                        BOOLEAN     NOT NULL DEFAULT FALSE,
    afk_channel_id                BIGINT,
    afk_timeout                   BIGINT      NOT NULL DEFAULT 300,
    system_channel_id             BIGINT,
    system_channel_flags          BIGINT      NOT NULL DEFAULT 0,
    verification_level            BIGINT      NOT NULL DEFAULT 0,
    default_message_notifications BIGINT      NOT NULL DEFAULT 0,
    explicit_content_filter       BIGINT      NOT NULL DEFAULT 0,
    preferred_locale              TEXT        NOT NULL DEFAULT 'en-US',
    -- Bumped by every write that creates, deletes or moves a channel.
    channels_version              BIGINT      NOT NULL DEFAULT 0,
    created_at                    TIMESTAMPTZ NOT NULL,
    -- Discovery: name weighted above description; 'simple' keeps every word of
    -- every language, without stemming.
    search                        TSVECTOR    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A')
        || setweight(to_tsvector('simple', coalesce(description, '')), 'B')
    ) STORED,
    CONSTRAINT guilds_pkey PRIMARY KEY (id),
    CONSTRAINT guilds_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id)
);

CREATE INDEX guilds_owner_id_idx ON guilds (owner_id);
CREATE INDEX guilds_creator_id_idx ON guilds (creator_id, created_at);
CREATE INDEX guilds_search_idx ON guilds USING GIN (search) WHERE public;

CREATE TABLE roles (
    id            BIGINT  NOT NULL,
    guild_id      BIGINT  NOT NULL,
    name          TEXT    NOT NULL,
    color         BIGINT  NOT NULL DEFAULT 0,
    hoist         BOOLEAN NOT NULL DEFAULT FALSE,
    mentionable   BOOLEAN NOT NULL DEFAULT FALSE,
    permissions   BIGINT  NOT NULL,
    -- 0 for @everyone (whose id is the guild's); the others 1..n.
    position      BIGINT  NOT NULL,
    icon          TEXT,
    unicode_emoji TEXT,
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE
);

CREATE INDEX roles_guild_id_idx ON roles (guild_id, position);

-- Channels of every kind. Guild channels (text 0, voice 2, folder 4) have a
-- guild; direct conversations (1, 3) will not.
CREATE TABLE channels (
    id                  BIGINT      NOT NULL,
    guild_id            BIGINT,
    kind                BIGINT      NOT NULL,
    name                TEXT,
    topic               TEXT,
    position            BIGINT      NOT NULL DEFAULT 0,
    -- The folder holding the channel; deleting a folder deletes what is in it.
    parent_id           BIGINT,
    nsfw                BOOLEAN     NOT NULL DEFAULT FALSE,
    rate_limit_per_user BIGINT      NOT NULL DEFAULT 0,
    bitrate             BIGINT,
    user_limit          BIGINT,
    rtc_region          TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT channels_pkey PRIMARY KEY (id),
    CONSTRAINT channels_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT channels_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT channels_guild_kind_check CHECK (guild_id IS NOT NULL OR kind IN (1, 3))
);

CREATE INDEX channels_guild_id_idx ON channels (guild_id, position);
CREATE INDEX channels_parent_id_idx ON channels (parent_id);

CREATE TABLE channel_overwrites (
    channel_id BIGINT NOT NULL,
    -- A role id (kind 0) or a user id (kind 1).
    target_id  BIGINT NOT NULL,
    kind       BIGINT NOT NULL CHECK (kind IN (0, 1)),
    allow      BIGINT NOT NULL,
    deny       BIGINT NOT NULL,
    CONSTRAINT channel_overwrites_pkey PRIMARY KEY (channel_id, target_id),
    CONSTRAINT channel_overwrites_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
);

CREATE INDEX channel_overwrites_target_id_idx ON channel_overwrites (target_id);

CREATE TABLE members (
    guild_id                     BIGINT      NOT NULL,
    user_id                      BIGINT      NOT NULL,
    nick                         TEXT,
    -- Lower-cased nick, for prefix search.
    nick_key                     TEXT,
    joined_at                    TIMESTAMPTZ NOT NULL,
    deaf                         BOOLEAN     NOT NULL DEFAULT FALSE,
    mute                         BOOLEAN     NOT NULL DEFAULT FALSE,
    flags                        BIGINT      NOT NULL DEFAULT 0,
    temporary                    BOOLEAN     NOT NULL DEFAULT FALSE,
    communication_disabled_until TIMESTAMPTZ,
    CONSTRAINT members_pkey PRIMARY KEY (guild_id, user_id),
    CONSTRAINT members_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX members_user_id_idx ON members (user_id);
CREATE INDEX members_nick_key_idx ON members (guild_id, nick_key text_pattern_ops);

CREATE TABLE member_roles (
    guild_id BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    role_id  BIGINT NOT NULL,
    CONSTRAINT member_roles_pkey PRIMARY KEY (guild_id, user_id, role_id),
    CONSTRAINT member_roles_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE,
    CONSTRAINT member_roles_member_fkey FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
);

CREATE INDEX member_roles_role_id_idx ON member_roles (role_id);

CREATE TABLE bans (
    guild_id               BIGINT      NOT NULL,
    user_id                BIGINT      NOT NULL,
    reason                 TEXT,
    moderator_id           BIGINT,
    -- Kept for the message store: how much recent history the ban deletes.
    delete_message_seconds BIGINT      NOT NULL DEFAULT 0,
    created_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT bans_pkey PRIMARY KEY (guild_id, user_id),
    CONSTRAINT bans_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT bans_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE invites (
    code       TEXT        NOT NULL,
    guild_id   BIGINT      NOT NULL,
    channel_id BIGINT      NOT NULL,
    inviter_id BIGINT,
    max_age    BIGINT      NOT NULL,
    max_uses   BIGINT      NOT NULL,
    uses       BIGINT      NOT NULL DEFAULT 0,
    temporary  BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    CONSTRAINT invites_pkey PRIMARY KEY (code),
    CONSTRAINT invites_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE,
    CONSTRAINT invites_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT invites_inviter_id_fkey FOREIGN KEY (inviter_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX invites_guild_id_idx ON invites (guild_id);
CREATE INDEX invites_channel_id_idx ON invites (channel_id);

CREATE TABLE audit_log (
    id          BIGINT NOT NULL,
    guild_id    BIGINT NOT NULL,
    -- Who acted; kept when the account goes.
    user_id     BIGINT,
    action_type BIGINT NOT NULL,
    target_id   TEXT,
    changes     JSONB,
    options     JSONB,
    reason      TEXT,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_guild_id_fkey FOREIGN KEY (guild_id) REFERENCES guilds (id) ON DELETE CASCADE
);

CREATE INDEX audit_log_guild_id_idx ON audit_log (guild_id, id);
