//! Relationships, private channels (DMs and groups), pinned conversations,
//! "all my direct messages" and phone contacts — `beep_core::social`.
//! `GET/PATCH/DELETE /channels/{id}` of a private channel are answered here
//! through `routes::channels`, which hands private channels over.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use beep_core::social::{
    ContactsLookup, CreatePrivateChannel, DirectMessagesQuery, PhonePatch, PhoneVerify,
    PutRelationship, SendFriendRequest,
};
use beep_types::v10::message::Message;
use beep_types::{ChannelId, UserId};
use serde_json::Value;
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// Every social route, to merge into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/users/@me/relationships",
            get(relationships).post(send_request),
        )
        .route(
            "/users/@me/relationships/{user_id}",
            put(put_relationship).delete(delete_relationship),
        )
        .route(
            "/users/@me/channels",
            get(private_channels).post(create_private_channel),
        )
        .route(
            "/users/@me/channels/{channel_id}/pin",
            put(pin).delete(unpin),
        )
        .route(
            "/channels/{channel_id}/recipients/{user_id}",
            put(add_recipient).delete(remove_recipient),
        )
        .route("/users/@me/messages", get(direct_messages))
        .route(
            "/users/@me/phone",
            get(phone).patch(patch_phone).delete(delete_phone),
        )
        .route("/users/@me/phone/verify", post(verify_phone))
        .route("/users/@me/contacts", post(contacts))
}

/// The OpenAPI paths of the social routes.
#[derive(OpenApi)]
#[openapi(
    paths(
        relationships,
        send_request,
        put_relationship,
        delete_relationship,
        private_channels,
        create_private_channel,
        pin,
        unpin,
        add_recipient,
        remove_recipient,
        direct_messages,
        phone,
        patch_phone,
        delete_phone,
        verify_phone,
        contacts,
    ),
    components(schemas(
        SendFriendRequest,
        PutRelationship,
        CreatePrivateChannel,
        beep_core::social::PatchGroup,
        PhonePatch,
        PhoneVerify,
        ContactsLookup,
    ))
)]
pub struct SocialApi;

/// `GET /users/@me/relationships` — friends (1), blocks (2), incoming (3) and
/// outgoing (4) requests.
#[utoipa::path(get, path = "/api/v10/users/@me/relationships", tag = "social",
    responses((status = 200, body = [Object]), (status = 401)))]
pub async fn relationships(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<Value>>> {
    Ok(axum::Json(
        app.services.social.relationships(me.user_id).await?,
    ))
}

/// `POST /users/@me/relationships {username}` — send a friend request (or
/// accept theirs).
#[utoipa::path(post, path = "/api/v10/users/@me/relationships", tag = "social",
    request_body = SendFriendRequest,
    responses((status = 204), (status = 400, description = "80000 refused, 80004 unknown username, 30002 limit")))]
