//! Guilds ("servers"): the guild itself, its channels and folders, roles,
//! members, bans, invites, discovery and audit log.
//!
//! Every public method takes the acting user first and checks, in this order:
//! that the target exists *and* the actor may know it exists (a non-member gets
//! `Unknown Guild`, a member who cannot view a channel gets `Unknown Channel`),
//! then the permission bits, then the role hierarchy, then the input. Ids that
//! belong to another guild are answered as unknown, so they never take effect.
//!
//! Every change is written with its audit log entry in one store write, then
//! published on the event bus as the Discord dispatch a gateway client expects.

pub mod audit;
mod channels;
pub mod convert;
pub mod forms;
pub mod gateway_view;
pub mod guild;
mod invites;
mod members;
mod roles;
pub mod tree;

use std::sync::Arc;

use beep_store::{
    AuditEntryRecord, ChannelRecord, DynStore, GuildRecord, MemberRecord, Refusal, RoleRecord,
};
use beep_types::v10::guild::AuditLogEvent;
use beep_types::{ErrorCode, GuildId, Intents, Permissions, RoleId, SnowflakeGenerator, UserId};
use chrono::Utc;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::events::{Audience, Event, EventBus};
use crate::permissions::{
    GuildContext, Overwrite, Rank, RoleInfo, apply_timeout, base_permissions, channel_permissions,
};

pub use audit::Changes;

/// Limits against abuse, all configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuildLimits {
    /// Guilds one user may own.
    pub max_owned_guilds: u32,
    /// Guilds one user may be a member of (owned ones included).
    pub max_joined_guilds: u32,
    /// Channels (folders included) per guild.
    pub max_channels: u32,
    /// Roles per guild, `@everyone` not counted.
    pub max_roles: u32,
    /// Live invites per channel.
    pub max_invites_per_channel: u32,
    /// Live invites per guild.
    pub max_invites_per_guild: u32,
    /// How deep folders may nest: 1 allows folders at the top level only.
    pub max_folder_depth: u32,
    /// Guilds one user may create per minute; 0 for no limit.
    pub guild_creations_per_minute: u32,
}

impl Default for GuildLimits {
    fn default() -> Self {
        GuildLimits {
            max_owned_guilds: 100,
            max_joined_guilds: 200,
            max_channels: 500,
            max_roles: 250,
            max_invites_per_channel: 100,
            max_invites_per_guild: 1000,
            max_folder_depth: 3,
            guild_creations_per_minute: 3,
        }
    }
}

/// Guild operations.
#[derive(Clone)]
pub struct Guilds {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    bus: Arc<dyn EventBus>,
    files: beep_files::Files,
    limits: GuildLimits,
}

/// How many times a write checked against a layout is retried when the layout
/// changed under it.
const STALE_RETRIES: usize = 8;

/// The longest `X-Audit-Log-Reason` kept, in characters.
pub const MAX_REASON_CHARS: usize = 512;

impl Guilds {
    /// Guild operations over `store`, minting ids from `ids`, publishing on `bus`,
    /// keeping icons and banners in `files`.
    pub fn new(
        store: DynStore,
        ids: Arc<SnowflakeGenerator>,
        bus: Arc<dyn EventBus>,
        files: beep_files::Files,
        limits: GuildLimits,
    ) -> Self {
        Guilds {
            store,
            ids,
            bus,
            files,
            limits,
        }
    }

    /// Store an image given as a data URI for `owner` (a guild or a role) and
    /// return its hash; the bytes are checked and re-encoded by the files service.
    pub(crate) async fn store_image(
        &self,
        kind: beep_files::ImageKind,
        owner: beep_types::Snowflake,
        field: &str,
        data_uri: &str,
    ) -> Result<String> {
        Ok(self.files.set_image(kind, owner.0, data_uri, field).await?)
    }

    /// The limits in force.
    pub fn limits(&self) -> GuildLimits {
        self.limits
    }

