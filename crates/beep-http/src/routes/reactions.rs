//! `/channels/{id}/messages/{id}/reactions/...` — add, remove, list, clear.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::Error;
use beep_core::messages::ReactionUsersQuery;
use beep_types::v10::user::PublicUser;
use beep_types::{ChannelId, MessageId, UserId};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, Query};

/// `@me` or a user id.
fn who(raw: &str) -> Result<Option<UserId>> {
    if raw == "@me" {
        return Ok(None);
    }
    raw.parse::<UserId>().map(Some).map_err(|_| {
        Error::field(
            "user_id",
            "NUMBER_TYPE_COERCE",
            format!("Value \"{raw}\" is not snowflake."),
        )
        .into()
    })
}

/// `PUT .../reactions/{emoji}/@me` — react (a custom emoji is `name:id`).
#[utoipa::path(put, path = "/api/v10/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
    tag = "reactions", params(("channel_id" = String, Path), ("message_id" = String, Path), ("emoji" = String, Path)),
    responses((status = 204), (status = 400, description = "Maximum number of reactions reached"),
        (status = 404, description = "Unknown Emoji or Unknown Message")))]
pub async fn add(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id, emoji, user)): Path<(ChannelId, MessageId, String, String)>,
) -> Result<StatusCode> {
    if user != "@me" {
        return Err(Error::new(beep_types::ErrorCode::NotFound).into());
    }
    app.services
        .messages
        .react(&me, channel, id, &emoji)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE .../reactions/{emoji}/{@me|user_id}` — remove one's own reaction, or
/// someone else's with Manage Messages.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
    tag = "reactions", params(("channel_id" = String, Path), ("message_id" = String, Path), ("emoji" = String, Path),
        ("user" = String, Path, description = "`@me` or a user id")),
    responses((status = 204), (status = 403, description = "Missing Permissions")))]
pub async fn remove(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id, emoji, user)): Path<(ChannelId, MessageId, String, String)>,
) -> Result<StatusCode> {
    let user = who(&user)?;
    app.services
        .messages
        .unreact(&me, channel, id, &emoji, user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET .../reactions/{emoji}?after&limit` — who reacted, by user id.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    tag = "reactions", params(("channel_id" = String, Path), ("message_id" = String, Path), ("emoji" = String, Path),
        ReactionUsersQuery),
    responses((status = 200, body = [PublicUser])))]
pub async fn users(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id, emoji)): Path<(ChannelId, MessageId, String)>,
    Query(q): Query<ReactionUsersQuery>,
) -> Result<axum::Json<Vec<PublicUser>>> {
    Ok(axum::Json(
        app.services
            .messages
            .reaction_users(&me, channel, id, &emoji, &q)
            .await?,
    ))
}

/// `DELETE .../reactions` — every reaction, with Manage Messages.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/messages/{message_id}/reactions",
    tag = "reactions", params(("channel_id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204)))]
pub async fn clear_all(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id)): Path<(ChannelId, MessageId)>,
) -> Result<StatusCode> {
    app.services
        .messages
        .clear_reactions(&me, channel, id, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE .../reactions/{emoji}` — every reaction of one emoji, with Manage Messages.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    tag = "reactions", params(("channel_id" = String, Path), ("message_id" = String, Path), ("emoji" = String, Path)),
    responses((status = 204)))]
pub async fn clear_emoji(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, id, emoji)): Path<(ChannelId, MessageId, String)>,
) -> Result<StatusCode> {
    app.services
        .messages
        .clear_reactions(&me, channel, id, Some(&emoji))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