pub async fn send_request(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<SendFriendRequest>,
) -> Result<StatusCode> {
    app.services
        .social
        .request_by_username(me.user_id, body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /users/@me/relationships/{user_id} {type?}` — send or accept a
/// request (no type, or 1), or block (2).
#[utoipa::path(put, path = "/api/v10/users/@me/relationships/{user_id}", tag = "social",
    request_body = PutRelationship, params(("user_id" = String, Path)),
    responses((status = 204), (status = 400), (status = 404, description = "Unknown User")))]
pub async fn put_relationship(
    State(app): State<AppState>,
    me: Authenticated,
    Path(user): Path<UserId>,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    // discord.py and others send no body at all for a plain request.
    let form: PutRelationship = if body.iter().all(u8::is_ascii_whitespace) {
        PutRelationship::default()
    } else {
        crate::extract::parse_json(&body, app.config.json_depth)?
    };
    app.services
        .social
        .put_relationship(me.user_id, user, form)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/@me/relationships/{user_id}` — deny, cancel, unfriend (which
/// erases the two users' DM) or unblock.
#[utoipa::path(delete, path = "/api/v10/users/@me/relationships/{user_id}", tag = "social",
    params(("user_id" = String, Path)),
    responses((status = 204), (status = 404, description = "Unknown User")))]
pub async fn delete_relationship(
    State(app): State<AppState>,
    me: Authenticated,
    Path(user): Path<UserId>,
) -> Result<StatusCode> {
    app.services
        .social
        .delete_relationship(me.user_id, user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/@me/channels` — my DMs and groups, pinned first, then by
/// latest message.
#[utoipa::path(get, path = "/api/v10/users/@me/channels", tag = "social",
    responses((status = 200, body = [Object])))]
pub async fn private_channels(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<Value>>> {
    Ok(axum::Json(
        app.services.social.private_channels(me.user_id).await?,
    ))
}

/// `POST /users/@me/channels` — `{recipient_id}` opens (or returns) a DM;
/// `{recipients, name?}` creates a group.
#[utoipa::path(post, path = "/api/v10/users/@me/channels", tag = "social",
    request_body = CreatePrivateChannel,
    responses((status = 200, body = Object), (status = 400), (status = 403, description = "50007")))]
pub async fn create_private_channel(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<CreatePrivateChannel>,
) -> Result<axum::Json<Value>> {
    Ok(axum::Json(
        app.services
            .social
            .create_private_channel(me.user_id, body)
            .await?,
    ))
}

/// `PUT /users/@me/channels/{channel_id}/pin` — pin a conversation.
#[utoipa::path(put, path = "/api/v10/users/@me/channels/{channel_id}/pin", tag = "social",
    params(("channel_id" = String, Path)),
    responses((status = 204), (status = 404, description = "Unknown Channel")))]
pub async fn pin(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<StatusCode> {
    set_pin(&app, &me, channel, true).await
}

/// `DELETE /users/@me/channels/{channel_id}/pin` — unpin a conversation.
#[utoipa::path(delete, path = "/api/v10/users/@me/channels/{channel_id}/pin", tag = "social",
    params(("channel_id" = String, Path)),
    responses((status = 204), (status = 404, description = "Unknown Channel")))]
pub async fn unpin(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
) -> Result<StatusCode> {
    set_pin(&app, &me, channel, false).await
}

/// Pin or unpin `channel` in `me`'s list: 204.
async fn set_pin(
    app: &AppState,
    me: &Authenticated,
    channel: ChannelId,
    pinned: bool,
) -> Result<StatusCode> {
    app.services
        .social
        .pin_private_channel(me.user_id, channel, pinned)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /channels/{channel_id}/recipients/{user_id}` — the group's owner adds someone.
#[utoipa::path(put, path = "/api/v10/channels/{channel_id}/recipients/{user_id}", tag = "social",
    params(("channel_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 400, description = "30004"), (status = 403), (status = 404)))]
pub async fn add_recipient(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, user)): Path<(ChannelId, UserId)>,
) -> Result<StatusCode> {
    app.services
        .social
        .add_recipient(me.user_id, channel, user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /channels/{channel_id}/recipients/{user_id}` — the owner removes
/// someone, or a member leaves.
#[utoipa::path(delete, path = "/api/v10/channels/{channel_id}/recipients/{user_id}", tag = "social",
    params(("channel_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove_recipient(
    State(app): State<AppState>,
    me: Authenticated,
    Path((channel, user)): Path<(ChannelId, UserId)>,
) -> Result<StatusCode> {
    app.services
        .social
        .remove_recipient(me.user_id, channel, user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/@me/messages?before&limit` — every message of my DMs and
/// groups, newest first.
#[utoipa::path(get, path = "/api/v10/users/@me/messages", tag = "social",
    params(DirectMessagesQuery),
    responses((status = 200, body = [Message]), (status = 400)))]
pub async fn direct_messages(
    State(app): State<AppState>,
    me: Authenticated,
    Query(q): Query<DirectMessagesQuery>,
) -> Result<axum::Json<Vec<Message>>> {
    Ok(axum::Json(
        app.services.social.direct_messages(me.user_id, &q).await?,
    ))
}

/// `GET /users/@me/phone` — `{phone, discoverable}`.
#[utoipa::path(get, path = "/api/v10/users/@me/phone", tag = "social",
    responses((status = 200, body = Object)))]
pub async fn phone(State(app): State<AppState>, me: Authenticated) -> Result<axum::Json<Value>> {
    Ok(axum::Json(app.services.social.phone(me.user_id).await?))
}

/// `PATCH /users/@me/phone {phone?, discoverable?}` — a new number gets a code
/// by SMS (verify it at `/users/@me/phone/verify`).
#[utoipa::path(patch, path = "/api/v10/users/@me/phone", tag = "social",
    request_body = PhonePatch,
    responses((status = 200, body = Object), (status = 400), (status = 429)))]
pub async fn patch_phone(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<PhonePatch>,
) -> Result<axum::Json<Value>> {
    Ok(axum::Json(
        app.services.social.patch_phone(me.user_id, body).await?,
    ))
}

/// `DELETE /users/@me/phone`.
#[utoipa::path(delete, path = "/api/v10/users/@me/phone", tag = "social",
    responses((status = 204)))]
pub async fn delete_phone(State(app): State<AppState>, me: Authenticated) -> Result<StatusCode> {
    app.services.social.remove_phone(me.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/@me/phone/verify {code}`.
#[utoipa::path(post, path = "/api/v10/users/@me/phone/verify", tag = "social",
    request_body = PhoneVerify,
    responses((status = 200, body = Object), (status = 401, description = "Wrong code"), (status = 409)))]
pub async fn verify_phone(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<PhoneVerify>,
) -> Result<axum::Json<Value>> {
    Ok(axum::Json(
        app.services.social.verify_phone(me.user_id, body).await?,
    ))
}

/// `POST /users/@me/contacts {phone_numbers}` — the discoverable users among them.
#[utoipa::path(post, path = "/api/v10/users/@me/contacts", tag = "social",
    request_body = ContactsLookup,
    responses((status = 200, body = [Object]), (status = 400), (status = 429)))]
pub async fn contacts(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<ContactsLookup>,
) -> Result<axum::Json<Vec<Value>>> {
    Ok(axum::Json(
        app.services.social.contacts(me.user_id, body).await?,
    ))
}
