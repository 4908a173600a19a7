//! The message aggregate: messages with their mentions, reactions and pins, read
//! states, incoming webhooks and bot applications. Records are plain data; who
//! may do what lives in `beep-core`.
//!
//! History reads are ranges of the `(channel_id, id)` index, newest first, so a
//! page costs the same whatever the size of the channel. Writes that touch several
//! rows (a message and its mention rows; a pin and its notice; a bulk delete) run
//! as one transaction on both backends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use beep_types::{ApplicationId, ChannelId, GuildId, MessageId, RoleId, UserId, WebhookId};

use crate::Result;
use crate::guilds::{Guarded, UserSummary};

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub guild_id: Option<GuildId>,
    /// The user who wrote it, or the webhook's id for webhook messages.
    pub author_id: UserId,
    /// The author's account, when it still exists (never for webhook messages).
    pub author: Option<UserSummary>,
    pub webhook_id: Option<WebhookId>,
    pub application_id: Option<ApplicationId>,
    /// Discord's message type number.
    pub kind: i64,
    pub content: String,
    pub flags: i64,
    pub tts: bool,
    /// The client's nonce as JSON text.
    pub nonce: Option<String>,
    pub edited_at: Option<DateTime<Utc>>,
    pub pinned_at: Option<DateTime<Utc>>,
    pub mention_everyone: bool,
    /// In order of first appearance.
    pub mention_users: Vec<UserId>,
    pub mention_roles: Vec<RoleId>,
    pub mention_channels: Vec<ChannelId>,
    pub reference: Option<MessageRef>,
    /// A JSON array of embed objects.
    pub embeds: String,
    /// Webhook messages: the name shown.
    pub author_name: Option<String>,
    /// Webhook messages: the avatar URL shown.
    pub author_avatar: Option<String>,
    /// A JSON array of stored attachments.
    pub attachments: String,
}

/// What a reply or a pin notice points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub guild_id: Option<GuildId>,
}

/// The fields given when creating a message.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub guild_id: Option<GuildId>,
    pub author_id: UserId,
    pub webhook_id: Option<WebhookId>,
    pub application_id: Option<ApplicationId>,
    pub kind: i64,
    pub content: String,
    pub flags: i64,
    pub tts: bool,
    pub nonce: Option<String>,
    pub mention_everyone: bool,
    pub mention_users: Vec<UserId>,
    pub mention_roles: Vec<RoleId>,
    pub mention_channels: Vec<ChannelId>,
    pub reference: Option<MessageRef>,
    pub embeds: String,
    pub author_name: Option<String>,
    pub author_avatar: Option<String>,
    /// A JSON array of stored attachments.
    pub attachments: String,
    /// Rows for mention counts: user, role or guild (for @everyone) ids.
    pub mention_targets: Vec<i64>,
}

/// An edit. `None` leaves a field alone. Mentions are always given again, since
/// they follow from the new content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagePatch {
    pub content: Option<String>,
    pub embeds: Option<String>,
    pub flags: Option<i64>,
    /// New mentions and their count rows, replacing the old ones.
    pub mentions: Option<MentionSet>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// The mentions of a message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentionSet {
    pub everyone: bool,
    pub users: Vec<UserId>,
    pub roles: Vec<RoleId>,
    pub channels: Vec<ChannelId>,
    pub targets: Vec<i64>,
}

/// Which page of history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest messages.
    Latest,
    /// Messages older than this id, newest first.
    Before(MessageId),
    /// Messages newer than this id, newest first (the oldest ones after it).
    After(MessageId),
    /// Messages around this id (it included, if it exists), newest first.
    Around(MessageId),
}

/// Messages and their history.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Insert a message with its mention rows, and move the author's read state
    /// to it. With `nonce_since`, a message of the same channel, author and nonce
    /// whose id is at least that bound is returned instead and nothing is written
    /// (the bool is false). `NotFound` when the channel does not exist.
    async fn insert_message(
        &self,
        m: &NewMessage,
        nonce_since: Option<MessageId>,
    ) -> Result<(MessageRecord, bool)>;
    /// The message `id` of `channel` (a message of another channel is `None`).
    async fn message(&self, channel: ChannelId, id: MessageId) -> Result<Option<MessageRecord>>;
    /// The messages with these ids that exist, in no particular order.
    async fn messages_by_ids(&self, ids: &[MessageId]) -> Result<Vec<MessageRecord>>;
    /// Up to `limit` messages of `channel`, newest first.
    async fn messages_page(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<MessageRecord>>;
    /// The newest message id of a channel.
    async fn last_message_id(&self, channel: ChannelId) -> Result<Option<MessageId>>;
    /// Apply an edit; `None` when `channel` has no such message.
    async fn update_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        patch: &MessagePatch,
    ) -> Result<Option<MessageRecord>>;
    /// Delete a message with its reactions and mention rows; returns it.
    async fn delete_message(
        &self,
        channel: ChannelId,
        id: MessageId,
    ) -> Result<Option<MessageRecord>>;
    /// Delete these messages of `channel` in one transaction; returns the ids
    /// deleted (ids of other channels and unknown ids are skipped).
    async fn delete_messages(
        &self,
        channel: ChannelId,
        ids: &[MessageId],
    ) -> Result<Vec<MessageId>>;
    /// Delete every message `author` wrote in guild `guild` with an id of at least
    /// `since` (a ban's `delete_message_seconds`), with their mentions and
    /// reactions, in one transaction; returns what was deleted, oldest first.
    async fn delete_author_messages_since(
        &self,
        guild: GuildId,
        author: UserId,
        since: MessageId,
    ) -> Result<Vec<(ChannelId, MessageId)>>;
    /// The users with these ids that exist, in no particular order.
    async fn user_summaries(&self, ids: &[UserId]) -> Result<Vec<UserSummary>>;
}

