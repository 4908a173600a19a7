//! Social: relationships (friends, requests, blocks), private channels (DMs
//! and groups), pinned conversations, "all my direct messages", and phone
//! contacts (`services.social`). The routes are `beep-http/src/routes/social.rs`;
//! storage is `beep_store::social`. Messages *inside* private channels go
//! through `services.messages` like any other channel (see
//! `messages::access`).
//!
//! # Stable interface for other services
//!
//! The notification service and the gateway (friends' presence, READY) call:
//!
//! - [`Social::friends_of`]`(user) -> Vec<UserId>`: the user's friends;
//! - [`Social::blocked_between`]`(a, b) -> bool`: whether either blocked the other;
//! - [`Social::relationship`]`(user, other) -> Option<RelationshipKind>`: `user`'s row;
//! - [`Social::recipients_of`]`(channel) -> Vec<UserId>`: a private channel's
//!   recipients (empty for a guild channel or no channel);
//! - [`Social::is_private_channel`]`(channel) -> bool`;
//! - [`Social::ready_private_channels`] / [`Social::ready_relationships`]: the
//!   `private_channels` and `relationships` of READY, as Discord's JSON.
//!
//! In the store: `RelationshipStore::{relationship, relationships, friends,
//! is_blocked}` and `PrivateChannelStore::{private_channels, recipients}`.
//!
//! # Rules
//!
//! - A DM (or adding someone to a group) is allowed between friends, or
//!   between members of a shared server unless the recipient forbids DMs from
//!   server members in their user settings (Discord's keys:
//!   `default_guilds_restricted: true` forbids them from every server,
//!   `restricted_guilds: ["<guild id>", ...]` from those servers). Otherwise,
//!   or when either blocked the other, `50007 Cannot send messages to this user`.
//! - A blocked user cannot send a friend request to the blocker (`80000`), nor
//!   open a DM or send in an existing one (`50007`).
//! - Ending a friendship (unfriending, or blocking a friend) erases the two
//!   users' 1:1 channel and its messages for both, in the transaction that
//!   changes the relationship rows.

mod channels;
mod phone;
mod relationships;
mod render;

use std::sync::{Arc, RwLock};

use beep_store::DynStore;
use beep_store::social::RelationshipKind;
use beep_types::{ChannelId, SnowflakeGenerator, UserId};
use serde_json::Value;

use crate::error::Result;
use crate::events::{Audience, Event, EventBus};
use crate::messages::Messages;
use crate::ratelimit::Limiter;

pub use channels::{CreatePrivateChannel, DirectMessagesQuery, PatchGroup};
pub use phone::{
    ContactsLookup, LogSms, MemorySms, PhonePatch, PhoneVerify, SmsSender, VERIFY_PHONE, valid_e164,
};
pub use relationships::{PutRelationship, SendFriendRequest};

/// Limits of the social service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocialLimits {
    /// Relationships (friends, requests and blocks) one user may have (Discord: 1000).
    pub max_relationships: u32,
    /// Members of a group, the owner included (Discord: 10).
    pub max_group_members: u32,
    /// Phone numbers in one contacts lookup.
    pub max_contacts_lookup: usize,
}

impl Default for SocialLimits {
    fn default() -> Self {
        SocialLimits {
            max_relationships: 1000,
            max_group_members: 10,
            max_contacts_lookup: 100,
        }
    }
}

/// Relationships, private channels and phone contacts.
#[derive(Clone)]
pub struct Social {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    bus: Arc<dyn EventBus>,
    messages: Messages,
    limiter: Limiter,
    files: beep_files::Files,
    limits: SocialLimits,
    sms: Arc<RwLock<Arc<dyn SmsSender>>>,
}

/// Everything [`Social`] is built from.
pub struct SocialDeps {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub bus: Arc<dyn EventBus>,
    pub messages: Messages,
    pub limiter: Limiter,
    pub files: beep_files::Files,
    pub limits: SocialLimits,
}

impl Social {
    /// The social service, sending SMS through [`LogSms`] until another
    /// sender is plugged in with [`Social::set_sms_sender`].
    pub fn new(d: SocialDeps) -> Social {
        Social {
            store: d.store,
            ids: d.ids,
            bus: d.bus,
            messages: d.messages,
            limiter: d.limiter,
            files: d.files,
            limits: d.limits,
            sms: Arc::new(RwLock::new(Arc::new(LogSms))),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> SocialLimits {
        self.limits
    }

    /// Plug in the SMS provider (every clone of this service uses it).
    pub fn set_sms_sender(&self, sender: Arc<dyn SmsSender>) {
        *self
            .sms
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = sender;
    }

    fn sms(&self) -> Arc<dyn SmsSender> {
        self.sms
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The friends of `user`, by id.
    pub async fn friends_of(&self, user: UserId) -> Result<Vec<UserId>> {
        Ok(self.store.friends(user).await?)
    }

    /// Whether either of `a` and `b` blocked the other.
    pub async fn blocked_between(&self, a: UserId, b: UserId) -> Result<bool> {
        Ok(self.store.is_blocked(a, b).await?)
    }

    /// What `user` has with `other` (their own row), if anything.
    pub async fn relationship(
        &self,
        user: UserId,
        other: UserId,
    ) -> Result<Option<RelationshipKind>> {
        Ok(self.store.relationship(user, other).await?)
    }

    /// The recipients of a private channel; empty for a guild channel or no channel.
    pub async fn recipients_of(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        Ok(self.store.recipients(channel).await?)
    }

    /// Whether `channel` is a DM or group.
    pub async fn is_private_channel(&self, channel: ChannelId) -> Result<bool> {
        Ok(self.store.private_channel(channel).await?.is_some())
    }

    /// One dispatch to exactly these users.
    fn publish(&self, name: &'static str, data: Value, users: Vec<UserId>) {
        self.bus.publish(Event {
            name,
            data,
            audience: Audience::Users(users),
            intent: None,
        });
    }
}
