//! `/users/@me/sessions` — the caller's login sessions, one per device.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::accounts::Session;
use beep_types::SessionId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::Path;

/// One session as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: SessionId,
    /// Device name given by the client or derived from its user agent.
    pub device: String,
    /// Address the session was last seen from.
    pub ip: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

fn view(s: &Session, me: &Authenticated) -> SessionView {
    SessionView {
        id: s.id,
        device: s.device.clone(),
        ip: s.ip.clone(),
        created_at: s.created_at.to_rfc3339(),
        last_seen_at: s.last_seen_at.to_rfc3339(),
        current: me.session_id == Some(s.id),
    }
}

/// `GET /users/@me/sessions` — live sessions, newest first.
#[utoipa::path(get, path = "/api/v10/users/@me/sessions", tag = "sessions",
    responses((status = 200, body = Vec<SessionView>), (status = 401)))]
pub async fn list(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<SessionView>>> {
    let sessions = app.services.accounts.sessions(&me).await?;
    Ok(axum::Json(sessions.iter().map(|s| view(s, &me)).collect()))
}

/// `DELETE /users/@me/sessions/{session_id}` — end one session; its tokens stop
/// working at once.
#[utoipa::path(delete, path = "/api/v10/users/@me/sessions/{session_id}", tag = "sessions",
    params(("session_id" = String, Path, description = "Session snowflake")),
    responses((status = 204), (status = 401), (status = 404, description = "Unknown Session")))]
pub async fn revoke(
    State(app): State<AppState>,
    me: Authenticated,
    Path(session_id): Path<SessionId>,
) -> Result<StatusCode> {
    app.services
        .accounts
        .revoke_session(&me, session_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