/// Pins.
#[async_trait]
pub trait PinStore: Send + Sync {
    /// Pin a message of `channel` at `at` and insert `notice` (the pin notice,
    /// Discord's type 6), in one transaction, unless `max` messages are pinned.
    /// `Ok(Ok(Some(notice)))` when pinned now, `Ok(Ok(None))` when it already was
    /// (nothing written); `NotFound` when the channel has no such message.
    async fn pin_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        at: DateTime<Utc>,
        notice: &NewMessage,
        max: u32,
    ) -> Result<Guarded<Option<MessageRecord>>>;
    /// Unpin a message of `channel`; returns whether it was pinned. `NotFound`
    /// when the channel has no such message.
    async fn unpin_message(&self, channel: ChannelId, id: MessageId) -> Result<bool>;
    /// Pinned messages of a channel, newest pin first, pinned before `before`.
    async fn pinned_messages(
        &self,
        channel: ChannelId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>>;
    /// When the newest pin of a channel was made.
    async fn last_pin_at(&self, channel: ChannelId) -> Result<Option<DateTime<Utc>>>;
}

/// An emoji as reactions store it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmojiKey {
    /// The unicode emoji, or the custom emoji's id in decimal.
    pub key: String,
    pub id: Option<i64>,
    pub name: String,
    pub animated: bool,
}

/// The reactions of one emoji on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionCount {
    pub message_id: MessageId,
    pub emoji: EmojiKey,
    pub count: u32,
    /// Whether the viewer is among those who reacted.
    pub me: bool,
}

/// Reactions.
#[async_trait]
pub trait ReactionStore: Send + Sync {
    /// Add `user`'s reaction with `emoji`, unless it would be the message's
    /// `max_emojis + 1`th emoji. `Ok(Ok(true))` when added, `Ok(Ok(false))` when
    /// it was already there; `NotFound` when the channel has no such message.
    async fn add_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: &EmojiKey,
        user: UserId,
        max_emojis: u32,
    ) -> Result<Guarded<bool>>;
    /// Remove one user's reaction; returns whether it was there.
    async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
        user: UserId,
    ) -> Result<bool>;
    /// Remove every reaction of a message; returns how many.
    async fn remove_all_reactions(&self, channel: ChannelId, message: MessageId) -> Result<u64>;
    /// Remove every reaction of one emoji on a message; returns how many.
    async fn remove_emoji_reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
    ) -> Result<u64>;
    /// Users who reacted with one emoji, by user id after `after`, at most `limit`.
    async fn reaction_users(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji_key: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<UserSummary>>;
    /// Reaction counts of the messages of `channel` with ids in `from..=to`, each
    /// message's emojis in order of first use.
    async fn reaction_counts(
        &self,
        channel: ChannelId,
        from: MessageId,
        to: MessageId,
        viewer: UserId,
    ) -> Result<Vec<ReactionCount>>;
}

/// How far a user has read a channel, with what came after.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadStateRecord {
    pub channel_id: ChannelId,
    /// The channel's guild, `None` for direct conversations.
    pub guild_id: Option<GuildId>,
    pub last_message_id: MessageId,
    /// Messages after it, counted up to [`UNREAD_COUNT_CAP`].
    pub unread_count: u32,
    /// Messages after it that mention the user, one of their roles, or everyone.
    pub mention_count: u32,
    pub channel_last_message_id: Option<MessageId>,
    pub last_pin_at: Option<DateTime<Utc>>,
}

/// Unread counts stop here: a badge needs no more, and the count stays cheap.
pub const UNREAD_COUNT_CAP: u32 = 1000;

