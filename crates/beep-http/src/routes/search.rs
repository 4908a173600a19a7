//! Message search: `GET /guilds/{guild_id}/messages/search` and
//! `GET /channels/{channel_id}/messages/search` (Discord's user API).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use beep_core::messages::{SearchParams, SearchResults};
use beep_types::{ChannelId, GuildId};
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Path, Query};

/// The search routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guilds/{guild_id}/messages/search", get(guild))
        .route("/channels/{channel_id}/messages/search", get(channel))
}

/// The OpenAPI paths of the search routes.
#[derive(OpenApi)]
#[openapi(paths(guild, channel), components(schemas(SearchResults)))]
pub struct SearchApi;

/// `GET /guilds/{guild_id}/messages/search` — messages of the guild's channels
/// the caller can read now, newest first by default.
///
/// Parameters (repeat a list parameter, `author_id=1&author_id=2`):
/// `content` (≤ 1024 characters: words, all required; `"quoted phrases"`;
/// `word*` for a prefix; case, diacritics, English and French word endings
/// folded; CJK text found by character pairs), `author_id` (≤ 100, any),
/// `mentions` (≤ 100, any), `has` (`link`, `embed`, `file`, `image`, `video`,
/// `sound`; all required), `channel_id` (≤ 500), `min_id`, `max_id` (ids
/// strictly above / below; a snowflake carries its time), `pinned`
/// (`true`/`false`), `sort_by` (`timestamp`, `relevance`), `sort_order`
/// (`desc`, `asc`), `offset` (0–9975), `limit` (1–25, default 25).
///
/// Each message carries `hit: true` and Beep's `highlights`: the parts of its
/// content that matched, as written there, for the client to mark.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}/messages/search", tag = "messages",
    params(("guild_id" = String, Path)),
    responses((status = 200, body = SearchResults), (status = 400, description = "Invalid Form Body"),
        (status = 404, description = "Unknown Guild")))]
pub async fn guild(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<axum::Json<SearchResults>> {
    let params = SearchParams(q);
    Ok(axum::Json(
        app.services
            .messages
            .search_guild(&me, guild, &params)
            .await?,
    ))
}

/// `GET /channels/{channel_id}/messages/search` — the same within one channel
/// (`channel_id` is ignored). Without Read Message History nothing is found.
#[utoipa::path(get, path = "/api/v10/channels/{channel_id}/messages/search", tag = "messages",
    params(("channel_id" = String, Path)),
    responses((status = 200, body = SearchResults), (status = 400, description = "Invalid Form Body"),
        (status = 404, description = "Unknown Channel")))]
pub async fn channel(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<axum::Json<SearchResults>> {
    let params = SearchParams(q);
    Ok(axum::Json(
        app.services
            .messages
            .search_channel(&me, channel, &params)
            .await?,
    ))
}
