//! Users and sessions on PostgreSQL. Same methods, order and comments as
//! `sqlite/accounts.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::{SessionId, UserId};

use super::PostgresStore;
use crate::sql::{self, Value};
use crate::{
    NewSession, NewUser, Result, Session, SessionStore, StoreError, User, UserPatch, UserStore,
};

#[async_trait]
impl UserStore for PostgresStore {
    /// Insert a user; `Conflict("username")` or `Conflict("email")` when taken.
    async fn insert_user(&self, u: &NewUser) -> Result<User> {
        let created_at = sql::now();
        let c = self.client().await?;
        let st = c.prepare_cached(sql::INSERT_USER).await?;
        let username_fold = beep_search::fold(&u.username);
        let global_name_fold = beep_search::fold(u.global_name.as_deref().unwrap_or(""));
        let params: [&(dyn ToSql + Sync); 18] = [
            &u.id.as_i64(),
            &u.username,
            &u.username_key,
            &u.username_skeleton,
            &u.email,
            &u.email_key,
            &u.password_hash,
            &u.global_name,
            &u.first_name,
            &u.last_name,
            &u.avatar,
            &u.bot,
            &u.admin,
            &u.verified,
            &u.locale,
            &created_at,
            &username_fold,
            &global_name_fold,
        ];
        user(&c.query_one(&st, &params).await?)
    }

    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.one(sql::USER_BY_ID, &id.as_i64()).await
    }

    /// The user whose `username_key` is `key`.
    async fn user_by_username_key(&self, key: &str) -> Result<Option<User>> {
        self.one(sql::USER_BY_USERNAME_KEY, &key).await
    }

    /// The user whose `email_key` is `key`.
    async fn user_by_email_key(&self, key: &str) -> Result<Option<User>> {
        self.one(sql::USER_BY_EMAIL_KEY, &key).await
    }

    /// Usernames (as chosen) of up to `limit` users sharing a confusable skeleton.
    async fn usernames_with_skeleton(&self, skeleton: &str, limit: u32) -> Result<Vec<String>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::USERNAMES_WITH_SKELETON).await?;
        let rows = c.query(&st, &[&skeleton, &i64::from(limit)]).await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<String>, _>>()?)
    }

    /// Apply a patch and return the new record; `NotFound`, or `Conflict` on a taken username or email.
    async fn update_user(&self, id: UserId, patch: &UserPatch) -> Result<User> {
        let Some(update) = sql::user_patch(id.as_i64(), patch) else {
            return self.user(id).await?.ok_or(StoreError::NotFound);
        };
        let values: Vec<Box<dyn ToSql + Sync + Send>> =
            update.values.into_iter().map(to_postgres).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let c = self.client().await?;
        let st = c.prepare_cached(&update.sql).await?;
        match c.query_opt(&st, &params).await? {
            Some(row) => user(&row),
            None => Err(StoreError::NotFound),
        }
    }

    /// Accept TOTP step `step` only if it is newer than the last accepted one;
    /// returns false (and changes nothing) otherwise. Atomic against concurrent calls.
    /// `NotFound` when there is no such user.
    async fn advance_totp_step(&self, id: UserId, step: i64) -> Result<bool> {
        // The row lock taken by UPDATE makes the compare-and-set atomic: a
        // concurrent call waits, then re-checks the condition on the new row.
        let c = self.client().await?;
        let st = c.prepare_cached(sql::ADVANCE_TOTP_STEP).await?;
        if c.execute(&st, &[&step, &id.as_i64()]).await? == 1 {
            return Ok(true);
        }
        let st = c.prepare_cached(sql::USER_EXISTS).await?;
        match c.query_opt(&st, &[&id.as_i64()]).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    /// Delete a user and everything it owns in this aggregate (sessions). Returns whether it existed.
    async fn delete_user(&self, id: UserId) -> Result<bool> {
        // Sessions go with it through `ON DELETE CASCADE`.
        let c = self.client().await?;
        let st = c.prepare_cached(sql::DELETE_USER).await?;
        Ok(c.execute(&st, &[&id.as_i64()]).await? > 0)
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    /// Insert a new live session; `NotFound` when the user does not exist.
    async fn insert_session(&self, s: &NewSession) -> Result<Session> {
        let now = sql::now();
        let c = self.client().await?;
        let st = c.prepare_cached(sql::INSERT_SESSION).await?;
        let params: [&(dyn ToSql + Sync); 6] = [
            &s.id.as_i64(),
            &s.user_id.as_i64(),
            &s.device,
            &s.ip,
            &s.refresh_hash,
            &now,
        ];
        session(&c.query_one(&st, &params).await?)
    }

    /// The session with this id, revoked or not.
    async fn session(&self, id: SessionId) -> Result<Option<Session>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::SESSION_BY_ID).await?;
        c.query_opt(&st, &[&id.as_i64()])
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    /// A user's live sessions, newest first.
    async fn sessions_of_user(&self, user: UserId) -> Result<Vec<Session>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::SESSIONS_OF_USER).await?;
        c.query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(session)
            .collect()
    }

    /// Record activity (times are kept to the millisecond); `NotFound` when there is no such session.
    async fn touch_session(&self, id: SessionId, ip: &str, at: DateTime<Utc>) -> Result<()> {
        let at = sql::truncate_to_ms(at);
        let c = self.client().await?;
        let st = c.prepare_cached(sql::TOUCH_SESSION).await?;
        if c.execute(&st, &[&ip, &at, &id.as_i64()]).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replace the refresh hash if it still equals `expected`; returns false when it
    /// did not or the session is revoked (the caller then treats the presented token
    /// as reused). `NotFound` when there is no such session.
    async fn rotate_refresh(&self, id: SessionId, expected: &str, new_hash: &str) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::ROTATE_REFRESH).await?;
        if c.execute(&st, &[&new_hash, &id.as_i64(), &expected])
            .await?
            == 1
        {
            return Ok(true);
        }
        let st = c.prepare_cached(sql::SESSION_EXISTS).await?;
        match c.query_opt(&st, &[&id.as_i64()]).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    /// Revoke one session; returns whether a live session was revoked.
    async fn revoke_session(&self, id: SessionId) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::REVOKE_SESSION).await?;
        Ok(c.execute(&st, &[&id.as_i64()]).await? == 1)
    }

    /// Revoke every live session of a user except `keep`; returns how many.
    async fn revoke_user_sessions(&self, user: UserId, keep: Option<SessionId>) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::REVOKE_USER_SESSIONS).await?;
        let keep = keep.map(SessionId::as_i64);
        Ok(c.execute(&st, &[&user.as_i64(), &keep]).await?)
    }
}

