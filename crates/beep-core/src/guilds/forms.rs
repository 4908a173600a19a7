//! Request bodies and query strings of the guild routes, with the checks on
//! their values. Unknown keys are ignored, as Discord does; `Option<Option<T>>`
//! fields tell "absent" (leave alone) from `null` (clear).

use beep_types::v10::channel::{ChannelType, OverwriteType, Timestamp, double_option};
use beep_types::{ChannelId, GuildId, Permissions, RoleId, Snowflake, UserId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::Error;

/// `POST /guilds`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateGuild {
    /// 2 to 100 characters.
    pub name: String,
    /// A `data:image/...;base64,...` URI.
    #[serde(default)]
    pub icon: Option<String>,
    /// Up to 300 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Beep extension: listed in discovery and joinable without an invite.
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default)]
    pub verification_level: Option<i64>,
    #[serde(default)]
    pub default_message_notifications: Option<i64>,
    #[serde(default)]
    pub explicit_content_filter: Option<i64>,
    #[serde(default)]
    pub preferred_locale: Option<String>,
}

/// `PATCH /guilds/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateGuild {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub banner: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub splash: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Transfer ownership (owner only) to a member.
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// Beep extension: listed in discovery and joinable without an invite.
    #[serde(default)]
    pub public: Option<bool>,
    /// Discord's way to the same: `DISCOVERABLE` in the list makes the guild public.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<ChannelId>)]
    pub afk_channel_id: Option<Option<ChannelId>>,
    /// 60, 300, 900, 1800 or 3600 seconds.
    #[serde(default)]
    pub afk_timeout: Option<i64>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<ChannelId>)]
    pub system_channel_id: Option<Option<ChannelId>>,
    #[serde(default)]
    pub system_channel_flags: Option<i64>,
    #[serde(default)]
    pub verification_level: Option<i64>,
    #[serde(default)]
    pub default_message_notifications: Option<i64>,
    #[serde(default)]
    pub explicit_content_filter: Option<i64>,
    #[serde(default)]
    pub preferred_locale: Option<String>,
}

/// A permission overwrite in a channel body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OverwriteForm {
    /// Role or user id.
    #[schema(value_type = String)]
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: OverwriteType,
    #[serde(default)]
    pub allow: Option<Permissions>,
    #[serde(default)]
    pub deny: Option<Permissions>,
}

/// `PUT /channels/{id}/permissions/{overwrite_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PutOverwrite {
    #[serde(rename = "type")]
    pub kind: OverwriteType,
    #[serde(default)]
    pub allow: Option<Permissions>,
    #[serde(default)]
    pub deny: Option<Permissions>,
}

/// `POST /guilds/{id}/channels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateChannel {
    /// 1 to 100 characters.
    pub name: String,
    /// 0 text (default), 2 voice, 4 folder.
    #[serde(default, rename = "type")]
    pub kind: Option<ChannelType>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
    /// A folder of this guild.
    #[serde(default)]
    pub parent_id: Option<ChannelId>,
    #[serde(default)]
    pub nsfw: Option<bool>,
    #[serde(default)]
    pub rate_limit_per_user: Option<i64>,
    #[serde(default)]
    pub bitrate: Option<i64>,
    #[serde(default)]
    pub user_limit: Option<i64>,
    #[serde(default)]
    pub rtc_region: Option<String>,
    /// Without it a channel created in a folder copies the folder's overwrites.
    #[serde(default)]
    pub permission_overwrites: Option<Vec<OverwriteForm>>,
}

/// `PATCH /channels/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateChannel {
    #[serde(default)]
    pub name: Option<String>,
    /// Must be the channel's current type if given: types do not change.
    #[serde(default, rename = "type")]
    pub kind: Option<ChannelType>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<ChannelId>)]
    pub parent_id: Option<Option<ChannelId>>,
    #[serde(default)]
    pub nsfw: Option<bool>,
    #[serde(default)]
    pub rate_limit_per_user: Option<i64>,
    #[serde(default)]
    pub bitrate: Option<i64>,
    #[serde(default)]
    pub user_limit: Option<i64>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub rtc_region: Option<Option<String>>,
    #[serde(default)]
    pub permission_overwrites: Option<Vec<OverwriteForm>>,
}

/// One entry of `PATCH /guilds/{id}/channels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChannelPosition {
    pub id: ChannelId,
    #[serde(default)]
    pub position: Option<i64>,
    /// Copy the new folder's overwrites onto the channel.
    #[serde(default)]
    pub lock_permissions: Option<bool>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<ChannelId>)]
    pub parent_id: Option<Option<ChannelId>>,
}

/// `POST /guilds/{id}/roles`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateRole {
    /// Default `new role`.
    #[serde(default)]
    pub name: Option<String>,
    /// Default: the `@everyone` role's permissions.
    #[serde(default)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub color: Option<i64>,
    #[serde(default)]
    pub hoist: Option<bool>,
    #[serde(default)]
    pub mentionable: Option<bool>,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub unicode_emoji: Option<String>,
}

/// `PATCH /guilds/{id}/roles/{role}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateRole {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub color: Option<i64>,
    #[serde(default)]
    pub hoist: Option<bool>,
    #[serde(default)]
    pub mentionable: Option<bool>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unicode_emoji: Option<Option<String>>,
}

/// One entry of `PATCH /guilds/{id}/roles`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RolePosition {
    pub id: RoleId,
    #[serde(default)]
    pub position: Option<i64>,
}

