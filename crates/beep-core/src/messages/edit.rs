//! Editing and deleting: `PATCH` by the author (moderators may only toggle
//! `SUPPRESS_EMBEDS`), `DELETE` by the author or with `MANAGE_MESSAGES`, and bulk
//! deletes of 2 to 100 recent messages.

use beep_files::StoredAttachment;
use beep_store::messages::{MessagePatch, MessageRecord};
use beep_types::v10::message::{EditMessage, Embed, Message, message_flags, message_type};
use beep_types::{ChannelId, ErrorCode, Intents, MessageId, Permissions};
use serde_json::json;

use super::mentions;
use super::render::{self, ReactionScope};
use super::send::MentionContext;
use super::{Access, Messages, content};
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;

/// Fewest and most messages in one bulk delete.
pub const BULK_DELETE_RANGE: std::ops::RangeInclusive<usize> = 2..=100;

impl Messages {
    /// `PATCH /channels/{id}/messages/{id}`.
    pub async fn edit(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        body: EditMessage,
    ) -> Result<Message> {
        let access = self.message_access(me.user_id, channel).await?;
        let m = self.message_in(&access, id).await?;
        let own = m.webhook_id.is_none() && m.author_id == me.user_id;
        if !own {
            return self.moderate_flags(&access, &m, &body).await;
        }
        if m.kind != i64::from(message_type::DEFAULT) && m.kind != i64::from(message_type::REPLY) {
            return Err(Error::new(ErrorCode::SystemMessage));
        }
        let mut p = Problems::new();
        let new_content = body.content.as_ref().map(|c| {
            content::content(&mut p, Some(c.as_deref().unwrap_or(""))).unwrap_or_default()
        });
        let new_embeds = match (&body.embeds, &body.embed) {
            (Some(list), _) => Some(content::embeds(&mut p, list.clone().unwrap_or_default())),
            (None, Some(one)) => Some(content::embeds(&mut p, one.clone().into_iter().collect())),
            (None, None) => None,
        };
        let old_flags = u64::try_from(m.flags).unwrap_or(0);
        let flags = match body.flags {
            Some(f) => {
                let settable =
                    content::flags(&mut p, Some(f.unwrap_or(0)), content::EDIT_FLAGS).unwrap_or(0);
                Some((old_flags & !content::EDIT_FLAGS) | settable)
            }
            None => None,
        };
        p.finish()?;
        let allowed = mentions::allowed(body.allowed_mentions.as_ref().and_then(Option::as_ref))?;
        if new_embeds.as_ref().is_some_and(|e| !e.is_empty()) {
            access.require(Permissions::EMBED_LINKS)?;
        }
        let text = new_content.clone().unwrap_or_else(|| m.content.clone());
        let embeds_now: Vec<Embed> = match &new_embeds {
            Some(e) => e.clone(),
            None => serde_json::from_str(&m.embeds).unwrap_or_default(),
        };
        let files: Vec<StoredAttachment> = serde_json::from_str(&m.attachments).unwrap_or_default();
        if text.trim().is_empty() && embeds_now.is_empty() && files.is_empty() {
            return Err(Error::new(ErrorCode::CannotSendEmptyMessage));
        }
        let mentions = match &new_content {
            Some(text) => {
                let ctx = MentionContext {
                    guild: access.guild_id(),
                    roles: access.roles(),
                    mention_everyone: access.holds(Permissions::MENTION_EVERYONE),
                    sender: Some(me.user_id),
                };
                Some(self.resolve_mentions(&ctx, text, &allowed, None).await?)
            }
            None => None,
        };
        let edited = new_content.is_some() || new_embeds.is_some();
        let patch = MessagePatch {
            content: new_content,
            embeds: new_embeds
                .as_deref()
                .map(content::embeds_json)
                .transpose()?,
            flags: flags.map(|f| f as i64),
            mentions,
            edited_at: edited.then(chrono::Utc::now),
        };
        self.apply_edit(&access, me.user_id, &m, &patch).await
    }

