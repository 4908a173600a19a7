//! Roles: create, edit, reorder, delete, within the hierarchy.
//!
//! Nobody but the owner touches a role at or above their own highest role, or
//! grants a permission they do not hold themselves (administrators hold all).

use std::collections::HashMap;

use beep_files::ImageKind;
use beep_store::{AuditEntryRecord, NewRole, Refusal, RolePatch, RoleRecord};
use beep_types::v10::guild::{AuditLogEvent, Role};
use beep_types::{ErrorCode, GuildId, Intents, Permissions, RoleId, UserId};
use serde_json::json;

use super::forms::{self, CreateRole, Problems, RolePosition, UpdateRole};
use super::{Changes, Ctx, Guilds, STALE_RETRIES, convert, unexpected};
use crate::error::{Error, Result};
use crate::events::Audience;
use crate::permissions::{can_grant, can_manage_role};

/// The new order of a guild's roles (`@everyone` left out) after moving some:
/// the unmoved roles keep their relative order, and each moved role lands at the
/// position it asked for (1 is the lowest), clamped to the list. Returns
/// `(role, new position)` for every role.
pub fn reorder(current: &[RoleRecord], moves: &[(RoleId, i64)]) -> Vec<(RoleId, i64)> {
    let mut ordered: Vec<&RoleRecord> = current.iter().collect();
    ordered.sort_by_key(|r| (r.position, r.id));
    let moved: HashMap<RoleId, i64> = moves.iter().copied().collect();
    let mut list: Vec<RoleId> = ordered
        .iter()
        .filter(|r| !moved.contains_key(&r.id))
        .map(|r| r.id)
        .collect();
    let mut inserts: Vec<(i64, RoleId)> = moves
        .iter()
        .filter(|(id, _)| current.iter().any(|r| r.id == *id))
        .map(|(id, p)| (*p, *id))
        .collect();
    inserts.sort();
    for (position, id) in inserts {
        let at = usize::try_from(position.saturating_sub(1))
            .unwrap_or(0)
            .min(list.len());
        list.insert(at, id);
    }
    list.into_iter()
        .enumerate()
        .map(|(i, id)| (id, i as i64 + 1))
        .collect()
}

impl Guilds {
    /// `GET /guilds/{id}/roles`.
    pub async fn roles(&self, actor: UserId, guild: GuildId) -> Result<Vec<Role>> {
        let ctx = self.ctx(actor, guild).await?;
        Ok(ctx.roles.iter().map(convert::role).collect())
    }

