//! Notifications, notification settings, delivery receipts and gateway presence
//! leases: the storage side of `beep_core::notifications`.
//!
//! A notification about a message counts only while that message exists: the
//! core writes notifications just before their message (so an acknowledged
//! message never lacks them), and every read here joins `messages`, so rows
//! of a message never written (a crash between the two writes, a nonce replay)
//! or since deleted are invisible.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use beep_types::{ChannelId, GuildId, MessageId, Snowflake, UserId};

use crate::Result;

/// What a notification is about (stored as these numbers).
pub mod kind {
    /// The user, a role of theirs, or everyone was mentioned.
    pub const MENTION: i64 = 1;
    /// Someone replied to the user's message (and pinged them).
    pub const REPLY: i64 = 2;
    /// A message in a direct or group conversation.
    pub const DIRECT_MESSAGE: i64 = 3;
    /// An ordinary message where the user asked for every message.
    pub const MESSAGE: i64 = 4;
    /// Someone asked to be friends.
    pub const FRIEND_REQUEST: i64 = 5;
    /// Someone accepted the user's friend request.
    pub const FRIEND_ACCEPT: i64 = 6;
}

/// One notification of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub id: Snowflake,
    pub user_id: UserId,
    /// One of [`kind`].
    pub kind: i64,
    pub actor_id: Option<UserId>,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    pub message_id: Option<MessageId>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub id: Snowflake,
    pub user_id: UserId,
    pub kind: i64,
    pub actor_id: Option<UserId>,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    pub message_id: Option<MessageId>,
    /// Whether it waits for the missed-mention digest until read or mailed.
    pub digest: bool,
    pub created_at: DateTime<Utc>,
}

/// A user the missed-mention digest is due for.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestDue {
    pub user_id: UserId,
    /// The newest notification of the batch: marking the batch mailed stops here.
    pub last_id: Snowflake,
    /// How many notifications wait.
    pub count: u32,
}

/// Notifications and the presence the digest needs.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Insert notifications in one transaction (users that do not exist are
    /// skipped).
    async fn insert_notifications(&self, list: &[NewNotification]) -> Result<()>;
    /// Delete the notifications of a message; returns how many.
    async fn delete_message_notifications(&self, message: MessageId) -> Result<u64>;
    /// Up to `limit` notifications of `user` older than `before`, newest first
    /// (those of messages that do not exist are left out).
    async fn notifications(
        &self,
        user: UserId,
        before: Option<Snowflake>,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>>;
    /// The notification `id` of `user` (`None` for another user's, or one whose
    /// message does not exist).
    async fn notification(&self, user: UserId, id: Snowflake)
    -> Result<Option<NotificationRecord>>;
    /// Mark one notification read; returns whether it was unread.
    async fn mark_notification_read(&self, user: UserId, id: Snowflake) -> Result<bool>;
    /// Mark every notification of `user` up to `up_to` read; returns how many were unread.
    async fn mark_all_notifications_read(&self, user: UserId, up_to: Snowflake) -> Result<u64>;
    /// Mark `user`'s notifications of `channel` about messages up to `up_to`
    /// read (the user read the channel); returns the ids changed.
    async fn mark_channel_notifications_read(
        &self,
        user: UserId,
        channel: ChannelId,
        up_to: MessageId,
    ) -> Result<Vec<Snowflake>>;
    /// Users with notifications waiting for the digest, no live presence lease at
    /// `now`, and whose last sign of life (a lease ending, or the oldest waiting
    /// notification when later) is at or before `quiet_since`; at most `limit`.
    async fn digests_due(
        &self,
        now: DateTime<Utc>,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DigestDue>>;
    /// The waiting notifications of `user` up to `up_to`, oldest first (what a
    /// digest mail lists).
    async fn digest_batch(
        &self,
        user: UserId,
        up_to: Snowflake,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>>;
    /// The digest of `user` up to `up_to` was mailed: those notifications stop
    /// waiting. Returns how many.
    async fn mark_digested(&self, user: UserId, up_to: Snowflake) -> Result<u64>;
    /// `users` have a live gateway session on `node` until `live_until`
    /// (renewed while they do).
    async fn renew_presence(
        &self,
        users: &[UserId],
        node: &str,
        live_until: DateTime<Utc>,
    ) -> Result<()>;
    /// `user`'s last session on `node` ended at `at`.
    async fn end_presence(&self, user: UserId, node: &str, at: DateTime<Utc>) -> Result<()>;
    /// Whether `user` has a live lease at `now` on any node.
    async fn is_online(&self, user: UserId, now: DateTime<Utc>) -> Result<bool>;
    /// Those of `users` with a live lease at `now` on any node.
    async fn online_among(&self, users: &[UserId], now: DateTime<Utc>) -> Result<Vec<UserId>>;
}

/// A mute: on, with an optional end after which it is off by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mute {
    pub muted: bool,
    pub end_at: Option<DateTime<Utc>>,
    /// Discord's `selected_time_window` (seconds), kept for the client.
    pub window: Option<i64>,
}

impl Mute {
    /// Whether the mute holds at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.muted && self.end_at.is_none_or(|end| end > now)
    }
}

