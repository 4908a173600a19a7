//! Permission bits with Discord's exact values, and how they travel as JSON.
//!
//! On the wire a permission set is a decimal string (`"2112"`), as Discord sends it
//! since API v8. On input a JSON integer is accepted too while it is exactly
//! representable in an IEEE double (≤ 2^53), like snowflakes. Anything else (signs,
//! blanks, fractions, hex, text) is refused. Bits Beep does not know are dropped on
//! input rather than refused: Discord documents that new bits keep appearing, and a
//! library newer than this server sends "all permissions" with bits we have never
//! heard of. Dropping them is what Discord does with bits it does not grant.
//!
//! The engine that combines roles and overwrites lives in `beep-core`; this module
//! only names the bits and the groups the engine and the validators need.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::snowflake::MAX_SAFE_JSON_INTEGER;

bitflags::bitflags! {
    /// A set of permissions. Values are Discord's
    /// (`docs/topics/permissions#permissions-bitwise-permission-flags`, plus the 2025
    /// change log for `PIN_MESSAGES` and `BYPASS_SLOWMODE`).
    ///
    /// Bits 47 and 48 are used by Discord's own client (a retired AI bot and voice
    /// channel status) but are not documented, so Beep leaves them out.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct Permissions: u64 {
        /// Create invites to a channel.
        const CREATE_INSTANT_INVITE = 1 << 0;
        /// Kick members.
        const KICK_MEMBERS = 1 << 1;
        /// Ban members.
        const BAN_MEMBERS = 1 << 2;
        /// Every permission; bypasses channel overwrites.
        const ADMINISTRATOR = 1 << 3;
        /// Edit and delete channels.
        const MANAGE_CHANNELS = 1 << 4;
        /// Edit the guild.
        const MANAGE_GUILD = 1 << 5;
        /// Add new reactions.
        const ADD_REACTIONS = 1 << 6;
        /// Read the audit log.
        const VIEW_AUDIT_LOG = 1 << 7;
        /// Priority speaker in voice.
        const PRIORITY_SPEAKER = 1 << 8;
        /// Go live (screen share, camera).
        const STREAM = 1 << 9;
        /// See a channel: read text channels, see voice channels.
        const VIEW_CHANNEL = 1 << 10;
        /// Send messages.
        const SEND_MESSAGES = 1 << 11;
        /// Send text-to-speech messages.
        const SEND_TTS_MESSAGES = 1 << 12;
        /// Delete others' messages.
        const MANAGE_MESSAGES = 1 << 13;
        /// Links are embedded.
        const EMBED_LINKS = 1 << 14;
        /// Upload files.
        const ATTACH_FILES = 1 << 15;
        /// Read past messages.
        const READ_MESSAGE_HISTORY = 1 << 16;
        /// Mention `@everyone`, `@here` and every role.
        const MENTION_EVERYONE = 1 << 17;
        /// Use emojis of other guilds.
        const USE_EXTERNAL_EMOJIS = 1 << 18;
        /// See guild insights.
        const VIEW_GUILD_INSIGHTS = 1 << 19;
        /// Join a voice channel.
        const CONNECT = 1 << 20;
        /// Speak in a voice channel.
        const SPEAK = 1 << 21;
        /// Mute others in voice.
        const MUTE_MEMBERS = 1 << 22;
        /// Deafen others in voice.
        const DEAFEN_MEMBERS = 1 << 23;
        /// Move others between voice channels.
        const MOVE_MEMBERS = 1 << 24;
        /// Use voice activity detection (otherwise push-to-talk only).
        const USE_VAD = 1 << 25;
        /// Change one's own nickname.
        const CHANGE_NICKNAME = 1 << 26;
        /// Change others' nicknames.
        const MANAGE_NICKNAMES = 1 << 27;
        /// Manage roles; on a channel, manage its overwrites.
        const MANAGE_ROLES = 1 << 28;
        /// Manage webhooks.
        const MANAGE_WEBHOOKS = 1 << 29;
        /// Edit and delete anyone's emojis, stickers and sounds.
        const MANAGE_GUILD_EXPRESSIONS = 1 << 30;
        /// Use application (slash) commands.
        const USE_APPLICATION_COMMANDS = 1 << 31;
        /// Request to speak in stage channels.
        const REQUEST_TO_SPEAK = 1 << 32;
        /// Edit and delete anyone's scheduled events.
        const MANAGE_EVENTS = 1 << 33;
        /// Delete and archive threads, see private threads.
        const MANAGE_THREADS = 1 << 34;
        /// Create public threads.
        const CREATE_PUBLIC_THREADS = 1 << 35;
        /// Create private threads.
        const CREATE_PRIVATE_THREADS = 1 << 36;
        /// Use stickers of other guilds.
        const USE_EXTERNAL_STICKERS = 1 << 37;
        /// Send messages in threads.
        const SEND_MESSAGES_IN_THREADS = 1 << 38;
        /// Start activities.
        const USE_EMBEDDED_ACTIVITIES = 1 << 39;
        /// Time members out.
        const MODERATE_MEMBERS = 1 << 40;
        /// See role subscription insights.
        const VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41;
        /// Use the soundboard.
        const USE_SOUNDBOARD = 1 << 42;
        /// Create emojis, stickers and sounds; edit one's own.
        const CREATE_GUILD_EXPRESSIONS = 1 << 43;
        /// Create scheduled events; edit one's own.
        const CREATE_EVENTS = 1 << 44;
        /// Use sounds of other guilds.
        const USE_EXTERNAL_SOUNDS = 1 << 45;
        /// Send voice messages.
        const SEND_VOICE_MESSAGES = 1 << 46;
        /// Send polls.
        const SEND_POLLS = 1 << 49;
        /// User-installed apps may answer publicly.
        const USE_EXTERNAL_APPS = 1 << 50;
        /// Pin and unpin messages (split from `MANAGE_MESSAGES` in 2025).
        const PIN_MESSAGES = 1 << 51;
        /// Not subject to slow mode (split from `MANAGE_MESSAGES` in 2025).
        const BYPASS_SLOWMODE = 1 << 52;
    }
}

