//! Notifications, notification settings, delivery positions and presence
//! leases on PostgreSQL. Same methods, order and comments as
//! `sqlite/notifications.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use beep_types::{ChannelId, GuildId, MessageId, Snowflake, UserId};

use super::PostgresStore;
use crate::notifications::{
    ChannelOverrideRecord, DigestDue, Mute, NewNotification, NotificationRecord,
    NotificationSettingsRecord, NotificationSettingsStore, NotificationStore, ReceiptPosition,
    ReceiptStore,
};
use crate::sql_notifications as q;
use crate::{Result, StoreError};

#[async_trait]
impl NotificationStore for PostgresStore {
    /// Insert notifications in one transaction (users that do not exist are
    /// skipped).
    async fn insert_notifications(&self, list: &[NewNotification]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::INSERT_NOTIFICATION).await?;
        for n in list {
            tx.execute(
                &st,
                &[
                    &(n.id.0 as i64),
                    &n.user_id.as_i64(),
                    &n.kind,
                    &n.actor_id.map(UserId::as_i64),
                    &n.guild_id.map(GuildId::as_i64),
                    &n.channel_id.map(ChannelId::as_i64),
                    &n.message_id.map(MessageId::as_i64),
                    &i64::from(n.digest),
                    &n.created_at.timestamp_millis(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Delete the notifications of a message; returns how many.
    async fn delete_message_notifications(&self, message: MessageId) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_MESSAGE_NOTIFICATIONS).await?;
        Ok(c.execute(&st, &[&message.as_i64()]).await?)
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
        let c = self.client().await?;
        let st = c.prepare_cached(q::NOTIFICATIONS_PAGE).await?;
        let rows = c
            .query(&st, &[&user.as_i64(), &before, &i64::from(limit)])
            .await?;
        rows.iter().map(notification).collect()
    }

    /// The notification `id` of `user` (`None` for another user's, or one whose
    /// message does not exist).
    async fn notification(
        &self,
        user: UserId,
        id: Snowflake,
    ) -> Result<Option<NotificationRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::NOTIFICATION_ONE).await?;
        let row = c.query_opt(&st, &[&user.as_i64(), &(id.0 as i64)]).await?;
        row.as_ref().map(notification).transpose()
    }

    /// Mark one notification read; returns whether it was unread.
    async fn mark_notification_read(&self, user: UserId, id: Snowflake) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::MARK_READ).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &(id.0 as i64)]).await? > 0)
    }

    /// Mark every notification of `user` up to `up_to` read; returns how many were unread.
    async fn mark_all_notifications_read(&self, user: UserId, up_to: Snowflake) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::MARK_ALL_READ).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &(up_to.0 as i64)]).await?)
    }

    /// Mark `user`'s notifications of `channel` about messages up to `up_to`
    /// read (the user read the channel); returns the ids changed.
    async fn mark_channel_notifications_read(
        &self,
        user: UserId,
        channel: ChannelId,
        up_to: MessageId,
    ) -> Result<Vec<Snowflake>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::MARK_CHANNEL_READ).await?;
        let rows = c
            .query(&st, &[&user.as_i64(), &channel.as_i64(), &up_to.as_i64()])
            .await?;
        rows.iter()
            .map(|r| Ok(Snowflake(r.try_get::<_, i64>(0)? as u64)))
            .collect()
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
        let c = self.client().await?;
        let st = c.prepare_cached(q::DIGESTS_DUE).await?;
        let rows = c
            .query(
                &st,
                &[
                    &now.timestamp_millis(),
                    &quiet_since.timestamp_millis(),
                    &i64::from(limit),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DigestDue {
                    user_id: UserId::from_i64(r.try_get(0)?),
                    last_id: Snowflake(r.try_get::<_, i64>(1)? as u64),
                    count: u32::try_from(r.try_get::<_, i64>(2)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// The waiting notifications of `user` up to `up_to`, oldest first (what a
    /// digest mail lists).
    async fn digest_batch(
        &self,
        user: UserId,
        up_to: Snowflake,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::DIGEST_BATCH).await?;
        let rows = c
            .query(&st, &[&user.as_i64(), &(up_to.0 as i64), &i64::from(limit)])
            .await?;
        rows.iter().map(notification).collect()
    }

    /// The digest of `user` up to `up_to` was mailed: those notifications stop
    /// waiting. Returns how many.
    async fn mark_digested(&self, user: UserId, up_to: Snowflake) -> Result<u64> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::MARK_DIGESTED).await?;
        Ok(c.execute(&st, &[&user.as_i64(), &(up_to.0 as i64)]).await?)
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
        let now = crate::sql::now().timestamp_millis();
        let until = live_until.timestamp_millis();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::RENEW_PRESENCE).await?;
        for u in users {
            tx.execute(&st, &[&u.as_i64(), &node, &until, &now]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `user`'s last session on `node` ended at `at`.
    async fn end_presence(&self, user: UserId, node: &str, at: DateTime<Utc>) -> Result<()> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::END_PRESENCE).await?;
        c.execute(&st, &[&at.timestamp_millis(), &user.as_i64(), &node])
            .await?;
        Ok(())
    }

    /// Whether `user` has a live lease at `now` on any node.
    async fn is_online(&self, user: UserId, now: DateTime<Utc>) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::IS_ONLINE).await?;
        Ok(c.query_opt(&st, &[&user.as_i64(), &now.timestamp_millis()])
            .await?
            .is_some())
    }

    /// Those of `users` with a live lease at `now` on any node.
    async fn online_among(&self, users: &[UserId], now: DateTime<Utc>) -> Result<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = users.iter().map(|u| u.as_i64()).collect();
        let c = self.client().await?;
        let st = c.prepare_cached(q::PG_ONLINE_AMONG).await?;
        let rows = c.query(&st, &[&ids, &now.timestamp_millis()]).await?;
        rows.iter()
            .map(|r| Ok(UserId::from_i64(r.try_get(0)?)))
            .collect()
    }
}

