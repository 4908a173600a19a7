//! `GET /guilds/{guild_id}/audit-logs`, and the two request helpers the guild
//! routes share: the `X-Audit-Log-Reason` header and optional JSON bodies.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use beep_core::guilds::audit::AuditLogQuery;
use beep_core::guilds::clean_reason;
use beep_types::GuildId;
use beep_types::v10::guild::AuditLog;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Result};
use crate::extract::{Path, Query, parse_json};

/// The `X-Audit-Log-Reason` header: percent-decoded (as Discord clients send
/// it), stripped of control characters, at most 512 characters.
#[derive(Debug, Clone, Default)]
pub struct AuditReason(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AuditReason {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts
            .headers
            .get("x-audit-log-reason")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        Ok(AuditReason(clean_reason(raw.map(|r| percent_decode(&r)))))
    }
}

/// Decode `%XX` escapes; anything malformed is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON body that may be absent: an empty body reads as `T::default()`.
/// Otherwise the checks of [`crate::extract::Json`] apply.
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.config.json_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::new(beep_types::ErrorCode::PayloadTooLarge))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        Ok(OptionalJson(parse_json::<T>(
            &bytes,
            state.config.json_depth,
        )?))
    }
}

/// `GET /guilds/{guild_id}/audit-logs` — needs `VIEW_AUDIT_LOG`.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/audit-logs", tag = "guilds",
    params(("guild_id" = String, Path), AuditLogQuery),
    responses((status = 200, body = AuditLog), (status = 403, description = "Missing Permissions"),
        (status = 404, description = "Unknown Guild")))]
pub async fn audit_log(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<AuditLogQuery>,
) -> Result<axum::Json<AuditLog>> {
    Ok(axum::Json(
        app.services.guilds.audit_log(me.user_id, guild, q).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_percent_decoded() {
        assert_eq!(percent_decode("too%20much%20spam"), "too much spam");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
