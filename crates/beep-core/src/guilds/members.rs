//! Members (list, search, edit, kick, roles) and bans.

use std::collections::BTreeSet;

use beep_store::{MemberPatch, MemberRecord, NewBan, RoleRecord};
use beep_types::v10::guild::{AuditLogEvent, Ban, Member};
use beep_types::{ErrorCode, GuildId, Intents, Permissions, RoleId, UserId};
use chrono::{Duration, Utc};
use serde_json::json;

use super::audit::role_refs;
use super::forms::{
    self, BansQuery, CreateBan, MembersQuery, Problems, SearchMembersQuery, UpdateMe, UpdateMember,
};
use super::{Changes, Guilds, convert};
use crate::error::{Error, Result};
use crate::events::Audience;
use crate::permissions::{Rank, can_manage_role, can_moderate};

/// The longest a timeout may last, as on Discord.
const MAX_TIMEOUT_DAYS: i64 = 28;
/// The most message history a ban may delete: 7 days.
const MAX_DELETE_SECONDS: i64 = 604_800;

/// A list limit in `1..=max`, `default` when absent.
fn limit(value: Option<u32>, default: u32, max: u32) -> Result<u32> {
    let v = value.unwrap_or(default);
    if (1..=max).contains(&v) {
        Ok(v)
    } else {
        Err(Error::field(
            "limit",
            "NUMBER_TYPE_MAX",
            format!("Must be between 1 and {max}."),
        ))
    }
}

impl Guilds {
    /// `GET /guilds/{id}/members`: members by user id.
    pub async fn members(
        &self,
        actor: UserId,
        guild: GuildId,
        q: MembersQuery,
    ) -> Result<Vec<Member>> {
        self.ctx(actor, guild).await?;
        let limit = limit(q.limit, 1, 1000)?;
        let list = self.store.members(guild, q.after, limit).await?;
        Ok(list.iter().map(convert::member).collect())
    }

