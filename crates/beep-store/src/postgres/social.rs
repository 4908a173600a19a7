//! Relationships, private channels, the direct-message index and phone
//! numbers on PostgreSQL. Same methods, order and comments as `sqlite/social.rs`.
//!
//! A relationship change locks both users' rows (in id order) before it reads
//! the pair, so the compare-and-set and the per-user limit hold under
//! concurrency; a DM creation locks them too, so a pair gets one DM; a group
//! change locks the channel's row.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::{ChannelId, MessageId, UserId};

use super::PostgresStore;
use super::messages::{message, user_summary};
use crate::guilds::{Guarded, Refusal, UserSummary};
use crate::messages::MessageRecord;
use crate::social::{
    GroupPatch, NewGroup, PhoneRecord, PhoneStore, PrivateChannelEntry, PrivateChannelRecord,
    PrivateChannelStore, RecipientRemoval, RelationshipChange, RelationshipKind,
    RelationshipOutcome, RelationshipPair, RelationshipRecord, RelationshipStore,
};
use crate::sql;
use crate::sql_messages::PG_LOCK_CHANNEL;
use crate::sql_social as q;
use crate::{Result, StoreError};

#[async_trait]
impl RelationshipStore for PostgresStore {
    /// What `user` has with `other` (their row), if anything.
    async fn relationship(&self, user: UserId, other: UserId) -> Result<Option<RelationshipKind>> {
        let c = self.client().await?;
        kind_of(&c, user.as_i64(), other.as_i64()).await
    }

    /// Both rows between `a` and `b`, read together.
    async fn relationship_pair(&self, a: UserId, b: UserId) -> Result<RelationshipPair> {
        let mut c = self.client().await?;
        let tx = c.build_transaction().read_only(true).start().await?;
        let pair = (
            kind_of(&tx, a.as_i64(), b.as_i64()).await?,
            kind_of(&tx, b.as_i64(), a.as_i64()).await?,
        );
        tx.commit().await?;
        Ok(pair)
    }

    /// Every row of `user`, by target id.
    async fn relationships(&self, user: UserId) -> Result<Vec<RelationshipRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::RELATIONSHIPS).await?;
        c.query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(relationship_row)
            .collect()
    }

    /// The friends of `user`, by id.
    async fn friends(&self, user: UserId) -> Result<Vec<UserId>> {
        let c = self.client().await?;
        Ok(ids(&c, q::FRIENDS, user.as_i64())
            .await?
            .into_iter()
            .map(UserId::from_i64)
            .collect())
    }

    /// Whether either user blocked the other.
    async fn is_blocked(&self, a: UserId, b: UserId) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::IS_BLOCKED).await?;
        Ok(c.query_opt(&st, &[&a.as_i64(), &b.as_i64()])
            .await?
            .is_some())
    }

    /// Compare both rows with `expected` and write `new` (see [`RelationshipChange`]).
    /// `NotFound` when a user does not exist.
    async fn change_relationship(
        &self,
        ch: &RelationshipChange,
    ) -> Result<Guarded<RelationshipOutcome>> {
        let now = sql::now();
        let (a, b) = (ch.a.as_i64(), ch.b.as_i64());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::PG_LOCK_USERS).await?;
        if tx.query(&st, &[&a, &b]).await?.len() != 2 {
            return Err(StoreError::NotFound);
        }
        let current = (kind_of(&tx, a, b).await?, kind_of(&tx, b, a).await?);
        if current != ch.expected {
            return Ok(Err(Refusal::Stale));
        }
        for (user, was, will) in [(a, current.0, ch.new.0), (b, current.1, ch.new.1)] {
            if was.is_none() && will.is_some() {
                let st = tx.prepare_cached(q::COUNT_RELATIONSHIPS).await?;
                let n: i64 = tx.query_one(&st, &[&user]).await?.try_get(0)?;
                if n >= i64::from(ch.max_per_user) {
                    return Ok(Err(Refusal::LimitReached));
                }
            }
        }
        for (user, target, was, will) in [(a, b, current.0, ch.new.0), (b, a, current.1, ch.new.1)]
        {
            match will {
                Some(k) if Some(k) != was => {
                    let st = tx.prepare_cached(q::UPSERT_RELATIONSHIP).await?;
                    tx.execute(&st, &[&user, &target, &k.code(), &now]).await?;
                }
                Some(_) => {}
                None => {
                    let st = tx.prepare_cached(q::DELETE_RELATIONSHIP).await?;
                    tx.execute(&st, &[&user, &target]).await?;
                }
            }
        }
        let mut outcome = RelationshipOutcome::default();
        if ch.erase_dm {
            let st = tx.prepare_cached(q::DM_BETWEEN).await?;
            if let Some(row) = tx.query_opt(&st, &[&a.min(b), &a.max(b)]).await? {
                let id: i64 = row.try_get(0)?;
                let st = tx.prepare_cached(q::DELETE_PRIVATE).await?;
                tx.execute(&st, &[&id]).await?;
                outcome.erased_dm = Some(ChannelId::from_i64(id));
            }
        }
        tx.commit().await?;
        Ok(Ok(outcome))
    }
}

