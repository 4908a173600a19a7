//! `/guilds/{guild_id}/channels` and `/channels/{channel_id}` — guild channels
//! and folders, their arrangement and their permission overwrites.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::guilds::forms::{ChannelPosition, CreateChannel, PutOverwrite, UpdateChannel};
use beep_types::v10::channel::Channel;
use beep_types::{ChannelId, GuildId, Snowflake};

use super::audit::AuditReason;
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use axum::response::IntoResponse;

use crate::extract::{Json, Path, parse_json};

/// `GET /guilds/{guild_id}/channels` — the channels the caller can view.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/channels", tag = "channels",
    params(("guild_id" = String, Path)), responses((status = 200, body = [Channel]), (status = 404)))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<axum::Json<Vec<Channel>>> {
    Ok(axum::Json(
        app.services.guilds.channels(me.user_id, guild).await?,
    ))
}

/// `POST /guilds/{guild_id}/channels` — type 0 text, 2 voice, 4 folder; folders
/// nest up to the configured depth.
#[utoipa::path(post, path = "/api/v10/guilds/{guild_id}/channels", tag = "channels", request_body = CreateChannel,
    params(("guild_id" = String, Path)),
    responses((status = 201, body = Channel), (status = 400), (status = 403), (status = 404)))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    AuditReason(reason): AuditReason,
    Json(body): Json<CreateChannel>,
) -> Result<(StatusCode, axum::Json<Channel>)> {
    let c = app
        .services
        .guilds
        .create_channel(me.user_id, guild, body, reason)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(c)))
}

/// `PATCH /guilds/{guild_id}/channels` — move channels (position, folder) in one write.
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}/channels", tag = "channels", request_body = [ChannelPosition],
    params(("guild_id" = String, Path)), responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn reorder(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    AuditReason(reason): AuditReason,
    Json(body): Json<Vec<ChannelPosition>>,
) -> Result<StatusCode> {
    app.services
        .guilds
        .move_channels(me.user_id, guild, body, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /channels/{channel_id}` — a channel the caller can view (a guild
/// channel, or a DM or group the caller is in).
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}", tag = "channels",
    params(("channel_id" = String, Path)), responses((status = 200, body = Channel), (status = 404)))]
pub async fn get(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<axum::response::Response> {
    if app.services.social.is_private_channel(channel).await? {
        let c = app
            .services
            .social
            .private_channel(me.user_id, channel)
            .await?;
        return Ok(axum::Json(c).into_response());
    }
    Ok(axum::Json(app.services.guilds.channel(me.user_id, channel).await?).into_response())
}

/// `PATCH /channels/{channel_id}` — needs `MANAGE_CHANNELS` (and `MANAGE_ROLES`
/// for `permission_overwrites`).
#[utoipa::path(patch, path = "/api/v10/channels/{channel_id}", tag = "channels", request_body = UpdateChannel,
    params(("channel_id" = String, Path)),
    responses((status = 200, body = Channel), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    AuditReason(reason): AuditReason,
    Json(body): Json<serde_json::Value>,
) -> Result<axum::response::Response> {
    let bytes = serde_json::to_vec(&body).map_err(beep_core::Error::internal)?;
    if app.services.social.is_private_channel(channel).await? {
        // A group's name and icon (`beep_core::social::PatchGroup`).
        let form = parse_json(&bytes, app.config.json_depth)?;
        let c = app
            .services
            .social
            .patch_group(me.user_id, channel, form)
            .await?;
        return Ok(axum::Json(c).into_response());
    }
    let form: UpdateChannel = parse_json(&bytes, app.config.json_depth)?;
    Ok(axum::Json(
        app.services
            .guilds
            .update_channel(me.user_id, channel, form, reason)
            .await?,
    )
    .into_response())
}

/// `DELETE /channels/{channel_id}` — a folder goes with everything inside it.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}", tag = "channels",
    params(("channel_id" = String, Path)),
    responses((status = 200, body = Channel), (status = 403), (status = 404)))]
pub async fn delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    AuditReason(reason): AuditReason,
) -> Result<axum::response::Response> {
    if app.services.social.is_private_channel(channel).await? {
        // Close a DM for the caller, or leave a group.
        let c = app
            .services
            .social
            .close_private_channel(me.user_id, channel)
            .await?;
        return Ok(axum::Json(c).into_response());
    }
    Ok(axum::Json(
        app.services
            .guilds
            .delete_channel(me.user_id, channel, reason)
            .await?,
    )
    .into_response())
}

/// `PUT /channels/{channel_id}/permissions/{overwrite_id}` — set the overwrite of
/// a role (`type` 0) or member (`type` 1).
#[utoipa::path(put, path = "/api/v10/channels/{channel_id}/permissions/{overwrite_id}", tag = "channels",
    request_body = PutOverwrite,
    params(("channel_id" = String, Path), ("overwrite_id" = String, Path)),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn put_overwrite(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, target)): Path<(ChannelId, Snowflake)>,
    AuditReason(reason): AuditReason,
    Json(body): Json<PutOverwrite>,
) -> Result<StatusCode> {
    app.services
        .guilds
        .put_overwrite(me.user_id, channel, target, body, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /channels/{channel_id}/permissions/{overwrite_id}`.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/permissions/{overwrite_id}", tag = "channels",
    params(("channel_id" = String, Path), ("overwrite_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_overwrite(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, target)): Path<(ChannelId, Snowflake)>,
    AuditReason(reason): AuditReason,
) -> Result<StatusCode> {
    app.services
        .guilds
        .delete_overwrite(me.user_id, channel, target, reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
