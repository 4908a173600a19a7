//! Beep's notification inbox and Discord's user guild settings
//! (`PATCH /users/@me/guilds/{guild_id}/settings`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::channel::Timestamp;
use crate::{ChannelId, GuildId, MessageId, Snowflake, UserId};

/// One entry of the inbox (`GET /users/@me/notifications`) and the `d` of the
/// `NOTIFICATION_CREATE` dispatch. A Beep extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String)]
    pub id: Snowflake,
    /// `mention`, `reply`, `direct_message`, `message`, `friend_request` or
    /// `friend_accept`.
    #[serde(rename = "type")]
    pub kind: String,
    pub read: bool,
    pub created_at: Timestamp,
    /// Who caused it.
    pub actor_id: Option<UserId>,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    pub message_id: Option<MessageId>,
}

/// The `d` of `NOTIFICATION_READ`: these notifications are read now (`all`:
/// every notification up to `up_to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationRead {
    #[schema(value_type = Vec<String>)]
    pub ids: Vec<Snowflake>,
    pub all: bool,
    #[schema(value_type = Option<String>)]
    pub up_to: Option<Snowflake>,
}

/// Discord's mute configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MuteConfig {
    /// When the mute ends by itself; `null`: until unmuted.
    pub end_time: Option<Timestamp>,
    /// The length the user picked, in seconds (`-1`: forever); kept for clients.
    pub selected_time_window: Option<i64>,
}

/// Discord's channel override inside the user guild settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelOverride {
    pub channel_id: ChannelId,
    pub muted: bool,
    pub mute_config: Option<MuteConfig>,
    /// 0 all messages, 1 only mentions, 2 nothing, 3 inherit.
    pub message_notifications: i64,
    pub collapsed: bool,
}

/// Discord's user guild settings object (`guild_id` null: direct messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserGuildSettings {
    pub guild_id: Option<GuildId>,
    /// 0 all messages, 1 only mentions, 2 nothing, 3 inherit the server's default.
    pub message_notifications: i64,
    pub muted: bool,
    pub mute_config: Option<MuteConfig>,
    pub suppress_everyone: bool,
    pub suppress_roles: bool,
    pub mobile_push: bool,
    pub hide_muted_channels: bool,
    pub mute_scheduled_events: bool,
    pub notify_highlights: i64,
    pub flags: i64,
    pub channel_overrides: Vec<ChannelOverride>,
    pub version: i64,
}

/// `PATCH /users/@me/guilds/{guild_id}/settings`; absent fields stay as they
/// are. `channel_overrides` is a list of `{channel_id, ...}` or Discord's map
/// from channel id to override; each override changes only the fields given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserGuildSettingsPatch {
    pub message_notifications: Option<i64>,
    pub muted: Option<bool>,
    #[serde(default, deserialize_with = "crate::v10::notification::nullable")]
    #[schema(value_type = Option<MuteConfig>)]
    pub mute_config: Option<Option<MuteConfigPatch>>,
    pub suppress_everyone: Option<bool>,
    pub suppress_roles: Option<bool>,
    /// Accepted and ignored (Beep has no mobile push yet).
    pub mobile_push: Option<bool>,
    /// Accepted and ignored.
    pub hide_muted_channels: Option<bool>,
    /// Accepted and ignored.
    pub mute_scheduled_events: Option<bool>,
    /// Accepted and ignored.
    pub notify_highlights: Option<i64>,
    /// Accepted and ignored.
    pub flags: Option<i64>,
    #[schema(value_type = Option<Vec<ChannelOverride>>)]
    pub channel_overrides: Option<serde_json::Value>,
}

/// A mute configuration as sent: `end_time` an ISO 8601 time or null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MuteConfigPatch {
    pub end_time: Option<String>,
    pub selected_time_window: Option<i64>,
}

/// Tell `null` (Some(None)) from absent (None).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}
