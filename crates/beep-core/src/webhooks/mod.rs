//! Incoming webhooks: created in a channel by members with `MANAGE_WEBHOOKS`,
//! managed by them or by their creator, and executed by anyone holding the
//! token URL (`POST /webhooks/{id}/{token}`), under a name and avatar of the
//! caller's choosing. Tokens are shown only to those with `MANAGE_WEBHOOKS`.

mod execute;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use beep_files::avatars::ImageKind;
use beep_store::messages::{NewWebhook, WebhookPatch, WebhookRecord};
use beep_store::{DynStore, Refusal};
use beep_types::v10::channel::ChannelType;
use beep_types::v10::message::{CreateWebhook, EditWebhook, Webhook};
use beep_types::{
    ChannelId, ErrorCode, GuildId, Intents, Permissions, SnowflakeGenerator, WebhookId,
};
use rand::RngCore;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::events::EventBus;
use crate::guilds::forms::Problems;
use crate::guilds::{Guilds, convert, unexpected};
use crate::messages::{Access, Messages, publish_to};
use crate::ratelimit::Limiter;

/// Most webhooks per channel (Discord: 15).
pub const MAX_WEBHOOKS_PER_CHANNEL: u32 = 15;

/// Webhook operations.
#[derive(Clone)]
pub struct Webhooks {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    bus: Arc<dyn EventBus>,
    guilds: Guilds,
    messages: Messages,
    limiter: Limiter,
    files: beep_files::Files,
    public_url: Arc<str>,
}

/// Everything [`Webhooks`] is built from.
pub struct WebhooksDeps {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub bus: Arc<dyn EventBus>,
    pub guilds: Guilds,
    pub messages: Messages,
    pub limiter: Limiter,
    pub files: beep_files::Files,
    /// The instance's public base URL, for the execution URL of a webhook.
    pub public_url: String,
}

impl Webhooks {
    /// The webhook service.
    pub fn new(d: WebhooksDeps) -> Webhooks {
        Webhooks {
            store: d.store,
            ids: d.ids,
            bus: d.bus,
            guilds: d.guilds,
            messages: d.messages,
            limiter: d.limiter,
            files: d.files,
            public_url: d.public_url.into(),
        }
    }

