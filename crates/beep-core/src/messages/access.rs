//! What an actor may do in a channel. Two places hold messages:
//!
//! - a guild channel: the channel exists, the actor is a member of its guild
//!   and can view it, and their permissions there come from the permission
//!   engine over the guild state in [`GuildCache`] (read from the store on a
//!   miss); a channel hidden from the actor is `Unknown Channel`, as the guild
//!   service answers;
//! - a private channel (a DM or a group, `beep_core::social`): the actor is one
//!   of its recipients, and holds Discord's DM permission set
//!   ([`DM_PERMISSIONS`]); anyone else gets `Unknown Channel`.
//!
//! Everything downstream (sending, history, reactions, pins, typing, acks)
//! reads the channel through [`Access`] and publishes through
//! [`Access::audience`], so it never asks which of the two it has.

use std::sync::Arc;

use beep_store::social::PrivateChannelRecord;
use beep_store::{ChannelRecord, GuildRecord, MemberRecord, RoleRecord};
use beep_types::v10::channel::ChannelType;
use beep_types::{ChannelId, ErrorCode, GuildId, Intents, MessageId, Permissions, UserId};
use chrono::Utc;
use serde_json::Value;

use super::Messages;
use super::cache::GuildCache;
use crate::error::{Error, Result};
use crate::events::Audience;
use crate::guilds::convert;
use crate::permissions::{
    GuildContext, Overwrite, RoleInfo, apply_timeout, base_permissions, channel_permissions,
};

/// What a recipient of a DM or group may do there: Discord's DM set (no
/// `MENTION_EVERYONE`, `MANAGE_MESSAGES`, TTS or webhooks; everyone may pin).
pub const DM_PERMISSIONS: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::EMBED_LINKS)
    .union(Permissions::ATTACH_FILES)
    .union(Permissions::READ_MESSAGE_HISTORY)
    .union(Permissions::ADD_REACTIONS)
    .union(Permissions::USE_EXTERNAL_EMOJIS)
    .union(Permissions::PIN_MESSAGES);

/// Where a channel lives.
pub enum Place {
    /// A channel of a guild, seen by one of its members.
    Guild {
        channel: Arc<ChannelRecord>,
        guild: Arc<super::cache::GuildState>,
        member: Arc<MemberRecord>,
    },
    /// A DM or group, seen by one of its recipients.
    Private { channel: Arc<PrivateChannelRecord> },
}

/// A channel the actor can view, with their permissions in it.
pub struct Access {
    /// The actor's permissions in the channel (a timeout already applied).
    pub perms: Permissions,
    actor: UserId,
    place: Place,
}

impl Access {
    /// The channel.
    pub fn channel_id(&self) -> ChannelId {
        match &self.place {
            Place::Guild { channel, .. } => channel.id,
            Place::Private { channel } => channel.id,
        }
    }

    /// The channel's type.
    pub fn kind(&self) -> ChannelType {
        match &self.place {
            Place::Guild { channel, .. } => channel.kind,
            Place::Private { channel } if channel.kind == 3 => ChannelType::GroupDm,
            Place::Private { .. } => ChannelType::Dm,
        }
    }

    /// Where the channel lives.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// The guild of the channel; `None` for a private channel.
    pub fn guild_id(&self) -> Option<GuildId> {
        match &self.place {
            Place::Guild { channel, .. } => Some(channel.guild_id),
            Place::Private { .. } => None,
        }
    }

    /// The guild of the channel, or `Cannot execute action on a DM channel`.
    pub fn require_guild(&self) -> Result<GuildId> {
        self.guild_id()
            .ok_or_else(|| Error::new(ErrorCode::CannotExecuteOnDm))
    }

    /// The guild channel; `None` for a private channel.
    pub fn guild_channel(&self) -> Option<&Arc<ChannelRecord>> {
        match &self.place {
            Place::Guild { channel, .. } => Some(channel),
            Place::Private { .. } => None,
        }
    }

    /// The recipients of a private channel; `None` for a guild channel.
    pub fn recipients(&self) -> Option<Vec<UserId>> {
        match &self.place {
            Place::Guild { .. } => None,
            Place::Private { channel } => Some(channel.recipient_ids()),
        }
    }

    /// The other user of a 1:1 DM; `None` elsewhere.
    pub fn dm_peer(&self) -> Option<UserId> {
        match &self.place {
            Place::Private { channel } if channel.kind == 1 => channel
                .recipients
                .iter()
                .map(|r| r.id)
                .find(|u| *u != self.actor),
            _ => None,
        }
    }

    /// Slow mode of the channel in seconds (none in private channels).
    pub fn rate_limit_per_user(&self) -> i64 {
        match &self.place {
            Place::Guild { channel, .. } => channel.rate_limit_per_user,
            Place::Private { .. } => 0,
        }
    }

