//! `/guilds/{guild_id}/members` — list, search, read, edit, kick, roles, and
//! joining a public guild.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use beep_core::guilds::forms::{MembersQuery, SearchMembersQuery, UpdateMe, UpdateMember};
use beep_core::guilds::guild::Joined;
use beep_types::v10::guild::Member;
use beep_types::{GuildId, RoleId, UserId};

use super::audit::AuditReason;
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// `GET /guilds/{guild_id}/members?limit&after`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/members", tag = "members",
    params(("guild_id" = String, Path), MembersQuery), responses((status = 200, body = [Member]), (status = 404)))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<MembersQuery>,
) -> Result<axum::Json<Vec<Member>>> {
    Ok(axum::Json(
        app.services.guilds.members(me.user_id, guild, q).await?,
    ))
}

/// `GET /guilds/{guild_id}/members/search?query&limit`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/members/search", tag = "members",
    params(("guild_id" = String, Path), SearchMembersQuery), responses((status = 200, body = [Member]), (status = 404)))]
pub async fn search(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<SearchMembersQuery>,
) -> Result<axum::Json<Vec<Member>>> {
    Ok(axum::Json(
        app.services
            .guilds
            .search_members(me.user_id, guild, q)
            .await?,
    ))
}

/// `GET /guilds/{guild_id}/members/{user_id}`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/members/{user_id}", tag = "members",
    params(("guild_id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = Member), (status = 404)))]
pub async fn get(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
) -> Result<axum::Json<Member>> {
    Ok(axum::Json(
        app.services.guilds.member(me.user_id, guild, user).await?,
    ))
}

/// `PATCH /guilds/{guild_id}/members/{user_id}` — nick, roles, mute, deaf, timeout.
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}/members/{user_id}", tag = "members", request_body = UpdateMember,
    params(("guild_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = Member), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
    AuditReason(reason): AuditReason,
    Json(body): Json<UpdateMember>,
) -> Result<axum::Json<Member>> {
    Ok(axum::Json(
        app.services
            .guilds
            .update_member(me.user_id, guild, user, body, reason)
            .await?,
    ))
}

/// `DELETE /guilds/{guild_id}/members/{user_id}` — kick.
#[utoipa::path(delete, path = "/api/v10/guilds/{guild_id}/members/{user_id}", tag = "members",
    params(("guild_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn kick(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .kick(me.user_id, guild, user, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /guilds/{guild_id}/members/@me` — join a public guild: 201 with the
/// membership, 204 when already a member.
#[utoipa::path(put, path = "/api/v10/guilds/{guild_id}/members/@me", tag = "members",
    params(("guild_id" = String, Path)),
    responses((status = 201, body = Member), (status = 204), (status = 403, description = "Banned"), (status = 404)))]
pub async fn join(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<Response> {
    Ok(
        match app.services.guilds.join_public(me.user_id, guild).await? {
            Joined::New(m) => (StatusCode::CREATED, axum::Json(*m)).into_response(),
            Joined::Already => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// `PATCH /guilds/{guild_id}/members/@me` — one's own nickname.
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}/members/@me", tag = "members", request_body = UpdateMe,
    params(("guild_id" = String, Path)), responses((status = 200, body = Member), (status = 403), (status = 404)))]
pub async fn update_me(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Json(body): Json<UpdateMe>,
) -> Result<axum::Json<Member>> {
    Ok(axum::Json(
        app.services
            .guilds
            .update_me(me.user_id, guild, body)
            .await?,
    ))
}

/// `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}`.
#[utoipa::path(put, path = "/api/v10/guilds/{guild_id}/members/{user_id}/roles/{role_id}", tag = "members",
    params(("guild_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn add_role(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user, role)): Path<(GuildId, UserId, RoleId)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .add_member_role(me.user_id, guild, user, role, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}`.
#[utoipa::path(delete, path = "/api/v10/guilds/{guild_id}/members/{user_id}/roles/{role_id}", tag = "members",
    params(("guild_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove_role(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user, role)): Path<(GuildId, UserId, RoleId)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .remove_member_role(me.user_id, guild, user, role, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
