//! Executing a webhook: a message in its channel under the webhook's name (or
//! the `username` given), rate limited per webhook, with the same content rules
//! as any message. A webhook may mention `@everyone` and every role, as far as
//! `allowed_mentions` lets it.

use std::time::Duration;

use beep_types::v10::message::{ExecuteWebhook, Message};
use beep_types::{ErrorCode, MessageId, UserId, WebhookId};

use super::{Webhooks, webhook_name};
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;
use crate::messages::content;
use crate::messages::mentions;
use crate::messages::{MentionContext, Sender, draft};
use crate::ratelimit::{Quota, Scope};

/// Messages one webhook may send: 30 a minute, as Discord allows per channel.
const EXECUTIONS: Quota = Quota {
    burst: 30,
    interval: Duration::from_secs(2),
};

impl Webhooks {
    /// `POST /webhooks/{id}/{token}`; with `wait`, the message is returned.
    pub async fn execute(
        &self,
        id: WebhookId,
        token: &str,
        body: ExecuteWebhook,
        wait: bool,
    ) -> Result<Option<Message>> {
        let w = self.by_token(id, token).await?;
        let decision = self
            .limiter
            .acquire("webhook", &id.to_string(), EXECUTIONS, Scope::Shared, 1)
            .await?;
        if !decision.allowed {
            return Err(decision.into_error());
        }
        let mut p = Problems::new();
        let text = content::content(&mut p, body.content.as_deref()).unwrap_or_default();
        let embeds = content::embeds(&mut p, body.embeds.unwrap_or_default());
        let flags = content::flags(&mut p, body.flags, content::CREATE_FLAGS).unwrap_or(0);
        let name = match body.username.as_deref() {
            Some(u) => webhook_name(&mut p, "username", u),
            None => w.name.clone(),
        };
        if let Some(url) = body.avatar_url.as_deref()
            && !content::is_url(url, &["http://", "https://"])
        {
            p.add(
                "avatar_url",
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.",
            );
        }
        if body.attachments.as_ref().is_some_and(|a| !a.is_empty()) {
            p.add(
                "attachments",
                "WEBHOOK_ATTACHMENTS_UNSUPPORTED",
                "Webhooks cannot send files yet.",
            );
        }
        p.finish()?;
        let allowed = mentions::allowed(body.allowed_mentions.as_ref())?;
        if text.trim().is_empty() && embeds.is_empty() {
            return Err(Error::new(ErrorCode::CannotSendEmptyMessage));
        }
        let channel = self
            .store
            .guild_channel(w.channel_id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownWebhook))?;
        let roles = self.store.roles(channel.guild_id).await?;
        let ctx = MentionContext {
            guild: Some(channel.guild_id),
            roles: &roles,
            mention_everyone: true,
            sender: None,
        };
        let set = self
            .messages
            .resolve_mentions(&ctx, &text, &allowed, None)
            .await?;
        let sender = Sender::Webhook {
            id,
            name,
            avatar_url: body.avatar_url,
        };
        let mut new = draft(
            MessageId(self.ids.next()),
            &channel.id,
            Some(channel.guild_id),
            &sender,
            text,
            &embeds,
            &[],
            None,
            set,
        )?;
        new.flags = flags as i64;
        new.tts = body.tts.unwrap_or(false);
        let msg = self.messages.insert_and_publish(&new, UserId(id.0)).await?;
        Ok(wait.then_some(msg))
    }
}
