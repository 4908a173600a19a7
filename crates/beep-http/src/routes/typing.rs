//! `POST /channels/{id}/typing` — a typing indicator.

use axum::extract::State;
use axum::http::StatusCode;
use beep_types::ChannelId;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::Path;

/// `POST /channels/{channel_id}/typing` — `TYPING_START` to the channel.
#[utoipa::path(post, path = "/api/v10/channels/{channel_id}/typing", tag = "messages",
    params(("channel_id" = String, Path)), responses((status = 204)))]
pub async fn typing(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<StatusCode> {
    app.services.messages.typing(&me, channel).await?;
    Ok(StatusCode::NO_CONTENT)
}
