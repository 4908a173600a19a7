//! Message objects as Discord v10 sends them, and the bodies of the message,
//! reaction, webhook, read-state and application endpoints.
//!
//! The shapes follow Discord's documentation of the message, reaction, webhook
//! and application resources, and what discord.py and discord.js read. Keys
//! Discord always sends (even as `null` or `[]`) are plain fields here; keys it
//! leaves out in some answers are `Option`s skipped when `None`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::v10::channel::{ChannelType, Timestamp, double_option};
use crate::v10::guild::Member;
use crate::v10::user::PublicUser;
use crate::{
    ApplicationId, AttachmentId, ChannelId, EmojiId, GuildId, MessageId, RoleId, UserId, WebhookId,
};

/// Message type numbers Beep produces (Discord's numbering).
pub mod message_type {
    /// An ordinary message.
    pub const DEFAULT: u8 = 0;
    /// "X pinned a message to this channel" (`CHANNEL_PINNED_MESSAGE`).
    pub const CHANNEL_PINNED_MESSAGE: u8 = 6;
    /// A reply (`REPLY`).
    pub const REPLY: u8 = 19;
}

/// Message flag bits (Discord's numbering) Beep understands.
pub mod message_flags {
    /// Embeds are not shown (`SUPPRESS_EMBEDS`).
    pub const SUPPRESS_EMBEDS: u64 = 1 << 2;
    /// No push or desktop notification (`SUPPRESS_NOTIFICATIONS`).
    pub const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
    /// Flags a client may set when sending.
    pub const SETTABLE_ON_CREATE: u64 = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS;
    /// Flags the author may change when editing.
    pub const SETTABLE_ON_EDIT: u64 = SUPPRESS_EMBEDS;
}

/// A message (Discord's message object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// Only in gateway events of guild messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// The author; for a webhook message, the webhook's name and avatar under its id.
    pub author: PublicUser,
    /// The author as a member, without `user`; only in gateway events of guild messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    pub content: String,
    pub timestamp: Timestamp,
    pub edited_timestamp: Option<Timestamp>,
    pub tts: bool,
    pub mention_everyone: bool,
    pub mentions: Vec<MentionedUser>,
    pub mention_roles: Vec<RoleId>,
    /// Channels of the same guild mentioned with `<#id>` that everyone in it can see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention_channels: Option<Vec<ChannelMention>>,
    pub attachments: Vec<Attachment>,
    pub embeds: Vec<Embed>,
    /// Left out when the message has no reaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<Reaction>>,
    /// Echoed in the answer to the send and in `MESSAGE_CREATE` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub nonce: Option<Value>,
    pub pinned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<WebhookId>,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    #[serde(default)]
    pub flags: u64,
    /// What a reply or a pin notice points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    /// For replies: the message replied to, `null` when it was deleted. Left out
    /// for other messages.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[schema(value_type = Option<Object>)]
    pub referenced_message: Option<Option<Box<Message>>>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<Value>,
    /// Beep extension: the avatar URL a webhook execution gave, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Beep extension, messages of DMs and groups only: `sent`, `delivered`
    /// (it reached a live gateway session of every other recipient) or `read`
    /// (every other recipient read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// A user mentioned in a message; in gateway events of guild messages it carries
/// the partial member, as on Discord.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MentionedUser {
    #[serde(flatten)]
    pub user: PublicUser,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
}

/// A channel mentioned in a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelMention {
    pub id: ChannelId,
    pub guild_id: GuildId,
    #[serde(rename = "type")]
    pub kind: ChannelType,
    pub name: String,
}

/// A file attached to a message, with URLs signed for the reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: AttachmentId,
    pub filename: String,
    /// Alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The media type sniffed from the bytes.
    pub content_type: String,
    pub size: u64,
    /// A signed URL that expires.
    pub url: String,
    pub proxy_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
}

/// Rich content shown under a message (Discord's embed object). Every text has
/// Discord's length limit, checked by the message service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Always `rich` for embeds sent by clients.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<EmbedProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<EmbedField>>,
}

/// The footer of an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedFooter {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_icon_url: Option<String>,
}

/// An image, thumbnail or video of an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedMedia {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
}

/// The provider of an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The author of an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedAuthor {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_icon_url: Option<String>,
}

/// A field of an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

/// An emoji as reactions carry it: a unicode emoji has no id; a custom one has
/// its id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartialEmoji {
    pub id: Option<EmojiId>,
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub animated: bool,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    /// Everyone who reacted with this emoji.
    pub count: u32,
    pub count_details: ReactionCountDetails,
    /// Whether the asking user is among them.
    pub me: bool,
    /// Beep has no super reactions: always false.
    pub me_burst: bool,
    pub emoji: PartialEmoji,
    pub burst_colors: Vec<String>,
}

