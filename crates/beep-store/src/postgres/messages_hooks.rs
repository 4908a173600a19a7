//! Webhooks and bot applications on PostgreSQL. Same methods, order and comments
//! as `sqlite/messages_hooks.rs`.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::{ApplicationId, ChannelId, GuildId, RoleId, UserId, WebhookId};

use super::PostgresStore;
use super::messages::opt_user_summary;
use crate::guilds::{Guarded, Refusal};
use crate::messages::{
    ApplicationRecord, ApplicationStore, NewApplication, NewWebhook, WebhookPatch, WebhookRecord,
    WebhookStore,
};
use crate::sql;
use crate::sql_messages as q;
use crate::{Result, StoreError};

#[async_trait]
impl WebhookStore for PostgresStore {
    /// Create a webhook unless its channel has `max_per_channel` already.
    /// `NotFound` when the guild, channel or creator does not exist.
    async fn create_webhook(
        &self,
        w: &NewWebhook,
        max_per_channel: u32,
    ) -> Result<Guarded<WebhookRecord>> {
        let now = sql::now();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // The channel's row lock keeps two creations from both passing the limit.
        let st = tx.prepare_cached(q::PG_LOCK_CHANNEL).await?;
        tx.query_opt(&st, &[&w.channel_id.as_i64()]).await?;
        let st = tx.prepare_cached(q::COUNT_CHANNEL_WEBHOOKS).await?;
        let n: i64 = tx
            .query_one(&st, &[&w.channel_id.as_i64()])
            .await?
            .try_get(0)?;
        if n >= i64::from(max_per_channel) {
            return Ok(Err(Refusal::LimitReached));
        }
        let st = tx.prepare_cached(q::INSERT_WEBHOOK).await?;
        let application = w.application_id.map(ApplicationId::as_i64);
        let params: [&(dyn ToSql + Sync); 9] = [
            &w.id.as_i64(),
            &w.guild_id.as_i64(),
            &w.channel_id.as_i64(),
            &w.creator_id.as_i64(),
            &w.name,
            &w.avatar,
            &w.token,
            &application,
            &now,
        ];
        tx.execute(&st, &params).await?;
        let created = webhook_by_id(&tx, w.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(Ok(created))
    }

    /// The webhook with this id.
    async fn webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>> {
        let c = self.client().await?;
        webhook_by_id(&c, id).await
    }

    /// Webhooks of a channel, oldest first.
    async fn channel_webhooks(&self, channel: ChannelId) -> Result<Vec<WebhookRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::CHANNEL_WEBHOOKS).await?;
        c.query(&st, &[&channel.as_i64()])
            .await?
            .iter()
            .map(webhook)
            .collect()
    }

    /// Webhooks of a guild, oldest first.
    async fn guild_webhooks(&self, guild: GuildId) -> Result<Vec<WebhookRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::GUILD_WEBHOOKS).await?;
        c.query(&st, &[&guild.as_i64()])
            .await?
            .iter()
            .map(webhook)
            .collect()
    }

    /// Apply a patch; a move is refused with `LimitReached` when the target
    /// channel is full. `None` when there is no such webhook.
    async fn update_webhook(
        &self,
        id: WebhookId,
        patch: &WebhookPatch,
        max_per_channel: u32,
    ) -> Result<Option<Guarded<WebhookRecord>>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx.prepare_cached(q::WEBHOOK_CHANNEL).await?;
        let Some(row) = tx.query_opt(&st, &[&id.as_i64()]).await? else {
            return Ok(None);
        };
        let current: i64 = row.try_get(0)?;
        if let Some(target) = patch.channel_id
            && target.as_i64() != current
        {
            let st = tx.prepare_cached(q::PG_LOCK_CHANNEL).await?;
            tx.query_opt(&st, &[&target.as_i64()]).await?;
            let st = tx.prepare_cached(q::COUNT_CHANNEL_WEBHOOKS).await?;
            let n: i64 = tx.query_one(&st, &[&target.as_i64()]).await?.try_get(0)?;
            if n >= i64::from(max_per_channel) {
                return Ok(Some(Err(Refusal::LimitReached)));
            }
        }
        let (set_avatar, avatar) = match &patch.avatar {
            Some(a) => (true, a.clone()),
            None => (false, None),
        };
        let channel = patch.channel_id.map(ChannelId::as_i64);
        let st = tx.prepare_cached(q::UPDATE_WEBHOOK).await?;
        tx.execute(
            &st,
            &[&patch.name, &channel, &set_avatar, &avatar, &id.as_i64()],
        )
        .await?;
        let updated = webhook_by_id(&tx, id).await?;
        tx.commit().await?;
        Ok(updated.map(Ok))
    }

    /// Delete a webhook; returns it.
    async fn delete_webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let found = webhook_by_id(&tx, id).await?;
        if found.is_some() {
            let st = tx.prepare_cached(q::DELETE_WEBHOOK).await?;
            tx.execute(&st, &[&id.as_i64()]).await?;
        }
        tx.commit().await?;
        Ok(found)
    }
}

