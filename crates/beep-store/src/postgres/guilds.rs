//! Guilds, roles, channels, members, bans, invites and the audit log on
//! PostgreSQL. Same methods, order and comments as `sqlite/guilds.rs`.
//!
//! Multi-row writes run in one transaction. Writes whose checks must hold until
//! they commit take a row lock first: the user's row for anything that counts a
//! user's guilds or bans them, the guild's row for anything that counts or
//! renumbers a guild's roles, channels or invites (the layout compare-and-set
//! locks it by updating it). A refusal drops the transaction, which rolls back.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use beep_types::v10::channel::PermissionOverwrite;
use beep_types::{ChannelId, GuildId, RoleId, Snowflake, UserId};

use super::PostgresStore;
use crate::guilds::{
    channel_type, overwrite_type, permissions, permissions_i64, prefix_pattern, role_list,
};
use crate::sql;
use crate::sql_guilds::{self as q, Bind};
use crate::{
    AuditEntryRecord, AuditQuery, BanRecord, ChannelLayout, ChannelMove, ChannelPatch,
    ChannelRecord, ChannelStore, DiscoveredGuild, DiscoveryResults, Guarded, GuildCreateGuard,
    GuildPatch, GuildRecord, GuildStore, InviteGuard, InviteJoin, InviteRecord, InviteStore,
    MemberPatch, MemberRecord, MemberStore, NewBan, NewChannel, NewGuild, NewInvite, NewMember,
    NewRole, Refusal, Result, RolePatch, RoleRecord, StoreError, UserSummary,
};

/// Statement parameters.
type Params<'a> = [&'a (dyn ToSql + Sync)];

