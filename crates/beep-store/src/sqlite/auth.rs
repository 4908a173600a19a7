//! Bot tokens, one-time codes, backup codes and rate-limit state on SQLite. Same
//! methods, order and comments as `postgres/auth.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use beep_types::UserId;

use super::SqliteStore;
use crate::sql;
use crate::sql_auth as q;
use crate::{
    AuthCode, AuthCodeStore, BackupCode, BackupCodeStore, BotTokenStore, NewAuthCode,
    RateLimitState, RateLimitStore, Result, StoreError,
};

#[async_trait]
impl BotTokenStore for SqliteStore {
    /// Set or replace the token hash of a user; `NotFound` when the user does not exist.
    async fn set_bot_token(&self, user: UserId, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                c.prepare_cached(q::SET_BOT_TOKEN)?.execute(params![
                    user.as_i64(),
                    token_hash,
                    now
                ])?;
                Ok(())
            })
            .await
    }

    /// The user whose bot token hashes to `token_hash`.
    async fn user_by_bot_token(&self, token_hash: &str) -> Result<Option<UserId>> {
        let token_hash = token_hash.to_owned();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::USER_BY_BOT_TOKEN)?;
                let id: Option<i64> = st.query_row([token_hash], |r| r.get(0)).optional()?;
                Ok(id.map(UserId::from_i64))
            })
            .await
    }
}

#[async_trait]
impl AuthCodeStore for SqliteStore {
    /// Insert or replace the code of `c.purpose` for `c.user_id`, with no attempts
    /// counted; `NotFound` when the user does not exist.
    async fn put_auth_code(&self, c: &NewAuthCode) -> Result<AuthCode> {
        let code = c.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::PUT_AUTH_CODE)?;
                let params = params![
                    code.user_id.as_i64(),
                    code.purpose,
                    code.code_hash,
                    code.target,
                    code.expires_at.timestamp_millis(),
                    now,
                ];
                Ok(st.query_row(params, auth_code)?)
            })
            .await
    }

    /// The code of `purpose` for `user`, expired or not.
    async fn auth_code(&self, user: UserId, purpose: &str) -> Result<Option<AuthCode>> {
        let purpose = purpose.to_owned();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::AUTH_CODE)?;
                Ok(st
                    .query_row(params![user.as_i64(), purpose], auth_code)
                    .optional()?)
            })
            .await
    }

    /// Count one attempt at the code of `purpose` if fewer than `max_attempts` were
    /// made, and return the code as counted; `None` when there is no code or its
    /// attempts are used up. Atomic against concurrent calls.
    async fn attempt_auth_code(
        &self,
        user: UserId,
        purpose: &str,
        max_attempts: u32,
    ) -> Result<Option<AuthCode>> {
        // The single writer makes the conditional increment atomic.
        let purpose = purpose.to_owned();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::ATTEMPT_AUTH_CODE)?;
                let params = params![user.as_i64(), purpose, i64::from(max_attempts)];
                Ok(st.query_row(params, auth_code).optional()?)
            })
            .await
    }

    /// Delete the code of `purpose` if its hash is `code_hash`; returns whether it
    /// did, so of two concurrent uses of one code only one succeeds.
    async fn consume_auth_code(
        &self,
        user: UserId,
        purpose: &str,
        code_hash: &str,
    ) -> Result<bool> {
        let (purpose, code_hash) = (purpose.to_owned(), code_hash.to_owned());
        self.writer
            .write(move |c| {
                let deleted = c.prepare_cached(q::CONSUME_AUTH_CODE)?.execute(params![
                    user.as_i64(),
                    purpose,
                    code_hash
                ])?;
                Ok(deleted == 1)
            })
            .await
    }

    /// Delete the code of `purpose` whatever it is; returns whether there was one.
    async fn delete_auth_code(&self, user: UserId, purpose: &str) -> Result<bool> {
        let purpose = purpose.to_owned();
        self.writer
            .write(move |c| {
                let deleted = c
                    .prepare_cached(q::DELETE_AUTH_CODE)?
                    .execute(params![user.as_i64(), purpose])?;
                Ok(deleted == 1)
            })
            .await
    }

    /// Delete every code that expired before `before`; returns how many.
    async fn purge_auth_codes(&self, before: DateTime<Utc>) -> Result<u64> {
        let before = before.timestamp_millis();
        self.writer
            .write(move |c| {
                let deleted = c.prepare_cached(q::PURGE_AUTH_CODES)?.execute([before])?;
                Ok(deleted as u64)
            })
            .await
    }
}