    /// An edit of someone else's message: only `SUPPRESS_EMBEDS`, with
    /// `MANAGE_MESSAGES`; anything else is `Cannot edit a message authored by
    /// another user`.
    async fn moderate_flags(
        &self,
        access: &Access,
        m: &MessageRecord,
        body: &EditMessage,
    ) -> Result<Message> {
        let only_flags = body.content.is_none()
            && body.embeds.is_none()
            && body.embed.is_none()
            && body.allowed_mentions.is_none()
            && body.attachments.is_none();
        let Some(flags) = body.flags.filter(|_| only_flags) else {
            return Err(Error::new(ErrorCode::CannotEditOthersMessage));
        };
        access.require(Permissions::MANAGE_MESSAGES)?;
        let suppress = flags.unwrap_or(0) & message_flags::SUPPRESS_EMBEDS;
        let old = u64::try_from(m.flags).unwrap_or(0);
        let patch = MessagePatch {
            flags: Some(((old & !message_flags::SUPPRESS_EMBEDS) | suppress) as i64),
            ..Default::default()
        };
        self.apply_edit(access, access.actor(), m, &patch).await
    }

    /// Write an edit and publish `MESSAGE_UPDATE`.
    async fn apply_edit(
        &self,
        access: &Access,
        viewer: beep_types::UserId,
        m: &MessageRecord,
        patch: &MessagePatch,
    ) -> Result<Message> {
        let updated = self
            .store
            .update_message(access.channel_id(), m.id, patch)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownMessage))?;
        let msg = self
            .render
            .one(&updated, viewer, ReactionScope::Each)
            .await?;
        let mut event = msg.clone();
        event.reactions = None;
        self.publish(
            "MESSAGE_UPDATE",
            render::event_payload(event, access.guild_id(), None),
            access,
            Intents::GUILD_MESSAGES,
        );
        Ok(msg)
    }

    /// `DELETE /channels/{id}/messages/{id}`: the author's own, or anyone's with
    /// `MANAGE_MESSAGES`.
    pub async fn delete(&self, me: &Principal, channel: ChannelId, id: MessageId) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        let m = self.message_in(&access, id).await?;
        let own = m.webhook_id.is_none() && m.author_id == me.user_id;
        if !own {
            access.require(Permissions::MANAGE_MESSAGES)?;
        }
        // The files go through the store's deletion queue (filled in the
        // delete's own transaction, see beep-files' ledger).
        if self.store.delete_message(channel, id).await?.is_some() {
            self.publish(
                "MESSAGE_DELETE",
                json!({"id": id, "channel_id": channel, "guild_id": access.guild_id()}),
                &access,
                Intents::GUILD_MESSAGES,
            );
        }
        Ok(())
    }

    /// `POST /channels/{id}/messages/bulk-delete`: 2 to 100 distinct ids, none
    /// older than the bulk-delete age limit, with `MANAGE_MESSAGES`. Ids that are
    /// not messages of the channel are skipped.
    pub async fn bulk_delete(
        &self,
        me: &Principal,
        channel: ChannelId,
        ids: Vec<MessageId>,
    ) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::MANAGE_MESSAGES)?;
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        if !BULK_DELETE_RANGE.contains(&ids.len()) {
            return Err(Error::new(ErrorCode::BulkDeleteCount));
        }
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let oldest = now_ms.saturating_sub(self.limits.bulk_delete_max_age.as_millis() as u64);
        if ids.iter().any(|id| id.0.timestamp_ms() < oldest) {
            return Err(Error::new(ErrorCode::BulkDeleteTooOld));
        }
        let deleted = self.store.delete_messages(channel, &ids).await?;
        if deleted.is_empty() {
            return Ok(());
        }
        self.publish(
            "MESSAGE_DELETE_BULK",
            json!({"ids": deleted, "channel_id": channel, "guild_id": access.guild_id()}),
            &access,
            Intents::GUILD_MESSAGES,
        );
        Ok(())
    }
}