#[async_trait]
impl ApplicationStore for PostgresStore {
    /// Insert an application; `NotFound` when its bot user or owner does not exist.
    async fn insert_application(&self, a: &NewApplication) -> Result<ApplicationRecord> {
        let now = sql::now();
        let c = self.client().await?;
        let st = c.prepare_cached(q::INSERT_APPLICATION).await?;
        let params: [&(dyn ToSql + Sync); 7] = [
            &a.id.as_i64(),
            &a.owner_id.as_i64(),
            &a.name,
            &a.description,
            &a.bot_public,
            &a.verify_key,
            &now,
        ];
        application(&c.query_one(&st, &params).await?)
    }

    /// The application with this id.
    async fn application(&self, id: ApplicationId) -> Result<Option<ApplicationRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::APPLICATION_BY_ID).await?;
        c.query_opt(&st, &[&id.as_i64()])
            .await?
            .as_ref()
            .map(application)
            .transpose()
    }

    /// Applications of an owner, oldest first.
    async fn applications_of_owner(&self, owner: UserId) -> Result<Vec<ApplicationRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::APPLICATIONS_OF_OWNER).await?;
        c.query(&st, &[&owner.as_i64()])
            .await?
            .iter()
            .map(application)
            .collect()
    }

    /// Replace an application's flags; the application after, `None` when unknown.
    async fn set_application_flags(
        &self,
        id: ApplicationId,
        flags: i64,
    ) -> Result<Option<ApplicationRecord>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::SET_APPLICATION_FLAGS).await?;
        c.query_opt(&st, &[&flags, &id.as_i64()])
            .await?
            .as_ref()
            .map(application)
            .transpose()
    }

    /// Record that `role` is the managed role of `bot` in `guild`. `Conflict`
    /// when the bot already has one there.
    async fn set_bot_role(&self, guild: GuildId, bot: UserId, role: RoleId) -> Result<()> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::INSERT_BOT_ROLE).await?;
        c.execute(&st, &[&role.as_i64(), &guild.as_i64(), &bot.as_i64()])
            .await?;
        Ok(())
    }

    /// The managed role of `bot` in `guild`.
    async fn bot_role(&self, guild: GuildId, bot: UserId) -> Result<Option<RoleId>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::BOT_ROLE).await?;
        match c.query_opt(&st, &[&guild.as_i64(), &bot.as_i64()]).await? {
            Some(row) => Ok(Some(RoleId::from_i64(row.try_get(0)?))),
            None => Ok(None),
        }
    }

    /// Every managed role of a guild, with its bot.
    async fn bot_roles_of_guild(&self, guild: GuildId) -> Result<Vec<(RoleId, UserId)>> {
        let c = self.client().await?;
        let st = c.prepare_cached(q::BOT_ROLES_OF_GUILD).await?;
        c.query(&st, &[&guild.as_i64()])
            .await?
            .iter()
            .map(|r| {
                Ok((
                    RoleId::from_i64(r.try_get(0)?),
                    UserId::from_i64(r.try_get(1)?),
                ))
            })
            .collect()
    }
}

/// The webhook with this id.
async fn webhook_by_id<C: GenericClient>(c: &C, id: WebhookId) -> Result<Option<WebhookRecord>> {
    let st = c.prepare_cached(q::WEBHOOK_BY_ID).await?;
    c.query_opt(&st, &[&id.as_i64()])
        .await?
        .as_ref()
        .map(webhook)
        .transpose()
}

/// A webhook row, columns in the order of `webhook_select!`.
fn webhook(r: &Row) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        id: WebhookId::from_i64(r.try_get(0)?),
        kind: r.try_get(1)?,
        guild_id: GuildId::from_i64(r.try_get(2)?),
        channel_id: ChannelId::from_i64(r.try_get(3)?),
        name: r.try_get(4)?,
        avatar: r.try_get(5)?,
        token: r.try_get(6)?,
        application_id: r.try_get::<_, Option<i64>>(7)?.map(ApplicationId::from_i64),
        created_at: r.try_get(8)?,
        creator: opt_user_summary(r, 9)?,
    })
}

/// An `applications` row, columns in the order of `application_columns!`.
fn application(r: &Row) -> Result<ApplicationRecord> {
    Ok(ApplicationRecord {
        id: ApplicationId::from_i64(r.try_get(0)?),
        owner_id: UserId::from_i64(r.try_get(1)?),
        name: r.try_get(2)?,
        description: r.try_get(3)?,
        icon: r.try_get(4)?,
        bot_public: r.try_get(5)?,
        bot_require_code_grant: r.try_get(6)?,
        flags: r.try_get(7)?,
        verify_key: r.try_get(8)?,
        created_at: r.try_get(9)?,
    })
}
