//! Attachment uploads: Discord's two-step upload (`POST /channels/{id}/attachments`
//! for upload URLs, then `PUT` of the bytes), and [`read_message_multipart`], the
//! `multipart/form-data` reader of `POST /channels/{id}/messages` (`payload_json`
//! and `files[n]`), each file streamed to storage under the size limit.

use axum::body::Body;
use axum::extract::State;
use axum::extract::multipart::Multipart;
use axum::http::StatusCode;
use beep_core::Error;
use beep_files::StoredAttachment;
use beep_types::{ChannelId, ErrorCode, UserId};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Result};
use crate::extract::{Json, Path, Query};
use crate::routes::files::FileQuery;

/// One file of a two-step upload request.
#[derive(Debug, Deserialize)]
pub struct UploadRequestFile {
    pub filename: String,
    pub file_size: u64,
    #[serde(default)]
    pub id: Value,
}

/// `{"files": [...]}`.
#[derive(Debug, Deserialize)]
pub struct UploadRequest {
    pub files: Vec<UploadRequestFile>,
}

/// `POST /channels/{channel_id}/attachments` — upload URLs for up to `max_files`
/// files. The message then names each `upload_filename` in
/// `attachments[].uploaded_filename`; [`beep_files::Files::claim_upload`] turns it
/// into an attachment.
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Path(channel): Path<ChannelId>,
    Json(body): Json<UploadRequest>,
) -> Result<axum::Json<Value>> {
    // Only someone who may post files here gets upload URLs.
    app.services.messages.check_can_attach(&me, channel).await?;
    let files = &app.services.files;
    if body.files.is_empty() || body.files.len() > files.config().max_files {
        return Err(ApiError(Error::field(
            "files",
            "BASE_TYPE_BAD_LENGTH",
            format!(
                "Must be between 1 and {} in length.",
                files.config().max_files
            ),
        )));
    }
    let mut out = Vec::with_capacity(body.files.len());
    for f in body.files {
        let p = files
            .create_upload(
                me.user_id,
                f.id,
                &f.filename,
                f.file_size,
                &app.config.public_url,
            )
            .await
            .map_err(|e| ApiError(e.into()))?;
        out.push(p);
    }
    Ok(axum::Json(json!({ "attachments": out })))
}

/// `PUT /uploads/{user_id}/{upload_id}?ex=&is=&hm=` — the bytes of a two-step
/// upload when the store is local (S3 stores get presigned bucket URLs instead).
/// The signed URL is the credential; the body streams under the size limit.
pub async fn put(
    State(app): State<AppState>,
    Path((user, upload)): Path<(UserId, u64)>,
    Query(q): Query<FileQuery>,
    body: Body,
) -> Result<StatusCode> {
    let path = format!("/api/v10/uploads/{user}/{upload}");
    let stream = body.into_data_stream();
    app.services
        .files
        .receive_upload(&path, user, upload, q.signed(), stream)
        .await
        .map_err(|e| ApiError(e.into()))?;
    Ok(StatusCode::OK)
}

/// The parts of a `multipart/form-data` message: `payload_json` and the files
/// stored as attachments of `channel` (in `files[n]` order, with their `n`).
#[derive(Debug)]
pub struct MessageMultipart {
    pub payload: Value,
    pub files: Vec<(usize, StoredAttachment)>,
}

/// Read a message's multipart body: `payload_json` (bounded by the JSON body
/// limit) and up to `max_files` `files[n]` parts, each streamed into storage and
/// refused past the size limit while it is read (413, code 40005). On any error
/// the files already stored are deleted. The caller (the messages route) checks
/// permissions first and must lift axum's default body limit on its route
/// (`DefaultBodyLimit::disable()`): the limits here are per part.
pub async fn read_message_multipart(
    app: &AppState,
    uploader: UserId,
    channel: ChannelId,
    mut mp: Multipart,
) -> Result<MessageMultipart> {
    let files = &app.services.files;
    let mut payload = Value::Object(Default::default());
    let mut stored: Vec<(usize, StoredAttachment)> = Vec::new();
    let result: Result<()> = async {
        while let Some(field) = mp.next_field().await.map_err(bad_multipart)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "payload_json" {
                let mut buf = Vec::new();
                let mut field = field;
                while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > app.config.json_body_bytes {
                        return Err(ApiError::new(ErrorCode::PayloadTooLarge));
                    }
                }
                payload = crate::extract::parse_json(&buf, app.config.json_depth)?;
            } else if let Some(n) = name
                .strip_prefix("files[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<usize>().ok())
            {
                if stored.len() >= files.config().max_files {
                    return Err(ApiError(Error::field(
                        "files",
                        "BASE_TYPE_BAD_LENGTH",
                        format!("Must be {} or fewer in length.", files.config().max_files),
                    )));
                }
                let filename = field.file_name().unwrap_or("file").to_string();
                let stream = Box::pin(field.map_err(|e| e.body_text()));
                let a = files
                    .upload_attachment(channel, uploader, &filename, stream)
                    .await
                    .map_err(|e| ApiError(e.into()))?;
                stored.push((n, a));
            }
            // Other parts are ignored, as Discord does.
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        for (_, a) in &stored {
            let _ = files.delete_attachment(a.channel_id, a.id).await;
        }
        return Err(e);
    }
    Ok(MessageMultipart {
        payload,
        files: stored,
    })
}

fn bad_multipart(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::PayloadTooLarge);
    }
    ApiError(Error::field("files", "BASE_TYPE_INVALID", e.body_text()))
}
