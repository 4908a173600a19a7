//! `/.well-known/*` — the public keys that verify access tokens.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

/// `GET /.well-known/jwks.json` — the JSON Web Key Set of the token signing keys
/// (Ed25519, `alg: EdDSA`), newest first; a token's `kid` names its key.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set")))]
pub async fn jwks(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(app.services.accounts.jwks()),
    )
}
