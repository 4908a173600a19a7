//! Relationships, private channels, the direct-message index and phone
//! numbers on SQLite. Same methods, order and comments as `postgres/social.rs`.
//!
//! Every write is one closure on the single writer thread, so the
//! compare-and-set of a relationship pair and the member limit of a group are
//! atomic without locks.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use beep_types::{ChannelId, MessageId, UserId};

use super::SqliteStore;
use super::messages::{message, user_summary};
use crate::guilds::{Guarded, Refusal, UserSummary};
use crate::messages::MessageRecord;
use crate::social::{
    GroupPatch, NewGroup, PhoneRecord, PhoneStore, PrivateChannelEntry, PrivateChannelRecord,
    PrivateChannelStore, RecipientRemoval, RelationshipChange, RelationshipKind,
    RelationshipOutcome, RelationshipPair, RelationshipRecord, RelationshipStore,
};
use crate::sql;
use crate::sql_social as q;
use crate::{Result, StoreError};

#[async_trait]
impl RelationshipStore for SqliteStore {
    /// What `user` has with `other` (their row), if anything.
    async fn relationship(&self, user: UserId, other: UserId) -> Result<Option<RelationshipKind>> {
        self.readers
            .read(move |c| kind_of(c, user.as_i64(), other.as_i64()))
            .await
    }

    /// Both rows between `a` and `b`, read together.
    async fn relationship_pair(&self, a: UserId, b: UserId) -> Result<RelationshipPair> {
        self.readers
            .read(move |c| {
                Ok((
                    kind_of(c, a.as_i64(), b.as_i64())?,
                    kind_of(c, b.as_i64(), a.as_i64())?,
                ))
            })
            .await
    }

    /// Every row of `user`, by target id.
    async fn relationships(&self, user: UserId) -> Result<Vec<RelationshipRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::RELATIONSHIPS)?;
                let rows = st.query_map([user.as_i64()], relationship_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The friends of `user`, by id.
    async fn friends(&self, user: UserId) -> Result<Vec<UserId>> {
        self.readers
            .read(move |c| ids(c, q::FRIENDS, user.as_i64()))
            .await
            .map(|v| v.into_iter().map(UserId::from_i64).collect())
    }

    /// Whether either user blocked the other.
    async fn is_blocked(&self, a: UserId, b: UserId) -> Result<bool> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::IS_BLOCKED)?
                    .query_row([a.as_i64(), b.as_i64()], |_| Ok(()))
                    .optional()?
                    .is_some())
            })
            .await
    }

    /// Compare both rows with `expected` and write `new` (see [`RelationshipChange`]).
    /// `NotFound` when a user does not exist.
    async fn change_relationship(
        &self,
        change: &RelationshipChange,
    ) -> Result<Guarded<RelationshipOutcome>> {
        let ch = change.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let (a, b) = (ch.a.as_i64(), ch.b.as_i64());
                for u in [a, b] {
                    if !exists(c, q::USER_EXISTS, [u])? {
                        return Err(StoreError::NotFound);
                    }
                }
                let current = (kind_of(c, a, b)?, kind_of(c, b, a)?);
                if current != ch.expected {
                    return Ok(Err(Refusal::Stale));
                }
                for (user, was, will) in [(a, current.0, ch.new.0), (b, current.1, ch.new.1)] {
                    if was.is_none() && will.is_some() {
                        let n: i64 = c
                            .prepare_cached(q::COUNT_RELATIONSHIPS)?
                            .query_row([user], |r| r.get(0))?;
                        if n >= i64::from(ch.max_per_user) {
                            return Ok(Err(Refusal::LimitReached));
                        }
                    }
                }
                for (user, target, was, will) in
                    [(a, b, current.0, ch.new.0), (b, a, current.1, ch.new.1)]
                {
                    match will {
                        Some(k) if Some(k) != was => {
                            c.prepare_cached(q::UPSERT_RELATIONSHIP)?.execute(params![
                                user,
                                target,
                                k.code(),
                                now
                            ])?;
                        }
                        Some(_) => {}
                        None => {
                            c.prepare_cached(q::DELETE_RELATIONSHIP)?
                                .execute([user, target])?;
                        }
                    }
                }
                let mut outcome = RelationshipOutcome::default();
                if ch.erase_dm {
                    let (lo, hi) = (a.min(b), a.max(b));
                    let dm: Option<i64> = c
                        .prepare_cached(q::DM_BETWEEN)?
                        .query_row([lo, hi], |r| r.get(0))
                        .optional()?;
                    if let Some(id) = dm {
                        c.prepare_cached(q::DELETE_PRIVATE)?.execute([id])?;
                        outcome.erased_dm = Some(ChannelId::from_i64(id));
                    }
                }
                Ok(Ok(outcome))
            })
            .await
    }
}

