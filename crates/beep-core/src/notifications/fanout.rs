//! Who a new message notifies.
//!
//! The message service calls [`Notifications::prepare_guild_message`] (or
//! [`Notifications::prepare_private_message`]) after every check passed and
//! just before it writes the message. The notifications are written first, in
//! their own transaction, keyed by the message id; the store shows a
//! notification only while its message exists. So once a message is
//! acknowledged its notifications are durable too, and a crash between the two
//! writes leaves only rows nobody sees. After the message is written,
//! [`Notifications::commit`] publishes `NOTIFICATION_CREATE`; when the write
//! turned out to be a nonce replay, [`Notifications::abandon`] deletes them.

use std::collections::HashMap;

use beep_store::messages::NewMessage;
use beep_store::notifications::{NewNotification, kind};
use beep_store::{ChannelRecord, GuildRecord, MemberRecord};
use beep_types::{Permissions, UserId};
use chrono::Utc;

use super::rules::{self, Reason};
use super::{MAX_FANOUT, Notifications};
use crate::error::Result;

/// Notifications written for a message not yet written.
#[derive(Debug, Default)]
#[must_use = "commit or abandon the notifications"]
pub struct Pending {
    list: Vec<NewNotification>,
}

/// Members are read in pages of this many when everyone or a role is mentioned.
const MEMBER_PAGE: u32 = 1000;

impl Notifications {
    /// Write the notifications of `new`, a message of `channel` in `guild`,
    /// before the message itself; `permissions` gives a member's permissions
    /// in the channel.
    pub(crate) async fn prepare_guild_message(
        &self,
        guild: &GuildRecord,
        channel: &ChannelRecord,
        new: &NewMessage,
        permissions: impl Fn(&MemberRecord) -> Permissions,
    ) -> Result<Pending> {
        let author = new.author_id;
        let replied = new.reference.map(|r| r.message_id);
        let replied_author = match replied {
            Some(id) => self
                .store
                .message(channel.id, id)
                .await?
                .filter(|m| m.webhook_id.is_none())
                .map(|m| m.author_id),
            None => None,
        };
        // Each candidate with the strongest reason that applies to them.
        let mut reasons: HashMap<UserId, (Reason, i64)> = HashMap::new();
        let mut members: HashMap<UserId, MemberRecord> = HashMap::new();
        for u in &new.mention_users {
            let k = if Some(*u) == replied_author {
                kind::REPLY
            } else {
                kind::MENTION
            };
            reasons.insert(*u, (Reason::User, k));
        }
        let everyone = new.mention_everyone;
        let here = everyone && new.content.contains("@here") && !new.content.contains("@everyone");
        if everyone || !new.mention_roles.is_empty() {
            let mut after = None;
            'pages: loop {
                let page = self.store.members(guild.id, after, MEMBER_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.user.id);
                let full = page.len() < MEMBER_PAGE as usize;
                for m in page {
                    let reason = if everyone {
                        Some(Reason::Everyone)
                    } else if m.roles.iter().any(|r| new.mention_roles.contains(r)) {
                        Some(Reason::Role)
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        reasons.entry(m.user.id).or_insert((reason, kind::MENTION));
                        members.insert(m.user.id, m);
                    }
                    if members.len() >= MAX_FANOUT {
                        break 'pages;
                    }
                }
                if full {
                    break;
                }
            }
        }
        if here {
            // `@here`: only those with a live gateway session somewhere.
            let everyone_ids: Vec<UserId> = reasons
                .iter()
                .filter(|(_, (r, _))| *r == Reason::Everyone)
                .map(|(u, _)| *u)
                .collect();
            let online = self.store.online_among(&everyone_ids, Utc::now()).await?;
            reasons.retain(|u, (r, _)| *r != Reason::Everyone || online.contains(u));
        }
        let all = self
            .store
            .users_wanting_all_messages(Some(guild.id), channel.id, MAX_FANOUT as u32)
            .await?;
        for u in all {
            reasons
                .entry(u)
                .or_insert((Reason::Ordinary, kind::MESSAGE));
        }
        reasons.remove(&author);
        if reasons.is_empty() {
            return Ok(Pending::default());
        }
        // Only members who can see the channel, and no bots.
        for u in reasons.keys() {
            if !members.contains_key(u)
                && let Some(m) = self.store.member(guild.id, *u).await?
            {
                members.insert(*u, m);
            }
        }
        reasons.retain(|u, _| {
            members
                .get(u)
                .is_some_and(|m| !m.user.bot && permissions(m).contains(Permissions::VIEW_CHANNEL))
        });
        self.write(new, Some(guild.id), reasons, false).await
    }

    /// Write the notifications of `new`, a message of a private channel with
    /// these recipients, before the message itself.
    pub(crate) async fn prepare_private_message(
        &self,
        recipients: &[UserId],
        new: &NewMessage,
    ) -> Result<Pending> {
        let mut reasons: HashMap<UserId, (Reason, i64)> = HashMap::new();
        for u in recipients {
            let reason = if new.mention_users.contains(u) {
                Reason::User
            } else {
                Reason::Ordinary
            };
            reasons.insert(*u, (reason, kind::DIRECT_MESSAGE));
        }
        reasons.remove(&new.author_id);
        self.write(new, None, reasons, true).await
    }

    /// Keep those whose settings let the reason through and who did not block
    /// (and are not blocked by) the author, then write them.
    async fn write(
        &self,
        new: &NewMessage,
        guild: Option<beep_types::GuildId>,
        mut reasons: HashMap<UserId, (Reason, i64)>,
        dm: bool,
    ) -> Result<Pending> {
        if reasons.is_empty() {
            return Ok(Pending::default());
        }
        let users: Vec<UserId> = reasons.keys().copied().collect();
        let settings = self.store.notification_settings_of(guild, &users).await?;
        let now = Utc::now();
        reasons.retain(|u, (reason, _)| {
            let s = settings.iter().find(|s| s.user_id == *u);
            rules::notifies(s, new.channel_id, *reason, dm, now)
        });
        let mut list = Vec::with_capacity(reasons.len());
        let mut users: Vec<(UserId, i64)> = reasons.into_iter().map(|(u, (_, k))| (u, k)).collect();
        users.sort_by_key(|(u, _)| *u);
        for (u, k) in users {
            if self.store.is_blocked(new.author_id, u).await? {
                continue;
            }
            list.push(NewNotification {
                id: self.ids.next(),
                user_id: u,
                kind: k,
                actor_id: Some(new.author_id),
                guild_id: guild,
                channel_id: Some(new.channel_id),
                message_id: Some(new.id),
                digest: k != kind::MESSAGE,
                created_at: now,
            });
        }
        self.store.insert_notifications(&list).await?;
        Ok(Pending { list })
    }

    /// The message of `p` was written: announce its notifications.
    pub(crate) fn commit(&self, p: Pending) {
        self.publish_created(&p.list);
    }

    /// The message of `p` was not written (a nonce replay): drop them.
    pub(crate) async fn abandon(&self, p: Pending) {
        let Some(first) = p.list.first() else { return };
        if let Some(m) = first.message_id
            && let Err(e) = self.store.delete_message_notifications(m).await
        {
            // Harmless: they stay invisible, their message never existing.
            tracing::warn!(cause = ?e, "cannot delete the notifications of a replayed send");
        }
    }
}
