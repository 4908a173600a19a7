//! Bot applications: `/applications` (Beep: create and list one's own),
//! `/applications/@me` (the calling bot's), `/applications/{id}`,
//! `/applications/{id}/bot/reset`, and `POST /oauth2/authorize` to add a bot to
//! a guild.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use beep_core::applications::{AuthorizeQuery, CreatedApplication};
use beep_types::ApplicationId;
use beep_types::v10::message::{
    Application, AuthorizeBot, AuthorizeResult, BotToken, CreateApplication, EditApplication,
};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// The application routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(mine).post(create))
        .route("/applications/@me", get(current).patch(edit_current))
        // Where discord.py's `Client.login` reads the application from.
        .route("/oauth2/applications/@me", get(current))
        .route(
            "/applications/{application_id}",
            get(get_one).patch(edit_one),
        )
        .route(
            "/applications/{application_id}/bot/reset",
            post(reset_token),
        )
        .route("/oauth2/authorize", post(authorize))
}

/// `POST /applications` — a new application with its bot user; the answer
/// carries the bot token once (Beep extension).
#[utoipa::path(post, path = "/api/v10/applications", tag = "applications", request_body = CreateApplication,
    responses((status = 201, body = CreatedApplication)))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<CreateApplication>,
) -> Result<(axum::http::StatusCode, axum::Json<CreatedApplication>)> {
    let created = app.services.applications.create(&me, body).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(created)))
}

/// `GET /applications` — the caller's applications (Beep extension).
#[utoipa::path(get, path = "/api/v10/applications", tag = "applications",
    responses((status = 200, body = [Application])))]
pub async fn mine(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Vec<Application>>> {
    Ok(axum::Json(app.services.applications.mine(&me).await?))
}

/// `GET /applications/@me` — the calling bot's application.
#[utoipa::path(get, path = "/api/v10/applications/@me", tag = "applications",
    responses((status = 200, body = Application), (status = 404, description = "Unknown Application")))]
pub async fn current(
    State(app): State<AppState>,
    me: Authenticated,
) -> Result<axum::Json<Application>> {
    Ok(axum::Json(app.services.applications.current(&me).await?))
}

/// `GET /applications/{application_id}` — by its owner or its bot.
#[utoipa::path(get, path = "/api/v10/applications/{application_id}", tag = "applications",
    params(("application_id" = String, Path)), responses((status = 200, body = Application)))]
pub async fn get_one(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<ApplicationId>,
) -> Result<axum::Json<Application>> {
    Ok(axum::Json(app.services.applications.get(&me, id).await?))
}

/// `PATCH /applications/@me` — the calling bot changes its application (its
/// `_LIMITED` intent flags).
#[utoipa::path(patch, path = "/api/v10/applications/@me", tag = "applications", request_body = EditApplication,
    responses((status = 200, body = Application), (status = 400, description = "Invalid Form Body")))]
pub async fn edit_current(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<EditApplication>,
) -> Result<axum::Json<Application>> {
    Ok(axum::Json(
        app.services.applications.edit(&me, None, body).await?,
    ))
}

/// `PATCH /applications/{application_id}` — the owner changes the application
/// (its gateway intent flags).
#[utoipa::path(patch, path = "/api/v10/applications/{application_id}", tag = "applications",
    params(("application_id" = String, Path)), request_body = EditApplication,
    responses((status = 200, body = Application), (status = 400, description = "Invalid Form Body")))]
pub async fn edit_one(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<ApplicationId>,
    Json(body): Json<EditApplication>,
) -> Result<axum::Json<Application>> {
    Ok(axum::Json(
        app.services.applications.edit(&me, Some(id), body).await?,
    ))
}

/// `POST /applications/{application_id}/bot/reset` — a new bot token, by the owner.
#[utoipa::path(post, path = "/api/v10/applications/{application_id}/bot/reset", tag = "applications",
    params(("application_id" = String, Path)), responses((status = 200, body = BotToken)))]
pub async fn reset_token(
    State(app): State<AppState>,
    me: Authenticated,
    Path(id): Path<ApplicationId>,
) -> Result<axum::Json<BotToken>> {
    Ok(axum::Json(
        app.services.applications.reset_token(&me, id).await?,
    ))
}

/// `POST /oauth2/authorize?client_id&scope=bot&permissions` — add the bot to a
/// guild where the caller has Manage Server.
#[utoipa::path(post, path = "/api/v10/oauth2/authorize", tag = "applications",
    params(AuthorizeQuery), request_body = AuthorizeBot, responses((status = 200, body = AuthorizeResult)))]
pub async fn authorize(
    State(app): State<AppState>,
    me: Authenticated,
    Query(q): Query<AuthorizeQuery>,
    Json(body): Json<AuthorizeBot>,
) -> Result<axum::Json<AuthorizeResult>> {
    Ok(axum::Json(
        app.services.applications.authorize(&me, &q, body).await?,
    ))
}
