//! HTTP routes of the gateway: the WebSocket endpoint, gateway discovery
//! (`GET /gateway`, `GET /gateway/bot`) and presence (`GET /users/{id}/presence`
//! and its EventSource stream).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use beep_http::AppState;
use beep_http::auth::Authenticated;
use beep_http::error::{ApiError, Result};
use beep_types::{ErrorCode, UserId};
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::Gateway;
use crate::connection::{self, ConnParams};
use crate::presence::PresenceView;
use crate::protocol::CloseCode;

/// Largest frame the socket reads at all; frames over 4096 bytes but under this
/// are refused with 4002 by the gateway itself, larger ones by the socket layer.
const SOCKET_MAX_MESSAGE: usize = 16 * 1024;

/// Where clients are told to connect.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The gateway URL (`ws://host/gateway`).
    pub url: String,
}

/// Routes to nest under `/api/v10` and `/api/v9`: discovery (on nodes serving the
/// REST API) and presence (on nodes running the gateway).
pub fn api_routes(discovery: Option<Discovery>, gateway: Option<Gateway>) -> Router<AppState> {
    let mut r = Router::new();
    if let Some(d) = discovery {
        r = r.merge(
            Router::new()
                .route("/gateway", get(get_gateway))
                .route("/gateway/bot", get(get_gateway_bot))
                .layer(Extension(Arc::new(d))),
        );
    }
    if let Some(gw) = gateway {
        r = r.merge(
            Router::new()
                .route("/users/{user_id}/presence", get(get_presence))
                .route("/users/{user_id}/presence/stream", get(presence_stream))
                .layer(Extension(gw)),
        );
    }
    r
}

/// The WebSocket endpoint, at `/gateway` and at `/` (a gateway URL without a path
/// makes clients connect to `/?v=10...`).
pub fn socket_routes(gateway: Gateway) -> Router<AppState> {
    Router::new()
        .route("/", get(upgrade))
        .route("/gateway", get(upgrade))
        .layer(Extension(gateway))
}

/// `GET /gateway` (WebSocket upgrade): `?v=10&encoding=json&compress=zlib-stream`.
async fn upgrade(
    Extension(gw): Extension<Gateway>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let refuse = match q.get("v").map(String::as_str) {
        None | Some("10") | Some("9") => None,
        Some(_) => Some(CloseCode::InvalidVersion),
    };
    // Only JSON is spoken; ETF clients are refused with a decode error.
    let refuse = refuse.or(match q.get("encoding").map(String::as_str) {
        None | Some("json") => None,
        Some(_) => Some(CloseCode::DecodeError),
    });
    // `zstd-stream` is not offered: such clients get plain text frames, which
    // every library reads as uncompressed JSON.
    let zlib = q.get("compress").map(String::as_str) == Some("zlib-stream");
    let params = ConnParams { zlib, refuse };
    let hub = gw.hub().clone();
    let drain = gw.drain_signal();
    // The read buffer is zero-filled to its full size on every read, so all of it
    // is resident for every idle session: 2 KiB (it grows for larger frames)
    // instead of 8 saves 6 KiB per session (issue 10, `sessions` benchmark).
    ws.read_buffer_size(2 * 1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(8 * 1024 * 1024)
        .max_message_size(SOCKET_MAX_MESSAGE)
        .max_frame_size(SOCKET_MAX_MESSAGE)
        .on_upgrade(move |socket| connection::serve(hub, socket, params, drain))
}

/// `GET /gateway` (REST): where to connect.
async fn get_gateway(Extension(d): Extension<Arc<Discovery>>) -> Json<Value> {
    Json(json!({"url": d.url}))
}

/// `GET /gateway/bot`: where to connect, with the recommended shard count and the
/// session start limit.
async fn get_gateway_bot(
    _me: Authenticated,
    Extension(d): Extension<Arc<Discovery>>,
) -> Json<Value> {
    Json(json!({
        "url": d.url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 1000,
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        },
    }))
}

/// Check that `me` may see `target`'s presence (404 otherwise, so the endpoint
/// does not tell who exists).
async fn check_visible(gw: &Gateway, me: UserId, target: UserId) -> Result<()> {
    let ok = gw
        .hub()
        .dir
        .may_see_presence(me, target)
        .await
        .map_err(|e| ApiError(beep_core::Error::internal(e.to_string())))?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::UnknownUser))
    }
}

/// `GET /users/{user_id}/presence`: status, activities and last seen of a user
/// who shares a guild with the caller or is a friend.
async fn get_presence(
    me: Authenticated,
    Extension(gw): Extension<Gateway>,
    Path(user_id): Path<UserId>,
) -> Result<Json<PresenceView>> {
    check_visible(&gw, me.user_id, user_id).await?;
    Ok(Json(gw.presences().get(user_id)))
}

/// `GET /users/{user_id}/presence/stream`: an EventSource stream of `presence`
/// events, starting with the current one.
async fn presence_stream(
    me: Authenticated,
    Extension(gw): Extension<Gateway>,
    Path(user_id): Path<UserId>,
) -> Result<Response> {
    check_visible(&gw, me.user_id, user_id).await?;
    let rx = gw.presences().subscribe();
    let first = gw.presences().get(user_id);
    let stream = presence_events(gw, me.user_id, user_id, first, rx);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn sse_event(v: &PresenceView) -> SseEvent {
    SseEvent::default()
        .event("presence")
        .json_data(v)
        .unwrap_or_else(|_| SseEvent::default().comment("unserializable"))
}

/// How often an open stream re-checks that its watcher may still see the user
/// (besides at every change and every relationship change of either side).
const STREAM_RECHECK: Duration = Duration::from_secs(30);

/// Whether `me` may still watch `user`; a failed check ends the stream too.
async fn still_visible(gw: &Gateway, me: UserId, user: UserId) -> bool {
    gw.hub()
        .dir
        .may_see_presence(me, user)
        .await
        .unwrap_or(false)
}

fn presence_events(
    gw: Gateway,
    me: UserId,
    user: UserId,
    first: PresenceView,
    rx: broadcast::Receiver<Arc<PresenceView>>,
) -> impl Stream<Item = std::result::Result<SseEvent, Infallible>> {
    // The stream ends when the node drains, so it never holds shutdown up.
    let mut drain = gw.drain_signal();
    let drained = async move {
        while !*drain.borrow_and_update() {
            if drain.changed().await.is_err() {
                return;
            }
        }
    };
    let start = futures::stream::once(async move { Ok(sse_event(&first)) });
    let mut tick = tokio::time::interval(STREAM_RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    // The stream ends once `me` may no longer see `user` (a block either way,
    // no shared guild and no friendship left): checked before every event and
    // every STREAM_RECHECK.
    let rest = futures::stream::unfold((gw, rx, tick), move |(gw, mut rx, mut tick)| async move {
        loop {
            let next = tokio::select! {
                r = rx.recv() => r,
                _ = tick.tick() => {
                    if !still_visible(&gw, me, user).await {
                        return None;
                    }
                    continue;
                }
            };
            let v = match next {
                Ok(v) if v.user_id == user => v,
                Ok(_) => continue,
                // Missed changes: send the current state instead.
                Err(broadcast::error::RecvError::Lagged(_)) => Arc::new(gw.presences().get(user)),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if !still_visible(&gw, me, user).await {
                return None;
            }
            return Some((Ok(sse_event(&v)), (gw, rx, tick)));
        }
    });
    futures::StreamExt::take_until(futures::StreamExt::chain(start, rest), Box::pin(drained))
}
