//! SQL text of the authentication tables (bot tokens, one-time codes, backup
//! codes, rate limits), shared by both backends where the dialects agree.
//!
//! The same rule as in `sql.rs` holds: each statement mentions `$1`, `$2`, ... in
//! that order, because SQLite numbers parameters by first appearance. The one
//! statement that differs between dialects (the rate-limiter upsert: `MAX` in
//! SQLite, `GREATEST` in PostgreSQL) comes in two visible variants.

/// The columns of `auth_codes`, in the order the row decoders read them.
macro_rules! auth_code_columns {
    () => {
        "user_id, purpose, code_hash, target, attempts, expires_at, created_at"
    };
}

pub(crate) const SET_BOT_TOKEN: &str = "INSERT INTO bot_tokens (user_id, token_hash, created_at) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, \
     created_at = excluded.created_at";
pub(crate) const USER_BY_BOT_TOKEN: &str = "SELECT user_id FROM bot_tokens WHERE token_hash = $1";

pub(crate) const PUT_AUTH_CODE: &str = concat!(
    "INSERT INTO auth_codes (user_id, purpose, code_hash, target, attempts, expires_at, \
     created_at) VALUES ($1, $2, $3, $4, 0, $5, $6) \
     ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, \
     target = excluded.target, attempts = 0, expires_at = excluded.expires_at, \
     created_at = excluded.created_at \
     RETURNING ",
    auth_code_columns!()
);
pub(crate) const AUTH_CODE: &str = concat!(
    "SELECT ",
    auth_code_columns!(),
    " FROM auth_codes WHERE user_id = $1 AND purpose = $2"
);
pub(crate) const ATTEMPT_AUTH_CODE: &str = concat!(
    "UPDATE auth_codes SET attempts = attempts + 1 \
     WHERE user_id = $1 AND purpose = $2 AND attempts < $3 RETURNING ",
    auth_code_columns!()
);
pub(crate) const CONSUME_AUTH_CODE: &str =
    "DELETE FROM auth_codes WHERE user_id = $1 AND purpose = $2 AND code_hash = $3";
pub(crate) const DELETE_AUTH_CODE: &str =
    "DELETE FROM auth_codes WHERE user_id = $1 AND purpose = $2";
pub(crate) const PURGE_AUTH_CODES: &str = "DELETE FROM auth_codes WHERE expires_at < $1";

pub(crate) const DELETE_BACKUP_CODES: &str = "DELETE FROM backup_codes WHERE user_id = $1";
pub(crate) const INSERT_BACKUP_CODE: &str =
    "INSERT INTO backup_codes (user_id, position, code_hash, used) VALUES ($1, $2, $3, FALSE)";
pub(crate) const BACKUP_CODES: &str =
    "SELECT user_id, code_hash, used FROM backup_codes WHERE user_id = $1 ORDER BY position";
pub(crate) const USE_BACKUP_CODE: &str = "UPDATE backup_codes SET used = TRUE \
     WHERE user_id = $1 AND code_hash = $2 AND used = FALSE";

/// GCRA step, SQLite flavour (`MAX` of two values).
pub(crate) const RATE_LIMIT_ACQUIRE_SQLITE: &str = "INSERT INTO rate_limits (key, tat) \
     VALUES ($1, CAST($2 AS BIGINT) + CAST($3 AS BIGINT)) \
     ON CONFLICT (key) DO UPDATE SET tat = MAX(rate_limits.tat, $2) + $3 \
     WHERE MAX(rate_limits.tat, $2) + $3 <= $2 + CAST($4 AS BIGINT) \
     RETURNING tat";
/// GCRA step, PostgreSQL flavour (`GREATEST` of two values).
pub(crate) const RATE_LIMIT_ACQUIRE_POSTGRES: &str = "INSERT INTO rate_limits (key, tat) \
     VALUES ($1, CAST($2 AS BIGINT) + CAST($3 AS BIGINT)) \
     ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_limits.tat, $2) + $3 \
     WHERE GREATEST(rate_limits.tat, $2) + $3 <= $2 + CAST($4 AS BIGINT) \
     RETURNING tat";
pub(crate) const RATE_LIMIT_TAT: &str = "SELECT tat FROM rate_limits WHERE key = $1";
pub(crate) const PURGE_RATE_LIMITS: &str = "DELETE FROM rate_limits WHERE tat < $1";

/// Every SQLite statement of this file, for the parameter-order test.
#[cfg(test)]
pub(crate) const ALL_SQLITE: &[&str] = &[
    SET_BOT_TOKEN,
    USER_BY_BOT_TOKEN,
    PUT_AUTH_CODE,
    AUTH_CODE,
    ATTEMPT_AUTH_CODE,
    CONSUME_AUTH_CODE,
    DELETE_AUTH_CODE,
    PURGE_AUTH_CODES,
    DELETE_BACKUP_CODES,
    INSERT_BACKUP_CODE,
    BACKUP_CODES,
    USE_BACKUP_CODE,
    RATE_LIMIT_ACQUIRE_SQLITE,
    RATE_LIMIT_TAT,
    PURGE_RATE_LIMITS,
];