#[async_trait]
impl PrivateChannelStore for PostgresStore {
    /// The private channel with this id and its recipients (`None` for guild channels).
    async fn private_channel(&self, id: ChannelId) -> Result<Option<PrivateChannelRecord>> {
        let c = self.client().await?;
        private_by_id(&c, id.as_i64()).await
    }

    /// The recipient ids of a private channel (empty when there is none).
    async fn recipients(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        let c = self.client().await?;
        Ok(ids(&c, q::RECIPIENT_IDS, channel.as_i64())
            .await?
            .into_iter()
            .map(UserId::from_i64)
            .collect())
    }

    /// The 1:1 channel of `a` and `b`, if they have one.
    async fn dm_between(&self, a: UserId, b: UserId) -> Result<Option<ChannelId>> {
        let (lo, hi) = (a.as_i64().min(b.as_i64()), a.as_i64().max(b.as_i64()));
        let c = self.client().await?;
        let st = c.prepare_cached(q::DM_BETWEEN).await?;
        match c.query_opt(&st, &[&lo, &hi]).await? {
            Some(r) => Ok(Some(ChannelId::from_i64(r.try_get(0)?))),
            None => Ok(None),
        }
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
        let now = sql::now();
        let (a, b) = (a.as_i64(), b.as_i64());
        let (lo, hi) = (a.min(b), a.max(b));
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::PG_LOCK_USERS).await?;
        if tx.query(&st, &[&a, &b]).await?.len() != 2 {
            return Err(StoreError::NotFound);
        }
        let st = tx.prepare_cached(q::DM_BETWEEN).await?;
        let existing = tx.query_opt(&st, &[&lo, &hi]).await?;
        let (cid, created) = match existing {
            Some(r) => (r.try_get::<_, i64>(0)?, false),
            None => {
                let cid = id.as_i64();
                let st = tx.prepare_cached(q::INSERT_CHANNEL).await?;
                tx.execute(&st, &[&cid, &1i64, &None::<String>, &now])
                    .await?;
                let st = tx.prepare_cached(q::INSERT_PRIVATE).await?;
                tx.execute(&st, &[&cid, &None::<i64>, &None::<String>, &lo, &hi])
                    .await?;
                let st = tx.prepare_cached(q::INSERT_RECIPIENT).await?;
                for u in [a, b] {
                    tx.execute(&st, &[&cid, &u, &now]).await?;
                }
                (cid, true)
            }
        };
        let st = tx.prepare_cached(q::REOPEN).await?;
        tx.execute(&st, &[&cid, &a]).await?;
        let record = private_by_id(&tx, cid).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((record, created))
    }

    /// Create a group; `Refusal::LimitReached` when it would have more than
    /// `max_members` (owner included). `NotFound` when a user does not exist.
    async fn create_group(
        &self,
        g: &NewGroup,
        max_members: u32,
    ) -> Result<Guarded<PrivateChannelRecord>> {
        let now = sql::now();
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
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::INSERT_CHANNEL).await?;
        tx.execute(&st, &[&cid, &3i64, &g.name, &now]).await?;
        let st = tx.prepare_cached(q::INSERT_PRIVATE).await?;
        let params: [&(dyn ToSql + Sync); 5] = [
            &cid,
            &g.owner_id.as_i64(),
            &g.icon,
            &None::<i64>,
            &None::<i64>,
        ];
        tx.execute(&st, &params).await?;
        let st = tx.prepare_cached(q::INSERT_RECIPIENT).await?;
        for u in members {
            tx.execute(&st, &[&cid, &u, &now]).await?;
        }
        let record = private_by_id(&tx, cid).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(Ok(record))
    }

    /// The private channels `user` sees: not closed, or closed and with a message
    /// since (see [`PrivateChannelStore::close_private_channel`]). Unordered.
    async fn private_channels(&self, user: UserId) -> Result<Vec<PrivateChannelEntry>> {
        let mut c = self.client().await?;
        let tx = c.build_transaction().read_only(true).start().await?;
        let mut recipients: HashMap<i64, Vec<UserSummary>> = HashMap::new();
        let st = tx.prepare_cached(q::LIST_RECIPIENTS).await?;
        for r in tx.query(&st, &[&user.as_i64()]).await? {
            recipients
                .entry(r.try_get(0)?)
                .or_default()
                .push(user_summary(&r, 1)?);
        }
        let st = tx.prepare_cached(q::LIST_PRIVATE).await?;
        let mut out = Vec::new();
        for r in tx.query(&st, &[&user.as_i64()]).await? {
            let mut channel = private_row(&r)?;
            channel.recipients = recipients.remove(&channel.id.as_i64()).unwrap_or_default();
            out.push(PrivateChannelEntry {
                channel,
                pinned: r.try_get(6)?,
                last_message_id: r.try_get::<_, Option<i64>>(7)?.map(MessageId::from_i64),
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Change a group's name or icon; `None` when there is no such group.
    async fn update_group(
        &self,
        id: ChannelId,
        patch: &GroupPatch,
    ) -> Result<Option<PrivateChannelRecord>> {
        let cid = id.as_i64();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        if !exists(&tx, q::IS_GROUP, &[&cid]).await? {
            return Ok(None);
        }
        if let Some(name) = &patch.name {
            let st = tx.prepare_cached(q::RENAME_GROUP).await?;
            tx.execute(&st, &[name, &cid]).await?;
        }
        if let Some(icon) = &patch.icon {
            let st = tx.prepare_cached(q::SET_GROUP_ICON).await?;
            tx.execute(&st, &[icon, &cid]).await?;
        }
        let record = private_by_id(&tx, cid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Add a recipient to a group unless it has `max_members`; `Ok(Ok(false))`
    /// when they already are one. `NotFound` when the group or user does not exist.
    async fn add_recipient(
        &self,
        channel: ChannelId,
        user: UserId,
        max_members: u32,
    ) -> Result<Guarded<bool>> {
        let now = sql::now();
        let (cid, uid) = (channel.as_i64(), user.as_i64());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(PG_LOCK_CHANNEL).await?;
        tx.query_opt(&st, &[&cid]).await?;
        if !exists(&tx, q::IS_GROUP, &[&cid]).await?
            || !exists(&tx, q::USER_EXISTS, &[&uid]).await?
        {
            return Err(StoreError::NotFound);
        }
        if exists(&tx, q::IS_RECIPIENT, &[&cid, &uid]).await? {
            return Ok(Ok(false));
        }
        let st = tx.prepare_cached(q::COUNT_RECIPIENTS).await?;
        let n: i64 = tx.query_one(&st, &[&cid]).await?.try_get(0)?;
        if n >= i64::from(max_members) {
            return Ok(Err(Refusal::LimitReached));
        }
        let st = tx.prepare_cached(q::INSERT_RECIPIENT).await?;
        tx.execute(&st, &[&cid, &uid, &now]).await?;
        tx.commit().await?;
        Ok(Ok(true))
    }

    /// Remove a recipient from a group: ownership passes to the earliest
    /// remaining member when the owner leaves; the last one out deletes it.
    async fn remove_recipient(&self, channel: ChannelId, user: UserId) -> Result<RecipientRemoval> {
        let (cid, uid) = (channel.as_i64(), user.as_i64());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(PG_LOCK_CHANNEL).await?;
        tx.query_opt(&st, &[&cid]).await?;
        if !exists(&tx, q::IS_GROUP, &[&cid]).await?
            || !exists(&tx, q::IS_RECIPIENT, &[&cid, &uid]).await?
        {
            return Ok(RecipientRemoval::NotRecipient);
        }
        let st = tx.prepare_cached(q::DELETE_INBOX_OF).await?;
        tx.execute(&st, &[&uid, &cid]).await?;
        let st = tx.prepare_cached(q::DELETE_RECIPIENT).await?;
        tx.execute(&st, &[&cid, &uid]).await?;
        let left = ids(&tx, q::RECIPIENT_IDS, cid).await?;
        let outcome = match left.first().copied() {
            None => {
                let st = tx.prepare_cached(q::DELETE_PRIVATE).await?;
                tx.execute(&st, &[&cid]).await?;
                RecipientRemoval::Deleted
            }
            Some(first) => {
                let st = tx.prepare_cached(q::OWNER).await?;
                let owner: Option<i64> = tx.query_one(&st, &[&cid]).await?.try_get(0)?;
                if owner == Some(uid) {
                    let st = tx.prepare_cached(q::SET_OWNER).await?;
                    tx.execute(&st, &[&first, &cid]).await?;
                    RecipientRemoval::Removed {
                        new_owner: Some(UserId::from_i64(first)),
                    }
                } else {
                    RecipientRemoval::Removed { new_owner: None }
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Hide a channel from `user`'s list until a message newer than `at` (a
    /// snowflake) arrives; returns whether `user` is a recipient.
    async fn close_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        at: i64,
    ) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::CLOSE).await?;
        Ok(c.execute(&st, &[&at, &channel.as_i64(), &user.as_i64()])
            .await?
            > 0)
    }

    /// Pin (`Some(snowflake of now)`) or unpin a channel in `user`'s list;
    /// returns whether `user` is a recipient.
    async fn pin_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        pinned: Option<i64>,
    ) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::PIN).await?;
        Ok(
            c.execute(&st, &[&pinned, &channel.as_i64(), &user.as_i64()])
                .await?
                > 0,
        )
    }

    /// Delete a private channel with its messages; returns whether it existed.
    async fn delete_private_channel(&self, id: ChannelId) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_PRIVATE).await?;
        Ok(c.execute(&st, &[&id.as_i64()]).await? > 0)
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
        let c = self.client().await?;
        let st = c.prepare_cached(q::DIRECT_MESSAGES.as_str()).await?;
        c.query(&st, &[&user.as_i64(), &before, &i64::from(limit)])
            .await?
            .iter()
            .map(message)
            .collect()
    }
}

#[async_trait]
impl PhoneStore for PostgresStore {
    /// Set `user`'s number (keeping `discoverable`, false for a first number);
    /// returns false, changing nothing, when another user has it.
    /// `NotFound` when the user does not exist.
    async fn set_phone(&self, user: UserId, phone: &str) -> Result<bool> {
        let now = sql::now();
        let uid = user.as_i64();
        let c = self.client().await?;
        let st = c.prepare_cached(q::PHONE_OWNER).await?;
        if let Some(r) = c.query_opt(&st, &[&phone]).await?
            && r.try_get::<_, i64>(0)? != uid
        {
            return Ok(false);
        }
        let st = c.prepare_cached(q::UPSERT_PHONE).await?;
        match c.execute(&st, &[&uid, &phone, &now]).await {
            Ok(_) => Ok(true),
            // Taken by another user between the check and the write.
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => Ok(false),
                e => Err(e),
            },
        }
    }

    /// `user`'s number.
    async fn phone(&self, user: UserId) -> Result<Option<PhoneRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::PHONE).await?;
        match c.query_opt(&st, &[&user.as_i64()]).await? {
            Some(r) => Ok(Some(PhoneRecord {
                user_id: UserId::from_i64(r.try_get(0)?),
                phone: r.try_get(1)?,
                discoverable: r.try_get(2)?,
            })),
            None => Ok(None),
        }
    }

    /// Set whether `user` may be found by number; returns whether they have one.
    async fn set_phone_discoverable(&self, user: UserId, discoverable: bool) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::SET_DISCOVERABLE).await?;
        Ok(c.execute(&st, &[&discoverable, &user.as_i64()]).await? > 0)
    }

    /// Remove `user`'s number; returns whether there was one.
    async fn remove_phone(&self, user: UserId) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_PHONE).await?;
        Ok(c.execute(&st, &[&user.as_i64()]).await? > 0)
    }

    /// The discoverable users among these numbers, with the number each matched.
    async fn discoverable_by_phone(&self, phones: &[String]) -> Result<Vec<(String, UserSummary)>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DISCOVERABLE_BY_PHONE).await?;
        let mut out = Vec::new();
        for p in phones {
            if let Some(r) = c.query_opt(&st, &[p]).await? {
                out.push((r.try_get(0)?, user_summary(&r, 1)?));
            }
        }
        Ok(out)
    }
}

