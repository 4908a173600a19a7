//! `/channels/{id}/messages` — history, one message, send (JSON or
//! `multipart/form-data` with files), edit, delete, bulk delete; and the route
//! table of every messaging resource (reactions, pins, typing, read states,
//! webhooks, applications).

use axum::Router;
use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::{get, post, put};
use beep_core::Error;
use beep_core::messages::{HistoryQuery, NewMessageInput};
use beep_types::v10::message::{BulkDelete, CreateMessage, EditMessage, Message};
use beep_types::{ChannelId, MessageId};
use utoipa::OpenApi;

use super::{applications, pins, reactions, read_states, typing, webhooks};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Result};
use crate::extract::{Json, Path, Query};

/// Every messaging route, to merge into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/channels/{channel_id}/messages",
            get(history).post(create).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}",
            get(get_one).patch(edit).delete(remove),
        )
        .route(
            "/channels/{channel_id}/messages/bulk-delete",
            post(bulk_delete),
        )
        .route(
            "/channels/{channel_id}/messages/bulk_delete",
            post(bulk_delete),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}/reactions",
            axum::routing::delete(reactions::clear_all),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
            get(reactions::users).delete(reactions::clear_emoji),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
            put(reactions::add).delete(reactions::remove),
        )
        .route("/channels/{channel_id}/pins", get(pins::list))
        .route(
            "/channels/{channel_id}/pins/{message_id}",
            put(pins::pin).delete(pins::unpin),
        )
        .route("/channels/{channel_id}/messages/pins", get(pins::page))
        .route(
            "/channels/{channel_id}/messages/pins/{message_id}",
            put(pins::pin).delete(pins::unpin),
        )
        .route("/channels/{channel_id}/typing", post(typing::typing))
        .route(
            "/channels/{channel_id}/messages/{message_id}/ack",
            post(read_states::ack),
        )
        .route("/users/@me/read-states", get(read_states::list))
        .merge(webhooks::routes())
        .merge(applications::routes())
}

/// The OpenAPI paths of the messaging routes.
#[derive(OpenApi)]
#[openapi(
    paths(
        history,
        get_one,
        create,
        edit,
        remove,
        bulk_delete,
        reactions::add,
        reactions::remove,
        reactions::users,
        reactions::clear_all,
        reactions::clear_emoji,
        pins::list,
        pins::page,
        pins::pin,
        pins::unpin,
        typing::typing,
        read_states::ack,
        read_states::list,
        webhooks::create,
        webhooks::channel_list,
        webhooks::guild_list,
        webhooks::get_one,
        webhooks::edit,
        webhooks::remove,
        webhooks::get_with_token,
        webhooks::edit_with_token,
        webhooks::remove_with_token,
        webhooks::execute,
        applications::create,
        applications::mine,
        applications::current,
        applications::get_one,
        applications::reset_token,
        applications::authorize,
        applications::edit_current,
        applications::edit_one,
    ),
    components(schemas(
        Message,
        CreateMessage,
        EditMessage,
        BulkDelete,
        beep_types::v10::message::Webhook,
        beep_types::v10::message::CreateWebhook,
        beep_types::v10::message::EditWebhook,
        beep_types::v10::message::ExecuteWebhook,
        beep_types::v10::message::Application,
        beep_types::v10::message::CreateApplication,
        beep_types::v10::message::EditApplication,
        beep_types::v10::message::BotToken,
        beep_types::v10::message::AuthorizeBot,
        beep_types::v10::message::AuthorizeResult,
        beep_types::v10::message::ReadState,
        beep_types::v10::message::Ack,
        beep_types::v10::message::AckToken,
        beep_core::messages::PinsPage,
    ))
)]
pub struct MessagesApi;

/// `GET /channels/{channel_id}/messages?before|after|around&limit` — newest first.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/messages", tag = "messages",
    params(("channel_id" = String, Path), HistoryQuery),
    responses((status = 200, body = [Message]), (status = 400, description = "Invalid Form Body"),
        (status = 404, description = "Unknown Channel")))]
