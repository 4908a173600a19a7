//! Messages, pins, reactions and read states on PostgreSQL. Same methods, order
//! and comments as `sqlite/messages.rs`.
//!
//! Writes that touch several rows run in one transaction. Where a check and a
//! write must not interleave with another node's (a nonce replay, the pin and
//! reaction limits), the transaction first takes a lock: an advisory lock on the
//! nonce, or the channel's row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::{ApplicationId, ChannelId, GuildId, MessageId, RoleId, UserId, WebhookId};

use super::PostgresStore;
use crate::guilds::{Guarded, Refusal, UserSummary};
use crate::messages::{
    EmojiKey, MessagePatch, MessageRecord, MessageRef, MessageStore, NewMessage, Page, PinStore,
    ReactionCount, ReactionStore, ReadStateRecord, ReadStateStore, id_list, id_text,
};
use crate::sql;
use crate::sql_messages as q;
use crate::{Result, StoreError};

#[async_trait]
impl MessageStore for PostgresStore {
    /// Insert a message with its mention rows, and move the author's read state
    /// to it. With `nonce_since`, a message of the same channel, author and nonce
    /// whose id is at least that bound is returned instead and nothing is written
    /// (the bool is false). `NotFound` when the channel does not exist.
    async fn insert_message(
        &self,
        m: &NewMessage,
        nonce_since: Option<MessageId>,
    ) -> Result<(MessageRecord, bool)> {
        let now = sql::now();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        if let (Some(since), Some(nonce)) = (nonce_since, &m.nonce) {
            // Two sends with one nonce wait for each other here, so the second
            // sees the first's message.
            let key = q::nonce_lock_key(m.channel_id.as_i64(), m.author_id.as_i64(), nonce);
            let st = tx.prepare_cached(q::PG_NONCE_LOCK).await?;
            tx.execute(&st, &[&key]).await?;
            let st = tx.prepare_cached(q::NONCE_MATCH).await?;
            let found = tx
                .query_opt(
                    &st,
                    &[
                        &m.channel_id.as_i64(),
                        &m.author_id.as_i64(),
                        nonce,
                        &since.as_i64(),
                    ],
                )
                .await?;
            if let Some(row) = found {
                let id = MessageId::from_i64(row.try_get(0)?);
                let original = message_by_id(&tx, m.channel_id, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                tx.commit().await?;
                return Ok((original, false));
            }
        }
        insert(&tx, m).await?;
        if m.webhook_id.is_none() {
            let st = tx.prepare_cached(q::ACK_FORWARD).await?;
            tx.execute(
                &st,
                &[
                    &m.author_id.as_i64(),
                    &m.channel_id.as_i64(),
                    &m.id.as_i64(),
                    &now,
                ],
            )
            .await?;
        }
        let stored = message_by_id(&tx, m.channel_id, m.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((stored, true))
    }

    /// The message `id` of `channel` (a message of another channel is `None`).
    async fn message(&self, channel: ChannelId, id: MessageId) -> Result<Option<MessageRecord>> {
        let c = self.client().await?;
        message_by_id(&c, channel, id).await
    }

    /// The messages with these ids that exist, in no particular order.
    async fn messages_by_ids(&self, ids: &[MessageId]) -> Result<Vec<MessageRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<i64> = ids.iter().map(|i| i.as_i64()).collect();
        let c = self.client().await?;
        let st = c.prepare_cached(q::PG_MESSAGES_BY_IDS).await?;
        c.query(&st, &[&list]).await?.iter().map(message).collect()
    }

    /// Up to `limit` messages of `channel`, newest first.
    async fn messages_page(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let ch = channel.as_i64();
        let limit = i64::from(limit);
        let c = self.client().await?;
        let c = &c;
        match page {
            Page::Latest => page_query(c, q::PAGE_LATEST, &[&ch, &limit]).await,
            Page::Before(id) => page_query(c, q::PAGE_BEFORE, &[&ch, &id.as_i64(), &limit]).await,
            Page::After(id) => {
                let mut v = page_query(c, q::PAGE_AFTER, &[&ch, &id.as_i64(), &limit]).await?;
                v.reverse();
                Ok(v)
            }
            Page::Around(id) => {
                let newer = (limit + 1) / 2;
                let mut v = page_query(c, q::PAGE_FROM, &[&ch, &id.as_i64(), &newer]).await?;
                v.reverse();
                let older = limit - v.len() as i64;
                if older > 0 {
                    v.extend(page_query(c, q::PAGE_BEFORE, &[&ch, &id.as_i64(), &older]).await?);
                }
                Ok(v)
            }
        }
    }

    /// The newest message id of a channel.
    async fn last_message_id(&self, channel: ChannelId) -> Result<Option<MessageId>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::LAST_MESSAGE_ID).await?;
        let id: Option<i64> = c.query_one(&st, &[&channel.as_i64()]).await?.try_get(0)?;
        Ok(id.map(MessageId::from_i64))
    }

    /// Apply an edit; `None` when `channel` has no such message.
    async fn update_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        patch: &MessagePatch,
    ) -> Result<Option<MessageRecord>> {
        let (ch, mid) = (channel.as_i64(), id.as_i64());
        let edited_at = patch.edited_at.map(sql::truncate_to_ms);
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::UPDATE_MESSAGE).await?;
        let changed = tx
            .execute(
                &st,
                &[
                    &patch.content,
                    &patch.embeds,
                    &patch.flags,
                    &edited_at,
                    &mid,
                    &ch,
                ],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        if let Some(set) = &patch.mentions {
            let st = tx.prepare_cached(q::UPDATE_MENTIONS).await?;
            tx.execute(
                &st,
                &[
                    &set.everyone,
                    &id_text(&set.users),
                    &id_text(&set.roles),
                    &id_text(&set.channels),
                    &mid,
                    &ch,
                ],
            )
            .await?;
            let st = tx.prepare_cached(q::DELETE_MENTIONS).await?;
            tx.execute(&st, &[&ch, &mid]).await?;
            let st = tx.prepare_cached(q::MESSAGE_AUTHOR).await?;
            let author: i64 = tx.query_one(&st, &[&mid]).await?.try_get(0)?;
            let st = tx.prepare_cached(q::INSERT_MENTION).await?;
            for t in &set.targets {
                tx.execute(&st, &[&ch, &mid, t, &author]).await?;
            }
        }
        let updated = message_by_id(&tx, channel, id).await?;
        if let Some(m) = &updated {
            super::search::reindex(&tx, m).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// Delete a message with its reactions and mention rows; returns it.
    async fn delete_message(
        &self,
        channel: ChannelId,
        id: MessageId,
    ) -> Result<Option<MessageRecord>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let Some(found) = message_by_id(&tx, channel, id).await? else {
            return Ok(None);
        };
        delete_one(&tx, channel.as_i64(), id.as_i64()).await?;
        tx.commit().await?;
        Ok(Some(found))
    }

    /// Delete these messages of `channel` in one transaction; returns the ids
    /// deleted (ids of other channels and unknown ids are skipped).
    async fn delete_messages(
        &self,
        channel: ChannelId,
        ids: &[MessageId],
    ) -> Result<Vec<MessageId>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let mut deleted = Vec::with_capacity(ids.len());
        for id in ids {
            if delete_one(&tx, channel.as_i64(), id.as_i64()).await? {
                deleted.push(*id);
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Delete every message `author` wrote in guild `guild` with an id of at least
    /// `since` (a ban's `delete_message_seconds`), with their mentions and
    /// reactions, in one transaction; returns what was deleted, oldest first.
    async fn delete_author_messages_since(
        &self,
        guild: GuildId,
        author: UserId,
        since: MessageId,
    ) -> Result<Vec<(ChannelId, MessageId)>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::AUTHOR_MESSAGES_SINCE).await?;
        let rows = tx
            .query(&st, &[&author.as_i64(), &guild.as_i64(), &since.as_i64()])
            .await?;
        let mut deleted = Vec::with_capacity(rows.len());
        for r in rows {
            let (ch, id): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            if delete_one(&tx, ch, id).await? {
                deleted.push((ChannelId::from_i64(ch), MessageId::from_i64(id)));
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// The users with these ids that exist, in no particular order.
    async fn user_summaries(&self, ids: &[UserId]) -> Result<Vec<UserSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<i64> = ids.iter().map(|i| i.as_i64()).collect();
        let c = self.client().await?;
        let st = c.prepare_cached(q::PG_USER_SUMMARIES).await?;
        c.query(&st, &[&list])
            .await?
            .iter()
            .map(|r| user_summary(r, 0))
            .collect()
    }
}

#[async_trait]
impl PinStore for PostgresStore {
    /// Pin a message of `channel` at `at` and insert `notice` (the pin notice,
    /// Discord's type 6), in one transaction, unless `max` messages are pinned.
    /// `Ok(Ok(Some(notice)))` when pinned now, `Ok(Ok(None))` when it already was
    /// (nothing written); `NotFound` when the channel has no such message.
    async fn pin_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        at: DateTime<Utc>,
        notice: &NewMessage,
        max: u32,
    ) -> Result<Guarded<Option<MessageRecord>>> {
        let (ch, mid) = (channel.as_i64(), id.as_i64());
        let at = sql::truncate_to_ms(at);
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::PG_LOCK_CHANNEL).await?;
        tx.query_opt(&st, &[&ch]).await?;
        let st = tx.prepare_cached(q::PIN_STATE).await?;
        let Some(row) = tx.query_opt(&st, &[&mid, &ch]).await? else {
            return Err(StoreError::NotFound);
        };
        let pinned_at: Option<DateTime<Utc>> = row.try_get(0)?;
        if pinned_at.is_some() {
            return Ok(Ok(None));
        }
        let st = tx.prepare_cached(q::COUNT_PINS).await?;
        let pinned: i64 = tx.query_one(&st, &[&ch]).await?.try_get(0)?;
        if pinned >= i64::from(max) {
            return Ok(Err(Refusal::LimitReached));
        }
        let st = tx.prepare_cached(q::SET_PINNED).await?;
        tx.execute(&st, &[&at, &mid, &ch]).await?;
        insert(&tx, notice).await?;
        let stored = message_by_id(&tx, notice.channel_id, notice.id).await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }

    /// Unpin a message of `channel`; returns whether it was pinned. `NotFound`
    /// when the channel has no such message.
    async fn unpin_message(&self, channel: ChannelId, id: MessageId) -> Result<bool> {
        let (ch, mid) = (channel.as_i64(), id.as_i64());
        let c = self.client().await?;
        let st = c.prepare_cached(q::UNPIN).await?;
        if c.execute(&st, &[&mid, &ch]).await? == 1 {
            return Ok(true);
        }
        let st = c.prepare_cached(q::MESSAGE_EXISTS).await?;
        match c.query_opt(&st, &[&mid, &ch]).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    /// Pinned messages of a channel, newest pin first, pinned before `before`.
    async fn pinned_messages(
        &self,
        channel: ChannelId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let (ch, limit) = (channel.as_i64(), i64::from(limit));
        let c = self.client().await?;
        let rows = match before {
            None => {
                let st = c.prepare_cached(q::PINNED).await?;
                c.query(&st, &[&ch, &limit]).await?
            }
            Some(t) => {
                // Stored times keep whole milliseconds; so must the bound.
                let t = sql::truncate_to_ms(t);
                let st = c.prepare_cached(q::PINNED_BEFORE).await?;
                c.query(&st, &[&ch, &t, &limit]).await?
            }
        };
        rows.iter().map(message).collect()
    }

    /// When the newest pin of a channel was made.
    async fn last_pin_at(&self, channel: ChannelId) -> Result<Option<DateTime<Utc>>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::LAST_PIN).await?;
        Ok(c.query_one(&st, &[&channel.as_i64()]).await?.try_get(0)?)
    }
}

