//! Stored messages as Discord's message objects: authors (users, webhooks, or
//! "Deleted User"), mentioned users, reactions with `me` for the reader, the
//! message a reply points at, and attachments with freshly signed URLs.
//!
//! A page is rendered with a fixed number of store reads whatever its size: one
//! for the mentioned users, one for the replied-to messages, one for reactions.

use std::collections::HashMap;
use std::sync::Arc;

use beep_files::StoredAttachment;
use beep_store::messages::{MessageRecord, ReactionCount};
use beep_store::{DynStore, UserSummary};
use beep_types::v10::channel::Timestamp;
use beep_types::v10::message::{
    Attachment, Embed, MentionedUser, Message, MessageReference, Reaction, ReactionCountDetails,
    message_type,
};
use beep_types::v10::user::PublicUser;
use beep_types::{MessageId, UserId};
use chrono::DateTime;
use serde_json::Value;

use super::emoji;
use crate::error::{Error, Result};
use crate::guilds::convert;

/// Which reactions to load with a set of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionScope {
    /// None (events, which go to many readers at once).
    None,
    /// One range read from the oldest to the newest message: for history pages.
    Range,
    /// One read per message: for scattered messages (pins).
    Each,
}

/// Turns stored messages into wire messages.
#[derive(Clone)]
pub struct Renderer {
    store: DynStore,
    files: beep_files::Files,
    public_url: Arc<str>,
}

impl Renderer {
    /// A renderer reading from `store`, signing attachment URLs under `public_url`.
    pub fn new(store: DynStore, files: beep_files::Files, public_url: String) -> Renderer {
        Renderer {
            store,
            files,
            public_url: public_url.into(),
        }
    }

    /// The file service attachments are signed and stored with.
    pub fn files(&self) -> &beep_files::Files {
        &self.files
    }

    /// One message as `viewer` sees it.
    pub async fn one(
        &self,
        m: &MessageRecord,
        viewer: UserId,
        scope: ReactionScope,
    ) -> Result<Message> {
        let mut v = self.many(std::slice::from_ref(m), viewer, scope).await?;
        v.pop()
            .ok_or_else(|| Error::internal("rendering lost a message"))
    }