/// Normal and super reaction counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReactionCountDetails {
    pub burst: u32,
    pub normal: u32,
}

/// What a message points at: the message replied to, or the message pinned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageReference {
    /// 0 (`DEFAULT`, a reply) is the only type Beep makes.
    #[serde(rename = "type", default)]
    pub kind: u8,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt"
    )]
    pub message_id: Option<MessageId>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt"
    )]
    pub channel_id: Option<ChannelId>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt"
    )]
    pub guild_id: Option<GuildId>,
    /// On input: refuse the send when the message does not exist (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_if_not_exists: Option<bool>,
}

/// Which mentions in the content really mention (Discord's allowed mentions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AllowedMentions {
    /// Kinds parsed from the content: `users`, `roles`, `everyone`.
    #[serde(default)]
    pub parse: Option<Vec<String>>,
    /// Users that may be mentioned (at most 100); exclusive with `users` in `parse`.
    #[serde(default, deserialize_with = "lenient::opt_vec")]
    pub users: Option<Vec<UserId>>,
    /// Roles that may be mentioned (at most 100); exclusive with `roles` in `parse`.
    #[serde(default, deserialize_with = "lenient::opt_vec")]
    pub roles: Option<Vec<RoleId>>,
    /// For replies: whether the author of the message replied to is mentioned.
    #[serde(default)]
    pub replied_user: Option<bool>,
}

/// `POST /channels/{id}/messages`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct CreateMessage {
    #[serde(default)]
    pub content: Option<String>,
    /// A string or an integer, echoed back; at most 25 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub nonce: Option<Value>,
    /// With a nonce: a repeated nonce from the same author in the same channel
    /// within a few minutes returns the first message instead of a new one.
    #[serde(default)]
    pub enforce_nonce: Option<bool>,
    #[serde(default)]
    pub tts: Option<bool>,
    #[serde(default)]
    pub embeds: Option<Vec<Embed>>,
    /// The older single-embed form.
    #[serde(default)]
    pub embed: Option<Embed>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    #[serde(default)]
    pub message_reference: Option<MessageReference>,
    #[serde(default)]
    pub flags: Option<u64>,
    /// Accepted and ignored: Beep has no components, stickers or polls yet.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub components: Option<Vec<Value>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub sticker_ids: Option<Vec<Value>>,
    /// Attachment metadata; uploads are not available yet, so any entry is refused.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub attachments: Option<Vec<Value>>,
}

/// `PATCH /channels/{id}/messages/{id}`; an absent key is left alone, `null` clears.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct EditMessage {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub content: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Vec<Embed>>)]
    pub embeds: Option<Option<Vec<Embed>>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Embed>)]
    pub embed: Option<Option<Embed>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<u64>)]
    pub flags: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<AllowedMentions>)]
    pub allowed_mentions: Option<Option<AllowedMentions>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub components: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub attachments: Option<Value>,
}

/// `POST /channels/{id}/messages/bulk-delete`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct BulkDelete {
    #[serde(deserialize_with = "lenient::vec")]
    #[schema(value_type = Vec<String>)]
    pub messages: Vec<MessageId>,
}

/// `POST /channels/{id}/messages/{id}/ack`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct Ack {
    /// Accepted for compatibility with Discord's client; unused.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub token: Option<Value>,
    /// A manual "mark unread": the read position moves back to this message.
    #[serde(default)]
    pub manual: Option<bool>,
}

/// The answer to an ack (Discord's client expects a `token` key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AckToken {
    pub token: Option<String>,
}

/// How far a user has read one channel (`GET /users/@me/read-states`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadState {
    /// The channel.
    pub id: ChannelId,
    /// The last message read.
    pub last_message_id: Option<MessageId>,
    /// Messages after it that mention the user, a role of theirs, `@everyone` or `@here`.
    pub mention_count: u32,
    /// Beep extension: messages after it, counted up to 1000 (1000 means "1000 or more").
    pub unread_count: u32,
    /// Beep extension: the newest message of the channel.
    pub channel_last_message_id: Option<MessageId>,
    pub last_pin_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub flags: u32,
}

/// A webhook (Discord's webhook object). Beep has incoming webhooks (type 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    #[serde(rename = "type")]
    pub kind: u8,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    /// Who created it; left out when the webhook is read with its token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PublicUser>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    /// Only shown to those who may manage the channel's webhooks (and to the token holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub application_id: Option<ApplicationId>,
    /// The execution URL, when the token is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `POST /channels/{id}/webhooks`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct CreateWebhook {
    pub name: String,
    /// Image data URI; not stored until file uploads exist (see README).
    #[serde(default)]
    pub avatar: Option<String>,
}

/// `PATCH /webhooks/{id}` and `PATCH /webhooks/{id}/{token}` (which may not move it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct EditWebhook {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar: Option<Option<String>>,
    /// Move the webhook to another channel of the same guild.
    #[serde(default, deserialize_with = "lenient::opt")]
    pub channel_id: Option<ChannelId>,
}