#[async_trait]
impl PrivateChannelStore for SqliteStore {
    /// The private channel with this id and its recipients (`None` for guild channels).
    async fn private_channel(&self, id: ChannelId) -> Result<Option<PrivateChannelRecord>> {
        self.readers
            .read(move |c| private_by_id(c, id.as_i64()))
            .await
    }

    /// The recipient ids of a private channel (empty when there is none).
    async fn recipients(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        self.readers
            .read(move |c| ids(c, q::RECIPIENT_IDS, channel.as_i64()))
            .await
            .map(|v| v.into_iter().map(UserId::from_i64).collect())
    }

    /// The 1:1 channel of `a` and `b`, if they have one.
    async fn dm_between(&self, a: UserId, b: UserId) -> Result<Option<ChannelId>> {
        let (lo, hi) = (a.as_i64().min(b.as_i64()), a.as_i64().max(b.as_i64()));
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::DM_BETWEEN)?
                    .query_row([lo, hi], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(ChannelId::from_i64))
            })
            .await
    }

    /// The 1:1 channel of `a` and `b`, created with id `id` if they have none
    /// (the bool says whether it was created). Either way it is reopened for `a`.
    /// `NotFound` when a user does not exist.
    async fn open_dm(
        &self,
        id: ChannelId,
        a: UserId,
        b: UserId,
    ) -> Result<(PrivateChannelRecord, bool)> {
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let (a, b) = (a.as_i64(), b.as_i64());
                let (lo, hi) = (a.min(b), a.max(b));
                let existing: Option<i64> = c
                    .prepare_cached(q::DM_BETWEEN)?
                    .query_row([lo, hi], |r| r.get(0))
                    .optional()?;
                let (cid, created) = match existing {
                    Some(cid) => (cid, false),
                    None => {
                        let cid = id.as_i64();
                        c.prepare_cached(q::INSERT_CHANNEL)?.execute(params![
                            cid,
                            1,
                            Option::<String>::None,
                            now
                        ])?;
                        c.prepare_cached(q::INSERT_PRIVATE)?.execute(params![
                            cid,
                            Option::<i64>::None,
                            Option::<String>::None,
                            lo,
                            hi
                        ])?;
                        for u in [a, b] {
                            c.prepare_cached(q::INSERT_RECIPIENT)?
                                .execute(params![cid, u, now])?;
                        }
                        (cid, true)
                    }
                };
                c.prepare_cached(q::REOPEN)?.execute([cid, a])?;
                let record = private_by_id(c, cid)?.ok_or(StoreError::NotFound)?;
                Ok((record, created))
            })
            .await
    }

    /// Create a group; `Refusal::LimitReached` when it would have more than
    /// `max_members` (owner included). `NotFound` when a user does not exist.
    async fn create_group(
        &self,
        g: &NewGroup,
        max_members: u32,
    ) -> Result<Guarded<PrivateChannelRecord>> {
        let g = g.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let mut members = vec![g.owner_id.as_i64()];
                for r in &g.recipients {
                    if !members.contains(&r.as_i64()) {
                        members.push(r.as_i64());
                    }
                }
                if members.len() > max_members as usize {
                    return Ok(Err(Refusal::LimitReached));
                }
                let cid = g.id.as_i64();
                c.prepare_cached(q::INSERT_CHANNEL)?
                    .execute(params![cid, 3, g.name, now])?;
                c.prepare_cached(q::INSERT_PRIVATE)?.execute(params![
                    cid,
                    g.owner_id.as_i64(),
                    g.icon,
                    Option::<i64>::None,
                    Option::<i64>::None
                ])?;
                for u in members {
                    c.prepare_cached(q::INSERT_RECIPIENT)?
                        .execute(params![cid, u, now])?;
                }
                Ok(Ok(private_by_id(c, cid)?.ok_or(StoreError::NotFound)?))
            })
            .await
    }

    /// The private channels `user` sees: not closed, or closed and with a message
    /// since (see [`PrivateChannelStore::close_private_channel`]). Unordered.
    async fn private_channels(&self, user: UserId) -> Result<Vec<PrivateChannelEntry>> {
        self.readers
            .read(move |c| {
                let mut recipients: HashMap<i64, Vec<UserSummary>> = HashMap::new();
                let mut st = c.prepare_cached(q::LIST_RECIPIENTS)?;
                let mut rows = st.query([user.as_i64()])?;
                while let Some(r) = rows.next()? {
                    recipients
                        .entry(r.get(0)?)
                        .or_default()
                        .push(user_summary(r, 1)?);
                }
                let mut st = c.prepare_cached(q::LIST_PRIVATE)?;
                let mut rows = st.query([user.as_i64()])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut channel = private_row(r)?;
                    channel.recipients =
                        recipients.remove(&channel.id.as_i64()).unwrap_or_default();
                    out.push(PrivateChannelEntry {
                        channel,
                        pinned: r.get(6)?,
                        last_message_id: r.get::<_, Option<i64>>(7)?.map(MessageId::from_i64),
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Change a group's name or icon; `None` when there is no such group.
    async fn update_group(
        &self,
        id: ChannelId,
        patch: &GroupPatch,
    ) -> Result<Option<PrivateChannelRecord>> {
        let patch = patch.clone();
        self.writer
            .write(move |c| {
                let cid = id.as_i64();
                if !exists(c, q::IS_GROUP, [cid])? {
                    return Ok(None);
                }
                if let Some(name) = &patch.name {
                    c.prepare_cached(q::RENAME_GROUP)?
                        .execute(params![name, cid])?;
                }
                if let Some(icon) = &patch.icon {
                    c.prepare_cached(q::SET_GROUP_ICON)?
                        .execute(params![icon, cid])?;
                }
                private_by_id(c, cid)
            })
            .await
    }

    /// Add a recipient to a group unless it has `max_members`; `Ok(Ok(false))`
    /// when they already are one. `NotFound` when the group or user does not exist.
    async fn add_recipient(
        &self,
        channel: ChannelId,
        user: UserId,
        max_members: u32,
    ) -> Result<Guarded<bool>> {
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let (cid, uid) = (channel.as_i64(), user.as_i64());
                if !exists(c, q::IS_GROUP, [cid])? || !exists(c, q::USER_EXISTS, [uid])? {
                    return Err(StoreError::NotFound);
                }
                if exists(c, q::IS_RECIPIENT, [cid, uid])? {
                    return Ok(Ok(false));
                }
                let n: i64 = c
                    .prepare_cached(q::COUNT_RECIPIENTS)?
                    .query_row([cid], |r| r.get(0))?;
                if n >= i64::from(max_members) {
                    return Ok(Err(Refusal::LimitReached));
                }
                c.prepare_cached(q::INSERT_RECIPIENT)?
                    .execute(params![cid, uid, now])?;
                Ok(Ok(true))
            })
            .await
    }

    /// Remove a recipient from a group: ownership passes to the earliest
    /// remaining member when the owner leaves; the last one out deletes it.
    async fn remove_recipient(&self, channel: ChannelId, user: UserId) -> Result<RecipientRemoval> {
        self.writer
            .write(move |c| {
                let (cid, uid) = (channel.as_i64(), user.as_i64());
                if !exists(c, q::IS_GROUP, [cid])? || !exists(c, q::IS_RECIPIENT, [cid, uid])? {
                    return Ok(RecipientRemoval::NotRecipient);
                }
                c.prepare_cached(q::DELETE_INBOX_OF)?.execute([uid, cid])?;
                c.prepare_cached(q::DELETE_RECIPIENT)?.execute([cid, uid])?;
                let left = ids(c, q::RECIPIENT_IDS, cid)?;
                let Some(first) = left.first().copied() else {
                    c.prepare_cached(q::DELETE_PRIVATE)?.execute([cid])?;
                    return Ok(RecipientRemoval::Deleted);
                };
                let owner: Option<i64> =
                    c.prepare_cached(q::OWNER)?.query_row([cid], |r| r.get(0))?;
                if owner == Some(uid) {
                    c.prepare_cached(q::SET_OWNER)?.execute([first, cid])?;
                    return Ok(RecipientRemoval::Removed {
                        new_owner: Some(UserId::from_i64(first)),
                    });
                }
                Ok(RecipientRemoval::Removed { new_owner: None })
            })
            .await
    }

    /// Hide a channel from `user`'s list until a message newer than `at` (a
    /// snowflake) arrives; returns whether `user` is a recipient.
    async fn close_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        at: i64,
    ) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::CLOSE)?
                    .execute([at, channel.as_i64(), user.as_i64()])?
                    > 0)
            })
            .await
    }

    /// Pin (`Some(snowflake of now)`) or unpin a channel in `user`'s list;
    /// returns whether `user` is a recipient.
    async fn pin_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        pinned: Option<i64>,
    ) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::PIN)?.execute(params![
                    pinned,
                    channel.as_i64(),
                    user.as_i64()
                ])? > 0)
            })
            .await
    }

    /// Delete a private channel with its messages; returns whether it existed.
    async fn delete_private_channel(&self, id: ChannelId) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::DELETE_PRIVATE)?
                    .execute([id.as_i64()])?
                    > 0)
            })
            .await
    }

    /// Messages of private channels `user` was a recipient of when they were
    /// sent (their own included), newest first, older than `before`, at most `limit`.
    async fn direct_messages(
        &self,
        user: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let before = before.map_or(i64::MAX, MessageId::as_i64);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::DIRECT_MESSAGES.as_str())?;
                let rows = st.query_map(params![user.as_i64(), before, limit], message)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

