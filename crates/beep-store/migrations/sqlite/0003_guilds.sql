-- Guilds: guilds, roles, channels and their overwrites, members and their roles,
-- bans, invites, the audit log, and the discovery index.
--
-- Same conventions as 0001: snowflake ids in INTEGER, times in INTEGER
-- milliseconds since the Unix epoch (UTC), booleans 0/1, JSON as text, STRICT
-- tables. Permission sets are INTEGER bit sets (Discord's bits stay below 2^53).

CREATE TABLE guilds (
    id                            INTEGER PRIMARY KEY,
    name                          TEXT    NOT NULL,
    icon                          TEXT,
    banner                        TEXT,
    splash                        TEXT,
    description                   TEXT,
    -- No cascade: an account that owns guilds must hand them over (or delete
    -- them) before it can be deleted, as on Discord.
    owner_id                      INTEGER NOT NULL REFERENCES users (id),
    -- Who created the guild, for the creation rate limit; kept after transfers.
    creator_id                    INTEGER NOT NULL,
    public                        INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    afk_channel_id                INTEGER,
    afk_timeout                   INTEGER NOT NULL DEFAULT 300,
    system_channel_id             INTEGER,
    system_channel_flags          INTEGER NOT NULL DEFAULT 0,
    verification_level            INTEGER NOT NULL DEFAULT 0,
    default_message_notifications INTEGER NOT NULL DEFAULT 0,
    explicit_content_filter       INTEGER NOT NULL DEFAULT 0,
    preferred_locale              TEXT    NOT NULL DEFAULT 'en-US',
    -- Bumped by every write that creates, deletes or moves a channel.
    channels_version              INTEGER NOT NULL DEFAULT 0,
    created_at                    INTEGER NOT NULL
) STRICT;

CREATE INDEX guilds_owner_id_idx ON guilds (owner_id);
CREATE INDEX guilds_creator_id_idx ON guilds (creator_id, created_at);

-- Discovery: FTS5 over name and description, kept in step with `guilds` by
-- triggers (an external-content table stores no second copy of the text).
CREATE VIRTUAL TABLE guilds_fts USING fts5 (
    name,
    description,
    content = 'guilds',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER guilds_fts_insert AFTER INSERT ON guilds BEGIN
    INSERT INTO guilds_fts (rowid, name, description)
    VALUES (new.id, new.name, coalesce(new.description, ''));
END;

CREATE TRIGGER guilds_fts_delete AFTER DELETE ON guilds BEGIN
    INSERT INTO guilds_fts (guilds_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, coalesce(old.description, ''));
END;

CREATE TRIGGER guilds_fts_update AFTER UPDATE OF name, description ON guilds BEGIN
    INSERT INTO guilds_fts (guilds_fts, rowid, name, description)
    VALUES ('delete', old.id, old.name, coalesce(old.description, ''));
    INSERT INTO guilds_fts (rowid, name, description)
    VALUES (new.id, new.name, coalesce(new.description, ''));
END;

CREATE TABLE roles (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    color         INTEGER NOT NULL DEFAULT 0,
    hoist         INTEGER NOT NULL DEFAULT 0 CHECK (hoist IN (0, 1)),
    mentionable   INTEGER NOT NULL DEFAULT 0 CHECK (mentionable IN (0, 1)),
    permissions   INTEGER NOT NULL,
    -- 0 for @everyone (whose id is the guild's); the others 1..n.
    position      INTEGER NOT NULL,
    icon          TEXT,
    unicode_emoji TEXT
) STRICT;

CREATE INDEX roles_guild_id_idx ON roles (guild_id, position);

-- Channels of every kind. Guild channels (text 0, voice 2, folder 4) have a
-- guild; direct conversations (1, 3) will not.
CREATE TABLE channels (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER REFERENCES guilds (id) ON DELETE CASCADE,
    kind                INTEGER NOT NULL,
    name                TEXT,
    topic               TEXT,
    position            INTEGER NOT NULL DEFAULT 0,
    -- The folder holding the channel; deleting a folder deletes what is in it.
    parent_id           INTEGER REFERENCES channels (id) ON DELETE CASCADE,
    nsfw                INTEGER NOT NULL DEFAULT 0 CHECK (nsfw IN (0, 1)),
    rate_limit_per_user INTEGER NOT NULL DEFAULT 0,
    bitrate             INTEGER,
    user_limit          INTEGER,
    rtc_region          TEXT,
    created_at          INTEGER NOT NULL,
    CHECK (guild_id IS NOT NULL OR kind IN (1, 3))
) STRICT;

CREATE INDEX channels_guild_id_idx ON channels (guild_id, position);
CREATE INDEX channels_parent_id_idx ON channels (parent_id);

CREATE TABLE channel_overwrites (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- A role id (kind 0) or a user id (kind 1).
    target_id  INTEGER NOT NULL,
    kind       INTEGER NOT NULL CHECK (kind IN (0, 1)),
    allow      INTEGER NOT NULL,
    deny       INTEGER NOT NULL,
    PRIMARY KEY (channel_id, target_id)
) STRICT;

CREATE INDEX channel_overwrites_target_id_idx ON channel_overwrites (target_id);

CREATE TABLE members (
    guild_id                     INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id                      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nick                         TEXT,
    -- Lower-cased nick, for prefix search.
    nick_key                     TEXT,
    joined_at                    INTEGER NOT NULL,
    deaf                         INTEGER NOT NULL DEFAULT 0 CHECK (deaf IN (0, 1)),
    mute                         INTEGER NOT NULL DEFAULT 0 CHECK (mute IN (0, 1)),
    flags                        INTEGER NOT NULL DEFAULT 0,
    temporary                    INTEGER NOT NULL DEFAULT 0 CHECK (temporary IN (0, 1)),
    communication_disabled_until INTEGER,
    PRIMARY KEY (guild_id, user_id)
) STRICT;

CREATE INDEX members_user_id_idx ON members (user_id);
CREATE INDEX members_nick_key_idx ON members (guild_id, nick_key);

CREATE TABLE member_roles (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    role_id  INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, user_id, role_id),
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX member_roles_role_id_idx ON member_roles (role_id);

CREATE TABLE bans (
    guild_id               INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id                INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason                 TEXT,
    moderator_id           INTEGER,
    -- Kept for the message store: how much recent history the ban deletes.
    delete_message_seconds INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT;

CREATE TABLE invites (
    code       TEXT    PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    inviter_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    max_age    INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    temporary  INTEGER NOT NULL DEFAULT 0 CHECK (temporary IN (0, 1)),
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;

CREATE INDEX invites_guild_id_idx ON invites (guild_id);
CREATE INDEX invites_channel_id_idx ON invites (channel_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    -- Who acted; kept when the account goes.
    user_id     INTEGER,
    action_type INTEGER NOT NULL,
    target_id   TEXT,
    changes     TEXT CHECK (changes IS NULL OR json_valid(changes)),
    options     TEXT CHECK (options IS NULL OR json_valid(options)),
    reason      TEXT
) STRICT;

CREATE INDEX audit_log_guild_id_idx ON audit_log (guild_id, id);