impl PostgresStore {
    /// The first user a one-parameter query returns, if any.
    async fn one(&self, query: &str, param: &(dyn ToSql + Sync)) -> Result<Option<User>> {
        let c = self.client().await?;
        let st = c.prepare_cached(query).await?;
        c.query_opt(&st, &[param])
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }
}

/// A bound value as PostgreSQL takes it: BOOLEAN and JSONB natively.
fn to_postgres(v: Value) -> Box<dyn ToSql + Sync + Send> {
    match v {
        Value::Text(s) => Box::new(s),
        Value::Int(i) => Box::new(i),
        Value::Bool(b) => Box::new(b),
        Value::Json(j) => Box::new(j),
    }
}

/// A `users` row, columns in [`sql::USER_COLUMNS`] order.
fn user(r: &Row) -> Result<User> {
    Ok(User {
        id: UserId::from_i64(r.try_get(0)?),
        username: r.try_get(1)?,
        username_key: r.try_get(2)?,
        username_skeleton: r.try_get(3)?,
        email: r.try_get(4)?,
        email_key: r.try_get(5)?,
        password_hash: r.try_get(6)?,
        global_name: r.try_get(7)?,
        first_name: r.try_get(8)?,
        last_name: r.try_get(9)?,
        avatar: r.try_get(10)?,
        banner: r.try_get(11)?,
        bio: r.try_get(12)?,
        locale: r.try_get(13)?,
        flags: r.try_get(14)?,
        bot: r.try_get(15)?,
        system: r.try_get(16)?,
        admin: r.try_get(17)?,
        verified: r.try_get(18)?,
        mfa_enabled: r.try_get(19)?,
        totp_secret: r.try_get(20)?,
        totp_last_step: r.try_get(21)?,
        settings: r.try_get(22)?,
        created_at: r.try_get(23)?,
    })
}

/// A `sessions` row, columns in the order of `session_columns!` in `sql.rs`.
fn session(r: &Row) -> Result<Session> {
    Ok(Session {
        id: SessionId::from_i64(r.try_get(0)?),
        user_id: UserId::from_i64(r.try_get(1)?),
        device: r.try_get(2)?,
        ip: r.try_get(3)?,
        refresh_hash: r.try_get(4)?,
        previous_refresh_hash: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_seen_at: r.try_get(7)?,
        revoked: r.try_get(8)?,
    })
}
