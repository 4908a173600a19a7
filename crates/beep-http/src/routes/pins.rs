//! `/channels/{id}/pins` — list, pin, unpin (and Discord's newer
//! `/channels/{id}/messages/pins`, paged).

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::messages::{PinsPage, PinsQuery};
use beep_types::v10::message::Message;
use beep_types::{ChannelId, MessageId};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, Query};

/// `GET /channels/{channel_id}/pins` — pinned messages, newest pin first.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/pins", tag = "pins",
    params(("channel_id" = String, Path)), responses((status = 200, body = [Message])))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<axum::Json<Vec<Message>>> {
    Ok(axum::Json(app.services.messages.pins(&me, channel).await?))
}

/// `GET /channels/{channel_id}/messages/pins?before&limit` — a page of pins.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/messages/pins", tag = "pins",
    params(("channel_id" = String, Path), PinsQuery), responses((status = 200, body = PinsPage)))]
pub async fn page(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Query(q): Query<PinsQuery>,
) -> Result<axum::Json<PinsPage>> {
    Ok(axum::Json(
        app.services.messages.pins_page(&me, channel, &q).await?,
    ))
}

/// `PUT /channels/{channel_id}/pins/{message_id}` — pin (at most 250 per channel).
#[utoipa::path(put, path = "/api/v10/channels/{channel_id}/pins/{message_id}", tag = "pins",
    params(("channel_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204), (status = 400, description = "Maximum number of pins reached")))]
pub async fn pin(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
) -> Result<StatusCode> {
    app.services.messages.pin(&me, channel, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /channels/{channel_id}/pins/{message_id}` — unpin.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/pins/{message_id}", tag = "pins",
    params(("channel_id" = String, Path), ("message_id" = String, Path)), responses((status = 204)))]
pub async fn unpin(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
) -> Result<StatusCode> {
    app.services.messages.unpin(&me, channel, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