/// `POST /webhooks/{id}/{token}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct ExecuteWebhook {
    #[serde(default)]
    pub content: Option<String>,
    /// Overrides the webhook's name for this message.
    #[serde(default)]
    pub username: Option<String>,
    /// Overrides the webhook's avatar for this message.
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub tts: Option<bool>,
    #[serde(default)]
    pub embeds: Option<Vec<Embed>>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    #[serde(default)]
    pub flags: Option<u64>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub components: Option<Vec<Value>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub attachments: Option<Vec<Value>>,
    #[serde(default)]
    pub thread_name: Option<String>,
}

/// An application (Discord's application object), owner of a bot user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Application {
    /// Also the id of its bot user.
    pub id: ApplicationId,
    pub name: String,
    pub icon: Option<String>,
    pub description: String,
    pub rpc_origins: Vec<String>,
    pub bot_public: bool,
    pub bot_require_code_grant: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<PublicUser>,
    pub terms_of_service_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub owner: PublicUser,
    /// Hex key; Beep signs no interactions yet, so it is only an identifier.
    pub verify_key: String,
    pub team: Option<Value>,
    pub flags: u64,
    pub summary: String,
    pub hook: bool,
    pub approximate_guild_count: u64,
    pub redirect_uris: Vec<String>,
    pub interactions_endpoint_url: Option<String>,
    pub tags: Vec<String>,
}

/// `POST /applications` (a Beep extension: Discord creates them in its portal).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct CreateApplication {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Whether anyone with Manage Server may add the bot (default true).
    #[serde(default)]
    pub bot_public: Option<bool>,
}

/// `PATCH /applications/@me` and `PATCH /applications/{id}`: what may be changed
/// (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, ToSchema)]
pub struct EditApplication {
    /// The gateway intent flags (`GATEWAY_PRESENCE` 1<<12, `_LIMITED` 1<<13,
    /// `GATEWAY_GUILD_MEMBERS` 1<<14, `_LIMITED` 1<<15, `GATEWAY_MESSAGE_CONTENT`
    /// 1<<18, `_LIMITED` 1<<19); other flags of the application stay as they are.
    #[serde(default)]
    pub flags: Option<u64>,
}

/// The answer to `POST /applications/{id}/bot/reset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BotToken {
    pub token: String,
}

/// `POST /oauth2/authorize` with `scope=bot`: add the application's bot to a guild.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct AuthorizeBot {
    pub guild_id: GuildId,
    /// The permissions of the bot's managed role.
    #[serde(default)]
    pub permissions: Option<crate::Permissions>,
    pub authorize: bool,
}

/// The answer to an authorize call (Discord's `{"location": ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuthorizeResult {
    pub location: String,
}

/// Ids that Discord's libraries send as JSON integers. discord.py writes the ids
/// of `message_reference`, `allowed_mentions` and bulk deletes as Python ints,
/// exact at any size, and Discord accepts them; so these fields take a decimal
/// string or any non-negative integer that fits 63 bits, where other ids keep
/// the stricter rule of [`crate::snowflake`].
pub mod lenient {
    use std::fmt;

    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    use crate::Snowflake;

    /// One id as a string or an integer.
    pub struct LenientId<T>(pub T);

