//! `/users/@me/mfa/*` — turning TOTP two-factor authentication on and off, and
//! the backup codes.

use axum::extract::State;
use beep_core::accounts::BackupCodeView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::Json;

/// Body of `POST /users/@me/mfa/totp/enable`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EnableBody {
    pub password: String,
    /// The base32 secret the client generated and showed to the authenticator app.
    pub secret: String,
    /// A current code from the app.
    pub code: String,
}

/// Answer of enabling or disabling: a fresh token for this session (the others
/// have ended) and, when enabling, the backup codes (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaChanged {
    pub token: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<BackupCodeView>,
}

/// `POST /users/@me/mfa/totp/enable` — turn TOTP on.
#[utoipa::path(post, path = "/api/v10/users/@me/mfa/totp/enable", tag = "mfa", request_body = EnableBody,
    responses((status = 200, body = MfaChanged), (status = 400, description = "Wrong password, bad secret or code"), (status = 401)))]
pub async fn enable(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<EnableBody>,
) -> Result<axum::Json<MfaChanged>> {
    let (token, backup_codes) = app
        .services
        .accounts
        .enable_totp(&me, body.password, &body.secret, &body.code)
        .await?;
    Ok(axum::Json(MfaChanged {
        token,
        backup_codes,
    }))
}

/// Body of `POST /users/@me/mfa/totp/disable`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DisableBody {
    /// A TOTP code or a backup code.
    pub code: String,
}

/// `POST /users/@me/mfa/totp/disable` — turn TOTP off.
#[utoipa::path(post, path = "/api/v10/users/@me/mfa/totp/disable", tag = "mfa", request_body = DisableBody,
    responses((status = 200, body = MfaChanged), (status = 400, description = "Wrong code"), (status = 401)))]
pub async fn disable(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<DisableBody>,
) -> Result<axum::Json<MfaChanged>> {
    let token = app.services.accounts.disable_totp(&me, &body.code).await?;
    Ok(axum::Json(MfaChanged {
        token,
        backup_codes: Vec::new(),
    }))
}

/// Body of `POST /users/@me/mfa/codes`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CodesBody {
    pub password: String,
    /// Replace every code with new ones (the only time their text is shown).
    #[serde(default)]
    pub regenerate: bool,
}

/// The backup codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCodes {
    pub backup_codes: Vec<BackupCodeView>,
}

/// `POST /users/@me/mfa/codes` — list (or regenerate) the backup codes.
#[utoipa::path(post, path = "/api/v10/users/@me/mfa/codes", tag = "mfa", request_body = CodesBody,
    responses((status = 200, body = BackupCodes), (status = 400, description = "Wrong password"), (status = 401)))]
pub async fn codes(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<CodesBody>,
) -> Result<axum::Json<BackupCodes>> {
    let backup_codes = app
        .services
        .accounts
        .backup_codes(&me, body.password, body.regenerate)
        .await?;
    Ok(axum::Json(BackupCodes { backup_codes }))
}
