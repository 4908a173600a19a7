//! Notifications: the inbox (mentions, replies, direct messages, friend
//! requests and accepts), Discord's per-guild notification settings with
//! channel overrides and timed mutes, delivery and read receipts in private
//! channels, and the missed-mention digest mail.
//!
//! - [`rules`]: the pure decision "does this user get a notification for
//!   this", from their settings and the clock (a mute with an end time ends by
//!   itself because it is compared with the clock here, never swept).
//! - `fanout`: who a new message notifies; the message service calls it just
//!   before it writes the message (see [`Notifications::prepare_guild_message`]).
//! - `settings`: `GET /users/@me/guilds/settings`, `PATCH .../{guild_id}/settings`.
//! - `receipts`: `sent` / `delivered` / `read` of messages in private channels.
//! - `digest`: the background worker mailing missed mentions.
//!
//! Events (all `Audience::Users`, no intent): `NOTIFICATION_CREATE` (a
//! [`Notification`]), `NOTIFICATION_READ` (a [`NotificationRead`]),
//! `USER_GUILD_SETTINGS_UPDATE` (the settings object), `MESSAGE_RECEIPT_UPDATE`
//! (to a message's author).

mod digest;
mod fanout;
pub mod receipts;
pub mod rules;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use beep_store::DynStore;
use beep_store::notifications::{NewNotification, NotificationRecord, kind};
use beep_types::v10::channel::Timestamp;
use beep_types::v10::notification::{Notification, NotificationRead};
use beep_types::{ErrorCode, Snowflake, SnowflakeGenerator, UserId};
use serde_json::json;

use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::events::{Audience, Event, EventBus};
use crate::mail::Mailer;

pub use digest::DigestWorker;
pub use fanout::Pending;
pub use receipts::Receipt;

/// Most notifications one page returns.
pub const MAX_PAGE: u32 = 100;
/// Most recipients one message notifies (mentions of everyone and roles, and
/// those who asked for every message, are cut off here).
pub const MAX_FANOUT: usize = 10_000;
/// How long a gateway presence lease lasts without renewal; the gateway renews
/// it every [`LEASE_RENEWAL`].
pub const LEASE: Duration = Duration::from_secs(90);
/// How often the gateway renews the leases of its users.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(30);

/// Settings of the notification service.
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// How long a user with unread mentions must have had no live gateway
    /// session before the digest mail goes out.
    pub digest_delay: Duration,
    /// This node's name in presence leases (unique among running nodes).
    pub node: String,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        NotificationConfig {
            digest_delay: Duration::from_secs(15 * 60),
            node: "w0".into(),
        }
    }
}

/// The notification service; cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    bus: Arc<dyn EventBus>,
    mailer: Mailer,
    config: Arc<NotificationConfig>,
}

/// Query of `GET /users/@me/notifications`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only notifications older than this id.
    #[param(value_type = Option<String>)]
    pub before: Option<Snowflake>,
    /// 1 to 100 (default 25).
    pub limit: Option<u32>,
}

impl Notifications {
    /// The service over a store, the id generator, the bus and a mailer.
    pub fn new(
        store: DynStore,
        ids: Arc<SnowflakeGenerator>,
        bus: Arc<dyn EventBus>,
        mailer: Mailer,
        config: NotificationConfig,
    ) -> Notifications {
        Notifications {
            store,
            ids,
            bus,
            mailer,
            config: Arc::new(config),
        }
    }