impl Permissions {
    /// Every permission Beep knows.
    pub const ALL: Permissions = Permissions::all();

    /// No permission at all.
    pub const NONE: Permissions = Permissions::empty();

    /// The `@everyone` role of a new guild: what Discord gives a new guild's
    /// `@everyone` today (`2248473465835073`) less the two undocumented bits 47 and 48.
    /// Notably it includes `MENTION_EVERYONE` and leaves out `SEND_TTS_MESSAGES`, as
    /// Discord does.
    pub const DEFAULT_EVERYONE: Permissions = Permissions::CREATE_INSTANT_INVITE
        .union(Permissions::ADD_REACTIONS)
        .union(Permissions::STREAM)
        .union(Permissions::VIEW_CHANNEL)
        .union(Permissions::SEND_MESSAGES)
        .union(Permissions::EMBED_LINKS)
        .union(Permissions::ATTACH_FILES)
        .union(Permissions::READ_MESSAGE_HISTORY)
        .union(Permissions::MENTION_EVERYONE)
        .union(Permissions::USE_EXTERNAL_EMOJIS)
        .union(Permissions::CONNECT)
        .union(Permissions::SPEAK)
        .union(Permissions::USE_VAD)
        .union(Permissions::CHANGE_NICKNAME)
        .union(Permissions::USE_APPLICATION_COMMANDS)
        .union(Permissions::REQUEST_TO_SPEAK)
        .union(Permissions::CREATE_PUBLIC_THREADS)
        .union(Permissions::CREATE_PRIVATE_THREADS)
        .union(Permissions::USE_EXTERNAL_STICKERS)
        .union(Permissions::SEND_MESSAGES_IN_THREADS)
        .union(Permissions::USE_EMBEDDED_ACTIVITIES)
        .union(Permissions::USE_SOUNDBOARD)
        .union(Permissions::CREATE_GUILD_EXPRESSIONS)
        .union(Permissions::CREATE_EVENTS)
        .union(Permissions::USE_EXTERNAL_SOUNDS)
        .union(Permissions::SEND_VOICE_MESSAGES)
        .union(Permissions::SEND_POLLS)
        .union(Permissions::USE_EXTERNAL_APPS);