#[async_trait]
impl ReactionStore for PostgresStore {
    /// Add `user`'s reaction with `emoji`, unless it would be the message's
    /// `max_emojis + 1`th emoji. `Ok(Ok(true))` when added, `Ok(Ok(false))` when
    /// it was already there; `NotFound` when the channel has no such message.
    async fn add_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: &EmojiKey,
        user: UserId,
        max_emojis: u32,
    ) -> Result<Guarded<bool>> {
        let (ch, mid) = (channel.as_i64(), message.as_i64());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // The channel's row lock keeps two new emojis from both passing the limit.
        let st = tx.prepare_cached(q::PG_LOCK_CHANNEL).await?;
        tx.query_opt(&st, &[&ch]).await?;
        let st = tx.prepare_cached(q::MESSAGE_EXISTS).await?;
        if tx.query_opt(&st, &[&mid, &ch]).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let st = tx.prepare_cached(q::EMOJI_PRESENT).await?;
        if tx.query_opt(&st, &[&ch, &mid, &emoji.key]).await?.is_none() {
            let st = tx.prepare_cached(q::COUNT_EMOJIS).await?;
            let emojis: i64 = tx.query_one(&st, &[&ch, &mid]).await?.try_get(0)?;
            if emojis >= i64::from(max_emojis) {
                return Ok(Err(Refusal::LimitReached));
            }
        }
        let st = tx.prepare_cached(q::INSERT_REACTION).await?;
        let added = tx
            .execute(
                &st,
                &[
                    &ch,
                    &mid,
                    &emoji.key,
                    &user.as_i64(),
                    &emoji.id,
                    &emoji.name,
                    &emoji.animated,
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(Ok(added == 1))
    }

    /// Remove one user's reaction; returns whether it was there.
    async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
        user: UserId,
    ) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_REACTION).await?;
        let n = c
            .execute(
                &st,
                &[
                    &channel.as_i64(),
                    &message.as_i64(),
                    &emoji_key,
                    &user.as_i64(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    /// Remove every reaction of a message; returns how many.
    async fn remove_all_reactions(&self, channel: ChannelId, message: MessageId) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_REACTIONS).await?;
        Ok(c.execute(&st, &[&channel.as_i64(), &message.as_i64()])
            .await?)
    }

    /// Remove every reaction of one emoji on a message; returns how many.
    async fn remove_emoji_reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
    ) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_EMOJI_REACTIONS).await?;
        Ok(
            c.execute(&st, &[&channel.as_i64(), &message.as_i64(), &emoji_key])
                .await?,
        )
    }

    /// Users who reacted with one emoji, by user id after `after`, at most `limit`.
    async fn reaction_users(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<UserSummary>> {
        let after = after.map_or(0, UserId::as_i64);
        let c = self.client().await?;
        let st = c.prepare_cached(q::REACTION_USERS).await?;
        c.query(
            &st,
            &[
                &channel.as_i64(),
                &message.as_i64(),
                &emoji_key,
                &after,
                &i64::from(limit),
            ],
        )
        .await?
        .iter()
        .map(|r| user_summary(r, 0))
        .collect()
    }

    /// Reaction counts of the messages of `channel` with ids in `from..=to`, each
    /// message's emojis in order of first use.
    async fn reaction_counts(
        &self,
        channel: ChannelId,
        from: MessageId,
        to: MessageId,
        viewer: UserId,
    ) -> Result<Vec<ReactionCount>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::REACTION_COUNTS).await?;
        let rows = c
            .query(
                &st,
                &[
                    &viewer.as_i64(),
                    &channel.as_i64(),
                    &from.as_i64(),
                    &to.as_i64(),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReactionCount {
                    message_id: MessageId::from_i64(r.try_get(0)?),
                    emoji: EmojiKey {
                        key: r.try_get(1)?,
                        id: r.try_get(2)?,
                        name: r.try_get(3)?,
                        animated: r.try_get::<_, i64>(4)? != 0,
                    },
                    count: count(r.try_get(5)?),
                    me: r.try_get::<_, i64>(6)? != 0,
                })
            })
            .collect()
    }
}

