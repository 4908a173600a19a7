//! `GET /users/@me/storage` — how many bytes of attachments the caller stores,
//! and their quota (a Beep extension; Discord has no storage quota).

use axum::extract::State;
use beep_core::file_lifecycle::StorageUsage;
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;

/// The OpenAPI document of the storage routes.
#[derive(OpenApi)]
#[openapi(paths(usage), components(schemas(StorageUsage)))]
pub struct StorageDoc;

/// `GET /users/@me/storage` — `{"used_bytes", "quota_bytes"}`: the caller's
/// attachments in storage, and the most they may store (`null`: no limit). An
/// upload past the quota is refused with 413 and code 40005; deleting messages
/// frees their attachments' bytes.
#[utoipa::path(get, path = "/api/v10/users/@me/storage", tag = "users",
    responses((status = 200, body = StorageUsage), (status = 401)))]
pub async fn usage(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<StorageUsage>> {
    Ok(axum::Json(
        app.services.file_lifecycle.usage(me.user_id).await?,
    ))
}
