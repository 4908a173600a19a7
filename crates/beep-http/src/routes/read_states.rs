//! Read states: `POST /channels/{id}/messages/{id}/ack` and
//! `GET /users/@me/read-states`.

use axum::body::Bytes;
use axum::extract::State;
use beep_types::v10::message::{Ack, AckToken, ReadState};
use beep_types::{ChannelId, MessageId};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, parse_json};

/// `POST /channels/{channel_id}/messages/{message_id}/ack` — read up to here
/// (`{"manual": true}` marks unread from here). The body may be empty.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/messages/{message_id}/ack", tag = "read states",
    params(("channel_id" = String, Path), ("message_id" = String, Path)), request_body = Ack,
    responses((status = 200, body = AckToken)))]
pub async fn ack(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
    body: Bytes,
) -> Result<axum::Json<AckToken>> {
    if body.len() > app.config.json_body_bytes {
        return Err(beep_core::Error::new(beep_types::ErrorCode::PayloadTooLarge).into());
    }
    let ack: Ack = if body.iter().all(u8::is_ascii_whitespace) {
        Ack::default()
    } else {
        parse_json(&body, app.config.json_depth)?
    };
    Ok(axum::Json(
        app.services.messages.ack(&me, channel, id, &ack).await?,
    ))
}

/// `GET /users/@me/read-states` — last read message, unread and mention counts
/// per channel.
#[utoipa::path(get, path = "/api/v10/users/@me/read-states", tag = "read states",
    responses((status = 200, body = [ReadState])))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<ReadState>>> {
    Ok(axum::Json(app.services.messages.read_states(&me).await?))
}