    /// `GET /guilds/{id}/roles/{role}`.
    pub async fn role(&self, actor: UserId, guild: GuildId, role: RoleId) -> Result<Role> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.role(role)
            .map(convert::role)
            .ok_or_else(|| Error::new(ErrorCode::UnknownRole))
    }

    /// `POST /guilds/{id}/roles`: needs `MANAGE_ROLES` and a role of one's own
    /// (the new role goes just above `@everyone`, which must stay below the
    /// actor); only permissions the actor holds may be given.
    pub async fn create_role(
        &self,
        actor: UserId,
        guild: GuildId,
        form: CreateRole,
        reason: Option<String>,
    ) -> Result<Role> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_ROLES)?;
        if !ctx.is_owner() && ctx.rank().highest_position < 1 {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let everyone = ctx
            .role(RoleId(guild.0))
            .map_or(Permissions::DEFAULT_EVERYONE, |r| r.permissions);
        let permissions = form.permissions.unwrap_or(everyone);
        if !can_grant(ctx.base(), permissions) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let mut p = Problems::new();
        let name = forms::name(
            &mut p,
            "name",
            form.name.as_deref().unwrap_or("new role"),
            1,
            100,
        );
        let color = forms::within(&mut p, "color", form.color, 0..=0xFF_FFFF).unwrap_or(0);
        let emoji = forms::text(&mut p, "unicode_emoji", form.unicode_emoji.as_deref(), 32);
        p.finish()?;
        let id = RoleId(self.ids.next());
        let icon = match form.icon.as_deref() {
            Some(uri) => Some(self.store_image(ImageKind::Icon, id.0, "icon", uri).await?),
            None => None,
        };
        let new = NewRole {
            id,
            guild_id: guild,
            name,
            color,
            hoist: form.hoist.unwrap_or(false),
            mentionable: form.mentionable.unwrap_or(false),
            permissions,
            icon,
            unicode_emoji: emoji,
        };
        let changes = Changes::new()
            .set("name", &new.name)
            .set("permissions", &new.permissions)
            .set("color", &new.color)
            .set("hoist", &new.hoist)
            .set("mentionable", &new.mentionable);
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::ROLE_CREATE,
            Some(new.id.to_string()),
            changes,
            reason.as_deref(),
        )];
        let created = match self
            .store
            .create_role(&new, self.limits.max_roles, &audit)
            .await?
        {
            Ok(r) => r,
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxRoles)),
            Err(other) => return Err(unexpected(other)),
        };
        self.publish_role("GUILD_ROLE_CREATE", &created);
        // Every other role moved up one.
        for r in ctx.roles.iter().filter(|r| r.position > 0) {
            let moved = RoleRecord {
                position: r.position + 1,
                ..r.clone()
            };
            self.publish_role("GUILD_ROLE_UPDATE", &moved);
        }
        self.publish_audit(&audit);
        Ok(convert::role(&created))
    }

    /// `PATCH /guilds/{id}/roles/{role}`: needs `MANAGE_ROLES`, a role below the
    /// actor's highest, and the permissions added held by the actor.
    pub async fn update_role(
        &self,
        actor: UserId,
        guild: GuildId,
        role: RoleId,
        form: UpdateRole,
        reason: Option<String>,
    ) -> Result<Role> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_ROLES)?;
        let old = self.manageable(&ctx, role)?.clone();
        let is_everyone = role.0 == guild.0;
        let mut p = Problems::new();
        if is_everyone && form.name.as_deref().is_some_and(|n| n != old.name) {
            p.add(
                "name",
                "ROLE_EVERYONE_NAME",
                "The @everyone role cannot be renamed.",
            );
        }
        let patch = RolePatch {
            name: form
                .name
                .as_deref()
                .filter(|_| !is_everyone)
                .map(|n| forms::name(&mut p, "name", n, 1, 100)),
            color: forms::within(&mut p, "color", form.color, 0..=0xFF_FFFF),
            hoist: form.hoist.filter(|_| !is_everyone),
            mentionable: form.mentionable.filter(|_| !is_everyone),
            permissions: form.permissions,
            icon: None,
            unicode_emoji: form
                .unicode_emoji
                .as_ref()
                .map(|e| forms::text(&mut p, "unicode_emoji", e.as_deref(), 32)),
        };
        p.finish()?;
        let mut patch = patch;
        patch.icon = match &form.icon {
            None => None,
            Some(None) => Some(None),
            Some(Some(uri)) => Some(Some(
                self.store_image(ImageKind::Icon, role.0, "icon", uri)
                    .await?,
            )),
        };
        if let Some(new) = patch.permissions
            && !can_grant(ctx.base(), new - old.permissions)
        {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let changes = Changes::new()
            .diff("name", &old.name, patch.name.as_ref().unwrap_or(&old.name))
            .diff(
                "permissions",
                &old.permissions,
                patch.permissions.as_ref().unwrap_or(&old.permissions),
            )
            .diff(
                "color",
                &old.color,
                patch.color.as_ref().unwrap_or(&old.color),
            )
            .diff(
                "hoist",
                &old.hoist,
                patch.hoist.as_ref().unwrap_or(&old.hoist),
            )
            .diff(
                "mentionable",
                &old.mentionable,
                patch.mentionable.as_ref().unwrap_or(&old.mentionable),
            )
            .diff(
                "icon_hash",
                &old.icon,
                patch.icon.as_ref().unwrap_or(&old.icon),
            )
            .diff(
                "unicode_emoji",
                &old.unicode_emoji,
                patch.unicode_emoji.as_ref().unwrap_or(&old.unicode_emoji),
            );
        if changes.is_empty() {
            return Ok(convert::role(&old));
        }
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::ROLE_UPDATE,
            Some(role.to_string()),
            changes,
            reason.as_deref(),
        )];
        let updated = self
            .store
            .update_role(guild, role, &patch, &audit)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownRole))?;
        self.publish_role("GUILD_ROLE_UPDATE", &updated);
        self.publish_audit(&audit);
        Ok(convert::role(&updated))
    }

    /// `PATCH /guilds/{id}/roles`: move roles. Needs `MANAGE_ROLES`; a role may be
    /// moved only if it is below the actor's highest, and no role the actor cannot
    /// manage may change position as a result.
    pub async fn move_roles(
        &self,
        actor: UserId,
        guild: GuildId,
        list: Vec<RolePosition>,
        reason: Option<String>,
    ) -> Result<Vec<Role>> {
        for _ in 0..STALE_RETRIES {
            let ctx = self.ctx(actor, guild).await?;
            ctx.require(Permissions::MANAGE_ROLES)?;
            let rank = ctx.rank();
            let others: Vec<RoleRecord> = ctx
                .roles
                .iter()
                .filter(|r| r.id.0 != guild.0)
                .cloned()
                .collect();
            let mut moves = Vec::new();
            for (i, item) in list.iter().enumerate() {
                if item.id.0 == guild.0 {
                    return Err(Error::field(
                        format!("{i}.id"),
                        "ROLE_EVERYONE_POSITION",
                        "The @everyone role cannot move.",
                    ));
                }
                let Some(r) = others.iter().find(|r| r.id == item.id) else {
                    return Err(Error::new(ErrorCode::UnknownRole));
                };
                if !can_manage_role(rank, &ctx.role_info(r)) {
                    return Err(Error::new(ErrorCode::MissingPermissions));
                }
                if let Some(position) = item.position {
                    moves.push((item.id, position));
                }
            }
            let order = reorder(&others, &moves);
            let old_position =
                |id: RoleId| others.iter().find(|r| r.id == id).map_or(0, |r| r.position);
            for (id, position) in &order {
                let Some(r) = others.iter().find(|r| r.id == *id) else {
                    continue;
                };
                if *position != r.position && !can_manage_role(rank, &ctx.role_info(r)) {
                    return Err(Error::new(ErrorCode::MissingPermissions));
                }
            }
            // The actor's own top role may not be pushed, nor may anything end up
            // above it that was below.
            if !ctx.is_owner() {
                let top = rank.highest_position;
                for (id, position) in &order {
                    if old_position(*id) < i64::from(top) && *position >= i64::from(top) {
                        return Err(Error::new(ErrorCode::MissingPermissions));
                    }
                }
            }
            let changed: Vec<(RoleId, i64)> = order
                .iter()
                .filter(|(id, position)| old_position(*id) != *position)
                .copied()
                .collect();
            if changed.is_empty() {
                return Ok(ctx.roles.iter().map(convert::role).collect());
            }
            let audit: Vec<AuditEntryRecord> = changed
                .iter()
                .filter(|(id, _)| moves.iter().any(|(m, _)| m == id))
                .map(|(id, position)| {
                    let changes = Changes::new().diff("position", &old_position(*id), position);
                    self.entry(
                        guild,
                        actor,
                        AuditLogEvent::ROLE_UPDATE,
                        Some(id.to_string()),
                        changes,
                        reason.as_deref(),
                    )
                })
                .collect();
            match self.store.set_role_positions(guild, &order, &audit).await? {
                Ok(roles) => {
                    for r in roles
                        .iter()
                        .filter(|r| changed.iter().any(|(id, _)| *id == r.id))
                    {
                        self.publish_role("GUILD_ROLE_UPDATE", r);
                    }
                    self.publish_audit(&audit);
                    return Ok(roles.iter().map(convert::role).collect());
                }
                // A role was created or deleted meanwhile: read again.
                Err(Refusal::Stale) => continue,
                Err(other) => return Err(unexpected(other)),
            }
        }
        Err(Error::internal(
            "the roles kept changing; gave up after retries",
        ))
    }

    /// `DELETE /guilds/{id}/roles/{role}`: needs `MANAGE_ROLES` and a role below
    /// the actor's highest; `@everyone` cannot be deleted.
    pub async fn delete_role(
        &self,
        actor: UserId,
        guild: GuildId,
        role: RoleId,
        reason: Option<String>,
    ) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_ROLES)?;
        if role.0 == guild.0 {
            return Err(Error::new(ErrorCode::InvalidRole));
        }
        let old = self.manageable(&ctx, role)?.clone();
        let changes = Changes::new()
            .unset("name", &old.name)
            .unset("permissions", &old.permissions)
            .unset("color", &old.color)
            .unset("hoist", &old.hoist)
            .unset("mentionable", &old.mentionable);
        let audit = vec![self.entry(
            guild,
            actor,
            AuditLogEvent::ROLE_DELETE,
            Some(role.to_string()),
            changes,
            reason.as_deref(),
        )];
        if self.store.delete_role(guild, role, &audit).await?.is_none() {
            return Err(Error::new(ErrorCode::UnknownRole));
        }
        self.publish(
            "GUILD_ROLE_DELETE",
            json!({"guild_id": guild.to_string(), "role_id": role.to_string()}),
            Audience::Guild {
                guild_id: guild,
                channel_id: None,
            },
            Intents::GUILDS,
        );
        self.publish_audit(&audit);
        Ok(())
    }

    /// A role of the guild the actor may manage: `Unknown Role` when there is no
    /// such role, `Missing Permissions` when it is at or above the actor's highest.
    pub(crate) fn manageable<'a>(&self, ctx: &'a Ctx, role: RoleId) -> Result<&'a RoleRecord> {
        let Some(r) = ctx.role(role) else {
            return Err(Error::new(ErrorCode::UnknownRole));
        };
        if !can_manage_role(ctx.rank(), &ctx.role_info(r)) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        Ok(r)
    }

    fn publish_role(&self, name: &'static str, r: &RoleRecord) {
        self.publish(
            name,
            json!({"guild_id": r.guild_id.to_string(), "role": convert::role(r)}),
            Audience::Guild {
                guild_id: r.guild_id,
                channel_id: None,
            },
            Intents::GUILDS,
        );
    }
}