    impl<'de, T: From<Snowflake>> Deserialize<'de> for LenientId<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Snowflake;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a snowflake as a string or an integer")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                    v.parse().map_err(E::custom)
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                    if v <= i64::MAX as u64 {
                        Ok(Snowflake(v))
                    } else {
                        Err(E::custom(format!("Value \"{v}\" is not snowflake.")))
                    }
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                    u64::try_from(v)
                        .map(Snowflake)
                        .map_err(|_| E::custom(format!("Value \"{v}\" is not snowflake.")))
                }
            }
            d.deserialize_any(V).map(|s| LenientId(T::from(s)))
        }
    }

    /// An optional id.
    pub fn opt<'de, D: Deserializer<'de>, T: From<Snowflake>>(d: D) -> Result<Option<T>, D::Error> {
        Ok(Option::<LenientId<T>>::deserialize(d)?.map(|l| l.0))
    }

    /// A list of ids.
    pub fn vec<'de, D: Deserializer<'de>, T: From<Snowflake>>(d: D) -> Result<Vec<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: From<Snowflake>> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of snowflakes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(LenientId(id)) = seq.next_element::<LenientId<T>>()? {
                    out.push(id);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }

    /// An optional list of ids.
    pub fn opt_vec<'de, D: Deserializer<'de>, T: From<Snowflake>>(
        d: D,
    ) -> Result<Option<Vec<T>>, D::Error> {
        Ok(Option::<Vec<LenientId<T>>>::deserialize(d)?
            .map(|v| v.into_iter().map(|l| l.0).collect()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn author() -> PublicUser {
        PublicUser {
            id: UserId::from_i64(2),
            username: "alice".into(),
            discriminator: "0".into(),
            global_name: None,
            avatar: None,
            banner: None,
            bot: false,
            system: false,
            public_flags: 0,
            accent_color: None,
            avatar_decoration_data: None,
        }
    }

    fn message() -> Message {
        Message {
            id: MessageId::from_i64(10),
            channel_id: ChannelId::from_i64(3),
            guild_id: None,
            author: author(),
            member: None,
            content: "hi".into(),
            timestamp: Timestamp(
                chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            ),
            edited_timestamp: None,
            tts: false,
            mention_everyone: false,
            mentions: vec![],
            mention_roles: vec![],
            mention_channels: None,
            attachments: vec![],
            embeds: vec![],
            reactions: None,
            nonce: None,
            pinned: false,
            webhook_id: None,
            kind: message_type::DEFAULT,
            application_id: None,
            flags: 0,
            message_reference: None,
            referenced_message: None,
            components: vec![],
            avatar_url: None,
            receipt: None,
        }
    }

    #[test]
    fn plain_message_has_discords_keys() {
        let v = serde_json::to_value(message()).expect("serializes");
        for key in [
            "id",
            "channel_id",
            "author",
            "content",
            "timestamp",
            "edited_timestamp",
            "tts",
            "mention_everyone",
            "mentions",
            "mention_roles",
            "attachments",
            "embeds",
            "pinned",
            "type",
            "flags",
            "components",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        for key in [
            "guild_id",
            "member",
            "reactions",
            "nonce",
            "webhook_id",
            "referenced_message",
        ] {
            assert!(v.get(key).is_none(), "unexpected {key} in {v}");
        }
        assert_eq!(v["id"], "10");
        assert_eq!(v["edited_timestamp"], json!(null));
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20.000000+00:00");
    }

    #[test]
    fn deleted_reply_target_is_null_not_absent() {
        let mut m = message();
        m.kind = message_type::REPLY;
        m.referenced_message = Some(None);
        let v = serde_json::to_value(m).expect("serializes");
        assert_eq!(v["referenced_message"], json!(null));
        assert_eq!(v["type"], 19);
    }

    #[test]
    fn create_body_reads_string_or_integer_nonces() {
        let b: CreateMessage =
            serde_json::from_value(json!({"content": "x", "nonce": 123, "enforce_nonce": true}))
                .expect("parses");
        assert_eq!(b.nonce, Some(json!(123)));
        let b: CreateMessage = serde_json::from_value(json!({"nonce": "abc"})).expect("parses");
        assert_eq!(b.nonce, Some(json!("abc")));
    }

    #[test]
    fn library_integer_ids_are_read_exactly() {
        let big = 1_574_427_240_706_342_912u64;
        let r: MessageReference =
            serde_json::from_value(json!({"message_id": big, "channel_id": "5"})).expect("parses");
        assert_eq!(r.message_id, Some(MessageId::from_i64(big as i64)));
        let b: BulkDelete =
            serde_json::from_value(json!({"messages": [big, "7"]})).expect("parses");
        assert_eq!(b.messages.len(), 2);
        let a: AllowedMentions = serde_json::from_value(json!({"users": [big]})).expect("parses");
        assert_eq!(a.users.map(|u| u.len()), Some(1));
        assert!(serde_json::from_value::<MessageReference>(json!({"message_id": -1})).is_err());
        assert!(
            serde_json::from_value::<MessageReference>(json!({"message_id": u64::MAX})).is_err()
        );
        assert!(serde_json::from_value::<MessageReference>(json!({"message_id": 1.5})).is_err());
        assert!(serde_json::from_value::<MessageReference>(json!({"message_id": "x"})).is_err());
    }

    #[test]
    fn edit_body_tells_null_from_absent() {
        let b: EditMessage = serde_json::from_value(json!({"content": null})).expect("parses");
        assert_eq!(b.content, Some(None));
        let b: EditMessage = serde_json::from_value(json!({})).expect("parses");
        assert_eq!(b.content, None);
    }

    #[test]
    fn unicode_reaction_emoji_has_null_id() {
        let r = Reaction {
            count: 1,
            count_details: ReactionCountDetails {
                burst: 0,
                normal: 1,
            },
            me: true,
            me_burst: false,
            emoji: PartialEmoji {
                id: None,
                name: Some("🔥".into()),
                animated: false,
            },
            burst_colors: vec![],
        };
        let v = serde_json::to_value(r).expect("serializes");
        assert_eq!(v["emoji"], json!({"id": null, "name": "🔥"}));
        assert_eq!(v["count_details"], json!({"burst": 0, "normal": 1}));
    }
}