    /// `GET /guilds/{id}/members/search`: members whose username or nickname
    /// starts with the query.
    pub async fn search_members(
        &self,
        actor: UserId,
        guild: GuildId,
        q: SearchMembersQuery,
    ) -> Result<Vec<Member>> {
        self.ctx(actor, guild).await?;
        let limit = limit(q.limit, 1, 1000)?;
        let query = q.query.trim();
        if query.is_empty() || query.chars().count() > 100 {
            return Err(Error::field(
                "query",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
        let list = self.store.search_members(guild, query, limit).await?;
        Ok(list.iter().map(convert::member).collect())
    }

    /// `GET /guilds/{id}/members/{user}`.
    pub async fn member(&self, actor: UserId, guild: GuildId, user: UserId) -> Result<Member> {
        let ctx = self.ctx(actor, guild).await?;
        if user == actor {
            return Ok(convert::member(&ctx.member));
        }
        let m = self.target(guild, user).await?;
        Ok(convert::member(&m))
    }

    /// `PATCH /guilds/{id}/members/{user}`: nickname (`MANAGE_NICKNAMES`, or
    /// `CHANGE_NICKNAME` for oneself), roles (`MANAGE_ROLES`, each role below the
    /// actor's highest), mute and deafen, timeout (`MODERATE_MEMBERS`).
    pub async fn update_member(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        form: UpdateMember,
        reason: Option<String>,
    ) -> Result<Member> {
        let ctx = self.ctx(actor, guild).await?;
        let target = if user == actor {
            ctx.member.clone()
        } else {
            self.target(guild, user).await?
        };
        let base = ctx.base();
        let mut p = Problems::new();
        let nick = form.nick.as_ref().map(|n| {
            n.as_deref()
                .and_then(|n| forms::text(&mut p, "nick", Some(n), 32))
        });
        p.finish()?;

        let moderates = can_moderate(ctx.rank(), ctx.rank_of(&target));
        if nick.is_some() && nick.as_ref() != Some(&target.nick) {
            let allowed = if user == actor {
                base.intersects(Permissions::CHANGE_NICKNAME | Permissions::MANAGE_NICKNAMES)
            } else {
                base.contains(Permissions::MANAGE_NICKNAMES) && moderates
            };
            if !allowed {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
        }
        let mut added: Vec<&RoleRecord> = Vec::new();
        let mut removed: Vec<&RoleRecord> = Vec::new();
        let roles = match &form.roles {
            Some(list) => {
                let wanted: BTreeSet<RoleId> =
                    list.iter().copied().filter(|r| r.0 != guild.0).collect();
                for id in &wanted {
                    if ctx.role(*id).is_none() {
                        return Err(Error::new(ErrorCode::UnknownRole));
                    }
                }
                let had: BTreeSet<RoleId> = target.roles.iter().copied().collect();
                added = wanted
                    .difference(&had)
                    .filter_map(|id| ctx.role(*id))
                    .collect();
                removed = had
                    .difference(&wanted)
                    .filter_map(|id| ctx.role(*id))
                    .collect();
                if !added.is_empty() || !removed.is_empty() {
                    ctx.require(Permissions::MANAGE_ROLES)?;
                    let rank = ctx.rank();
                    if added
                        .iter()
                        .chain(&removed)
                        .any(|r| !can_manage_role(rank, &ctx.role_info(r)))
                    {
                        return Err(Error::new(ErrorCode::MissingPermissions));
                    }
                }
                Some(wanted.into_iter().collect::<Vec<_>>())
            }
            None => None,
        };
        if form.mute.is_some_and(|m| m != target.mute) {
            ctx.require(Permissions::MUTE_MEMBERS)?;
        }
        if form.deaf.is_some_and(|d| d != target.deaf) {
            ctx.require(Permissions::DEAFEN_MEMBERS)?;
        }
        let timeout = match form.communication_disabled_until {
            Some(until) => {
                let until = until.map(|t| t.0).filter(|t| *t > Utc::now());
                if until.is_some_and(|t| t > Utc::now() + Duration::days(MAX_TIMEOUT_DAYS)) {
                    return Err(Error::field(
                        "communication_disabled_until",
                        "COMMUNICATION_DISABLED_TOO_LONG",
                        "A timeout lasts at most 28 days.",
                    ));
                }
                if until != target.communication_disabled_until {
                    ctx.require(Permissions::MODERATE_MEMBERS)?;
                    // Administrators (and the owner) cannot be timed out.
                    if !moderates || (until.is_some() && ctx.base_of(&target).is_admin()) {
                        return Err(Error::new(ErrorCode::MissingPermissions));
                    }
                }
                Some(until)
            }
            None => None,
        };
        let patch = MemberPatch {
            nick: nick.clone(),
            roles,
            mute: form.mute,
            deaf: form.deaf,
            communication_disabled_until: timeout,
        };
        let changes = Changes::new()
            .diff("nick", &target.nick, nick.as_ref().unwrap_or(&target.nick))
            .diff(
                "mute",
                &target.mute,
                patch.mute.as_ref().unwrap_or(&target.mute),
            )
            .diff(
                "deaf",
                &target.deaf,
                patch.deaf.as_ref().unwrap_or(&target.deaf),
            )
            .diff(
                "communication_disabled_until",
                &target
                    .communication_disabled_until
                    .map(beep_types::v10::channel::Timestamp),
                &timeout
                    .unwrap_or(target.communication_disabled_until)
                    .map(beep_types::v10::channel::Timestamp),
            );
        let mut audit = Vec::new();
        if !changes.is_empty() {
            audit.push(self.entry(
                guild,
                actor,
                AuditLogEvent::MEMBER_UPDATE,
                Some(user.to_string()),
                changes,
                reason.as_deref(),
            ));
        }
        if !added.is_empty() || !removed.is_empty() {
            let mut changes = Changes::new();
            if !added.is_empty() {
                changes = changes.raw("$add", serde_json::Value::Null, role_refs(&added));
            }
            if !removed.is_empty() {
                changes = changes.raw("$remove", serde_json::Value::Null, role_refs(&removed));
            }
            audit.push(self.entry(
                guild,
                actor,
                AuditLogEvent::MEMBER_ROLE_UPDATE,
                Some(user.to_string()),
                changes,
                reason.as_deref(),
            ));
        }
        if audit.is_empty() {
            return Ok(convert::member(&target));
        }
        let updated = self
            .store
            .update_member(guild, user, &patch, &audit)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownMember))?;
        self.publish_member_update(&updated);
        self.publish_audit(&audit);
        Ok(convert::member(&updated))
    }

    /// `PATCH /guilds/{id}/members/@me`: one's own nickname.
    pub async fn update_me(&self, actor: UserId, guild: GuildId, form: UpdateMe) -> Result<Member> {
        let form = UpdateMember {
            nick: form.nick,
            ..UpdateMember::default()
        };
        self.update_member(actor, guild, actor, form, None).await
    }

    /// End the memberships `user` holds through a temporary invite and that gave
    /// them no role since; called when their last gateway session ends.
    pub async fn end_temporary_memberships(&self, user: UserId) -> Result<()> {
        for guild in self.guild_ids_of_user(user).await? {
            let Some(m) = self.store.member(guild, user).await? else {
                continue;
            };
            if !m.temporary || !m.roles.is_empty() {
                continue;
            }
            if let Some(removed) = self.store.remove_member(guild, user, &[]).await? {
                self.publish_member_removed(&removed);
            }
        }
        Ok(())
    }

    /// `DELETE /guilds/{id}/members/{user}`: kick; needs `KICK_MEMBERS` and a
    /// higher role than the target's highest.
    pub async fn kick(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::KICK_MEMBERS)?;
        let target = if user == actor {
            ctx.member.clone()
        } else {
            self.target(guild, user).await?
        };
        if !can_moderate(ctx.rank(), ctx.rank_of(&target)) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::MEMBER_KICK,
            Some(user.to_string()),
            Changes::new(),
            reason.as_deref(),
        )];
        let Some(removed) = self.store.remove_member(guild, user, &audit).await? else {
            return Err(Error::new(ErrorCode::UnknownMember));
        };
        self.publish_member_removed(&removed);
        self.publish_audit(&audit);
        Ok(())
    }

    /// `PUT /guilds/{id}/members/{user}/roles/{role}`: needs `MANAGE_ROLES` and a
    /// role below the actor's highest.
    pub async fn add_member_role(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        reason: Option<String>,
    ) -> Result<()> {
        self.change_member_role(actor, guild, user, role, true, reason)
            .await
    }

    /// `DELETE /guilds/{id}/members/{user}/roles/{role}`: as adding.
    pub async fn remove_member_role(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        reason: Option<String>,
    ) -> Result<()> {
        self.change_member_role(actor, guild, user, role, false, reason)
            .await
    }

    async fn change_member_role(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        add: bool,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_ROLES)?;
        if role.0 == guild.0 {
            return Err(Error::new(ErrorCode::InvalidRole));
        }
        let r = self.manageable(&ctx, role)?.clone();
        if user != actor {
            self.target(guild, user).await?;
        }
        let key = if add { "$add" } else { "$remove" };
        let changes = Changes::new().raw(key, serde_json::Value::Null, role_refs(&[&r]));
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::MEMBER_ROLE_UPDATE,
            Some(user.to_string()),
            changes,
            reason.as_deref(),
        )];
        let changed = match if add {
            self.store.add_member_role(guild, user, role, &audit).await
        } else {
            self.store
                .remove_member_role(guild, user, role, &audit)
                .await
        } {
            Ok(changed) => changed,
            Err(beep_store::StoreError::NotFound) => {
                return Err(Error::new(ErrorCode::UnknownMember));
            }
            Err(e) => return Err(e.into()),
        };
        if changed {
            if let Some(m) = self.store.member(guild, user).await? {
                self.publish_member_update(&m);
            }
            self.publish_audit(&audit);
        }
        Ok(())
    }

    /// `GET /guilds/{id}/bans`: needs `BAN_MEMBERS`.
    pub async fn bans(&self, actor: UserId, guild: GuildId, q: BansQuery) -> Result<Vec<Ban>> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::BAN_MEMBERS)?;
        let limit = limit(q.limit, 1000, 1000)?;
        let list = self.store.bans(guild, q.after, q.before, limit).await?;
        Ok(list.iter().map(convert::ban).collect())
    }

    /// `GET /guilds/{id}/bans/{user}`: needs `BAN_MEMBERS`.
    pub async fn ban(&self, actor: UserId, guild: GuildId, user: UserId) -> Result<Ban> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::BAN_MEMBERS)?;
        let b = self
            .store
            .ban(guild, user)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownBan))?;
        Ok(convert::ban(&b))
    }

    /// Delete what `user` wrote in `guild` during the last `seconds`, and tell
    /// clients with one MESSAGE_DELETE_BULK (or MESSAGE_DELETE) per channel.
    async fn purge_messages(&self, guild: GuildId, user: UserId, seconds: i64) -> Result<()> {
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let from = now_ms.saturating_sub(seconds.max(0) as u64 * 1000);
        let since = beep_types::MessageId(beep_types::Snowflake::from_timestamp_ms(from));
        let gone = self
            .store
            .delete_author_messages_since(guild, user, since)
            .await?;
        let mut by_channel: Vec<(beep_types::ChannelId, Vec<String>)> = Vec::new();
        for (ch, id) in gone {
            match by_channel.iter_mut().find(|(c, _)| *c == ch) {
                Some((_, ids)) => ids.push(id.to_string()),
                None => by_channel.push((ch, vec![id.to_string()])),
            }
        }
        for (ch, ids) in by_channel {
            let audience = Audience::Guild {
                guild_id: guild,
                channel_id: Some(ch),
            };
            if let [one] = ids.as_slice() {
                let data =
                    json!({"id": one, "channel_id": ch.to_string(), "guild_id": guild.to_string()});
                self.publish("MESSAGE_DELETE", data, audience, Intents::GUILD_MESSAGES);
            } else {
                let data = json!({"ids": ids, "channel_id": ch.to_string(), "guild_id": guild.to_string()});
                self.publish(
                    "MESSAGE_DELETE_BULK",
                    data,
                    audience,
                    Intents::GUILD_MESSAGES,
                );
            }
        }
        Ok(())
    }

    /// `PUT /guilds/{id}/bans/{user}`: needs `BAN_MEMBERS` and, when the user is a
    /// member, a higher role than theirs. The user is removed in the same write.
    /// With `delete_message_seconds` (or the older `delete_message_days`), the
    /// user's messages in the guild from that far back are deleted too.
    pub async fn create_ban(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        form: CreateBan,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::BAN_MEMBERS)?;
        let mut p = Problems::new();
        let seconds = forms::within(
            &mut p,
            "delete_message_seconds",
            form.delete_message_seconds,
            0..=MAX_DELETE_SECONDS,
        );
        let days = forms::within(
            &mut p,
            "delete_message_days",
            form.delete_message_days,
            0..=7,
        );
        p.finish()?;
        let seconds = seconds.or(days.map(|d| d * 86_400)).unwrap_or(0);
        let target_rank = match self.store.member(guild, user).await? {
            Some(m) => ctx.rank_of(&m),
            // Someone who is not a member has no roles (and is not the owner,
            // who always is one).
            None => Rank {
                is_owner: user == ctx.guild.owner_id,
                highest_position: 0,
            },
        };
        if !can_moderate(ctx.rank(), target_rank) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::MEMBER_BAN_ADD,
            Some(user.to_string()),
            Changes::new(),
            reason.as_deref(),
        )];
        let new = NewBan {
            guild_id: guild,
            user_id: user,
            reason: reason.clone(),
            moderator_id: Some(actor),
            delete_message_seconds: seconds,
        };
        let (ban, removed) = match self.store.ban_member(&new, &audit).await {
            Ok(done) => done,
            Err(beep_store::StoreError::NotFound) => {
                return Err(Error::new(ErrorCode::UnknownUser));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(m) = &removed {
            self.publish_member_removed(m);
        }
        if seconds > 0 {
            self.purge_messages(guild, user, seconds).await?;
        }
        self.publish(
            "GUILD_BAN_ADD",
            json!({"guild_id": guild.to_string(), "user": convert::user(&ban.user)}),
            Audience::Guild {
                guild_id: guild,
                channel_id: None,
            },
            Intents::GUILD_MODERATION,
        );
        self.publish_audit(&audit);
        Ok(())
    }

    /// `DELETE /guilds/{id}/bans/{user}`: needs `BAN_MEMBERS`.
    pub async fn remove_ban(
        &self,
        actor: UserId,
        guild: GuildId,
        user: UserId,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::BAN_MEMBERS)?;
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::MEMBER_BAN_REMOVE,
            Some(user.to_string()),
            Changes::new(),
            reason.as_deref(),
        )];
        let Some(ban) = self.store.unban(guild, user, &audit).await? else {
            return Err(Error::new(ErrorCode::UnknownBan));
        };
        self.publish(
            "GUILD_BAN_REMOVE",
            json!({"guild_id": guild.to_string(), "user": convert::user(&ban.user)}),
            Audience::Guild {
                guild_id: guild,
                channel_id: None,
            },
            Intents::GUILD_MODERATION,
        );
        self.publish_audit(&audit);
        Ok(())
    }

    /// A member of the guild other than the actor, or `Unknown Member`.
    async fn target(&self, guild: GuildId, user: UserId) -> Result<MemberRecord> {
        self.store
            .member(guild, user)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownMember))
    }

    fn publish_member_update(&self, m: &MemberRecord) {
        self.publish(
            "GUILD_MEMBER_UPDATE",
            convert::member_event(m),
            Audience::Guild {
                guild_id: m.guild_id,
                channel_id: None,
            },
            Intents::GUILD_MEMBERS,
        );
    }
}