#[async_trait]
impl PhoneStore for SqliteStore {
    /// Set `user`'s number (keeping `discoverable`, false for a first number);
    /// returns false, changing nothing, when another user has it.
    /// `NotFound` when the user does not exist.
    async fn set_phone(&self, user: UserId, phone: &str) -> Result<bool> {
        let phone = phone.to_owned();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let uid = user.as_i64();
                let owner: Option<i64> = c
                    .prepare_cached(q::PHONE_OWNER)?
                    .query_row([&phone], |r| r.get(0))
                    .optional()?;
                if owner.is_some_and(|o| o != uid) {
                    return Ok(false);
                }
                if !exists(c, q::USER_EXISTS, [uid])? {
                    return Err(StoreError::NotFound);
                }
                c.prepare_cached(q::UPSERT_PHONE)?
                    .execute(params![uid, phone, now])?;
                Ok(true)
            })
            .await
    }

    /// `user`'s number.
    async fn phone(&self, user: UserId) -> Result<Option<PhoneRecord>> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::PHONE)?
                    .query_row([user.as_i64()], |r| {
                        Ok(PhoneRecord {
                            user_id: UserId::from_i64(r.get(0)?),
                            phone: r.get(1)?,
                            discoverable: r.get(2)?,
                        })
                    })
                    .optional()?)
            })
            .await
    }

    /// Set whether `user` may be found by number; returns whether they have one.
    async fn set_phone_discoverable(&self, user: UserId, discoverable: bool) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::SET_DISCOVERABLE)?
                    .execute(params![discoverable, user.as_i64()])?
                    > 0)
            })
            .await
    }

    /// Remove `user`'s number; returns whether there was one.
    async fn remove_phone(&self, user: UserId) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::DELETE_PHONE)?
                    .execute([user.as_i64()])?
                    > 0)
            })
            .await
    }

    /// The discoverable users among these numbers, with the number each matched.
    async fn discoverable_by_phone(&self, phones: &[String]) -> Result<Vec<(String, UserSummary)>> {
        let phones = phones.to_vec();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::DISCOVERABLE_BY_PHONE)?;
                let mut out = Vec::new();
                for p in &phones {
                    let found = st
                        .query_row([p], |r| Ok((r.get::<_, String>(0)?, user_summary(r, 1)?)))
                        .optional()?;
                    out.extend(found);
                }
                Ok(out)
            })
            .await
    }
}