#[async_trait]
impl NotificationSettingsStore for PostgresStore {
    /// `user`'s settings of `guild` (`None`: direct conversations), if they set any.
    async fn notification_settings(
        &self,
        user: UserId,
        guild: Option<GuildId>,
    ) -> Result<Option<NotificationSettingsRecord>> {
        let c = self.client().await?;
        settings_one(&c, user, guild).await
    }

    /// Every settings row of `user`.
    async fn all_notification_settings(
        &self,
        user: UserId,
    ) -> Result<Vec<NotificationSettingsRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::SETTINGS_ALL).await?;
        let list = c
            .query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(settings)
            .collect::<Result<Vec<_>>>()?;
        let st = c.prepare_cached(q::OVERRIDES_ALL).await?;
        let overrides = c
            .query(&st, &[&user.as_i64()])
            .await?
            .iter()
            .map(channel_override)
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::notifications::attach_overrides(list, overrides))
    }

    /// Replace `s.user_id`'s settings of `s.guild_id`, overrides included, in
    /// one transaction; returns them with the new version. `NotFound` when the
    /// user does not exist.
    async fn put_notification_settings(
        &self,
        s: &NotificationSettingsRecord,
    ) -> Result<NotificationSettingsRecord> {
        let (user, guild) = (s.user_id.as_i64(), guild_key(s.guild_id));
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::PUT_SETTINGS).await?;
        let n = tx
            .execute(
                &st,
                &[
                    &user,
                    &guild,
                    &s.message_notifications,
                    &i64::from(s.mute.muted),
                    &s.mute.end_at.map(|t| t.timestamp_millis()),
                    &s.mute.window,
                    &i64::from(s.suppress_everyone),
                    &i64::from(s.suppress_roles),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let st = tx.prepare_cached(q::DELETE_OVERRIDES).await?;
        tx.execute(&st, &[&user, &guild]).await?;
        let st = tx.prepare_cached(q::INSERT_OVERRIDE).await?;
        for o in &s.channel_overrides {
            tx.execute(
                &st,
                &[
                    &user,
                    &guild,
                    &o.channel_id.as_i64(),
                    &o.message_notifications,
                    &i64::from(o.mute.muted),
                    &o.mute.end_at.map(|t| t.timestamp_millis()),
                    &o.mute.window,
                ],
            )
            .await?;
        }
        let out = settings_one(&tx, s.user_id, s.guild_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(out)
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
        let ids: Vec<i64> = users.iter().map(|u| u.as_i64()).collect();
        let g = guild_key(guild);
        let c = self.client().await?;
        let st = c.prepare_cached(q::PG_SETTINGS_OF).await?;
        let list = c
            .query(&st, &[&g, &ids])
            .await?
            .iter()
            .map(settings)
            .collect::<Result<Vec<_>>>()?;
        let st = c.prepare_cached(q::PG_OVERRIDES_OF).await?;
        let overrides = c
            .query(&st, &[&g, &ids])
            .await?
            .iter()
            .map(channel_override)
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::notifications::attach_overrides(list, overrides))
    }

    /// Users who asked for every message of `guild` (`None`: `@me`) or of
    /// `channel` (level 0 on either), by id, at most `limit`.
    async fn users_wanting_all_messages(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        limit: u32,
    ) -> Result<Vec<UserId>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::USERS_WANTING_ALL).await?;
        let rows = c
            .query(
                &st,
                &[&guild_key(guild), &channel.as_i64(), &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(UserId::from_i64(r.try_get(0)?)))
            .collect()
    }
}

