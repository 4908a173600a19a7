//! `/guilds/{guild_id}/bans` — list, read, ban, unban.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::guilds::forms::{BansQuery, CreateBan};
use beep_types::v10::guild::Ban;
use beep_types::{GuildId, UserId};

use super::audit::{AuditReason, OptionalJson};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, Query};

/// `GET /guilds/{guild_id}/bans?limit&before&after` — needs `BAN_MEMBERS`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/bans", tag = "bans",
    params(("guild_id" = String, Path), BansQuery), responses((status = 200, body = [Ban]), (status = 403), (status = 404)))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<BansQuery>,
) -> Result<axum::Json<Vec<Ban>>> {
    Ok(axum::Json(
        app.services.guilds.bans(me.user_id, guild, q).await?,
    ))
}

/// `GET /guilds/{guild_id}/bans/{user_id}`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/bans/{user_id}", tag = "bans",
    params(("guild_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = Ban), (status = 403), (status = 404, description = "Unknown Ban")))]
pub async fn get(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
) -> Result<axum::Json<Ban>> {
    Ok(axum::Json(
        app.services.guilds.ban(me.user_id, guild, user).await?,
    ))
}

/// `PUT /guilds/{guild_id}/bans/{user_id}` — ban (and remove) a user; the body
/// (`delete_message_seconds`) is optional.
#[utoipa::path(put, path = "/api/v10/guilds/{guild_id}/bans/{user_id}", tag = "bans", request_body = CreateBan,
    params(("guild_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
    AuditReason(reason): AuditReason,
    OptionalJson(body): OptionalJson<CreateBan>,
) -> Result<StatusCode> {
    app.services
        .guilds
        .create_ban(me.user_id, guild, user, body, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /guilds/{guild_id}/bans/{user_id}` — lift a ban.
#[utoipa::path(delete, path = "/api/v10/guilds/{guild_id}/bans/{user_id}", tag = "bans",
    params(("guild_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404, description = "Unknown Ban")))]
pub async fn delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path((guild, user)): Path<(GuildId, UserId)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .remove_ban(me.user_id, guild, user, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
