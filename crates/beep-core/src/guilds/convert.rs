//! Stored records as the v10 objects clients read.

use beep_store::{
    AuditEntryRecord, BanRecord, ChannelRecord, DiscoveredGuild, GuildRecord, InviteRecord,
    MemberRecord, RoleRecord, UserSummary,
};
use beep_types::v10::PublicUser;
use beep_types::v10::channel::{Channel, ChannelType, Timestamp};
use beep_types::v10::guild::{
    AuditEntryInfo, AuditLogChange, AuditLogEntry, AuditLogEvent, Ban, DiscoverableGuild, Guild,
    Invite, InviteChannel, InviteGuild, Member, PartialGuild, Role, RoleColors,
};
use beep_types::{Permissions, UserId};
use serde_json::{Map, Value};

/// The features a guild shows: `DISCOVERABLE` when it is public.
pub fn features(g: &GuildRecord) -> Vec<String> {
    if g.public {
        vec!["DISCOVERABLE".to_owned()]
    } else {
        Vec::new()
    }
}

fn small(n: i64) -> u8 {
    u8::try_from(n).unwrap_or(0)
}

fn unsigned(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// A guild with its roles (`GET /guilds/{id}`).
pub fn guild(g: &GuildRecord, roles: &[RoleRecord]) -> Guild {
    Guild {
        id: g.id,
        name: g.name.clone(),
        icon: g.icon.clone(),
        splash: g.splash.clone(),
        discovery_splash: None,
        owner: None,
        owner_id: g.owner_id,
        permissions: None,
        afk_channel_id: g.afk_channel_id,
        afk_timeout: unsigned(g.afk_timeout),
        verification_level: small(g.verification_level),
        default_message_notifications: small(g.default_message_notifications),
        explicit_content_filter: small(g.explicit_content_filter),
        roles: roles.iter().map(role).collect(),
        emojis: Vec::new(),
        features: features(g),
        mfa_level: 0,
        application_id: None,
        system_channel_id: g.system_channel_id,
        system_channel_flags: unsigned(g.system_channel_flags),
        rules_channel_id: None,
        max_members: None,
        vanity_url_code: None,
        description: g.description.clone(),
        banner: g.banner.clone(),
        premium_tier: 0,
        premium_subscription_count: Some(0),
        preferred_locale: g.preferred_locale.clone(),
        public_updates_channel_id: None,
        max_video_channel_users: None,
        approximate_member_count: None,
        approximate_presence_count: None,
        nsfw_level: 0,
        stickers: Vec::new(),
        premium_progress_bar_enabled: false,
        safety_alerts_channel_id: None,
        incidents_data: None,
    }
}

/// The caller's view of one of their guilds (`GET /users/@me/guilds`).
pub fn partial_guild(g: &GuildRecord, me: UserId, permissions: Permissions) -> PartialGuild {
    PartialGuild {
        id: g.id,
        name: g.name.clone(),
        icon: g.icon.clone(),
        banner: g.banner.clone(),
        owner: g.owner_id == me,
        permissions,
        features: features(g),
        approximate_member_count: None,
        approximate_presence_count: None,
    }
}

/// A public guild as discovery lists it.
pub fn discoverable(d: &DiscoveredGuild) -> DiscoverableGuild {
    DiscoverableGuild {
        id: d.guild.id,
        name: d.guild.name.clone(),
        icon: d.guild.icon.clone(),
        banner: d.guild.banner.clone(),
        description: d.guild.description.clone(),
        features: features(&d.guild),
        approximate_member_count: d.member_count,
        approximate_presence_count: 0,
    }
}

/// A role.
pub fn role(r: &RoleRecord) -> Role {
    let color = unsigned(r.color);
    Role {
        id: r.id,
        name: r.name.clone(),
        color,
        colors: Some(RoleColors {
            primary_color: color,
            secondary_color: None,
            tertiary_color: None,
        }),
        hoist: r.hoist,
        icon: r.icon.clone(),
        unicode_emoji: r.unicode_emoji.clone(),
        position: i32::try_from(r.position).unwrap_or(i32::MAX),
        permissions: r.permissions,
        managed: false,
        mentionable: r.mentionable,
        flags: 0,
        tags: None,
    }
}

/// A guild channel, with the keys Discord sends for its type.
pub fn channel(c: &ChannelRecord) -> Channel {
    let messages = matches!(c.kind, ChannelType::Text | ChannelType::Voice);
    let voice = c.kind == ChannelType::Voice;
    Channel {
        id: c.id,
        kind: c.kind,
        guild_id: Some(c.guild_id),
        position: Some(i32::try_from(c.position).unwrap_or(i32::MAX)),
        permission_overwrites: Some(c.overwrites.clone()),
        name: Some(Some(c.name.clone())),
        topic: (c.kind == ChannelType::Text).then(|| c.topic.clone()),
        nsfw: Some(c.nsfw),
        last_message_id: messages.then_some(None),
        bitrate: voice.then(|| unsigned(c.bitrate.unwrap_or(64_000))),
        user_limit: voice.then(|| unsigned(c.user_limit.unwrap_or(0))),
        rate_limit_per_user: messages.then(|| unsigned(c.rate_limit_per_user)),
        recipients: None,
        icon: None,
        owner_id: None,
        parent_id: Some(c.parent_id),
        last_pin_timestamp: messages.then_some(None),
        rtc_region: voice.then(|| c.rtc_region.clone()),
        flags: 0,
    }
}

/// A user as members, bans and invites show them.
pub fn user(u: &UserSummary) -> PublicUser {
    PublicUser {
        id: u.id,
        username: u.username.clone(),
        discriminator: "0".into(),
        global_name: u.global_name.clone(),
        avatar: u.avatar.clone(),
        banner: u.banner.clone(),
        bot: u.bot,
        system: u.system,
        public_flags: u.flags,
        accent_color: None,
        avatar_decoration_data: None,
    }
}

/// A member.
pub fn member(m: &MemberRecord) -> Member {
    Member {
        user: Some(user(&m.user)),
        nick: m.nick.clone(),
        avatar: None,
        banner: None,
        roles: m.roles.clone(),
        joined_at: Timestamp(m.joined_at),
        premium_since: None,
        deaf: m.deaf,
        mute: m.mute,
        flags: unsigned(m.flags),
        pending: Some(false),
        permissions: None,
        communication_disabled_until: m.communication_disabled_until.map(Timestamp),
    }
}

/// A member as `GUILD_MEMBER_*` events carry it: with its `guild_id`.
pub fn member_event(m: &MemberRecord) -> Value {
    with_guild_id(
        serde_json::to_value(member(m)).unwrap_or(Value::Null),
        m.guild_id,
    )
}

/// Add `guild_id` to an object payload.
pub fn with_guild_id(mut v: Value, guild: beep_types::GuildId) -> Value {
    if let Value::Object(map) = &mut v {
        map.insert("guild_id".into(), Value::String(guild.to_string()));
    }
    v
}

/// A ban.
pub fn ban(b: &BanRecord) -> Ban {
    Ban {
        reason: b.reason.clone(),
        user: user(&b.user),
    }
}

/// An invite; `metadata` adds uses, limits and creation time (for those who
/// manage invites).
pub fn invite(i: &InviteRecord, g: &GuildRecord, c: &ChannelRecord, metadata: bool) -> Invite {
    Invite {
        kind: 0,
        code: i.code.clone(),
        guild: Some(InviteGuild {
            id: g.id,
            name: g.name.clone(),
            splash: g.splash.clone(),
            banner: g.banner.clone(),
            description: g.description.clone(),
            icon: g.icon.clone(),
            features: features(g),
            verification_level: small(g.verification_level),
            vanity_url_code: None,
            nsfw_level: 0,
            premium_subscription_count: Some(0),
        }),
        channel: Some(InviteChannel {
            id: c.id,
            kind: c.kind,
            name: Some(c.name.clone()),
        }),
        inviter: i.inviter.as_ref().map(user),
        target_type: None,
        target_user: None,
        approximate_presence_count: None,
        approximate_member_count: None,
        expires_at: i.expires_at.map(Timestamp),
        uses: metadata.then(|| unsigned(i.uses)),
        max_uses: metadata.then(|| unsigned(i.max_uses)),
        max_age: metadata.then(|| unsigned(i.max_age)),
        temporary: metadata.then_some(i.temporary),
        created_at: metadata.then_some(Timestamp(i.created_at)),
    }
}

/// An audit log entry.
pub fn audit_entry(e: &AuditEntryRecord) -> AuditLogEntry {
    let changes = e.changes.as_ref().and_then(|v| v.as_array()).map(|list| {
        list.iter()
            .filter_map(|c| {
                let key = c.get("key")?.as_str()?.to_owned();
                Some(AuditLogChange {
                    key,
                    old_value: c.get("old_value").cloned(),
                    new_value: c.get("new_value").cloned(),
                })
            })
            .collect()
    });
    let options = e
        .options
        .as_ref()
        .and_then(|v| serde_json::from_value::<AuditEntryInfo>(v.clone()).ok());
    AuditLogEntry {
        target_id: e.target_id.clone(),
        changes,
        user_id: e.user_id,
        id: e.id,
        action_type: AuditLogEvent(u16::try_from(e.action_type).unwrap_or(0)),
        options,
        reason: e.reason.clone(),
    }
}

/// The extra `options` of an overwrite entry: whom the overwrite targets.
pub fn overwrite_options(target: beep_types::Snowflake, role_name: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(target.to_string()));
    match role_name {
        Some(name) => {
            m.insert("type".into(), Value::String("0".into()));
            m.insert("role_name".into(), Value::String(name.to_owned()));
        }
        None => {
            m.insert("type".into(), Value::String("1".into()));
        }
    }
    Value::Object(m)
}
