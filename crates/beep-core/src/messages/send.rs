//! Sending: the checks of `POST /channels/{id}/messages` (permissions, content,
//! embeds, attachments, replies, mentions, slow mode, nonce replays), and the
//! pieces the webhook service shares (mention resolution, the insert and its
//! event).

use std::time::Duration;

use beep_files::StoredAttachment;
use beep_store::RoleRecord;
use beep_store::messages::{MentionSet, MessageRecord, MessageRef, NewMessage};
use beep_types::v10::message::{CreateMessage, Embed, Message, message_type};
use beep_types::{
    ChannelId, ErrorCode, GuildId, Intents, MessageId, Permissions, RoleId, Snowflake, UserId,
    WebhookId,
};
use serde_json::Value;

use super::mentions::{self, Allowed};
use super::render::{self, ReactionScope};
use super::{Access, Messages, access, content, publish_to};
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;
use crate::ratelimit::{Quota, Scope};

/// A message to send: the JSON body, and files already stored from a
/// `multipart/form-data` request (`files[n]`, by `n`).
#[derive(Debug, Default)]
pub struct NewMessageInput {
    pub body: CreateMessage,
    pub files: Vec<(usize, StoredAttachment)>,
}

/// Who a new message is from.
#[derive(Debug, Clone)]
pub enum Sender {
    User(UserId),
    /// A webhook, under this name and avatar URL for this message.
    Webhook {
        id: WebhookId,
        name: String,
        avatar_url: Option<String>,
    },
}

/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Where two-step uploads sort among the multipart files (after them, in order).
const UPLOADS_AFTER: usize = 1 << 20;
/// Longest attachment description (alt text).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// The mention-relevant facts about where a message is sent.
pub(crate) struct MentionContext<'a> {
    /// `None` in a private channel (no roles, no `@everyone`).
    pub guild: Option<GuildId>,
    pub roles: &'a [RoleRecord],
    /// The sender may mention `@everyone`, `@here` and unmentionable roles.
    pub mention_everyone: bool,
    pub sender: Option<UserId>,
}