/// `PATCH /guilds/{id}/members/{user}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateMember {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub nick: Option<Option<String>>,
    #[serde(default)]
    pub roles: Option<Vec<RoleId>>,
    #[serde(default)]
    pub mute: Option<bool>,
    #[serde(default)]
    pub deaf: Option<bool>,
    /// Time the member out until then (at most 28 days ahead); `null` lifts it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Timestamp>)]
    pub communication_disabled_until: Option<Option<Timestamp>>,
}

/// `PATCH /guilds/{id}/members/@me`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateMe {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub nick: Option<Option<String>>,
}

/// `PUT /guilds/{id}/bans/{user}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateBan {
    /// 0 to 604800: how much of the user's recent messages to delete.
    #[serde(default)]
    pub delete_message_seconds: Option<i64>,
    /// Deprecated by Discord, still read: 0 to 7 days.
    #[serde(default)]
    pub delete_message_days: Option<i64>,
}

/// `POST /channels/{id}/invites`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateInvite {
    /// Seconds, 0 (never) to 604800; default 86400.
    #[serde(default)]
    pub max_age: Option<i64>,
    /// 0 (unlimited) to 100; default 0.
    #[serde(default)]
    pub max_uses: Option<i64>,
    #[serde(default)]
    pub temporary: Option<bool>,
    /// Always make a new invite rather than reuse a similar one.
    #[serde(default)]
    pub unique: Option<bool>,
}

/// `GET /users/@me/guilds`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct MyGuildsQuery {
    pub before: Option<GuildId>,
    pub after: Option<GuildId>,
    /// 1..=200, default 200.
    pub limit: Option<u32>,
    #[serde(default)]
    pub with_counts: Option<bool>,
}

/// `GET /guilds/{id}`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct GuildQuery {
    #[serde(default)]
    pub with_counts: Option<bool>,
}

/// `GET /guilds/{id}/members`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct MembersQuery {
    /// 1..=1000, default 1.
    pub limit: Option<u32>,
    pub after: Option<UserId>,
}

/// `GET /guilds/{id}/members/search`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct SearchMembersQuery {
    /// The start of a username or nickname.
    #[serde(default)]
    pub query: String,
    /// 1..=1000, default 1.
    pub limit: Option<u32>,
}

/// `GET /guilds/{id}/bans`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct BansQuery {
    /// 1..=1000, default 1000.
    pub limit: Option<u32>,
    pub before: Option<UserId>,
    pub after: Option<UserId>,
}

/// `GET /invites/{code}`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct InviteQuery {
    #[serde(default)]
    pub with_counts: Option<bool>,
    /// Accepted for compatibility; `expires_at` is always sent.
    #[serde(default)]
    pub with_expiration: Option<bool>,
}

/// `GET /discovery/guilds`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct DiscoveryQuery {
    /// Words of the name or description: `"a phrase"`, `or`, `-excluded`.
    #[serde(default)]
    pub query: String,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// At most 10000.
    pub offset: Option<u32>,
}

/// Collects field errors so one answer names every bad field.
#[derive(Debug, Default)]
pub struct Problems(Option<Error>);

impl Problems {
    pub fn new() -> Problems {
        Problems(None)
    }

    /// Add a field error.
    pub fn add(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0 = Some(match self.0.take() {
            Some(e) => e.and_field(path, code, message),
            None => Error::field(path, code, message),
        });
    }

    /// `Err` with every error collected, if any.
    pub fn finish(self) -> Result<(), Error> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Check a display name: trimmed, `min..=max` characters, no control characters.
/// Returns the trimmed text.
pub(crate) fn name(p: &mut Problems, field: &str, value: &str, min: usize, max: usize) -> String {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if n < min || n > max {
        p.add(
            field,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        );
    } else if trimmed.chars().any(char::is_control) {
        p.add(
            field,
            "BASE_TYPE_BAD_CHARACTERS",
            "Contains characters that are not allowed.",
        );
    }
    trimmed.to_owned()
}

/// Check an optional free text of at most `max` characters; blank becomes `None`.
pub(crate) fn text(
    p: &mut Problems,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value?;
    if value.chars().count() > max {
        p.add(
            field,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Check an integer is in `range`.
pub(crate) fn within(
    p: &mut Problems,
    field: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let v = value?;
    if !range.contains(&v) {
        p.add(
            field,
            "NUMBER_TYPE_OUT_OF_RANGE",
            format!("Must be between {} and {}.", range.start(), range.end()),
        );
    }
    Some(v)
}

/// A locale Beep knows (`en-US`, `fr`, ...): letters, digits and `-`, at most 16.
pub(crate) fn locale(p: &mut Problems, field: &str, value: &str) -> String {
    let ok = !value.is_empty()
        && value.len() <= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok {
        p.add(field, "LOCALE_INVALID", "Invalid locale.");
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        let mut p = Problems::new();
        assert_eq!(name(&mut p, "name", "  Rust  ", 2, 100), "Rust");
        assert!(p.finish().is_ok());
        let mut p = Problems::new();
        name(&mut p, "name", " x ", 2, 100);
        name(&mut p, "other", "a\u{7}b", 1, 100);
        let e = p.finish().expect_err("two problems");
        assert!(e.fields.contains_key("name") && e.fields.contains_key("other"));
    }

    #[test]
    fn double_options_tell_absent_from_null() {
        let absent: UpdateGuild = serde_json::from_str("{}").expect("empty");
        assert_eq!(absent.description, None);
        let null: UpdateGuild = serde_json::from_str(r#"{"description":null}"#).expect("null");
        assert_eq!(null.description, Some(None));
        let set: UpdateGuild = serde_json::from_str(r#"{"description":"d"}"#).expect("set");
        assert_eq!(set.description, Some(Some("d".into())));
    }
}