    /// What `actor` sees of `guild`: the guild, its roles and the actor's
    /// membership. `Unknown Guild` when there is no such guild or the actor is
    /// not a member, so non-members cannot tell the two apart.
    pub(crate) async fn ctx(&self, actor: UserId, guild: GuildId) -> Result<Ctx> {
        let Some(member) = self.store.member(guild, actor).await? else {
            return Err(Error::new(ErrorCode::UnknownGuild));
        };
        let Some(g) = self.store.guild(guild).await? else {
            return Err(Error::new(ErrorCode::UnknownGuild));
        };
        let roles = self.store.roles(guild).await?;
        Ok(Ctx::new(g, roles, member))
    }

    /// The guild-level permissions of `user` in `guild`, or `Unknown Guild`.
    pub async fn guild_permissions(&self, user: UserId, guild: GuildId) -> Result<Permissions> {
        Ok(self.ctx(user, guild).await?.base())
    }

    /// A guild channel `user` can view, with their permissions in it; `Unknown
    /// Channel` when there is none or it is hidden from them. This is the check
    /// other services (messages, webhooks, voice) build on.
    pub async fn channel_access(
        &self,
        user: UserId,
        channel: beep_types::ChannelId,
    ) -> Result<(ChannelRecord, Permissions)> {
        let (_, ch, perms) = self.channel_ctx(user, channel).await?;
        Ok((ch, perms))
    }

    /// The guild context of a channel and the actor's permissions in it.
    pub(crate) async fn channel_ctx(
        &self,
        actor: UserId,
        channel: beep_types::ChannelId,
    ) -> Result<(Ctx, ChannelRecord, Permissions)> {
        let unknown = || Error::new(ErrorCode::UnknownChannel);
        let Some(ch) = self.store.guild_channel(channel).await? else {
            return Err(unknown());
        };
        let ctx = match self.ctx(actor, ch.guild_id).await {
            Ok(ctx) => ctx,
            Err(e) if e.code == ErrorCode::UnknownGuild => return Err(unknown()),
            Err(e) => return Err(e),
        };
        let perms = ctx.in_channel(&ch);
        if !perms.contains(Permissions::VIEW_CHANNEL) {
            return Err(unknown());
        }
        Ok((ctx, ch, perms))
    }

    /// Publish one dispatch.
    pub(crate) fn publish(
        &self,
        name: &'static str,
        data: Value,
        audience: Audience,
        intent: Intents,
    ) {
        self.bus.publish(Event {
            name,
            data,
            audience,
            intent: u32::try_from(intent.bits()).ok(),
        });
    }

    /// Publish `GUILD_AUDIT_LOG_ENTRY_CREATE` for entries that were written. The
    /// gateway sends it only to members who may view the audit log.
    pub(crate) fn publish_audit(&self, entries: &[AuditEntryRecord]) {
        for e in entries {
            let mut data = serde_json::to_value(convert::audit_entry(e)).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut data {
                map.insert("guild_id".into(), Value::String(e.guild_id.to_string()));
            }
            self.publish(
                "GUILD_AUDIT_LOG_ENTRY_CREATE",
                data,
                Audience::Guild {
                    guild_id: e.guild_id,
                    channel_id: None,
                },
                Intents::GUILD_MODERATION,
            );
        }
    }

    /// A new audit entry by `actor` in `guild`.
    pub(crate) fn entry(
        &self,
        guild: GuildId,
        actor: UserId,
        action: AuditLogEvent,
        target: Option<String>,
        changes: Changes,
        reason: Option<&str>,
    ) -> AuditEntryRecord {
        AuditEntryRecord {
            id: self.ids.next(),
            guild_id: guild,
            user_id: Some(actor),
            action_type: i64::from(action.0),
            target_id: target,
            changes: changes.into_json(),
            options: None,
            reason: reason.map(str::to_owned),
        }
    }
}

/// Map a refusal the caller did not expect to an internal error.
pub(crate) fn unexpected(r: Refusal) -> Error {
    Error::internal(format!("unexpected store refusal {r:?}"))
}

