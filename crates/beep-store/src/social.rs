//! Relationships (friends, blocks, requests), private channels (DMs and groups)
//! and phone numbers: the storage side of `beep_core::social`.
//!
//! Stable interface for other services (notifications, presence):
//! [`RelationshipStore::relationship`], [`RelationshipStore::relationships`],
//! [`RelationshipStore::friends`], [`RelationshipStore::is_blocked`],
//! [`PrivateChannelStore::private_channels`], [`PrivateChannelStore::recipients`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use beep_types::{ChannelId, MessageId, UserId};

use crate::Result;
use crate::guilds::{Guarded, UserSummary};
use crate::messages::MessageRecord;

/// Discord's relationship types, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationshipKind {
    /// 1: friends (both rows say so).
    Friend,
    /// 2: the row's owner blocked the other user.
    Blocked,
    /// 3: the other user asked the row's owner to be friends.
    Incoming,
    /// 4: the row's owner asked the other user.
    Outgoing,
}

impl RelationshipKind {
    /// Discord's number.
    pub fn code(self) -> i64 {
        match self {
            RelationshipKind::Friend => 1,
            RelationshipKind::Blocked => 2,
            RelationshipKind::Incoming => 3,
            RelationshipKind::Outgoing => 4,
        }
    }

    /// The kind with Discord's number `n`.
    pub fn from_code(n: i64) -> Option<RelationshipKind> {
        Some(match n {
            1 => RelationshipKind::Friend,
            2 => RelationshipKind::Blocked,
            3 => RelationshipKind::Incoming,
            4 => RelationshipKind::Outgoing,
            _ => return None,
        })
    }
}

/// One row of a user's relationship list: what `user_id` has with `target`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipRecord {
    pub user_id: UserId,
    pub target: UserSummary,
    pub kind: RelationshipKind,
    /// When the row took its current kind.
    pub since: DateTime<Utc>,
}

/// The two rows between users `a` and `b`: `a`'s about `b` and `b`'s about `a`.
pub type RelationshipPair = (Option<RelationshipKind>, Option<RelationshipKind>);

/// A compare-and-set of both rows between two users, written in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipChange {
    pub a: UserId,
    pub b: UserId,
    /// The rows as the caller read them; anything else is `Refusal::Stale`.
    pub expected: RelationshipPair,
    /// The rows to write (`None` deletes a row).
    pub new: RelationshipPair,
    /// A user who gains a row must have fewer than this many already
    /// (`Refusal::LimitReached`).
    pub max_per_user: u32,
    /// Also delete the two users' 1:1 channel with its messages.
    pub erase_dm: bool,
}

/// What a relationship change did besides the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelationshipOutcome {
    /// The 1:1 channel erased with `erase_dm`, if there was one.
    pub erased_dm: Option<ChannelId>,
}

/// Friends, blocks and requests. Each relationship is two rows (one per side)
/// that change together.
#[async_trait]
pub trait RelationshipStore: Send + Sync {
    /// What `user` has with `other` (their row), if anything.
    async fn relationship(&self, user: UserId, other: UserId) -> Result<Option<RelationshipKind>>;
    /// Both rows between `a` and `b`, read together.
    async fn relationship_pair(&self, a: UserId, b: UserId) -> Result<RelationshipPair>;
    /// Every row of `user`, by target id.
    async fn relationships(&self, user: UserId) -> Result<Vec<RelationshipRecord>>;
    /// The friends of `user`, by id.
    async fn friends(&self, user: UserId) -> Result<Vec<UserId>>;
    /// Whether either user blocked the other.
    async fn is_blocked(&self, a: UserId, b: UserId) -> Result<bool>;
    /// Compare both rows with `expected` and write `new` (see [`RelationshipChange`]).
    /// `NotFound` when a user does not exist.
    async fn change_relationship(
        &self,
        change: &RelationshipChange,
    ) -> Result<Guarded<RelationshipOutcome>>;
}

/// A DM (kind 1) or group (kind 3) channel with its recipients.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivateChannelRecord {
    pub id: ChannelId,
    /// 1 (DM) or 3 (group).
    pub kind: i64,
    /// Groups only.
    pub name: Option<String>,
    /// Groups only: the icon hash.
    pub icon: Option<String>,
    /// Groups only.
    pub owner_id: Option<UserId>,
    /// Every recipient (the caller included), in the order they joined.
    pub recipients: Vec<UserSummary>,
    pub created_at: DateTime<Utc>,
}

impl PrivateChannelRecord {
    /// Whether `user` is a recipient.
    pub fn has(&self, user: UserId) -> bool {
        self.recipients.iter().any(|r| r.id == user)
    }

    /// The recipient ids.
    pub fn recipient_ids(&self) -> Vec<UserId> {
        self.recipients.iter().map(|r| r.id).collect()
    }
}

/// A private channel as one recipient lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivateChannelEntry {
    pub channel: PrivateChannelRecord,
    /// The newest message, if any.
    pub last_message_id: Option<MessageId>,
    /// When this recipient pinned it (a snowflake of that time).
    pub pinned: Option<i64>,
}

