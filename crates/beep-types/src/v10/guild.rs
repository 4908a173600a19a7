//! Guild objects as Discord v10 sends them: the guild, its roles, emojis and
//! members, invites, bans, and the audit log.
//!
//! Fields follow Discord's documented shapes and what discord.py and discord.js
//! read. A key Discord always sends, even as `null`, is a plain field here (an
//! `Option` serializes as `null`); a key Discord leaves out in some answers is an
//! `Option` skipped when `None`. Small integer levels (verification, MFA, NSFW, ...)
//! stay integers: the services validate them against their own ranges.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::permissions::Permissions;
use crate::v10::channel::{Channel, ChannelType, Timestamp};
use crate::v10::user::PublicUser;
use crate::{ApplicationId, ChannelId, EmojiId, GuildId, MessageId, RoleId, Snowflake, UserId};

/// A guild ("server" in Beep's own words).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Guild {
    pub id: GuildId,
    pub name: String,
    pub icon: Option<String>,
    pub splash: Option<String>,
    pub discovery_splash: Option<String>,
    /// Only in `GET /users/@me/guilds`: whether the caller owns the guild.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<bool>,
    pub owner_id: UserId,
    /// Only in `GET /users/@me/guilds`: the caller's guild-level permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    pub afk_channel_id: Option<ChannelId>,
    /// Seconds.
    pub afk_timeout: u32,
    /// 0 none .. 4 very high.
    pub verification_level: u8,
    /// 0 all messages, 1 only mentions.
    pub default_message_notifications: u8,
    /// 0 disabled, 1 members without roles, 2 all members.
    pub explicit_content_filter: u8,
    pub roles: Vec<Role>,
    pub emojis: Vec<Emoji>,
    /// Feature strings (`"COMMUNITY"`, `"DISCOVERABLE"`, ...).
    pub features: Vec<String>,
    /// 0 none, 1 elevated (moderators need 2FA).
    pub mfa_level: u8,
    pub application_id: Option<ApplicationId>,
    pub system_channel_id: Option<ChannelId>,
    pub system_channel_flags: u32,
    pub rules_channel_id: Option<ChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    pub vanity_url_code: Option<String>,
    pub description: Option<String>,
    pub banner: Option<String>,
    /// Boost level; always 0 on Beep.
    pub premium_tier: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_subscription_count: Option<u32>,
    /// Locale such as `"en-US"`.
    pub preferred_locale: String,
    pub public_updates_channel_id: Option<ChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_channel_users: Option<u32>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_member_count: Option<u64>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_presence_count: Option<u64>,
    /// 0 default, 1 explicit, 2 safe, 3 age restricted.
    pub nsfw_level: u8,
    /// Custom stickers; Beep has none yet, so always empty.
    #[serde(default)]
    pub stickers: Vec<Value>,
    pub premium_progress_bar_enabled: bool,
    #[serde(default)]
    pub safety_alerts_channel_id: Option<ChannelId>,
    #[serde(default)]
    pub incidents_data: Option<Value>,
}

/// A guild as `GET /users/@me/guilds` lists it: the caller's view, without roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartialGuild {
    pub id: GuildId,
    pub name: String,
    pub icon: Option<String>,
    pub banner: Option<String>,
    /// Whether the caller owns the guild.
    pub owner: bool,
    /// The caller's guild-level permissions.
    pub permissions: Permissions,
    pub features: Vec<String>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_member_count: Option<u64>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_presence_count: Option<u64>,
}

/// A public guild as discovery lists it (Beep's `GET /discovery/guilds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DiscoverableGuild {
    pub id: GuildId,
    pub name: String,
    pub icon: Option<String>,
    pub banner: Option<String>,
    pub description: Option<String>,
    pub features: Vec<String>,
    pub approximate_member_count: u64,
    /// Presence is not tracked yet; always 0.
    pub approximate_presence_count: u64,
}