#[cfg(test)]
mod tests {
    use beep_types::Snowflake;

    use super::*;

    fn role(id: u64, position: i64) -> RoleRecord {
        RoleRecord {
            id: RoleId(Snowflake(id)),
            guild_id: GuildId(Snowflake(1)),
            name: id.to_string(),
            color: 0,
            hoist: false,
            mentionable: false,
            permissions: Permissions::NONE,
            position,
            icon: None,
            unicode_emoji: None,
        }
    }

    fn ids(order: &[(RoleId, i64)]) -> Vec<u64> {
        order.iter().map(|(id, _)| id.get()).collect()
    }

    #[test]
    fn moved_roles_land_where_they_asked() {
        let roles = [role(10, 1), role(20, 2), role(30, 3)];
        let r = |id: u64| RoleId(Snowflake(id));
        assert_eq!(
            ids(&reorder(&roles, &[(r(10), 3)])),
            vec![20, 30, 10],
            "up to the top"
        );
        assert_eq!(
            ids(&reorder(&roles, &[(r(30), 1)])),
            vec![30, 10, 20],
            "down to the bottom"
        );
        assert_eq!(
            ids(&reorder(&roles, &[(r(10), 2), (r(20), 1)])),
            vec![20, 10, 30],
            "a swap"
        );
        assert_eq!(
            ids(&reorder(&roles, &[(r(10), 99)])),
            vec![20, 30, 10],
            "clamped"
        );
        assert_eq!(ids(&reorder(&roles, &[(r(10), -5)])), vec![10, 20, 30]);
        assert_eq!(
            ids(&reorder(&roles, &[(r(99), 1)])),
            vec![10, 20, 30],
            "unknown ids are ignored"
        );
        let positions: Vec<i64> = reorder(&roles, &[]).iter().map(|(_, p)| *p).collect();
        assert_eq!(positions, vec![1, 2, 3], "positions are dense from 1");
    }

    #[test]
    fn gaps_and_ties_are_closed() {
        let roles = [role(10, 5), role(20, 5), role(30, 9)];
        let order = reorder(&roles, &[]);
        assert_eq!(ids(&order), vec![10, 20, 30]);
        assert_eq!(
            order.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }
}