#[async_trait]
impl ReadStateStore for PostgresStore {
    /// Record that `user` read `channel` up to `message`. A normal ack only moves
    /// forward; a `manual` one (mark unread) may move back. Returns the position
    /// now stored. `NotFound` when the user or channel does not exist.
    async fn ack(
        &self,
        user: UserId,
        channel: ChannelId,
        message: MessageId,
        manual: bool,
        at: DateTime<Utc>,
    ) -> Result<MessageId> {
        let at = sql::truncate_to_ms(at);
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare_cached(if manual { q::ACK_SET } else { q::ACK_FORWARD })
            .await?;
        tx.execute(
            &st,
            &[&user.as_i64(), &channel.as_i64(), &message.as_i64(), &at],
        )
        .await?;
        let st = tx.prepare_cached(q::READ_POSITION).await?;
        let pos: i64 = tx
            .query_one(&st, &[&user.as_i64(), &channel.as_i64()])
            .await?
            .try_get(0)?;
        tx.commit().await?;
        Ok(MessageId::from_i64(pos))
    }

    /// The read states of `user` in channels that still exist and that the user
    /// can still reach (guild member, or not a guild channel), with counts.
    async fn read_states(&self, user: UserId) -> Result<Vec<ReadStateRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::READ_STATES).await?;
        c.query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(|r| {
                Ok(ReadStateRecord {
                    channel_id: ChannelId::from_i64(r.try_get(0)?),
                    guild_id: r.try_get::<_, Option<i64>>(6)?.map(GuildId::from_i64),
                    last_message_id: MessageId::from_i64(r.try_get(1)?),
                    unread_count: count(r.try_get(2)?),
                    mention_count: count(r.try_get(3)?),
                    channel_last_message_id: r
                        .try_get::<_, Option<i64>>(4)?
                        .map(MessageId::from_i64),
                    last_pin_at: r.try_get(5)?,
                })
            })
            .collect()
    }
}

