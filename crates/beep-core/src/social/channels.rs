//! DMs and groups: opening and listing them, group name, icon and members,
//! closing, leaving, pinning, and every direct message of a user.

use std::collections::HashSet;

use beep_files::ImageKind;
use beep_store::Refusal;
use beep_store::messages::Page;
use beep_store::social::{GroupPatch, NewGroup, PrivateChannelRecord, RecipientRemoval};
use beep_types::v10::message::Message;
use beep_types::{ChannelId, ErrorCode, GuildId, UserId};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Social, render};
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;
use crate::messages::ReactionScope;

/// The query of `GET /users/@me/messages`: `before` and `limit` (1 to 100,
/// default 50); `after` and `around` are refused.
pub type DirectMessagesQuery = crate::messages::HistoryQuery;

/// Longest group name.
const MAX_GROUP_NAME: usize = 100;
/// Guild memberships read per user when looking for a shared server.
const SHARED_GUILDS_PAGE: u32 = 1000;

/// `POST /users/@me/channels`: `{recipient_id}` opens a DM, `{recipients, name?}`
/// creates a group.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreatePrivateChannel {
    #[schema(value_type = Option<String>)]
    pub recipient_id: Option<UserId>,
    #[schema(value_type = Option<Vec<String>>)]
    pub recipients: Option<Vec<UserId>>,
    pub name: Option<String>,
}

/// `PATCH /channels/{id}` of a group: `name` and `icon` (a data URI; `null`
/// clears either).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PatchGroup {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
}

/// `null` and absent told apart.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

fn unknown_channel() -> Error {
    Error::new(ErrorCode::UnknownChannel)
}

fn cannot_message() -> Error {
    Error::new(ErrorCode::CannotSendToUser)
}