/// `user`'s row about `target`.
fn kind_of(c: &Connection, user: i64, target: i64) -> Result<Option<RelationshipKind>> {
    let k: Option<i64> = c
        .prepare_cached(q::RELATIONSHIP)?
        .query_row([user, target], |r| r.get(0))
        .optional()?;
    Ok(k.and_then(RelationshipKind::from_code))
}

/// Whether the query finds a row.
fn exists(c: &Connection, query: &str, p: impl rusqlite::Params) -> Result<bool> {
    Ok(c.prepare_cached(query)?
        .query_row(p, |_| Ok(()))
        .optional()?
        .is_some())
}

/// The first column of every row, as ids.
fn ids(c: &Connection, query: &str, p: i64) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(query)?;
    let rows = st.query_map([p], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The private channel `id` with its recipients.
fn private_by_id(c: &Connection, id: i64) -> Result<Option<PrivateChannelRecord>> {
    let Some(mut channel) = c
        .prepare_cached(q::PRIVATE_CHANNEL)?
        .query_row([id], private_row)
        .optional()?
    else {
        return Ok(None);
    };
    let mut st = c.prepare_cached(q::RECIPIENT_SUMMARIES)?;
    let rows = st.query_map([id], |r| user_summary(r, 0))?;
    channel.recipients = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(channel))
}

