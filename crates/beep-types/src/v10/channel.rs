//! Channel objects as Discord v10 sends them: the channel itself, its type number,
//! its permission overwrites, and the timestamp format shared by every v10 object.
//!
//! One `Channel` struct serves every channel type, so which keys appear depends on
//! the type. Keys Discord leaves out for some types are `Option` and skipped when
//! `None`; keys Discord sends as `null` for some types and leaves out for others are
//! `Option<Option<T>>` (`None` leaves the key out, `Some(None)` sends `null`).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Unexpected};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::permissions::Permissions;
use crate::v10::user::PublicUser;
use crate::{ChannelId, GuildId, MessageId, Snowflake, UserId};

/// An integer-valued enum that refuses numbers it does not know.
macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl $name {
            /// Every variant, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The number on the wire.
            pub const fn value(self) -> u8 {
                self as u8
            }

            /// The variant with this number, if there is one.
            pub const fn from_value(v: u64) -> Option<$name> {
                match v {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(self.value())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = u64::deserialize(d)?;
                $name::from_value(v).ok_or_else(|| {
                    de::Error::invalid_value(Unexpected::Unsigned(v), &$what)
                })
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .enum_values(Some([$($value,)*]))
                    .description(Some($what))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

int_enum! {
    /// Channel types Beep has, with Discord's numbers. Other Discord types
    /// (announcement, threads, stage, forum, ...) are refused.
    pub enum ChannelType ("a channel type: 0 text, 1 DM, 2 voice, 3 group DM or 4 folder") {
        /// A text channel in a guild (`GUILD_TEXT`).
        Text = 0,
        /// A direct conversation between two users (`DM`).
        Dm = 1,
        /// A voice channel in a guild, with its own text chat (`GUILD_VOICE`).
        Voice = 2,
        /// A direct conversation between several users (`GROUP_DM`).
        GroupDm = 3,
        /// A folder grouping channels (`GUILD_CATEGORY`). Beep lets folders nest.
        Folder = 4,
    }
}

impl ChannelType {
    /// Whether the channel belongs to a guild (and so has overwrites, a position, ...).
    pub const fn is_guild(self) -> bool {
        matches!(
            self,
            ChannelType::Text | ChannelType::Voice | ChannelType::Folder
        )
    }

    /// Bits an overwrite on a channel of this type may allow or deny. Direct
    /// conversations have no overwrites at all.
    pub const fn overwritable_permissions(self) -> Permissions {
        match self {
            ChannelType::Text => Permissions::CHANNEL_TEXT,
            ChannelType::Voice => Permissions::CHANNEL_VOICE,
            ChannelType::Folder => Permissions::CHANNEL_FOLDER,
            ChannelType::Dm | ChannelType::GroupDm => Permissions::NONE,
        }
    }
}

int_enum! {
    /// Whom a permission overwrite targets.
    pub enum OverwriteType ("an overwrite type: 0 role or 1 member") {
        /// A role (the `@everyone` role has the guild's id).
        Role = 0,
        /// One member.
        Member = 1,
    }
}

/// A channel-level permission overwrite for a role or a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PermissionOverwrite {
    /// Role or user id, depending on `type`.
    #[schema(value_type = String)]
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: OverwriteType,
    pub allow: Permissions,
    pub deny: Permissions,
}

/// A channel of any type (Discord's channel object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: ChannelId,
    #[serde(rename = "type")]
    pub kind: ChannelType,
    /// Guild channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Guild channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
    /// Guild channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_overwrites: Option<Vec<PermissionOverwrite>>,
    /// Guild channels and group DMs (where it may be `null`); absent for DMs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Text and voice channels (`null` when unset).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    /// Guild channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsfw: Option<bool>,
    /// Channels that hold messages (`null` when none was ever sent).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<MessageId>)]
    pub last_message_id: Option<Option<MessageId>>,
    /// Voice channels only, in bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    /// Voice channels only; 0 means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_limit: Option<u32>,
    /// Slow mode in seconds; text and voice channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_user: Option<u32>,
    /// DMs and group DMs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<PublicUser>>,
    /// Group DMs only (`null` when unset).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
    /// Group DMs only: who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<UserId>,
    /// Guild channels: the folder holding this channel (`null` at top level).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<ChannelId>)]
    pub parent_id: Option<Option<ChannelId>>,
    /// Channels that hold messages (`null` when nothing is pinned).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<Timestamp>)]
    pub last_pin_timestamp: Option<Option<Timestamp>>,
    /// Voice channels only (`null` means automatic).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub rtc_region: Option<Option<String>>,
    /// Channel flags; always sent, 0 when none.
    #[serde(default)]
    pub flags: u64,
}

/// A point in time as Discord writes it: ISO 8601 in UTC with microseconds and an
/// explicit `+00:00` offset (`2015-04-26T06:26:56.936000+00:00`).
///
/// The explicit offset matters: `datetime.fromisoformat`, which discord.py uses,
/// refuses the `Z` suffix before Python 3.11. Any RFC 3339 time is accepted on input.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp(Utc::now())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Micro-second precision, then "+00:00" rather than "Z".
        let text = self.0.to_rfc3339_opts(SecondsFormat::Micros, false);
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| Timestamp(t.with_timezone(&Utc)))
            .map_err(|_| de::Error::invalid_value(Unexpected::Str(&text), &"an ISO 8601 timestamp"))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .description(Some("ISO 8601 timestamp"))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// Serde helpers for `Option<Option<T>>`: an absent key is `None` (with
