-- Authentication: bot tokens, one-time codes sent by email, 2FA backup codes and
-- the state of the shared rate limiter.
--
-- Secrets are never stored: only SHA-256 hashes (hex) of tokens and codes. Times
-- are INTEGER milliseconds since the Unix epoch, UTC, as in 0001.

-- One long-lived token per bot user (`Authorization: Bot <token>`).
CREATE TABLE bot_tokens (
    user_id    INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX bot_tokens_token_hash_uniq ON bot_tokens (token_hash);

-- At most one live code per user and purpose (`verify_email`, `reset_password`,
-- `change_email`); `target` is the new address of an email change.
CREATE TABLE auth_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    target     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, purpose)
) STRICT;

CREATE INDEX auth_codes_expires_at_idx ON auth_codes (expires_at);

-- 2FA backup codes; each works once.
CREATE TABLE backup_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    code_hash TEXT    NOT NULL,
    used      INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (user_id, position)
) STRICT;

CREATE UNIQUE INDEX backup_codes_hash_uniq ON backup_codes (user_id, code_hash);

-- Generic cell rate algorithm state: the theoretical arrival time of the next
-- request per bucket key. A row whose `tat` is in the past is the same as no row.
CREATE TABLE rate_limits (
    key TEXT    NOT NULL PRIMARY KEY,
    tat INTEGER NOT NULL
) STRICT;

CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
