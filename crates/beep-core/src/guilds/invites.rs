//! Invites: create, list, read, revoke, and join a guild through one.

use beep_store::{InviteGuard, InviteRecord, NewInvite, Refusal, StoreError};
use beep_types::v10::channel::ChannelType;
use beep_types::v10::guild::{AuditLogEvent, Invite};
use beep_types::{ChannelId, ErrorCode, GuildId, Intents, Permissions, UserId};
use chrono::Utc;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use super::forms::{self, CreateInvite, Problems};
use super::{Changes, Guilds, convert, unexpected};
use crate::error::{Error, Result};
use crate::events::Audience;

/// Characters of an invite code.
const CODE_LEN: usize = 10;
/// Longest lifetime an invite may ask for: 7 days.
const MAX_AGE: i64 = 604_800;

/// A fresh random invite code.
fn new_code() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(CODE_LEN)
        .map(char::from)
        .collect()
}

/// Whether a code could be one Beep made (so others are not even looked up).
fn plausible_code(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Guilds {
    /// `POST /channels/{id}/invites`: needs `CREATE_INSTANT_INVITE` in the
    /// channel; folders have no invites.
    pub async fn create_invite(
        &self,
        actor: UserId,
        channel: ChannelId,
        form: CreateInvite,
        reason: Option<String>,
    ) -> Result<Invite> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if ch.kind == ChannelType::Folder {
            return Err(Error::new(ErrorCode::InvalidChannelType));
        }
        if !perms.contains(Permissions::CREATE_INSTANT_INVITE) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let mut p = Problems::new();
        let max_age = forms::within(&mut p, "max_age", form.max_age, 0..=MAX_AGE).unwrap_or(86_400);
        let max_uses = forms::within(&mut p, "max_uses", form.max_uses, 0..=100).unwrap_or(0);
        p.finish()?;
        let guard = InviteGuard {
            max_per_channel: self.limits.max_invites_per_channel,
            max_per_guild: self.limits.max_invites_per_guild,
        };
        for _ in 0..5 {
            let new = NewInvite {
                code: new_code(),
                guild_id: ch.guild_id,
                channel_id: ch.id,
                inviter_id: actor,
                max_age,
                max_uses,
                temporary: form.temporary.unwrap_or(false),
                unique: form.unique.unwrap_or(false),
            };
            let changes = Changes::new()
                .set("code", &new.code)
                .set("channel_id", &new.channel_id)
                .set("inviter_id", &actor)
                .set("uses", &0)
                .set("max_uses", &new.max_uses)
                .set("max_age", &new.max_age)
                .set("temporary", &new.temporary);
            let audit = vec![self.entry(
                ch.guild_id,
                actor,
                AuditLogEvent::INVITE_CREATE,
                Some(new.code.clone()),
                changes,
                reason.as_deref(),
            )];
            match self
                .store
                .create_invite(&new, &guard, Utc::now(), &audit)
                .await
            {
                Ok(Ok(inv)) => {
                    if inv.code == new.code {
                        self.publish_invite_create(&inv);
                        self.publish_audit(&audit);
                    }
                    return Ok(convert::invite(&inv, &ctx.guild, &ch, true));
                }
                Ok(Err(Refusal::LimitReached)) => return Err(Error::new(ErrorCode::MaxInvites)),
                Ok(Err(other)) => return Err(unexpected(other)),
                // Another invite has this code: draw again.
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::NotFound) => return Err(Error::new(ErrorCode::UnknownChannel)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("could not draw a free invite code"))
    }

    /// `GET /channels/{id}/invites`: needs `MANAGE_CHANNELS` in the channel.
    pub async fn channel_invites(&self, actor: UserId, channel: ChannelId) -> Result<Vec<Invite>> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if !perms.contains(Permissions::MANAGE_CHANNELS) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let list = self.store.channel_invites(channel, Utc::now()).await?;
        Ok(list
            .iter()
            .map(|i| convert::invite(i, &ctx.guild, &ch, true))
            .collect())
    }

    /// `GET /guilds/{id}/invites`: needs `MANAGE_GUILD`.
    pub async fn guild_invites(&self, actor: UserId, guild: GuildId) -> Result<Vec<Invite>> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_GUILD)?;
        let list = self.store.guild_invites(guild, Utc::now()).await?;
        let layout = self.store.channel_layout(guild).await?;
        Ok(list
            .iter()
            .filter_map(|i| {
                let ch = layout.channels.iter().find(|c| c.id == i.channel_id)?;
                Some(convert::invite(i, &ctx.guild, ch, true))
            })
            .collect())
    }

    /// `GET /invites/{code}`: anyone may look an invite up; expired and used-up
    /// invites are unknown. `with_counts` adds the member count.
    pub async fn invite(&self, code: &str, with_counts: bool) -> Result<Invite> {
        let inv = self.live_invite(code).await?;
        let mut out = self.invite_object(&inv, false).await?;
        if with_counts {
            out.approximate_member_count = Some(self.store.member_count(inv.guild_id).await?);
            out.approximate_presence_count = Some(0);
        }
        Ok(out)
    }

    /// `DELETE /invites/{code}`: needs `MANAGE_CHANNELS` in its channel or
    /// `MANAGE_GUILD`.
    pub async fn delete_invite(
        &self,
        actor: UserId,
        code: &str,
        reason: Option<String>,
    ) -> Result<Invite> {
        let inv = self.live_invite(code).await?;
        let ctx = match self.ctx(actor, inv.guild_id).await {
            Ok(ctx) => ctx,
            Err(e) if e.code == ErrorCode::UnknownGuild => {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
            Err(e) => return Err(e),
        };
        let ch = self
            .store
            .guild_channel(inv.channel_id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownInvite))?;
        if !ctx.base().contains(Permissions::MANAGE_GUILD)
            && !ctx.in_channel(&ch).contains(Permissions::MANAGE_CHANNELS)
        {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let changes = Changes::new()
            .unset("code", &inv.code)
            .unset("channel_id", &inv.channel_id)
            .unset("uses", &inv.uses)
            .unset("max_uses", &inv.max_uses)
            .unset("max_age", &inv.max_age)
            .unset("temporary", &inv.temporary);
        let audit = vec![self.entry(
            inv.guild_id,
            actor,
            AuditLogEvent::INVITE_DELETE,
            Some(inv.code.clone()),
            changes,
            reason.as_deref(),
        )];
        let Some(deleted) = self.store.delete_invite(code, &audit).await? else {
            return Err(Error::new(ErrorCode::UnknownInvite));
        };
        self.publish_invite_delete(&deleted);
        self.publish_audit(&audit);
        Ok(convert::invite(&deleted, &ctx.guild, &ch, true))
    }

    /// `POST /invites/{code}`: join the invite's guild. Joining a guild one is
    /// already in changes nothing; banned users are refused.
    pub async fn accept_invite(&self, actor: UserId, code: &str) -> Result<Invite> {
        let inv = self.live_invite(code).await?;
        match self
            .store
            .join_by_invite(code, actor, Utc::now(), self.limits.max_joined_guilds)
            .await?
        {
            Ok(joined) => {
                if joined.invite_deleted {
                    self.publish_invite_delete(&joined.invite);
                }
                self.publish_member_added(&joined.member).await?;
                self.invite_object(&joined.invite, false).await
            }
            Err(Refusal::AlreadyMember) => self.invite_object(&inv, false).await,
            Err(Refusal::Banned) => Err(Error::new(ErrorCode::BannedFromGuild)),
            Err(Refusal::LimitReached) => Err(Error::new(ErrorCode::MaxGuilds)),
            Err(Refusal::InviteGone) => Err(Error::new(ErrorCode::UnknownInvite)),
            Err(other) => Err(unexpected(other)),
        }
    }

    /// An invite that can still be used, or `Unknown Invite`.
    async fn live_invite(&self, code: &str) -> Result<InviteRecord> {
        if !plausible_code(code) {
            return Err(Error::new(ErrorCode::UnknownInvite));
        }
        match self.store.invite(code).await? {
            Some(inv) if !inv.is_gone(Utc::now()) => Ok(inv),
            _ => Err(Error::new(ErrorCode::UnknownInvite)),
        }
    }

    /// An invite with its guild and channel.
    async fn invite_object(&self, inv: &InviteRecord, metadata: bool) -> Result<Invite> {
        let unknown = || Error::new(ErrorCode::UnknownInvite);
        let g = self.store.guild(inv.guild_id).await?.ok_or_else(unknown)?;
        let ch = self
            .store
            .guild_channel(inv.channel_id)
            .await?
            .ok_or_else(unknown)?;
        Ok(convert::invite(inv, &g, &ch, metadata))
    }

    fn publish_invite_create(&self, inv: &InviteRecord) {
        let data = json!({
            "channel_id": inv.channel_id.to_string(),
            "code": inv.code,
            "created_at": beep_types::v10::channel::Timestamp(inv.created_at),
            "expires_at": inv.expires_at.map(beep_types::v10::channel::Timestamp),
            "guild_id": inv.guild_id.to_string(),
            "inviter": inv.inviter.as_ref().map(convert::user),
            "max_age": inv.max_age,
            "max_uses": inv.max_uses,
            "temporary": inv.temporary,
            "uses": inv.uses,
        });
        self.publish(
            "INVITE_CREATE",
            data,
            Audience::Guild {
                guild_id: inv.guild_id,
                channel_id: Some(inv.channel_id),
            },
            Intents::GUILD_INVITES,
        );
    }

    fn publish_invite_delete(&self, inv: &InviteRecord) {
        self.publish(
            "INVITE_DELETE",
            json!({
                "channel_id": inv.channel_id.to_string(),
                "guild_id": inv.guild_id.to_string(),
                "code": Value::String(inv.code.clone()),
            }),
            Audience::Guild {
                guild_id: inv.guild_id,
                channel_id: Some(inv.channel_id),
            },
            Intents::GUILD_INVITES,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_alphanumerics() {
        let a = new_code();
        let b = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(plausible_code(&a));
        assert_ne!(a, b);
        assert!(!plausible_code(""));
        assert!(!plausible_code("../etc"));
        assert!(!plausible_code(&"a".repeat(33)));
    }
}