    /// Who acts.
    pub fn actor(&self) -> UserId {
        self.actor
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

    /// The actor as a member, without `user`, as guild message events carry
    /// it; `None` in a private channel.
    pub fn member_json(&self) -> Option<Value> {
        let Place::Guild { member, .. } = &self.place else {
            return None;
        };
        let mut m = convert::member(member);
        m.user = None;
        m.pending = None;
        Some(serde_json::to_value(m).unwrap_or(Value::Null))
    }

    /// The roles of the guild (none in a private channel).
    pub(crate) fn roles(&self) -> &[RoleRecord] {
        match &self.place {
            Place::Guild { guild, .. } => &guild.1,
            Place::Private { .. } => &[],
        }
    }

    /// The guild and channel records of a guild channel.
    pub(crate) fn guild_parts(&self) -> Option<(&GuildRecord, &ChannelRecord)> {
        match &self.place {
            Place::Guild { channel, guild, .. } => Some((&guild.0, channel)),
            Place::Private { .. } => None,
        }
    }

    /// Another member's permissions in this guild channel (who a message
    /// notifies); empty in a private channel.
    pub(crate) fn permissions_of(&self, m: &MemberRecord) -> Permissions {
        match &self.place {
            Place::Guild { channel, guild, .. } => permissions_in(&guild.0, &guild.1, m, channel),
            Place::Private { .. } => Permissions::empty(),
        }
    }

    /// Who receives events about the channel: the guild's members who can
    /// view it, or the recipients.
    pub fn audience(&self) -> Audience {
        match &self.place {
            Place::Guild { channel, .. } => Audience::Guild {
                guild_id: channel.guild_id,
                channel_id: Some(channel.id),
            },
            Place::Private { channel } => Audience::Users(channel.recipient_ids()),
        }
    }

    /// The intent gating an event here: a guild intent becomes its DM twin
    /// (`GUILD_MESSAGES` → `DIRECT_MESSAGES`, reactions, typing) in a private
    /// channel.
    pub fn intent(&self, guild_intent: Intents) -> Intents {
        match &self.place {
            Place::Guild { .. } => guild_intent,
            Place::Private { .. } => dm_intent(guild_intent),
        }
    }
}

/// The DM twin of a guild message intent (`GUILDS` → `DIRECT_MESSAGES` for
/// pin updates).
pub fn dm_intent(guild_intent: Intents) -> Intents {
    let mut out = Intents::empty();
    for (g, d) in [
        // CHANNEL_PINS_UPDATE: GUILDS in a guild, DIRECT_MESSAGES in a DM.
        (Intents::GUILDS, Intents::DIRECT_MESSAGES),
        (Intents::GUILD_MESSAGES, Intents::DIRECT_MESSAGES),
        (
            Intents::GUILD_MESSAGE_REACTIONS,
            Intents::DIRECT_MESSAGE_REACTIONS,
        ),
        (
            Intents::GUILD_MESSAGE_TYPING,
            Intents::DIRECT_MESSAGE_TYPING,
        ),
    ] {
        if guild_intent.contains(g) {
            out |= d;
        }
    }
    out
}

impl Messages {
    /// The channel `channel` as `actor` sees it; `Unknown Channel` when it does
    /// not exist, or is hidden from them (a guild channel they cannot view, a
    /// private channel they are not a recipient of).
    pub(crate) async fn access(&self, actor: UserId, channel: ChannelId) -> Result<Access> {
        let unknown = || Error::new(ErrorCode::UnknownChannel);
        let cache: &GuildCache = &self.cache;
        let generation = cache.generation();
        let channel = match cache.channel(channel) {
            Some(c) => c,
            None => match self.store.guild_channel(channel).await? {
                Some(c) => {
                    let c = Arc::new(c);
                    cache.put_channel(generation, c.clone());
                    c
                }
                None => {
                    let private = self
                        .store
                        .private_channel(channel)
                        .await?
                        .filter(|p| p.has(actor))
                        .ok_or_else(unknown)?;
                    return Ok(Access {
                        perms: DM_PERMISSIONS,
                        actor,
                        place: Place::Private {
                            channel: Arc::new(private),
                        },
                    });
                }
            },
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
            perms,
            actor,
            place: Place::Guild {
                channel,
                guild,
                member,
            },
        })
    }

    /// Like [`Messages::access`], for a channel that holds messages (text and
    /// voice channels, DMs and groups; a folder holds none).
    pub(crate) async fn message_access(&self, actor: UserId, channel: ChannelId) -> Result<Access> {
        let access = self.access(actor, channel).await?;
        if access.kind() == ChannelType::Folder {
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
            .message(access.channel_id(), id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownMessage))
    }
}

/// A member's permissions in a channel: the engine's guild and channel levels,
/// then what a timeout leaves.
pub(super) fn permissions_in(
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
