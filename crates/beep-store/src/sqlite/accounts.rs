//! Users and sessions on SQLite. Same methods, order and comments as
//! `postgres/accounts.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{Type, Value as SqlValue};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use beep_types::{SessionId, UserId};

use super::SqliteStore;
use crate::sql::{self, Value};
use crate::{
    NewSession, NewUser, Result, Session, SessionStore, StoreError, User, UserPatch, UserStore,
};

#[async_trait]
impl UserStore for SqliteStore {
    /// Insert a user; `Conflict("username")` or `Conflict("email")` when taken.
    async fn insert_user(&self, u: &NewUser) -> Result<User> {
        let u = u.clone();
        let created_at = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(sql::INSERT_USER)?;
                let params = params![
                    u.id.as_i64(),
                    u.username,
                    u.username_key,
                    u.username_skeleton,
                    u.email,
                    u.email_key,
                    u.password_hash,
                    u.global_name,
                    u.first_name,
                    u.last_name,
                    u.avatar,
                    u.bot,
                    u.admin,
                    u.verified,
                    u.locale,
                    created_at,
                    beep_search::fold(&u.username),
                    beep_search::fold(u.global_name.as_deref().unwrap_or("")),
                ];
                Ok(st.query_row(params, user)?)
            })
            .await
    }

    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.readers
            .read(move |c| one(c, sql::USER_BY_ID, id.as_i64()))
            .await
    }

    /// The user whose `username_key` is `key`.
    async fn user_by_username_key(&self, key: &str) -> Result<Option<User>> {
        let key = key.to_owned();
        self.readers
            .read(move |c| one(c, sql::USER_BY_USERNAME_KEY, key))
            .await
    }

    /// The user whose `email_key` is `key`.
    async fn user_by_email_key(&self, key: &str) -> Result<Option<User>> {
        let key = key.to_owned();
        self.readers
            .read(move |c| one(c, sql::USER_BY_EMAIL_KEY, key))
            .await
    }

    /// Usernames (as chosen) of up to `limit` users sharing a confusable skeleton.
    async fn usernames_with_skeleton(&self, skeleton: &str, limit: u32) -> Result<Vec<String>> {
        let skeleton = skeleton.to_owned();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(sql::USERNAMES_WITH_SKELETON)?;
                let rows = st.query_map(params![skeleton, i64::from(limit)], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .await
    }

    /// Apply a patch and return the new record; `NotFound`, or `Conflict` on a taken username or email.
    async fn update_user(&self, id: UserId, patch: &UserPatch) -> Result<User> {
        let Some(update) = sql::user_patch(id.as_i64(), patch) else {
            return self.user(id).await?.ok_or(StoreError::NotFound);
        };
        self.writer
            .write(move |c| {
                let values = update.values.into_iter().map(to_sqlite);
                let mut st = c.prepare_cached(&update.sql)?;
                st.query_row(params_from_iter(values), user)
                    .optional()?
                    .ok_or(StoreError::NotFound)
            })
            .await
    }

    /// Accept TOTP step `step` only if it is newer than the last accepted one;
    /// returns false (and changes nothing) otherwise. Atomic against concurrent calls.
    /// `NotFound` when there is no such user.
    async fn advance_totp_step(&self, id: UserId, step: i64) -> Result<bool> {
        // The single writer makes the compare-and-set atomic.
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(sql::ADVANCE_TOTP_STEP)?
                    .execute(params![step, id.as_i64()])?;
                if changed == 1 {
                    return Ok(true);
                }
                exists(c, sql::USER_EXISTS, id.as_i64())?
                    .then_some(false)
                    .ok_or(StoreError::NotFound)
            })
            .await
    }

    /// Delete a user and everything it owns in this aggregate (sessions). Returns whether it existed.
    async fn delete_user(&self, id: UserId) -> Result<bool> {
        // Sessions go with it through `ON DELETE CASCADE`.
        self.writer
            .write(move |c| {
                let deleted = c.prepare_cached(sql::DELETE_USER)?.execute([id.as_i64()])?;
                Ok(deleted > 0)
            })
            .await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    /// Insert a new live session; `NotFound` when the user does not exist.
    async fn insert_session(&self, s: &NewSession) -> Result<Session> {
        let s = s.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(sql::INSERT_SESSION)?;
                let params = params![
                    s.id.as_i64(),
                    s.user_id.as_i64(),
                    s.device,
                    s.ip,
                    s.refresh_hash,
                    now,
                ];
                Ok(st.query_row(params, session)?)
            })
            .await
    }

    /// The session with this id, revoked or not.
    async fn session(&self, id: SessionId) -> Result<Option<Session>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(sql::SESSION_BY_ID)?;
                Ok(st.query_row([id.as_i64()], session).optional()?)
            })
            .await
    }

    /// A user's live sessions, newest first.
    async fn sessions_of_user(&self, user: UserId) -> Result<Vec<Session>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(sql::SESSIONS_OF_USER)?;
                let rows = st.query_map([user.as_i64()], session)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Record activity (times are kept to the millisecond); `NotFound` when there is no such session.
    async fn touch_session(&self, id: SessionId, ip: &str, at: DateTime<Utc>) -> Result<()> {
        let ip = ip.to_owned();
        let at = at.timestamp_millis();
        self.writer
            .write(move |c| {
                let changed =
                    c.prepare_cached(sql::TOUCH_SESSION)?
                        .execute(params![ip, at, id.as_i64()])?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    /// Replace the refresh hash if it still equals `expected`; returns false when it
    /// did not or the session is revoked (the caller then treats the presented token
    /// as reused). `NotFound` when there is no such session.
    async fn rotate_refresh(&self, id: SessionId, expected: &str, new_hash: &str) -> Result<bool> {
        let (expected, new_hash) = (expected.to_owned(), new_hash.to_owned());
        self.writer
            .write(move |c| {
                let changed = c.prepare_cached(sql::ROTATE_REFRESH)?.execute(params![
                    new_hash,
                    id.as_i64(),
                    expected
                ])?;
                if changed == 1 {
                    return Ok(true);
                }
                exists(c, sql::SESSION_EXISTS, id.as_i64())?
                    .then_some(false)
                    .ok_or(StoreError::NotFound)
            })
            .await
    }

    /// Revoke one session; returns whether a live session was revoked.
    async fn revoke_session(&self, id: SessionId) -> Result<bool> {
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(sql::REVOKE_SESSION)?
                    .execute([id.as_i64()])?;
                Ok(changed == 1)
            })
            .await
    }

    /// Revoke every live session of a user except `keep`; returns how many.
    async fn revoke_user_sessions(&self, user: UserId, keep: Option<SessionId>) -> Result<u64> {
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(sql::REVOKE_USER_SESSIONS)?
                    .execute(params![user.as_i64(), keep.map(SessionId::as_i64)])?;
                Ok(changed as u64)
            })
            .await
    }
}