/// Insert a message and its mention rows. `NotFound` when the channel does not
/// exist (the foreign key).
pub(super) async fn insert<C: GenericClient>(c: &C, m: &NewMessage) -> Result<()> {
    let (ch, id) = (m.channel_id.as_i64(), m.id.as_i64());
    let reference = m.reference;
    let st = c.prepare_cached(q::INSERT_MESSAGE).await?;
    let guild = m.guild_id.map(GuildId::as_i64);
    let author = m.author_id.as_i64();
    let webhook = m.webhook_id.map(WebhookId::as_i64);
    let application = m.application_id.map(ApplicationId::as_i64);
    let (users, roles, channels) = (
        id_text(&m.mention_users),
        id_text(&m.mention_roles),
        id_text(&m.mention_channels),
    );
    let ref_message = reference.map(|r| r.message_id.as_i64());
    let ref_channel = reference.map(|r| r.channel_id.as_i64());
    let ref_guild = reference.and_then(|r| r.guild_id.map(GuildId::as_i64));
    let params: [&(dyn ToSql + Sync); 22] = [
        &id,
        &ch,
        &guild,
        &author,
        &webhook,
        &application,
        &m.kind,
        &m.content,
        &m.flags,
        &m.tts,
        &m.nonce,
        &m.mention_everyone,
        &users,
        &roles,
        &channels,
        &ref_message,
        &ref_channel,
        &ref_guild,
        &m.embeds,
        &m.author_name,
        &m.author_avatar,
        &m.attachments,
    ];
    c.execute(&st, &params).await?;
    let st = c.prepare_cached(q::INSERT_MENTION).await?;
    for t in &m.mention_targets {
        c.execute(&st, &[&ch, &id, t, &author]).await?;
    }
    super::search::index_new(c, m).await
}

