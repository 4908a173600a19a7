//! `/avatars/{user}/{hash}.{ext}`, `/banners/{id}/{hash}.{ext}`,
//! `/icons/{guild}/{hash}.{ext}` — images set by data URI, resized on demand
//! (`?size=`, a power of two from 16 to 4096) and cached. Public, like Discord's CDN:
//! the hash is the capability.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use beep_files::ImageKind;
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::extract::{Path, Query};

/// `?size=`.
#[derive(Debug, Deserialize)]
pub struct SizeQuery {
    pub size: Option<u32>,
}

/// `GET /avatars/{user_id}/{hash}.{ext}`.
pub async fn avatar(
    state: State<AppState>,
    path: Path<(u64, String)>,
    query: Query<SizeQuery>,
) -> Result<Response> {
    image(ImageKind::Avatar, state, path, query).await
}

/// `GET /banners/{id}/{hash}.{ext}` (users and guilds).
pub async fn banner(
    state: State<AppState>,
    path: Path<(u64, String)>,
    query: Query<SizeQuery>,
) -> Result<Response> {
    image(ImageKind::Banner, state, path, query).await
}

/// `GET /icons/{guild_id}/{hash}.{ext}`.
pub async fn icon(
    state: State<AppState>,
    path: Path<(u64, String)>,
    query: Query<SizeQuery>,
) -> Result<Response> {
    image(ImageKind::Icon, state, path, query).await
}

async fn image(
    kind: ImageKind,
    State(app): State<AppState>,
    Path((owner, file)): Path<(u64, String)>,
    Query(q): Query<SizeQuery>,
) -> Result<Response> {
    let Some((hash, ext)) = file.rsplit_once('.') else {
        return Err(ApiError::new(beep_types::ErrorCode::NotFound));
    };
    let (bytes, mime) = app
        .services
        .files
        .image(kind, owner, hash, ext, q.size)
        .await
        .map_err(|e| ApiError(e.into()))?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}