#[async_trait]
impl ReceiptStore for PostgresStore {
    /// Move `users`' delivery position in `channel` forward to `message`;
    /// returns the users whose position moved.
    async fn mark_delivered(
        &self,
        channel: ChannelId,
        users: &[UserId],
        message: MessageId,
    ) -> Result<Vec<UserId>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::MARK_DELIVERED).await?;
        let mut moved = Vec::new();
        for u in users {
            let n = c
                .execute(&st, &[&channel.as_i64(), &u.as_i64(), &message.as_i64()])
                .await?;
            if n > 0 {
                moved.push(*u);
            }
        }
        Ok(moved)
    }

    /// The delivery and read positions of `users` in `channel`.
    async fn receipt_positions(
        &self,
        channel: ChannelId,
        users: &[UserId],
    ) -> Result<Vec<ReceiptPosition>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::RECEIPT_POSITION).await?;
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let row = c.query_one(&st, &[&channel.as_i64(), &u.as_i64()]).await?;
            out.push(ReceiptPosition {
                user_id: *u,
                delivered: row.try_get::<_, Option<i64>>(0)?.map(MessageId::from_i64),
                read: row.try_get::<_, Option<i64>>(1)?.map(MessageId::from_i64),
            });
        }
        Ok(out)
    }
}

/// How `guild_id` is kept: `@me` (direct conversations) as 0.
fn guild_key(guild: Option<GuildId>) -> i64 {
    guild.map_or(0, GuildId::as_i64)
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn notification(r: &Row) -> Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: Snowflake(r.try_get::<_, i64>(0)? as u64),
        user_id: UserId::from_i64(r.try_get(1)?),
        kind: r.try_get(2)?,
        actor_id: r.try_get::<_, Option<i64>>(3)?.map(UserId::from_i64),
        guild_id: r.try_get::<_, Option<i64>>(4)?.map(GuildId::from_i64),
        channel_id: r.try_get::<_, Option<i64>>(5)?.map(ChannelId::from_i64),
        message_id: r.try_get::<_, Option<i64>>(6)?.map(MessageId::from_i64),
        read: r.try_get::<_, i64>(7)? != 0,
        created_at: time(r.try_get(8)?),
    })
}

fn settings(r: &Row) -> Result<NotificationSettingsRecord> {
    let g: i64 = r.try_get(1)?;
    Ok(NotificationSettingsRecord {
        user_id: UserId::from_i64(r.try_get(0)?),
        guild_id: (g != 0).then(|| GuildId::from_i64(g)),
        message_notifications: r.try_get(2)?,
        mute: Mute {
            muted: r.try_get::<_, i64>(3)? != 0,
            end_at: r.try_get::<_, Option<i64>>(4)?.map(time),
            window: r.try_get(5)?,
        },
        suppress_everyone: r.try_get::<_, i64>(6)? != 0,
        suppress_roles: r.try_get::<_, i64>(7)? != 0,
        channel_overrides: Vec::new(),
        version: r.try_get(8)?,
    })
}

/// An override with the user and guild key it belongs to.
fn channel_override(r: &Row) -> Result<(i64, i64, ChannelOverrideRecord)> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        ChannelOverrideRecord {
            channel_id: ChannelId::from_i64(r.try_get(2)?),
            message_notifications: r.try_get(3)?,
            mute: Mute {
                muted: r.try_get::<_, i64>(4)? != 0,
                end_at: r.try_get::<_, Option<i64>>(5)?.map(time),
                window: r.try_get(6)?,
            },
        },
    ))
}

async fn settings_one<C: GenericClient>(
    c: &C,
    user: UserId,
    guild: Option<GuildId>,
) -> Result<Option<NotificationSettingsRecord>> {
    let g = guild_key(guild);
    let st = c.prepare_cached(q::SETTINGS_ONE).await?;
    let Some(row) = c.query_opt(&st, &[&user.as_i64(), &g]).await? else {
        return Ok(None);
    };
    let s = settings(&row)?;
    let st = c.prepare_cached(q::OVERRIDES_ONE).await?;
    let overrides = c
        .query(&st, &[&user.as_i64(), &g])
        .await?
        .iter()
        .map(channel_override)
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::notifications::attach_overrides(vec![s], overrides)
        .into_iter()
        .next())
}
