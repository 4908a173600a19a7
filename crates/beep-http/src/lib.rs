//! The HTTP surface of Beep: the route table, extractors with limits, error
//! rendering, request observability and the OpenAPI document.
//!
//! Handlers are thin: extract, call one service in `beep-core`, convert.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use beep_core::Services;
use beep_types::ErrorCode;
use metrics_exporter_prometheus::PrometheusHandle;
use utoipa::OpenApi;

use crate::error::ApiError;

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest JSON body accepted, in bytes.
    pub json_body_bytes: usize,
    /// Deepest JSON nesting accepted.
    pub json_depth: usize,
    /// Base URL clients reach this node at.
    pub public_url: String,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<HttpConfig>,
    pub metrics: Option<PrometheusHandle>,
}

/// The OpenAPI document of the REST API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beep API",
        description = "Discord v10-compatible REST API of Beep, with Beep's own extensions."
    ),
    paths(routes::auth::register),
    components(schemas(
        beep_types::v10::CurrentUser,
        beep_types::v10::PublicUser,
        beep_core::accounts::Registration
    ))
)]
pub struct ApiDoc;

async fn openapi() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed)
}

/// Routes under `/api/v{9,10}`.
fn api_routes() -> Router<AppState> {
    Router::new().route("/auth/register", post(routes::auth::register))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let api = api_routes();
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .route("/api/openapi.json", get(openapi))
        .nest("/api/v10", api.clone())
        .nest("/api/v9", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}