/// The first six columns of `PRIVATE_CHANNEL`/`LIST_PRIVATE`, without recipients.
fn private_row(r: &Row<'_>) -> rusqlite::Result<PrivateChannelRecord> {
    Ok(PrivateChannelRecord {
        id: ChannelId::from_i64(r.get(0)?),
        kind: r.get(1)?,
        name: r.get(2)?,
        icon: r.get(3)?,
        owner_id: r.get::<_, Option<i64>>(4)?.map(UserId::from_i64),
        recipients: Vec::new(),
        created_at: millis(r, 5)?,
    })
}

/// A row of `RELATIONSHIPS`.
fn relationship_row(r: &Row<'_>) -> rusqlite::Result<RelationshipRecord> {
    let code: i64 = r.get(1)?;
    Ok(RelationshipRecord {
        user_id: UserId::from_i64(r.get(0)?),
        kind: RelationshipKind::from_code(code).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                Type::Integer,
                format!("relationship kind {code}").into(),
            )
        })?,
        since: millis(r, 2)?,
        target: user_summary(r, 3)?,
    })
}

/// A millisecond timestamp column.
fn millis(r: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = r.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            Type::Integer,
            format!("timestamp {ms} ms is out of range").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::migrations::SQLITE;

    #[test]
    fn statements_number_parameters_in_order() {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        for m in SQLITE {
            c.execute_batch(m.sql).expect("migration");
        }
        for text in super::q::all() {
            let st = c.prepare(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for i in 1..=st.parameter_count() {
                assert_eq!(
                    st.parameter_name(i),
                    Some(format!("${i}").as_str()),
                    "parameter {i} of `{text}` is out of order"
                );
            }
        }
    }
}