impl Messages {
    /// Fail early, before a multipart body is read, when `me` may not post files
    /// in `channel`.
    pub async fn check_can_attach(&self, me: &Principal, channel: ChannelId) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::SEND_MESSAGES | Permissions::ATTACH_FILES)
    }

    /// `POST /channels/{id}/messages`. A replayed nonce (with `enforce_nonce`)
    /// returns the first message and publishes nothing.
    pub async fn create(
        &self,
        me: &Principal,
        channel: ChannelId,
        input: NewMessageInput,
    ) -> Result<Message> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::SEND_MESSAGES)?;
        // A block either way closes a DM to new messages.
        if let Some(peer) = access.dm_peer()
            && self.store.is_blocked(me.user_id, peer).await?
        {
            return Err(Error::new(ErrorCode::CannotSendToUser));
        }
        let body = input.body;

        let mut p = Problems::new();
        let text = content::content(&mut p, body.content.as_deref()).unwrap_or_default();
        let nonce = content::nonce(&mut p, body.nonce.as_ref());
        let mut list: Vec<Embed> = body.embeds.unwrap_or_default();
        list.extend(body.embed);
        let embeds = content::embeds(&mut p, list);
        let flags = content::flags(&mut p, body.flags, content::CREATE_FLAGS).unwrap_or(0);
        p.finish()?;
        let allowed = mentions::allowed(body.allowed_mentions.as_ref())?;
        if !embeds.is_empty() {
            access.require(Permissions::EMBED_LINKS)?;
        }
        let uploads = body.attachments.as_deref().unwrap_or_default();
        if !input.files.is_empty() || uploads.iter().any(|e| e.get("uploaded_filename").is_some()) {
            access.require(Permissions::ATTACH_FILES)?;
        }
        let mut p = Problems::new();
        let attachments = self
            .attachments(
                &mut p,
                me.user_id,
                channel,
                body.attachments.as_deref(),
                input.files,
            )
            .await?;
        p.finish()?;
        if text.trim().is_empty() && embeds.is_empty() && attachments.is_empty() {
            return Err(Error::new(ErrorCode::CannotSendEmptyMessage));
        }
        let reply = match &body.message_reference {
            Some(r) => {
                if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
                    return Err(Error::new(ErrorCode::ReplyWithoutHistory));
                }
                self.reply_target(&access, r).await?
            }
            None => None,
        };
        let ctx = MentionContext {
            guild: access.guild_id(),
            roles: access.roles(),
            mention_everyone: access.holds(Permissions::MENTION_EVERYONE),
            sender: Some(me.user_id),
        };
        let set = self
            .resolve_mentions(&ctx, &text, &allowed, reply.as_ref())
            .await?;
        self.slowmode(&access, me).await?;

        let id = MessageId(self.ids.next());
        let new = draft(
            id,
            &access.channel_id(),
            access.guild_id(),
            &Sender::User(me.user_id),
            text,
            &embeds,
            &attachments,
            reply.as_ref(),
            set,
        )?;
        let new = NewMessage {
            nonce: nonce.clone(),
            flags: flags as i64,
            tts: body.tts.unwrap_or(false) && access.holds(Permissions::SEND_TTS_MESSAGES),
            ..new
        };
        let since = match (body.enforce_nonce, &nonce) {
            (Some(true), Some(_)) => Some(self.nonce_bound()),
            _ => None,
        };
        // Notifications are written before the message (see `notifications::fanout`).
        let pending = match access.guild_parts() {
            Some((guild, channel)) => Some(
                self.notifications
                    .prepare_guild_message(guild, channel, &new, |m| access.permissions_of(m))
                    .await?,
            ),
            None => Some(
                self.notifications
                    .prepare_private_message(&access.recipients().unwrap_or_default(), &new)
                    .await?,
            ),
        };
        let (stored, created) = self.store.insert_message(&new, since).await?;
        if let Some(pending) = pending {
            if created {
                self.notifications.commit(pending);
            } else {
                self.notifications.abandon(pending).await;
            }
        }
        let mut msg = self
            .render
            .one(&stored, me.user_id, ReactionScope::None)
            .await?;
        msg.nonce = render::nonce_value(&stored);
        self.receipts(&access, std::slice::from_mut(&mut msg))
            .await?;
        if created {
            let payload =
                render::event_payload(msg.clone(), access.guild_id(), access.member_json());
            self.publish("MESSAGE_CREATE", payload, &access, Intents::GUILD_MESSAGES);
            self.spawn_previews(
                &stored,
                me.user_id,
                access.holds(Permissions::EMBED_LINKS),
                access.audience(),
                access.intent(Intents::GUILD_MESSAGES),
            );
        }
        Ok(msg)
    }

    /// Insert a message prepared by another service (webhooks) and publish it.
    pub(crate) async fn insert_and_publish(
        &self,
        new: &NewMessage,
        viewer: UserId,
    ) -> Result<Message> {
        // Notifications first, as for members' messages (`notifications::fanout`).
        let pending = match new.guild_id {
            Some(g) => match (
                self.store.guild(g).await?,
                self.store.guild_channel(new.channel_id).await?,
            ) {
                (Some(guild), Some(channel)) => {
                    let roles = self.store.roles(g).await?;
                    let perms = |m: &beep_store::MemberRecord| {
                        access::permissions_in(&guild, &roles, m, &channel)
                    };
                    Some(
                        self.notifications
                            .prepare_guild_message(&guild, &channel, new, perms)
                            .await?,
                    )
                }
                _ => None,
            },
            None => None,
        };
        let (stored, _) = self.store.insert_message(new, None).await?;
        if let Some(p) = pending {
            self.notifications.commit(p);
        }
        let msg = self
            .render
            .one(&stored, viewer, ReactionScope::None)
            .await?;
        let guild = stored.guild_id.unwrap_or_default();
        let payload = render::event_payload(msg.clone(), Some(guild), None);
        publish_to(
            &*self.bus,
            "MESSAGE_CREATE",
            payload,
            guild,
            stored.channel_id,
            Intents::GUILD_MESSAGES,
        );
        Ok(msg)
    }

    /// The smallest message id still inside the nonce window.
    fn nonce_bound(&self) -> MessageId {
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let window = self.limits.nonce_window.as_millis() as u64;
        MessageId(Snowflake::from_timestamp_ms(now.saturating_sub(window)))
    }

    /// The message a reply points at: `None` when it is gone and
    /// `fail_if_not_exists` is false (the message is then sent as no reply).
    async fn reply_target(
        &self,
        access: &Access,
        r: &beep_types::v10::message::MessageReference,
    ) -> Result<Option<MessageRecord>> {
        let unknown = || {
            Error::field(
                "message_reference",
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            )
        };
        if r.channel_id.is_some_and(|c| c != access.channel_id())
            || r.guild_id.is_some_and(|g| Some(g) != access.guild_id())
        {
            return Err(Error::field(
                "message_reference",
                "MESSAGE_REFERENCE_INVALID_CHANNEL",
                "Replies must be in the same channel.",
            ));
        }
        let Some(id) = r.message_id else {
            return Err(Error::field(
                "message_reference.message_id",
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        };
        match self.store.message(access.channel_id(), id).await? {
            Some(m) if m.kind == i64::from(message_type::CHANNEL_PINNED_MESSAGE) => {
                Err(Error::new(ErrorCode::SystemMessage))
            }
            Some(m) => Ok(Some(m)),
            None if r.fail_if_not_exists == Some(false) => Ok(None),
            None => Err(unknown()),
        }
    }

    /// Who a message really mentions: what the content names, let through by
    /// `allowed_mentions`, that exists, and that the sender may mention.
    pub(crate) async fn resolve_mentions(
        &self,
        ctx: &MentionContext<'_>,
        text: &str,
        allowed: &Allowed,
        reply: Option<&MessageRecord>,
    ) -> Result<MentionSet> {
        let parsed = mentions::parse(text);
        let mut users = allowed.users.apply(&parsed.users);
        if let Some(r) = reply
            && allowed.replied_user
            && r.webhook_id.is_none()
            && Some(r.author_id) != ctx.sender
            && !users.contains(&r.author_id)
        {
            users.push(r.author_id);
        }
        let existing = self.store.user_summaries(&users).await?;
        users.retain(|u| existing.iter().any(|e| e.id == *u));
        let everyone_role = ctx.guild.map(|g| RoleId(g.0));
        let roles: Vec<RoleId> = allowed
            .roles
            .apply(&parsed.roles)
            .into_iter()
            .filter(|id| Some(*id) != everyone_role)
            .filter(|id| {
                ctx.roles
                    .iter()
                    .any(|r| r.id == *id && (r.mentionable || ctx.mention_everyone))
            })
            .collect();
        let everyone = parsed.everyone && allowed.everyone && ctx.mention_everyone;
        let mut targets: Vec<i64> = users.iter().map(|u| u.as_i64()).collect();
        targets.extend(roles.iter().map(|r| r.as_i64()));
        if everyone && let Some(g) = ctx.guild {
            targets.push(g.as_i64());
        }
        Ok(MentionSet {
            everyone,
            users,
            roles,
            channels: parsed.channels,
            targets,
        })
    }

    /// Slow mode: one message per `rate_limit_per_user` seconds, except for bots
    /// and those who may bypass it (`BYPASS_SLOWMODE`, `MANAGE_MESSAGES`,
    /// `MANAGE_CHANNELS`). A refusal is 429 with `retry_after`.
    async fn slowmode(&self, access: &Access, me: &Principal) -> Result<()> {
        let secs = access.rate_limit_per_user();
        if secs <= 0
            || me.bot
            || access.holds_any(
                Permissions::BYPASS_SLOWMODE
                    | Permissions::MANAGE_MESSAGES
                    | Permissions::MANAGE_CHANNELS,
            )
        {
            return Ok(());
        }
        let quota = Quota {
            burst: 1,
            interval: Duration::from_secs(secs.unsigned_abs()),
        };
        let key = format!("{}:{}", access.channel_id(), me.user_id);
        let d = self
            .limiter
            .acquire("slowmode", &key, quota, Scope::User, 1)
            .await?;
        if d.allowed {
            return Ok(());
        }
        let mut e = Error::new(ErrorCode::SlowmodeRateLimited);
        e.retry_after = Some(d.retry_after);
        Err(e)
    }

    /// The attachments of a new message: the multipart files, with the alt text
    /// and file name the body's `attachments` give them (matched by `id` = `n`),
    /// and two-step uploads the body names by `uploaded_filename`.
    async fn attachments(
        &self,
        p: &mut Problems,
        me: UserId,
        channel: ChannelId,
        entries: Option<&[Value]>,
        files: Vec<(usize, StoredAttachment)>,
    ) -> Result<Vec<StoredAttachment>> {
        let mut out: Vec<(usize, StoredAttachment)> = files;
        for (i, e) in entries.unwrap_or_default().iter().enumerate() {
            let at = format!("attachments.{i}");
            let description = e.get("description").and_then(Value::as_str);
            if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
                p.add(
                    format!("{at}.description"),
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {MAX_DESCRIPTION_CHARS} or fewer in length."),
                );
                continue;
            }
            let filename = e.get("filename").and_then(Value::as_str);
            if let Some(upload) = e.get("uploaded_filename").and_then(Value::as_str) {
                match self
                    .render_files()
                    .claim_upload(channel, me, upload, filename)
                    .await
                {
                    Ok(mut a) => {
                        a.description = description.map(str::to_owned);
                        out.push((UPLOADS_AFTER + i, a));
                    }
                    Err(err) => return Err(err.into()),
                }
                continue;
            }
            let n = match e.get("id") {
                Some(Value::Number(n)) => n.as_u64().map(|v| v as usize),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            if let Some(slot) = out.iter_mut().find(|(k, _)| Some(*k) == n) {
                slot.1.description = description.map(str::to_owned);
            }
        }
        if out.len() > MAX_ATTACHMENTS {
            p.add(
                "attachments",
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_ATTACHMENTS} or fewer in length."),
            );
        }
        out.sort_by_key(|(n, _)| *n);
        Ok(out.into_iter().map(|(_, a)| a).collect())
    }

    fn render_files(&self) -> &beep_files::Files {
        self.render.files()
    }
}

