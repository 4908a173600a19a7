-- Authentication: bot tokens, one-time codes sent by email, 2FA backup codes and
-- the state of the shared rate limiter.
--
-- Secrets are never stored: only SHA-256 hashes (hex) of tokens and codes. Times
-- are TIMESTAMPTZ truncated to milliseconds, as in 0001, except `rate_limits.tat`,
-- which is BIGINT milliseconds so the limiter's arithmetic is the same on both
-- backends.

-- One long-lived token per bot user (`Authorization: Bot <token>`).
CREATE TABLE bot_tokens (
    user_id    BIGINT      NOT NULL,
    token_hash TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT bot_tokens_pkey PRIMARY KEY (user_id),
    CONSTRAINT bot_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX bot_tokens_token_hash_uniq ON bot_tokens (token_hash);

-- At most one live code per user and purpose (`verify_email`, `reset_password`,
-- `change_email`); `target` is the new address of an email change.
CREATE TABLE auth_codes (
    user_id    BIGINT      NOT NULL,
    purpose    TEXT        NOT NULL,
    code_hash  TEXT        NOT NULL,
    target     TEXT,
    attempts   BIGINT      NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT auth_codes_pkey PRIMARY KEY (user_id, purpose),
    CONSTRAINT auth_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX auth_codes_expires_at_idx ON auth_codes (expires_at);

-- 2FA backup codes; each works once.
CREATE TABLE backup_codes (
    user_id   BIGINT  NOT NULL,
    position  BIGINT  NOT NULL,
    code_hash TEXT    NOT NULL,
    used      BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT backup_codes_pkey PRIMARY KEY (user_id, position),
    CONSTRAINT backup_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX backup_codes_hash_uniq ON backup_codes (user_id, code_hash);

-- Generic cell rate algorithm state: the theoretical arrival time of the next
-- request per bucket key. A row whose `tat` is in the past is the same as no row.
CREATE TABLE rate_limits (
    key TEXT   NOT NULL,
    tat BIGINT NOT NULL,
    CONSTRAINT rate_limits_pkey PRIMARY KEY (key)
);

CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