/// A user's settings of one channel inside their guild settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelOverrideRecord {
    pub channel_id: ChannelId,
    /// 0 all, 1 only mentions, 2 nothing, 3 inherit.
    pub message_notifications: i64,
    pub mute: Mute,
}

/// A user's notification settings of a guild, or of direct conversations
/// (`guild_id` `None`, Discord's `@me`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationSettingsRecord {
    pub user_id: UserId,
    pub guild_id: Option<GuildId>,
    /// 0 all, 1 only mentions, 2 nothing, 3 inherit.
    pub message_notifications: i64,
    pub mute: Mute,
    pub suppress_everyone: bool,
    pub suppress_roles: bool,
    /// By channel id.
    pub channel_overrides: Vec<ChannelOverrideRecord>,
    /// Bumped by every write.
    pub version: i64,
}

impl NotificationSettingsRecord {
    /// The settings of a user who never changed them.
    pub fn default_for(user_id: UserId, guild_id: Option<GuildId>) -> Self {
        NotificationSettingsRecord {
            user_id,
            guild_id,
            message_notifications: 3,
            mute: Mute::default(),
            suppress_everyone: false,
            suppress_roles: false,
            channel_overrides: Vec::new(),
            version: 0,
        }
    }

    /// The override of `channel`, if any.
    pub fn channel(&self, channel: ChannelId) -> Option<&ChannelOverrideRecord> {
        self.channel_overrides
            .iter()
            .find(|o| o.channel_id == channel)
    }
}

/// Notification settings, one row per user and guild (or `@me`) with its
/// channel overrides.
#[async_trait]
pub trait NotificationSettingsStore: Send + Sync {
    /// `user`'s settings of `guild` (`None`: direct conversations), if they set any.
    async fn notification_settings(
        &self,
        user: UserId,
        guild: Option<GuildId>,
    ) -> Result<Option<NotificationSettingsRecord>>;
    /// Every settings row of `user`.
    async fn all_notification_settings(
        &self,
        user: UserId,
    ) -> Result<Vec<NotificationSettingsRecord>>;
    /// Replace `s.user_id`'s settings of `s.guild_id`, overrides included, in
    /// one transaction; returns them with the new version. `NotFound` when the
    /// user does not exist.
    async fn put_notification_settings(
        &self,
        s: &NotificationSettingsRecord,
    ) -> Result<NotificationSettingsRecord>;
    /// The settings rows of `users` in `guild` (`None`: `@me`); users without
    /// one are left out.
    async fn notification_settings_of(
        &self,
        guild: Option<GuildId>,
        users: &[UserId],
    ) -> Result<Vec<NotificationSettingsRecord>>;
    /// Users who asked for every message of `guild` (`None`: `@me`) or of
    /// `channel` (level 0 on either), by id, at most `limit`.
    async fn users_wanting_all_messages(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        limit: u32,
    ) -> Result<Vec<UserId>>;
}

/// How far one recipient of a private channel has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptPosition {
    pub user_id: UserId,
    /// The newest message delivered to one of their live gateway sessions.
    pub delivered: Option<MessageId>,
    /// Their read state.
    pub read: Option<MessageId>,
}

/// Delivery positions in private channels ("delivered" receipts).
#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// Move `users`' delivery position in `channel` forward to `message`;
    /// returns the users whose position moved.
    async fn mark_delivered(
        &self,
        channel: ChannelId,
        users: &[UserId],
        message: MessageId,
    ) -> Result<Vec<UserId>>;
    /// The delivery and read positions of `users` in `channel`.
    async fn receipt_positions(
        &self,
        channel: ChannelId,
        users: &[UserId],
    ) -> Result<Vec<ReceiptPosition>>;
}

/// Give each settings row its overrides, from `(user, guild key, override)`
/// rows (guild key 0: `@me`).
pub(crate) fn attach_overrides(
    mut list: Vec<NotificationSettingsRecord>,
    overrides: Vec<(i64, i64, ChannelOverrideRecord)>,
) -> Vec<NotificationSettingsRecord> {
    for (user, guild, o) in overrides {
        if let Some(s) = list
            .iter_mut()
            .find(|s| s.user_id.as_i64() == user && s.guild_id.map_or(0, GuildId::as_i64) == guild)
        {
            s.channel_overrides.push(o);
        }
    }
    list
}