/// One page of discovery results (Beep extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DiscoveryPage {
    /// How many public guilds match in all.
    pub total: u64,
    /// Best matches first (then the larger guilds first).
    pub guilds: Vec<DiscoverableGuild>,
    pub offset: u32,
    pub limit: u32,
}

/// A role. The `@everyone` role has the guild's id and position 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    /// RGB as an integer; 0 means no colour.
    pub color: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<RoleColors>,
    /// Whether members with this role are listed apart.
    pub hoist: bool,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub unicode_emoji: Option<String>,
    /// Higher is more powerful; ties are broken by id.
    pub position: i32,
    pub permissions: Permissions,
    /// Whether an integration manages the role.
    pub managed: bool,
    pub mentionable: bool,
    #[serde(default)]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<RoleTags>,
}

/// A role's colours (gradient roles have a second and third colour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleColors {
    pub primary_color: u32,
    pub secondary_color: Option<u32>,
    pub tertiary_color: Option<u32>,
}

/// Why a role exists. Discord's boolean tags are sent as a `null` value when true
/// and left out when false; the `bool` fields here follow that.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleTags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub integration_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "is_false", with = "null_flag")]
    #[schema(value_type = Option<Value>)]
    pub premium_subscriber: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub subscription_listing_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "is_false", with = "null_flag")]
    #[schema(value_type = Option<Value>)]
    pub available_for_purchase: bool,
    #[serde(default, skip_serializing_if = "is_false", with = "null_flag")]
    #[schema(value_type = Option<Value>)]
    pub guild_connections: bool,
}

/// A custom emoji of a guild.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Emoji {
    pub id: Option<EmojiId>,
    pub name: Option<String>,
    /// Roles allowed to use it; empty means everyone.
    #[serde(default)]
    pub roles: Vec<RoleId>,
    /// Who uploaded it; only for callers with the right to manage emojis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PublicUser>,
    #[serde(default)]
    pub require_colons: bool,
    #[serde(default)]
    pub managed: bool,
    #[serde(default)]
    pub animated: bool,
    #[serde(default)]
    pub available: bool,
}

/// A member of a guild.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// Left out in the member attached to `MESSAGE_CREATE` and `MESSAGE_UPDATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PublicUser>,
    #[serde(default)]
    pub nick: Option<String>,
    /// Guild-specific avatar hash.
    #[serde(default)]
    pub avatar: Option<String>,
    /// Guild-specific banner hash.
    #[serde(default)]
    pub banner: Option<String>,
    /// Role ids, never including `@everyone`.
    pub roles: Vec<RoleId>,
    pub joined_at: Timestamp,
    #[serde(default)]
    pub premium_since: Option<Timestamp>,
    /// Server-deafened in voice.
    pub deaf: bool,
    /// Server-muted in voice.
    pub mute: bool,
    #[serde(default)]
    pub flags: u32,
    /// Sent in `GUILD_*` events; left out elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
    /// Only in interactions: permissions in the channel, overwrites included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// End of a timeout; `null` (or a past time) when not timed out.
    #[serde(default)]
    pub communication_disabled_until: Option<Timestamp>,
}

/// An invite, with its metadata when the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    /// 0 guild, 1 group DM, 2 friend.
    #[serde(rename = "type", default)]
    pub kind: u8,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild: Option<InviteGuild>,
    pub channel: Option<InviteChannel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter: Option<PublicUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<PublicUser>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_presence_count: Option<u64>,
    /// Only with `?with_counts=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_member_count: Option<u64>,
    /// `null` for an invite that never expires.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Metadata: times used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<u32>,
    /// Metadata: 0 for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Metadata: lifetime in seconds, 0 for never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Metadata: whether joining through it grants a temporary membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary: Option<bool>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