    /// `GET /users/@me/notifications?before&limit`: newest first.
    pub async fn list(&self, me: &Principal, q: &NotificationQuery) -> Result<Vec<Notification>> {
        let limit = q.limit.unwrap_or(25);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::field(
                "limit",
                "NUMBER_TYPE_MAX",
                format!("Must be between 1 and {MAX_PAGE}."),
            ));
        }
        let list = self
            .store
            .notifications(me.user_id, q.before, limit)
            .await?;
        Ok(list.iter().map(wire).collect())
    }

    /// `POST /users/@me/notifications/{id}/read`.
    pub async fn read(&self, me: &Principal, id: Snowflake) -> Result<()> {
        if self.store.notification(me.user_id, id).await?.is_none() {
            return Err(Error::new(ErrorCode::UnknownNotification));
        }
        if self.store.mark_notification_read(me.user_id, id).await? {
            self.publish_read(me.user_id, vec![id], None);
        }
        Ok(())
    }

    /// `POST /users/@me/notifications/read-all`: everything up to now.
    pub async fn read_all(&self, me: &Principal) -> Result<()> {
        let up_to = self.ids.next();
        if self
            .store
            .mark_all_notifications_read(me.user_id, up_to)
            .await?
            > 0
        {
            self.publish_read(me.user_id, Vec::new(), Some(up_to));
        }
        Ok(())
    }

    /// `user` read `channel` up to `message`: its notifications up to there are
    /// read (as Discord clears mentions when a channel is read).
    pub(crate) async fn channel_read(
        &self,
        user: UserId,
        channel: beep_types::ChannelId,
        message: beep_types::MessageId,
    ) -> Result<()> {
        let ids = self
            .store
            .mark_channel_notifications_read(user, channel, message)
            .await?;
        if !ids.is_empty() {
            self.publish_read(user, ids, None);
        }
        Ok(())
    }

    /// A friend request from `from` to `to` (called by the social service after
    /// it committed the request). Nothing when either blocked the other.
    pub async fn friend_request(&self, from: UserId, to: UserId) -> Result<()> {
        self.direct(from, to, kind::FRIEND_REQUEST).await
    }

    /// `from` accepted `to`'s friend request.
    pub async fn friend_accept(&self, from: UserId, to: UserId) -> Result<()> {
        self.direct(from, to, kind::FRIEND_ACCEPT).await
    }

    async fn direct(&self, from: UserId, to: UserId, k: i64) -> Result<()> {
        if from == to || self.store.is_blocked(from, to).await? {
            return Ok(());
        }
        let n = NewNotification {
            id: self.ids.next(),
            user_id: to,
            kind: k,
            actor_id: Some(from),
            guild_id: None,
            channel_id: None,
            message_id: None,
            digest: false,
            created_at: chrono::Utc::now(),
        };
        self.store
            .insert_notifications(std::slice::from_ref(&n))
            .await?;
        self.publish_created(&[n]);
        Ok(())
    }

    /// `users` have a live gateway session on this node (renewed every
    /// [`LEASE_RENEWAL`] while they do).
    pub async fn users_online(&self, users: &[UserId]) -> Result<()> {
        let until = chrono::Utc::now() + LEASE;
        Ok(self
            .store
            .renew_presence(users, &self.config.node, until)
            .await?)
    }

    /// `user`'s last session on this node ended.
    pub async fn user_offline(&self, user: UserId) -> Result<()> {
        Ok(self
            .store
            .end_presence(user, &self.config.node, chrono::Utc::now())
            .await?)
    }

    /// The digest worker of this service (started by the node's api role).
    pub fn digest_worker(&self) -> DigestWorker {
        DigestWorker::new(self.clone())
    }

    fn publish_created(&self, list: &[NewNotification]) {
        for n in list {
            let record = NotificationRecord {
                id: n.id,
                user_id: n.user_id,
                kind: n.kind,
                actor_id: n.actor_id,
                guild_id: n.guild_id,
                channel_id: n.channel_id,
                message_id: n.message_id,
                read: false,
                created_at: n.created_at,
            };
            self.bus.publish(Event {
                name: "NOTIFICATION_CREATE",
                data: serde_json::to_value(wire(&record)).unwrap_or_default(),
                audience: Audience::Users(vec![n.user_id]),
                intent: None,
            });
        }
    }

    fn publish_read(&self, user: UserId, ids: Vec<Snowflake>, up_to: Option<Snowflake>) {
        let d = NotificationRead {
            all: up_to.is_some(),
            ids,
            up_to,
        };
        self.bus.publish(Event {
            name: "NOTIFICATION_READ",
            data: serde_json::to_value(d).unwrap_or_else(|_| json!({})),
            audience: Audience::Users(vec![user]),
            intent: None,
        });
    }
}

/// The name of a notification kind on the wire.
pub fn kind_name(k: i64) -> &'static str {
    match k {
        kind::MENTION => "mention",
        kind::REPLY => "reply",
        kind::DIRECT_MESSAGE => "direct_message",
        kind::MESSAGE => "message",
        kind::FRIEND_REQUEST => "friend_request",
        kind::FRIEND_ACCEPT => "friend_accept",
        _ => "unknown",
    }
}

fn wire(n: &NotificationRecord) -> Notification {
    Notification {
        id: n.id,
        kind: kind_name(n.kind).to_owned(),
        read: n.read,
        created_at: Timestamp(n.created_at),
        actor_id: n.actor_id,
        guild_id: n.guild_id,
        channel_id: n.channel_id,
        message_id: n.message_id,
    }
}