impl Social {
    /// Whether `me` may start a conversation with `other`: not blocked either
    /// way, and friends or members of a shared server whose settings allow it.
    /// `50007` otherwise.
    pub async fn check_may_message(&self, me: UserId, other: UserId) -> Result<()> {
        if me == other || self.store.is_blocked(me, other).await? {
            return Err(cannot_message());
        }
        if self.store.relationship(me, other).await?
            == Some(beep_store::social::RelationshipKind::Friend)
        {
            return Ok(());
        }
        let Some(target) = self.store.user(other).await? else {
            return Err(Error::new(ErrorCode::UnknownUser));
        };
        let settings = &target.settings;
        if settings
            .get("default_guilds_restricted")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Err(cannot_message());
        }
        let restricted: HashSet<String> = settings
            .get("restricted_guilds")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let theirs: HashSet<GuildId> = self
            .store
            .guilds_of_user(other, None, None, SHARED_GUILDS_PAGE)
            .await?
            .into_iter()
            .map(|g| g.id)
            .filter(|g| !restricted.contains(&g.to_string()))
            .collect();
        if theirs.is_empty() {
            return Err(cannot_message());
        }
        let shared = self
            .store
            .guilds_of_user(me, None, None, SHARED_GUILDS_PAGE)
            .await?
            .into_iter()
            .any(|g| theirs.contains(&g.id));
        if shared {
            Ok(())
        } else {
            Err(cannot_message())
        }
    }

    /// `POST /users/@me/channels`.
    pub async fn create_private_channel(
        &self,
        me: UserId,
        form: CreatePrivateChannel,
    ) -> Result<Value> {
        match (form.recipient_id, form.recipients) {
            (Some(r), None) => self.open_dm(me, r).await,
            (None, Some(list)) if list.len() == 1 && form.name.is_none() => {
                self.open_dm(me, list[0]).await
            }
            (None, Some(list)) => self.create_group(me, list, form.name).await,
            _ => Err(Error::field(
                "recipient_id",
                "BASE_TYPE_REQUIRED",
                "Give either recipient_id or recipients.",
            )),
        }
    }

    /// The DM of `me` and `other`, created if they have none. A closed DM
    /// reopens for `me`.
    pub async fn open_dm(&self, me: UserId, other: UserId) -> Result<Value> {
        if self.store.user(other).await?.is_none() {
            return Err(Error::new(ErrorCode::UnknownUser));
        }
        self.check_may_message(me, other).await?;
        let id = ChannelId(self.ids.next());
        let (dm, created) = self.store.open_dm(id, me, other).await?;
        let last = self.store.last_message_id(dm.id).await?;
        let mine = render::private_channel(&dm, me, last, None);
        // The opener sees it now; the other when it was created (an empty DM
        // in their list, as on Discord once a message arrives).
        self.publish("CHANNEL_CREATE", mine.clone(), vec![me]);
        if created {
            self.publish(
                "CHANNEL_CREATE",
                render::private_channel(&dm, other, last, None),
                vec![other],
            );
        }
        Ok(mine)
    }

    /// A group of `me` (the owner) and `others`; each must be someone `me`
    /// may message.
    async fn create_group(
        &self,
        me: UserId,
        others: Vec<UserId>,
        name: Option<String>,
    ) -> Result<Value> {
        let mut p = Problems::new();
        let name = group_name(&mut p, name.as_deref());
        p.finish()?;
        let mut others: Vec<UserId> = others.into_iter().filter(|u| *u != me).collect();
        others.dedup();
        let unique: HashSet<UserId> = others.iter().copied().collect();
        if unique.len() + 1 > self.limits.max_group_members as usize {
            return Err(Error::new(ErrorCode::MaxRecipients));
        }
        for u in &unique {
            self.check_may_message(me, *u).await?;
        }
        let id = ChannelId(self.ids.next());
        let group = NewGroup {
            id,
            owner_id: me,
            name,
            icon: None,
            recipients: unique.into_iter().collect(),
        };
        let record = match self
            .store
            .create_group(&group, self.limits.max_group_members)
            .await?
        {
            Ok(r) => r,
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxRecipients)),
            Err(other) => return Err(Error::internal(format!("refusal {other:?}"))),
        };
        for u in record.recipient_ids() {
            self.publish(
                "CHANNEL_CREATE",
                render::private_channel(&record, u, None, None),
                vec![u],
            );
        }
        Ok(render::private_channel(&record, me, None, None))
    }

    /// `GET /users/@me/channels`: pinned first, then by latest activity.
    pub async fn private_channels(&self, me: UserId) -> Result<Vec<Value>> {
        let mut list = self.store.private_channels(me).await?;
        list.sort_by_key(|e| {
            let activity = e.last_message_id.map_or(e.channel.id.as_i64(), |m| {
                m.as_i64().max(e.channel.id.as_i64())
            });
            (
                std::cmp::Reverse(e.pinned.is_some()),
                std::cmp::Reverse(activity),
            )
        });
        Ok(list
            .iter()
            .map(|e| {
                render::private_channel(&e.channel, me, e.last_message_id, Some(e.pinned.is_some()))
            })
            .collect())
    }

    /// READY's `private_channels`.
    pub async fn ready_private_channels(&self, me: UserId) -> Result<Vec<Value>> {
        self.private_channels(me).await
    }

    /// The private channel `id` if `me` is a recipient; `Unknown Channel` otherwise.
    async fn mine(&self, me: UserId, id: ChannelId) -> Result<PrivateChannelRecord> {
        self.store
            .private_channel(id)
            .await?
            .filter(|c| c.has(me))
            .ok_or_else(unknown_channel)
    }

    /// The group `id` of `me`; `50003` for a DM.
    async fn my_group(&self, me: UserId, id: ChannelId) -> Result<PrivateChannelRecord> {
        let c = self.mine(me, id).await?;
        if c.kind != 3 {
            return Err(Error::new(ErrorCode::CannotExecuteOnDm));
        }
        Ok(c)
    }

    /// `GET /channels/{id}` of a private channel.
    pub async fn private_channel(&self, me: UserId, id: ChannelId) -> Result<Value> {
        let c = self.mine(me, id).await?;
        let last = self.store.last_message_id(id).await?;
        Ok(render::private_channel(&c, me, last, None))
    }

    /// `PATCH /channels/{id}` of a group: any member may rename it or change
    /// its icon, as on Discord.
    pub async fn patch_group(&self, me: UserId, id: ChannelId, form: PatchGroup) -> Result<Value> {
        self.my_group(me, id).await?;
        let mut p = Problems::new();
        let name = form.name.map(|n| group_name(&mut p, n.as_deref()));
        p.finish()?;
        let icon = match form.icon {
            None => None,
            Some(None) => Some(None),
            Some(Some(uri)) => Some(Some(
                self.files
                    .set_image(ImageKind::Icon, id.get(), &uri, "icon")
                    .await?,
            )),
        };
        let record = self
            .store
            .update_group(id, &GroupPatch { name, icon })
            .await?
            .ok_or_else(unknown_channel)?;
        let last = self.store.last_message_id(id).await?;
        for u in record.recipient_ids() {
            self.publish(
                "CHANNEL_UPDATE",
                render::private_channel(&record, u, last, None),
                vec![u],
            );
        }
        Ok(render::private_channel(&record, me, last, None))
    }

    /// `PUT /channels/{id}/recipients/{user}`: the owner adds someone they may
    /// message, up to the member limit.
    pub async fn add_recipient(&self, me: UserId, id: ChannelId, user: UserId) -> Result<()> {
        let group = self.my_group(me, id).await?;
        if group.owner_id != Some(me) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        if group.has(user) {
            return Ok(());
        }
        if self.store.user(user).await?.is_none() {
            return Err(Error::new(ErrorCode::UnknownUser));
        }
        self.check_may_message(me, user).await?;
        match self
            .store
            .add_recipient(id, user, self.limits.max_group_members)
            .await?
        {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxRecipients)),
            Err(other) => return Err(Error::internal(format!("refusal {other:?}"))),
        }
        let record = self.mine(me, id).await?;
        let added = record
            .recipients
            .iter()
            .find(|r| r.id == user)
            .map(crate::guilds::convert::user);
        self.publish(
            "CHANNEL_RECIPIENT_ADD",
            json!({"channel_id": id, "user": added}),
            record.recipient_ids(),
        );
        let last = self.store.last_message_id(id).await?;
        self.publish(
            "CHANNEL_CREATE",
            render::private_channel(&record, user, last, None),
            vec![user],
        );
        Ok(())
    }

    /// `DELETE /channels/{id}/recipients/{user}`: the owner removes a member,
    /// or a member removes themself.
    pub async fn remove_recipient(&self, me: UserId, id: ChannelId, user: UserId) -> Result<()> {
        let group = self.my_group(me, id).await?;
        if user != me && group.owner_id != Some(me) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let Some(removed) = group.recipients.iter().find(|r| r.id == user).cloned() else {
            return Err(Error::new(ErrorCode::UnknownUser));
        };
        self.leave_group(&group, &removed).await
    }

    /// Take `who` out of `group` and tell everyone concerned.
    async fn leave_group(
        &self,
        group: &PrivateChannelRecord,
        who: &beep_store::UserSummary,
    ) -> Result<()> {
        let outcome = self.store.remove_recipient(group.id, who.id).await?;
        let remaining: Vec<UserId> = group
            .recipient_ids()
            .into_iter()
            .filter(|u| *u != who.id)
            .collect();
        match outcome {
            RecipientRemoval::NotRecipient => return Err(Error::new(ErrorCode::UnknownUser)),
            RecipientRemoval::Deleted => {}
            RecipientRemoval::Removed { new_owner } => {
                let mut audience = remaining.clone();
                audience.push(who.id);
                self.publish(
                    "CHANNEL_RECIPIENT_REMOVE",
                    json!({"channel_id": group.id, "user": crate::guilds::convert::user(who)}),
                    audience,
                );
                if new_owner.is_some()
                    && let Some(record) = self.store.private_channel(group.id).await?
                {
                    let last = self.store.last_message_id(group.id).await?;
                    for u in &remaining {
                        self.publish(
                            "CHANNEL_UPDATE",
                            render::private_channel(&record, *u, last, None),
                            vec![*u],
                        );
                    }
                }
            }
        }
        self.publish(
            "CHANNEL_DELETE",
            render::private_channel(group, who.id, None, None),
            vec![who.id],
        );
        Ok(())
    }

    /// `DELETE /channels/{id}` of a private channel: close a DM (for me only;
    /// it comes back with the next message), or leave a group.
    pub async fn close_private_channel(&self, me: UserId, id: ChannelId) -> Result<Value> {
        let c = self.mine(me, id).await?;
        let shown = render::private_channel(&c, me, None, None);
        if c.kind == 3 {
            let Some(who) = c.recipients.iter().find(|r| r.id == me).cloned() else {
                return Err(unknown_channel());
            };
            self.leave_group(&c, &who).await?;
            return Ok(shown);
        }
        // Messages newer than this id bring the DM back.
        let at = self.ids.next().as_i64();
        if !self.store.close_private_channel(id, me, at).await? {
            return Err(unknown_channel());
        }
        self.publish("CHANNEL_DELETE", shown.clone(), vec![me]);
        Ok(shown)
    }

    /// `PUT` / `DELETE /users/@me/channels/{id}/pin`.
    pub async fn pin_private_channel(&self, me: UserId, id: ChannelId, pin: bool) -> Result<()> {
        self.mine(me, id).await?;
        let at = pin.then(|| self.ids.next().as_i64());
        if !self.store.pin_private_channel(id, me, at).await? {
            return Err(unknown_channel());
        }
        Ok(())
    }

    /// `GET /users/@me/messages`: every message of my DMs and groups, sent to
    /// or by me, newest first.
    pub async fn direct_messages(
        &self,
        me: UserId,
        q: &DirectMessagesQuery,
    ) -> Result<Vec<Message>> {
        if q.after.is_some() || q.around.is_some() {
            return Err(Error::field(
                "_query",
                "QUERY_UNSUPPORTED",
                "Only before and limit may be given.",
            ));
        }
        let (page, limit) = q.page()?;
        let before = match page {
            Page::Before(b) => Some(b),
            _ => None,
        };
        let records = self.store.direct_messages(me, before, limit).await?;
        self.messages
            .renderer()
            .many(&records, me, ReactionScope::Each)
            .await
    }
}

/// A group name: trimmed, at most 100 characters; blank clears it.
fn group_name(p: &mut Problems, raw: Option<&str>) -> Option<String> {
    let trimmed = raw?.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().count() > MAX_GROUP_NAME {
        p.add(
            "name",
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between 1 and {MAX_GROUP_NAME} in length."),
        );
    } else if trimmed.chars().any(char::is_control) {
        p.add(
            "name",
            "BASE_TYPE_BAD_CHARACTERS",
            "Contains characters that are not allowed.",
        );
    }
    Some(trimmed.to_owned())
}
