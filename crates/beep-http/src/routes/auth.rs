//! `/auth/*` — registration (login, tokens and 2FA come with the accounts work).

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::accounts::{Registration, current_user};
use beep_types::v10::CurrentUser;

use crate::AppState;
use crate::error::Result;
use crate::extract::Json;

/// `POST /auth/register` — create an account.
#[utoipa::path(post, path = "/api/v10/auth/register", tag = "auth",
    request_body = Registration,
    responses((status = 201, body = CurrentUser), (status = 400, description = "Invalid Form Body")))]
pub async fn register(
    State(app): State<AppState>,
    Json(body): Json<Registration>,
) -> Result<(StatusCode, axum::Json<CurrentUser>)> {
    let user = app.services.accounts.register(body).await?;
    Ok((StatusCode::CREATED, axum::Json(current_user(&user))))
}
