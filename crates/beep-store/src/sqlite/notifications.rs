//! Notifications, notification settings, delivery positions and presence
//! leases on SQLite. Same methods, order and comments as
//! `postgres/notifications.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use beep_types::{ChannelId, GuildId, MessageId, Snowflake, UserId};

use super::SqliteStore;
use super::messages::json_ids;
use crate::notifications::{
    ChannelOverrideRecord, DigestDue, Mute, NewNotification, NotificationRecord,
    NotificationSettingsRecord, NotificationSettingsStore, NotificationStore, ReceiptPosition,
    ReceiptStore,
};
use crate::sql_notifications as q;
use crate::{Result, StoreError};

#[async_trait]
impl NotificationStore for SqliteStore {
    /// Insert notifications in one transaction (users that do not exist are
    /// skipped).
    async fn insert_notifications(&self, list: &[NewNotification]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let list = list.to_vec();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::INSERT_NOTIFICATION)?;
                for n in &list {
                    st.execute(params![
                        n.id.0 as i64,
                        n.user_id.as_i64(),
                        n.kind,
                        n.actor_id.map(UserId::as_i64),
                        n.guild_id.map(GuildId::as_i64),
                        n.channel_id.map(ChannelId::as_i64),
                        n.message_id.map(MessageId::as_i64),
                        i64::from(n.digest),
                        n.created_at.timestamp_millis()
                    ])?;
                }
                Ok(())
            })
            .await
    }

    /// Delete the notifications of a message; returns how many.
    async fn delete_message_notifications(&self, message: MessageId) -> Result<u64> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::DELETE_MESSAGE_NOTIFICATIONS)?
                    .execute([message.as_i64()])? as u64)
            })
            .await
    }

    /// Up to `limit` notifications of `user` older than `before`, newest first
    /// (those of messages that do not exist are left out).
    async fn notifications(
        &self,
        user: UserId,
        before: Option<Snowflake>,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>> {
        let before = before.map_or(i64::MAX, |b| b.0 as i64);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::NOTIFICATIONS_PAGE)?;
                let rows = st.query_map(
                    params![user.as_i64(), before, i64::from(limit)],
                    notification,
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The notification `id` of `user` (`None` for another user's, or one whose
    /// message does not exist).
    async fn notification(
        &self,
        user: UserId,
        id: Snowflake,
    ) -> Result<Option<NotificationRecord>> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::NOTIFICATION_ONE)?
                    .query_row(params![user.as_i64(), id.0 as i64], notification)
                    .optional()?)
            })
            .await
    }

    /// Mark one notification read; returns whether it was unread.
    async fn mark_notification_read(&self, user: UserId, id: Snowflake) -> Result<bool> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::MARK_READ)?
                    .execute(params![user.as_i64(), id.0 as i64])?
                    > 0)
            })
            .await
    }

    /// Mark every notification of `user` up to `up_to` read; returns how many were unread.
    async fn mark_all_notifications_read(&self, user: UserId, up_to: Snowflake) -> Result<u64> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::MARK_ALL_READ)?
                    .execute(params![user.as_i64(), up_to.0 as i64])? as u64)
            })
            .await
    }

    /// Mark `user`'s notifications of `channel` about messages up to `up_to`
    /// read (the user read the channel); returns the ids changed.
    async fn mark_channel_notifications_read(
        &self,
        user: UserId,
        channel: ChannelId,
        up_to: MessageId,
    ) -> Result<Vec<Snowflake>> {
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::MARK_CHANNEL_READ)?;
                let rows = st.query_map(
                    params![user.as_i64(), channel.as_i64(), up_to.as_i64()],
                    |r| r.get::<_, i64>(0),
                )?;
                let ids = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids.into_iter().map(|i| Snowflake(i as u64)).collect())
            })
            .await
    }

    /// Users with notifications waiting for the digest, no live presence lease at
    /// `now`, and whose last sign of life (a lease ending, or the oldest waiting
    /// notification when later) is at or before `quiet_since`; at most `limit`.
    async fn digests_due(
        &self,
        now: DateTime<Utc>,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DigestDue>> {
        let (now, quiet) = (now.timestamp_millis(), quiet_since.timestamp_millis());
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::DIGESTS_DUE)?;
                let rows = st.query_map(params![now, quiet, i64::from(limit)], |r| {
                    Ok(DigestDue {
                        user_id: UserId::from_i64(r.get(0)?),
                        last_id: Snowflake(r.get::<_, i64>(1)? as u64),
                        count: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The waiting notifications of `user` up to `up_to`, oldest first (what a
    /// digest mail lists).
    async fn digest_batch(
        &self,
        user: UserId,
        up_to: Snowflake,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::DIGEST_BATCH)?;
                let rows = st.query_map(
                    params![user.as_i64(), up_to.0 as i64, i64::from(limit)],
                    notification,
                )?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The digest of `user` up to `up_to` was mailed: those notifications stop
    /// waiting. Returns how many.
    async fn mark_digested(&self, user: UserId, up_to: Snowflake) -> Result<u64> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::MARK_DIGESTED)?
                    .execute(params![user.as_i64(), up_to.0 as i64])? as u64)
            })
            .await
    }

    /// `users` have a live gateway session on `node` until `live_until`
    /// (renewed while they do).
    async fn renew_presence(
        &self,
        users: &[UserId],
        node: &str,
        live_until: DateTime<Utc>,
    ) -> Result<()> {
        if users.is_empty() {
            return Ok(());
        }
        let (users, node) = (users.to_vec(), node.to_owned());
        let now = crate::sql::now().timestamp_millis();
        let until = live_until.timestamp_millis();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::RENEW_PRESENCE)?;
                for u in &users {
                    st.execute(params![u.as_i64(), node, until, now])?;
                }
                Ok(())
            })
            .await
    }

    /// `user`'s last session on `node` ended at `at`.
    async fn end_presence(&self, user: UserId, node: &str, at: DateTime<Utc>) -> Result<()> {
        let node = node.to_owned();
        let at = at.timestamp_millis();
        self.writer
            .write(move |c| {
                c.prepare_cached(q::END_PRESENCE)?
                    .execute(params![at, user.as_i64(), node])?;
                Ok(())
            })
            .await
    }

    /// Whether `user` has a live lease at `now` on any node.
    async fn is_online(&self, user: UserId, now: DateTime<Utc>) -> Result<bool> {
        let now = now.timestamp_millis();
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::IS_ONLINE)?
                    .query_row(params![user.as_i64(), now], |_| Ok(()))
                    .optional()?
                    .is_some())
            })
            .await
    }

    /// Those of `users` with a live lease at `now` on any node.
    async fn online_among(&self, users: &[UserId], now: DateTime<Utc>) -> Result<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_ids(users.iter().map(|u| u.as_i64()));
        let now = now.timestamp_millis();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::SQLITE_ONLINE_AMONG)?;
                let rows = st.query_map(params![list, now], |r| r.get::<_, i64>(0))?;
                let ids = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids.into_iter().map(UserId::from_i64).collect())
            })
            .await
    }
}

