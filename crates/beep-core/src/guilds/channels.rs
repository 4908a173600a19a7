//! Channels and folders of a guild, their arrangement, and their permission
//! overwrites.
//!
//! Structural changes (create, move, delete) are checked against the layout
//! they were read from ([`super::tree::check`]: parents are folders, no cycles,
//! folder depth) and written only if the layout did not change meanwhile;
//! otherwise they are checked again on the new layout.
//!
//! A channel created in a folder without overwrites of its own copies the
//! folder's, and a folder's later overwrite edits are copied to the channels
//! inside it that still had the same overwrites ("synced"), as on Discord.

use beep_store::{
    AuditEntryRecord, ChannelLayout, ChannelMove, ChannelPatch, ChannelRecord, NewChannel, Refusal,
};
use beep_types::v10::channel::{Channel, ChannelType, OverwriteType, PermissionOverwrite};
use beep_types::v10::guild::AuditLogEvent;
use beep_types::{ChannelId, ErrorCode, GuildId, Intents, Permissions, RoleId, Snowflake, UserId};
use serde_json::Value;

use super::forms::{
    self, ChannelPosition, CreateChannel, OverwriteForm, Problems, PutOverwrite, UpdateChannel,
};
use super::tree::{self, Node, TreeError};
use super::{Changes, Ctx, Guilds, STALE_RETRIES, convert, unexpected};
use crate::error::{Error, Result};
use crate::events::Audience;
use crate::permissions::can_grant;

/// Most overwrites one channel may carry.
const MAX_OVERWRITES: usize = 100;

impl Guilds {
    /// `GET /guilds/{id}/channels`: the channels the caller can view.
    pub async fn channels(&self, actor: UserId, guild: GuildId) -> Result<Vec<Channel>> {
        let ctx = self.ctx(actor, guild).await?;
        let layout = self.store.channel_layout(guild).await?;
        Ok(layout
            .channels
            .iter()
            .filter(|c| ctx.in_channel(c).contains(Permissions::VIEW_CHANNEL))
            .map(convert::channel)
            .collect())
    }

    /// `GET /channels/{id}`: a guild channel the caller can view.
    pub async fn channel(&self, actor: UserId, channel: ChannelId) -> Result<Channel> {
        let (_, ch, _) = self.channel_ctx(actor, channel).await?;
        Ok(convert::channel(&ch))
    }

