//! Webhooks and bot applications on SQLite. Same methods, order and comments as
//! `postgres/messages_hooks.rs`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use beep_types::{ApplicationId, ChannelId, GuildId, RoleId, UserId, WebhookId};

use super::SqliteStore;
use super::messages::{opt_user_summary, time};
use crate::Result;
use crate::guilds::{Guarded, Refusal};
use crate::messages::{
    ApplicationRecord, ApplicationStore, NewApplication, NewWebhook, WebhookPatch, WebhookRecord,
    WebhookStore,
};
use crate::sql;
use crate::sql_messages as q;

#[async_trait]
impl WebhookStore for SqliteStore {
    /// Create a webhook unless its channel has `max_per_channel` already.
    /// `NotFound` when the guild, channel or creator does not exist.
    async fn create_webhook(
        &self,
        w: &NewWebhook,
        max_per_channel: u32,
    ) -> Result<Guarded<WebhookRecord>> {
        let w = w.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let n: i64 = c
                    .prepare_cached(q::COUNT_CHANNEL_WEBHOOKS)?
                    .query_row([w.channel_id.as_i64()], |r| r.get(0))?;
                if n >= i64::from(max_per_channel) {
                    return Ok(Err(Refusal::LimitReached));
                }
                c.prepare_cached(q::INSERT_WEBHOOK)?.execute(params![
                    w.id.as_i64(),
                    w.guild_id.as_i64(),
                    w.channel_id.as_i64(),
                    w.creator_id.as_i64(),
                    w.name,
                    w.avatar,
                    w.token,
                    w.application_id.map(ApplicationId::as_i64),
                    now
                ])?;
                webhook_by_id(c, w.id)?
                    .map(Ok)
                    .ok_or(crate::StoreError::NotFound)
            })
            .await
    }

    /// The webhook with this id.
    async fn webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>> {
        self.readers.read(move |c| webhook_by_id(c, id)).await
    }

    /// Webhooks of a channel, oldest first.
    async fn channel_webhooks(&self, channel: ChannelId) -> Result<Vec<WebhookRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::CHANNEL_WEBHOOKS)?;
                let rows = st.query_map([channel.as_i64()], webhook)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Webhooks of a guild, oldest first.
    async fn guild_webhooks(&self, guild: GuildId) -> Result<Vec<WebhookRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::GUILD_WEBHOOKS)?;
                let rows = st.query_map([guild.as_i64()], webhook)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Apply a patch; a move is refused with `LimitReached` when the target
    /// channel is full. `None` when there is no such webhook.
    async fn update_webhook(
        &self,
        id: WebhookId,
        patch: &WebhookPatch,
        max_per_channel: u32,
    ) -> Result<Option<Guarded<WebhookRecord>>> {
        let patch = patch.clone();
        self.writer
            .write(move |c| {
                let current: Option<i64> = c
                    .prepare_cached(q::WEBHOOK_CHANNEL)?
                    .query_row([id.as_i64()], |r| r.get(0))
                    .optional()?;
                let Some(current) = current else {
                    return Ok(None);
                };
                if let Some(target) = patch.channel_id
                    && target.as_i64() != current
                {
                    let n: i64 = c
                        .prepare_cached(q::COUNT_CHANNEL_WEBHOOKS)?
                        .query_row([target.as_i64()], |r| r.get(0))?;
                    if n >= i64::from(max_per_channel) {
                        return Ok(Some(Err(Refusal::LimitReached)));
                    }
                }
                let (set_avatar, avatar) = match &patch.avatar {
                    Some(a) => (true, a.clone()),
                    None => (false, None),
                };
                c.prepare_cached(q::UPDATE_WEBHOOK)?.execute(params![
                    patch.name,
                    patch.channel_id.map(ChannelId::as_i64),
                    set_avatar,
                    avatar,
                    id.as_i64()
                ])?;
                Ok(webhook_by_id(c, id)?.map(Ok))
            })
            .await
    }

    /// Delete a webhook; returns it.
    async fn delete_webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>> {
        self.writer
            .write(move |c| {
                let found = webhook_by_id(c, id)?;
                if found.is_some() {
                    c.prepare_cached(q::DELETE_WEBHOOK)?
                        .execute([id.as_i64()])?;
                }
                Ok(found)
            })
            .await
    }
}

