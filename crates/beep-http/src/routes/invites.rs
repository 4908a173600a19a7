//! Invites: `/channels/{channel_id}/invites`, `/guilds/{guild_id}/invites`,
//! `/invites/{code}` (read, revoke, join).

use axum::extract::State;
use beep_core::guilds::forms::{CreateInvite, InviteQuery};
use beep_types::v10::guild::Invite;
use beep_types::{ChannelId, GuildId};

use super::audit::{AuditReason, OptionalJson};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, Query};

/// `POST /channels/{channel_id}/invites` — `max_age`, `max_uses`, `temporary`, `unique`.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/invites", tag = "invites", request_body = CreateInvite,
    params(("channel_id" = String, Path)),
    responses((status = 200, body = Invite), (status = 400), (status = 403), (status = 404)))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    AuditReason(reason): AuditReason,
    OptionalJson(body): OptionalJson<CreateInvite>,
) -> Result<axum::Json<Invite>> {
    Ok(axum::Json(
        app.services
            .guilds
            .create_invite(me.user_id, channel, body, reason)
            .await?,
    ))
}

/// `GET /channels/{channel_id}/invites` — needs `MANAGE_CHANNELS`.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/invites", tag = "invites",
    params(("channel_id" = String, Path)), responses((status = 200, body = [Invite]), (status = 403), (status = 404)))]
pub async fn of_channel(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<axum::Json<Vec<Invite>>> {
    Ok(axum::Json(
        app.services
            .guilds
            .channel_invites(me.user_id, channel)
            .await?,
    ))
}

/// `GET /guilds/{guild_id}/invites` — needs `MANAGE_GUILD`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/invites", tag = "invites",
    params(("guild_id" = String, Path)), responses((status = 200, body = [Invite]), (status = 403), (status = 404)))]
pub async fn of_guild(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<axum::Json<Vec<Invite>>> {
    Ok(axum::Json(
        app.services.guilds.guild_invites(me.user_id, guild).await?,
    ))
}

/// `GET /invites/{code}?with_counts` — expired and used-up invites are unknown.
#[utoipa::path(get, path = "/api/v10/invites/{code}", tag = "invites",
    params(("code" = String, Path), InviteQuery),
    responses((status = 200, body = Invite), (status = 404, description = "Unknown Invite")))]
pub async fn get(
    State(app): State<AppState>,
    _me: Authenticated,
    Path(code): Path<String>,
    Query(q): Query<InviteQuery>,
) -> Result<axum::Json<Invite>> {
    let with_counts = q.with_counts == Some(true);
    Ok(axum::Json(
        app.services.guilds.invite(&code, with_counts).await?,
    ))
}

/// `DELETE /invites/{code}` — needs `MANAGE_CHANNELS` on its channel or `MANAGE_GUILD`.
#[utoipa::path(delete, path = "/api/v10/invites/{code}", tag = "invites",
    params(("code" = String, Path)), responses((status = 200, body = Invite), (status = 403), (status = 404)))]
pub async fn delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path(code): Path<String>,
    AuditReason(reason): AuditReason,
) -> Result<axum::Json<Invite>> {
    Ok(axum::Json(
        app.services
            .guilds
            .delete_invite(me.user_id, &code, reason)
            .await?,
    ))
}

/// `POST /invites/{code}` — join its guild.
#[utoipa::path(post, path = "/api/v10/invites/{code}", tag = "invites",
    params(("code" = String, Path)),
    responses((status = 200, body = Invite), (status = 403, description = "Banned"), (status = 404, description = "Unknown Invite")))]
pub async fn accept(
    State(app): State<AppState>,
    me: Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Invite>> {
    Ok(axum::Json(
        app.services.guilds.accept_invite(me.user_id, &code).await?,
    ))
}
