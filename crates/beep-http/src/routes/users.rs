//! `/users/*` — profiles, the caller's own account, its settings, password,
//! email address and deletion.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::accounts::{ProfilePatch, current_user, public_user};
use beep_types::UserId;
use beep_types::v10::{CurrentUser, PublicUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path};

/// `GET /users/@me` — the caller's account.
#[utoipa::path(get, path = "/api/v10/users/@me", tag = "users",
    responses((status = 200, body = CurrentUser), (status = 401)))]
pub async fn me(State(app): State<AppState>, me: Authenticated) -> Result<axum::Json<CurrentUser>> {
    Ok(axum::Json(current_user(
        &app.services.accounts.me(&me).await?,
    )))
}

/// The caller's account after a change; `token` is set when the password changed
/// (the other sessions ended and this one got a fresh access token).
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedUser {
    #[serde(flatten)]
    pub user: CurrentUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `PATCH /users/@me` — change the profile (username, global_name, first_name,
/// last_name, avatar, banner, bio, locale; password with `password` and
/// `new_password`). Other fields are ignored.
#[utoipa::path(patch, path = "/api/v10/users/@me", tag = "users", request_body = ProfilePatch,
    responses((status = 200, body = UpdatedUser), (status = 400, description = "Invalid Form Body"), (status = 401)))]
pub async fn patch_me(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<ProfilePatch>,
) -> Result<axum::Json<UpdatedUser>> {
    let update = app.services.accounts.update_profile(&me, body).await?;
    Ok(axum::Json(UpdatedUser {
        user: current_user(&update.user),
        token: update.token,
    }))
}

/// `GET /users/{user_id}` — anyone's public profile.
#[utoipa::path(get, path = "/api/v10/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "User snowflake")),
    responses((status = 200, body = PublicUser), (status = 400, description = "Not a snowflake"),
        (status = 401), (status = 404, description = "Unknown User")))]
pub async fn get_user(
    State(app): State<AppState>,
    _me: Authenticated,
    Path(user_id): Path<UserId>,
) -> Result<axum::Json<PublicUser>> {
    Ok(axum::Json(public_user(
        &app.services.accounts.user(user_id).await?,
    )))
}

/// Body of `POST /users/@me/password`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The current password.
    pub password: String,
    pub new_password: String,
}

/// A fresh access token for this session.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreshToken {
    pub token: String,
}

/// `POST /users/@me/password` — change the password; the other sessions end.
#[utoipa::path(post, path = "/api/v10/users/@me/password", tag = "users", request_body = PasswordBody,
    responses((status = 200, body = FreshToken), (status = 400, description = "Wrong or refused password"), (status = 401)))]
pub async fn change_password(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<PasswordBody>,
) -> Result<axum::Json<FreshToken>> {
    let token = app
        .services
        .accounts
        .change_password(&me, body.password, body.new_password)
        .await?;
    Ok(axum::Json(FreshToken { token }))
}

/// Body of `POST /users/@me/email`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailChangeBody {
    pub email: String,
    /// The current password.
    pub password: String,
}

/// `POST /users/@me/email` — ask to change the address: a code goes to the new
/// one, which takes effect with `POST /users/@me/email/verify`.
#[utoipa::path(post, path = "/api/v10/users/@me/email", tag = "users", request_body = EmailChangeBody,
    responses((status = 202), (status = 400), (status = 401), (status = 429)))]
pub async fn start_email_change(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<EmailChangeBody>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .start_email_change(&me, &body.email, body.password)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Body of `POST /users/@me/email/verify`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeBody {
    pub code: String,
}

/// `POST /users/@me/email/verify` — confirm the new address with its code.
#[utoipa::path(post, path = "/api/v10/users/@me/email/verify", tag = "users", request_body = CodeBody,
    responses((status = 200, body = CurrentUser), (status = 401, description = "Bad code")))]
pub async fn confirm_email_change(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<CodeBody>,
) -> Result<axum::Json<CurrentUser>> {
    let user = app
        .services
        .accounts
        .confirm_email_change(&me, &body.code)
        .await?;
    Ok(axum::Json(current_user(&user)))
}

/// Body of `POST /users/@me/delete`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteBody {
    pub password: String,
    /// A TOTP or backup code, when 2FA is on.
    pub code: Option<String>,
}

/// `POST /users/@me/delete` — delete the account (password, and a 2FA code when
/// 2FA is on).
#[utoipa::path(post, path = "/api/v10/users/@me/delete", tag = "users", request_body = DeleteBody,
    responses((status = 204), (status = 400), (status = 401)))]
pub async fn delete_me(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<DeleteBody>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .delete_account(&me, body.password, body.code.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/@me/settings` — the client's stored settings (opaque JSON).
#[utoipa::path(get, path = "/api/v10/users/@me/settings", tag = "users",
    responses((status = 200, description = "Settings object"), (status = 401)))]
pub async fn settings(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(app.services.accounts.settings(&me).await?))
}

/// `PATCH /users/@me/settings` — merge keys into the settings (`null` removes one).
#[utoipa::path(patch, path = "/api/v10/users/@me/settings", tag = "users",
    responses((status = 200, description = "Settings object"), (status = 401), (status = 413)))]
pub async fn patch_settings(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(
        app.services.accounts.update_settings(&me, body).await?,
    ))
}