#[async_trait]
impl NotificationSettingsStore for SqliteStore {
    /// `user`'s settings of `guild` (`None`: direct conversations), if they set any.
    async fn notification_settings(
        &self,
        user: UserId,
        guild: Option<GuildId>,
    ) -> Result<Option<NotificationSettingsRecord>> {
        self.readers
            .read(move |c| settings_one(c, user, guild))
            .await
    }

    /// Every settings row of `user`.
    async fn all_notification_settings(
        &self,
        user: UserId,
    ) -> Result<Vec<NotificationSettingsRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::SETTINGS_ALL)?;
                let list = st
                    .query_map([user.as_i64()], settings)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut st = c.prepare_cached(q::OVERRIDES_ALL)?;
                let overrides = st
                    .query_map([user.as_i64()], channel_override)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(crate::notifications::attach_overrides(list, overrides))
            })
            .await
    }

    /// Replace `s.user_id`'s settings of `s.guild_id`, overrides included, in
    /// one transaction; returns them with the new version. `NotFound` when the
    /// user does not exist.
    async fn put_notification_settings(
        &self,
        s: &NotificationSettingsRecord,
    ) -> Result<NotificationSettingsRecord> {
        let s = s.clone();
        self.writer
            .write(move |c| {
                let (user, guild) = (s.user_id.as_i64(), guild_key(s.guild_id));
                let n = c.prepare_cached(q::PUT_SETTINGS)?.execute(params![
                    user,
                    guild,
                    s.message_notifications,
                    i64::from(s.mute.muted),
                    s.mute.end_at.map(|t| t.timestamp_millis()),
                    s.mute.window,
                    i64::from(s.suppress_everyone),
                    i64::from(s.suppress_roles)
                ])?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                c.prepare_cached(q::DELETE_OVERRIDES)?
                    .execute(params![user, guild])?;
                let mut st = c.prepare_cached(q::INSERT_OVERRIDE)?;
                for o in &s.channel_overrides {
                    st.execute(params![
                        user,
                        guild,
                        o.channel_id.as_i64(),
                        o.message_notifications,
                        i64::from(o.mute.muted),
                        o.mute.end_at.map(|t| t.timestamp_millis()),
                        o.mute.window
                    ])?;
                }
                settings_one(c, s.user_id, s.guild_id)?.ok_or(StoreError::NotFound)
            })
            .await
    }

    /// The settings rows of `users` in `guild` (`None`: `@me`); users without
    /// one are left out.
    async fn notification_settings_of(
        &self,
        guild: Option<GuildId>,
        users: &[UserId],
    ) -> Result<Vec<NotificationSettingsRecord>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_ids(users.iter().map(|u| u.as_i64()));
        let g = guild_key(guild);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::SQLITE_SETTINGS_OF)?;
                let rows = st
                    .query_map(params![g, list], settings)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut st = c.prepare_cached(q::SQLITE_OVERRIDES_OF)?;
                let overrides = st
                    .query_map(params![g, list], channel_override)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(crate::notifications::attach_overrides(rows, overrides))
            })
            .await
    }

    /// Users who asked for every message of `guild` (`None`: `@me`) or of
    /// `channel` (level 0 on either), by id, at most `limit`.
    async fn users_wanting_all_messages(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        limit: u32,
    ) -> Result<Vec<UserId>> {
        let g = guild_key(guild);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::USERS_WANTING_ALL)?;
                let rows = st.query_map(params![g, channel.as_i64(), i64::from(limit)], |r| {
                    r.get::<_, i64>(0)
                })?;
                let ids = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids.into_iter().map(UserId::from_i64).collect())
            })
            .await
    }
}

