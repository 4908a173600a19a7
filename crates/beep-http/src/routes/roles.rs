//! `/guilds/{guild_id}/roles` — create, edit, reorder, delete.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::guilds::forms::{CreateRole, RolePosition, UpdateRole};
use beep_types::v10::guild::Role;
use beep_types::{GuildId, RoleId};

use super::audit::{AuditReason, OptionalJson};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path};

/// `GET /guilds/{guild_id}/roles`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/roles", tag = "roles",
    params(("guild_id" = String, Path)), responses((status = 200, body = [Role]), (status = 404)))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<axum::Json<Vec<Role>>> {
    Ok(axum::Json(
        app.services.guilds.roles(me.user_id, guild).await?,
    ))
}

/// `GET /guilds/{guild_id}/roles/{role_id}`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/roles/{role_id}", tag = "roles",
    params(("guild_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 200, body = Role), (status = 404)))]
pub async fn get(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, role)): Path<(GuildId, RoleId)>,
) -> Result<axum::Json<Role>> {
    Ok(axum::Json(
        app.services.guilds.role(me.user_id, guild, role).await?,
    ))
}

/// `POST /guilds/{guild_id}/roles` — needs `MANAGE_ROLES`; only permissions the
/// caller holds may be given.
#[utoipa::path(post, path = "/api/v10/guilds/{guild_id}/roles", tag = "roles", request_body = CreateRole,
    params(("guild_id" = String, Path)),
    responses((status = 200, body = Role), (status = 400), (status = 403), (status = 404)))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    AuditReason(reason): AuditReason,
    OptionalJson(body): OptionalJson<CreateRole>,
) -> Result<axum::Json<Role>> {
    Ok(axum::Json(
        app.services
            .guilds
            .create_role(me.user_id, guild, body, reason)
            .await?,
    ))
}

/// `PATCH /guilds/{guild_id}/roles` — move roles below one's own highest.
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}/roles", tag = "roles", request_body = [RolePosition],
    params(("guild_id" = String, Path)),
    responses((status = 200, body = [Role]), (status = 400), (status = 403), (status = 404)))]
pub async fn reorder(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    AuditReason(reason): AuditReason,
    Json(body): Json<Vec<RolePosition>>,
) -> Result<axum::Json<Vec<Role>>> {
    Ok(axum::Json(
        app.services
            .guilds
            .move_roles(me.user_id, guild, body, reason)
            .await?,
    ))
}

/// `PATCH /guilds/{guild_id}/roles/{role_id}`.
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}/roles/{role_id}", tag = "roles", request_body = UpdateRole,
    params(("guild_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 200, body = Role), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, role)): Path<(GuildId, RoleId)>,
    AuditReason(reason): AuditReason,
    Json(body): Json<UpdateRole>,
) -> Result<axum::Json<Role>> {
    Ok(axum::Json(
        app.services
            .guilds
            .update_role(me.user_id, guild, role, body, reason)
            .await?,
    ))
}

/// `DELETE /guilds/{guild_id}/roles/{role_id}`.
#[utoipa::path(delete, path = "/api/v10/guilds/{guild_id}/roles/{role_id}", tag = "roles",
    params(("guild_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204), (status = 400, description = "@everyone"), (status = 403), (status = 404)))]
pub async fn delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, role)): Path<(GuildId, RoleId)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .delete_role(me.user_id, guild, role, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
