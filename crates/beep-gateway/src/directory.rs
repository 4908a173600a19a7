//! What the gateway needs to know from the domain: who a token stands for, which
//! guilds a user is in, what a user may see in a guild, and the snapshots sent in
//! READY, GUILD_CREATE and GUILD_MEMBERS_CHUNK.
//!
//! The gateway asks through the [`Directory`] trait so the protocol and fan-out can
//! be tested without a database; [`crate::services::ServicesDirectory`] answers
//! from `beep-core`, where the permission rules live.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use beep_core::accounts::Principal;
use beep_core::permissions::{GuildContext, Overwrite, base_permissions, compute_permissions};
use beep_types::{ChannelId, GuildId, Intents, Permissions, RoleId, UserId};
use serde_json::Value;

/// Why a directory call failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The token is unknown, expired or revoked.
    #[error("authentication failed")]
    Unauthorized,
    /// The domain could not answer (database down, ...); the text is for logs.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
}

/// Result of a directory call.
pub type DirResult<T> = Result<T, DirectoryError>;

/// The parts of READY that describe the connecting account.
#[derive(Debug, Clone)]
pub struct Account {
    /// READY's `user`: the private view of oneself.
    pub user: Value,
    /// READY's `application` (`{id, flags}`) for bots.
    pub application: Option<Value>,
    /// Privileged intents this account may ask for.
    pub privileged: Intents,
    /// READY's `user_settings` for people (the client settings they stored).
    pub settings: Value,
    /// READY's `private_channels` (DMs and groups; empty for bots).
    pub private_channels: Vec<Value>,
    /// READY's `relationships` (empty for bots).
    pub relationships: Vec<Value>,
}

/// What the fan-out needs to decide who sees what in one guild, for the members
/// that have sessions on this node.
#[derive(Debug, Clone)]
pub struct GuildAccess {
    /// Owner and roles (positions and permissions).
    pub ctx: GuildContext,
    /// Every channel with its own overwrites.
    pub channels: HashMap<ChannelId, Vec<Overwrite>>,
    /// The asked-for users who are members, with their roles; others are absent.
    pub members: HashMap<UserId, Vec<RoleId>>,
}

impl GuildAccess {
    /// Whether `user` is a member.
    pub fn is_member(&self, user: UserId) -> bool {
        self.members.contains_key(&user)
    }

    /// The channels `user` may view.
    pub fn visible(&self, user: UserId) -> HashSet<ChannelId> {
        self.channels
            .keys()
            .filter(|c| self.can_view(user, **c))
            .copied()
            .collect()
    }

    /// Whether `user` may view `channel` (false for non-members and unknown channels).
    pub fn can_view(&self, user: UserId, channel: ChannelId) -> bool {
        self.in_channel(user, channel)
            .is_some_and(|p| p.contains(Permissions::VIEW_CHANNEL))
    }

    /// The permissions of `user` in `channel`; `None` for non-members and
    /// unknown channels.
    pub fn in_channel(&self, user: UserId, channel: ChannelId) -> Option<Permissions> {
        let roles = self.members.get(&user)?;
        let overwrites = self.channels.get(&channel)?;
        Some(compute_permissions(&self.ctx, user, roles, overwrites))
    }

    /// The guild-level permissions of `user`; `None` for non-members.
    pub fn base(&self, user: UserId) -> Option<Permissions> {
        let roles = self.members.get(&user)?;
        Some(base_permissions(&self.ctx, user, roles))
    }
}

/// The data of one GUILD_CREATE for one user, before the gateway adds presences.
#[derive(Debug, Clone)]
pub struct GuildSnapshot {
    /// The guild object (with `roles`, `emojis`, `stickers`), as `GET /guilds/{id}` shows it.
    pub guild: Value,
    /// The channels the user can view.
    pub channels: Vec<Value>,
    /// Members (with `user`), at most the asked-for limit.
    pub members: Vec<Value>,
    pub member_count: u64,
    /// When the user joined (ISO 8601).
    pub joined_at: Value,
    /// Voice states of the guild.
    pub voice_states: Vec<Value>,
}

/// A REQUEST_GUILD_MEMBERS query, already checked.
#[derive(Debug, Clone)]
pub enum MemberQuery {
    /// Members whose username or nickname starts with the prefix (`""`: everyone), at most `limit`.
    Prefix { prefix: String, limit: u32 },
    /// These users, when they are members.
    Ids(Vec<UserId>),
}

/// The domain as the gateway sees it.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// The principal an IDENTIFY or RESUME token stands for. Bot tokens may come
    /// with or without the `Bot ` prefix (discord.py sends them bare).
    async fn authenticate(&self, token: &str) -> DirResult<Principal>;

    /// Whether what `principal` logged in with still holds (session not revoked,
    /// bot token not reset). Errors of the domain count as "still valid".
    async fn still_valid(&self, principal: &Principal, token: &str) -> bool;

    /// READY's account parts.
    async fn account(&self, principal: &Principal) -> DirResult<Account>;

    /// The guilds `user` is a member of.
    async fn guild_ids(&self, user: UserId) -> DirResult<Vec<GuildId>>;

    /// Access data of `guild` for `users`; `None` when the guild does not exist.
    async fn guild_access(
        &self,
        guild: GuildId,
        users: &[UserId],
    ) -> DirResult<Option<GuildAccess>>;

    /// The GUILD_CREATE data of `guild` for `user` with up to `member_limit` members;
    /// `None` when the guild is gone or the user is not a member.
    async fn guild_snapshot(
        &self,
        guild: GuildId,
        user: UserId,
        member_limit: u32,
    ) -> DirResult<Option<GuildSnapshot>>;

    /// Every channel of `guild` (channel objects), as its owner `owner` sees them:
    /// for CHANNEL_CREATE / CHANNEL_DELETE when a permission change reveals or
    /// hides a channel to a member.
    async fn guild_channels(&self, guild: GuildId, owner: UserId) -> DirResult<Vec<Value>>;

    /// Members of `guild` matching `query` (member objects with `user`).
    async fn guild_members(&self, guild: GuildId, query: &MemberQuery) -> DirResult<Vec<Value>>;

    /// Users whose presence `user` may see outside guild events: friends (when
    /// relationships exist). Used for presence fan-out and the presence endpoints.
    async fn friends(&self, user: UserId) -> DirResult<Vec<UserId>>;

    /// Whether `viewer` may see `target`'s presence: the same user, a shared
    /// guild, or a friend, and neither blocked the other.
    async fn may_see_presence(&self, viewer: UserId, target: UserId) -> DirResult<bool>;

    /// The users `user` blocked. With the reverse (who blocked `user`), they
    /// never see each other's presence.
    async fn blocked_by(&self, _user: UserId) -> DirResult<HashSet<UserId>> {
        Ok(HashSet::new())
    }

    /// The user's last session on this node ended for good: memberships gained
    /// through a temporary invite (and no role since) end, as on Discord.
    async fn user_went_offline(&self, _user: UserId) {}

    /// `users` have a live session on this node: called for a user's first
    /// session here and every 30 s for every user with one (presence leases,
    /// which the missed-mention digest reads).
    async fn users_online(&self, _users: &[UserId]) {}

    /// A `MESSAGE_CREATE` of a private channel was queued to live (attached)
    /// sessions of `users` (delivery receipts). Must not block: spawn.
    fn message_delivered(&self, _event: &Value, _users: Vec<UserId>) {}
}