/// The part of a guild an invite shows to people not yet in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InviteGuild {
    pub id: GuildId,
    pub name: String,
    pub splash: Option<String>,
    pub banner: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub features: Vec<String>,
    pub verification_level: u8,
    pub vanity_url_code: Option<String>,
    pub nsfw_level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_subscription_count: Option<u32>,
}

/// The part of a channel an invite shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InviteChannel {
    pub id: ChannelId,
    #[serde(rename = "type")]
    pub kind: ChannelType,
    pub name: Option<String>,
}

/// A ban.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ban {
    pub reason: Option<String>,
    pub user: PublicUser,
}

/// `GET /guilds/{guild.id}/audit-logs`. Discord sends every list, empty or not.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    #[serde(default)]
    pub application_commands: Vec<Value>,
    /// Newest first.
    #[serde(default)]
    pub audit_log_entries: Vec<AuditLogEntry>,
    #[serde(default)]
    pub auto_moderation_rules: Vec<Value>,
    #[serde(default)]
    pub guild_scheduled_events: Vec<Value>,
    #[serde(default)]
    pub integrations: Vec<Value>,
    #[serde(default)]
    pub threads: Vec<Channel>,
    /// Users the entries refer to.
    #[serde(default)]
    pub users: Vec<PublicUser>,
    #[serde(default)]
    pub webhooks: Vec<Value>,
}

/// One moderation or configuration action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogEntry {
    /// Id of the affected entity, as a string (not always a snowflake).
    pub target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<AuditLogChange>>,
    /// Who acted.
    pub user_id: Option<UserId>,
    #[schema(value_type = String)]
    pub id: Snowflake,
    pub action_type: AuditLogEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<AuditEntryInfo>,
    /// From the `X-Audit-Log-Reason` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One changed field. A missing `new_value` means the field was reset to `null`; a
/// missing `old_value` means it was `null` before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_value: Option<Value>,
    pub key: String,
}

/// Extra details of some entries. Discord sends the counts as strings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_moderation_rule_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_moderation_rule_trigger_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_member_days: Option<String>,
    /// Overwrite events: the role or member overwritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_removed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Overwrite events on a role: its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Overwrite events: `"0"` role, `"1"` member.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_type: Option<String>,
}

/// An audit log action type (`action_type`), with Discord's numbers. Kept open
/// (a number, not an enum) so entries of types Beep does not produce still read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
pub struct AuditLogEvent(pub u16);