    /// `POST /guilds/{id}/channels`: needs `MANAGE_CHANNELS` (in the folder, when
    /// created in one), and `MANAGE_ROLES` to set overwrites.
    pub async fn create_channel(
        &self,
        actor: UserId,
        guild: GuildId,
        form: CreateChannel,
        reason: Option<String>,
    ) -> Result<Channel> {
        let ctx = self.ctx(actor, guild).await?;
        let kind = form.kind.unwrap_or(ChannelType::Text);
        let mut p = Problems::new();
        if !matches!(
            kind,
            ChannelType::Text | ChannelType::Voice | ChannelType::Folder
        ) {
            p.add(
                "type",
                "BASE_TYPE_CHOICES",
                "Value must be one of {0, 2, 4}.",
            );
        }
        let name = forms::name(&mut p, "name", &form.name, 1, 100);
        let topic = if kind == ChannelType::Text {
            forms::text(&mut p, "topic", form.topic.as_deref(), 1024)
        } else {
            None
        };
        let voice = kind == ChannelType::Voice;
        let messages = kind != ChannelType::Folder;
        let bitrate = forms::within(&mut p, "bitrate", form.bitrate, 8_000..=384_000);
        let user_limit = forms::within(&mut p, "user_limit", form.user_limit, 0..=99);
        let rate = forms::within(
            &mut p,
            "rate_limit_per_user",
            form.rate_limit_per_user,
            0..=21_600,
        );
        let position = forms::within(&mut p, "position", form.position, 0..=100_000);
        let rtc_region = forms::text(&mut p, "rtc_region", form.rtc_region.as_deref(), 32);
        p.finish()?;

        let id = ChannelId(self.ids.next());
        for _ in 0..STALE_RETRIES {
            let layout = self.store.channel_layout(guild).await?;
            let parent = match form.parent_id {
                Some(pid) => Some(folder_in(&layout, pid, "parent_id")?),
                None => None,
            };
            // Where the channel goes decides what the actor may do there.
            let here = match parent {
                Some(f) => ctx.in_channel(f),
                None => ctx.base(),
            };
            if !here.contains(Permissions::MANAGE_CHANNELS) {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
            let overwrites = match &form.permission_overwrites {
                Some(list) => self.check_overwrites(&ctx, list, kind, here, &[]).await?,
                None => parent.map(|f| f.overwrites.clone()).unwrap_or_default(),
            };
            let mut nodes = nodes_of(&layout);
            nodes.push(Node {
                id,
                kind,
                parent: form.parent_id,
            });
            tree::check(&nodes, self.limits.max_folder_depth).map_err(|e| self.tree_error(e))?;
            let new = NewChannel {
                id,
                guild_id: guild,
                kind,
                name: name.clone(),
                topic: topic.clone(),
                position: position.unwrap_or_else(|| {
                    tree::next_position(
                        layout
                            .channels
                            .iter()
                            .filter(|c| c.parent_id == form.parent_id)
                            .map(|c| c.position),
                    )
                }),
                parent_id: form.parent_id,
                nsfw: form.nsfw.unwrap_or(false) && messages,
                rate_limit_per_user: if messages { rate.unwrap_or(0) } else { 0 },
                bitrate: voice.then(|| bitrate.unwrap_or(64_000)),
                user_limit: voice.then(|| user_limit.unwrap_or(0)),
                rtc_region: if voice { rtc_region.clone() } else { None },
                overwrites,
            };
            let changes = Changes::new()
                .set("name", &new.name)
                .set("type", &new.kind.value())
                .set("permission_overwrites", &new.overwrites)
                .set("nsfw", &new.nsfw)
                .set("rate_limit_per_user", &new.rate_limit_per_user);
            let audit = vec![self.entry(
                guild,
                actor,
                AuditLogEvent::CHANNEL_CREATE,
                Some(id.to_string()),
                changes,
                reason.as_deref(),
            )];
            match self
                .store
                .create_channel(&new, layout.version, self.limits.max_channels, &audit)
                .await?
            {
                Ok(created) => {
                    self.publish_channel("CHANNEL_CREATE", &created);
                    self.publish_audit(&audit);
                    return Ok(convert::channel(&created));
                }
                Err(Refusal::Stale) => continue,
                Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxChannels)),
                Err(other) => return Err(unexpected(other)),
            }
        }
        Err(busy())
    }

    /// `PATCH /channels/{id}`: needs `MANAGE_CHANNELS` in the channel, and
    /// `MANAGE_ROLES` to change overwrites.
    pub async fn update_channel(
        &self,
        actor: UserId,
        channel: ChannelId,
        form: UpdateChannel,
        reason: Option<String>,
    ) -> Result<Channel> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if !perms.contains(Permissions::MANAGE_CHANNELS) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let kind = ch.kind;
        let mut p = Problems::new();
        if form.kind.is_some_and(|k| k != kind) {
            p.add(
                "type",
                "CHANNEL_TYPE_CHANGE",
                "A channel's type cannot change.",
            );
        }
        let voice = kind == ChannelType::Voice;
        let messages = kind != ChannelType::Folder;
        let mut patch = ChannelPatch {
            name: form
                .name
                .as_deref()
                .map(|n| forms::name(&mut p, "name", n, 1, 100)),
            topic: form
                .topic
                .as_ref()
                .filter(|_| kind == ChannelType::Text)
                .map(|t| forms::text(&mut p, "topic", t.as_deref(), 1024)),
            nsfw: form.nsfw.filter(|_| messages),
            rate_limit_per_user: forms::within(
                &mut p,
                "rate_limit_per_user",
                form.rate_limit_per_user,
                0..=21_600,
            )
            .filter(|_| messages),
            bitrate: forms::within(&mut p, "bitrate", form.bitrate, 8_000..=384_000)
                .filter(|_| voice),
            user_limit: forms::within(&mut p, "user_limit", form.user_limit, 0..=99)
                .filter(|_| voice),
            rtc_region: form
                .rtc_region
                .as_ref()
                .filter(|_| voice)
                .map(|r| forms::text(&mut p, "rtc_region", r.as_deref(), 32)),
            position: forms::within(&mut p, "position", form.position, 0..=100_000),
            parent_id: form.parent_id,
            overwrites: None,
        };
        p.finish()?;
        if let Some(list) = &form.permission_overwrites {
            if !perms.contains(Permissions::MANAGE_ROLES) {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
            patch.overwrites = Some(
                self.check_overwrites(&ctx, list, kind, perms, &ch.overwrites)
                    .await?,
            );
        }
        // Nothing structural changes when the channel stays where it is.
        if patch.position == Some(ch.position) {
            patch.position = None;
        }
        if patch.parent_id == Some(ch.parent_id) {
            patch.parent_id = None;
        }

        for _ in 0..STALE_RETRIES {
            let mut expected = None;
            if patch.is_structural() {
                let layout = self.store.channel_layout(ch.guild_id).await?;
                let parent = patch.parent_id.unwrap_or(ch.parent_id);
                if let Some(Some(pid)) = patch.parent_id {
                    let folder = folder_in(&layout, pid, "parent_id")?;
                    if !ctx
                        .in_channel(folder)
                        .contains(Permissions::MANAGE_CHANNELS)
                    {
                        return Err(Error::new(ErrorCode::MissingPermissions));
                    }
                }
                let mut nodes = nodes_of(&layout);
                if let Some(n) = nodes.iter_mut().find(|n| n.id == ch.id) {
                    n.parent = parent;
                }
                tree::check(&nodes, self.limits.max_folder_depth)
                    .map_err(|e| self.tree_error(e))?;
                expected = Some(layout.version);
            }
            let audit = self.channel_update_entries(&ctx, &ch, &patch, reason.as_deref());
            match self
                .store
                .update_channel(ch.guild_id, ch.id, &patch, expected, &audit)
                .await
            {
                Ok(Ok(updated)) => {
                    self.publish_channel("CHANNEL_UPDATE", &updated);
                    self.publish_audit(&audit);
                    if updated.kind == ChannelType::Folder && updated.overwrites != ch.overwrites {
                        self.sync_children(&updated, &ch.overwrites).await?;
                    }
                    return Ok(convert::channel(&updated));
                }
                Ok(Err(Refusal::Stale)) => continue,
                Ok(Err(other)) => return Err(unexpected(other)),
                Err(beep_store::StoreError::NotFound) => {
                    return Err(Error::new(ErrorCode::UnknownChannel));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }

    /// `DELETE /channels/{id}`: needs `MANAGE_CHANNELS` in the channel and, for a
    /// folder, in everything inside it, which goes with it.
    pub async fn delete_channel(
        &self,
        actor: UserId,
        channel: ChannelId,
        reason: Option<String>,
    ) -> Result<Channel> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if !perms.contains(Permissions::MANAGE_CHANNELS) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        for _ in 0..STALE_RETRIES {
            let layout = self.store.channel_layout(ch.guild_id).await?;
            let ids = tree::subtree(&nodes_of(&layout), ch.id);
            let doomed: Vec<&ChannelRecord> = ids
                .iter()
                .filter_map(|id| layout.channels.iter().find(|c| c.id == *id))
                .collect();
            if doomed
                .iter()
                .any(|c| !ctx.in_channel(c).contains(Permissions::MANAGE_CHANNELS))
            {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
            let audit: Vec<AuditEntryRecord> = doomed
                .iter()
                .map(|c| {
                    let changes = Changes::new()
                        .unset("name", &c.name)
                        .unset("type", &c.kind.value())
                        .unset("permission_overwrites", &c.overwrites)
                        .unset("nsfw", &c.nsfw)
                        .unset("rate_limit_per_user", &c.rate_limit_per_user);
                    self.entry(
                        ch.guild_id,
                        actor,
                        AuditLogEvent::CHANNEL_DELETE,
                        Some(c.id.to_string()),
                        changes,
                        reason.as_deref(),
                    )
                })
                .collect();
            match self
                .store
                .delete_channels(ch.guild_id, &ids, layout.version, &audit)
                .await?
            {
                Ok(deleted) => {
                    // Innermost first, so a client never holds a channel whose
                    // folder it was told is gone.
                    for c in deleted.iter().rev() {
                        self.publish_channel("CHANNEL_DELETE", c);
                    }
                    self.publish_audit(&audit);
                    return Ok(convert::channel(&ch));
                }
                Err(Refusal::Stale) => continue,
                Err(other) => return Err(unexpected(other)),
            }
        }
        Err(busy())
    }

    /// `PATCH /guilds/{id}/channels`: move channels and folders (position and
    /// folder), all in one write. Needs `MANAGE_CHANNELS` on each channel moved
    /// and on each folder moved into.
    pub async fn move_channels(
        &self,
        actor: UserId,
        guild: GuildId,
        list: Vec<ChannelPosition>,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_CHANNELS)?;
        if list.is_empty() || list.len() > self.limits.max_channels as usize {
            return Err(Error::field(
                "_body",
                "BASE_TYPE_BAD_LENGTH",
                "Must list between 1 and the guild's channel limit.",
            ));
        }
        let mut p = Problems::new();
        for (i, item) in list.iter().enumerate() {
            if list[..i].iter().any(|other| other.id == item.id) {
                p.add(
                    format!("{i}.id"),
                    "CHANNEL_DUPLICATE",
                    "Each channel may be listed once.",
                );
            }
            forms::within(&mut p, &format!("{i}.position"), item.position, 0..=100_000);
        }
        p.finish()?;

        for _ in 0..STALE_RETRIES {
            let layout = self.store.channel_layout(guild).await?;
            let mut nodes = nodes_of(&layout);
            let mut moves = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let Some(ch) = layout.channels.iter().find(|c| c.id == item.id) else {
                    return Err(Error::new(ErrorCode::UnknownChannel));
                };
                if !ctx
                    .in_channel(ch)
                    .contains(Permissions::VIEW_CHANNEL | Permissions::MANAGE_CHANNELS)
                {
                    return Err(Error::new(ErrorCode::MissingPermissions));
                }
                let parent = item.parent_id.unwrap_or(ch.parent_id);
                let folder = match parent {
                    Some(pid) => Some(folder_in(&layout, pid, &format!("{i}.parent_id"))?),
                    None => None,
                };
                if item.parent_id.is_some()
                    && let Some(f) = folder
                    && !ctx.in_channel(f).contains(Permissions::MANAGE_CHANNELS)
                {
                    return Err(Error::new(ErrorCode::MissingPermissions));
                }
                let overwrites = match (item.lock_permissions, folder) {
                    (Some(true), Some(f)) if f.overwrites != ch.overwrites => {
                        Some(f.overwrites.clone())
                    }
                    _ => None,
                };
                let position = item.position.unwrap_or(ch.position);
                if position == ch.position && parent == ch.parent_id && overwrites.is_none() {
                    continue;
                }
                if let Some(n) = nodes.iter_mut().find(|n| n.id == ch.id) {
                    n.parent = parent;
                }
                moves.push((
                    ch,
                    ChannelMove {
                        id: ch.id,
                        position,
                        parent_id: parent,
                        overwrites,
                    },
                ));
            }
            if moves.is_empty() {
                return Ok(());
            }
            tree::check(&nodes, self.limits.max_folder_depth).map_err(|e| self.tree_error(e))?;
            let audit: Vec<AuditEntryRecord> = moves
                .iter()
                .map(|(ch, m)| {
                    let mut changes = Changes::new()
                        .diff("position", &ch.position, &m.position)
                        .diff("parent_id", &ch.parent_id, &m.parent_id);
                    if let Some(ows) = &m.overwrites {
                        changes = changes.diff("permission_overwrites", &ch.overwrites, ows);
                    }
                    self.entry(
                        guild,
                        actor,
                        AuditLogEvent::CHANNEL_UPDATE,
                        Some(ch.id.to_string()),
                        changes,
                        reason.as_deref(),
                    )
                })
                .collect();
            let moves: Vec<ChannelMove> = moves.into_iter().map(|(_, m)| m).collect();
            match self
                .store
                .move_channels(guild, &moves, layout.version, &audit)
                .await
            {
                Ok(Ok(moved)) => {
                    for c in &moved {
                        self.publish_channel("CHANNEL_UPDATE", c);
                    }
                    self.publish_audit(&audit);
                    return Ok(());
                }
                Ok(Err(Refusal::Stale)) => continue,
                Ok(Err(other)) => return Err(unexpected(other)),
                Err(beep_store::StoreError::NotFound) => {
                    return Err(Error::new(ErrorCode::UnknownChannel));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }

    /// `PUT /channels/{id}/permissions/{target}`: needs `MANAGE_ROLES` in the
    /// channel; the target must be a role or a member of the guild, and only bits
    /// the actor holds there may be allowed or denied.
    pub async fn put_overwrite(
        &self,
        actor: UserId,
        channel: ChannelId,
        target: Snowflake,
        form: PutOverwrite,
        reason: Option<String>,
    ) -> Result<()> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if !perms.contains(Permissions::MANAGE_ROLES) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let item = OverwriteForm {
            id: target,
            kind: form.kind,
            allow: form.allow,
            deny: form.deny,
        };
        let checked = self
            .check_overwrites(&ctx, std::slice::from_ref(&item), ch.kind, perms, &[])
            .await?;
        let Some(ow) = checked.into_iter().next() else {
            return Ok(());
        };
        let old = ch.overwrites.iter().find(|o| o.id == target);
        if old == Some(&ow) {
            return Ok(());
        }
        let audit = vec![self.overwrite_entry(&ctx, &ch, old, Some(&ow), reason.as_deref())];
        match self
            .store
            .put_overwrite(ch.guild_id, ch.id, &ow, &audit)
            .await
        {
            Ok(_) => {}
            Err(beep_store::StoreError::NotFound) => {
                return Err(Error::new(ErrorCode::UnknownChannel));
            }
            Err(e) => return Err(e.into()),
        }
        self.publish_audit(&audit);
        self.after_overwrites_changed(&ch).await
    }

    /// `DELETE /channels/{id}/permissions/{target}`: needs `MANAGE_ROLES` in the
    /// channel.
    pub async fn delete_overwrite(
        &self,
        actor: UserId,
        channel: ChannelId,
        target: Snowflake,
        reason: Option<String>,
    ) -> Result<()> {
        let (ctx, ch, perms) = self.channel_ctx(actor, channel).await?;
        if !perms.contains(Permissions::MANAGE_ROLES) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let Some(old) = ch.overwrites.iter().find(|o| o.id == target) else {
            return Err(Error::new(ErrorCode::UnknownOverwrite));
        };
        let audit = vec![self.overwrite_entry(&ctx, &ch, Some(old), None, reason.as_deref())];
        if self
            .store
            .delete_overwrite(ch.guild_id, ch.id, target, &audit)
            .await?
            .is_none()
        {
            return Err(Error::new(ErrorCode::UnknownOverwrite));
        }
        self.publish_audit(&audit);
        self.after_overwrites_changed(&ch).await
    }

    /// Publish the channel as it now is, and copy a folder's new overwrites to
    /// the channels that were in sync with it.
    async fn after_overwrites_changed(&self, before: &ChannelRecord) -> Result<()> {
        let Some(now) = self.store.guild_channel(before.id).await? else {
            return Ok(());
        };
        self.publish_channel("CHANNEL_UPDATE", &now);
        if now.kind == ChannelType::Folder {
            self.sync_children(&now, &before.overwrites).await?;
        }
        Ok(())
    }

    /// Copy `folder`'s overwrites to every channel inside it (at any depth) whose
    /// overwrites still equal the folder's previous ones.
    async fn sync_children(
        &self,
        folder: &ChannelRecord,
        previous: &[PermissionOverwrite],
    ) -> Result<()> {
        let layout = self.store.channel_layout(folder.guild_id).await?;
        let inside = tree::subtree(&nodes_of(&layout), folder.id);
        for c in layout
            .channels
            .iter()
            .filter(|c| c.id != folder.id && inside.contains(&c.id))
        {
            if c.overwrites.as_slice() != previous {
                continue;
            }
            let patch = ChannelPatch {
                overwrites: Some(folder.overwrites.clone()),
                ..ChannelPatch::default()
            };
            if let Ok(Ok(synced)) = self
                .store
                .update_channel(folder.guild_id, c.id, &patch, None, &[])
                .await
            {
                self.publish_channel("CHANNEL_UPDATE", &synced);
            }
        }
        Ok(())
    }

    /// Check overwrites given for a channel of type `kind`: every target is a role
    /// or a member of the guild, listed once; bits that do not apply to the type
    /// are dropped; bits the actor lacks (`held`) may not be set, except in
    /// overwrites left exactly as they were (`current`).
    async fn check_overwrites(
        &self,
        ctx: &Ctx,
        list: &[OverwriteForm],
        kind: ChannelType,
        held: Permissions,
        current: &[PermissionOverwrite],
    ) -> Result<Vec<PermissionOverwrite>> {
        if list.len() > MAX_OVERWRITES {
            return Err(Error::field(
                "permission_overwrites",
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_OVERWRITES} or fewer in length."),
            ));
        }
        let applicable = kind.overwritable_permissions();
        let mut out: Vec<PermissionOverwrite> = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            if out.iter().any(|o| o.id == item.id) {
                return Err(Error::field(
                    format!("permission_overwrites.{i}.id"),
                    "OVERWRITE_DUPLICATE",
                    "Each role or member may have one overwrite.",
                ));
            }
            match item.kind {
                OverwriteType::Role => {
                    if ctx.role(RoleId(item.id)).is_none() {
                        return Err(Error::new(ErrorCode::UnknownRole));
                    }
                }
                OverwriteType::Member => {
                    if self
                        .store
                        .member(ctx.guild.id, UserId(item.id))
                        .await?
                        .is_none()
                    {
                        return Err(Error::new(ErrorCode::UnknownMember));
                    }
                }
            }
            let ow = PermissionOverwrite {
                id: item.id,
                kind: item.kind,
                allow: item.allow.unwrap_or_default() & applicable,
                deny: item.deny.unwrap_or_default() & applicable,
            };
            let unchanged = current.contains(&ow);
            if !unchanged && !can_grant(held, ow.allow | ow.deny) {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
            out.push(ow);
        }
        out.sort_by_key(|o| o.id);
        Ok(out)
    }

    /// The audit entries of a channel patch: one `CHANNEL_UPDATE` with the
    /// changed fields, and one overwrite entry per overwrite created, changed or
    /// removed.
    fn channel_update_entries(
        &self,
        ctx: &Ctx,
        ch: &ChannelRecord,
        patch: &ChannelPatch,
        reason: Option<&str>,
    ) -> Vec<AuditEntryRecord> {
        let changes = Changes::new()
            .diff("name", &ch.name, patch.name.as_ref().unwrap_or(&ch.name))
            .diff(
                "topic",
                &ch.topic,
                patch.topic.as_ref().unwrap_or(&ch.topic),
            )
            .diff("nsfw", &ch.nsfw, patch.nsfw.as_ref().unwrap_or(&ch.nsfw))
            .diff(
                "rate_limit_per_user",
                &ch.rate_limit_per_user,
                patch
                    .rate_limit_per_user
                    .as_ref()
                    .unwrap_or(&ch.rate_limit_per_user),
            )
            .diff("bitrate", &ch.bitrate, &patch.bitrate.or(ch.bitrate))
            .diff(
                "user_limit",
                &ch.user_limit,
                &patch.user_limit.or(ch.user_limit),
            )
            .diff(
                "rtc_region",
                &ch.rtc_region,
                patch.rtc_region.as_ref().unwrap_or(&ch.rtc_region),
            )
            .diff(
                "position",
                &ch.position,
                patch.position.as_ref().unwrap_or(&ch.position),
            )
            .diff(
                "parent_id",
                &ch.parent_id,
                patch.parent_id.as_ref().unwrap_or(&ch.parent_id),
            );
        let mut entries = Vec::new();
        if !changes.is_empty() {
            entries.push(self.entry(
                ch.guild_id,
                ctx.actor(),
                AuditLogEvent::CHANNEL_UPDATE,
                Some(ch.id.to_string()),
                changes,
                reason,
            ));
        }
        if let Some(new) = &patch.overwrites {
            for o in new {
                let old = ch.overwrites.iter().find(|c| c.id == o.id);
                if old != Some(o) {
                    entries.push(self.overwrite_entry(ctx, ch, old, Some(o), reason));
                }
            }
            for o in ch
                .overwrites
                .iter()
                .filter(|o| !new.iter().any(|n| n.id == o.id))
            {
                entries.push(self.overwrite_entry(ctx, ch, Some(o), None, reason));
            }
        }
        entries
    }

    /// The audit entry of one overwrite going from `old` to `new`.
    fn overwrite_entry(
        &self,
        ctx: &Ctx,
        ch: &ChannelRecord,
        old: Option<&PermissionOverwrite>,
        new: Option<&PermissionOverwrite>,
        reason: Option<&str>,
    ) -> AuditEntryRecord {
        let (action, changes, target) = match (old, new) {
            (None, Some(n)) => (
                AuditLogEvent::CHANNEL_OVERWRITE_CREATE,
                Changes::new()
                    .set("id", &n.id)
                    .set("type", &n.kind.value())
                    .set("allow", &n.allow)
                    .set("deny", &n.deny),
                n,
            ),
            (Some(o), Some(n)) => (
                AuditLogEvent::CHANNEL_OVERWRITE_UPDATE,
                Changes::new()
                    .diff("allow", &o.allow, &n.allow)
                    .diff("deny", &o.deny, &n.deny),
                n,
            ),
            (old, None) => {
                let o = old.cloned().unwrap_or(PermissionOverwrite {
                    id: Snowflake::default(),
                    kind: OverwriteType::Role,
                    allow: Permissions::NONE,
                    deny: Permissions::NONE,
                });
                let changes = Changes::new()
                    .unset("id", &o.id)
                    .unset("type", &o.kind.value())
                    .unset("allow", &o.allow)
                    .unset("deny", &o.deny);
                return self.with_overwrite_options(
                    ctx,
                    ch,
                    &o,
                    AuditLogEvent::CHANNEL_OVERWRITE_DELETE,
                    changes,
                    reason,
                );
            }
        };
        let target = target.clone();
        self.with_overwrite_options(ctx, ch, &target, action, changes, reason)
    }

    fn with_overwrite_options(
        &self,
        ctx: &Ctx,
        ch: &ChannelRecord,
        ow: &PermissionOverwrite,
        action: AuditLogEvent,
        changes: Changes,
        reason: Option<&str>,
    ) -> AuditEntryRecord {
        let mut e = self.entry(
            ch.guild_id,
            ctx.actor(),
            action,
            Some(ch.id.to_string()),
            changes,
            reason,
        );
        let role_name = match ow.kind {
            OverwriteType::Role => Some(ctx.role(RoleId(ow.id)).map_or("", |r| r.name.as_str())),
            OverwriteType::Member => None,
        };
        e.options = Some(convert::overwrite_options(ow.id, role_name));
        e
    }

    /// Publish a channel event to those who can view the channel.
    fn publish_channel(&self, name: &'static str, c: &ChannelRecord) {
        self.publish(
            name,
            serde_json::to_value(convert::channel(c)).unwrap_or(Value::Null),
            Audience::Guild {
                guild_id: c.guild_id,
                channel_id: Some(c.id),
            },
            Intents::GUILDS,
        );
    }

    /// A tree problem as the field error a client sees.
    fn tree_error(&self, e: TreeError) -> Error {
        match e {
            TreeError::UnknownParent(_) => {
                Error::field("parent_id", "CHANNEL_PARENT_INVALID", "Unknown folder.")
            }
            TreeError::ParentNotFolder(_) => Error::field(
                "parent_id",
                "CHANNEL_PARENT_INVALID_TYPE",
                "The parent must be a folder (type 4).",
            ),
            TreeError::Cycle(_) => Error::field(
                "parent_id",
                "CHANNEL_PARENT_CYCLE",
                "A folder cannot be put inside itself.",
            ),
            TreeError::TooDeep(_) => Error::field(
                "parent_id",
                "CHANNEL_PARENT_MAX_DEPTH",
                format!(
                    "Folders may be nested at most {} deep.",
                    self.limits.max_folder_depth
                ),
            ),
        }
    }
}

/// The layout as tree nodes.
fn nodes_of(layout: &ChannelLayout) -> Vec<Node> {
    layout
        .channels
        .iter()
        .map(|c| Node {
            id: c.id,
            kind: c.kind,
            parent: c.parent_id,
        })
        .collect()
}

/// The folder `id` of the layout, or a field error on `field`.
fn folder_in<'a>(
    layout: &'a ChannelLayout,
    id: ChannelId,
    field: &str,
) -> Result<&'a ChannelRecord> {
    match layout.channels.iter().find(|c| c.id == id) {
        Some(c) if c.kind == ChannelType::Folder => Ok(c),
        Some(_) => Err(Error::field(
            field,
            "CHANNEL_PARENT_INVALID_TYPE",
            "The parent must be a folder (type 4).",
        )),
        None => Err(Error::field(
            field,
            "CHANNEL_PARENT_INVALID",
            "Unknown folder.",
        )),
    }
}

/// The layout kept changing under a write.
fn busy() -> Error {
    Error::internal("the channel layout kept changing; gave up after retries")
}
