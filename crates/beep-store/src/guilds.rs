//! The guild aggregate: guilds, their roles, channels and overwrites, members,
//! bans, invites and audit log. Records are plain data; who may do what lives in
//! `beep-core`.
//!
//! Writes that touch several rows (a guild with its `@everyone` role, default
//! channels and owner; a folder and everything in it; a reorder) run as one
//! transaction on both backends. Every write that the audit log records takes
//! the entries to insert, so an action and its entry commit together.
//!
//! Some writes are *guarded*: they check a limit, a ban or a version inside their
//! transaction and, when the check fails, change nothing and answer
//! `Ok(Err(Refusal::...))`. Failures of the store itself stay `Err(StoreError)`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use beep_types::v10::channel::{ChannelType, OverwriteType, PermissionOverwrite};
use beep_types::{ChannelId, GuildId, Permissions, RoleId, Snowflake, UserId};

use crate::Result;

/// Why a guarded write did not happen. The write changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A count limit (guilds of a user, channels or roles of a guild, invites) is reached.
    LimitReached,
    /// Too many creations in the window; the caller may retry after this many ms.
    RateLimited { retry_after_ms: i64 },
    /// The data changed since the caller read it (version or role set mismatch);
    /// read again and retry.
    Stale,
    /// The user is banned from the guild.
    Banned,
    /// The user is already a member of the guild.
    AlreadyMember,
    /// The user is not a member of the guild (a new owner must be one).
    NotMember,
    /// The invite does not exist, expired, or is used up.
    InviteGone,
}

/// The outcome of a guarded write.
pub type Guarded<T> = std::result::Result<T, Refusal>;

/// A guild.
#[derive(Debug, Clone, PartialEq)]
pub struct GuildRecord {
    pub id: GuildId,
    pub name: String,
    pub icon: Option<String>,
    pub banner: Option<String>,
    pub splash: Option<String>,
    pub description: Option<String>,
    pub owner_id: UserId,
    /// Listed in discovery and joinable without an invite.
    pub public: bool,
    pub afk_channel_id: Option<ChannelId>,
    /// Seconds.
    pub afk_timeout: i64,
    pub system_channel_id: Option<ChannelId>,
    pub system_channel_flags: i64,
    pub verification_level: i64,
    pub default_message_notifications: i64,
    pub explicit_content_filter: i64,
    pub preferred_locale: String,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating a guild.
#[derive(Debug, Clone)]
pub struct NewGuild {
    pub id: GuildId,
    pub name: String,
    pub icon: Option<String>,
    pub description: Option<String>,
    /// The creator, who becomes owner and first member.
    pub owner_id: UserId,
    pub public: bool,
    pub preferred_locale: String,
    pub system_channel_id: Option<ChannelId>,
    pub verification_level: i64,
    pub default_message_notifications: i64,
    pub explicit_content_filter: i64,
}

/// Checks made inside the transaction creating a guild.
#[derive(Debug, Clone, Copy)]
pub struct GuildCreateGuard {
    /// Most guilds a user may own.
    pub max_owned: u32,
    /// Most guilds a user may be a member of (owned ones included).
    pub max_joined: u32,
    /// Most guilds a user may create per `window_ms`.
    pub per_window: u32,
    /// The rate window in milliseconds.
    pub window_ms: i64,
}

/// A partial update of a guild. `None` leaves a field alone; for nullable fields
/// `Some(None)` sets it to null.
#[derive(Debug, Clone, Default)]
pub struct GuildPatch {
    pub name: Option<String>,
    pub icon: Option<Option<String>>,
    pub banner: Option<Option<String>>,
    pub splash: Option<Option<String>>,
    pub description: Option<Option<String>>,
    /// A new owner, who must be a member (else `Refusal::NotMember`).
    pub owner_id: Option<UserId>,
    pub public: Option<bool>,
    pub afk_channel_id: Option<Option<ChannelId>>,
    pub afk_timeout: Option<i64>,
    pub system_channel_id: Option<Option<ChannelId>>,
    pub system_channel_flags: Option<i64>,
    pub verification_level: Option<i64>,
    pub default_message_notifications: Option<i64>,
    pub explicit_content_filter: Option<i64>,
    pub preferred_locale: Option<String>,
}

impl GuildPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.icon.is_none()
            && self.banner.is_none()
            && self.splash.is_none()
            && self.description.is_none()
            && self.owner_id.is_none()
            && self.public.is_none()
            && self.afk_channel_id.is_none()
            && self.afk_timeout.is_none()
            && self.system_channel_id.is_none()
            && self.system_channel_flags.is_none()
            && self.verification_level.is_none()
            && self.default_message_notifications.is_none()
            && self.explicit_content_filter.is_none()
            && self.preferred_locale.is_none()
    }
}