/// A new group channel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGroup {
    pub id: ChannelId,
    pub owner_id: UserId,
    pub name: Option<String>,
    pub icon: Option<String>,
    /// The other members (not the owner).
    pub recipients: Vec<UserId>,
}

/// A change of a group's name or icon; `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupPatch {
    pub name: Option<Option<String>>,
    pub icon: Option<Option<String>>,
}

/// What removing a recipient did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientRemoval {
    /// The user was not a recipient; nothing changed.
    NotRecipient,
    /// Removed; `new_owner` is set when the owner left and ownership passed on.
    Removed { new_owner: Option<UserId> },
    /// The last recipient left: the channel and its messages are deleted.
    Deleted,
}

/// Direct and group channels.
#[async_trait]
pub trait PrivateChannelStore: Send + Sync {
    /// The private channel with this id and its recipients (`None` for guild channels).
    async fn private_channel(&self, id: ChannelId) -> Result<Option<PrivateChannelRecord>>;
    /// The recipient ids of a private channel (empty when there is none).
    async fn recipients(&self, channel: ChannelId) -> Result<Vec<UserId>>;
    /// The 1:1 channel of `a` and `b`, if they have one.
    async fn dm_between(&self, a: UserId, b: UserId) -> Result<Option<ChannelId>>;
    /// The 1:1 channel of `a` and `b`, created with id `id` if they have none
    /// (the bool says whether it was created). Either way it is reopened for `a`.
    /// `NotFound` when a user does not exist.
    async fn open_dm(
        &self,
        id: ChannelId,
        a: UserId,
        b: UserId,
    ) -> Result<(PrivateChannelRecord, bool)>;
    /// Create a group; `Refusal::LimitReached` when it would have more than
    /// `max_members` (owner included). `NotFound` when a user does not exist.
    async fn create_group(
        &self,
        g: &NewGroup,
        max_members: u32,
    ) -> Result<Guarded<PrivateChannelRecord>>;
    /// The private channels `user` sees: not closed, or closed and with a message
    /// since (see [`PrivateChannelStore::close_private_channel`]). Unordered.
    async fn private_channels(&self, user: UserId) -> Result<Vec<PrivateChannelEntry>>;
    /// Change a group's name or icon; `None` when there is no such group.
    async fn update_group(
        &self,
        id: ChannelId,
        patch: &GroupPatch,
    ) -> Result<Option<PrivateChannelRecord>>;
    /// Add a recipient to a group unless it has `max_members`; `Ok(Ok(false))`
    /// when they already are one. `NotFound` when the group or user does not exist.
    async fn add_recipient(
        &self,
        channel: ChannelId,
        user: UserId,
        max_members: u32,
    ) -> Result<Guarded<bool>>;
    /// Remove a recipient from a group: ownership passes to the earliest
    /// remaining member when the owner leaves; the last one out deletes it.
    async fn remove_recipient(&self, channel: ChannelId, user: UserId) -> Result<RecipientRemoval>;
    /// Hide a channel from `user`'s list until a message newer than `at` (a
    /// snowflake) arrives; returns whether `user` is a recipient.
    async fn close_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        at: i64,
    ) -> Result<bool>;
    /// Pin (`Some(snowflake of now)`) or unpin a channel in `user`'s list;
    /// returns whether `user` is a recipient.
    async fn pin_private_channel(
        &self,
        channel: ChannelId,
        user: UserId,
        pinned: Option<i64>,
    ) -> Result<bool>;
    /// Delete a private channel with its messages; returns whether it existed.
    async fn delete_private_channel(&self, id: ChannelId) -> Result<bool>;
    /// Messages of private channels `user` was a recipient of when they were
    /// sent (their own included), newest first, older than `before`, at most `limit`.
    async fn direct_messages(
        &self,
        user: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>>;
}

/// A user's verified phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRecord {
    pub user_id: UserId,
    /// E.164, e.g. `+14155550123`.
    pub phone: String,
    /// Whether others may find the user by it.
    pub discoverable: bool,
}

/// Verified phone numbers, one per user and unique across users.
#[async_trait]
pub trait PhoneStore: Send + Sync {
    /// Set `user`'s number (keeping `discoverable`, false for a first number);
    /// returns false, changing nothing, when another user has it.
    /// `NotFound` when the user does not exist.
    async fn set_phone(&self, user: UserId, phone: &str) -> Result<bool>;
    /// `user`'s number.
    async fn phone(&self, user: UserId) -> Result<Option<PhoneRecord>>;
    /// Set whether `user` may be found by number; returns whether they have one.
    async fn set_phone_discoverable(&self, user: UserId, discoverable: bool) -> Result<bool>;
    /// Remove `user`'s number; returns whether there was one.
    async fn remove_phone(&self, user: UserId) -> Result<bool>;
    /// The discoverable users among these numbers, with the number each matched.
    async fn discoverable_by_phone(&self, phones: &[String]) -> Result<Vec<(String, UserSummary)>>;
}