    /// Bits that mean something on a text channel (Discord's "T" column), and so
    /// may appear in its overwrites.
    pub const CHANNEL_TEXT: Permissions = Permissions::CREATE_INSTANT_INVITE
        .union(Permissions::MANAGE_CHANNELS)
        .union(Permissions::ADD_REACTIONS)
        .union(Permissions::VIEW_CHANNEL)
        .union(Permissions::SEND_MESSAGES)
        .union(Permissions::SEND_TTS_MESSAGES)
        .union(Permissions::MANAGE_MESSAGES)
        .union(Permissions::EMBED_LINKS)
        .union(Permissions::ATTACH_FILES)
        .union(Permissions::READ_MESSAGE_HISTORY)
        .union(Permissions::MENTION_EVERYONE)
        .union(Permissions::USE_EXTERNAL_EMOJIS)
        .union(Permissions::MANAGE_ROLES)
        .union(Permissions::MANAGE_WEBHOOKS)
        .union(Permissions::USE_APPLICATION_COMMANDS)
        .union(Permissions::MANAGE_THREADS)
        .union(Permissions::CREATE_PUBLIC_THREADS)
        .union(Permissions::CREATE_PRIVATE_THREADS)
        .union(Permissions::USE_EXTERNAL_STICKERS)
        .union(Permissions::SEND_MESSAGES_IN_THREADS)
        .union(Permissions::USE_EMBEDDED_ACTIVITIES)
        .union(Permissions::SEND_VOICE_MESSAGES)
        .union(Permissions::SEND_POLLS)
        .union(Permissions::USE_EXTERNAL_APPS)
        .union(Permissions::PIN_MESSAGES)
        .union(Permissions::BYPASS_SLOWMODE);

    /// Bits that mean something on a voice channel (Discord's "V" column). Voice
    /// channels carry a text chat, so most message bits are here too.
    pub const CHANNEL_VOICE: Permissions = Permissions::CREATE_INSTANT_INVITE
        .union(Permissions::MANAGE_CHANNELS)
        .union(Permissions::ADD_REACTIONS)
        .union(Permissions::PRIORITY_SPEAKER)
        .union(Permissions::STREAM)
        .union(Permissions::VIEW_CHANNEL)
        .union(Permissions::SEND_MESSAGES)
        .union(Permissions::SEND_TTS_MESSAGES)
        .union(Permissions::MANAGE_MESSAGES)
        .union(Permissions::EMBED_LINKS)
        .union(Permissions::ATTACH_FILES)
        .union(Permissions::READ_MESSAGE_HISTORY)
        .union(Permissions::MENTION_EVERYONE)
        .union(Permissions::USE_EXTERNAL_EMOJIS)
        .union(Permissions::CONNECT)
        .union(Permissions::SPEAK)
        .union(Permissions::MUTE_MEMBERS)
        .union(Permissions::DEAFEN_MEMBERS)
        .union(Permissions::MOVE_MEMBERS)
        .union(Permissions::USE_VAD)
        .union(Permissions::MANAGE_ROLES)
        .union(Permissions::MANAGE_WEBHOOKS)
        .union(Permissions::USE_APPLICATION_COMMANDS)
        .union(Permissions::MANAGE_EVENTS)
        .union(Permissions::USE_EXTERNAL_STICKERS)
        .union(Permissions::USE_EMBEDDED_ACTIVITIES)
        .union(Permissions::USE_SOUNDBOARD)
        .union(Permissions::CREATE_EVENTS)
        .union(Permissions::USE_EXTERNAL_SOUNDS)
        .union(Permissions::SEND_VOICE_MESSAGES)
        .union(Permissions::SEND_POLLS)
        .union(Permissions::USE_EXTERNAL_APPS)
        .union(Permissions::PIN_MESSAGES)
        .union(Permissions::BYPASS_SLOWMODE);

    /// Bits that mean something on a folder (Discord's category). A folder's
    /// overwrites are copied to the channels synced with it, so anything a text or
    /// voice channel accepts is accepted on a folder.
    pub const CHANNEL_FOLDER: Permissions =
        Permissions::CHANNEL_TEXT.union(Permissions::CHANNEL_VOICE);

