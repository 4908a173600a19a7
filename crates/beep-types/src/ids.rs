//! ID newtypes, so a `UserId` can never be passed where a `GuildId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::snowflake::{Snowflake, SnowflakeParseError};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub Snowflake);

        impl $name {
            /// The raw 64-bit value.
            pub fn get(self) -> u64 { self.0.0 }
            /// As stored in a signed BIGINT column.
            pub fn as_i64(self) -> i64 { self.0.as_i64() }
            /// From a signed BIGINT column.
            pub fn from_i64(v: i64) -> Self { Self(Snowflake::from_i64(v)) }
        }

        impl From<Snowflake> for $name {
            fn from(s: Snowflake) -> Self { Self(s) }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { fmt::Display::fmt(&self.0, f) }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = SnowflakeParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { s.parse().map(Self) }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { self.0.serialize(s) }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Snowflake::deserialize(d).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some("^[0-9]{1,19}$"))
                    .description(Some("Snowflake ID as a decimal string"))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

id_type! {
    /// A user (people and bots alike).
    UserId;
    /// A guild ("server" in Beep's own words).
    GuildId;
    /// A channel of any type, including direct conversations.
    ChannelId;
    /// A message.
    MessageId;
    /// A role; a guild's `@everyone` role shares the guild's id.
    RoleId;
    /// A login session (one device).
    SessionId;
    /// A webhook.
    WebhookId;
    /// An application (bot owner record).
    ApplicationId;
    /// An attachment.
    AttachmentId;
    /// A custom emoji.
    EmojiId;
}