    /// `POST /channels/{id}/webhooks`.
    pub async fn create(
        &self,
        me: &Principal,
        channel: ChannelId,
        body: CreateWebhook,
    ) -> Result<Webhook> {
        let access = self.messages.access(me.user_id, channel).await?;
        access.require(Permissions::MANAGE_WEBHOOKS)?;
        if access.kind() == ChannelType::Folder {
            return Err(Error::new(ErrorCode::InvalidChannelType));
        }
        let mut p = Problems::new();
        let name = webhook_name(&mut p, "name", &body.name);
        p.finish()?;
        let id = WebhookId(self.ids.next());
        let avatar = match body.avatar.as_deref() {
            Some(uri) => Some(
                self.files
                    .set_image(ImageKind::Avatar, id.get(), uri, "avatar")
                    .await?,
            ),
            None => None,
        };
        let new = NewWebhook {
            id,
            guild_id: access.require_guild()?,
            channel_id: channel,
            creator_id: me.user_id,
            name,
            avatar,
            token: new_token(),
            application_id: None,
        };
        let created = match self
            .store
            .create_webhook(&new, MAX_WEBHOOKS_PER_CHANNEL)
            .await?
        {
            Ok(w) => w,
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxWebhooks)),
            Err(r) => return Err(unexpected(r)),
        };
        self.updated(created.guild_id, created.channel_id);
        Ok(self.json(&created, true, true))
    }

    /// `GET /channels/{id}/webhooks`, with `MANAGE_WEBHOOKS` there.
    pub async fn channel_webhooks(
        &self,
        me: &Principal,
        channel: ChannelId,
    ) -> Result<Vec<Webhook>> {
        let access = self.messages.access(me.user_id, channel).await?;
        access.require(Permissions::MANAGE_WEBHOOKS)?;
        let list = self.store.channel_webhooks(channel).await?;
        Ok(list.iter().map(|w| self.json(w, true, true)).collect())
    }

    /// `GET /guilds/{id}/webhooks`, with `MANAGE_WEBHOOKS` in the guild; only
    /// webhooks of channels the caller can view.
    pub async fn guild_webhooks(&self, me: &Principal, guild: GuildId) -> Result<Vec<Webhook>> {
        let perms = self.guilds.guild_permissions(me.user_id, guild).await?;
        if !perms.contains(Permissions::MANAGE_WEBHOOKS) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let list = self.store.guild_webhooks(guild).await?;
        let mut out = Vec::with_capacity(list.len());
        for w in &list {
            if self.messages.access(me.user_id, w.channel_id).await.is_ok() {
                out.push(self.json(w, true, true));
            }
        }
        Ok(out)
    }

    /// `GET /webhooks/{id}`: by its creator or with `MANAGE_WEBHOOKS` (only the
    /// latter see the token).
    pub async fn get(&self, me: &Principal, id: WebhookId) -> Result<Webhook> {
        let (w, access) = self.managed(me, id).await?;
        Ok(self.json(&w, access.holds(Permissions::MANAGE_WEBHOOKS), true))
    }

    /// `PATCH /webhooks/{id}`: rename, change the avatar, move to another
    /// channel of the guild (where the caller also needs `MANAGE_WEBHOOKS`).
    pub async fn edit(&self, me: &Principal, id: WebhookId, body: EditWebhook) -> Result<Webhook> {
        let (w, access) = self.managed(me, id).await?;
        if let Some(target) = body.channel_id.filter(|c| *c != w.channel_id) {
            let to = self
                .messages
                .access(me.user_id, target)
                .await
                .map_err(|_| Error::new(ErrorCode::UnknownChannel))?;
            if to.guild_id() != Some(w.guild_id) {
                return Err(Error::new(ErrorCode::UnknownChannel));
            }
            to.require(Permissions::MANAGE_WEBHOOKS)?;
            if to.kind() == ChannelType::Folder {
                return Err(Error::new(ErrorCode::InvalidChannelType));
            }
        }
        let updated = self.apply(&w, body).await?;
        Ok(self.json(&updated, access.holds(Permissions::MANAGE_WEBHOOKS), true))
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete(&self, me: &Principal, id: WebhookId) -> Result<()> {
        let (w, _) = self.managed(me, id).await?;
        self.remove(&w).await
    }

    /// `GET /webhooks/{id}/{token}`: no account needed; no `user` in the answer.
    pub async fn get_with_token(&self, id: WebhookId, token: &str) -> Result<Webhook> {
        let w = self.by_token(id, token).await?;
        Ok(self.json(&w, true, false))
    }

    /// `PATCH /webhooks/{id}/{token}`: name and avatar only.
    pub async fn edit_with_token(
        &self,
        id: WebhookId,
        token: &str,
        body: EditWebhook,
    ) -> Result<Webhook> {
        let w = self.by_token(id, token).await?;
        if body.channel_id.is_some() {
            return Err(Error::field(
                "channel_id",
                "WEBHOOK_TOKEN_CANNOT_MOVE",
                "A webhook cannot be moved with its token.",
            ));
        }
        let updated = self.apply(&w, body).await?;
        Ok(self.json(&updated, true, false))
    }

    /// `DELETE /webhooks/{id}/{token}`.
    pub async fn delete_with_token(&self, id: WebhookId, token: &str) -> Result<()> {
        let w = self.by_token(id, token).await?;
        self.remove(&w).await
    }

    /// The webhook, if `me` created it or may manage the webhooks of its channel;
    /// `Unknown Webhook` when it does not exist or its channel is hidden from `me`.
    async fn managed(&self, me: &Principal, id: WebhookId) -> Result<(WebhookRecord, Access)> {
        let unknown = || Error::new(ErrorCode::UnknownWebhook);
        let w = self.store.webhook(id).await?.ok_or_else(unknown)?;
        let access = match self.messages.access(me.user_id, w.channel_id).await {
            Ok(a) => a,
            Err(e) if e.code == ErrorCode::UnknownChannel => return Err(unknown()),
            Err(e) => return Err(e),
        };
        let creator = w.creator.as_ref().is_some_and(|u| u.id == me.user_id);
        if !creator && !access.holds(Permissions::MANAGE_WEBHOOKS) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        Ok((w, access))
    }

    /// The webhook if `token` is its token (compared in constant time).
    pub(crate) async fn by_token(&self, id: WebhookId, token: &str) -> Result<WebhookRecord> {
        let w = self
            .store
            .webhook(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownWebhook))?;
        if !bool::from(w.token.as_bytes().ct_eq(token.as_bytes())) {
            return Err(Error::new(ErrorCode::InvalidWebhookToken));
        }
        Ok(w)
    }

    /// Check and write an edit; publish `WEBHOOKS_UPDATE` for each channel touched.
    async fn apply(&self, w: &WebhookRecord, body: EditWebhook) -> Result<WebhookRecord> {
        let mut p = Problems::new();
        let name = body
            .name
            .as_deref()
            .map(|n| webhook_name(&mut p, "name", n));
        p.finish()?;
        let avatar = match &body.avatar {
            Some(Some(uri)) => Some(Some(
                self.files
                    .set_image(ImageKind::Avatar, w.id.get(), uri, "avatar")
                    .await?,
            )),
            Some(None) => Some(None),
            None => None,
        };
        let patch = WebhookPatch {
            name,
            avatar,
            channel_id: body.channel_id,
        };
        let updated = match self
            .store
            .update_webhook(w.id, &patch, MAX_WEBHOOKS_PER_CHANNEL)
            .await?
        {
            Some(Ok(u)) => u,
            Some(Err(Refusal::LimitReached)) => return Err(Error::new(ErrorCode::MaxWebhooks)),
            Some(Err(r)) => return Err(unexpected(r)),
            None => return Err(Error::new(ErrorCode::UnknownWebhook)),
        };
        self.updated(w.guild_id, w.channel_id);
        if updated.channel_id != w.channel_id {
            self.updated(updated.guild_id, updated.channel_id);
        }
        Ok(updated)
    }

    /// Delete and publish `WEBHOOKS_UPDATE`.
    async fn remove(&self, w: &WebhookRecord) -> Result<()> {
        if self.store.delete_webhook(w.id).await?.is_some() {
            self.updated(w.guild_id, w.channel_id);
        }
        Ok(())
    }

    /// `WEBHOOKS_UPDATE` for a channel.
    fn updated(&self, guild: GuildId, channel: ChannelId) {
        publish_to(
            &*self.bus,
            "WEBHOOKS_UPDATE",
            json!({"guild_id": guild, "channel_id": channel}),
            guild,
            channel,
            Intents::GUILD_WEBHOOKS,
        );
    }

    /// The webhook as Discord shows it; the token and URL only with `token`.
    fn json(&self, w: &WebhookRecord, token: bool, user: bool) -> Webhook {
        Webhook {
            id: w.id,
            kind: u8::try_from(w.kind).unwrap_or(1),
            guild_id: Some(w.guild_id),
            channel_id: Some(w.channel_id),
            user: if user {
                w.creator.as_ref().map(convert::user)
            } else {
                None
            },
            name: Some(w.name.clone()),
            avatar: w.avatar.clone(),
            token: token.then(|| w.token.clone()),
            application_id: w.application_id,
            url: token.then(|| {
                format!(
                    "{}/api/v10/webhooks/{}/{}",
                    self.public_url.trim_end_matches('/'),
                    w.id,
                    w.token
                )
            }),
        }
    }
}