/// A public guild found by discovery, with its member count.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredGuild {
    pub guild: GuildRecord,
    pub member_count: u64,
}

/// A page of discovery results.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryResults {
    /// How many public guilds match in all.
    pub total: u64,
    /// Best first: relevance, then member count, then id.
    pub guilds: Vec<DiscoveredGuild>,
}

/// A role.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRecord {
    pub id: RoleId,
    pub guild_id: GuildId,
    pub name: String,
    pub color: i64,
    pub hoist: bool,
    pub mentionable: bool,
    pub permissions: Permissions,
    /// 0 for `@everyone`; other roles are numbered 1..n without gaps.
    pub position: i64,
    pub icon: Option<String>,
    pub unicode_emoji: Option<String>,
}

/// The fields given when creating a role.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub id: RoleId,
    pub guild_id: GuildId,
    pub name: String,
    pub color: i64,
    pub hoist: bool,
    pub mentionable: bool,
    pub permissions: Permissions,
    pub icon: Option<String>,
    pub unicode_emoji: Option<String>,
}

/// A partial update of a role.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub color: Option<i64>,
    pub hoist: Option<bool>,
    pub mentionable: Option<bool>,
    pub permissions: Option<Permissions>,
    pub icon: Option<Option<String>>,
    pub unicode_emoji: Option<Option<String>>,
}

/// A guild channel (text, voice or folder) with its overwrites.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRecord {
    pub id: ChannelId,
    pub guild_id: GuildId,
    pub kind: ChannelType,
    pub name: String,
    pub topic: Option<String>,
    pub position: i64,
    /// The folder holding the channel.
    pub parent_id: Option<ChannelId>,
    pub nsfw: bool,
    pub rate_limit_per_user: i64,
    pub bitrate: Option<i64>,
    pub user_limit: Option<i64>,
    pub rtc_region: Option<String>,
    /// Sorted by target id.
    pub overwrites: Vec<PermissionOverwrite>,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating a guild channel.
#[derive(Debug, Clone)]
pub struct NewChannel {
    pub id: ChannelId,
    pub guild_id: GuildId,
    pub kind: ChannelType,
    pub name: String,
    pub topic: Option<String>,
    pub position: i64,
    pub parent_id: Option<ChannelId>,
    pub nsfw: bool,
    pub rate_limit_per_user: i64,
    pub bitrate: Option<i64>,
    pub user_limit: Option<i64>,
    pub rtc_region: Option<String>,
    pub overwrites: Vec<PermissionOverwrite>,
}

/// A partial update of a channel. Position and parent changes are structural:
/// the caller passes the layout version it validated them against.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub topic: Option<Option<String>>,
    pub nsfw: Option<bool>,
    pub rate_limit_per_user: Option<i64>,
    pub bitrate: Option<i64>,
    pub user_limit: Option<i64>,
    pub rtc_region: Option<Option<String>>,
    pub position: Option<i64>,
    pub parent_id: Option<Option<ChannelId>>,
    /// Replaces every overwrite of the channel.
    pub overwrites: Option<Vec<PermissionOverwrite>>,
}

impl ChannelPatch {
    /// Whether the patch moves the channel (position or parent).
    pub fn is_structural(&self) -> bool {
        self.position.is_some() || self.parent_id.is_some()
    }
}

/// The channels of a guild and the version of their arrangement.
///
/// Every write that creates, deletes or moves a channel bumps the version and
/// only happens if the caller's expected version is current, so a layout checked
/// by the caller (folder depth, no cycles) is the layout written.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelLayout {
    pub version: i64,
    /// Ordered by position, then id.
    pub channels: Vec<ChannelRecord>,
}

/// Where one channel goes in a bulk move.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelMove {
    pub id: ChannelId,
    pub position: i64,
    pub parent_id: Option<ChannelId>,
    /// New overwrites replacing the channel's (synchronizing with its new folder).
    pub overwrites: Option<Vec<PermissionOverwrite>>,
}

/// The user fields shown with members, bans and invites.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub global_name: Option<String>,
    pub avatar: Option<String>,
    pub banner: Option<String>,
    pub bot: bool,
    pub system: bool,
    pub flags: i64,
}