#[async_trait]
impl GuildStore for PostgresStore {
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
        let now = sql::now();
        let owner = g.owner_id.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_USER, &[&owner]).await? {
            return Err(StoreError::NotFound);
        }
        if count(&tx, q::COUNT_OWNED_GUILDS, &[&owner]).await? >= i64::from(guard.max_owned)
            || count(&tx, q::COUNT_JOINED_GUILDS, &[&owner]).await? >= i64::from(guard.max_joined)
        {
            return Ok(Err(Refusal::LimitReached));
        }
        if guard.per_window > 0 {
            let since = now - chrono::Duration::milliseconds(guard.window_ms);
            let st = tx.prepare_cached(q::RECENT_CREATIONS).await?;
            let row = tx.query_one(&st, &[&owner, &since]).await?;
            let n: i64 = row.try_get(0)?;
            if n >= i64::from(guard.per_window) {
                let oldest: Option<DateTime<Utc>> = row.try_get(1)?;
                let oldest = oldest.unwrap_or(since);
                let retry_after_ms =
                    (oldest.timestamp_millis() + guard.window_ms - now.timestamp_millis()).max(1);
                return Ok(Err(Refusal::RateLimited { retry_after_ms }));
            }
        }
        let st = tx.prepare_cached(q::INSERT_GUILD).await?;
        let row = tx
            .query_one(
                &st,
                &[
                    &g.id.as_i64(),
                    &g.name,
                    &g.icon,
                    &g.description,
                    &owner,
                    &g.public,
                    &g.preferred_locale,
                    &g.system_channel_id.map(ChannelId::as_i64),
                    &g.verification_level,
                    &g.default_message_notifications,
                    &g.explicit_content_filter,
                    &now,
                ],
            )
            .await?;
        let guild = guild_row(&row)?;
        crate::discovery::pg_index(
            &tx,
            guild.id.as_i64(),
            &guild.name,
            guild.description.as_deref(),
        )
        .await?;
        insert_role(&tx, everyone, 0).await?;
        for ch in channels {
            insert_channel(&tx, ch, now).await?;
        }
        let st = tx.prepare_cached(q::INSERT_MEMBER).await?;
        tx.execute(&st, &[&g.id.as_i64(), &owner, &now, &false])
            .await?;
        tx.commit().await?;
        Ok(Ok(guild))
    }

    /// The guild with this id.
    async fn guild(&self, id: GuildId) -> Result<Option<GuildRecord>> {
        let c = self.client().await?;
        opt(&c, q::GUILD_BY_ID, &[&id.as_i64()], guild_row).await
    }

    /// Apply a patch and record `audit`; `NotFound` when there is no such guild,
    /// `Refusal::NotMember` when the new owner is not a member.
    async fn update_guild(
        &self,
        id: GuildId,
        patch: &GuildPatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<GuildRecord>> {
        let gid = id.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_GUILD, &[&gid]).await? {
            return Err(StoreError::NotFound);
        }
        if let Some(owner) = patch.owner_id
            && !exists(&tx, q::IS_MEMBER, &[&gid, &owner.as_i64()]).await?
        {
            return Ok(Err(Refusal::NotMember));
        }
        let guild = match q::guild_update(gid, patch) {
            Some(u) => {
                let values = binds(u.values);
                opt(&tx, &u.sql, &params(&values), guild_row).await?
            }
            None => opt(&tx, q::GUILD_BY_ID, &[&gid], guild_row).await?,
        };
        let guild = guild.ok_or(StoreError::NotFound)?;
        if patch.name.is_some() || patch.description.is_some() {
            crate::discovery::pg_index(&tx, gid, &guild.name, guild.description.as_deref()).await?;
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(guild))
    }

    /// Delete a guild and everything in it; returns whether it existed.
    async fn delete_guild(&self, id: GuildId) -> Result<bool> {
        // Roles, channels, members, bans, invites and the audit log go with it
        // through `ON DELETE CASCADE`.
        let c = self.client().await?;
        let st = c.prepare_cached(q::DELETE_GUILD).await?;
        Ok(c.execute(&st, &[&id.as_i64()]).await? > 0)
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
        let c = self.client().await?;
        rows(
            &c,
            q::GUILDS_OF_USER,
            &[&user.as_i64(), &after, &before, &i64::from(limit)],
            guild_row,
        )
        .await
    }

    /// Member counts of every guild `user` is a member of.
    async fn member_counts_of_user_guilds(&self, user: UserId) -> Result<Vec<(GuildId, u64)>> {
        let c = self.client().await?;
        rows(&c, q::MEMBER_COUNTS_OF_USER, &[&user.as_i64()], |r| {
            Ok((
                GuildId::from_i64(r.try_get(0)?),
                r.try_get::<_, i64>(1)?.max(0) as u64,
            ))
        })
        .await
    }

    /// How many members a guild has.
    async fn member_count(&self, guild: GuildId) -> Result<u64> {
        let c = self.client().await?;
        Ok(count(&c, q::MEMBER_COUNT, &[&guild.as_i64()]).await?.max(0) as u64)
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
        let c = self.client().await?;
        let (total, guilds) = if query.trim().is_empty() {
            (
                count(&c, q::DISCOVER_ALL_COUNT, &[]).await?,
                rows(&c, q::DISCOVER_ALL, &[&limit, &offset], discovered_row).await?,
            )
        } else {
            let Some(text) = crate::discovery::pg_tsquery(query) else {
                return Ok(DiscoveryResults {
                    total: 0,
                    guilds: Vec::new(),
                });
            };
            (
                count(&c, q::PG_DISCOVER_COUNT, &[&text]).await?,
                rows(
                    &c,
                    q::PG_DISCOVER,
                    &[&text, &limit, &offset],
                    discovered_row,
                )
                .await?,
            )
        };
        Ok(DiscoveryResults {
            total: total.max(0) as u64,
            guilds,
        })
    }

    /// The roles of a guild by position, then id.
    async fn roles(&self, guild: GuildId) -> Result<Vec<RoleRecord>> {
        let c = self.client().await?;
        rows(&c, q::ROLES_OF_GUILD, &[&guild.as_i64()], role_row).await
    }

    /// Create a role at position 1, moving the others up, unless the guild has
    /// `max_roles` roles besides `@everyone`. `NotFound` when there is no such guild.
    async fn create_role(
        &self,
        r: &NewRole,
        max_roles: u32,
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<RoleRecord>> {
        let gid = r.guild_id.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_GUILD, &[&gid]).await? {
            return Err(StoreError::NotFound);
        }
        if count(&tx, q::COUNT_ROLES, &[&gid]).await? >= i64::from(max_roles) {
            return Ok(Err(Refusal::LimitReached));
        }
        execute(&tx, q::SHIFT_ROLES_UP, &[&gid]).await?;
        let role = insert_role(&tx, r, 1).await?;
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(role))
    }

    /// Apply a patch to a role of this guild; `None` when the guild has no such role.
    async fn update_role(
        &self,
        guild: GuildId,
        role: RoleId,
        patch: &RolePatch,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>> {
        let (gid, rid) = (guild.as_i64(), role.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let updated = match q::role_update(gid, rid, patch) {
            Some(u) => {
                let values = binds(u.values);
                opt(&tx, &u.sql, &params(&values), role_row).await?
            }
            None => opt(&tx, q::ROLE_BY_ID, &[&gid, &rid], role_row).await?,
        };
        if updated.is_some() {
            insert_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// Give every role of the guild but `@everyone` the position listed for it;
    /// `Refusal::Stale` unless the list names exactly those roles. Returns every role.
    async fn set_role_positions(
        &self,
        guild: GuildId,
        positions: &[(RoleId, i64)],
        audit: &[AuditEntryRecord],
    ) -> Result<Guarded<Vec<RoleRecord>>> {
        let gid = guild.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_GUILD, &[&gid]).await? {
            return Err(StoreError::NotFound);
        }
        let current: BTreeSet<i64> = rows(&tx, q::ROLE_IDS, &[&gid], |r| Ok(r.try_get(0)?))
            .await?
            .into_iter()
            .collect();
        let given: BTreeSet<i64> = positions.iter().map(|(id, _)| id.as_i64()).collect();
        if given != current || given.len() != positions.len() {
            return Ok(Err(Refusal::Stale));
        }
        let st = tx.prepare_cached(q::SET_ROLE_POSITION).await?;
        for (id, position) in positions {
            tx.execute(&st, &[position, &gid, &id.as_i64()]).await?;
        }
        insert_audit(&tx, audit).await?;
        let roles = rows(&tx, q::ROLES_OF_GUILD, &[&gid], role_row).await?;
        tx.commit().await?;
        Ok(Ok(roles))
    }

    /// Delete a role of this guild (not `@everyone`), its overwrites and its
    /// assignments, closing the gap in positions; `None` when there is no such role.
    async fn delete_role(
        &self,
        guild: GuildId,
        role: RoleId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<RoleRecord>> {
        let (gid, rid) = (guild.as_i64(), role.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_GUILD, &[&gid]).await? {
            return Ok(None);
        }
        let Some(deleted) = opt(&tx, q::DELETE_ROLE, &[&gid, &rid], role_row).await? else {
            return Ok(None);
        };
        execute(&tx, q::CLOSE_ROLE_GAP, &[&gid, &deleted.position]).await?;
        execute(&tx, q::DELETE_ROLE_OVERWRITES, &[&rid, &gid]).await?;
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Some(deleted))
    }

    /// Newest entries of a guild's audit log matching the query.
    async fn audit_log(&self, guild: GuildId, aq: &AuditQuery) -> Result<Vec<AuditEntryRecord>> {
        let forward = aq.after.is_some() && aq.before.is_none();
        let sql = if forward {
            q::AUDIT_LOG_ASC
        } else {
            q::AUDIT_LOG_DESC
        };
        let c = self.client().await?;
        let mut entries = rows(
            &c,
            sql,
            &[
                &guild.as_i64(),
                &aq.user_id.map(UserId::as_i64),
                &aq.action_type,
                &aq.before.map_or(i64::MAX, Snowflake::as_i64),
                &aq.after.map_or(0, Snowflake::as_i64),
                &i64::from(aq.limit),
            ],
            audit_row,
        )
        .await?;
        if forward {
            entries.reverse();
        }
        Ok(entries)
    }
}

#[async_trait]
impl ChannelStore for PostgresStore {
    /// The guild channel with this id.
    async fn guild_channel(&self, id: ChannelId) -> Result<Option<ChannelRecord>> {
        let c = self.client().await?;
        let Some(mut ch) = opt(&c, q::CHANNEL_BY_ID, &[&id.as_i64()], channel_row).await? else {
            return Ok(None);
        };
        ch.overwrites = overwrites_of(&c, id).await?;
        Ok(Some(ch))
    }

    /// The channels of a guild and their layout version; `NotFound` when there is
    /// no such guild.
    async fn channel_layout(&self, guild: GuildId) -> Result<ChannelLayout> {
        let gid = guild.as_i64();
        let c = self.client().await?;
        // The version is read first: a write landing between the two reads makes
        // the version look older than the channels, so the caller's
        // compare-and-set fails and it reads again, never the reverse.
        let version: i64 = opt(&c, q::LAYOUT_VERSION, &[&gid], |r| Ok(r.try_get(0)?))
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut channels = rows(&c, q::CHANNELS_OF_GUILD, &[&gid], channel_row).await?;
        let mut by_channel: HashMap<i64, Vec<PermissionOverwrite>> = HashMap::new();
        for (channel, ow) in rows(&c, q::OVERWRITES_OF_GUILD, &[&gid], overwrite_row).await? {
            by_channel.entry(channel).or_default().push(ow);
        }
        for ch in &mut channels {
            ch.overwrites = by_channel.remove(&ch.id.as_i64()).unwrap_or_default();
        }
        Ok(ChannelLayout { version, channels })
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
        let now = sql::now();
        let gid = ch.guild_id.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if let Err(refusal) = bump_version(&tx, gid, expected_version).await? {
            return Ok(Err(refusal));
        }
        if count(&tx, q::COUNT_CHANNELS, &[&gid]).await? >= i64::from(max_channels) {
            return Ok(Err(Refusal::LimitReached));
        }
        let created = insert_channel(&tx, ch, now).await?;
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(created))
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
        let (gid, cid) = (guild.as_i64(), id.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if patch.is_structural() {
            let Some(expected) = expected_version else {
                return Ok(Err(Refusal::Stale));
            };
            if let Err(refusal) = bump_version(&tx, gid, expected).await? {
                return Ok(Err(refusal));
            }
        }
        let updated = match q::channel_update(gid, cid, patch) {
            Some(u) => {
                let values = binds(u.values);
                opt(&tx, &u.sql, &params(&values), channel_row).await?
            }
            None => opt(&tx, q::CHANNEL_IN_GUILD, &[&gid, &cid], channel_row).await?,
        };
        let Some(mut updated) = updated else {
            return Err(StoreError::NotFound);
        };
        if let Some(overwrites) = &patch.overwrites {
            execute(&tx, q::DELETE_OVERWRITES_OF_CHANNEL, &[&cid]).await?;
            for ow in overwrites {
                upsert_overwrite(&tx, cid, ow).await?;
            }
        }
        updated.overwrites = overwrites_of(&tx, id).await?;
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(updated))
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
        let gid = guild.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if let Err(refusal) = bump_version(&tx, gid, expected_version).await? {
            return Ok(Err(refusal));
        }
        let mut moved = Vec::with_capacity(moves.len());
        for m in moves {
            let mut ch = opt(
                &tx,
                q::MOVE_CHANNEL,
                &[
                    &m.position,
                    &m.parent_id.map(ChannelId::as_i64),
                    &gid,
                    &m.id.as_i64(),
                ],
                channel_row,
            )
            .await?
            .ok_or(StoreError::NotFound)?;
            if let Some(overwrites) = &m.overwrites {
                execute(&tx, q::DELETE_OVERWRITES_OF_CHANNEL, &[&m.id.as_i64()]).await?;
                for ow in overwrites {
                    upsert_overwrite(&tx, m.id.as_i64(), ow).await?;
                }
            }
            ch.overwrites = overwrites_of(&tx, m.id).await?;
            moved.push(ch);
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(moved))
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
        let gid = guild.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if let Err(refusal) = bump_version(&tx, gid, expected_version).await? {
            return Ok(Err(refusal));
        }
        // Read every record first: deleting a folder cascades to what is inside
        // it, which could then no longer be read.
        let mut deleted = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(mut ch) =
                opt(&tx, q::CHANNEL_IN_GUILD, &[&gid, &id.as_i64()], channel_row).await?
            {
                ch.overwrites = overwrites_of(&tx, *id).await?;
                deleted.push(ch);
            }
        }
        for ch in &deleted {
            let cid = ch.id.as_i64();
            execute(&tx, q::CLEAR_CHANNEL_REFS, &[&cid, &gid]).await?;
            execute(&tx, q::DELETE_CHANNEL, &[&gid, &cid]).await?;
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Ok(deleted))
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
        let cid = channel.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::CHANNEL_IN_GUILD, &[&guild.as_i64(), &cid]).await? {
            return Err(StoreError::NotFound);
        }
        let previous = opt(&tx, q::OVERWRITE, &[&cid, &ow.id.as_i64()], overwrite_row)
            .await?
            .map(|(_, o)| o);
        upsert_overwrite(&tx, cid, ow).await?;
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(previous)
    }

    /// Delete the overwrite of `target` on a channel of this guild; returns it.
    async fn delete_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
        target: Snowflake,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<PermissionOverwrite>> {
        let cid = channel.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::CHANNEL_IN_GUILD, &[&guild.as_i64(), &cid]).await? {
            return Err(StoreError::NotFound);
        }
        let previous = opt(&tx, q::OVERWRITE, &[&cid, &target.as_i64()], overwrite_row)
            .await?
            .map(|(_, o)| o);
        if previous.is_some() {
            execute(&tx, q::DELETE_OVERWRITE, &[&cid, &target.as_i64()]).await?;
            insert_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(previous)
    }
}