    /// Bits that only make sense guild-wide and never in a channel overwrite
    /// (kick, ban, administrator, manage guild, nicknames, audit log, ...).
    /// `REQUEST_TO_SPEAK` is here as well because Beep has no stage channels.
    pub const GUILD_ONLY: Permissions = Permissions::ALL.difference(Permissions::CHANNEL_FOLDER);

    /// What a missing `SEND_MESSAGES` implicitly takes away (Discord's "implicit
    /// permissions").
    pub const SEND_DEPENDENT: Permissions = Permissions::MENTION_EVERYONE
        .union(Permissions::SEND_TTS_MESSAGES)
        .union(Permissions::ATTACH_FILES)
        .union(Permissions::EMBED_LINKS);

    /// What a timed-out member keeps.
    pub const TIMEOUT_KEPT: Permissions =
        Permissions::VIEW_CHANNEL.union(Permissions::READ_MESSAGE_HISTORY);

    /// Bits that need the acting account to have two-factor authentication in a
    /// guild that requires it (Discord's asterisk).
    pub const REQUIRES_MFA: Permissions = Permissions::KICK_MEMBERS
        .union(Permissions::BAN_MEMBERS)
        .union(Permissions::ADMINISTRATOR)
        .union(Permissions::MANAGE_CHANNELS)
        .union(Permissions::MANAGE_GUILD)
        .union(Permissions::MANAGE_MESSAGES)
        .union(Permissions::MANAGE_ROLES)
        .union(Permissions::MANAGE_WEBHOOKS)
        .union(Permissions::MANAGE_GUILD_EXPRESSIONS)
        .union(Permissions::MANAGE_THREADS)
        .union(Permissions::VIEW_CREATOR_MONETIZATION_ANALYTICS);

    /// Whether the set grants administrator, which implies every other bit.
    pub const fn is_admin(self) -> bool {
        self.contains(Permissions::ADMINISTRATOR)
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("Permissions(NONE)");
        }
        f.write_str("Permissions(")?;
        bitflags::parser::to_writer(self, &mut *f)?;
        f.write_str(")")
    }
}

/// Decimal, as on the wire.
impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.bits(), f)
    }
}

/// Why a text could not be read as a permission set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionsParseError(pub String);

impl fmt::Display for PermissionsParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value \"{}\" is not a valid permission set.", self.0)
    }
}

impl std::error::Error for PermissionsParseError {}

impl FromStr for Permissions {
    type Err = PermissionsParseError;

