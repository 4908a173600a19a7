//! `GET /attachments/{channel}/{attachment}/{filename}?ex=&is=&hm=` — attachments
//! behind signed, expiring URLs (a tampered URL is a 403, an expired one a 404),
//! streamed from the object store. Every answer of the file routes carries
//! `X-Content-Type-Options: nosniff` (see [`nosniff`]); active content (HTML, SVG,
//! XML, JS) is only ever a download under a sandbox CSP.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beep_files::attachments::SignedQuery;
use beep_types::{AttachmentId, ChannelId};
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::extract::{Path, Query};

/// The signature and the optional thumbnail width.
#[derive(Debug, Deserialize)]
pub struct FileQuery {
    pub ex: Option<String>,
    pub is: Option<String>,
    pub hm: Option<String>,
    pub width: Option<u32>,
}

impl FileQuery {
    /// The signature part.
    pub fn signed(&self) -> SignedQuery<'_> {
        SignedQuery {
            ex: self.ex.as_deref(),
            is: self.is.as_deref(),
            hm: self.hm.as_deref(),
        }
    }
}

/// `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 6266);
/// the name is already free of quotes, separators and control characters.
fn disposition(kind: &str, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// `GET /attachments/{channel_id}/{attachment_id}/{filename}`.
pub async fn attachment(
    State(app): State<AppState>,
    Path((channel, id, filename)): Path<(ChannelId, AttachmentId, String)>,
    Query(q): Query<FileQuery>,
) -> Result<Response> {
    let files = &app.services.files;
    let served = files
        .open_attachment(channel, id, &filename, q.signed(), q.width)
        .await
        .map_err(|e| ApiError(e.into()))?;
    let (_, stream) = files
        .storage()
        .get_stream(&served.key)
        .await
        .map_err(|e| ApiError(e.into()))?;
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    let is_image = served.content_type.starts_with("image/") && !served.meta.active;
    let ct = if served.meta.active {
        // Never let a browser render it, whatever it sniffs or the type says.
        "application/octet-stream".to_string()
    } else {
        served.content_type.clone()
    };
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(served.size));
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition(
            if is_image { "inline" } else { "attachment" },
            &served.meta.filename,
        ),
    );
    if !is_image {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(resp)
}

/// Middleware of the file routes: `X-Content-Type-Options: nosniff` on every
/// answer, errors included.
pub async fn nosniff(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}
