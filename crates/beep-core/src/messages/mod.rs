//! Messages: history, sending, editing and deleting, replies, mentions, pins,
//! reactions, typing, read states and slow mode.
//!
//! Every public method takes the acting principal first and checks, in this
//! order: that the channel exists and the actor can view it (else `Unknown
//! Channel`, as the guild service answers), that it holds messages, the
//! permission bits, then the input. A message id of another channel is
//! `Unknown Message`. Writes go through the store in one call (the SQLite
//! writer commits them in groups), then the Discord dispatch is published once.

mod access;
pub mod cache;
pub mod content;
mod edit;
pub mod emoji;
mod history;
pub mod mentions;
mod pins;
mod previews;
mod reactions;
mod reads;
mod render;
mod search;
mod send;

use std::sync::Arc;
use std::time::Duration;

use beep_store::DynStore;
use beep_types::{ChannelId, GuildId, Intents, SnowflakeGenerator};
use serde_json::Value;

use crate::events::{Audience, Event, EventBus};
use crate::guilds::Guilds;
use crate::ratelimit::Limiter;

pub use access::{Access, DM_PERMISSIONS, Place, dm_intent};
pub use history::HistoryQuery;
pub use pins::{PinnedMessage, PinsPage, PinsQuery};
pub use reactions::ReactionUsersQuery;
pub use render::{ReactionScope, Renderer};
pub use search::{SearchParams, SearchResults};
pub(crate) use send::{MentionContext, draft};
pub use send::{NewMessageInput, Sender};

/// Limits of the message service, all configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLimits {
    /// Pinned messages per channel (Discord: 250).
    pub max_pins: u32,
    /// Distinct emojis reacted with on one message (Discord: 20).
    pub max_reaction_emojis: u32,
    /// How long a nonce is remembered for `enforce_nonce`.
    pub nonce_window: Duration,
    /// Oldest message a bulk delete may remove (Discord: 14 days).
    pub bulk_delete_max_age: Duration,
}

impl Default for MessageLimits {
    fn default() -> Self {
        MessageLimits {
            max_pins: 250,
            max_reaction_emojis: 20,
            nonce_window: Duration::from_secs(10 * 60),
            bulk_delete_max_age: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// Message operations.
#[derive(Clone)]
pub struct Messages {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    bus: Arc<dyn EventBus>,
    guilds: Guilds,
    limiter: Limiter,
    render: Renderer,
    limits: MessageLimits,
    cache: Arc<cache::GuildCache>,
    previewer: beep_files::Previewer,
    notifications: crate::notifications::Notifications,
}

/// Everything [`Messages`] is built from.
pub struct MessagesDeps {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub bus: Arc<dyn EventBus>,
    pub guilds: Guilds,
    pub limiter: Limiter,
    pub files: beep_files::Files,
    /// The instance's public base URL, for signed attachment URLs.
    pub public_url: String,
    pub limits: MessageLimits,
    /// The guild state the send path reads (see [`cache`]).
    pub cache: Arc<cache::GuildCache>,
    /// Notifications of new messages, and of channels read.
    pub notifications: crate::notifications::Notifications,
}

impl Messages {
    /// The message service.
    pub fn new(d: MessagesDeps) -> Messages {
        let previewer = d.files.previewer().clone();
        let render = Renderer::new(d.store.clone(), d.files, d.public_url);
        Messages {
            store: d.store,
            ids: d.ids,
            bus: d.bus,
            guilds: d.guilds,
            limiter: d.limiter,
            render,
            limits: d.limits,
            cache: d.cache,
            previewer,
            notifications: d.notifications,
        }
    }

    /// The notification service (for services that notify besides messages).
    pub fn notifications(&self) -> &crate::notifications::Notifications {
        &self.notifications
    }

    /// The limits in force.
    pub fn limits(&self) -> MessageLimits {
        self.limits
    }

    /// How messages become Discord's JSON (for the webhook service, which
    /// sends messages too).
    pub fn renderer(&self) -> &Renderer {
        &self.render
    }

    /// Publish one dispatch about the channel of `access`: to the guild's
    /// members who can view it, or to the recipients of a private channel
    /// (with the DM twin of `intent`, and no `guild_id`).
    pub(crate) fn publish(
        &self,
        name: &'static str,
        data: Value,
        access: &Access,
        intent: Intents,
    ) {
        publish_at(
            &*self.bus,
            name,
            data,
            access.audience(),
            access.intent(intent),
        );
    }
}

/// Publish one dispatch to `audience`; a private channel's events carry no
/// `guild_id` (not even `null`), as on Discord.
pub(crate) fn publish_at(
    bus: &dyn EventBus,
    name: &'static str,
    mut data: Value,
    audience: Audience,
    intent: Intents,
) {
    if matches!(audience, Audience::Users(_))
        && let Some(map) = data.as_object_mut()
    {
        for key in ["guild_id", "member"] {
            if map.get(key).is_some_and(Value::is_null) {
                map.remove(key);
            }
        }
    }
    bus.publish(Event {
        name,
        data,
        audience,
        // No bit at all means no gate (an empty gate would let nothing through).
        intent: u32::try_from(intent.bits()).ok().filter(|b| *b != 0),
    });
}

/// Publish one dispatch about `channel` of `guild`: to the guild's members who
/// can view the channel.
pub(crate) fn publish_to(
    bus: &dyn EventBus,
    name: &'static str,
    data: Value,
    guild: GuildId,
    channel: ChannelId,
    intent: Intents,
) {
    bus.publish(Event {
        name,
        data,
        audience: Audience::Guild {
            guild_id: guild,
            channel_id: Some(channel),
        },
        intent: u32::try_from(intent.bits()).ok(),
    });
}