    /// Plain decimal digits only, fitting 64 bits; unknown bits are dropped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || PermissionsParseError(s.chars().take(32).collect());
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(shown());
        }
        s.parse::<u64>()
            .map(Permissions::from_bits_truncate)
            .map_err(|_| shown())
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.bits())
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Permissions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission set as a string of decimal digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Permissions, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Permissions, E> {
                if v > MAX_SAFE_JSON_INTEGER {
                    return Err(E::custom(format!(
                        "Value \"{v}\" is not a valid permission set: integers above 2^53 must be sent as strings."
                    )));
                }
                Ok(Permissions::from_bits_truncate(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Permissions, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(PermissionsParseError(v.to_string()))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Permissions, E> {
                Err(E::custom(PermissionsParseError(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

impl utoipa::PartialSchema for Permissions {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{1,20}$"))
            .description(Some("Permission bit set as a decimal string"))
            .into()
    }
}

impl utoipa::ToSchema for Permissions {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Permissions, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn bit_values_match_discord() {
        assert_eq!(Permissions::CREATE_INSTANT_INVITE.bits(), 0x1);
        assert_eq!(Permissions::ADMINISTRATOR.bits(), 0x8);
        assert_eq!(Permissions::VIEW_CHANNEL.bits(), 0x400);
        assert_eq!(Permissions::SEND_MESSAGES.bits(), 0x800);
        assert_eq!(Permissions::MANAGE_ROLES.bits(), 0x1000_0000);
        assert_eq!(Permissions::USE_APPLICATION_COMMANDS.bits(), 0x8000_0000);
        assert_eq!(Permissions::MODERATE_MEMBERS.bits(), 0x100_0000_0000);
        assert_eq!(Permissions::SEND_VOICE_MESSAGES.bits(), 0x4000_0000_0000);
        assert_eq!(Permissions::SEND_POLLS.bits(), 0x2_0000_0000_0000);
        assert_eq!(Permissions::USE_EXTERNAL_APPS.bits(), 0x4_0000_0000_0000);
        assert_eq!(Permissions::PIN_MESSAGES.bits(), 1 << 51);
        assert_eq!(Permissions::BYPASS_SLOWMODE.bits(), 1 << 52);
        // Bits 0..=46 and 49..=52, nothing else.
        assert_eq!(Permissions::ALL.bits(), ((1u64 << 47) - 1) | (0xF << 49));
    }

    #[test]
    fn default_everyone_is_discords_without_undocumented_bits() {
        let discord = 2_248_473_465_835_073u64;
        let undocumented = (1u64 << 47) | (1 << 48);
        assert_eq!(
            Permissions::DEFAULT_EVERYONE.bits(),
            discord & !undocumented
        );
        assert!(!Permissions::DEFAULT_EVERYONE.intersects(Permissions::REQUIRES_MFA));
        assert!(!Permissions::DEFAULT_EVERYONE.contains(Permissions::SEND_TTS_MESSAGES));
    }

    #[test]
    fn groups_cover_everything() {
        assert_eq!(
            Permissions::CHANNEL_FOLDER | Permissions::GUILD_ONLY,
            Permissions::ALL
        );
        assert!(!Permissions::CHANNEL_FOLDER.intersects(Permissions::GUILD_ONLY));
        assert!(Permissions::GUILD_ONLY.contains(
            Permissions::ADMINISTRATOR | Permissions::KICK_MEMBERS | Permissions::BAN_MEMBERS
        ));
        assert!(Permissions::CHANNEL_TEXT.contains(Permissions::SEND_DEPENDENT));
        assert!(!Permissions::CHANNEL_TEXT.contains(Permissions::CONNECT));
        assert!(Permissions::CHANNEL_VOICE.contains(Permissions::CONNECT | Permissions::SPEAK));
    }

    #[test]
    fn serializes_as_decimal_string() {
        let p = Permissions::ADD_REACTIONS | Permissions::SEND_MESSAGES;
        assert_eq!(serde_json::to_string(&p).expect("serialize"), "\"2112\"");
        assert_eq!(
            serde_json::to_string(&Permissions::NONE).expect("serialize"),
            "\"0\""
        );
        assert_eq!(p.to_string(), "2112");
    }

    #[test]
    fn accepts_strings_and_safe_integers() {
        assert_eq!(
            parse("\"2112\"").expect("string"),
            Permissions::ADD_REACTIONS | Permissions::SEND_MESSAGES
        );
        assert_eq!(
            parse("2112").expect("integer"),
            Permissions::ADD_REACTIONS | Permissions::SEND_MESSAGES
        );
        assert_eq!(parse("\"0\"").expect("zero"), Permissions::NONE);
        let all = Permissions::ALL.bits().to_string();
        assert_eq!(parse(&format!("\"{all}\"")).expect("all"), Permissions::ALL);
    }

    #[test]
    fn drops_unknown_bits() {
        assert_eq!(
            parse("\"18446744073709551615\"").expect("u64::MAX"),
            Permissions::ALL
        );
        assert_eq!(
            parse(&format!("\"{}\"", 1u64 << 47)).expect("bit 47"),
            Permissions::NONE
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "\"\"",
            "\"-1\"",
            "\"+1\"",
            "\" 1\"",
            "\"0x10\"",
            "\"1.5\"",
            "\"abc\"",
            "\"18446744073709551616\"",
            "-1",
            "1.5",
            "9007199254740993",
            "true",
            "null",
            "[]",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn debug_names_bits() {
        let p = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES;
        assert_eq!(
            format!("{p:?}"),
            "Permissions(VIEW_CHANNEL | SEND_MESSAGES)"
        );
        assert_eq!(format!("{:?}", Permissions::NONE), "Permissions(NONE)");
    }
}
