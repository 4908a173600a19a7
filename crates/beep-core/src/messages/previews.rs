//! The link-preview worker: once a message is stored, its links are fetched off
//! the request path (through the SSRF-safe previewer of `beep-files`), the
//! previews are stored as the message's embeds, and `MESSAGE_UPDATE` is published,
//! as Discord does. Messages sent with `SUPPRESS_EMBEDS`, or by someone without
//! `EMBED_LINKS`, get no previews.

use beep_store::messages::{MessagePatch, MessageRecord};
use beep_types::v10::message::message_flags;
use beep_types::{Intents, UserId};

use crate::events::Audience;
use serde_json::Value;

use super::render::{self, ReactionScope};
use super::{Messages, publish_at};

impl Messages {
    /// Start fetching previews for `stored` if it has links and may embed them.
    /// `audience` and `intent` are the channel's (see `Access::audience`).
    pub(crate) fn spawn_previews(
        &self,
        stored: &MessageRecord,
        author: UserId,
        may_embed: bool,
        audience: Audience,
        intent: Intents,
    ) {
        let suppressed =
            u64::try_from(stored.flags).unwrap_or(0) & message_flags::SUPPRESS_EMBEDS != 0;
        if !may_embed
            || suppressed
            || beep_files::preview::extract_urls(&stored.content, 1).is_empty()
        {
            return;
        }
        let (previewer, store, render, bus) = (
            self.previewer.clone(),
            self.store.clone(),
            self.render.clone(),
            self.bus.clone(),
        );
        let (channel, id, guild, content) = (
            stored.channel_id,
            stored.id,
            stored.guild_id,
            stored.content.clone(),
        );
        let existing = stored.embeds.clone();
        tokio::spawn(async move {
            let previews = previewer.previews_for(&content).await;
            if previews.is_empty() {
                return;
            }
            let mut embeds: Vec<Value> = serde_json::from_str(&existing).unwrap_or_default();
            embeds.extend(previews);
            let patch = MessagePatch {
                embeds: Some(Value::Array(embeds).to_string()),
                ..Default::default()
            };
            // The message may be gone or edited meanwhile; a failure here only
            // means no preview.
            let updated = match store.update_message(channel, id, &patch).await {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(message = %id, error = %e, "cannot store link previews");
                    return;
                }
            };
            let Ok(mut msg) = render.one(&updated, author, ReactionScope::None).await else {
                return;
            };
            msg.reactions = None;
            let payload = render::event_payload(msg, guild, None);
            publish_at(&*bus, "MESSAGE_UPDATE", payload, audience, intent);
        });
    }
}