pub async fn history(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Query(q): Query<HistoryQuery>,
) -> Result<axum::Json<Vec<Message>>> {
    Ok(axum::Json(
        app.services.messages.history(&me, channel, &q).await?,
    ))
}

/// `GET /channels/{channel_id}/messages/{message_id}`.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/messages/{message_id}", tag = "messages",
    params(("channel_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, description = "Unknown Message")))]
pub async fn get_one(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
) -> Result<axum::Json<Message>> {
    Ok(axum::Json(
        app.services.messages.message(&me, channel, id).await?,
    ))
}

/// `POST /channels/{channel_id}/messages` — a JSON body, or `multipart/form-data`
/// with `payload_json` and `files[n]`.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/messages", tag = "messages",
    params(("channel_id" = String, Path)), request_body = CreateMessage,
    responses((status = 200, body = Message), (status = 400, description = "Invalid Form Body or empty message"),
        (status = 403, description = "Missing Permissions"), (status = 429, description = "Slow mode")))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    req: Request,
) -> Result<axum::Json<Message>> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let input = if multipart {
        // Permissions first: files are streamed to storage while the body is read.
        app.services.messages.check_can_attach(&me, channel).await?;
        let mp = Multipart::from_request(req, &app)
            .await
            .map_err(|e| ApiError(Error::field("files", "BASE_TYPE_INVALID", e.body_text())))?;
        let parts =
            super::attachments::read_message_multipart(&app, me.user_id, channel, mp).await?;
        let body: CreateMessage = match serde_json::from_value(parts.payload) {
            Ok(b) => b,
            Err(e) => {
                app.services.files.discard_unclaimed(&parts.files).await;
                return Err(ApiError(Error::field(
                    "payload_json",
                    "BASE_TYPE_INVALID",
                    e.to_string(),
                )));
            }
        };
        NewMessageInput {
            body,
            files: parts.files,
        }
    } else {
        let Json(body) = Json::<CreateMessage>::from_request(req, &app).await?;
        NewMessageInput {
            body,
            files: Vec::new(),
        }
    };
    let uploaded = input.files.clone();
    match app.services.messages.create(&me, channel, input).await {
        Ok(m) => Ok(axum::Json(m)),
        Err(e) => {
            // Files no message took are queued for deletion and their bytes
            // released now, not a grace period later by the sweeper.
            app.services.files.discard_unclaimed(&uploaded).await;
            Err(e.into())
        }
    }
}

/// `PATCH /channels/{channel_id}/messages/{message_id}` — by the author.
#[utoipa::path(patch, path = "/api/v10/channels/{channel_id}/messages/{message_id}", tag = "messages",
    params(("channel_id" = String, Path), ("message_id" = String, Path)), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 403, description = "Cannot edit a message authored by another user")))]
pub async fn edit(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
    Json(body): Json<EditMessage>,
) -> Result<axum::Json<Message>> {
    Ok(axum::Json(
        app.services.messages.edit(&me, channel, id, body).await?,
    ))
}

/// `DELETE /channels/{channel_id}/messages/{message_id}` — the author, or with
/// Manage Messages.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/messages/{message_id}", tag = "messages",
    params(("channel_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204), (status = 403, description = "Missing Permissions")))]
pub async fn remove(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
) -> Result<StatusCode> {
    app.services.messages.delete(&me, channel, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /channels/{channel_id}/messages/bulk-delete` — 2 to 100 messages, none
/// older than 14 days.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/messages/bulk-delete", tag = "messages",
    params(("channel_id" = String, Path)), request_body = BulkDelete,
    responses((status = 204), (status = 400, description = "Too few, too many or too old")))]
pub async fn bulk_delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Json(body): Json<BulkDelete>,
) -> Result<StatusCode> {
    app.services
        .messages
        .bulk_delete(&me, channel, body.messages)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