/// `user`'s row about `target`.
async fn kind_of<C: GenericClient>(
    c: &C,
    user: i64,
    target: i64,
) -> Result<Option<RelationshipKind>> {
    let st = c.prepare_cached(q::RELATIONSHIP).await?;
    match c.query_opt(&st, &[&user, &target]).await? {
        Some(r) => Ok(RelationshipKind::from_code(r.try_get(0)?)),
        None => Ok(None),
    }
}

/// Whether the query finds a row.
async fn exists<C: GenericClient>(c: &C, query: &str, p: &[&(dyn ToSql + Sync)]) -> Result<bool> {
    let st = c.prepare_cached(query).await?;
    Ok(c.query_opt(&st, p).await?.is_some())
}

/// The first column of every row, as ids.
async fn ids<C: GenericClient>(c: &C, query: &str, p: i64) -> Result<Vec<i64>> {
    let st = c.prepare_cached(query).await?;
    c.query(&st, &[&p])
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

/// The private channel `id` with its recipients.
async fn private_by_id<C: GenericClient>(c: &C, id: i64) -> Result<Option<PrivateChannelRecord>> {
    let st = c.prepare_cached(q::PRIVATE_CHANNEL).await?;
    let Some(row) = c.query_opt(&st, &[&id]).await? else {
        return Ok(None);
    };
    let mut channel = private_row(&row)?;
    let st = c.prepare_cached(q::RECIPIENT_SUMMARIES).await?;
    channel.recipients = c
        .query(&st, &[&id])
        .await?
        .iter()
        .map(|r| user_summary(r, 0))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(channel))
}

/// The first six columns of `PRIVATE_CHANNEL`/`LIST_PRIVATE`, without recipients.
fn private_row(r: &Row) -> Result<PrivateChannelRecord> {
    Ok(PrivateChannelRecord {
        id: ChannelId::from_i64(r.try_get(0)?),
        kind: r.try_get(1)?,
        name: r.try_get(2)?,
        icon: r.try_get(3)?,
        owner_id: r.try_get::<_, Option<i64>>(4)?.map(UserId::from_i64),
        recipients: Vec::new(),
        created_at: r.try_get(5)?,
    })
}

/// A row of `RELATIONSHIPS`.
fn relationship_row(r: &Row) -> Result<RelationshipRecord> {
    let code: i64 = r.try_get(1)?;
    Ok(RelationshipRecord {
        user_id: UserId::from_i64(r.try_get(0)?),
        kind: RelationshipKind::from_code(code)
            .ok_or_else(|| StoreError::Internal(format!("relationship kind {code}")))?,
        since: r.try_get(2)?,
        target: user_summary(r, 3)?,
    })
}
