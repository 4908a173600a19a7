//! Authentication for handlers: the [`Authenticated`] extractor (any valid user
//! or bot token, checked against its live session on every request) and
//! [`ClientMeta`] (the caller's address and device name, for sessions, limits and
//! audit lines).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use beep_core::accounts::{Client, Principal};
use beep_types::ErrorCode;

use crate::AppState;
use crate::error::ApiError;

/// A request made with a valid token. Rejects with 401
/// `{"code": 0, "message": "401: Unauthorized"}` when the header is missing or the
/// token is invalid, expired, or belongs to a revoked session.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Principal);

impl std::ops::Deref for Authenticated {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Authenticated(*p));
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let principal = state.services.accounts.authenticate(header).await?;
        parts.extensions.insert(principal);
        Ok(Authenticated(principal))
    }
}

/// Who is calling, as far as the connection tells: the client address (from
/// `X-Forwarded-For` only when `node.trust_forwarded_for` says a proxy sets it)
/// and a device name (`X-Device-Name`, else a short form of the user agent).
#[derive(Debug, Clone, Default)]
pub struct ClientMeta(pub Client);

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, state.config.trust_forwarded_for)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let device = header_text(parts, "x-device-name")
            .map(|d| d.chars().take(128).collect())
            .or_else(|| header_text(parts, USER_AGENT.as_str()).map(|ua| device_from_agent(&ua)))
            .unwrap_or_default();
        Ok(ClientMeta(Client { ip, device }))
    }
}

/// A header as text, if present, printable and not empty.
fn header_text(parts: &Parts, name: &str) -> Option<String> {
    let v = parts.headers.get(name)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// The caller's IP address: the last hop a trusted proxy reports, or the peer.
pub fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(xff) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(ip) = xff
            .rsplit(',')
            .next()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
    {
        return Some(ip);
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// A readable device name from a user agent: browser and system when they can be
/// told, else the agent itself, shortened.
pub fn device_from_agent(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("discord.py", "discord.py"),
        ("DiscordBot", "Discord bot library"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => ua.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_from_user_agents() {
        let ff = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_from_agent(ff), "Firefox on Linux");
        let chrome_android =
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile Safari/537.36";
        assert_eq!(device_from_agent(chrome_android), "Chrome on Android");
        assert_eq!(device_from_agent("curl/8.5.0"), "curl/8.5.0");
    }
}
