//! The per-route rate limit layer, with Discord's headers.
//!
//! Every matched API route has a bucket per caller: per user when the request
//! carries a token whose signature checks out (bots: per token), else per client
//! address. Authentication routes that take passwords or codes have a tighter
//! bucket per address. Every answer carries `X-RateLimit-Limit`, `-Remaining`,
//! `-Reset`, `-Reset-After` and `-Bucket`; a refusal is a 429 with
//! `Retry-After`, `X-RateLimit-Scope` and `X-RateLimit-Global` and the body
//! `{"message", "retry_after", "global"}`. The counting itself is
//! [`beep_core::ratelimit`], in memory or in the database (shared by nodes).

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beep_core::ratelimit::{Decision, Quota, Scope};

use crate::AppState;
use crate::error::ApiError;

/// The route quotas of the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLimits {
    /// Whether the layer counts at all.
    pub enabled: bool,
    /// Requests per second per caller on each ordinary route.
    pub per_second: u32,
    /// Requests per minute per address on each authentication route that takes a
    /// password or a code.
    pub auth_per_minute: u32,
}

impl Default for RouteLimits {
    fn default() -> Self {
        RouteLimits {
            enabled: true,
            per_second: 50,
            auth_per_minute: 30,
        }
    }
}

/// Routes (under the API prefix) whose bucket is per address and per minute.
const AUTH_ROUTES: &[&str] = &[
    "/auth/login",
    "/auth/register",
    "/auth/mfa/totp",
    "/auth/refresh",
    "/auth/verify-email",
    "/auth/verify-email/resend",
    "/auth/password/forgot",
    "/auth/password/reset",
];

/// The bucket name and quota of a route.
fn quota_for(limits: &RouteLimits, method: &Method, route: &str) -> (String, Quota, bool) {
    // Nested routers see the full path; strip the version prefix so v9 and v10
    // share one bucket.
    let path = route
        .strip_prefix("/api/v10")
        .or_else(|| route.strip_prefix("/api/v9"))
        .unwrap_or(route);
    let bucket = format!("{method} {path}");
    if AUTH_ROUTES.contains(&path) {
        let q = Quota::per(limits.auth_per_minute, Duration::from_secs(60));
        (bucket, q, true)
    } else {
        let q = Quota::per(limits.per_second, Duration::from_secs(1));
        (bucket, q, false)
    }
}

/// A short stable name of a bucket for `X-RateLimit-Bucket`.
fn bucket_id(bucket: &str) -> String {
    let hash = beep_core::accounts::tokens::hash_secret(bucket);
    hash[..16].to_owned()
}

/// Count the request against its route bucket; refuse with 429 when it is full.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = state.config.route_limits;
    if !limits.enabled {
        return next.run(req).await;
    }
    let Some(route) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return next.run(req).await;
    };
    let (bucket, quota, per_address) = quota_for(&limits, req.method(), &route);
    let (parts, body) = req.into_parts();
    let identity = if per_address {
        None
    } else {
        parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| state.services.accounts.limiter_identity(h))
    };
    let (key, scope) = match identity {
        Some(id) => (id, Scope::User),
        None => {
            let ip = crate::auth::client_ip(&parts, state.config.trust_forwarded_for)
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "unknown".into());
            (format!("ip:{ip}"), Scope::Ip)
        }
    };
    let req = Request::from_parts(parts, body);
    let decision = match state
        .services
        .limiter
        .acquire(&bucket, &key, quota, scope, 1)
        .await
    {
        Ok(d) => d,
        // A limiter that cannot answer (database down) must not take the API down
        // with it: let the request through; the handler will meet the same outage.
        Err(e) => {
            tracing::warn!(cause = ?e, "rate limiter unavailable; request let through");
            return next.run(req).await;
        }
    };
    if !decision.allowed {
        let mut d = decision;
        d.bucket = bucket_id(&d.bucket);
        return ApiError(d.into_error()).into_response();
    }
    let mut resp = next.run(req).await;
    // A refusal from inside (failed-login limits) carries its own headers.
    if !resp.headers().contains_key("x-ratelimit-bucket") {
        let mut d = decision;
        d.bucket = bucket_id(&d.bucket);
        set_headers(resp.headers_mut(), &d);
    }
    resp
}

/// Write Discord's rate-limit headers for `d`.
pub fn set_headers(h: &mut HeaderMap, d: &Decision) {
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    put("x-ratelimit-limit", d.limit.to_string());
    put("x-ratelimit-remaining", d.remaining.to_string());
    put("x-ratelimit-reset", format!("{:.3}", d.reset_at));
    put("x-ratelimit-reset-after", format!("{:.3}", d.reset_after));
    put("x-ratelimit-bucket", d.bucket.clone());
    if !d.allowed {
        put("x-ratelimit-scope", d.scope.header().to_owned());
        put("x-ratelimit-global", "false".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_share_buckets_and_auth_routes_are_tighter() {
        let l = RouteLimits::default();
        let (a, qa, auth) = quota_for(&l, &Method::POST, "/api/v10/auth/login");
        let (b, _, _) = quota_for(&l, &Method::POST, "/api/v9/auth/login");
        assert_eq!(a, b);
        assert!(auth);
        assert_eq!(qa.burst, 30);
        let (_, q, auth) = quota_for(&l, &Method::GET, "/api/v10/users/@me");
        assert!(!auth);
        assert_eq!(q.burst, 50);
    }
}
