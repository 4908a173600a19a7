//! `/auth/*` — registration, login (with the 2FA ticket step), token refresh,
//! logout, email verification, password reset, and the forward-auth check.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use beep_core::accounts::{LoginOutcome, Registration, TokenGrant, current_user, public_user};
use beep_types::UserId;
use beep_types::v10::CurrentUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Authenticated, ClientMeta};
use crate::error::Result;
use crate::extract::Json;

/// `POST /auth/register` — create an account.
#[utoipa::path(post, path = "/api/v10/auth/register", tag = "auth",
    request_body = Registration,
    responses((status = 201, body = CurrentUser), (status = 400, description = "Invalid Form Body"),
        (status = 429, description = "Too many registrations from this address")))]
pub async fn register(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<Registration>,
) -> Result<(StatusCode, axum::Json<CurrentUser>)> {
    let user = app.services.accounts.register(body, &client).await?;
    Ok((StatusCode::CREATED, axum::Json(current_user(&user))))
}

/// Body of `POST /auth/login`; Discord's other fields (`undelete`, ...) are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Email address or username.
    pub login: String,
    pub password: String,
}

/// A login that needs its second factor (Discord's shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequired {
    pub mfa: bool,
    /// Send it with a code to `POST /auth/mfa/totp` within five minutes.
    pub ticket: String,
    pub totp: bool,
    pub sms: bool,
    pub backup: bool,
    pub user_id: Option<UserId>,
}

/// `POST /auth/login` — log in with an email or username and a password.
#[utoipa::path(post, path = "/api/v10/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokenGrant, description = "Logged in (or `MfaRequired` when 2FA is on)"),
        (status = 401, description = "Wrong login or password, or email not verified"),
        (status = 429, description = "Too many failed logins for this account or address")))]
pub async fn login(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<LoginBody>,
) -> Result<Response> {
    let outcome = app
        .services
        .accounts
        .login(&body.login, body.password, &client)
        .await?;
    Ok(match outcome {
        LoginOutcome::Tokens(grant) => axum::Json(grant).into_response(),
        LoginOutcome::Mfa { ticket } => axum::Json(MfaRequired {
            mfa: true,
            ticket,
            totp: true,
            sms: false,
            backup: true,
            user_id: None,
        })
        .into_response(),
    })
}

/// Body of `POST /auth/mfa/totp`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaLoginBody {
    pub ticket: String,
    /// A 6-digit TOTP code or a backup code.
    pub code: String,
}

/// `POST /auth/mfa/totp` — finish a login with a TOTP or backup code.
#[utoipa::path(post, path = "/api/v10/auth/mfa/totp", tag = "auth", request_body = MfaLoginBody,
    responses((status = 200, body = TokenGrant),
        (status = 401, description = "Bad ticket, or wrong, replayed or used code")))]
pub async fn mfa_totp(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<MfaLoginBody>,
) -> Result<axum::Json<TokenGrant>> {
    let grant = app
        .services
        .accounts
        .login_mfa(&body.ticket, &body.code, &client)
        .await?;
    Ok(axum::Json(grant))
}

/// Body of `POST /auth/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// `POST /auth/refresh` — trade a refresh token for new tokens (it works once;
/// reusing an old one ends the session).
#[utoipa::path(post, path = "/api/v10/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = TokenGrant), (status = 401, description = "Unknown, used or expired refresh token")))]
pub async fn refresh(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<RefreshBody>,
) -> Result<axum::Json<TokenGrant>> {
    let grant = app
        .services
        .accounts
        .refresh(&body.refresh_token, &client)
        .await?;
    Ok(axum::Json(grant))
}

/// `POST /auth/logout` — end this session.
#[utoipa::path(post, path = "/api/v10/auth/logout", tag = "auth",
    responses((status = 204), (status = 401)))]
pub async fn logout(State(app): State<AppState>, me: Authenticated) -> Result<StatusCode> {
    app.services.accounts.logout(&me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/logout-all` — end every session of this account.
#[utoipa::path(post, path = "/api/v10/auth/logout-all", tag = "auth",
    responses((status = 204), (status = 401)))]
pub async fn logout_all(State(app): State<AppState>, me: Authenticated) -> Result<StatusCode> {
    app.services.accounts.logout_all(&me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /auth/verify` — forward-auth for a reverse proxy: 200 with the caller in
/// an `X-User-Claim` JSON header, or 401.
#[utoipa::path(get, path = "/api/v10/auth/verify", tag = "auth",
    responses((status = 200, description = "Valid; `X-User-Claim` holds {id, username, session_id, bot}"),
        (status = 401)))]
pub async fn verify(State(app): State<AppState>, me: Authenticated) -> Result<Response> {
    let user = app.services.accounts.me(&me).await?;
    let public = public_user(&user);
    let claim = serde_json::json!({
        "id": public.id,
        "username": public.username,
        "global_name": public.global_name,
        "session_id": me.session_id,
        "bot": me.bot,
    });
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&ascii_json(&claim)) {
        headers.insert("x-user-claim", v);
    }
    Ok((StatusCode::OK, headers, axum::Json(claim)).into_response())
}

/// JSON with every non-ASCII character escaped, so it fits in a header.
fn ascii_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Body of `POST /auth/verify-email`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmailBody {
    pub email: String,
    /// The 6-digit code from the mail.
    pub code: String,
}

/// `POST /auth/verify-email` — confirm an address with its code.
#[utoipa::path(post, path = "/api/v10/auth/verify-email", tag = "auth", request_body = VerifyEmailBody,
    responses((status = 200, body = CurrentUser), (status = 401, description = "Wrong, used, expired or exhausted code")))]
pub async fn verify_email(
    State(app): State<AppState>,
    Json(body): Json<VerifyEmailBody>,
) -> Result<axum::Json<CurrentUser>> {
    let user = app
        .services
        .accounts
        .verify_email(&body.email, &body.code)
        .await?;
    Ok(axum::Json(current_user(&user)))
}

/// Body of the routes that take just an address.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailBody {
    pub email: String,
}

/// `POST /auth/verify-email/resend` — mail a new verification code (always 204,
/// known address or not; 429 when too many codes were mailed).
#[utoipa::path(post, path = "/api/v10/auth/verify-email/resend", tag = "auth", request_body = EmailBody,
    responses((status = 204), (status = 429)))]
pub async fn resend_verification(
    State(app): State<AppState>,
    Json(body): Json<EmailBody>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .resend_verification(&body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/password/forgot` — mail a password reset code (always 204).
#[utoipa::path(post, path = "/api/v10/auth/password/forgot", tag = "auth", request_body = EmailBody,
    responses((status = 204), (status = 429)))]
pub async fn forgot_password(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<EmailBody>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .forgot_password(&body.email, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /auth/password/reset`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    pub email: String,
    pub code: String,
    pub password: String,
}

/// `POST /auth/password/reset` — set a new password with the mailed code; every
/// session of the account ends.
#[utoipa::path(post, path = "/api/v10/auth/password/reset", tag = "auth", request_body = ResetPasswordBody,
    responses((status = 204), (status = 400, description = "Password refused"), (status = 401, description = "Bad code")))]
pub async fn reset_password(
    State(app): State<AppState>,
    ClientMeta(client): ClientMeta,
    Json(body): Json<ResetPasswordBody>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .reset_password(&body.email, &body.code, body.password, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
