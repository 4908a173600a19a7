//! The HTTP surface of Beep: the route table, extractors with limits, error
//! rendering, request observability and the OpenAPI document.
//!
//! Handlers are thin: extract, call one service in `beep-core`, convert.

pub mod auth;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod ratelimit;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
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
    /// Take the client address from `X-Forwarded-For` (set by a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Per-route rate limits.
    pub route_limits: ratelimit::RouteLimits,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
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
    paths(
        routes::auth::register,
        routes::auth::login,
        routes::auth::mfa_totp,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::logout_all,
        routes::auth::verify,
        routes::auth::verify_email,
        routes::auth::resend_verification,
        routes::auth::forgot_password,
        routes::auth::reset_password,
        routes::wellknown::jwks,
        routes::users::me,
        routes::users::patch_me,
        routes::users::get_user,
        routes::users::change_password,
        routes::users::start_email_change,
        routes::users::confirm_email_change,
        routes::users::delete_me,
        routes::users::settings,
        routes::users::patch_settings,
        routes::sessions::list,
        routes::sessions::revoke,
        routes::mfa::enable,
        routes::mfa::disable,
        routes::mfa::codes,
    ),
    components(schemas(
        beep_types::v10::CurrentUser,
        beep_types::v10::PublicUser,
        beep_core::accounts::Registration,
        beep_core::accounts::TokenGrant,
        beep_core::accounts::ProfilePatch,
        beep_core::accounts::BackupCodeView,
        routes::auth::MfaRequired,
    ))
)]
pub struct ApiDoc;

async fn openapi() -> impl IntoResponse {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::guilds::GuildsDoc::openapi());
    doc.merge(routes::messages::MessagesApi::openapi());
    doc.merge(routes::social::SocialApi::openapi());
    doc.merge(routes::notifications::NotificationsDoc::openapi());
    doc.merge(routes::storage::StorageDoc::openapi());
    doc.merge(routes::search::SearchApi::openapi());
    axum::Json(doc)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed)
}

/// Routes under `/api/v{9,10}`.
fn api_routes() -> Router<AppState> {
    Router::new()
        .merge(routes::guilds::routes())
        .merge(routes::messages::routes())
        .merge(routes::social::routes())
        .merge(routes::notifications::routes())
        .merge(routes::search::routes())
        .route("/auth/register", post(routes::auth::register))
        .route("/auth/login", post(routes::auth::login))
        .route("/auth/mfa/totp", post(routes::auth::mfa_totp))
        .route("/auth/refresh", post(routes::auth::refresh))
        .route("/auth/logout", post(routes::auth::logout))
        .route("/auth/logout-all", post(routes::auth::logout_all))
        .route("/auth/verify", get(routes::auth::verify))
        .route("/auth/verify-email", post(routes::auth::verify_email))
        .route(
            "/auth/verify-email/resend",
            post(routes::auth::resend_verification),
        )
        .route("/auth/password/forgot", post(routes::auth::forgot_password))
        .route("/auth/password/reset", post(routes::auth::reset_password))
        .route(
            "/users/@me",
            get(routes::users::me).patch(routes::users::patch_me),
        )
        .route("/users/@me/password", post(routes::users::change_password))
        .route("/users/@me/email", post(routes::users::start_email_change))
        .route(
            "/users/@me/email/verify",
            post(routes::users::confirm_email_change),
        )
        .route("/users/@me/delete", post(routes::users::delete_me))
        .route("/users/@me/storage", get(routes::storage::usage))
        .route(
            "/users/@me/settings",
            get(routes::users::settings).patch(routes::users::patch_settings),
        )
        .route("/users/@me/sessions", get(routes::sessions::list))
        .route(
            "/users/@me/sessions/{session_id}",
            delete(routes::sessions::revoke),
        )
        .route("/users/@me/mfa/totp/enable", post(routes::mfa::enable))
        .route("/users/@me/mfa/totp/disable", post(routes::mfa::disable))
        .route("/users/@me/mfa/codes", post(routes::mfa::codes))
        .route("/users/{user_id}", get(routes::users::get_user))
        .route(
            "/channels/{channel_id}/attachments",
            post(routes::attachments::create),
        )
        .route(
            "/uploads/{user_id}/{upload_id}",
            axum::routing::put(routes::attachments::put),
        )
}

/// Files served outside the API prefix, like Discord's CDN; every answer is `nosniff`.
fn file_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/attachments/{channel_id}/{attachment_id}/{filename}",
            get(routes::files::attachment),
        )
        .route("/avatars/{user_id}/{file}", get(routes::cdn::avatar))
        .route("/banners/{id}/{file}", get(routes::cdn::banner))
        .route("/icons/{guild_id}/{file}", get(routes::cdn::icon))
        // Group DM icons (stored as icons of the channel's id), Discord's path.
        .route("/channel-icons/{channel_id}/{file}", get(routes::cdn::icon))
        .layer(axum::middleware::from_fn(routes::files::nosniff))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    router_with(state, true, Router::new(), Router::new())
}

/// The HTTP application of a node: health and metrics always; the REST API when
/// `rest` (the `api` role); `api_extra` nested under `/api/v{9,10}` and
/// `root_extra` at the root (the gateway's routes), behind the same access log.
pub fn router_with(
    state: AppState,
    rest: bool,
    api_extra: Router<AppState>,
    root_extra: Router<AppState>,
) -> Router {
    let api = if rest { api_routes() } else { Router::new() }.merge(api_extra);
    let mut app = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .merge(root_extra);
    if rest {
        app = app
            .route("/.well-known/jwks.json", get(routes::wellknown::jwks))
            .route("/api/openapi.json", get(openapi))
            .merge(file_routes());
    }
    if api.has_routes() {
        let api = api.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ));
        app = app.nest("/api/v10", api.clone()).nest("/api/v9", api);
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}