/// Delete one message with its mention rows and reactions; whether it existed.
async fn delete_one<C: GenericClient>(c: &C, ch: i64, id: i64) -> Result<bool> {
    let st = c.prepare_cached(q::DELETE_MESSAGE).await?;
    if c.execute(&st, &[&id, &ch]).await? == 0 {
        return Ok(false);
    }
    let st = c.prepare_cached(q::DELETE_MENTIONS).await?;
    c.execute(&st, &[&ch, &id]).await?;
    let st = c.prepare_cached(q::DELETE_REACTIONS).await?;
    c.execute(&st, &[&ch, &id]).await?;
    Ok(true)
}

/// The message `id` of `channel`.
async fn message_by_id<C: GenericClient>(
    c: &C,
    channel: ChannelId,
    id: MessageId,
) -> Result<Option<MessageRecord>> {
    let st = c.prepare_cached(q::MESSAGE_BY_ID).await?;
    c.query_opt(&st, &[&id.as_i64(), &channel.as_i64()])
        .await?
        .as_ref()
        .map(message)
        .transpose()
}

/// The messages a page statement returns.
async fn page_query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<MessageRecord>> {
    let st = c.prepare_cached(sql).await?;
    c.query(&st, params).await?.iter().map(message).collect()
}

/// A count column as `u32`.
fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The eight user summary columns starting at `at`, `None` when the id is null.
pub(super) fn opt_user_summary(r: &Row, at: usize) -> Result<Option<UserSummary>> {
    if r.try_get::<_, Option<i64>>(at)?.is_none() {
        return Ok(None);
    }
    user_summary(r, at).map(Some)
}