#[async_trait]
impl BackupCodeStore for SqliteStore {
    /// Replace every backup code of `user` with these hashes, all unused (an empty
    /// list deletes them); `NotFound` when the user does not exist.
    async fn replace_backup_codes(&self, user: UserId, hashes: &[String]) -> Result<()> {
        // One job is one savepoint: the old codes go and the new ones land together.
        let hashes = hashes.to_vec();
        self.writer
            .write(move |c| {
                if !c
                    .prepare_cached(sql::USER_EXISTS)?
                    .exists([user.as_i64()])?
                {
                    return Err(StoreError::NotFound);
                }
                c.prepare_cached(q::DELETE_BACKUP_CODES)?
                    .execute([user.as_i64()])?;
                let mut st = c.prepare_cached(q::INSERT_BACKUP_CODE)?;
                for (position, hash) in hashes.iter().enumerate() {
                    st.execute(params![user.as_i64(), position as i64, hash])?;
                }
                Ok(())
            })
            .await
    }

    /// The backup codes of `user`, in the order they were given.
    async fn backup_codes(&self, user: UserId) -> Result<Vec<BackupCode>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::BACKUP_CODES)?;
                let rows = st.query_map([user.as_i64()], |r| {
                    Ok(BackupCode {
                        user_id: UserId::from_i64(r.get(0)?),
                        code_hash: r.get(1)?,
                        used: r.get(2)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Mark the unused code with this hash used; returns false when there is no
    /// such unused code. Atomic against concurrent calls.
    async fn use_backup_code(&self, user: UserId, code_hash: &str) -> Result<bool> {
        let code_hash = code_hash.to_owned();
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(q::USE_BACKUP_CODE)?
                    .execute(params![user.as_i64(), code_hash])?;
                Ok(changed == 1)
            })
            .await
    }
}

#[async_trait]
impl RateLimitStore for SqliteStore {
    /// At `now_ms`, count `cost` requests against bucket `key`, where each request
    /// takes `interval_ms` and the bucket holds `limit_ms` (burst × interval): the
    /// new time is `max(tat, now) + cost × interval`, accepted and stored only if it
    /// is at most `now + limit`. Atomic against concurrent calls on every node.
    async fn rate_limit_acquire(
        &self,
        key: &str,
        now_ms: i64,
        interval_ms: i64,
        limit_ms: i64,
        cost: u32,
    ) -> Result<RateLimitState> {
        // The upsert's WHERE refuses an over-full bucket; a request costing more
        // than the whole bucket never fits, even in an empty one.
        let step = interval_ms.saturating_mul(i64::from(cost));
        let key = key.to_owned();
        self.writer
            .write(move |c| {
                if step <= limit_ms {
                    let mut st = c.prepare_cached(q::RATE_LIMIT_ACQUIRE_SQLITE)?;
                    let stored: Option<i64> = st
                        .query_row(params![key, now_ms, step, limit_ms], |r| r.get(0))
                        .optional()?;
                    if let Some(tat_ms) = stored {
                        return Ok(RateLimitState {
                            allowed: true,
                            tat_ms,
                        });
                    }
                }
                let mut st = c.prepare_cached(q::RATE_LIMIT_TAT)?;
                let tat: Option<i64> = st.query_row([key], |r| r.get(0)).optional()?;
                Ok(RateLimitState {
                    allowed: false,
                    tat_ms: tat.unwrap_or(now_ms).max(now_ms),
                })
            })
            .await
    }

    /// The stored theoretical arrival time of `key`, if any.
    async fn rate_limit_tat(&self, key: &str) -> Result<Option<i64>> {
        let key = key.to_owned();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::RATE_LIMIT_TAT)?;
                Ok(st.query_row([key], |r| r.get(0)).optional()?)
            })
            .await
    }

    /// Forget buckets whose time is before `before_ms` (they are full again);
    /// returns how many.
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<u64> {
        self.writer
            .write(move |c| {
                let deleted = c
                    .prepare_cached(q::PURGE_RATE_LIMITS)?
                    .execute([before_ms])?;
                Ok(deleted as u64)
            })
            .await
    }
}

/// An `auth_codes` row, columns in the order of `auth_code_columns!`.
fn auth_code(r: &Row<'_>) -> rusqlite::Result<AuthCode> {
    let attempts: i64 = r.get(4)?;
    Ok(AuthCode {
        user_id: UserId::from_i64(r.get(0)?),
        purpose: r.get(1)?,
        code_hash: r.get(2)?,
        target: r.get(3)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        expires_at: time(r, 5)?,
        created_at: time(r, 6)?,
    })
}

/// A millisecond timestamp column.
fn time(r: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = r.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            Type::Integer,
            format!("timestamp {ms} ms is out of range").into(),
        )
    })
}