/// A new message from its checked parts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draft(
    id: MessageId,
    channel: &ChannelId,
    guild: Option<GuildId>,
    sender: &Sender,
    text: String,
    embeds: &[Embed],
    attachments: &[StoredAttachment],
    reply: Option<&MessageRecord>,
    set: MentionSet,
) -> Result<NewMessage> {
    let (author_id, webhook_id, author_name, author_avatar) = match sender {
        Sender::User(u) => (*u, None, None, None),
        Sender::Webhook {
            id,
            name,
            avatar_url,
        } => (
            UserId(id.0),
            Some(*id),
            Some(name.clone()),
            avatar_url.clone(),
        ),
    };
    Ok(NewMessage {
        id,
        channel_id: *channel,
        guild_id: guild,
        author_id,
        webhook_id,
        application_id: None,
        kind: i64::from(if reply.is_some() {
            message_type::REPLY
        } else {
            message_type::DEFAULT
        }),
        content: text,
        flags: 0,
        tts: false,
        nonce: None,
        mention_everyone: set.everyone,
        mention_users: set.users,
        mention_roles: set.roles,
        mention_channels: set.channels,
        reference: reply.map(|r| MessageRef {
            message_id: r.id,
            channel_id: r.channel_id,
            guild_id: r.guild_id,
        }),
        embeds: content::embeds_json(embeds)?,
        author_name,
        author_avatar,
        attachments: serde_json::to_string(attachments).map_err(Error::internal)?,
        mention_targets: set.targets,
    })
}
