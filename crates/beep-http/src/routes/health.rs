//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

/// `GET /healthz` — the process is alive and serving.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// `GET /readyz` — every dependency (database, later the bus and storage) answers.
pub async fn readyz(State(app): State<AppState>) -> Response {
    match app.services.ready().await {
        Ok(()) => axum::Json(json!({"status": "ready", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(cause = e.cause.as_deref().unwrap_or(""), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable", "database": "down"})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics` — Prometheus text exposition.
pub async fn metrics(State(app): State<AppState>) -> Response {
    if let Some(p) = app.services.store.pool_status() {
        metrics::gauge!("beep_store_pool_connections").set(p.size as f64);
        metrics::gauge!("beep_store_pool_max_connections").set(p.max_size as f64);
        metrics::gauge!("beep_store_pool_available").set(p.available as f64);
        metrics::gauge!("beep_store_pool_waiting").set(p.waiting as f64);
    }
    let body = app.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