#[async_trait]
impl ApplicationStore for SqliteStore {
    /// Insert an application; `NotFound` when its bot user or owner does not exist.
    async fn insert_application(&self, a: &NewApplication) -> Result<ApplicationRecord> {
        let a = a.clone();
        let now = sql::now().timestamp_millis();
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached(q::INSERT_APPLICATION)?;
                let row = st.query_row(
                    params![
                        a.id.as_i64(),
                        a.owner_id.as_i64(),
                        a.name,
                        a.description,
                        a.bot_public,
                        a.verify_key,
                        now
                    ],
                    application,
                )?;
                Ok(row)
            })
            .await
    }

    /// The application with this id.
    async fn application(&self, id: ApplicationId) -> Result<Option<ApplicationRecord>> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::APPLICATION_BY_ID)?
                    .query_row([id.as_i64()], application)
                    .optional()?)
            })
            .await
    }

    /// Applications of an owner, oldest first.
    async fn applications_of_owner(&self, owner: UserId) -> Result<Vec<ApplicationRecord>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::APPLICATIONS_OF_OWNER)?;
                let rows = st.query_map([owner.as_i64()], application)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Replace an application's flags; the application after, `None` when unknown.
    async fn set_application_flags(
        &self,
        id: ApplicationId,
        flags: i64,
    ) -> Result<Option<ApplicationRecord>> {
        self.writer
            .write(move |c| {
                Ok(c.prepare_cached(q::SET_APPLICATION_FLAGS)?
                    .query_row(params![flags, id.as_i64()], application)
                    .optional()?)
            })
            .await
    }

    /// Record that `role` is the managed role of `bot` in `guild`. `Conflict`
    /// when the bot already has one there.
    async fn set_bot_role(&self, guild: GuildId, bot: UserId, role: RoleId) -> Result<()> {
        self.writer
            .write(move |c| {
                c.prepare_cached(q::INSERT_BOT_ROLE)?.execute(params![
                    role.as_i64(),
                    guild.as_i64(),
                    bot.as_i64()
                ])?;
                Ok(())
            })
            .await
    }

    /// The managed role of `bot` in `guild`.
    async fn bot_role(&self, guild: GuildId, bot: UserId) -> Result<Option<RoleId>> {
        self.readers
            .read(move |c| {
                let id: Option<i64> = c
                    .prepare_cached(q::BOT_ROLE)?
                    .query_row(params![guild.as_i64(), bot.as_i64()], |r| r.get(0))
                    .optional()?;
                Ok(id.map(RoleId::from_i64))
            })
            .await
    }

    /// Every managed role of a guild, with its bot.
    async fn bot_roles_of_guild(&self, guild: GuildId) -> Result<Vec<(RoleId, UserId)>> {
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(q::BOT_ROLES_OF_GUILD)?;
                let rows = st.query_map([guild.as_i64()], |r| {
                    Ok((RoleId::from_i64(r.get(0)?), UserId::from_i64(r.get(1)?)))
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

/// The webhook with this id.
fn webhook_by_id(c: &Connection, id: WebhookId) -> Result<Option<WebhookRecord>> {
    Ok(c.prepare_cached(q::WEBHOOK_BY_ID)?
        .query_row([id.as_i64()], webhook)
        .optional()?)
}

/// A webhook row, columns in the order of `webhook_select!`.
fn webhook(r: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    Ok(WebhookRecord {
        id: WebhookId::from_i64(r.get(0)?),
        kind: r.get(1)?,
        guild_id: GuildId::from_i64(r.get(2)?),
        channel_id: ChannelId::from_i64(r.get(3)?),
        name: r.get(4)?,
        avatar: r.get(5)?,
        token: r.get(6)?,
        application_id: r.get::<_, Option<i64>>(7)?.map(ApplicationId::from_i64),
        created_at: time(r, 8)?,
        creator: opt_user_summary(r, 9)?,
    })
}

/// An `applications` row, columns in the order of `application_columns!`.
fn application(r: &Row<'_>) -> rusqlite::Result<ApplicationRecord> {
    Ok(ApplicationRecord {
        id: ApplicationId::from_i64(r.get(0)?),
        owner_id: UserId::from_i64(r.get(1)?),
        name: r.get(2)?,
        description: r.get(3)?,
        icon: r.get(4)?,
        bot_public: r.get(5)?,
        bot_require_code_grant: r.get(6)?,
        flags: r.get(7)?,
        verify_key: r.get(8)?,
        created_at: time(r, 9)?,
    })
}