#[async_trait]
impl MemberStore for PostgresStore {
    /// Add a member unless banned, already a member, or in `max_joined` guilds.
    /// `NotFound` when the guild or the user does not exist.
    async fn add_member(&self, m: &NewMember, max_joined: u32) -> Result<Guarded<MemberRecord>> {
        let now = sql::now();
        let (gid, uid) = (m.guild_id.as_i64(), m.user_id.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_USER, &[&uid]).await?
            || !exists(&tx, q::GUILD_EXISTS, &[&gid]).await?
        {
            return Err(StoreError::NotFound);
        }
        if let Err(refusal) = check_can_join(&tx, gid, uid, max_joined).await? {
            return Ok(Err(refusal));
        }
        let member = insert_member(&tx, gid, uid, m.temporary, now).await?;
        tx.commit().await?;
        Ok(Ok(member))
    }

    /// The member `user` of `guild`.
    async fn member(&self, guild: GuildId, user: UserId) -> Result<Option<MemberRecord>> {
        let c = self.client().await?;
        member_of(&c, guild.as_i64(), user.as_i64()).await
    }

    /// Members by user id, after `after`, at most `limit`.
    async fn members(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>> {
        let after = after.map_or(0, UserId::as_i64);
        let c = self.client().await?;
        rows(
            &c,
            q::MEMBERS,
            &[&guild.as_i64(), &after, &i64::from(limit)],
            member_row,
        )
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
        let c = self.client().await?;
        rows(
            &c,
            q::SEARCH_MEMBERS,
            &[&guild.as_i64(), &pattern, &folded, &i64::from(limit)],
            member_row,
        )
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
        let (gid, uid) = (guild.as_i64(), user.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::IS_MEMBER, &[&gid, &uid]).await? {
            return Ok(None);
        }
        if let Some(u) = q::member_update(gid, uid, patch) {
            let values = binds(u.values);
            execute(&tx, &u.sql, &params(&values)).await?;
        }
        if let Some(roles) = &patch.roles {
            execute(&tx, q::DELETE_MEMBER_ROLES, &[&gid, &uid]).await?;
            let st = tx.prepare_cached(q::ADD_MEMBER_ROLE).await?;
            for role in roles {
                tx.execute(&st, &[&gid, &uid, &role.as_i64()]).await?;
            }
        }
        insert_audit(&tx, audit).await?;
        let member = member_of(&tx, gid, uid).await?;
        tx.commit().await?;
        Ok(member)
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
        let (gid, uid) = (guild.as_i64(), user.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(member) = member_of(&tx, gid, uid).await? else {
            return Ok(None);
        };
        if execute(&tx, q::DELETE_MEMBER, &[&gid, &uid]).await? == 0 {
            // Removed by a concurrent call; that one reports it.
            return Ok(None);
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Some(member))
    }

    /// Ban a user (replacing an earlier ban) and remove them from the guild, in one
    /// transaction; returns the ban and the member removed. `NotFound` when the
    /// guild or the user does not exist.
    async fn ban_member(
        &self,
        b: &NewBan,
        audit: &[AuditEntryRecord],
    ) -> Result<(BanRecord, Option<MemberRecord>)> {
        let now = sql::now();
        let (gid, uid) = (b.guild_id.as_i64(), b.user_id.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The user's row lock orders this against a concurrent join, which takes
        // it too: either the join sees the ban, or the ban sees the member.
        if !exists(&tx, q::PG_LOCK_USER, &[&uid]).await?
            || !exists(&tx, q::GUILD_EXISTS, &[&gid]).await?
        {
            return Err(StoreError::NotFound);
        }
        let member = member_of(&tx, gid, uid).await?;
        execute(
            &tx,
            q::UPSERT_BAN,
            &[
                &gid,
                &uid,
                &b.reason,
                &b.moderator_id.map(UserId::as_i64),
                &b.delete_message_seconds,
                &now,
            ],
        )
        .await?;
        if member.is_some() {
            execute(&tx, q::DELETE_MEMBER, &[&gid, &uid]).await?;
        }
        insert_audit(&tx, audit).await?;
        let ban = opt(&tx, q::BAN, &[&gid, &uid], ban_row)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((ban, member))
    }

    /// The ban of `user` in `guild`.
    async fn ban(&self, guild: GuildId, user: UserId) -> Result<Option<BanRecord>> {
        let c = self.client().await?;
        opt(&c, q::BAN, &[&guild.as_i64(), &user.as_i64()], ban_row).await
    }

    /// Bans by user id, after `after` or before `before`, at most `limit`.
    async fn bans(
        &self,
        guild: GuildId,
        after: Option<UserId>,
        before: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<BanRecord>> {
        let limit = i64::from(limit);
        let c = self.client().await?;
        match (before, after) {
            (Some(before), None) => {
                let mut bans = rows(
                    &c,
                    q::BANS_BEFORE,
                    &[&guild.as_i64(), &before.as_i64(), &limit],
                    ban_row,
                )
                .await?;
                bans.reverse();
                Ok(bans)
            }
            _ => {
                rows(
                    &c,
                    q::BANS_AFTER,
                    &[&guild.as_i64(), &after.map_or(0, UserId::as_i64), &limit],
                    ban_row,
                )
                .await
            }
        }
    }

    /// Lift a ban; returns it.
    async fn unban(
        &self,
        guild: GuildId,
        user: UserId,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<BanRecord>> {
        let (gid, uid) = (guild.as_i64(), user.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(ban) = opt(&tx, q::BAN, &[&gid, &uid], ban_row).await? else {
            return Ok(None);
        };
        if execute(&tx, q::DELETE_BAN, &[&gid, &uid]).await? == 0 {
            return Ok(None);
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Some(ban))
    }
}

#[async_trait]
impl InviteStore for PostgresStore {
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
        let now = sql::truncate_to_ms(now);
        let (gid, cid) = (inv.guild_id.as_i64(), inv.channel_id.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_GUILD, &[&gid]).await?
            || !exists(&tx, q::CHANNEL_IN_GUILD, &[&gid, &cid]).await?
        {
            return Err(StoreError::NotFound);
        }
        execute(&tx, q::PURGE_EXPIRED_INVITES, &[&gid, &now]).await?;
        if !inv.unique {
            let reusable: Option<String> = opt(
                &tx,
                q::REUSABLE_INVITE,
                &[
                    &cid,
                    &inv.inviter_id.as_i64(),
                    &inv.max_age,
                    &inv.max_uses,
                    &inv.temporary,
                    &now,
                ],
                |r| Ok(r.try_get(0)?),
            )
            .await?;
            if let Some(code) = reusable {
                let found = opt(&tx, q::INVITE, &[&code], invite_row)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                tx.commit().await?;
                return Ok(Ok(found));
            }
        }
        if count(&tx, q::COUNT_CHANNEL_INVITES, &[&cid]).await? >= i64::from(guard.max_per_channel)
            || count(&tx, q::COUNT_GUILD_INVITES, &[&gid]).await? >= i64::from(guard.max_per_guild)
        {
            return Ok(Err(Refusal::LimitReached));
        }
        let expires = (inv.max_age > 0).then(|| now + chrono::Duration::seconds(inv.max_age));
        execute(
            &tx,
            q::INSERT_INVITE,
            &[
                &inv.code,
                &gid,
                &cid,
                &inv.inviter_id.as_i64(),
                &inv.max_age,
                &inv.max_uses,
                &inv.temporary,
                &now,
                &expires,
            ],
        )
        .await?;
        insert_audit(&tx, audit).await?;
        let created = opt(&tx, q::INVITE, &[&inv.code], invite_row)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(Ok(created))
    }

    /// The invite with this code, expired or not.
    async fn invite(&self, code: &str) -> Result<Option<InviteRecord>> {
        let c = self.client().await?;
        opt(&c, q::INVITE, &[&code], invite_row).await
    }

    /// Live invites of a guild at `now`, oldest first.
    async fn guild_invites(&self, guild: GuildId, now: DateTime<Utc>) -> Result<Vec<InviteRecord>> {
        let c = self.client().await?;
        rows(&c, q::GUILD_INVITES, &[&guild.as_i64(), &now], invite_row).await
    }

    /// Live invites of a channel at `now`, oldest first.
    async fn channel_invites(
        &self,
        channel: ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Vec<InviteRecord>> {
        let c = self.client().await?;
        rows(
            &c,
            q::CHANNEL_INVITES,
            &[&channel.as_i64(), &now],
            invite_row,
        )
        .await
    }

    /// Delete an invite; returns it.
    async fn delete_invite(
        &self,
        code: &str,
        audit: &[AuditEntryRecord],
    ) -> Result<Option<InviteRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(invite) = opt(&tx, q::INVITE, &[&code], invite_row).await? else {
            return Ok(None);
        };
        if execute(&tx, q::DELETE_INVITE, &[&code]).await? == 0 {
            return Ok(None);
        }
        insert_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(Some(invite))
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
        let now = sql::truncate_to_ms(now);
        let uid = user.as_i64();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::PG_LOCK_USER, &[&uid]).await? {
            return Err(StoreError::NotFound);
        }
        let Some(invite) = opt(&tx, q::INVITE, &[&code], invite_row).await? else {
            return Ok(Err(Refusal::InviteGone));
        };
        if invite.is_gone(now) {
            return Ok(Err(Refusal::InviteGone));
        }
        let gid = invite.guild_id.as_i64();
        if let Err(refusal) = check_can_join(&tx, gid, uid, max_joined).await? {
            return Ok(Err(refusal));
        }
        // The conditional update takes the invite's row lock and re-checks it, so
        // two users racing for the last use cannot both get it.
        let Some(uses) = opt(&tx, q::USE_INVITE, &[&code, &now], |r| {
            Ok(r.try_get::<_, i64>(0)?)
        })
        .await?
        else {
            return Ok(Err(Refusal::InviteGone));
        };
        let invite_deleted = invite.max_uses > 0 && uses >= invite.max_uses;
        if invite_deleted {
            execute(&tx, q::DELETE_INVITE, &[&code]).await?;
        }
        let member = insert_member(&tx, gid, uid, invite.temporary, now).await?;
        tx.commit().await?;
        Ok(Ok(InviteJoin {
            invite: InviteRecord { uses, ..invite },
            member,
            invite_deleted,
        }))
    }
}

/// Run a statement; returns the rows it changed.
async fn execute<C: GenericClient>(c: &C, query: &str, p: &Params<'_>) -> Result<u64> {
    let st = c.prepare_cached(query).await?;
    Ok(c.execute(&st, p).await?)
}

/// Whether a query finds a row.
async fn exists<C: GenericClient>(c: &C, query: &str, p: &Params<'_>) -> Result<bool> {
    let st = c.prepare_cached(query).await?;
    Ok(c.query_opt(&st, p).await?.is_some())
}

/// The single integer a `COUNT(*)`-like query returns.
async fn count<C: GenericClient>(c: &C, query: &str, p: &Params<'_>) -> Result<i64> {
    let st = c.prepare_cached(query).await?;
    Ok(c.query_one(&st, p).await?.try_get(0)?)
}

/// The first row of a query, decoded.
async fn opt<C: GenericClient, T>(
    c: &C,
    query: &str,
    p: &Params<'_>,
    decode: impl Fn(&Row) -> Result<T>,
) -> Result<Option<T>> {
    let st = c.prepare_cached(query).await?;
    c.query_opt(&st, p).await?.as_ref().map(decode).transpose()
}

/// Every row of a query, decoded.
async fn rows<C: GenericClient, T>(
    c: &C,
    query: &str,
    p: &Params<'_>,
    decode: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let st = c.prepare_cached(query).await?;
    c.query(&st, p).await?.iter().map(decode).collect()
}

/// Compare-and-set the layout version of guild `gid` (which locks its row);
/// `Stale` when it moved on, `NotFound` when there is no such guild.
async fn bump_version<C: GenericClient>(c: &C, gid: i64, expected: i64) -> Result<Guarded<()>> {
    if execute(c, q::BUMP_LAYOUT, &[&gid, &expected]).await? == 1 {
        return Ok(Ok(()));
    }
    if exists(c, q::GUILD_EXISTS, &[&gid]).await? {
        Ok(Err(Refusal::Stale))
    } else {
        Err(StoreError::NotFound)
    }
}

/// Why user `uid` may not join guild `gid`, if anything stops them.
async fn check_can_join<C: GenericClient>(
    c: &C,
    gid: i64,
    uid: i64,
    max_joined: u32,
) -> Result<Guarded<()>> {
    if exists(c, q::IS_BANNED, &[&gid, &uid]).await? {
        return Ok(Err(Refusal::Banned));
    }
    if exists(c, q::IS_MEMBER, &[&gid, &uid]).await? {
        return Ok(Err(Refusal::AlreadyMember));
    }
    if count(c, q::COUNT_JOINED_GUILDS, &[&uid]).await? >= i64::from(max_joined) {
        return Ok(Err(Refusal::LimitReached));
    }
    Ok(Ok(()))
}

/// Insert a member and read it back.
async fn insert_member<C: GenericClient>(
    c: &C,
    gid: i64,
    uid: i64,
    temporary: bool,
    now: DateTime<Utc>,
) -> Result<MemberRecord> {
    execute(c, q::INSERT_MEMBER, &[&gid, &uid, &now, &temporary]).await?;
    member_of(c, gid, uid).await?.ok_or(StoreError::NotFound)
}

/// The member `uid` of guild `gid`.
async fn member_of<C: GenericClient>(c: &C, gid: i64, uid: i64) -> Result<Option<MemberRecord>> {
    opt(c, q::MEMBER, &[&gid, &uid], member_row).await
}

/// Insert a role at `position`.
async fn insert_role<C: GenericClient>(c: &C, r: &NewRole, position: i64) -> Result<RoleRecord> {
    opt(
        c,
        q::INSERT_ROLE,
        &[
            &r.id.as_i64(),
            &r.guild_id.as_i64(),
            &r.name,
            &r.color,
            &r.hoist,
            &r.mentionable,
            &permissions_i64(r.permissions),
            &position,
            &r.icon,
            &r.unicode_emoji,
        ],
        role_row,
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// Insert a channel and its overwrites.
async fn insert_channel<C: GenericClient>(
    c: &C,
    ch: &NewChannel,
    now: DateTime<Utc>,
) -> Result<ChannelRecord> {
    let mut created = opt(
        c,
        q::INSERT_CHANNEL,
        &[
            &ch.id.as_i64(),
            &ch.guild_id.as_i64(),
            &i64::from(ch.kind.value()),
            &ch.name,
            &ch.topic,
            &ch.position,
            &ch.parent_id.map(ChannelId::as_i64),
            &ch.nsfw,
            &ch.rate_limit_per_user,
            &ch.bitrate,
            &ch.user_limit,
            &ch.rtc_region,
            &now,
        ],
        channel_row,
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    for ow in &ch.overwrites {
        upsert_overwrite(c, ch.id.as_i64(), ow).await?;
    }
    created.overwrites = overwrites_of(c, ch.id).await?;
    Ok(created)
}

/// Create or replace one overwrite.
async fn upsert_overwrite<C: GenericClient>(
    c: &C,
    cid: i64,
    ow: &PermissionOverwrite,
) -> Result<()> {
    execute(
        c,
        q::UPSERT_OVERWRITE,
        &[
            &cid,
            &ow.id.as_i64(),
            &i64::from(ow.kind.value()),
            &permissions_i64(ow.allow),
            &permissions_i64(ow.deny),
        ],
    )
    .await?;
    Ok(())
}

/// The overwrites of one channel, by target id.
async fn overwrites_of<C: GenericClient>(c: &C, id: ChannelId) -> Result<Vec<PermissionOverwrite>> {
    Ok(
        rows(c, q::OVERWRITES_OF_CHANNEL, &[&id.as_i64()], overwrite_row)
            .await?
            .into_iter()
            .map(|(_, o)| o)
            .collect(),
    )
}

/// Insert audit log entries.
async fn insert_audit<C: GenericClient>(c: &C, entries: &[AuditEntryRecord]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let st = c.prepare_cached(q::INSERT_AUDIT).await?;
    for e in entries {
        c.execute(
            &st,
            &[
                &e.id.as_i64(),
                &e.guild_id.as_i64(),
                &e.user_id.map(UserId::as_i64),
                &e.action_type,
                &e.target_id,
                &e.changes,
                &e.options,
                &e.reason,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Bound values as PostgreSQL takes them: BOOLEAN and TIMESTAMPTZ natively.
fn binds(values: Vec<Bind>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    values
        .into_iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                Bind::Text(s) => Box::new(s),
                Bind::Int(i) => Box::new(i),
                Bind::Bool(b) => Box::new(b),
                Bind::Time(t) => Box::new(t.map(sql::truncate_to_ms)),
            }
        })
        .collect()
}

/// References to boxed values, as a parameter list.
fn params(values: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A `guilds` row, columns in `guild_columns!` order.
fn guild_row(r: &Row) -> Result<GuildRecord> {
    Ok(GuildRecord {
        id: GuildId::from_i64(r.try_get(0)?),
        name: r.try_get(1)?,
        icon: r.try_get(2)?,
        banner: r.try_get(3)?,
        splash: r.try_get(4)?,
        description: r.try_get(5)?,
        owner_id: UserId::from_i64(r.try_get(6)?),
        public: r.try_get(7)?,
        afk_channel_id: r.try_get::<_, Option<i64>>(8)?.map(ChannelId::from_i64),
        afk_timeout: r.try_get(9)?,
        system_channel_id: r.try_get::<_, Option<i64>>(10)?.map(ChannelId::from_i64),
        system_channel_flags: r.try_get(11)?,
        verification_level: r.try_get(12)?,
        default_message_notifications: r.try_get(13)?,
        explicit_content_filter: r.try_get(14)?,
        preferred_locale: r.try_get(15)?,
        created_at: r.try_get(16)?,
    })
}

/// A guild row followed by its member count.
fn discovered_row(r: &Row) -> Result<DiscoveredGuild> {
    Ok(DiscoveredGuild {
        guild: guild_row(r)?,
        member_count: r.try_get::<_, i64>(17)?.max(0) as u64,
    })
}

/// A `roles` row.
fn role_row(r: &Row) -> Result<RoleRecord> {
    Ok(RoleRecord {
        id: RoleId::from_i64(r.try_get(0)?),
        guild_id: GuildId::from_i64(r.try_get(1)?),
        name: r.try_get(2)?,
        color: r.try_get(3)?,
        hoist: r.try_get(4)?,
        mentionable: r.try_get(5)?,
        permissions: permissions(r.try_get(6)?),
        position: r.try_get(7)?,
        icon: r.try_get(8)?,
        unicode_emoji: r.try_get(9)?,
    })
}

/// A `channels` row, without its overwrites.
fn channel_row(r: &Row) -> Result<ChannelRecord> {
    Ok(ChannelRecord {
        id: ChannelId::from_i64(r.try_get(0)?),
        guild_id: GuildId::from_i64(r.try_get(1)?),
        kind: channel_type(r.try_get(2)?),
        name: r.try_get::<_, Option<String>>(3)?.unwrap_or_default(),
        topic: r.try_get(4)?,
        position: r.try_get(5)?,
        parent_id: r.try_get::<_, Option<i64>>(6)?.map(ChannelId::from_i64),
        nsfw: r.try_get(7)?,
        rate_limit_per_user: r.try_get(8)?,
        bitrate: r.try_get(9)?,
        user_limit: r.try_get(10)?,
        rtc_region: r.try_get(11)?,
        overwrites: Vec::new(),
        created_at: r.try_get(12)?,
    })
}

/// A `channel_overwrites` row: the channel id and the overwrite.
fn overwrite_row(r: &Row) -> Result<(i64, PermissionOverwrite)> {
    Ok((
        r.try_get(0)?,
        PermissionOverwrite {
            id: Snowflake::from_i64(r.try_get(1)?),
            kind: overwrite_type(r.try_get(2)?),
            allow: permissions(r.try_get(3)?),
            deny: permissions(r.try_get(4)?),
        },
    ))
}

/// The user columns shared by the member, ban and invite queries, from `idx`:
/// id, username, global_name, avatar, banner, bot, system, flags.
fn user_summary(r: &Row, idx: usize) -> Result<UserSummary> {
    Ok(UserSummary {
        id: UserId::from_i64(r.try_get(idx)?),
        username: r.try_get(idx + 1)?,
        global_name: r.try_get(idx + 2)?,
        avatar: r.try_get(idx + 3)?,
        banner: r.try_get(idx + 4)?,
        bot: r.try_get(idx + 5)?,
        system: r.try_get(idx + 6)?,
        flags: r.try_get(idx + 7)?,
    })
}

/// A row of `member_select!`.
fn member_row(r: &Row) -> Result<MemberRecord> {
    Ok(MemberRecord {
        guild_id: GuildId::from_i64(r.try_get(0)?),
        user: user_summary(r, 1)?,
        nick: r.try_get(9)?,
        roles: role_list(r.try_get(10)?),
        joined_at: r.try_get(11)?,
        deaf: r.try_get(12)?,
        mute: r.try_get(13)?,
        flags: r.try_get(14)?,
        temporary: r.try_get(15)?,
        communication_disabled_until: r.try_get(16)?,
    })
}

/// A row of `ban_select!`.
fn ban_row(r: &Row) -> Result<BanRecord> {
    Ok(BanRecord {
        guild_id: GuildId::from_i64(r.try_get(0)?),
        user: user_summary(r, 1)?,
        reason: r.try_get(9)?,
        moderator_id: r.try_get::<_, Option<i64>>(10)?.map(UserId::from_i64),
        delete_message_seconds: r.try_get(11)?,
        created_at: r.try_get(12)?,
    })
}

/// A row of `invite_select!`.
fn invite_row(r: &Row) -> Result<InviteRecord> {
    let inviter = match r.try_get::<_, Option<String>>(4)? {
        Some(_) => Some(user_summary(r, 3)?),
        None => None,
    };
    Ok(InviteRecord {
        code: r.try_get(0)?,
        guild_id: GuildId::from_i64(r.try_get(1)?),
        channel_id: ChannelId::from_i64(r.try_get(2)?),
        inviter,
        max_age: r.try_get(11)?,
        max_uses: r.try_get(12)?,
        uses: r.try_get(13)?,
        temporary: r.try_get(14)?,
        created_at: r.try_get(15)?,
        expires_at: r.try_get(16)?,
    })
}

/// An `audit_log` row.
fn audit_row(r: &Row) -> Result<AuditEntryRecord> {
    Ok(AuditEntryRecord {
        id: Snowflake::from_i64(r.try_get(0)?),
        guild_id: GuildId::from_i64(r.try_get(1)?),
        user_id: r.try_get::<_, Option<i64>>(2)?.map(UserId::from_i64),
        action_type: r.try_get(3)?,
        target_id: r.try_get(4)?,
        changes: r.try_get(5)?,
        options: r.try_get(6)?,
        reason: r.try_get(7)?,
    })
}

impl PostgresStore {
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
        let (gid, uid, rid) = (guild.as_i64(), user.as_i64(), role.as_i64());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !exists(&tx, q::IS_MEMBER, &[&gid, &uid]).await?
            || !exists(&tx, q::ROLE_IN_GUILD, &[&gid, &rid]).await?
        {
            return Err(StoreError::NotFound);
        }
        let changed = execute(&tx, stmt, &[&gid, &uid, &rid]).await? > 0;
        if changed {
            insert_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}
