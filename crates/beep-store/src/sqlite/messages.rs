//! Messages, pins, reactions and read states on SQLite. Same methods, order and
//! comments as `postgres/messages.rs`.
//!
//! Every write is one closure on the writer thread, so it runs in one savepoint
//! of a group commit: a message and its mention rows, a pin and its notice, a
//! bulk delete are each all or nothing, and the single writer makes the limit
//! checks (pins, reactions) atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use beep_types::{ApplicationId, ChannelId, GuildId, MessageId, RoleId, UserId, WebhookId};

use super::SqliteStore;
use crate::guilds::{Guarded, Refusal, UserSummary};
use crate::messages::{
    EmojiKey, MessagePatch, MessageRecord, MessageRef, MessageStore, NewMessage, Page, PinStore,
    ReactionCount, ReactionStore, ReadStateRecord, ReadStateStore, id_list, id_text,
};
use crate::sql;
use crate::sql_messages as q;
use crate::{Result, StoreError};

#[async_trait]
impl MessageStore for SqliteStore {
    /// Insert a message with its mention rows, and move the author's read state
    /// to it. With `nonce_since`, a message of the same channel, author and nonce
    /// whose id is at least that bound is returned instead and nothing is written
    /// (the bool is false). `NotFound` when the channel does not exist.
    async fn insert_message(
        &self,
        m: &NewMessage,
        nonce_since: Option<MessageId>,
    ) -> Result<(MessageRecord, bool)> {
        let m = m.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                // The single writer runs this check and the insert with nothing in
                // between, so two sends with one nonce cannot both insert.
                if let (Some(since), Some(nonce)) = (nonce_since, &m.nonce) {
                    let found: Option<i64> = c
                        .prepare_cached(q::NONCE_MATCH)?
                        .query_row(
                            params![
                                m.channel_id.as_i64(),
                                m.author_id.as_i64(),
                                nonce,
                                since.as_i64()
                            ],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(id) = found {
                        let original = message_by_id(c, m.channel_id, MessageId::from_i64(id))?
                            .ok_or(StoreError::NotFound)?;
                        return Ok((original, false));
                    }
                }
                insert(c, &m)?;
                if m.webhook_id.is_none() {
                    c.prepare_cached(q::ACK_FORWARD)?.execute(params![
                        m.author_id.as_i64(),
                        m.channel_id.as_i64(),
                        m.id.as_i64(),
                        now
                    ])?;
                }
                let stored = message_by_id(c, m.channel_id, m.id)?.ok_or(StoreError::NotFound)?;
                Ok((stored, true))
            })
            .await
    }

    /// The message `id` of `channel` (a message of another channel is `None`).
    async fn message(&self, channel: ChannelId, id: MessageId) -> Result<Option<MessageRecord>> {
        self.readers
            .read(move |c| message_by_id(c, channel, id))
            .await
    }

    /// The messages with these ids that exist, in no particular order.
    async fn messages_by_ids(&self, ids: &[MessageId]) -> Result<Vec<MessageRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_ids(ids.iter().map(|i| i.as_i64()));
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::SQLITE_MESSAGES_BY_IDS)?;
                let rows = st.query_map([list], message)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
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
        self.readers
            .read(move |c| {
                let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Vec<MessageRecord>> {
                    let mut st = c.prepare_cached(sql)?;
                    let rows = st.query_map(p, message)?;
                    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
                };
                match page {
                    Page::Latest => run(q::PAGE_LATEST, &[&ch, &limit]),
                    Page::Before(id) => run(q::PAGE_BEFORE, &[&ch, &id.as_i64(), &limit]),
                    Page::After(id) => {
                        let mut v = run(q::PAGE_AFTER, &[&ch, &id.as_i64(), &limit])?;
                        v.reverse();
                        Ok(v)
                    }
                    Page::Around(id) => {
                        let newer = (limit + 1) / 2;
                        let mut v = run(q::PAGE_FROM, &[&ch, &id.as_i64(), &newer])?;
                        v.reverse();
                        let older = limit - v.len() as i64;
                        if older > 0 {
                            v.extend(run(q::PAGE_BEFORE, &[&ch, &id.as_i64(), &older])?);
                        }
                        Ok(v)
                    }
                }
            })
            .await
    }

    /// The newest message id of a channel.
    async fn last_message_id(&self, channel: ChannelId) -> Result<Option<MessageId>> {
        self.readers
            .read(move |c| {
                let id: Option<i64> = c
                    .prepare_cached(q::LAST_MESSAGE_ID)?
                    .query_row([channel.as_i64()], |r| r.get(0))?;
                Ok(id.map(MessageId::from_i64))
            })
            .await
    }

    /// Apply an edit; `None` when `channel` has no such message.
    async fn update_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        patch: &MessagePatch,
    ) -> Result<Option<MessageRecord>> {
        let patch = patch.clone();
        self.writer
            .write(move |c| {
                let (ch, mid) = (channel.as_i64(), id.as_i64());
                let changed = c.prepare_cached(q::UPDATE_MESSAGE)?.execute(params![
                    patch.content,
                    patch.embeds,
                    patch.flags,
                    patch.edited_at.map(|t| t.timestamp_millis()),
                    mid,
                    ch
                ])?;
                if changed == 0 {
                    return Ok(None);
                }
                if let Some(set) = &patch.mentions {
                    c.prepare_cached(q::UPDATE_MENTIONS)?.execute(params![
                        set.everyone,
                        id_text(&set.users),
                        id_text(&set.roles),
                        id_text(&set.channels),
                        mid,
                        ch
                    ])?;
                    c.prepare_cached(q::DELETE_MENTIONS)?
                        .execute(params![ch, mid])?;
                    let author: i64 = c
                        .prepare_cached(q::MESSAGE_AUTHOR)?
                        .query_row([mid], |r| r.get(0))?;
                    let mut st = c.prepare_cached(q::INSERT_MENTION)?;
                    for t in &set.targets {
                        st.execute(params![ch, mid, t, author])?;
                    }
                }
                let updated = message_by_id(c, channel, id)?;
                if let Some(m) = &updated {
                    super::search::reindex(c, m)?;
                }
                Ok(updated)
            })
            .await
    }

    /// Delete a message with its reactions and mention rows; returns it.
    async fn delete_message(
        &self,
        channel: ChannelId,
        id: MessageId,
    ) -> Result<Option<MessageRecord>> {
        self.writer
            .write(move |c| {
                let Some(found) = message_by_id(c, channel, id)? else {
                    return Ok(None);
                };
                delete_one(c, channel.as_i64(), id.as_i64())?;
                Ok(Some(found))
            })
            .await
    }

    /// Delete these messages of `channel` in one transaction; returns the ids
    /// deleted (ids of other channels and unknown ids are skipped).
    async fn delete_messages(
        &self,
        channel: ChannelId,
        ids: &[MessageId],
    ) -> Result<Vec<MessageId>> {
        let ids = ids.to_vec();
        self.writer
            .write(move |c| {
                let mut deleted = Vec::with_capacity(ids.len());
                for id in ids {
                    if delete_one(c, channel.as_i64(), id.as_i64())? {
                        deleted.push(id);
                    }
                }
                Ok(deleted)
            })
            .await
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
        self.writer
            .write(move |c| {
                let found = c
                    .prepare_cached(q::AUTHOR_MESSAGES_SINCE)?
                    .query_map(
                        params![author.as_i64(), guild.as_i64(), since.as_i64()],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut deleted = Vec::with_capacity(found.len());
                for (ch, id) in found {
                    if delete_one(c, ch, id)? {
                        deleted.push((ChannelId::from_i64(ch), MessageId::from_i64(id)));
                    }
                }
                Ok(deleted)
            })
            .await
    }

    /// The users with these ids that exist, in no particular order.
    async fn user_summaries(&self, ids: &[UserId]) -> Result<Vec<UserSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_ids(ids.iter().map(|i| i.as_i64()));
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::SQLITE_USER_SUMMARIES)?;
                let rows = st.query_map([list], |r| user_summary(r, 0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

#[async_trait]
impl PinStore for SqliteStore {
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
        let notice = notice.clone();
        let at = at.timestamp_millis();
        self.writer
            .write(move |c| {
                let (ch, mid) = (channel.as_i64(), id.as_i64());
                let state: Option<Option<i64>> = c
                    .prepare_cached(q::PIN_STATE)?
                    .query_row(params![mid, ch], |r| r.get(0))
                    .optional()?;
                match state {
                    None => return Err(StoreError::NotFound),
                    Some(Some(_)) => return Ok(Ok(None)),
                    Some(None) => {}
                }
                let pinned: i64 = c
                    .prepare_cached(q::COUNT_PINS)?
                    .query_row([ch], |r| r.get(0))?;
                if pinned >= i64::from(max) {
                    return Ok(Err(Refusal::LimitReached));
                }
                c.prepare_cached(q::SET_PINNED)?
                    .execute(params![at, mid, ch])?;
                insert(c, &notice)?;
                Ok(Ok(message_by_id(c, notice.channel_id, notice.id)?))
            })
            .await
    }

    /// Unpin a message of `channel`; returns whether it was pinned. `NotFound`
    /// when the channel has no such message.
    async fn unpin_message(&self, channel: ChannelId, id: MessageId) -> Result<bool> {
        self.writer
            .write(move |c| {
                let (ch, mid) = (channel.as_i64(), id.as_i64());
                if c.prepare_cached(q::UNPIN)?.execute(params![mid, ch])? == 1 {
                    return Ok(true);
                }
                if c.prepare_cached(q::MESSAGE_EXISTS)?
                    .exists(params![mid, ch])?
                {
                    Ok(false)
                } else {
                    Err(StoreError::NotFound)
                }
            })
            .await
    }

    /// Pinned messages of a channel, newest pin first, pinned before `before`.
    async fn pinned_messages(
        &self,
        channel: ChannelId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let (ch, limit) = (channel.as_i64(), i64::from(limit));
        self.readers
            .read(move |c| {
                let rows = match before {
                    None => {
                        let mut st = c.prepare_cached(q::PINNED)?;
                        st.query_map(params![ch, limit], message)?
                            .collect::<rusqlite::Result<Vec<_>>>()?
                    }
                    Some(t) => {
                        let mut st = c.prepare_cached(q::PINNED_BEFORE)?;
                        st.query_map(params![ch, t.timestamp_millis(), limit], message)?
                            .collect::<rusqlite::Result<Vec<_>>>()?
                    }
                };
                Ok(rows)
            })
            .await
    }

    /// When the newest pin of a channel was made.
    async fn last_pin_at(&self, channel: ChannelId) -> Result<Option<DateTime<Utc>>> {
        self.readers
            .read(move |c| {
                let ms: Option<i64> = c
                    .prepare_cached(q::LAST_PIN)?
                    .query_row([channel.as_i64()], |r| r.get(0))?;
                Ok(ms.and_then(DateTime::from_timestamp_millis))
            })
            .await
    }
}

#[async_trait]
impl ReactionStore for SqliteStore {
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
        let emoji = emoji.clone();
        self.writer
            .write(move |c| {
                let (ch, mid) = (channel.as_i64(), message.as_i64());
                if !c
                    .prepare_cached(q::MESSAGE_EXISTS)?
                    .exists(params![mid, ch])?
                {
                    return Err(StoreError::NotFound);
                }
                let present = c
                    .prepare_cached(q::EMOJI_PRESENT)?
                    .exists(params![ch, mid, emoji.key])?;
                if !present {
                    let emojis: i64 = c
                        .prepare_cached(q::COUNT_EMOJIS)?
                        .query_row(params![ch, mid], |r| r.get(0))?;
                    if emojis >= i64::from(max_emojis) {
                        return Ok(Err(Refusal::LimitReached));
                    }
                }
                let added = c.prepare_cached(q::INSERT_REACTION)?.execute(params![
                    ch,
                    mid,
                    emoji.key,
                    user.as_i64(),
                    emoji.id,
                    emoji.name,
                    emoji.animated
                ])?;
                Ok(Ok(added == 1))
            })
            .await
    }

    /// Remove one user's reaction; returns whether it was there.
    async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
        user: UserId,
    ) -> Result<bool> {
        let key = emoji_key.to_owned();
        self.writer
            .write(move |c| {
                let n = c.prepare_cached(q::DELETE_REACTION)?.execute(params![
                    channel.as_i64(),
                    message.as_i64(),
                    key,
                    user.as_i64()
                ])?;
                Ok(n == 1)
            })
            .await
    }

    /// Remove every reaction of a message; returns how many.
    async fn remove_all_reactions(&self, channel: ChannelId, message: MessageId) -> Result<u64> {
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(q::DELETE_REACTIONS)?
                    .execute(params![channel.as_i64(), message.as_i64()])?;
                Ok(n as u64)
            })
            .await
    }

    /// Remove every reaction of one emoji on a message; returns how many.
    async fn remove_emoji_reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
    ) -> Result<u64> {
        let key = emoji_key.to_owned();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(q::DELETE_EMOJI_REACTIONS)?
                    .execute(params![channel.as_i64(), message.as_i64(), key])?;
                Ok(n as u64)
            })
            .await
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
        let key = emoji_key.to_owned();
        let after = after.map_or(0, UserId::as_i64);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::REACTION_USERS)?;
                let rows = st.query_map(
                    params![
                        channel.as_i64(),
                        message.as_i64(),
                        key,
                        after,
                        i64::from(limit)
                    ],
                    |r| user_summary(r, 0),
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
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
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::REACTION_COUNTS)?;
                let rows = st.query_map(
                    params![
                        viewer.as_i64(),
                        channel.as_i64(),
                        from.as_i64(),
                        to.as_i64()
                    ],
                    |r| {
                        Ok(ReactionCount {
                            message_id: MessageId::from_i64(r.get(0)?),
                            emoji: EmojiKey {
                                key: r.get(1)?,
                                id: r.get(2)?,
                                name: r.get(3)?,
                                animated: r.get::<_, i64>(4)? != 0,
                            },
                            count: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                            me: r.get::<_, i64>(6)? != 0,
                        })
                    },
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

#[async_trait]
impl ReadStateStore for SqliteStore {
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
        let at = at.timestamp_millis();
        self.writer
            .write(move |c| {
                let sql = if manual { q::ACK_SET } else { q::ACK_FORWARD };
                c.prepare_cached(sql)?.execute(params![
                    user.as_i64(),
                    channel.as_i64(),
                    message.as_i64(),
                    at
                ])?;
                let pos: i64 = c
                    .prepare_cached(q::READ_POSITION)?
                    .query_row(params![user.as_i64(), channel.as_i64()], |r| r.get(0))?;
                Ok(MessageId::from_i64(pos))
            })
            .await
    }

    /// The read states of `user` in channels that still exist and that the user
    /// can still reach (guild member, or not a guild channel), with counts.
    async fn read_states(&self, user: UserId) -> Result<Vec<ReadStateRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::READ_STATES)?;
                let rows = st.query_map([user.as_i64()], |r| {
                    let last_pin: Option<i64> = r.get(5)?;
                    Ok(ReadStateRecord {
                        channel_id: ChannelId::from_i64(r.get(0)?),
                        guild_id: r.get::<_, Option<i64>>(6)?.map(GuildId::from_i64),
                        last_message_id: MessageId::from_i64(r.get(1)?),
                        unread_count: count(r.get(2)?),
                        mention_count: count(r.get(3)?),
                        channel_last_message_id: r
                            .get::<_, Option<i64>>(4)?
                            .map(MessageId::from_i64),
                        last_pin_at: last_pin.and_then(DateTime::from_timestamp_millis),
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

/// Insert a message and its mention rows. `NotFound` when the channel does not
/// exist (the foreign key).
pub(super) fn insert(c: &Connection, m: &NewMessage) -> Result<()> {
    let (ch, id) = (m.channel_id.as_i64(), m.id.as_i64());
    let reference = m.reference;
    c.prepare_cached(q::INSERT_MESSAGE)?.execute(params![
        id,
        ch,
        m.guild_id.map(GuildId::as_i64),
        m.author_id.as_i64(),
        m.webhook_id.map(WebhookId::as_i64),
        m.application_id.map(ApplicationId::as_i64),
        m.kind,
        m.content,
        m.flags,
        m.tts,
        m.nonce,
        m.mention_everyone,
        id_text(&m.mention_users),
        id_text(&m.mention_roles),
        id_text(&m.mention_channels),
        reference.map(|r| r.message_id.as_i64()),
        reference.map(|r| r.channel_id.as_i64()),
        reference.and_then(|r| r.guild_id.map(GuildId::as_i64)),
        m.embeds,
        m.author_name,
        m.author_avatar,
        m.attachments,
    ])?;
    let mut st = c.prepare_cached(q::INSERT_MENTION)?;
    for t in &m.mention_targets {
        st.execute(params![ch, id, t, m.author_id.as_i64()])?;
    }
    super::search::index_new(c, m)
}

/// Delete one message with its mention rows and reactions; whether it existed.
fn delete_one(c: &Connection, ch: i64, id: i64) -> Result<bool> {
    let n = c
        .prepare_cached(q::DELETE_MESSAGE)?
        .execute(params![id, ch])?;
    if n == 0 {
        return Ok(false);
    }
    c.prepare_cached(q::DELETE_MENTIONS)?
        .execute(params![ch, id])?;
    c.prepare_cached(q::DELETE_REACTIONS)?
        .execute(params![ch, id])?;
    Ok(true)
}

/// The message `id` of `channel`.
pub(super) fn message_by_id(
    c: &Connection,
    channel: ChannelId,
    id: MessageId,
) -> Result<Option<MessageRecord>> {
    Ok(c.prepare_cached(q::MESSAGE_BY_ID)?
        .query_row(params![id.as_i64(), channel.as_i64()], message)
        .optional()?)
}

/// Ids as the JSON array `json_each` reads.
pub(super) fn json_ids(ids: impl Iterator<Item = i64>) -> String {
    let parts: Vec<String> = ids.map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// A count column as `u32`.
fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A millisecond timestamp column that may be null.
fn opt_time(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(ms) = r.get::<_, Option<i64>>(idx)? else {
        return Ok(None);
    };
    DateTime::from_timestamp_millis(ms)
        .map(Some)
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                idx,
                Type::Integer,
                format!("timestamp {ms} ms is out of range").into(),
            )
        })
}

/// A millisecond timestamp column.
pub(super) fn time(r: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    opt_time(r, idx)?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "timestamp".into(),
        Type::Null,
    ))
}