    /// Messages (all of one channel) as `viewer` sees them, in the given order.
    pub async fn many(
        &self,
        list: &[MessageRecord],
        viewer: UserId,
        scope: ReactionScope,
    ) -> Result<Vec<Message>> {
        if list.is_empty() {
            return Ok(Vec::new());
        }
        // The messages replied to.
        let wanted: Vec<MessageId> = list
            .iter()
            .filter(|m| m.kind == i64::from(message_type::REPLY))
            .filter_map(|m| m.reference.map(|r| r.message_id))
            .collect();
        let referenced: HashMap<MessageId, MessageRecord> = self
            .store
            .messages_by_ids(&wanted)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        // Everyone mentioned, in the messages and in what they reply to.
        let mut user_ids: Vec<UserId> = list
            .iter()
            .chain(referenced.values())
            .flat_map(|m| m.mention_users.iter().copied())
            .collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let users: HashMap<UserId, UserSummary> = self
            .store
            .user_summaries(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let reactions = self.reactions(list, viewer, scope).await?;

        let mut out = Vec::with_capacity(list.len());
        for m in list {
            let mut msg = self.base(m, &users);
            if m.kind == i64::from(message_type::REPLY) && m.reference.is_some() {
                let target = m
                    .reference
                    .and_then(|r| referenced.get(&r.message_id))
                    .filter(|r| Some(r.channel_id) == m.reference.map(|x| x.channel_id));
                msg.referenced_message = Some(target.map(|r| Box::new(self.base(r, &users))));
            }
            if let Some(list) = reactions.get(&m.id) {
                msg.reactions = Some(list.iter().map(reaction).collect());
            }
            out.push(msg);
        }
        Ok(out)
    }

    /// The reactions of `list`, by message.
    async fn reactions(
        &self,
        list: &[MessageRecord],
        viewer: UserId,
        scope: ReactionScope,
    ) -> Result<HashMap<MessageId, Vec<ReactionCount>>> {
        let Some(first) = list.first() else {
            return Ok(HashMap::new());
        };
        let channel = first.channel_id;
        let counts = match scope {
            ReactionScope::None => Vec::new(),
            ReactionScope::Range => {
                let lo = list.iter().map(|m| m.id).min().unwrap_or(first.id);
                let hi = list.iter().map(|m| m.id).max().unwrap_or(first.id);
                self.store.reaction_counts(channel, lo, hi, viewer).await?
            }
            ReactionScope::Each => {
                let mut all = Vec::new();
                for m in list {
                    all.extend(
                        self.store
                            .reaction_counts(m.channel_id, m.id, m.id, viewer)
                            .await?,
                    );
                }
                all
            }
        };
        let mut by_message: HashMap<MessageId, Vec<ReactionCount>> = HashMap::new();
        for c in counts {
            by_message.entry(c.message_id).or_default().push(c);
        }
        Ok(by_message)
    }

    /// The message without reactions or the message it replies to.
    pub fn base(&self, m: &MessageRecord, users: &HashMap<UserId, UserSummary>) -> Message {
        let mentions = m
            .mention_users
            .iter()
            .filter_map(|id| users.get(id))
            .map(|u| MentionedUser {
                user: convert::user(u),
                member: None,
            })
            .collect();
        let embeds: Vec<Embed> = serde_json::from_str(&m.embeds).unwrap_or_default();
        Message {
            id: m.id,
            channel_id: m.channel_id,
            guild_id: None,
            author: author(m),
            member: None,
            content: m.content.clone(),
            timestamp: Timestamp(
                DateTime::from_timestamp_millis(m.id.0.timestamp_ms() as i64).unwrap_or_default(),
            ),
            edited_timestamp: m.edited_at.map(Timestamp),
            tts: m.tts,
            mention_everyone: m.mention_everyone,
            mentions,
            mention_roles: m.mention_roles.clone(),
            mention_channels: None,
            attachments: self.attachments(&m.attachments),
            embeds,
            reactions: None,
            nonce: None,
            pinned: m.pinned_at.is_some(),
            webhook_id: m.webhook_id,
            kind: u8::try_from(m.kind).unwrap_or(0),
            application_id: m.application_id,
            flags: u64::try_from(m.flags).unwrap_or(0),
            message_reference: m.reference.map(|r| MessageReference {
                kind: 0,
                message_id: Some(r.message_id),
                channel_id: Some(r.channel_id),
                guild_id: r.guild_id,
                fail_if_not_exists: None,
            }),
            referenced_message: None,
            components: Vec::new(),
            avatar_url: m.author_avatar.clone(),
            receipt: None,
        }
    }

    /// Stored attachments with URLs signed now.
    fn attachments(&self, json: &str) -> Vec<Attachment> {
        let stored: Vec<StoredAttachment> = serde_json::from_str(json).unwrap_or_default();
        stored
            .iter()
            .map(|a| {
                let j = self.files.attachment_json(a, &self.public_url);
                Attachment {
                    id: j.id,
                    filename: j.filename,
                    description: j.description,
                    content_type: j.content_type,
                    size: j.size,
                    url: j.url,
                    proxy_url: j.proxy_url,
                    height: j.height,
                    width: j.width,
                }
            })
            .collect()
    }
}

/// A message as its `MESSAGE_CREATE` / `MESSAGE_UPDATE` event carries it:
/// `guild_id`, the author's `member`, and the nonce on creation.
pub fn event_payload(
    mut msg: Message,
    guild: Option<beep_types::GuildId>,
    member: Option<Value>,
) -> Value {
    msg.guild_id = guild;
    let mut v = serde_json::to_value(msg).unwrap_or(Value::Null);
    if let (Value::Object(map), Some(member)) = (&mut v, member) {
        map.insert("member".into(), member);
    }
    v
}

/// The nonce of a new message as the client sent it.
pub fn nonce_value(m: &MessageRecord) -> Option<Value> {
    m.nonce
        .as_deref()
        .and_then(|n| serde_json::from_str(n).ok())
}

/// The author: the user, the webhook under its display name, or a placeholder
/// for an account that no longer exists.
fn author(m: &MessageRecord) -> PublicUser {
    if let Some(w) = m.webhook_id {
        return PublicUser {
            id: UserId(w.0),
            username: m.author_name.clone().unwrap_or_else(|| "Webhook".into()),
            discriminator: "0000".into(),
            global_name: None,
            avatar: None,
            banner: None,
            bot: true,
            system: false,
            public_flags: 0,
            accent_color: None,
            avatar_decoration_data: None,
        };
    }
    match &m.author {
        Some(u) => convert::user(u),
        None => PublicUser {
            id: m.author_id,
            username: "Deleted User".into(),
            discriminator: "0".into(),
            global_name: None,
            avatar: None,
            banner: None,
            bot: false,
            system: false,
            public_flags: 0,
            accent_color: None,
            avatar_decoration_data: None,
        },
    }
}

/// One emoji's reactions.
fn reaction(c: &ReactionCount) -> Reaction {
    Reaction {
        count: c.count,
        count_details: ReactionCountDetails {
            burst: 0,
            normal: c.count,
        },
        me: c.me,
        me_burst: false,
        emoji: emoji::partial(&c.emoji),
        burst_colors: Vec::new(),
    }
}