/// A member of a guild.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub guild_id: GuildId,
    pub user: UserSummary,
    pub nick: Option<String>,
    /// Sorted; never includes `@everyone`.
    pub roles: Vec<RoleId>,
    pub joined_at: DateTime<Utc>,
    pub deaf: bool,
    pub mute: bool,
    pub flags: i64,
    /// Joined through a temporary invite.
    pub temporary: bool,
    pub communication_disabled_until: Option<DateTime<Utc>>,
}

/// The fields given when adding a member.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub guild_id: GuildId,
    pub user_id: UserId,
    pub temporary: bool,
}

/// A partial update of a member.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub nick: Option<Option<String>>,
    /// Replaces the member's roles; ids that are not roles of the guild (or are
    /// `@everyone`) are ignored, so they can never take effect.
    pub roles: Option<Vec<RoleId>>,
    pub mute: Option<bool>,
    pub deaf: Option<bool>,
    pub communication_disabled_until: Option<Option<DateTime<Utc>>>,
}

/// A ban.
#[derive(Debug, Clone, PartialEq)]
pub struct BanRecord {
    pub guild_id: GuildId,
    pub user: UserSummary,
    pub reason: Option<String>,
    pub moderator_id: Option<UserId>,
    /// How much of the user's recent message history to delete (seconds), kept
    /// for the message store to act on.
    pub delete_message_seconds: i64,
    pub created_at: DateTime<Utc>,
}

/// The fields given when banning.
#[derive(Debug, Clone)]
pub struct NewBan {
    pub guild_id: GuildId,
    pub user_id: UserId,
    pub reason: Option<String>,
    pub moderator_id: Option<UserId>,
    pub delete_message_seconds: i64,
}

/// An invite.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteRecord {
    pub code: String,
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    pub inviter: Option<UserSummary>,
    /// Seconds; 0 never expires.
    pub max_age: i64,
    /// 0 is unlimited.
    pub max_uses: i64,
    pub uses: i64,
    pub temporary: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl InviteRecord {
    /// Whether the invite can no longer be used at `now`.
    pub fn is_gone(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
            || (self.max_uses > 0 && self.uses >= self.max_uses)
    }
}

/// The fields given when creating an invite.
#[derive(Debug, Clone)]
pub struct NewInvite {
    pub code: String,
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    pub inviter_id: UserId,
    pub max_age: i64,
    pub max_uses: i64,
    pub temporary: bool,
    /// When false, a live invite of the same inviter, channel and settings is
    /// returned instead of a new one.
    pub unique: bool,
}

/// Invite limits checked inside the creating transaction.
#[derive(Debug, Clone, Copy)]
pub struct InviteGuard {
    pub max_per_channel: u32,
    pub max_per_guild: u32,
}

/// What joining through an invite did.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteJoin {
    /// The invite after this use.
    pub invite: InviteRecord,
    pub member: MemberRecord,
    /// This use was the last one: the invite was deleted.
    pub invite_deleted: bool,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntryRecord {
    pub id: Snowflake,
    pub guild_id: GuildId,
    /// Who acted.
    pub user_id: Option<UserId>,
    /// Discord's action type number.
    pub action_type: i64,
    pub target_id: Option<String>,
    /// A JSON array of `{key, old_value, new_value}`.
    pub changes: Option<serde_json::Value>,
    /// A JSON object of extra details.
    pub options: Option<serde_json::Value>,
    pub reason: Option<String>,
}

/// Which entries to list: newest first, at most `limit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditQuery {
    pub user_id: Option<UserId>,
    pub action_type: Option<i64>,
    /// Only entries with a smaller id.
    pub before: Option<Snowflake>,
    /// Only entries with a larger id.
    pub after: Option<Snowflake>,
    pub limit: u32,
}