/// The eight user summary columns starting at `at`.
pub(super) fn user_summary(r: &Row, at: usize) -> Result<UserSummary> {
    Ok(UserSummary {
        id: UserId::from_i64(r.try_get(at)?),
        username: r.try_get(at + 1)?,
        global_name: r.try_get(at + 2)?,
        avatar: r.try_get(at + 3)?,
        banner: r.try_get(at + 4)?,
        bot: r.try_get(at + 5)?,
        system: r.try_get(at + 6)?,
        flags: r.try_get(at + 7)?,
    })
}

/// A message row, columns in the order of `message_select!`.
pub(super) fn message(r: &Row) -> Result<MessageRecord> {
    let ref_message: Option<i64> = r.try_get(17)?;
    let ref_channel: Option<i64> = r.try_get(18)?;
    let reference = match (ref_message, ref_channel) {
        (Some(m), Some(c)) => Some(MessageRef {
            message_id: MessageId::from_i64(m),
            channel_id: ChannelId::from_i64(c),
            guild_id: r.try_get::<_, Option<i64>>(19)?.map(GuildId::from_i64),
        }),
        _ => None,
    };
    Ok(MessageRecord {
        id: MessageId::from_i64(r.try_get(0)?),
        channel_id: ChannelId::from_i64(r.try_get(1)?),
        guild_id: r.try_get::<_, Option<i64>>(2)?.map(GuildId::from_i64),
        author_id: UserId::from_i64(r.try_get(3)?),
        webhook_id: r.try_get::<_, Option<i64>>(4)?.map(WebhookId::from_i64),
        application_id: r.try_get::<_, Option<i64>>(5)?.map(ApplicationId::from_i64),
        kind: r.try_get(6)?,
        content: r.try_get(7)?,
        flags: r.try_get(8)?,
        tts: r.try_get(9)?,
        nonce: r.try_get(10)?,
        edited_at: r.try_get(11)?,
        pinned_at: r.try_get(12)?,
        mention_everyone: r.try_get(13)?,
        mention_users: id_list(&r.try_get::<_, String>(14)?),
        mention_roles: id_list::<RoleId>(&r.try_get::<_, String>(15)?),
        mention_channels: id_list(&r.try_get::<_, String>(16)?),
        reference,
        embeds: r.try_get(20)?,
        author_name: r.try_get(21)?,
        author_avatar: r.try_get(22)?,
        attachments: r.try_get(23)?,
        author: opt_user_summary(r, 24)?,
    })
}