/// `#[serde(default)]`), `null` is `Some(None)`, a value is `Some(Some(v))`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Deserialize, re-serialize, and check the JSON is `expected`; then check the
    /// output reads back to the same value.
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

    #[test]
    fn guild_text_channel() {
        let sample = json!({
            "id": "41771983423143937",
            "guild_id": "41771983423143937",
            "name": "general",
            "type": 0,
            "position": 6,
            "permission_overwrites": [
                {"id": "41771983423143937", "type": 0, "allow": "0", "deny": "2048"},
                {"id": "80351110224678912", "type": 1, "allow": "2048", "deny": "0"}
            ],
            "rate_limit_per_user": 2,
            "nsfw": true,
            "topic": "24/7 chat about how to gank Mike #2",
            "last_message_id": "155117677105512449",
            "parent_id": "399942396007890945",
            "last_pin_timestamp": null,
            "default_auto_archive_duration": 60,
            "flags": 0
        });
        let mut expected = sample.clone();
        expected
            .as_object_mut()
            .expect("object")
            .remove("default_auto_archive_duration");
        let ch: Channel = round_trip(sample, expected);
        assert_eq!(ch.kind, ChannelType::Text);
        assert_eq!(
            ch.topic,
            Some(Some("24/7 chat about how to gank Mike #2".to_owned()))
        );
        assert_eq!(ch.last_pin_timestamp, Some(None));
        let ows = ch.permission_overwrites.expect("overwrites");
        assert_eq!(ows[0].kind, OverwriteType::Role);
        assert_eq!(ows[0].deny, Permissions::SEND_MESSAGES);
        assert_eq!(ows[1].kind, OverwriteType::Member);
    }

    #[test]
    fn guild_voice_channel() {
        let sample = json!({
            "id": "155101607195836416",
            "last_message_id": "174629835082649376",
            "type": 2,
            "name": "ROCKET CHEESE",
            "position": 5,
            "parent_id": null,
            "bitrate": 64000,
            "user_limit": 0,
            "rtc_region": null,
            "guild_id": "41771983423143937",
            "permission_overwrites": [],
            "rate_limit_per_user": 0,
            "nsfw": false,
            "flags": 0
        });
        let ch: Channel = round_trip(sample.clone(), sample);
        assert_eq!(ch.kind, ChannelType::Voice);
        assert_eq!(ch.parent_id, Some(None));
        assert_eq!(ch.bitrate, Some(64000));
    }

    #[test]
    fn folder_channel() {
        let sample = json!({
            "permission_overwrites": [],
            "name": "Test",
            "parent_id": null,
            "nsfw": false,
            "position": 0,
            "guild_id": "290926798629997250",
            "type": 4,
            "id": "399942396007890945",
            "flags": 0
        });
        let ch: Channel = round_trip(sample.clone(), sample);
        assert_eq!(ch.kind, ChannelType::Folder);
        assert_eq!(ch.topic, None, "a folder has no topic key at all");
    }

    #[test]
    fn dm_channel_omits_guild_keys() {
        let sample = json!({
            "last_message_id": "3343820033257021450",
            "type": 1,
            "id": "319674150115610528",
            "flags": 0,
            "recipients": [{
                "id": "82198898841029460",
                "username": "test",
                "discriminator": "0",
                "global_name": "Test",
                "avatar": "33ecab261d4681afa4d85a04691c4a01",
                "banner": null,
                "public_flags": 0,
                "accent_color": null,
                "avatar_decoration_data": null
            }]
        });
        let ch: Channel = round_trip(sample.clone(), sample);
        assert_eq!(ch.kind, ChannelType::Dm);
        assert_eq!(ch.name, None);
        assert_eq!(ch.recipients.map(|r| r.len()), Some(1));
    }

    #[test]
    fn flags_default_to_zero() {
        let ch: Channel =
            serde_json::from_value(json!({"id": "1", "type": 4})).expect("minimal channel");
        assert_eq!(ch.flags, 0);
        assert_eq!(
            serde_json::to_value(&ch).expect("serializes"),
            json!({"id": "1", "type": 4, "flags": 0})
        );
    }

    #[test]
    fn channel_types_round_trip_and_refuse_unknown() {
        for t in ChannelType::ALL {
            let v = serde_json::to_value(t).expect("serializes");
            assert_eq!(v, json!(t.value()));
            assert_eq!(
                serde_json::from_value::<ChannelType>(v).expect("reads back"),
                *t
            );
        }
        for bad in [
            json!(5),
            json!(13),
            json!(15),
            json!(-1),
            json!("0"),
            json!(0.5),
            json!(null),
        ] {
            assert!(
                serde_json::from_value::<ChannelType>(bad.clone()).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn overwrite_type_refuses_unknown() {
        let ow = json!({"id": "1", "type": 2, "allow": "0", "deny": "0"});
        assert!(serde_json::from_value::<PermissionOverwrite>(ow).is_err());
        let ow = json!({"id": "1", "type": 0, "allow": "nope", "deny": "0"});
        assert!(serde_json::from_value::<PermissionOverwrite>(ow).is_err());
    }

    #[test]
    fn overwritable_permissions_by_type() {
        assert!(
            ChannelType::Text
                .overwritable_permissions()
                .contains(Permissions::SEND_MESSAGES)
        );
        assert!(
            !ChannelType::Text
                .overwritable_permissions()
                .contains(Permissions::CONNECT)
        );
        assert!(
            ChannelType::Voice
                .overwritable_permissions()
                .contains(Permissions::CONNECT)
        );
        assert!(
            ChannelType::Folder
                .overwritable_permissions()
                .contains(Permissions::CONNECT)
        );
        assert!(
            !ChannelType::Folder
                .overwritable_permissions()
                .contains(Permissions::KICK_MEMBERS)
        );
        assert!(ChannelType::Dm.overwritable_permissions().is_empty());
    }

    #[test]
    fn timestamps_use_discords_format() {
        let t: Timestamp = serde_json::from_value(json!("2015-04-26T06:26:56.936000+00:00"))
            .expect("discord format");
        assert_eq!(
            serde_json::to_value(t).expect("serializes"),
            json!("2015-04-26T06:26:56.936000+00:00")
        );
        let z: Timestamp =
            serde_json::from_value(json!("2015-04-26T08:26:56.936+02:00")).expect("other offset");
        assert_eq!(z, t);
        let plain: Timestamp =
            serde_json::from_value(json!("2021-01-01T00:00:00Z")).expect("Z suffix");
        assert_eq!(plain.to_string(), "2021-01-01T00:00:00.000000+00:00");
        for bad in [
            json!("yesterday"),
            json!("2021-01-01"),
            json!(1_600_000_000),
        ] {
            assert!(serde_json::from_value::<Timestamp>(bad).is_err());
        }
    }
}
