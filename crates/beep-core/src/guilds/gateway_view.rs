//! What the gateway reads about guilds: which guilds a user is in, who may see
//! what in a guild (for fan-out), and the snapshots of GUILD_CREATE and
//! GUILD_MEMBERS_CHUNK. The permission rules are the same as everywhere else in
//! this module; the gateway only evaluates them on the data returned here.

use beep_store::{MemberRecord, StoreError};
use beep_types::v10::channel::Channel;
use beep_types::v10::guild::{Guild, Member};
use beep_types::{ChannelId, ErrorCode, GuildId, Permissions, RoleId, UserId};
use chrono::{DateTime, Utc};

use super::{Guilds, convert, engine_context};
use crate::error::Result;
use crate::permissions::{GuildContext, Overwrite};

/// Largest page read from the store at once.
const PAGE: u32 = 1000;

/// Who may see what in one guild, for some users.
#[derive(Debug, Clone)]
pub struct GatewayAccess {
    /// Owner and roles.
    pub ctx: GuildContext,
    /// Every channel with its overwrites.
    pub channels: Vec<(ChannelId, Vec<Overwrite>)>,
    /// The asked-for users who are members, with their roles.
    pub members: Vec<(UserId, Vec<RoleId>)>,
}

/// GUILD_CREATE data for one user.
#[derive(Debug, Clone)]
pub struct GatewaySnapshot {
    /// The guild with its roles and emojis.
    pub guild: Guild,
    /// The channels the user can view.
    pub channels: Vec<Channel>,
    /// Every member when the guild has at most the asked-for number of them;
    /// otherwise just the user.
    pub members: Vec<Member>,
    pub member_count: u64,
    pub joined_at: DateTime<Utc>,
}

impl Guilds {
    /// The ids of every guild `user` is a member of.
    pub async fn guild_ids_of_user(&self, user: UserId) -> Result<Vec<GuildId>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.guilds_of_user(user, after, None, PAGE).await?;
            out.extend(page.iter().map(|g| g.id));
            match page.last() {
                Some(last) if page.len() == PAGE as usize => after = Some(last.id),
                _ => return Ok(out),
            }
        }
    }

    /// Who may see what in `guild` for `users` (those who are members); `None`
    /// when there is no such guild.
    pub async fn gateway_access(
        &self,
        guild: GuildId,
        users: &[UserId],
    ) -> Result<Option<GatewayAccess>> {
        let Some(g) = self.store.guild(guild).await? else {
            return Ok(None);
        };
        let roles = self.store.roles(guild).await?;
        let layout = match self.store.channel_layout(guild).await {
            Ok(l) => l,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut members = Vec::with_capacity(users.len());
        for u in users {
            if let Some(m) = self.store.member(guild, *u).await? {
                members.push((m.user.id, m.roles));
            }
        }
        Ok(Some(GatewayAccess {
            ctx: engine_context(&g, &roles),
            channels: layout
                .channels
                .iter()
                .map(|c| (c.id, c.overwrites.iter().map(Overwrite::from).collect()))
                .collect(),
            members,
        }))
    }

    /// GUILD_CREATE data of `guild` for `user`, with every member when there are
    /// at most `member_limit`; `None` when the guild is gone or `user` is not in it.
    pub async fn gateway_snapshot(
        &self,
        guild: GuildId,
        user: UserId,
        member_limit: u32,
    ) -> Result<Option<GatewaySnapshot>> {
        let ctx = match self.ctx(user, guild).await {
            Ok(ctx) => ctx,
            Err(e) if e.code == ErrorCode::UnknownGuild => return Ok(None),
            Err(e) => return Err(e),
        };
        let layout = self.store.channel_layout(guild).await?;
        let channels = layout
            .channels
            .iter()
            .filter(|c| ctx.in_channel(c).contains(Permissions::VIEW_CHANNEL))
            .map(convert::channel)
            .collect();
        let member_count = self.store.member_count(guild).await?;
        let members = if member_limit > 0 && member_count <= u64::from(member_limit) {
            self.all_members(guild, member_limit).await?
        } else {
            vec![ctx.member.clone()]
        };
        Ok(Some(GatewaySnapshot {
            guild: convert::guild(&ctx.guild, &ctx.roles),
            channels,
            members: members.iter().map(convert::member).collect(),
            member_count,
            joined_at: ctx.member.joined_at,
        }))
    }

    /// Up to `limit` members of `guild`, by user id.
    async fn all_members(&self, guild: GuildId, limit: u32) -> Result<Vec<MemberRecord>> {
        let mut out: Vec<MemberRecord> = Vec::new();
        let mut after = None;
        while (out.len() as u64) < u64::from(limit) {
            let want = (u64::from(limit) - out.len() as u64).min(u64::from(PAGE)) as u32;
            let page = self.store.members(guild, after, want).await?;
            let full = page.len() == want as usize;
            after = page.last().map(|m| m.user.id);
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Members of `guild` for REQUEST_GUILD_MEMBERS: those named in `ids`, or
    /// those whose username or nickname starts with `prefix` (everyone for `""`),
    /// at most `limit`.
    pub async fn gateway_members(
        &self,
        guild: GuildId,
        prefix: &str,
        ids: Option<&[UserId]>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        let records = match ids {
            Some(ids) => {
                let mut v = Vec::new();
                for u in ids.iter().take(limit as usize) {
                    if let Some(m) = self.store.member(guild, *u).await? {
                        v.push(m);
                    }
                }
                v
            }
            None if prefix.is_empty() => self.all_members(guild, limit).await?,
            None => {
                self.store
                    .search_members(guild, prefix, limit.min(PAGE))
                    .await?
            }
        };
        Ok(records.iter().map(convert::member).collect())
    }

    /// Whether `a` and `b` are members of at least one same guild.
    pub async fn share_a_guild(&self, a: UserId, b: UserId) -> Result<bool> {
        for g in self.guild_ids_of_user(a).await? {
            if self.store.member(g, b).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