/// A webhook token: 256 random bits, base64url.
fn new_token() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Check a webhook name (or a username override): 1 to 80 characters, no
/// control characters, and not containing "clyde" or "discord", as on Discord.
pub(crate) fn webhook_name(p: &mut Problems, field: &str, raw: &str) -> String {
    let name = raw.trim();
    let n = name.chars().count();
    if !(1..=80).contains(&n) {
        p.add(
            field,
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 80 in length.",
        );
    } else if name.chars().any(char::is_control) {
        p.add(
            field,
            "BASE_TYPE_BAD_CHARACTERS",
            "Contains characters that are not allowed.",
        );
    } else {
        let lower = name.to_lowercase();
        if lower.contains("clyde") || lower.contains("discord") {
            p.add(
                field,
                "WEBHOOK_INVALID_NAME",
                "Webhook names cannot contain \"clyde\" or \"discord\".",
            );
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_discords_rules() {
        for ok in ["Deploys", "a", &"x".repeat(80), "CI bot 🤖"] {
            let mut p = Problems::new();
            webhook_name(&mut p, "name", ok);
            assert!(p.finish().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "  ",
            &"x".repeat(81),
            "my clyde",
            "DiscordBot",
            "a\u{7}b",
        ] {
            let mut p = Problems::new();
            webhook_name(&mut p, "name", bad);
            assert!(p.finish().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_long_and_fresh() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
