//! Cross-cutting layers: request ids, the access log, request metrics, and turning
//! a panic in a handler into a 500 without taking the node down.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beep_types::ErrorCode;
use futures::FutureExt;
use rand::RngCore;
use tracing::{Instrument, error, info, warn};

use crate::error::{ApiError, ErrorDetail};

/// The id of one request, echoed in `X-Request-Id` and every log line about it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_id(req: &Request) -> Option<String> {
    let v = req.headers().get("x-request-id")?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| v.to_string())
}

/// Assign a request id, time the request, log it and count it.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = incoming_id(&req).unwrap_or_else(|| format!("{:016x}", rand::rng().next_u64()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());

    let span = tracing::info_span!(
        "http_request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        url.path = %path,
        request_id = %id,
        http.response.status_code = tracing::field::Empty,
    );
    let mut resp = match AssertUnwindSafe(next.run(req).instrument(span.clone()))
        .catch_unwind()
        .await
    {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            error!(request_id = %id, panic = %what, "handler panicked");
            ApiError::new(ErrorCode::Internal).into_response()
        }
    };

    let latency = start.elapsed();
    let status = resp.status().as_u16();
    span.record("http.response.status_code", status);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("beep_http_requests_total", &labels).increment(1);
    metrics::histogram!("beep_http_request_duration_seconds", &labels[..2])
        .record(latency.as_secs_f64());

    let latency_ms = (latency.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    match resp.extensions().get::<ErrorDetail>() {
        Some(d) if status >= 500 => error!(
            method = %method, path = %path, route = %route, status, latency_ms, request_id = %id,
            error_code = ?d.code, cause = d.cause.as_deref().unwrap_or(""), at = %d.location,
            "request failed"
        ),
        Some(d) => info!(
            method = %method, path = %path, status, latency_ms, request_id = %id,
            error_code = ?d.code, "request refused"
        ),
        None if status >= 500 => {
            warn!(method = %method, path = %path, status, latency_ms, request_id = %id, "request")
        }
        None => {
            info!(method = %method, path = %path, status, latency_ms, request_id = %id, "request")
        }
    }
    resp
}
