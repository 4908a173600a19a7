-- Accounts: users and their login sessions.
--
-- Ids are 64-bit snowflakes (BIGINT). Timestamps are TIMESTAMPTZ; the store writes
-- them truncated to whole milliseconds so both backends return the same values.
-- `settings` is JSONB.

CREATE TABLE users (
    id                BIGINT      NOT NULL,
    username          TEXT        NOT NULL,
    username_key      TEXT        NOT NULL,
    username_skeleton TEXT        NOT NULL,
    email             TEXT,
    email_key         TEXT,
    password_hash     TEXT,
    global_name       TEXT,
    first_name        TEXT,
    last_name         TEXT,
    avatar            TEXT,
    banner            TEXT,
    bio               TEXT        NOT NULL DEFAULT '',
    locale            TEXT        NOT NULL DEFAULT 'en-US',
    flags             BIGINT      NOT NULL DEFAULT 0,
    bot               BOOLEAN     NOT NULL DEFAULT FALSE,
    system            BOOLEAN     NOT NULL DEFAULT FALSE,
    admin             BOOLEAN     NOT NULL DEFAULT FALSE,
    verified          BOOLEAN     NOT NULL DEFAULT FALSE,
    mfa_enabled       BOOLEAN     NOT NULL DEFAULT FALSE,
    totp_secret       TEXT,
    totp_last_step    BIGINT      NOT NULL DEFAULT 0,
    settings          JSONB       NOT NULL DEFAULT '{}',
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX users_username_key_uniq ON users (username_key);
CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX users_username_skeleton_idx ON users (username_skeleton);

CREATE TABLE sessions (
    id                    BIGINT      NOT NULL,
    user_id               BIGINT      NOT NULL,
    device                TEXT        NOT NULL,
    ip                    TEXT        NOT NULL,
    refresh_hash          TEXT        NOT NULL,
    previous_refresh_hash TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    last_seen_at          TIMESTAMPTZ NOT NULL,
    revoked               BOOLEAN     NOT NULL DEFAULT FALSE,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
