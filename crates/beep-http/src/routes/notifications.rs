//! The notification inbox (a Beep extension) and Discord's user guild
//! settings: `GET /users/@me/notifications`, `POST .../{id}/read`,
//! `POST .../read-all`, `GET /users/@me/guilds/settings`,
//! `PATCH /users/@me/guilds/{guild_id}/settings` (`@me`: direct messages).
//!
//! Gateway dispatches (to the user's sessions): `NOTIFICATION_CREATE` (a
//! notification), `NOTIFICATION_READ` (`{ids, all, up_to}`),
//! `USER_GUILD_SETTINGS_UPDATE` (the settings object) and, in private
//! channels, `MESSAGE_RECEIPT_UPDATE` (`{channel_id, message_id, receipt}`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use beep_core::notifications::NotificationQuery;
use beep_types::v10::notification::{
    ChannelOverride, MuteConfig, MuteConfigPatch, Notification, NotificationRead,
    UserGuildSettings, UserGuildSettingsPatch,
};
use beep_types::{ErrorCode, GuildId, Snowflake};
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// The OpenAPI document of these routes.
#[derive(OpenApi)]
#[openapi(
    paths(list, read, read_all, all_settings, patch_settings),
    components(schemas(
        Notification,
        NotificationRead,
        UserGuildSettings,
        UserGuildSettingsPatch,
        ChannelOverride,
        MuteConfig,
        MuteConfigPatch
    ))
)]
pub struct NotificationsDoc;

/// The route table.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/@me/notifications", get(list))
        .route("/users/@me/notifications/read-all", post(read_all))
        .route("/users/@me/notifications/{id}/read", post(read))
        .route("/users/@me/guilds/settings", get(all_settings))
        .route(
            "/users/@me/guilds/{guild_id}/settings",
            patch(patch_settings),
        )
}

/// `GET /users/@me/notifications?before&limit` — the inbox, newest first
/// (`limit` 1–100, default 25). Notifications of deleted messages disappear.
#[utoipa::path(get, path = "/api/v10/users/@me/notifications", tag = "notifications",
    params(NotificationQuery), responses((status = 200, body = [Notification])))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Query(q): Query<NotificationQuery>,
) -> Result<axum::Json<Vec<Notification>>> {
    Ok(axum::Json(app.services.notifications.list(&me, &q).await?))
}

/// `POST /users/@me/notifications/{id}/read` — mark one read (204); another
/// user's or an unknown id is 404 with code 10080.
#[utoipa::path(post, path = "/api/v10/users/@me/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn read(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<Snowflake>,
) -> Result<StatusCode> {
    app.services.notifications.read(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/@me/notifications/read-all` — mark every notification read (204).
#[utoipa::path(post, path = "/api/v10/users/@me/notifications/read-all", tag = "notifications",
    responses((status = 204)))]
pub async fn read_all(State(app): State<AppState>, me: Authenticated) -> Result<StatusCode> {
    app.services.notifications.read_all(&me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/@me/guilds/settings` — every settings object the user changed.
#[utoipa::path(get, path = "/api/v10/users/@me/guilds/settings", tag = "notifications",
    responses((status = 200, body = [UserGuildSettings])))]
pub async fn all_settings(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<UserGuildSettings>>> {
    Ok(axum::Json(
        app.services.notifications.all_settings(&me).await?,
    ))
}

/// `PATCH /users/@me/guilds/{guild_id}/settings` — change notification
/// settings of a guild (`@me`: direct messages); returns the settings object
/// and sends `USER_GUILD_SETTINGS_UPDATE` to the user's sessions.
#[utoipa::path(patch, path = "/api/v10/users/@me/guilds/{guild_id}/settings", tag = "notifications",
    params(("guild_id" = String, Path)), request_body = UserGuildSettingsPatch,
    responses((status = 200, body = UserGuildSettings), (status = 400), (status = 404)))]
pub async fn patch_settings(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<String>,
    Json(body): Json<UserGuildSettingsPatch>,
) -> Result<axum::Json<UserGuildSettings>> {
    let guild = if guild == "@me" {
        None
    } else {
        match guild.parse::<GuildId>() {
            Ok(g) => Some(g),
            Err(_) => return Err(beep_core::Error::new(ErrorCode::UnknownGuild).into()),
        }
    };
    Ok(axum::Json(
        app.services
            .notifications
            .patch_settings(&me, guild, body)
            .await?,
    ))
}
