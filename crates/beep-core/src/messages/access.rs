//! What an actor may do in a channel: the channel exists, the actor is a member
//! of its guild and can view it, and their permissions there, computed by the
//! permission engine from the guild state in [`GuildCache`] (read from the
//! store on a miss). The same rules as the guild service's channel check: a
//! channel hidden from the actor is `Unknown Channel`.

use std::sync::Arc;

use beep_store::{ChannelRecord, GuildRecord, MemberRecord, RoleRecord};
use beep_types::v10::channel::ChannelType;
use beep_types::{ChannelId, ErrorCode, GuildId, MessageId, Permissions, UserId};
use chrono::Utc;
use serde_json::Value;

use super::Messages;
use super::cache::GuildCache;
use crate::error::{Error, Result};
use crate::guilds::convert;
use crate::permissions::{
    GuildContext, Overwrite, RoleInfo, apply_timeout, base_permissions, channel_permissions,
};

/// A channel the actor can view, with their permissions in it.
pub struct Access {
    pub channel: Arc<ChannelRecord>,
    /// The actor's permissions in the channel (a timeout already applied).
    pub perms: Permissions,
    guild: Arc<super::cache::GuildState>,
    member: Arc<MemberRecord>,
}

impl Access {
    /// The guild of the channel.
    pub fn guild_id(&self) -> GuildId {
        self.channel.guild_id
    }

    /// Who acts.
    pub fn actor(&self) -> UserId {
        self.member.user.id
    }

    /// Whether the actor holds every bit of `p` here.
    pub fn holds(&self, p: Permissions) -> bool {
        self.perms.contains(p)
    }

    /// Whether the actor holds any bit of `p` here.
    pub fn holds_any(&self, p: Permissions) -> bool {
        self.perms.intersects(p)
    }

    /// `Missing Permissions` unless the actor holds every bit of `p` here.
    #[track_caller]
    pub fn require(&self, p: Permissions) -> Result<()> {
        if self.holds(p) {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::MissingPermissions))
        }
    }

    /// The actor as a member, without `user`, as message events carry it.
    pub fn member_json(&self) -> Value {
        let mut m = convert::member(&self.member);
        m.user = None;
        m.pending = None;
        serde_json::to_value(m).unwrap_or(Value::Null)
    }

    /// The roles of the guild.
    pub(crate) fn roles(&self) -> &[RoleRecord] {
        &self.guild.1
    }
}

impl Messages {
    /// The channel `channel` as `actor` sees it; `Unknown Channel` when it does
    /// not exist, is not a guild channel, or is hidden from them.
    pub(crate) async fn access(&self, actor: UserId, channel: ChannelId) -> Result<Access> {
        let unknown = || Error::new(ErrorCode::UnknownChannel);
        let cache: &GuildCache = &self.cache;
        let generation = cache.generation();
        let channel = match cache.channel(channel) {
            Some(c) => c,
            None => {
                let c = Arc::new(
                    self.store
                        .guild_channel(channel)
                        .await?
                        .ok_or_else(unknown)?,
                );
                cache.put_channel(generation, c.clone());
                c
            }
        };
        let g = channel.guild_id;
        let member = match cache.member(g, actor) {
            Some(m) => m,
            None => {
                let m = Arc::new(self.store.member(g, actor).await?.ok_or_else(unknown)?);
                cache.put_member(generation, m.clone());
                m
            }
        };
        let guild = match cache.guild(g) {
            Some(x) => x,
            None => {
                let record = self.store.guild(g).await?.ok_or_else(unknown)?;
                let roles = self.store.roles(g).await?;
                let x = Arc::new((record, roles));
                cache.put_guild(generation, x.clone());
                x
            }
        };
        let perms = permissions_in(&guild.0, &guild.1, &member, &channel);
        if !perms.contains(Permissions::VIEW_CHANNEL) {
            return Err(unknown());
        }
        Ok(Access {
            channel,
            perms,
            guild,
            member,
        })
    }

    /// Like [`Messages::access`], for a channel that holds messages (text and
    /// voice channels; a folder holds none).
    pub(crate) async fn message_access(&self, actor: UserId, channel: ChannelId) -> Result<Access> {
        let access = self.access(actor, channel).await?;
        if access.channel.kind == ChannelType::Folder {
            return Err(Error::new(ErrorCode::CannotSendToNonText));
        }
        Ok(access)
    }

    /// Message `id` of the channel; `Unknown Message` when it is not a message of
    /// this channel.
    pub(crate) async fn message_in(
        &self,
        access: &Access,
        id: MessageId,
    ) -> Result<beep_store::messages::MessageRecord> {
        self.store
            .message(access.channel.id, id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownMessage))
    }
}

/// A member's permissions in a channel: the engine's guild and channel levels,
/// then what a timeout leaves.
fn permissions_in(
    guild: &GuildRecord,
    roles: &[RoleRecord],
    m: &MemberRecord,
    ch: &ChannelRecord,
) -> Permissions {
    let engine = GuildContext {
        guild_id: guild.id,
        owner_id: guild.owner_id,
        roles: roles
            .iter()
            .map(|r| RoleInfo {
                id: r.id,
                position: i32::try_from(r.position).unwrap_or(i32::MAX),
                permissions: r.permissions,
            })
            .collect(),
    };
    let overwrites: Vec<Overwrite> = ch.overwrites.iter().map(Overwrite::from).collect();
    let base = base_permissions(&engine, m.user.id, &m.roles);
    let perms = channel_permissions(
        base,
        m.user.id,
        &m.roles,
        &overwrites,
        engine.everyone_role_id(),
    );
    let timed_out = m
        .communication_disabled_until
        .is_some_and(|until| until > Utc::now());
    if timed_out {
        apply_timeout(perms)
    } else {
        perms
    }
}
