//! Bot tokens, one-time codes, backup codes and rate-limit state on PostgreSQL.
//! Same methods, order and comments as `sqlite/auth.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::UserId;

use super::PostgresStore;
use crate::sql;
use crate::sql_auth as q;
use crate::{
    AuthCode, AuthCodeStore, BackupCode, BackupCodeStore, BotTokenStore, NewAuthCode,
    RateLimitState, RateLimitStore, Result, StoreError,
};

#[async_trait]
impl BotTokenStore for PostgresStore {
    /// Set or replace the token hash of a user; `NotFound` when the user does not exist.
    async fn set_bot_token(&self, user: UserId, token_hash: &str) -> Result<()> {
        let now = sql::now();
        let c = self.client().await?;
        let st = c.prepare_cached(q::SET_BOT_TOKEN).await?;
        c.execute(&st, &[&user.as_i64(), &token_hash, &now]).await?;
        Ok(())
    }

    /// The user whose bot token hashes to `token_hash`.
    async fn user_by_bot_token(&self, token_hash: &str) -> Result<Option<UserId>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::USER_BY_BOT_TOKEN).await?;
        match c.query_opt(&st, &[&token_hash]).await? {
            Some(row) => Ok(Some(UserId::from_i64(row.try_get(0)?))),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl AuthCodeStore for PostgresStore {
    /// Insert or replace the code of `c.purpose` for `c.user_id`, with no attempts
    /// counted; `NotFound` when the user does not exist.
    async fn put_auth_code(&self, code: &NewAuthCode) -> Result<AuthCode> {
        let now = sql::now();
        let expires_at = sql::truncate_to_ms(code.expires_at);
        let c = self.client().await?;
        let st = c.prepare_cached(q::PUT_AUTH_CODE).await?;
        let params: [&(dyn ToSql + Sync); 6] = [
            &code.user_id.as_i64(),
            &code.purpose,
            &code.code_hash,
            &code.target,
            &expires_at,
            &now,
        ];
        auth_code(&c.query_one(&st, &params).await?)
    }

    /// The code of `purpose` for `user`, expired or not.
    async fn auth_code(&self, user: UserId, purpose: &str) -> Result<Option<AuthCode>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::AUTH_CODE).await?;
        c.query_opt(&st, &[&user.as_i64(), &purpose])
            .await?
            .as_ref()
            .map(auth_code)
            .transpose()
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
        // The row lock taken by UPDATE makes the conditional increment atomic.
        let c = self.client().await?;
        let st = c.prepare_cached(q::ATTEMPT_AUTH_CODE).await?;
        c.query_opt(&st, &[&user.as_i64(), &purpose, &i64::from(max_attempts)])
            .await?
            .as_ref()
            .map(auth_code)
            .transpose()
    }

    /// Delete the code of `purpose` if its hash is `code_hash`; returns whether it
    /// did, so of two concurrent uses of one code only one succeeds.
    async fn consume_auth_code(
        &self,
        user: UserId,
        purpose: &str,
        code_hash: &str,
    ) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::CONSUME_AUTH_CODE).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &purpose, &code_hash])
            .await?
            == 1)
    }

    /// Delete the code of `purpose` whatever it is; returns whether there was one.
    async fn delete_auth_code(&self, user: UserId, purpose: &str) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_AUTH_CODE).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &purpose]).await? == 1)
    }

    /// Delete every code that expired before `before`; returns how many.
    async fn purge_auth_codes(&self, before: DateTime<Utc>) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::PURGE_AUTH_CODES).await?;
        Ok(c.execute(&st, &[&before]).await?)
    }
}

#[async_trait]
impl BackupCodeStore for PostgresStore {
    /// Replace every backup code of `user` with these hashes, all unused (an empty
    /// list deletes them); `NotFound` when the user does not exist.
    async fn replace_backup_codes(&self, user: UserId, hashes: &[String]) -> Result<()> {
        // One transaction: the old codes go and the new ones land together.
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(sql::USER_EXISTS).await?;
        if tx.query_opt(&st, &[&user.as_i64()]).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let st = tx.prepare_cached(q::DELETE_BACKUP_CODES).await?;
        tx.execute(&st, &[&user.as_i64()]).await?;
        let st = tx.prepare_cached(q::INSERT_BACKUP_CODE).await?;
        for (position, hash) in hashes.iter().enumerate() {
            tx.execute(&st, &[&user.as_i64(), &(position as i64), hash])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The backup codes of `user`, in the order they were given.
    async fn backup_codes(&self, user: UserId) -> Result<Vec<BackupCode>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::BACKUP_CODES).await?;
        c.query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(|r| {
                Ok(BackupCode {
                    user_id: UserId::from_i64(r.try_get(0)?),
                    code_hash: r.try_get(1)?,
                    used: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Mark the unused code with this hash used; returns false when there is no
    /// such unused code. Atomic against concurrent calls.
    async fn use_backup_code(&self, user: UserId, code_hash: &str) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::USE_BACKUP_CODE).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &code_hash]).await? == 1)
    }
}

#[async_trait]
impl RateLimitStore for PostgresStore {
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
        let c = self.client().await?;
        if step <= limit_ms {
            let st = c.prepare_cached(q::RATE_LIMIT_ACQUIRE_POSTGRES).await?;
            if let Some(row) = c.query_opt(&st, &[&key, &now_ms, &step, &limit_ms]).await? {
                return Ok(RateLimitState {
                    allowed: true,
                    tat_ms: row.try_get(0)?,
                });
            }
        }
        let st = c.prepare_cached(q::RATE_LIMIT_TAT).await?;
        let tat: Option<i64> = match c.query_opt(&st, &[&key]).await? {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        };
        Ok(RateLimitState {
            allowed: false,
            tat_ms: tat.unwrap_or(now_ms).max(now_ms),
        })
    }

    /// The stored theoretical arrival time of `key`, if any.
    async fn rate_limit_tat(&self, key: &str) -> Result<Option<i64>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::RATE_LIMIT_TAT).await?;
        match c.query_opt(&st, &[&key]).await? {
            Some(row) => Ok(Some(row.try_get(0)?)),
            None => Ok(None),
        }
    }

    /// Forget buckets whose time is before `before_ms` (they are full again);
    /// returns how many.
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::PURGE_RATE_LIMITS).await?;
        Ok(c.execute(&st, &[&before_ms]).await?)
    }
}

/// An `auth_codes` row, columns in the order of `auth_code_columns!`.
fn auth_code(r: &Row) -> Result<AuthCode> {
    let attempts: i64 = r.try_get(4)?;
    Ok(AuthCode {
        user_id: UserId::from_i64(r.try_get(0)?),
        purpose: r.try_get(1)?,
        code_hash: r.try_get(2)?,
        target: r.try_get(3)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        expires_at: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}
