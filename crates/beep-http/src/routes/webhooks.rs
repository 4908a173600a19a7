//! Webhooks: `/channels/{id}/webhooks`, `/guilds/{id}/webhooks`,
//! `/webhooks/{id}` (with an account) and `/webhooks/{id}/{token}` (with the
//! token alone, including execution).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use beep_core::Error;
use beep_types::v10::message::{CreateWebhook, EditWebhook, ExecuteWebhook, Message, Webhook};
use beep_types::{ChannelId, GuildId, WebhookId};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/channels/{channel_id}/webhooks",
            get(channel_list).post(create),
        )
        .route("/guilds/{guild_id}/webhooks", get(guild_list))
        .route(
            "/webhooks/{webhook_id}",
            get(get_one).patch(edit).delete(remove),
        )
        .route(
            "/webhooks/{webhook_id}/{token}",
            get(get_with_token)
                .patch(edit_with_token)
                .delete(remove_with_token)
                .post(execute),
        )
}

/// `POST /channels/{channel_id}/webhooks` — with Manage Webhooks; at most 15 per channel.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/webhooks", tag = "webhooks",
    params(("channel_id" = String, Path)), request_body = CreateWebhook,
    responses((status = 200, body = Webhook), (status = 400, description = "Invalid name or Maximum number of webhooks reached")))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Json(body): Json<CreateWebhook>,
) -> Result<axum::Json<Webhook>> {
    Ok(axum::Json(
        app.services.webhooks.create(&me, channel, body).await?,
    ))
}

/// `GET /channels/{channel_id}/webhooks`.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/webhooks", tag = "webhooks",
    params(("channel_id" = String, Path)), responses((status = 200, body = [Webhook])))]
pub async fn channel_list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(
        app.services.webhooks.channel_webhooks(&me, channel).await?,
    ))
}

/// `GET /guilds/{guild_id}/webhooks`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/webhooks", tag = "webhooks",
    params(("guild_id" = String, Path)), responses((status = 200, body = [Webhook])))]
pub async fn guild_list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(
        app.services.webhooks.guild_webhooks(&me, guild).await?,
    ))
}

/// `GET /webhooks/{webhook_id}` — by its creator or with Manage Webhooks.
#[utoipa::path(get, path = "/api/v10/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)), responses((status = 200, body = Webhook)))]
pub async fn get_one(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<WebhookId>,
) -> Result<axum::Json<Webhook>> {
    Ok(axum::Json(app.services.webhooks.get(&me, id).await?))
}

/// `PATCH /webhooks/{webhook_id}` — name, avatar, channel.
#[utoipa::path(patch, path = "/api/v10/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)), request_body = EditWebhook, responses((status = 200, body = Webhook)))]
pub async fn edit(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<WebhookId>,
    Json(body): Json<EditWebhook>,
) -> Result<axum::Json<Webhook>> {
    Ok(axum::Json(app.services.webhooks.edit(&me, id, body).await?))
}

/// `DELETE /webhooks/{webhook_id}`.
#[utoipa::path(delete, path = "/api/v10/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)), responses((status = 204)))]
pub async fn remove(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<WebhookId>,
) -> Result<StatusCode> {
    app.services.webhooks.delete(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /webhooks/{webhook_id}/{token}` — no account needed.
#[utoipa::path(get, path = "/api/v10/webhooks/{webhook_id}/{token}", tag = "webhooks",
    params(("webhook_id" = String, Path), ("token" = String, Path)),
    responses((status = 200, body = Webhook), (status = 401, description = "Invalid Webhook Token")))]
pub async fn get_with_token(
    State(app): State<AppState>,
    Path((id, token)): Path<(WebhookId, String)>,
) -> Result<axum::Json<Webhook>> {
    Ok(axum::Json(
        app.services.webhooks.get_with_token(id, &token).await?,
    ))
}

/// `PATCH /webhooks/{webhook_id}/{token}` — name and avatar.
#[utoipa::path(patch, path = "/api/v10/webhooks/{webhook_id}/{token}", tag = "webhooks",
    params(("webhook_id" = String, Path), ("token" = String, Path)), request_body = EditWebhook,
    responses((status = 200, body = Webhook)))]
pub async fn edit_with_token(
    State(app): State<AppState>,
    Path((id, token)): Path<(WebhookId, String)>,
    Json(body): Json<EditWebhook>,
) -> Result<axum::Json<Webhook>> {
    Ok(axum::Json(
        app.services
            .webhooks
            .edit_with_token(id, &token, body)
            .await?,
    ))
}

/// `DELETE /webhooks/{webhook_id}/{token}`.
#[utoipa::path(delete, path = "/api/v10/webhooks/{webhook_id}/{token}", tag = "webhooks",
    params(("webhook_id" = String, Path), ("token" = String, Path)), responses((status = 204)))]
pub async fn remove_with_token(
    State(app): State<AppState>,
    Path((id, token)): Path<(WebhookId, String)>,
) -> Result<StatusCode> {
    app.services.webhooks.delete_with_token(id, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of an execution.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ExecuteQuery {
    /// `true` to get the message back (else 204).
    pub wait: Option<String>,
}

/// `POST /webhooks/{webhook_id}/{token}?wait=true` — post a message, with
/// optional `username` and `avatar_url`.
#[utoipa::path(post, path = "/api/v10/webhooks/{webhook_id}/{token}", tag = "webhooks",
    params(("webhook_id" = String, Path), ("token" = String, Path), ExecuteQuery), request_body = ExecuteWebhook,
    responses((status = 200, body = Message), (status = 204), (status = 401, description = "Invalid Webhook Token")))]
pub async fn execute(
    State(app): State<AppState>,
    Path((id, token)): Path<(WebhookId, String)>,
    Query(q): Query<ExecuteQuery>,
    Json(body): Json<ExecuteWebhook>,
) -> Result<Response> {
    let wait = match q.wait.as_deref() {
        None | Some("false") | Some("False") | Some("0") => false,
        Some("true") | Some("True") | Some("1") => true,
        Some(other) => {
            return Err(Error::field(
                "wait",
                "BOOLEAN_TYPE_COERCE",
                format!("Value \"{other}\" is not a boolean."),
            )
            .into());
        }
    };
    match app
        .services
        .webhooks
        .execute(id, &token, body, wait)
        .await?
    {
        Some(m) => Ok(axum::Json::<Message>(m).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
