//! `GET /discovery/guilds` — search public guilds (Beep extension).

use axum::extract::State;
use beep_core::guilds::forms::DiscoveryQuery;
use beep_types::v10::guild::DiscoveryPage;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::Query;

/// `GET /discovery/guilds?query&limit&offset` — public guilds whose name or
/// description match the words of `query` (web-search syntax: `"phrase"`, `or`,
/// `-word`), best first; every public guild, largest first, without a query.
#[utoipa::path(get, path = "/api/v10/discovery/guilds", tag = "guilds", params(DiscoveryQuery),
    responses((status = 200, body = DiscoveryPage), (status = 400)))]
pub async fn search(
    State(app): State<AppState>,
    _me: Authenticated,
    Query(q): Query<DiscoveryQuery>,
) -> Result<axum::Json<DiscoveryPage>> {
    Ok(axum::Json(app.services.guilds.discover(q).await?))
}