impl AuditLogEvent {
    pub const GUILD_UPDATE: AuditLogEvent = AuditLogEvent(1);
    pub const CHANNEL_CREATE: AuditLogEvent = AuditLogEvent(10);
    pub const CHANNEL_UPDATE: AuditLogEvent = AuditLogEvent(11);
    pub const CHANNEL_DELETE: AuditLogEvent = AuditLogEvent(12);
    pub const CHANNEL_OVERWRITE_CREATE: AuditLogEvent = AuditLogEvent(13);
    pub const CHANNEL_OVERWRITE_UPDATE: AuditLogEvent = AuditLogEvent(14);
    pub const CHANNEL_OVERWRITE_DELETE: AuditLogEvent = AuditLogEvent(15);
    pub const MEMBER_KICK: AuditLogEvent = AuditLogEvent(20);
    pub const MEMBER_PRUNE: AuditLogEvent = AuditLogEvent(21);
    pub const MEMBER_BAN_ADD: AuditLogEvent = AuditLogEvent(22);
    pub const MEMBER_BAN_REMOVE: AuditLogEvent = AuditLogEvent(23);
    pub const MEMBER_UPDATE: AuditLogEvent = AuditLogEvent(24);
    pub const MEMBER_ROLE_UPDATE: AuditLogEvent = AuditLogEvent(25);
    pub const MEMBER_MOVE: AuditLogEvent = AuditLogEvent(26);
    pub const MEMBER_DISCONNECT: AuditLogEvent = AuditLogEvent(27);
    pub const BOT_ADD: AuditLogEvent = AuditLogEvent(28);
    pub const ROLE_CREATE: AuditLogEvent = AuditLogEvent(30);
    pub const ROLE_UPDATE: AuditLogEvent = AuditLogEvent(31);
    pub const ROLE_DELETE: AuditLogEvent = AuditLogEvent(32);
    pub const INVITE_CREATE: AuditLogEvent = AuditLogEvent(40);
    pub const INVITE_UPDATE: AuditLogEvent = AuditLogEvent(41);
    pub const INVITE_DELETE: AuditLogEvent = AuditLogEvent(42);
    pub const WEBHOOK_CREATE: AuditLogEvent = AuditLogEvent(50);
    pub const WEBHOOK_UPDATE: AuditLogEvent = AuditLogEvent(51);
    pub const WEBHOOK_DELETE: AuditLogEvent = AuditLogEvent(52);
    pub const EMOJI_CREATE: AuditLogEvent = AuditLogEvent(60);
    pub const EMOJI_UPDATE: AuditLogEvent = AuditLogEvent(61);
    pub const EMOJI_DELETE: AuditLogEvent = AuditLogEvent(62);
    pub const MESSAGE_DELETE: AuditLogEvent = AuditLogEvent(72);
    pub const MESSAGE_BULK_DELETE: AuditLogEvent = AuditLogEvent(73);
    pub const MESSAGE_PIN: AuditLogEvent = AuditLogEvent(74);
    pub const MESSAGE_UNPIN: AuditLogEvent = AuditLogEvent(75);
    pub const INTEGRATION_CREATE: AuditLogEvent = AuditLogEvent(80);
    pub const INTEGRATION_UPDATE: AuditLogEvent = AuditLogEvent(81);
    pub const INTEGRATION_DELETE: AuditLogEvent = AuditLogEvent(82);
    pub const STAGE_INSTANCE_CREATE: AuditLogEvent = AuditLogEvent(83);
    pub const STAGE_INSTANCE_UPDATE: AuditLogEvent = AuditLogEvent(84);
    pub const STAGE_INSTANCE_DELETE: AuditLogEvent = AuditLogEvent(85);
    pub const STICKER_CREATE: AuditLogEvent = AuditLogEvent(90);
    pub const STICKER_UPDATE: AuditLogEvent = AuditLogEvent(91);
    pub const STICKER_DELETE: AuditLogEvent = AuditLogEvent(92);
    pub const GUILD_SCHEDULED_EVENT_CREATE: AuditLogEvent = AuditLogEvent(100);
    pub const GUILD_SCHEDULED_EVENT_UPDATE: AuditLogEvent = AuditLogEvent(101);
    pub const GUILD_SCHEDULED_EVENT_DELETE: AuditLogEvent = AuditLogEvent(102);
    pub const THREAD_CREATE: AuditLogEvent = AuditLogEvent(110);
    pub const THREAD_UPDATE: AuditLogEvent = AuditLogEvent(111);
    pub const THREAD_DELETE: AuditLogEvent = AuditLogEvent(112);
    pub const APPLICATION_COMMAND_PERMISSION_UPDATE: AuditLogEvent = AuditLogEvent(121);
    pub const SOUNDBOARD_SOUND_CREATE: AuditLogEvent = AuditLogEvent(130);
    pub const SOUNDBOARD_SOUND_UPDATE: AuditLogEvent = AuditLogEvent(131);
    pub const SOUNDBOARD_SOUND_DELETE: AuditLogEvent = AuditLogEvent(132);
    pub const AUTO_MODERATION_RULE_CREATE: AuditLogEvent = AuditLogEvent(140);
    pub const AUTO_MODERATION_RULE_UPDATE: AuditLogEvent = AuditLogEvent(141);
    pub const AUTO_MODERATION_RULE_DELETE: AuditLogEvent = AuditLogEvent(142);
    pub const AUTO_MODERATION_BLOCK_MESSAGE: AuditLogEvent = AuditLogEvent(143);
    pub const AUTO_MODERATION_FLAG_TO_CHANNEL: AuditLogEvent = AuditLogEvent(144);
    pub const AUTO_MODERATION_USER_COMMUNICATION_DISABLED: AuditLogEvent = AuditLogEvent(145);
    pub const CREATOR_MONETIZATION_REQUEST_CREATED: AuditLogEvent = AuditLogEvent(150);
    pub const CREATOR_MONETIZATION_TERMS_ACCEPTED: AuditLogEvent = AuditLogEvent(151);
    pub const ONBOARDING_PROMPT_CREATE: AuditLogEvent = AuditLogEvent(163);
    pub const ONBOARDING_PROMPT_UPDATE: AuditLogEvent = AuditLogEvent(164);
    pub const ONBOARDING_PROMPT_DELETE: AuditLogEvent = AuditLogEvent(165);
    pub const ONBOARDING_CREATE: AuditLogEvent = AuditLogEvent(166);
    pub const ONBOARDING_UPDATE: AuditLogEvent = AuditLogEvent(167);
    pub const HOME_SETTINGS_CREATE: AuditLogEvent = AuditLogEvent(190);
    pub const HOME_SETTINGS_UPDATE: AuditLogEvent = AuditLogEvent(191);
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Serde helpers for Discord's "`null` means true, absent means false" tags; use
/// with `#[serde(default, skip_serializing_if = "is_false")]`.
mod null_flag {
    use serde::de::IgnoredAny;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(_: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        IgnoredAny::deserialize(d).map(|_| true)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde_json::json;

    use super::*;

    fn round_trip<T>(input: Value, expected: Value) -> T
    where
        T: serde::de::DeserializeOwned + Serialize + PartialEq + fmt::Debug,
    {
        let parsed: T = serde_json::from_value(input).expect("sample deserializes");
        let out = serde_json::to_value(&parsed).expect("serializes");
        assert_eq!(out, expected);
        let again: T = serde_json::from_value(out).expect("output deserializes");
        assert_eq!(again, parsed);
        parsed
    }

    fn user(id: &str, name: &str) -> Value {
        json!({
            "id": id,
            "username": name,
            "discriminator": "0",
            "global_name": null,
            "avatar": null,
            "banner": null,
            "public_flags": 0,
            "accent_color": null,
            "avatar_decoration_data": null
        })
    }

    fn everyone_role() -> Value {
        json!({
            "id": "197038439483310086",
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": 0,
            "permissions": "2248473465835073",
            "managed": false,
            "mentionable": false,
            "flags": 0
        })
    }

    #[test]
    fn guild() {
        let sample = json!({
            "id": "197038439483310086",
            "name": "Discord Testers",
            "icon": "f64c482b807da4f539cff778d174971c",
            "splash": null,
            "discovery_splash": null,
            "owner_id": "73193882359173120",
            "afk_channel_id": null,
            "afk_timeout": 300,
            "verification_level": 3,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [everyone_role()],
            "emojis": [{
                "id": "41771983429993937",
                "name": "LUL",
                "roles": [],
                "require_colons": true,
                "managed": false,
                "animated": false,
                "available": true
            }],
            "features": ["COMMUNITY", "DISCOVERABLE"],
            "mfa_level": 1,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": "441688182833020939",
            "max_presences": null,
            "max_members": 250000,
            "vanity_url_code": "discord-testers",
            "description": "The official place to report Discord Bugs!",
            "banner": "9b6439a7de04f1d26af92f84ac9e1e4a",
            "premium_tier": 3,
            "premium_subscription_count": 33,
            "preferred_locale": "en-US",
            "public_updates_channel_id": "281283303326089216",
            "max_video_channel_users": 25,
            "approximate_member_count": 60814,
            "approximate_presence_count": 20424,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
            "incidents_data": null
        });
        let mut expected = sample.clone();
        expected
            .as_object_mut()
            .expect("object")
            .remove("max_presences");
        // Discord's default @everyone, read through Beep's known bits.
        expected["roles"][0]["permissions"] =
            json!(Permissions::DEFAULT_EVERYONE.bits().to_string());
        let g: Guild = round_trip(sample, expected);
        assert_eq!(
            g.roles[0].id.get(),
            g.id.get(),
            "@everyone shares the guild's id"
        );
        assert_eq!(g.roles[0].permissions, Permissions::DEFAULT_EVERYONE);
        assert_eq!(g.emojis[0].name.as_deref(), Some("LUL"));
        assert_eq!(g.owner, None);
    }

    #[test]
    fn current_user_guild_fields_appear_when_set() {
        let mut g: Guild = serde_json::from_value(json!({
            "id": "1", "name": "x", "icon": null, "splash": null, "discovery_splash": null,
            "owner_id": "2", "afk_channel_id": null, "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": [], "emojis": [], "features": [],
            "mfa_level": 0, "application_id": null, "system_channel_id": null,
            "system_channel_flags": 0, "rules_channel_id": null, "vanity_url_code": null,
            "description": null, "banner": null, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": null, "nsfw_level": 0,
            "premium_progress_bar_enabled": false
        }))
        .expect("minimal guild");
        let v = serde_json::to_value(&g).expect("serializes");
        assert!(v.get("owner").is_none() && v.get("permissions").is_none());
        assert_eq!(v["stickers"], json!([]));
        assert_eq!(v["safety_alerts_channel_id"], Value::Null);
        g.owner = Some(true);
        g.permissions = Some(Permissions::ALL);
        let v = serde_json::to_value(&g).expect("serializes");
        assert_eq!(v["owner"], json!(true));
        assert_eq!(v["permissions"], json!(Permissions::ALL.bits().to_string()));
    }

    #[test]
    fn role_with_tags() {
        let sample = json!({
            "id": "41771983423143936",
            "name": "WE DEM BOYZZ!!!!!!",
            "color": 3447003,
            "hoist": true,
            "icon": "cf3ced8600b777c9486c6d8d84fb4327",
            "unicode_emoji": null,
            "position": 1,
            "permissions": "66321471",
            "managed": true,
            "mentionable": false,
            "flags": 0,
            "tags": {"bot_id": "155149108183695360", "premium_subscriber": null}
        });
        let role: Role = round_trip(sample.clone(), sample);
        let tags = role.tags.expect("tags");
        assert!(tags.premium_subscriber, "a null tag means true");
        assert!(!tags.guild_connections, "an absent tag means false");
        assert_eq!(role.permissions.bits(), 66_321_471);
    }

    #[test]
    fn member() {
        let sample = json!({
            "user": user("80351110224678912", "nelly"),
            "nick": "NOT API SUPPORT",
            "avatar": null,
            "banner": null,
            "roles": ["41771983423143936"],
            "joined_at": "2015-04-26T06:26:56.936000+00:00",
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null
        });
        let m: Member = round_trip(sample.clone(), sample);
        assert_eq!(m.roles.len(), 1);
        assert_eq!(m.joined_at.to_string(), "2015-04-26T06:26:56.936000+00:00");

        // The member attached to a message has no user and no pending key.
        let bare = json!({
            "nick": null, "avatar": null, "banner": null, "roles": [],
            "joined_at": "2020-01-01T00:00:00.000000+00:00", "premium_since": null,
            "deaf": false, "mute": false, "flags": 0, "communication_disabled_until": null
        });
        let m: Member = round_trip(bare.clone(), bare);
        assert!(m.user.is_none() && m.pending.is_none());
    }

    #[test]
    fn invite_with_metadata() {
        let sample = json!({
            "type": 0,
            "code": "0vCdhLbwjZZTWZLD",
            "guild": {
                "id": "165176875973476352",
                "name": "CS:GO Fraggers Only",
                "splash": null,
                "banner": null,
                "description": "Very good description",
                "icon": null,
                "features": ["NEWS", "DISCOVERABLE"],
                "verification_level": 2,
                "vanity_url_code": null,
                "nsfw_level": 0,
                "premium_subscription_count": 5
            },
            "channel": {"id": "165176875973476352", "name": "illuminati", "type": 0},
            "inviter": user("115590097100865541", "speed"),
            "approximate_member_count": 15,
            "approximate_presence_count": 5,
            "expires_at": "2021-01-01T00:00:00.000000+00:00",
            "uses": 0,
            "max_uses": 0,
            "max_age": 0,
            "temporary": false,
            "created_at": "2016-03-31T19:15:39.954000+00:00"
        });
        let inv: Invite = round_trip(sample.clone(), sample);
        assert_eq!(inv.channel.map(|c| c.kind), Some(ChannelType::Text));
    }

    #[test]
    fn invite_without_metadata_never_expiring() {
        let sample = json!({
            "type": 0,
            "code": "abc",
            "channel": {"id": "1", "name": "general", "type": 0},
            "expires_at": null
        });
        let inv: Invite = round_trip(sample.clone(), sample);
        assert!(inv.expires_at.is_none() && inv.uses.is_none());
    }

    #[test]
    fn ban() {
        let sample =
            json!({"reason": "mentioning b1nzy", "user": user("53908099506183680", "Mason")});
        let b: Ban = round_trip(sample.clone(), sample);
        assert_eq!(b.reason.as_deref(), Some("mentioning b1nzy"));
        let no_reason = json!({"reason": null, "user": user("1", "x")});
        let _: Ban = round_trip(no_reason.clone(), no_reason);
    }

    #[test]
    fn audit_log() {
        let sample = json!({
            "application_commands": [],
            "audit_log_entries": [
                {
                    "target_id": "1110215216102121032",
                    "changes": [
                        {"key": "name", "new_value": "rules", "old_value": "general"},
                        {"key": "topic", "old_value": "old topic"}
                    ],
                    "user_id": "399942396007890945",
                    "id": "1110215219256791163",
                    "action_type": 11,
                    "reason": "tidy up"
                },
                {
                    "target_id": "1110215216102121032",
                    "changes": [{"key": "allow", "new_value": "1024", "old_value": "0"}],
                    "user_id": "399942396007890945",
                    "id": "1110215219256791164",
                    "action_type": 14,
                    "options": {"id": "290926798629997250", "type": "0", "role_name": "@everyone"}
                },
                {
                    "target_id": "80351110224678912",
                    "user_id": "399942396007890945",
                    "id": "1110215219256791165",
                    "action_type": 22
                }
            ],
            "auto_moderation_rules": [],
            "guild_scheduled_events": [],
            "integrations": [],
            "threads": [],
            "users": [user("399942396007890945", "moderator")],
            "webhooks": []
        });
        let log: AuditLog = round_trip(sample.clone(), sample);
        let entries = &log.audit_log_entries;
        assert_eq!(entries[0].action_type, AuditLogEvent::CHANNEL_UPDATE);
        assert_eq!(
            entries[1].action_type,
            AuditLogEvent::CHANNEL_OVERWRITE_UPDATE
        );
        assert_eq!(
            entries[1].options.as_ref().and_then(|o| o.kind.as_deref()),
            Some("0")
        );
        assert_eq!(entries[2].action_type, AuditLogEvent::MEMBER_BAN_ADD);
        assert!(entries[2].changes.is_none());
    }

    #[test]
    fn empty_audit_log_sends_every_list() {
        let v = serde_json::to_value(AuditLog::default()).expect("serializes");
        for key in [
            "application_commands",
            "audit_log_entries",
            "auto_moderation_rules",
            "guild_scheduled_events",
            "integrations",
            "threads",
            "users",
            "webhooks",
        ] {
            assert_eq!(v[key], json!([]), "{key}");
        }
    }
}