/// The first user a one-parameter query returns, if any.
fn one(c: &Connection, query: &str, param: impl rusqlite::ToSql) -> Result<Option<User>> {
    let mut st = c.prepare_cached(query)?;
    Ok(st.query_row([param], user).optional()?)
}

/// Whether a one-parameter existence query finds a row.
fn exists(c: &Connection, query: &str, id: i64) -> Result<bool> {
    let mut st = c.prepare_cached(query)?;
    Ok(st.exists([id])?)
}

/// A bound value as SQLite stores it: booleans as 0/1, JSON as text.
fn to_sqlite(v: Value) -> SqlValue {
    match v {
        Value::Text(Some(s)) => SqlValue::Text(s),
        Value::Text(None) => SqlValue::Null,
        Value::Int(i) => SqlValue::Integer(i),
        Value::Bool(b) => SqlValue::Integer(i64::from(b)),
        Value::Json(j) => SqlValue::Text(j.to_string()),
    }
}

/// A `users` row, columns in [`sql::USER_COLUMNS`] order.
fn user(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::from_i64(r.get(0)?),
        username: r.get(1)?,
        username_key: r.get(2)?,
        username_skeleton: r.get(3)?,
        email: r.get(4)?,
        email_key: r.get(5)?,
        password_hash: r.get(6)?,
        global_name: r.get(7)?,
        first_name: r.get(8)?,
        last_name: r.get(9)?,
        avatar: r.get(10)?,
        banner: r.get(11)?,
        bio: r.get(12)?,
        locale: r.get(13)?,
        flags: r.get(14)?,
        bot: r.get(15)?,
        system: r.get(16)?,
        admin: r.get(17)?,
        verified: r.get(18)?,
        mfa_enabled: r.get(19)?,
        totp_secret: r.get(20)?,
        totp_last_step: r.get(21)?,
        settings: json(r, 22)?,
        created_at: time(r, 23)?,
    })
}

/// A `sessions` row, columns in the order of `session_columns!` in `sql.rs`.
fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId::from_i64(r.get(0)?),
        user_id: UserId::from_i64(r.get(1)?),
        device: r.get(2)?,
        ip: r.get(3)?,
        refresh_hash: r.get(4)?,
        previous_refresh_hash: r.get(5)?,
        created_at: time(r, 6)?,
        last_seen_at: time(r, 7)?,
        revoked: r.get(8)?,
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

/// A JSON text column.
fn json(r: &Row<'_>, idx: usize) -> rusqlite::Result<serde_json::Value> {
    let text: String = r.get(idx)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}