/// The eight user summary columns starting at `at`, `None` when the id is null.
pub(super) fn opt_user_summary(r: &Row<'_>, at: usize) -> rusqlite::Result<Option<UserSummary>> {
    if r.get::<_, Option<i64>>(at)?.is_none() {
        return Ok(None);
    }
    user_summary(r, at).map(Some)
}

/// The eight user summary columns starting at `at`.
pub(super) fn user_summary(r: &Row<'_>, at: usize) -> rusqlite::Result<UserSummary> {
    Ok(UserSummary {
        id: UserId::from_i64(r.get(at)?),
        username: r.get(at + 1)?,
        global_name: r.get(at + 2)?,
        avatar: r.get(at + 3)?,
        banner: r.get(at + 4)?,
        bot: r.get(at + 5)?,
        system: r.get(at + 6)?,
        flags: r.get(at + 7)?,
    })
}

/// A message row, columns in the order of `message_select!`.
pub(super) fn message(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    let ref_message: Option<i64> = r.get(17)?;
    let ref_channel: Option<i64> = r.get(18)?;
    let reference = match (ref_message, ref_channel) {
        (Some(m), Some(c)) => Some(MessageRef {
            message_id: MessageId::from_i64(m),
            channel_id: ChannelId::from_i64(c),
            guild_id: r.get::<_, Option<i64>>(19)?.map(GuildId::from_i64),
        }),
        _ => None,
    };
    Ok(MessageRecord {
        id: MessageId::from_i64(r.get(0)?),
        channel_id: ChannelId::from_i64(r.get(1)?),
        guild_id: r.get::<_, Option<i64>>(2)?.map(GuildId::from_i64),
        author_id: UserId::from_i64(r.get(3)?),
        webhook_id: r.get::<_, Option<i64>>(4)?.map(WebhookId::from_i64),
        application_id: r.get::<_, Option<i64>>(5)?.map(ApplicationId::from_i64),
        kind: r.get(6)?,
        content: r.get(7)?,
        flags: r.get(8)?,
        tts: r.get(9)?,
        nonce: r.get(10)?,
        edited_at: opt_time(r, 11)?,
        pinned_at: opt_time(r, 12)?,
        mention_everyone: r.get(13)?,
        mention_users: id_list(&r.get::<_, String>(14)?),
        mention_roles: id_list::<RoleId>(&r.get::<_, String>(15)?),
        mention_channels: id_list(&r.get::<_, String>(16)?),
        reference,
        embeds: r.get(20)?,
        author_name: r.get(21)?,
        author_avatar: r.get(22)?,
        attachments: r.get(23)?,
        author: opt_user_summary(r, 24)?,
    })
}
