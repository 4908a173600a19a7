-- Accounts: users and their login sessions.
--
-- Ids are 64-bit snowflakes (INTEGER is 64-bit in SQLite). Timestamps are INTEGER
-- milliseconds since the Unix epoch, UTC. Booleans are INTEGER 0/1. `settings` is
-- JSON text. Tables are STRICT so a wrongly typed value is refused, as PostgreSQL
-- would refuse it.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    username          TEXT    NOT NULL,
    username_key      TEXT    NOT NULL,
    username_skeleton TEXT    NOT NULL,
    email             TEXT,
    email_key         TEXT,
    password_hash     TEXT,
    global_name       TEXT,
    first_name        TEXT,
    last_name         TEXT,
    avatar            TEXT,
    banner            TEXT,
    bio               TEXT    NOT NULL DEFAULT '',
    locale            TEXT    NOT NULL DEFAULT 'en-US',
    flags             INTEGER NOT NULL DEFAULT 0,
    bot               INTEGER NOT NULL DEFAULT 0 CHECK (bot IN (0, 1)),
    system            INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    admin             INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    verified          INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    mfa_enabled       INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
    totp_secret       TEXT,
    totp_last_step    INTEGER NOT NULL DEFAULT 0,
    settings          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    created_at        INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_username_key_uniq ON users (username_key);
CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX users_username_skeleton_idx ON users (username_skeleton);

CREATE TABLE sessions (
    id                    INTEGER PRIMARY KEY,
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device                TEXT    NOT NULL,
    ip                    TEXT    NOT NULL,
    refresh_hash          TEXT    NOT NULL,
    previous_refresh_hash TEXT,
    created_at            INTEGER NOT NULL,
    last_seen_at          INTEGER NOT NULL,
    revoked               INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
