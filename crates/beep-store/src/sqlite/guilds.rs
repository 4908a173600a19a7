//! Guilds, roles, channels, members, bans, invites and the audit log on SQLite.
//! Same methods, order and comments as `postgres/guilds.rs`.
//!
//! Every write is one closure on the single writer, which runs it inside its own
//! savepoint: all its statements commit together or not at all, and no other
//! write interleaves, so the checks a guarded write makes (limits, bans,
//! versions) hold when it writes. A refusal is an `Ok` answer, so the checks run
//! before anything is written.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{Type, Value as SqlValue};
use rusqlite::{Connection, OptionalExtension, Params, Row, params, params_from_iter};

use beep_types::v10::channel::PermissionOverwrite;
use beep_types::{ChannelId, GuildId, RoleId, Snowflake, UserId};

use super::SqliteStore;
use crate::guilds::{
    channel_type, overwrite_type, permissions, permissions_i64, prefix_pattern, role_list,
};
use crate::sql::{self};
use crate::sql_guilds::{self as q, Bind};
use crate::{
    AuditEntryRecord, AuditQuery, BanRecord, ChannelLayout, ChannelMove, ChannelPatch,
    ChannelRecord, ChannelStore, DiscoveredGuild, DiscoveryResults, Guarded, GuildCreateGuard,
    GuildPatch, GuildRecord, GuildStore, InviteGuard, InviteJoin, InviteRecord, InviteStore,
    MemberPatch, MemberRecord, MemberStore, NewBan, NewChannel, NewGuild, NewInvite, NewMember,
    NewRole, Refusal, Result, RolePatch, RoleRecord, StoreError, UserSummary,
};