/// Keep a reason within bounds and free of control characters.
pub fn clean_reason(reason: Option<String>) -> Option<String> {
    let reason = reason?;
    let cleaned: String = reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A guild as one member sees it: the data the permission engine needs.
pub(crate) struct Ctx {
    pub guild: GuildRecord,
    pub roles: Vec<RoleRecord>,
    pub member: MemberRecord,
    engine: GuildContext,
}

impl Ctx {
    fn new(guild: GuildRecord, roles: Vec<RoleRecord>, member: MemberRecord) -> Ctx {
        let engine = engine_context(&guild, &roles);
        Ctx {
            guild,
            roles,
            member,
            engine,
        }
    }

    /// The actor.
    pub fn actor(&self) -> UserId {
        self.member.user.id
    }

    /// Whether the actor owns the guild.
    pub fn is_owner(&self) -> bool {
        self.guild.owner_id == self.actor()
    }

    /// The actor's guild-level permissions (what a timeout leaves, if timed out).
    pub fn base(&self) -> Permissions {
        self.base_of(&self.member)
    }

    /// Guild-level permissions of any member.
    pub fn base_of(&self, m: &MemberRecord) -> Permissions {
        let perms = base_permissions(&self.engine, m.user.id, &m.roles);
        if is_timed_out(m) {
            apply_timeout(perms)
        } else {
            perms
        }
    }

    /// The actor's permissions in a channel of this guild.
    pub fn in_channel(&self, ch: &ChannelRecord) -> Permissions {
        self.in_channel_of(&self.member, ch)
    }

    /// A member's permissions in a channel of this guild.
    pub fn in_channel_of(&self, m: &MemberRecord, ch: &ChannelRecord) -> Permissions {
        let overwrites: Vec<Overwrite> = ch.overwrites.iter().map(Overwrite::from).collect();
        let base = base_permissions(&self.engine, m.user.id, &m.roles);
        let perms = channel_permissions(
            base,
            m.user.id,
            &m.roles,
            &overwrites,
            self.engine.everyone_role_id(),
        );
        if is_timed_out(m) {
            apply_timeout(perms)
        } else {
            perms
        }
    }

    /// Where the actor stands in the role hierarchy.
    pub fn rank(&self) -> Rank {
        self.rank_of(&self.member)
    }

    /// Where a member stands in the role hierarchy.
    pub fn rank_of(&self, m: &MemberRecord) -> Rank {
        self.engine.rank(m.user.id, &m.roles)
    }

    /// A role of this guild.
    pub fn role(&self, id: RoleId) -> Option<&RoleRecord> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The engine's view of a role.
    pub fn role_info(&self, r: &RoleRecord) -> RoleInfo {
        role_info(r)
    }

    /// `Missing Permissions` unless the actor holds every bit of `p` guild-wide.
    pub fn require(&self, p: Permissions) -> Result<()> {
        if self.base().contains(p) {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::MissingPermissions))
        }
    }
}

/// Whether a member is timed out now.
fn is_timed_out(m: &MemberRecord) -> bool {
    m.communication_disabled_until
        .is_some_and(|until| until > Utc::now())
}

/// The engine's view of a role.
fn role_info(r: &RoleRecord) -> RoleInfo {
    RoleInfo {
        id: r.id,
        position: i32::try_from(r.position).unwrap_or(i32::MAX),
        permissions: r.permissions,
    }
}

/// The engine's view of a guild.
fn engine_context(g: &GuildRecord, roles: &[RoleRecord]) -> GuildContext {
    GuildContext {
        guild_id: g.id,
        owner_id: g.owner_id,
        roles: roles.iter().map(role_info).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(clean_reason(None), None);
        assert_eq!(clean_reason(Some("  ".into())), None);
        assert_eq!(
            clean_reason(Some(" spam\n".into())).as_deref(),
            Some("spam")
        );
        let long = "x".repeat(2000);
        assert_eq!(
            clean_reason(Some(long)).map(|r| r.chars().count()),
            Some(MAX_REASON_CHARS)
        );
    }
}