#[async_trait]
impl ReceiptStore for SqliteStore {
    /// Move `users`' delivery position in `channel` forward to `message`;
    /// returns the users whose position moved.
    async fn mark_delivered(
        &self,
        channel: ChannelId,
        users: &[UserId],
        message: MessageId,
    ) -> Result<Vec<UserId>> {
        let users = users.to_vec();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::MARK_DELIVERED)?;
                let mut moved = Vec::new();
                for u in users {
                    if st.execute(params![channel.as_i64(), u.as_i64(), message.as_i64()])? > 0 {
                        moved.push(u);
                    }
                }
                Ok(moved)
            })
            .await
    }

    /// The delivery and read positions of `users` in `channel`.
    async fn receipt_positions(
        &self,
        channel: ChannelId,
        users: &[UserId],
    ) -> Result<Vec<ReceiptPosition>> {
        let users = users.to_vec();
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::RECEIPT_POSITION)?;
                let mut out = Vec::with_capacity(users.len());
                for u in users {
                    let (d, r): (Option<i64>, Option<i64>) = st
                        .query_row(params![channel.as_i64(), u.as_i64()], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?;
                    out.push(ReceiptPosition {
                        user_id: u,
                        delivered: d.map(MessageId::from_i64),
                        read: r.map(MessageId::from_i64),
                    });
                }
                Ok(out)
            })
            .await
    }
}

/// How `guild_id` is kept: `@me` (direct conversations) as 0.
fn guild_key(guild: Option<GuildId>) -> i64 {
    guild.map_or(0, GuildId::as_i64)
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn notification(r: &Row) -> rusqlite::Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: Snowflake(r.get::<_, i64>(0)? as u64),
        user_id: UserId::from_i64(r.get(1)?),
        kind: r.get(2)?,
        actor_id: r.get::<_, Option<i64>>(3)?.map(UserId::from_i64),
        guild_id: r.get::<_, Option<i64>>(4)?.map(GuildId::from_i64),
        channel_id: r.get::<_, Option<i64>>(5)?.map(ChannelId::from_i64),
        message_id: r.get::<_, Option<i64>>(6)?.map(MessageId::from_i64),
        read: r.get::<_, i64>(7)? != 0,
        created_at: time(r.get(8)?),
    })
}

fn settings(r: &Row) -> rusqlite::Result<NotificationSettingsRecord> {
    let g: i64 = r.get(1)?;
    Ok(NotificationSettingsRecord {
        user_id: UserId::from_i64(r.get(0)?),
        guild_id: (g != 0).then(|| GuildId::from_i64(g)),
        message_notifications: r.get(2)?,
        mute: Mute {
            muted: r.get::<_, i64>(3)? != 0,
            end_at: r.get::<_, Option<i64>>(4)?.map(time),
            window: r.get(5)?,
        },
        suppress_everyone: r.get::<_, i64>(6)? != 0,
        suppress_roles: r.get::<_, i64>(7)? != 0,
        channel_overrides: Vec::new(),
        version: r.get(8)?,
    })
}

/// An override with the user and guild key it belongs to.
fn channel_override(r: &Row) -> rusqlite::Result<(i64, i64, ChannelOverrideRecord)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        ChannelOverrideRecord {
            channel_id: ChannelId::from_i64(r.get(2)?),
            message_notifications: r.get(3)?,
            mute: Mute {
                muted: r.get::<_, i64>(4)? != 0,
                end_at: r.get::<_, Option<i64>>(5)?.map(time),
                window: r.get(6)?,
            },
        },
    ))
}

fn settings_one(
    c: &Connection,
    user: UserId,
    guild: Option<GuildId>,
) -> Result<Option<NotificationSettingsRecord>> {
    let g = guild_key(guild);
    let Some(s) = c
        .prepare_cached(q::SETTINGS_ONE)?
        .query_row(params![user.as_i64(), g], settings)
        .optional()?
    else {
        return Ok(None);
    };
    let mut st = c.prepare_cached(q::OVERRIDES_ONE)?;
    let overrides = st
        .query_map(params![user.as_i64(), g], channel_override)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(crate::notifications::attach_overrides(vec![s], overrides)
        .into_iter()
        .next())
}