/// Read states.
#[async_trait]
pub trait ReadStateStore: Send + Sync {
    /// Record that `user` read `channel` up to `message`. A normal ack only moves
    /// forward; a `manual` one (mark unread) may move back. Returns the position
    /// now stored. `NotFound` when the user or channel does not exist.
    async fn ack(
        &self,
        user: UserId,
        channel: ChannelId,
        message: MessageId,
        manual: bool,
        at: DateTime<Utc>,
    ) -> Result<MessageId>;
    /// The read states of `user` in channels that still exist and that the user
    /// can still reach (guild member, or not a guild channel), with counts.
    async fn read_states(&self, user: UserId) -> Result<Vec<ReadStateRecord>>;
}

/// An incoming webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub kind: i64,
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    /// Who created it, if the account still exists.
    pub creator: Option<UserSummary>,
    pub name: String,
    pub avatar: Option<String>,
    pub token: String,
    pub application_id: Option<ApplicationId>,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub id: WebhookId,
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    pub creator_id: UserId,
    pub name: String,
    pub avatar: Option<String>,
    pub token: String,
    pub application_id: Option<ApplicationId>,
}

/// A partial update of a webhook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub avatar: Option<Option<String>>,
    /// Moves it to another channel of its guild.
    pub channel_id: Option<ChannelId>,
}

/// Incoming webhooks.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Create a webhook unless its channel has `max_per_channel` already.
    /// `NotFound` when the guild, channel or creator does not exist.
    async fn create_webhook(
        &self,
        w: &NewWebhook,
        max_per_channel: u32,
    ) -> Result<Guarded<WebhookRecord>>;
    /// The webhook with this id.
    async fn webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>>;
    /// Webhooks of a channel, oldest first.
    async fn channel_webhooks(&self, channel: ChannelId) -> Result<Vec<WebhookRecord>>;
    /// Webhooks of a guild, oldest first.
    async fn guild_webhooks(&self, guild: GuildId) -> Result<Vec<WebhookRecord>>;
    /// Apply a patch; a move is refused with `LimitReached` when the target
    /// channel is full. `None` when there is no such webhook.
    async fn update_webhook(
        &self,
        id: WebhookId,
        patch: &WebhookPatch,
        max_per_channel: u32,
    ) -> Result<Option<Guarded<WebhookRecord>>>;
    /// Delete a webhook; returns it.
    async fn delete_webhook(&self, id: WebhookId) -> Result<Option<WebhookRecord>>;
}

/// A bot application.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationRecord {
    /// Also the id of the bot user.
    pub id: ApplicationId,
    pub owner_id: UserId,
    pub name: String,
    pub description: String,
    pub icon: Option<String>,
    pub bot_public: bool,
    pub bot_require_code_grant: bool,
    pub flags: i64,
    pub verify_key: String,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating an application.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    /// The id of its bot user, which must exist.
    pub id: ApplicationId,
    pub owner_id: UserId,
    pub name: String,
    pub description: String,
    pub bot_public: bool,
    pub verify_key: String,
}

/// Bot applications and the roles their bots get in guilds.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Insert an application; `NotFound` when its bot user or owner does not exist.
    async fn insert_application(&self, a: &NewApplication) -> Result<ApplicationRecord>;
    /// The application with this id.
    async fn application(&self, id: ApplicationId) -> Result<Option<ApplicationRecord>>;
    /// Applications of an owner, oldest first.
    async fn applications_of_owner(&self, owner: UserId) -> Result<Vec<ApplicationRecord>>;
    /// Replace an application's flags; the application after, `None` when unknown.
    async fn set_application_flags(
        &self,
        id: ApplicationId,
        flags: i64,
    ) -> Result<Option<ApplicationRecord>>;
    /// Record that `role` is the managed role of `bot` in `guild`.
    /// `Conflict("bot_role")` when the bot already has one there.
    async fn set_bot_role(&self, guild: GuildId, bot: UserId, role: RoleId) -> Result<()>;
    /// The managed role of `bot` in `guild`.
    async fn bot_role(&self, guild: GuildId, bot: UserId) -> Result<Option<RoleId>>;
    /// Every managed role of a guild, with its bot.
    async fn bot_roles_of_guild(&self, guild: GuildId) -> Result<Vec<(RoleId, UserId)>>;
}

/// Ids from the comma-separated list a column keeps, in order.
pub(crate) fn id_list<T: From<beep_types::Snowflake>>(text: &str) -> Vec<T> {
    text.split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .map(|v| T::from(beep_types::Snowflake(v)))
        .collect()
}

/// Ids as the comma-separated list a column keeps.
pub(crate) fn id_text<T: std::fmt::Display>(ids: &[T]) -> String {
    let mut out = String::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_round_trip() {
        let ids = vec![UserId::from_i64(3), UserId::from_i64(1)];
        let text = id_text(&ids);
        assert_eq!(text, "3,1");
        assert_eq!(id_list::<UserId>(&text), ids);
        assert!(id_list::<UserId>("").is_empty());
    }
}