/// Guilds, roles, discovery and the audit log.
#[async_trait]
pub trait GuildStore: Send + Sync {
    /// Create a guild with its `@everyone` role (`everyone.id` must equal the
    /// guild's id), its first channels and its owner as first member, in one
    /// transaction, unless the owner is at a limit. `NotFound` when the owner
    /// does not exist.
    async fn create_guild(
        &self,
        g: &NewGuild,
        everyone: &NewRole,
        channels: &[NewChannel],
        guard: &GuildCreateGuard,
    ) -> Result<Guarded<GuildRecord>>;
    /// The guild with this id.
    async fn guild(&self, id: GuildId) -> Result<Option<GuildRecord>>;
    /// Apply a patch and record `audit`; `NotFound` when there is no such guild,
    /// `Refusal::NotMember` when the new owner is not a member.
    async fn update_guild(
        &self,
        id: GuildId,
        patch: &GuildPatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<GuildRecord>>;
    /// Delete a guild and everything in it; returns whether it existed.
    async fn delete_guild(&self, id: GuildId) -> Result<bool>;
    /// Guilds `user` is a member of, by id, after `after` and before `before`,
    /// at most `limit`.
    async fn guilds_of_user(
        &self,
        user: UserId,
        after: Option<GuildId>,
        before: Option<GuildId>,
        limit: u32,
    ) -> Result<Vec<GuildRecord>>;
    /// Member counts of every guild `user` is a member of.
    async fn member_counts_of_user_guilds(&self, user: UserId) -> Result<Vec<(GuildId, u64)>>;
    /// How many members a guild has.
    async fn member_count(&self, guild: GuildId) -> Result<u64>;
    /// Public guilds whose name or description match the words of `query` (every
    /// public guild when it has none), best first.
    async fn discover_guilds(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<DiscoveryResults>;
    /// The roles of a guild by position, then id.
    async fn roles(&self, guild: GuildId) -> Result<Vec<RoleRecord>>;
    /// Create a role at position 1, moving the others up, unless the guild has
    /// `max_roles` roles besides `@everyone`. `NotFound` when there is no such guild.
    async fn create_role(
        &self,
        r: &NewRole,
        max_roles: u32,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<RoleRecord>>;
    /// Apply a patch to a role of this guild; `None` when the guild has no such role.
    async fn update_role(
        &self,
        guild: GuildId,
        role: RoleId,
        patch: &RolePatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>>;
    /// Give every role of the guild but `@everyone` the position listed for it;
    /// `Refusal::Stale` unless the list names exactly those roles. Returns every role.
    async fn set_role_positions(
        &self,
        guild: GuildId,
        positions: &[(RoleId, i64)],
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<RoleRecord>>>;
    /// Delete a role of this guild (not `@everyone`), its overwrites and its
    /// assignments, closing the gap in positions; `None` when there is no such role.
    async fn delete_role(
        &self,
        guild: GuildId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>>;
    /// Newest entries of a guild's audit log matching the query.
    async fn audit_log(&self, guild: GuildId, q: &AuditQuery) -> Result<Vec<AuditEntryRecord>>;
}

/// Guild channels and their permission overwrites.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// The guild channel with this id.
    async fn guild_channel(&self, id: ChannelId) -> Result<Option<ChannelRecord>>;
    /// The channels of a guild and their layout version; `NotFound` when there is
    /// no such guild.
    async fn channel_layout(&self, guild: GuildId) -> Result<ChannelLayout>;
    /// Create a channel if the layout is still at `expected_version` and the guild
    /// has fewer than `max_channels`. `NotFound` when there is no such guild.
    async fn create_channel(
        &self,
        c: &NewChannel,
        expected_version: i64,
        max_channels: u32,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<ChannelRecord>>;
    /// Apply a patch to a channel of this guild; a structural patch needs
    /// `expected_version` to be current (else `Refusal::Stale`). `NotFound` when
    /// the guild has no such channel.
    async fn update_channel(
        &self,
        guild: GuildId,
        id: ChannelId,
        patch: &ChannelPatch,
        expected_version: Option<i64>,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<ChannelRecord>>;
    /// Move channels of this guild if the layout is still at `expected_version`;
    /// returns the moved channels. `NotFound` when one is not a channel of the guild.
    async fn move_channels(
        &self,
        guild: GuildId,
        moves: &[ChannelMove],
        expected_version: i64,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<ChannelRecord>>>;
    /// Delete channels of this guild (with their overwrites and invites) if the
    /// layout is still at `expected_version`, clearing guild settings that point at
    /// them; returns those deleted. Ids of other guilds are ignored.
    async fn delete_channels(
        &self,
        guild: GuildId,
        ids: &[ChannelId],
        expected_version: i64,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<ChannelRecord>>>;
    /// Create or replace the overwrite of `ow.id` on a channel of this guild;
    /// returns the one replaced. `NotFound` when the guild has no such channel.
    async fn put_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
        ow: &PermissionOverwrite,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<PermissionOverwrite>>;
    /// Delete the overwrite of `target` on a channel of this guild; returns it.
    async fn delete_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
        target: Snowflake,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<PermissionOverwrite>>;
}

/// Members and bans.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Add a member unless banned, already a member, or in `max_joined` guilds.
    /// `NotFound` when the guild or the user does not exist.
    async fn add_member(&self, m: &NewMember, max_joined: u32) -> Result<Guarded<MemberRecord>>;
    /// The member `user` of `guild`.
    async fn member(&self, guild: GuildId, user: UserId) -> Result<Option<MemberRecord>>;
    /// Members by user id, after `after`, at most `limit`.
    async fn members(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>>;
    /// Members whose username, global name or nickname starts with `query`,
    /// all folded by the search analyzer (case, diacritics; CJK kept), at most
    /// `limit`: exact matches first, then username prefixes, then the others,
    /// each by username. An empty query lists members; a query with nothing
    /// left after folding (only punctuation) finds nobody.
    async fn search_members(
        &self,
        guild: GuildId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<MemberRecord>>;
    /// Apply a patch to a member; `None` when there is no such member.
    async fn update_member(
        &self,
        guild: GuildId,
        user: UserId,
        patch: &MemberPatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<MemberRecord>>;
    /// Give a member a role of the guild; returns whether it was new. `NotFound`
    /// when there is no such member or the guild has no such role.
    async fn add_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<bool>;
    /// Take a role from a member; returns whether it had it. `NotFound` when
    /// there is no such member or the guild has no such role.
    async fn remove_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<bool>;
    /// Remove a member (leave or kick); returns the member removed.
    async fn remove_member(
        &self,
        guild: GuildId,
        user: UserId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<MemberRecord>>;
    /// Ban a user (replacing an earlier ban) and remove them from the guild, in one
    /// transaction; returns the ban and the member removed. `NotFound` when the
    /// guild or the user does not exist.
    async fn ban_member(
        &self,
        b: &NewBan,
        audit: &[AuditEntryRecord],
    ) -> Result<(BanRecord, Option<MemberRecord>)>;
    /// The ban of `user` in `guild`.
    async fn ban(&self, guild: GuildId, user: UserId) -> Result<Option<BanRecord>>;
    /// Bans by user id, after `after` or before `before`, at most `limit`.
    async fn bans(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        before: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<BanRecord>>;
    /// Lift a ban; returns it.
    async fn unban(
        &self,
        guild: GuildId,
        user: UserId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<BanRecord>>;
}

/// Invites.
#[async_trait]
pub trait InviteStore: Send + Sync {
    /// Create an invite (or, when not `unique`, return a live one with the same
    /// settings), unless a limit is reached. `Conflict` when the code is taken;
    /// `NotFound` when the channel is not a channel of the guild.
    async fn create_invite(
        &self,
        inv: &NewInvite,
        guard: &InviteGuard,
        now: DateTime<Utc>,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<InviteRecord>>;
    /// The invite with this code, expired or not.
    async fn invite(&self, code: &str) -> Result<Option<InviteRecord>>;
    /// Live invites of a guild at `now`, oldest first.
    async fn guild_invites(&self, guild: GuildId, now: DateTime<Utc>) -> Result<Vec<InviteRecord>>;
    /// Live invites of a channel at `now`, oldest first.
    async fn channel_invites(
        &self,
        channel: ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Vec<InviteRecord>>;
    /// Delete an invite; returns it.
    async fn delete_invite(
        &self,
        code: &str,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<InviteRecord>>;
    /// In one transaction: check the invite is live at `now`, the user not banned,
    /// not a member and under `max_joined`; count the use (deleting the invite on its
    /// last one) and add the member. `NotFound` when the user does not exist.
    async fn join_by_invite(
        &self,
        code: &str,
        user: UserId,
        now: DateTime<Utc>,
        max_joined: u32,
    ) -> Result<Guarded<InviteJoin>>;
}

/// An overwrite type from its stored number (0 role, anything else member).
pub(crate) fn overwrite_type(n: i64) -> OverwriteType {
    if n == 0 {
        OverwriteType::Role
    } else {
        OverwriteType::Member
    }
}

/// A channel type from its stored number; unknown numbers read as text, which
/// never happens with rows this store wrote.
pub(crate) fn channel_type(n: i64) -> ChannelType {
    u64::try_from(n)
        .ok()
        .and_then(ChannelType::from_value)
        .unwrap_or(ChannelType::Text)
}

/// Permission bits from a stored integer; unknown bits are dropped.
pub(crate) fn permissions(n: i64) -> Permissions {
    Permissions::from_bits_truncate(n as u64)
}

/// Permission bits as stored.
pub(crate) fn permissions_i64(p: Permissions) -> i64 {
    p.bits() as i64
}

/// Role ids from the comma-separated list the member queries aggregate, sorted.
pub(crate) fn role_list(text: Option<String>) -> Vec<RoleId> {
    let mut ids: Vec<RoleId> = text
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .map(RoleId::from_i64)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The lower-case key member search matches nicknames on.
pub(crate) fn nick_key(nick: Option<&str>) -> Option<String> {
    nick.map(beep_search::fold)
}

/// A `LIKE` pattern matching values that start with `query` (lower-cased), with
/// `\` escaping the wildcards.
pub(crate) fn prefix_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 1);
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The words of a discovery query, in the subset of web-search syntax both
/// backends support: bare words and `"quoted phrases"` (all must match), `or`
/// between two terms, `-word` to exclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchTerm {
    Word(String),
    Phrase(Vec<String>),
    Or,
    Not(String),
}

/// Most terms read from one query; the rest are ignored.
const MAX_SEARCH_TERMS: usize = 16;

/// Split a query into terms; words are runs of letters and digits, lower-cased.
pub(crate) fn search_terms(query: &str) -> Vec<SearchTerm> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = query;
    while !rest.is_empty() && out.len() < MAX_SEARCH_TERMS {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('"') {
            let (inner, tail) = after.split_once('"').unwrap_or((after, ""));
            let ws = words(inner);
            if !ws.is_empty() {
                out.push(SearchTerm::Phrase(ws));
            }
            rest = tail;
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        if token.eq_ignore_ascii_case("or") {
            out.push(SearchTerm::Or);
        } else if let Some(neg) = token.strip_prefix('-') {
            out.extend(words(neg).into_iter().map(SearchTerm::Not));
        } else {
            out.extend(words(token).into_iter().map(SearchTerm::Word));
        }
    }
    out
}

/// One alternative of a query: every positive term must match and no negative one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SearchGroup {
    /// Words (one element) and phrases (several).
    pub all: Vec<Vec<String>>,
    pub none: Vec<String>,
}

/// The alternatives of a query (`or` separates them, as in PostgreSQL's web
/// search, where `and` binds tighter than `or`). Alternatives with no positive
/// term are dropped: a query of exclusions alone finds nothing.
pub(crate) fn search_groups(terms: &[SearchTerm]) -> Vec<SearchGroup> {
    let mut groups = vec![SearchGroup::default()];
    for t in terms {
        let Some(g) = groups.last_mut() else { break };
        match t {
            SearchTerm::Word(w) => g.all.push(vec![w.clone()]),
            SearchTerm::Phrase(ws) => g.all.push(ws.clone()),
            SearchTerm::Not(w) => g.none.push(w.clone()),
            SearchTerm::Or => groups.push(SearchGroup::default()),
        }
    }
    groups.retain(|g| !g.all.is_empty());
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_parse_websearch_syntax() {
        use SearchTerm::*;
        assert_eq!(
            search_terms(r#"Rust  "game dev" or Music -spam"#),
            vec![
                Word("rust".into()),
                Phrase(vec!["game".into(), "dev".into()]),
                Or,
                Word("music".into()),
                Not("spam".into())
            ]
        );
        assert_eq!(search_terms("  "), vec![]);
        assert_eq!(
            search_terms("c++ AND*"),
            vec![Word("c".into()), Word("and".into())]
        );
        assert_eq!(search_terms("\"unterminated phrase").len(), 1);
        assert_eq!(search_terms(&"w ".repeat(100)).len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn groups_need_a_positive_term() {
        assert!(search_groups(&search_terms("-spam")).is_empty());
        assert!(search_groups(&search_terms("or")).is_empty());
    }

    #[test]
    fn prefix_patterns_escape_wildcards() {
        assert_eq!(prefix_pattern("Al_%"), "al\\_\\%%");
        assert_eq!(prefix_pattern(""), "%");
    }

    #[test]
    fn role_lists_parse_and_sort() {
        assert_eq!(
            role_list(Some("3,1,2,1".into())),
            vec![
                RoleId::from_i64(1),
                RoleId::from_i64(2),
                RoleId::from_i64(3)
            ]
        );
        assert!(role_list(None).is_empty());
    }
}