#[async_trait]
impl GuildStore for SqliteStore {
    /// Create a guild with its `@everyone` role (`everyone.id` must equal the
    /// guild's id), its first channels and its owner as first member, in one
    /// transaction, unless the owner is at a limit. `NotFound` when the owner
    /// does not exist.
    async fn create_guild(
        &self,
        g: &NewGuild,
        everyone: &NewRole,
        channels: &[NewChannel],
        guard: &GuildCreateGuard,
    ) -> Result<Guarded<GuildRecord>> {
        let (g, everyone, channels, guard) =
            (g.clone(), everyone.clone(), channels.to_vec(), *guard);
        let now = sql::now();
        self.writer
            .write(move |c| {
                let owner = g.owner_id.as_i64();
                if !exists(c, q::USER_EXISTS, [owner])? {
                    return Err(StoreError::NotFound);
                }
                if count(c, q::COUNT_OWNED_GUILDS, [owner])? >= i64::from(guard.max_owned)
                    || count(c, q::COUNT_JOINED_GUILDS, [owner])? >= i64::from(guard.max_joined)
                {
                    return Ok(Err(Refusal::LimitReached));
                }
                if guard.per_window > 0 {
                    let since = now.timestamp_millis() - guard.window_ms;
                    let (n, oldest): (i64, Option<i64>) = c
                        .prepare_cached(q::RECENT_CREATIONS)?
                        .query_row(params![owner, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    if n >= i64::from(guard.per_window) {
                        let oldest = oldest.unwrap_or(since);
                        let retry_after_ms =
                            (oldest + guard.window_ms - now.timestamp_millis()).max(1);
                        return Ok(Err(Refusal::RateLimited { retry_after_ms }));
                    }
                }
                let guild = c.prepare_cached(q::INSERT_GUILD)?.query_row(
                    params![
                        g.id.as_i64(),
                        g.name,
                        g.icon,
                        g.description,
                        owner,
                        g.public,
                        g.preferred_locale,
                        g.system_channel_id.map(ChannelId::as_i64),
                        g.verification_level,
                        g.default_message_notifications,
                        g.explicit_content_filter,
                        now.timestamp_millis(),
                    ],
                    guild_row,
                )?;
                crate::discovery::sqlite_index(
                    c,
                    guild.id.as_i64(),
                    &guild.name,
                    guild.description.as_deref(),
                )?;
                insert_role(c, &everyone, 0)?;
                for ch in &channels {
                    insert_channel(c, ch, now)?;
                }
                c.prepare_cached(q::INSERT_MEMBER)?.execute(params![
                    g.id.as_i64(),
                    owner,
                    now.timestamp_millis(),
                    false
                ])?;
                Ok(Ok(guild))
            })
            .await
    }

    /// The guild with this id.
    async fn guild(&self, id: GuildId) -> Result<Option<GuildRecord>> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::GUILD_BY_ID)?
                    .query_row([id.as_i64()], guild_row)
                    .optional()?)
            })
            .await
    }

    /// Apply a patch and record `audit`; `NotFound` when there is no such guild,
    /// `Refusal::NotMember` when the new owner is not a member.
    async fn update_guild(
        &self,
        id: GuildId,
        patch: &GuildPatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<GuildRecord>> {
        let (patch, audit) = (patch.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let gid = id.as_i64();
                if !exists(c, q::GUILD_EXISTS, [gid])? {
                    return Err(StoreError::NotFound);
                }
                if let Some(owner) = patch.owner_id
                    && !exists(c, q::IS_MEMBER, [gid, owner.as_i64()])?
                {
                    return Ok(Err(Refusal::NotMember));
                }
                let guild = match q::guild_update(gid, &patch) {
                    Some(u) => c
                        .prepare_cached(&u.sql)?
                        .query_row(params_from_iter(u.values.into_iter().map(bind)), guild_row)?,
                    None => c
                        .prepare_cached(q::GUILD_BY_ID)?
                        .query_row([gid], guild_row)?,
                };
                if patch.name.is_some() || patch.description.is_some() {
                    crate::discovery::sqlite_index(
                        c,
                        gid,
                        &guild.name,
                        guild.description.as_deref(),
                    )?;
                }
                insert_audit(c, &audit)?;
                Ok(Ok(guild))
            })
            .await
    }

    /// Delete a guild and everything in it; returns whether it existed.
    async fn delete_guild(&self, id: GuildId) -> Result<bool> {
        // Roles, channels, members, bans, invites and the audit log go with it
        // through `ON DELETE CASCADE`.
        self.writer
            .write(move |c| Ok(c.prepare_cached(q::DELETE_GUILD)?.execute([id.as_i64()])? > 0))
            .await
    }

    /// Guilds `user` is a member of, by id, after `after` and before `before`,
    /// at most `limit`.
    async fn guilds_of_user(
        &self,
        user: UserId,
        after: Option<GuildId>,
        before: Option<GuildId>,
        limit: u32,
    ) -> Result<Vec<GuildRecord>> {
        let after = after.map_or(0, GuildId::as_i64);
        let before = before.map_or(i64::MAX, GuildId::as_i64);
        self.readers
            .read(move |c| {
                rows(
                    c,
                    q::GUILDS_OF_USER,
                    params![user.as_i64(), after, before, i64::from(limit)],
                    guild_row,
                )
            })
            .await
    }

    /// Member counts of every guild `user` is a member of.
    async fn member_counts_of_user_guilds(&self, user: UserId) -> Result<Vec<(GuildId, u64)>> {
        self.readers
            .read(move |c| {
                rows(c, q::MEMBER_COUNTS_OF_USER, [user.as_i64()], |r| {
                    Ok((
                        GuildId::from_i64(r.get(0)?),
                        r.get::<_, i64>(1)?.max(0) as u64,
                    ))
                })
            })
            .await
    }

    /// How many members a guild has.
    async fn member_count(&self, guild: GuildId) -> Result<u64> {
        self.readers
            .read(move |c| Ok(count(c, q::MEMBER_COUNT, [guild.as_i64()])?.max(0) as u64))
            .await
    }

    /// Public guilds whose name or description match the words of `query` (every
    /// public guild when it has none), best first.
    async fn discover_guilds(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<DiscoveryResults> {
        let (limit, offset) = (i64::from(limit), i64::from(offset));
        let everything = query.trim().is_empty();
        let fts = crate::discovery::fts5_match(query);
        if !everything && fts.is_none() {
            return Ok(DiscoveryResults {
                total: 0,
                guilds: Vec::new(),
            });
        }
        let fts = fts.unwrap_or_default();
        self.readers
            .read(move |c| {
                let (total, guilds) = if everything {
                    (
                        count(c, q::DISCOVER_ALL_COUNT, [])?,
                        rows(c, q::DISCOVER_ALL, params![limit, offset], discovered_row)?,
                    )
                } else {
                    (
                        count(c, q::SQLITE_DISCOVER_COUNT, [&fts])?,
                        rows(
                            c,
                            q::SQLITE_DISCOVER,
                            params![fts, limit, offset],
                            discovered_row,
                        )?,
                    )
                };
                Ok(DiscoveryResults {
                    total: total.max(0) as u64,
                    guilds,
                })
            })
            .await
    }

    /// The roles of a guild by position, then id.
    async fn roles(&self, guild: GuildId) -> Result<Vec<RoleRecord>> {
        self.readers
            .read(move |c| rows(c, q::ROLES_OF_GUILD, [guild.as_i64()], role_row))
            .await
    }

    /// Create a role at position 1, moving the others up, unless the guild has
    /// `max_roles` roles besides `@everyone`. `NotFound` when there is no such guild.
    async fn create_role(
        &self,
        r: &NewRole,
        max_roles: u32,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<RoleRecord>> {
        let (r, audit) = (r.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let gid = r.guild_id.as_i64();
                if !exists(c, q::GUILD_EXISTS, [gid])? {
                    return Err(StoreError::NotFound);
                }
                if count(c, q::COUNT_ROLES, [gid])? >= i64::from(max_roles) {
                    return Ok(Err(Refusal::LimitReached));
                }
                c.prepare_cached(q::SHIFT_ROLES_UP)?.execute([gid])?;
                let role = insert_role(c, &r, 1)?;
                insert_audit(c, &audit)?;
                Ok(Ok(role))
            })
            .await
    }

    /// Apply a patch to a role of this guild; `None` when the guild has no such role.
    async fn update_role(
        &self,
        guild: GuildId,
        role: RoleId,
        patch: &RolePatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>> {
        let (patch, audit) = (patch.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let (gid, rid) = (guild.as_i64(), role.as_i64());
                let updated = match q::role_update(gid, rid, &patch) {
                    Some(u) => c
                        .prepare_cached(&u.sql)?
                        .query_row(params_from_iter(u.values.into_iter().map(bind)), role_row)
                        .optional()?,
                    None => c
                        .prepare_cached(q::ROLE_BY_ID)?
                        .query_row([gid, rid], role_row)
                        .optional()?,
                };
                if updated.is_some() {
                    insert_audit(c, &audit)?;
                }
                Ok(updated)
            })
            .await
    }

    /// Give every role of the guild but `@everyone` the position listed for it;
    /// `Refusal::Stale` unless the list names exactly those roles. Returns every role.
    async fn set_role_positions(
        &self,
        guild: GuildId,
        positions: &[(RoleId, i64)],
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<RoleRecord>>> {
        let (positions, audit) = (positions.to_vec(), audit.to_vec());
        self.writer
            .write(move |c| {
                let gid = guild.as_i64();
                if !exists(c, q::GUILD_EXISTS, [gid])? {
                    return Err(StoreError::NotFound);
                }
                let current: BTreeSet<i64> = rows(c, q::ROLE_IDS, [gid], |r| r.get(0))?
                    .into_iter()
                    .collect();
                let given: BTreeSet<i64> = positions.iter().map(|(id, _)| id.as_i64()).collect();
                if given != current || given.len() != positions.len() {
                    return Ok(Err(Refusal::Stale));
                }
                let mut st = c.prepare_cached(q::SET_ROLE_POSITION)?;
                for (id, position) in &positions {
                    st.execute(params![position, gid, id.as_i64()])?;
                }
                insert_audit(c, &audit)?;
                Ok(Ok(rows(c, q::ROLES_OF_GUILD, [gid], role_row)?))
            })
            .await
    }

    /// Delete a role of this guild (not `@everyone`), its overwrites and its
    /// assignments, closing the gap in positions; `None` when there is no such role.
    async fn delete_role(
        &self,
        guild: GuildId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>> {
        let audit = audit.to_vec();
        self.writer
            .write(move |c| {
                let (gid, rid) = (guild.as_i64(), role.as_i64());
                let Some(deleted) = c
                    .prepare_cached(q::DELETE_ROLE)?
                    .query_row([gid, rid], role_row)
                    .optional()?
                else {
                    return Ok(None);
                };
                c.prepare_cached(q::CLOSE_ROLE_GAP)?
                    .execute([gid, deleted.position])?;
                c.prepare_cached(q::DELETE_ROLE_OVERWRITES)?
                    .execute([rid, gid])?;
                insert_audit(c, &audit)?;
                Ok(Some(deleted))
            })
            .await
    }

    /// Newest entries of a guild's audit log matching the query.
    async fn audit_log(&self, guild: GuildId, aq: &AuditQuery) -> Result<Vec<AuditEntryRecord>> {
        let aq = *aq;
        let forward = aq.after.is_some() && aq.before.is_none();
        self.readers
            .read(move |c| {
                let sql = if forward {
                    q::AUDIT_LOG_ASC
                } else {
                    q::AUDIT_LOG_DESC
                };
                let mut entries = rows(
                    c,
                    sql,
                    params![
                        guild.as_i64(),
                        aq.user_id.map(UserId::as_i64),
                        aq.action_type,
                        aq.before.map_or(i64::MAX, Snowflake::as_i64),
                        aq.after.map_or(0, Snowflake::as_i64),
                        i64::from(aq.limit),
                    ],
                    audit_row,
                )?;
                if forward {
                    entries.reverse();
                }
                Ok(entries)
            })
            .await
    }
}

#[async_trait]
impl ChannelStore for SqliteStore {
    /// The guild channel with this id.
    async fn guild_channel(&self, id: ChannelId) -> Result<Option<ChannelRecord>> {
        self.readers
            .read(move |c| {
                let Some(mut ch) = c
                    .prepare_cached(q::CHANNEL_BY_ID)?
                    .query_row([id.as_i64()], channel_row)
                    .optional()?
                else {
                    return Ok(None);
                };
                ch.overwrites = overwrites_of(c, id)?;
                Ok(Some(ch))
            })
            .await
    }

    /// The channels of a guild and their layout version; `NotFound` when there is
    /// no such guild.
    async fn channel_layout(&self, guild: GuildId) -> Result<ChannelLayout> {
        self.readers
            .read(move |c| {
                let gid = guild.as_i64();
                // The version is read first: a write landing between the two reads
                // makes the version look older than the channels, so the caller's
                // compare-and-set fails and it reads again, never the reverse.
                let version: i64 = c
                    .prepare_cached(q::LAYOUT_VERSION)?
                    .query_row([gid], |r| r.get(0))
                    .optional()?
                    .ok_or(StoreError::NotFound)?;
                let mut channels = rows(c, q::CHANNELS_OF_GUILD, [gid], channel_row)?;
                let mut by_channel: HashMap<i64, Vec<PermissionOverwrite>> = HashMap::new();
                for (channel, ow) in rows(c, q::OVERWRITES_OF_GUILD, [gid], overwrite_row)? {
                    by_channel.entry(channel).or_default().push(ow);
                }
                for ch in &mut channels {
                    ch.overwrites = by_channel.remove(&ch.id.as_i64()).unwrap_or_default();
                }
                Ok(ChannelLayout { version, channels })
            })
            .await
    }

    /// Create a channel if the layout is still at `expected_version` and the guild
    /// has fewer than `max_channels`. `NotFound` when there is no such guild.
    async fn create_channel(
        &self,
        ch: &NewChannel,
        expected_version: i64,
        max_channels: u32,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<ChannelRecord>> {
        let (ch, audit) = (ch.clone(), audit.to_vec());
        let now = sql::now();
        self.writer
            .write(move |c| {
                let gid = ch.guild_id.as_i64();
                if let Err(refusal) = check_version(c, gid, expected_version)? {
                    return Ok(Err(refusal));
                }
                if count(c, q::COUNT_CHANNELS, [gid])? >= i64::from(max_channels) {
                    return Ok(Err(Refusal::LimitReached));
                }
                bump_version(c, gid, expected_version)?;
                let created = insert_channel(c, &ch, now)?;
                insert_audit(c, &audit)?;
                Ok(Ok(created))
            })
            .await
    }

    /// Apply a patch to a channel of this guild; a structural patch needs
    /// `expected_version` to be current (else `Refusal::Stale`). `NotFound` when
    /// the guild has no such channel.
    async fn update_channel(
        &self,
        guild: GuildId,
        id: ChannelId,
        patch: &ChannelPatch,
        expected_version: Option<i64>,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<ChannelRecord>> {
        let (patch, audit) = (patch.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let (gid, cid) = (guild.as_i64(), id.as_i64());
                if patch.is_structural() {
                    let Some(expected) = expected_version else {
                        return Ok(Err(Refusal::Stale));
                    };
                    if let Err(refusal) = check_version(c, gid, expected)? {
                        return Ok(Err(refusal));
                    }
                    bump_version(c, gid, expected)?;
                }
                let updated = match q::channel_update(gid, cid, &patch) {
                    Some(u) => c
                        .prepare_cached(&u.sql)?
                        .query_row(
                            params_from_iter(u.values.into_iter().map(bind)),
                            channel_row,
                        )
                        .optional()?,
                    None => c
                        .prepare_cached(q::CHANNEL_IN_GUILD)?
                        .query_row([gid, cid], channel_row)
                        .optional()?,
                };
                let Some(mut updated) = updated else {
                    return Err(StoreError::NotFound);
                };
                if let Some(overwrites) = &patch.overwrites {
                    c.prepare_cached(q::DELETE_OVERWRITES_OF_CHANNEL)?
                        .execute([cid])?;
                    for ow in overwrites {
                        upsert_overwrite(c, cid, ow)?;
                    }
                }
                updated.overwrites = overwrites_of(c, id)?;
                insert_audit(c, &audit)?;
                Ok(Ok(updated))
            })
            .await
    }

    /// Move channels of this guild if the layout is still at `expected_version`;
    /// returns the moved channels. `NotFound` when one is not a channel of the guild.
    async fn move_channels(
        &self,
        guild: GuildId,
        moves: &[ChannelMove],
        expected_version: i64,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<ChannelRecord>>> {
        let (moves, audit) = (moves.to_vec(), audit.to_vec());
        self.writer
            .write(move |c| {
                let gid = guild.as_i64();
                if let Err(refusal) = check_version(c, gid, expected_version)? {
                    return Ok(Err(refusal));
                }
                bump_version(c, gid, expected_version)?;
                let mut moved = Vec::with_capacity(moves.len());
                for m in &moves {
                    let mut ch = c
                        .prepare_cached(q::MOVE_CHANNEL)?
                        .query_row(
                            params![
                                m.position,
                                m.parent_id.map(ChannelId::as_i64),
                                gid,
                                m.id.as_i64()
                            ],
                            channel_row,
                        )
                        .optional()?
                        .ok_or(StoreError::NotFound)?;
                    if let Some(overwrites) = &m.overwrites {
                        c.prepare_cached(q::DELETE_OVERWRITES_OF_CHANNEL)?
                            .execute([m.id.as_i64()])?;
                        for ow in overwrites {
                            upsert_overwrite(c, m.id.as_i64(), ow)?;
                        }
                    }
                    ch.overwrites = overwrites_of(c, m.id)?;
                    moved.push(ch);
                }
                insert_audit(c, &audit)?;
                Ok(Ok(moved))
            })
            .await
    }

    /// Delete channels of this guild (with their overwrites and invites) if the
    /// layout is still at `expected_version`, clearing guild settings that point at
    /// them; returns those deleted. Ids of other guilds are ignored.
    async fn delete_channels(
        &self,
        guild: GuildId,
        ids: &[ChannelId],
        expected_version: i64,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<ChannelRecord>>> {
        let (ids, audit) = (ids.to_vec(), audit.to_vec());
        self.writer
            .write(move |c| {
                let gid = guild.as_i64();
                if let Err(refusal) = check_version(c, gid, expected_version)? {
                    return Ok(Err(refusal));
                }
                bump_version(c, gid, expected_version)?;
                // Read every record first: deleting a folder cascades to what is
                // inside it, which could then no longer be read.
                let mut deleted = Vec::with_capacity(ids.len());
                for id in &ids {
                    let found = c
                        .prepare_cached(q::CHANNEL_IN_GUILD)?
                        .query_row([gid, id.as_i64()], channel_row)
                        .optional()?;
                    if let Some(mut ch) = found {
                        ch.overwrites = overwrites_of(c, *id)?;
                        deleted.push(ch);
                    }
                }
                for ch in &deleted {
                    let cid = ch.id.as_i64();
                    c.prepare_cached(q::CLEAR_CHANNEL_REFS)?
                        .execute([cid, gid])?;
                    c.prepare_cached(q::DELETE_CHANNEL)?.execute([gid, cid])?;
                }
                insert_audit(c, &audit)?;
                Ok(Ok(deleted))
            })
            .await
    }

    /// Create or replace the overwrite of `ow.id` on a channel of this guild;
    /// returns the one replaced. `NotFound` when the guild has no such channel.
    async fn put_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
        ow: &PermissionOverwrite,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<PermissionOverwrite>> {
        let (ow, audit) = (ow.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let cid = channel.as_i64();
                if !exists(c, q::CHANNEL_IN_GUILD, [guild.as_i64(), cid])? {
                    return Err(StoreError::NotFound);
                }
                let previous = c
                    .prepare_cached(q::OVERWRITE)?
                    .query_row([cid, ow.id.as_i64()], overwrite_row)
                    .optional()?
                    .map(|(_, o)| o);
                upsert_overwrite(c, cid, &ow)?;
                insert_audit(c, &audit)?;
                Ok(previous)
            })
            .await
    }

    /// Delete the overwrite of `target` on a channel of this guild; returns it.
    async fn delete_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
        target: Snowflake,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<PermissionOverwrite>> {
        let audit = audit.to_vec();
        self.writer
            .write(move |c| {
                let cid = channel.as_i64();
                if !exists(c, q::CHANNEL_IN_GUILD, [guild.as_i64(), cid])? {
                    return Err(StoreError::NotFound);
                }
                let previous = c
                    .prepare_cached(q::OVERWRITE)?
                    .query_row([cid, target.as_i64()], overwrite_row)
                    .optional()?
                    .map(|(_, o)| o);
                if previous.is_some() {
                    c.prepare_cached(q::DELETE_OVERWRITE)?
                        .execute([cid, target.as_i64()])?;
                    insert_audit(c, &audit)?;
                }
                Ok(previous)
            })
            .await
    }
}

#[async_trait]
impl MemberStore for SqliteStore {
    /// Add a member unless banned, already a member, or in `max_joined` guilds.
    /// `NotFound` when the guild or the user does not exist.
    async fn add_member(&self, m: &NewMember, max_joined: u32) -> Result<Guarded<MemberRecord>> {
        let m = m.clone();
        let now = sql::now();
        self.writer
            .write(move |c| {
                let (gid, uid) = (m.guild_id.as_i64(), m.user_id.as_i64());
                if !exists(c, q::USER_EXISTS, [uid])? || !exists(c, q::GUILD_EXISTS, [gid])? {
                    return Err(StoreError::NotFound);
                }
                if let Err(refusal) = check_can_join(c, gid, uid, max_joined)? {
                    return Ok(Err(refusal));
                }
                Ok(Ok(insert_member(c, gid, uid, m.temporary, now)?))
            })
            .await
    }

    /// The member `user` of `guild`.
    async fn member(&self, guild: GuildId, user: UserId) -> Result<Option<MemberRecord>> {
        self.readers
            .read(move |c| member_of(c, guild.as_i64(), user.as_i64()))
            .await
    }

    /// Members by user id, after `after`, at most `limit`.
    async fn members(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>> {
        let after = after.map_or(0, UserId::as_i64);
        self.readers
            .read(move |c| {
                rows(
                    c,
                    q::MEMBERS,
                    params![guild.as_i64(), after, i64::from(limit)],
                    member_row,
                )
            })
            .await
    }

    /// Members whose username or nickname starts with `query` (case-insensitive),
    /// by user id, at most `limit`.
    async fn search_members(
        &self,
        guild: GuildId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<MemberRecord>> {
        let Some(folded) = crate::member_search::folded_query(query) else {
            return Ok(Vec::new());
        };
        let pattern = prefix_pattern(&folded);
        self.readers
            .read(move |c| {
                rows(
                    c,
                    q::SEARCH_MEMBERS,
                    params![guild.as_i64(), pattern, folded, i64::from(limit)],
                    member_row,
                )
            })
            .await
    }

    /// Apply a patch to a member; `None` when there is no such member.
    async fn update_member(
        &self,
        guild: GuildId,
        user: UserId,
        patch: &MemberPatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<MemberRecord>> {
        let (patch, audit) = (patch.clone(), audit.to_vec());
        self.writer
            .write(move |c| {
                let (gid, uid) = (guild.as_i64(), user.as_i64());
                if !exists(c, q::IS_MEMBER, [gid, uid])? {
                    return Ok(None);
                }
                if let Some(u) = q::member_update(gid, uid, &patch) {
                    c.prepare_cached(&u.sql)?
                        .execute(params_from_iter(u.values.into_iter().map(bind)))?;
                }
                if let Some(roles) = &patch.roles {
                    c.prepare_cached(q::DELETE_MEMBER_ROLES)?
                        .execute([gid, uid])?;
                    let mut st = c.prepare_cached(q::ADD_MEMBER_ROLE)?;
                    for role in roles {
                        st.execute([gid, uid, role.as_i64()])?;
                    }
                }
                insert_audit(c, &audit)?;
                member_of(c, gid, uid)
            })
            .await
    }

    /// Give a member a role of the guild; returns whether it was new. `NotFound`
    /// when there is no such member or the guild has no such role.
    async fn add_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<bool> {
        self.change_member_role(q::ADD_MEMBER_ROLE, guild, user, role, audit)
            .await
    }

    /// Take a role from a member; returns whether it had it. `NotFound` when
    /// there is no such member or the guild has no such role.
    async fn remove_member_role(
        &self,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<bool> {
        self.change_member_role(q::REMOVE_MEMBER_ROLE, guild, user, role, audit)
            .await
    }

    /// Remove a member (leave or kick); returns the member removed.
    async fn remove_member(
        &self,
        guild: GuildId,
        user: UserId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<MemberRecord>> {
        let audit = audit.to_vec();
        self.writer
            .write(move |c| {
                let (gid, uid) = (guild.as_i64(), user.as_i64());
                let Some(member) = member_of(c, gid, uid)? else {
                    return Ok(None);
                };
                c.prepare_cached(q::DELETE_MEMBER)?.execute([gid, uid])?;
                insert_audit(c, &audit)?;
                Ok(Some(member))
            })
            .await
    }

    /// Ban a user (replacing an earlier ban) and remove them from the guild, in one
    /// transaction; returns the ban and the member removed. `NotFound` when the
    /// guild or the user does not exist.
    async fn ban_member(
        &self,
        b: &NewBan,
        audit: &[AuditEntryRecord],
    ) -> Result<(BanRecord, Option<MemberRecord>)> {
        let (b, audit) = (b.clone(), audit.to_vec());
        let now = sql::now();
        self.writer
            .write(move |c| {
                let (gid, uid) = (b.guild_id.as_i64(), b.user_id.as_i64());
                if !exists(c, q::USER_EXISTS, [uid])? || !exists(c, q::GUILD_EXISTS, [gid])? {
                    return Err(StoreError::NotFound);
                }
                let member = member_of(c, gid, uid)?;
                c.prepare_cached(q::UPSERT_BAN)?.execute(params![
                    gid,
                    uid,
                    b.reason,
                    b.moderator_id.map(UserId::as_i64),
                    b.delete_message_seconds,
                    now.timestamp_millis()
                ])?;
                if member.is_some() {
                    c.prepare_cached(q::DELETE_MEMBER)?.execute([gid, uid])?;
                }
                insert_audit(c, &audit)?;
                let ban = c.prepare_cached(q::BAN)?.query_row([gid, uid], ban_row)?;
                Ok((ban, member))
            })
            .await
    }

    /// The ban of `user` in `guild`.
    async fn ban(&self, guild: GuildId, user: UserId) -> Result<Option<BanRecord>> {
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::BAN)?
                    .query_row([guild.as_i64(), user.as_i64()], ban_row)
                    .optional()?)
            })
            .await
    }

    /// Bans by user id, after `after` or before `before`, at most `limit`.
    async fn bans(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        before: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<BanRecord>> {
        self.readers
            .read(move |c| {
                let limit = i64::from(limit);
                match (before, after) {
                    (Some(before), None) => {
                        let mut bans = rows(
                            c,
                            q::BANS_BEFORE,
                            params![guild.as_i64(), before.as_i64(), limit],
                            ban_row,
                        )?;
                        bans.reverse();
                        Ok(bans)
                    }
                    _ => rows(
                        c,
                        q::BANS_AFTER,
                        params![guild.as_i64(), after.map_or(0, UserId::as_i64), limit],
                        ban_row,
                    ),
                }
            })
            .await
    }

    /// Lift a ban; returns it.
    async fn unban(
        &self,
        guild: GuildId,
        user: UserId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<BanRecord>> {
        let audit = audit.to_vec();
        self.writer
            .write(move |c| {
                let (gid, uid) = (guild.as_i64(), user.as_i64());
                let Some(ban) = c
                    .prepare_cached(q::BAN)?
                    .query_row([gid, uid], ban_row)
                    .optional()?
                else {
                    return Ok(None);
                };
                c.prepare_cached(q::DELETE_BAN)?.execute([gid, uid])?;
                insert_audit(c, &audit)?;
                Ok(Some(ban))
            })
            .await
    }
}

#[async_trait]
impl InviteStore for SqliteStore {
    /// Create an invite (or, when not `unique`, return a live one with the same
    /// settings), unless a limit is reached. `Conflict` when the code is taken;
    /// `NotFound` when the channel is not a channel of the guild.
    async fn create_invite(
        &self,
        inv: &NewInvite,
        guard: &InviteGuard,
        now: DateTime<Utc>,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<InviteRecord>> {
        let (inv, guard, audit) = (inv.clone(), *guard, audit.to_vec());
        let now = sql::truncate_to_ms(now);
        self.writer
            .write(move |c| {
                let (gid, cid) = (inv.guild_id.as_i64(), inv.channel_id.as_i64());
                let ms = now.timestamp_millis();
                if !exists(c, q::CHANNEL_IN_GUILD, [gid, cid])? {
                    return Err(StoreError::NotFound);
                }
                c.prepare_cached(q::PURGE_EXPIRED_INVITES)?
                    .execute([gid, ms])?;
                if !inv.unique {
                    let reusable: Option<String> = c
                        .prepare_cached(q::REUSABLE_INVITE)?
                        .query_row(
                            params![
                                cid,
                                inv.inviter_id.as_i64(),
                                inv.max_age,
                                inv.max_uses,
                                inv.temporary,
                                ms
                            ],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(code) = reusable {
                        return Ok(Ok(c
                            .prepare_cached(q::INVITE)?
                            .query_row([code], invite_row)?));
                    }
                }
                if count(c, q::COUNT_CHANNEL_INVITES, [cid])? >= i64::from(guard.max_per_channel)
                    || count(c, q::COUNT_GUILD_INVITES, [gid])? >= i64::from(guard.max_per_guild)
                {
                    return Ok(Err(Refusal::LimitReached));
                }
                let expires = (inv.max_age > 0).then(|| ms + inv.max_age * 1000);
                c.prepare_cached(q::INSERT_INVITE)?.execute(params![
                    inv.code,
                    gid,
                    cid,
                    inv.inviter_id.as_i64(),
                    inv.max_age,
                    inv.max_uses,
                    inv.temporary,
                    ms,
                    expires
                ])?;
                insert_audit(c, &audit)?;
                Ok(Ok(c
                    .prepare_cached(q::INVITE)?
                    .query_row([&inv.code], invite_row)?))
            })
            .await
    }

    /// The invite with this code, expired or not.
    async fn invite(&self, code: &str) -> Result<Option<InviteRecord>> {
        let code = code.to_owned();
        self.readers
            .read(move |c| {
                Ok(c.prepare_cached(q::INVITE)?
                    .query_row([code], invite_row)
                    .optional()?)
            })
            .await
    }

    /// Live invites of a guild at `now`, oldest first.
    async fn guild_invites(&self, guild: GuildId, now: DateTime<Utc>) -> Result<Vec<InviteRecord>> {
        let ms = now.timestamp_millis();
        self.readers
            .read(move |c| rows(c, q::GUILD_INVITES, params![guild.as_i64(), ms], invite_row))
            .await
    }

    /// Live invites of a channel at `now`, oldest first.
    async fn channel_invites(
        &self,
        channel: ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Vec<InviteRecord>> {
        let ms = now.timestamp_millis();
        self.readers
            .read(move |c| {
                rows(
                    c,
                    q::CHANNEL_INVITES,
                    params![channel.as_i64(), ms],
                    invite_row,
                )
            })
            .await
    }

    /// Delete an invite; returns it.
    async fn delete_invite(
        &self,
        code: &str,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<InviteRecord>> {
        let (code, audit) = (code.to_owned(), audit.to_vec());
        self.writer
            .write(move |c| {
                let Some(invite) = c
                    .prepare_cached(q::INVITE)?
                    .query_row([&code], invite_row)
                    .optional()?
                else {
                    return Ok(None);
                };
                c.prepare_cached(q::DELETE_INVITE)?.execute([&code])?;
                insert_audit(c, &audit)?;
                Ok(Some(invite))
            })
            .await
    }

    /// In one transaction: check the invite is live at `now`, the user not banned,
    /// not a member and under `max_joined`; count the use (deleting the invite on its
    /// last one) and add the member. `NotFound` when the user does not exist.
    async fn join_by_invite(
        &self,
        code: &str,
        user: UserId,
        now: DateTime<Utc>,
        max_joined: u32,
    ) -> Result<Guarded<InviteJoin>> {
        let code = code.to_owned();
        let now = sql::truncate_to_ms(now);
        self.writer
            .write(move |c| {
                let uid = user.as_i64();
                if !exists(c, q::USER_EXISTS, [uid])? {
                    return Err(StoreError::NotFound);
                }
                let Some(invite) = c
                    .prepare_cached(q::INVITE)?
                    .query_row([&code], invite_row)
                    .optional()?
                else {
                    return Ok(Err(Refusal::InviteGone));
                };
                if invite.is_gone(now) {
                    return Ok(Err(Refusal::InviteGone));
                }
                let gid = invite.guild_id.as_i64();
                if let Err(refusal) = check_can_join(c, gid, uid, max_joined)? {
                    return Ok(Err(refusal));
                }
                let uses: i64 = c
                    .prepare_cached(q::USE_INVITE)?
                    .query_row(params![code, now.timestamp_millis()], |r| r.get(0))?;
                let invite_deleted = invite.max_uses > 0 && uses >= invite.max_uses;
                if invite_deleted {
                    c.prepare_cached(q::DELETE_INVITE)?.execute([&code])?;
                }
                let member = insert_member(c, gid, uid, invite.temporary, now)?;
                Ok(Ok(InviteJoin {
                    invite: InviteRecord { uses, ..invite },
                    member,
                    invite_deleted,
                }))
            })
            .await
    }
}

/// Whether a query with these parameters finds a row.
fn exists(c: &Connection, query: &str, p: impl Params) -> Result<bool> {
    Ok(c.prepare_cached(query)?.exists(p)?)
}

/// The single integer a `COUNT(*)`-like query returns.
fn count(c: &Connection, query: &str, p: impl Params) -> Result<i64> {
    Ok(c.prepare_cached(query)?.query_row(p, |r| r.get(0))?)
}

/// Every row of a query, decoded.
fn rows<T>(
    c: &Connection,
    query: &str,
    p: impl Params,
    decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(query)?;
    let rows = st.query_map(p, decode)?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// `Stale` unless the layout of guild `gid` is at `expected`; `NotFound` when
/// there is no such guild.
fn check_version(c: &Connection, gid: i64, expected: i64) -> Result<Guarded<()>> {
    let version: i64 = c
        .prepare_cached(q::LAYOUT_VERSION)?
        .query_row([gid], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok(if version == expected {
        Ok(())
    } else {
        Err(Refusal::Stale)
    })
}

/// Move the layout version on, after [`check_version`] passed.
fn bump_version(c: &Connection, gid: i64, expected: i64) -> Result<()> {
    c.prepare_cached(q::BUMP_LAYOUT)?.execute([gid, expected])?;
    Ok(())
}

/// Why user `uid` may not join guild `gid`, if anything stops them.
fn check_can_join(c: &Connection, gid: i64, uid: i64, max_joined: u32) -> Result<Guarded<()>> {
    if exists(c, q::IS_BANNED, [gid, uid])? {
        return Ok(Err(Refusal::Banned));
    }
    if exists(c, q::IS_MEMBER, [gid, uid])? {
        return Ok(Err(Refusal::AlreadyMember));
    }
    if count(c, q::COUNT_JOINED_GUILDS, [uid])? >= i64::from(max_joined) {
        return Ok(Err(Refusal::LimitReached));
    }
    Ok(Ok(()))
}

/// Insert a member and read it back.
fn insert_member(
    c: &Connection,
    gid: i64,
    uid: i64,
    temporary: bool,
    now: DateTime<Utc>,
) -> Result<MemberRecord> {
    c.prepare_cached(q::INSERT_MEMBER)?.execute(params![
        gid,
        uid,
        now.timestamp_millis(),
        temporary
    ])?;
    member_of(c, gid, uid)?.ok_or(StoreError::NotFound)
}

/// The member `uid` of guild `gid`.
fn member_of(c: &Connection, gid: i64, uid: i64) -> Result<Option<MemberRecord>> {
    Ok(c.prepare_cached(q::MEMBER)?
        .query_row([gid, uid], member_row)
        .optional()?)
}

/// Insert a role at `position`.
fn insert_role(c: &Connection, r: &NewRole, position: i64) -> Result<RoleRecord> {
    Ok(c.prepare_cached(q::INSERT_ROLE)?.query_row(
        params![
            r.id.as_i64(),
            r.guild_id.as_i64(),
            r.name,
            r.color,
            r.hoist,
            r.mentionable,
            permissions_i64(r.permissions),
            position,
            r.icon,
            r.unicode_emoji
        ],
        role_row,
    )?)
}

/// Insert a channel and its overwrites.
fn insert_channel(c: &Connection, ch: &NewChannel, now: DateTime<Utc>) -> Result<ChannelRecord> {
    let mut created = c.prepare_cached(q::INSERT_CHANNEL)?.query_row(
        params![
            ch.id.as_i64(),
            ch.guild_id.as_i64(),
            i64::from(ch.kind.value()),
            ch.name,
            ch.topic,
            ch.position,
            ch.parent_id.map(ChannelId::as_i64),
            ch.nsfw,
            ch.rate_limit_per_user,
            ch.bitrate,
            ch.user_limit,
            ch.rtc_region,
            now.timestamp_millis()
        ],
        channel_row,
    )?;
    for ow in &ch.overwrites {
        upsert_overwrite(c, ch.id.as_i64(), ow)?;
    }
    created.overwrites = overwrites_of(c, ch.id)?;
    Ok(created)
}

/// Create or replace one overwrite.
fn upsert_overwrite(c: &Connection, cid: i64, ow: &PermissionOverwrite) -> Result<()> {
    c.prepare_cached(q::UPSERT_OVERWRITE)?.execute(params![
        cid,
        ow.id.as_i64(),
        i64::from(ow.kind.value()),
        permissions_i64(ow.allow),
        permissions_i64(ow.deny)
    ])?;
    Ok(())
}

/// The overwrites of one channel, by target id.
fn overwrites_of(c: &Connection, id: ChannelId) -> Result<Vec<PermissionOverwrite>> {
    Ok(
        rows(c, q::OVERWRITES_OF_CHANNEL, [id.as_i64()], overwrite_row)?
            .into_iter()
            .map(|(_, o)| o)
            .collect(),
    )
}

/// Insert audit log entries.
fn insert_audit(c: &Connection, entries: &[AuditEntryRecord]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut st = c.prepare_cached(q::INSERT_AUDIT)?;
    for e in entries {
        st.execute(params![
            e.id.as_i64(),
            e.guild_id.as_i64(),
            e.user_id.map(UserId::as_i64),
            e.action_type,
            e.target_id,
            e.changes.as_ref().map(|v| v.to_string()),
            e.options.as_ref().map(|v| v.to_string()),
            e.reason
        ])?;
    }
    Ok(())
}

/// A bound value as SQLite stores it: booleans as 0/1, times as milliseconds.
fn bind(v: Bind) -> SqlValue {
    match v {
        Bind::Text(Some(s)) => SqlValue::Text(s),
        Bind::Int(Some(i)) => SqlValue::Integer(i),
        Bind::Bool(b) => SqlValue::Integer(i64::from(b)),
        Bind::Time(Some(t)) => SqlValue::Integer(t.timestamp_millis()),
        Bind::Text(None) | Bind::Int(None) | Bind::Time(None) => SqlValue::Null,
    }
}

/// A millisecond timestamp column.
fn time(r: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = r.get(idx)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            Type::Integer,
            format!("timestamp {ms} ms is out of range").into(),
        )
    })
}

/// A nullable millisecond timestamp column.
fn opt_time(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match r.get::<_, Option<i64>>(idx)? {
        Some(_) => time(r, idx).map(Some),
        None => Ok(None),
    }
}

/// A nullable JSON text column.
fn opt_json(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let Some(text) = r.get::<_, Option<String>>(idx)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// A `guilds` row, columns in `guild_columns!` order.
fn guild_row(r: &Row<'_>) -> rusqlite::Result<GuildRecord> {
    Ok(GuildRecord {
        id: GuildId::from_i64(r.get(0)?),
        name: r.get(1)?,
        icon: r.get(2)?,
        banner: r.get(3)?,
        splash: r.get(4)?,
        description: r.get(5)?,
        owner_id: UserId::from_i64(r.get(6)?),
        public: r.get(7)?,
        afk_channel_id: r.get::<_, Option<i64>>(8)?.map(ChannelId::from_i64),
        afk_timeout: r.get(9)?,
        system_channel_id: r.get::<_, Option<i64>>(10)?.map(ChannelId::from_i64),
        system_channel_flags: r.get(11)?,
        verification_level: r.get(12)?,
        default_message_notifications: r.get(13)?,
        explicit_content_filter: r.get(14)?,
        preferred_locale: r.get(15)?,
        created_at: time(r, 16)?,
    })
}

/// A guild row followed by its member count.
fn discovered_row(r: &Row<'_>) -> rusqlite::Result<DiscoveredGuild> {
    Ok(DiscoveredGuild {
        guild: guild_row(r)?,
        member_count: r.get::<_, i64>(17)?.max(0) as u64,
    })
}

/// A `roles` row.
fn role_row(r: &Row<'_>) -> rusqlite::Result<RoleRecord> {
    Ok(RoleRecord {
        id: RoleId::from_i64(r.get(0)?),
        guild_id: GuildId::from_i64(r.get(1)?),
        name: r.get(2)?,
        color: r.get(3)?,
        hoist: r.get(4)?,
        mentionable: r.get(5)?,
        permissions: permissions(r.get(6)?),
        position: r.get(7)?,
        icon: r.get(8)?,
        unicode_emoji: r.get(9)?,
    })
}

/// A `channels` row, without its overwrites.
fn channel_row(r: &Row<'_>) -> rusqlite::Result<ChannelRecord> {
    Ok(ChannelRecord {
        id: ChannelId::from_i64(r.get(0)?),
        guild_id: GuildId::from_i64(r.get(1)?),
        kind: channel_type(r.get(2)?),
        name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        topic: r.get(4)?,
        position: r.get(5)?,
        parent_id: r.get::<_, Option<i64>>(6)?.map(ChannelId::from_i64),
        nsfw: r.get(7)?,
        rate_limit_per_user: r.get(8)?,
        bitrate: r.get(9)?,
        user_limit: r.get(10)?,
        rtc_region: r.get(11)?,
        overwrites: Vec::new(),
        created_at: time(r, 12)?,
    })
}

/// A `channel_overwrites` row: the channel id and the overwrite.
fn overwrite_row(r: &Row<'_>) -> rusqlite::Result<(i64, PermissionOverwrite)> {
    Ok((
        r.get(0)?,
        PermissionOverwrite {
            id: Snowflake::from_i64(r.get(1)?),
            kind: overwrite_type(r.get(2)?),
            allow: permissions(r.get(3)?),
            deny: permissions(r.get(4)?),
        },
    ))
}

/// The user columns shared by the member, ban and invite queries, from `idx`:
/// id, username, global_name, avatar, banner, bot, system, flags.
fn user_summary(r: &Row<'_>, idx: usize) -> rusqlite::Result<UserSummary> {
    Ok(UserSummary {
        id: UserId::from_i64(r.get(idx)?),
        username: r.get(idx + 1)?,
        global_name: r.get(idx + 2)?,
        avatar: r.get(idx + 3)?,
        banner: r.get(idx + 4)?,
        bot: r.get(idx + 5)?,
        system: r.get(idx + 6)?,
        flags: r.get(idx + 7)?,
    })
}

/// A row of `member_select!`.
fn member_row(r: &Row<'_>) -> rusqlite::Result<MemberRecord> {
    Ok(MemberRecord {
        guild_id: GuildId::from_i64(r.get(0)?),
        user: user_summary(r, 1)?,
        nick: r.get(9)?,
        roles: role_list(r.get(10)?),
        joined_at: time(r, 11)?,
        deaf: r.get(12)?,
        mute: r.get(13)?,
        flags: r.get(14)?,
        temporary: r.get(15)?,
        communication_disabled_until: opt_time(r, 16)?,
    })
}

/// A row of `ban_select!`.
fn ban_row(r: &Row<'_>) -> rusqlite::Result<BanRecord> {
    Ok(BanRecord {
        guild_id: GuildId::from_i64(r.get(0)?),
        user: user_summary(r, 1)?,
        reason: r.get(9)?,
        moderator_id: r.get::<_, Option<i64>>(10)?.map(UserId::from_i64),
        delete_message_seconds: r.get(11)?,
        created_at: time(r, 12)?,
    })
}

/// A row of `invite_select!`.
fn invite_row(r: &Row<'_>) -> rusqlite::Result<InviteRecord> {
    let inviter = match r.get::<_, Option<String>>(4)? {
        Some(_) => Some(user_summary(r, 3)?),
        None => None,
    };
    Ok(InviteRecord {
        code: r.get(0)?,
        guild_id: GuildId::from_i64(r.get(1)?),
        channel_id: ChannelId::from_i64(r.get(2)?),
        inviter,
        max_age: r.get(11)?,
        max_uses: r.get(12)?,
        uses: r.get(13)?,
        temporary: r.get(14)?,
        created_at: time(r, 15)?,
        expires_at: opt_time(r, 16)?,
    })
}

/// An `audit_log` row.
fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditEntryRecord> {
    Ok(AuditEntryRecord {
        id: Snowflake::from_i64(r.get(0)?),
        guild_id: GuildId::from_i64(r.get(1)?),
        user_id: r.get::<_, Option<i64>>(2)?.map(UserId::from_i64),
        action_type: r.get(3)?,
        target_id: r.get(4)?,
        changes: opt_json(r, 5)?,
        options: opt_json(r, 6)?,
        reason: r.get(7)?,
    })
}

impl SqliteStore {
    /// Run `stmt` (add or remove one member role) once the member and the role
    /// are known to exist, with the audit entries when it changed something.
    async fn change_member_role(
        &self,
        stmt: &'static str,
        guild: GuildId,
        user: UserId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<bool> {
        let audit = audit.to_vec();
        self.writer
            .write(move |c| {
                let (gid, uid, rid) = (guild.as_i64(), user.as_i64(), role.as_i64());
                if !exists(c, q::IS_MEMBER, [gid, uid])?
                    || !exists(c, q::ROLE_IN_GUILD, [gid, rid])?
                {
                    return Err(StoreError::NotFound);
                }
                let changed = c.prepare_cached(stmt)?.execute([gid, uid, rid])? > 0;
                if changed {
                    insert_audit(c, &audit)?;
                }
                Ok(changed)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guilds::nick_key;
    use crate::migrations::SQLITE;

    #[test]
    fn guild_statements_prepare_and_number_parameters_in_order() {
        let c = Connection::open_in_memory().expect("in-memory database");
        for m in SQLITE {
            c.execute_batch(m.sql)
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
        }
        let guild_patch = GuildPatch {
            name: Some("n".into()),
            icon: Some(None),
            banner: Some(None),
            splash: Some(None),
            description: Some(None),
            owner_id: Some(UserId::from_i64(1)),
            public: Some(true),
            afk_channel_id: Some(None),
            afk_timeout: Some(60),
            system_channel_id: Some(None),
            system_channel_flags: Some(0),
            verification_level: Some(0),
            default_message_notifications: Some(0),
            explicit_content_filter: Some(0),
            preferred_locale: Some("fr".into()),
        };
        let role_patch = RolePatch {
            name: Some("r".into()),
            color: Some(1),
            hoist: Some(true),
            mentionable: Some(true),
            permissions: Some(beep_types::Permissions::ALL),
            icon: Some(None),
            unicode_emoji: Some(None),
        };
        let channel_patch = ChannelPatch {
            name: Some("c".into()),
            topic: Some(None),
            nsfw: Some(true),
            rate_limit_per_user: Some(0),
            bitrate: Some(64_000),
            user_limit: Some(0),
            rtc_region: Some(None),
            position: Some(1),
            parent_id: Some(None),
            overwrites: None,
        };
        let member_patch = MemberPatch {
            nick: Some(None),
            roles: None,
            mute: Some(true),
            deaf: Some(true),
            communication_disabled_until: Some(None),
        };
        let dynamic = [
            q::guild_update(1, &guild_patch),
            q::role_update(1, 2, &role_patch),
            q::channel_update(1, 2, &channel_patch),
            q::member_update(1, 2, &member_patch),
        ]
        .map(|u| u.expect("non-empty").sql);
        for text in q::ALL
            .iter()
            .copied()
            .chain(dynamic.iter().map(String::as_str))
        {
            let st = c.prepare(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for i in 1..=st.parameter_count() {
                assert_eq!(
                    st.parameter_name(i),
                    Some(format!("${i}").as_str()),
                    "parameter {i} of `{text}` is out of order"
                );
            }
        }
    }

    #[test]
    fn nick_keys_are_folded() {
        assert_eq!(nick_key(Some("ÉLodie")).as_deref(), Some("elodie"));
        assert_eq!(nick_key(None), None);
    }
}
