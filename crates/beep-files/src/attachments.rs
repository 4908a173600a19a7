//! Message attachments: streamed uploads (one step, or Discord's two steps through
//! an upload URL), sniffed types, image processing, and signed URLs.
//!
//! Layout in the store, all from server ids:
//! `attachments/{channel}/{attachment}/file` (the bytes), `.../meta.json`
//! ([`StoredAttachment`]), `.../thumb-{size}.webp`; pending two-step uploads at
//! `uploads/{user}/{upload}`.

use std::time::Duration;

use beep_types::{AttachmentId, ChannelId, UserId};
use bytes::Bytes;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::error::{FilesError, Result};
use crate::signing::{Refusal, unix_now};
use crate::sniff::{Kind, sanitize_filename, sniff};
use crate::{Files, images};

/// What the server keeps about one attachment (also stored as `meta.json` next to
/// the bytes, so serving a file needs no database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAttachment {
    pub id: AttachmentId,
    pub channel_id: ChannelId,
    pub uploader: UserId,
    /// The user's filename, sanitized.
    pub filename: String,
    /// The sniffed media type.
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Served only as a download under a sandbox CSP (HTML, SVG, XML, JS).
    pub active: bool,
    /// Thumbnail sizes available.
    pub thumbnails: Vec<u32>,
    /// Alt text given by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Discord's attachment object, with fresh signed URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub filename: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub url: String,
    pub proxy_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// The answer to `POST /channels/{id}/attachments` for one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The client's `id` for this file in the request, echoed.
    pub id: serde_json::Value,
    /// Where to `PUT` the bytes (presigned on S3, a signed URL of this server otherwise).
    pub upload_url: String,
    /// What the message then names in `attachments[].uploaded_filename`.
    pub upload_filename: String,
}

/// How a stored file is to be served.
#[derive(Debug)]
pub struct Served {
    pub meta: StoredAttachment,
    /// Key of the object to send (the file or a thumbnail).
    pub key: String,
    pub content_type: String,
    pub size: u64,
}

fn base(channel: ChannelId, id: AttachmentId) -> String {
    format!("attachments/{channel}/{id}")
}

impl Files {
    /// Store one attachment streamed from `body`, refusing it past the size limit
    /// while reading ([`FilesError::TooLarge`]); sniff its type, validate and
    /// re-encode images, make thumbnails. Permission to post in `channel` is the
    /// caller's check.
    pub async fn upload_attachment<S, E>(
        &self,
        channel: ChannelId,
        uploader: UserId,
        filename: &str,
        body: S,
    ) -> Result<StoredAttachment>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let id = AttachmentId::from(self.inner.ids.next());
        let key = format!("{}/file", base(channel, id));
        // The quota bounds the stream like the size limit does, so a body past
        // what the user may still store is refused while it is read.
        let (limit, by_quota) = self.upload_limit(uploader).await?;
        let written = match self.inner.storage.put_stream(&key, body, limit).await {
            Err(FilesError::TooLarge { .. }) if by_quota => return Err(FilesError::QuotaExceeded),
            other => other?,
        };
        let stored = self
            .finish_attachment(channel, uploader, id, filename, written.size, &written.head)
            .await;
        self.keep_or_remove(channel, uploader, id, stored).await
    }

    /// The most bytes the next upload of `uploader` may have, and whether the
    /// quota (rather than the size limit) sets it. A user with nothing left is
    /// refused before a byte is read.
    async fn upload_limit(&self, uploader: UserId) -> Result<(u64, bool)> {
        let max = self.inner.config.max_upload_bytes;
        match self.remaining_quota(uploader).await? {
            Some(0) => Err(FilesError::QuotaExceeded),
            Some(left) if left < max => Ok((left, true)),
            _ => Ok((max, false)),
        }
    }

    /// Count a processed attachment against its uploader, or remove its objects
    /// when processing failed or the quota is passed.
    async fn keep_or_remove(
        &self,
        channel: ChannelId,
        uploader: UserId,
        id: AttachmentId,
        stored: Result<StoredAttachment>,
    ) -> Result<StoredAttachment> {
        let dir = base(channel, id);
        let counted = match stored {
            Ok(a) => match self.record_usage(&dir, uploader, channel, a.size).await {
                Ok(true) => return Ok(a),
                Ok(false) => Err(FilesError::QuotaExceeded),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        // Unrecorded objects: the orphan sweeper is the safety net if this fails.
        let _ = self.inner.storage.delete_prefix(&dir).await;
        counted
    }

    /// Sniff, process and describe the bytes already at `.../file`.
    async fn finish_attachment(
        &self,
        channel: ChannelId,
        uploader: UserId,
        id: AttachmentId,
        filename: &str,
        size: u64,
        head: &[u8],
    ) -> Result<StoredAttachment> {
        let dir = base(channel, id);
        let sniffed = sniff(head);
        let mut meta = StoredAttachment {
            id,
            channel_id: channel,
            uploader,
            filename: sanitize_filename(filename),
            content_type: sniffed.content_type.clone(),
            size,
            width: None,
            height: None,
            active: sniffed.kind == Kind::Active,
            thumbnails: Vec::new(),
            description: None,
        };
        if sniffed.kind == Kind::Image {
            let bytes = self.inner.storage.get(&format!("{dir}/file")).await?;
            let limits = self.inner.config.image;
            let sizes = self.inner.config.thumbnail_sizes.clone();
            let processed =
                tokio::task::spawn_blocking(move || images::process(&bytes, limits, &sizes))
                    .await
                    .map_err(|e| FilesError::Internal(format!("image task: {e}")))??;
            meta.size = processed.bytes.len() as u64;
            meta.content_type = processed.content_type.to_string();
            meta.width = Some(processed.width);
            meta.height = Some(processed.height);
            self.inner
                .storage
                .put(&format!("{dir}/file"), processed.bytes)
                .await?;
            for (s, t) in processed.thumbnails {
                self.inner
                    .storage
                    .put(&format!("{dir}/thumb-{s}.webp"), t)
                    .await?;
                meta.thumbnails.push(s);
            }
        }
        let json = serde_json::to_vec(&meta).map_err(|e| FilesError::Internal(e.to_string()))?;
        self.inner
            .storage
            .put(&format!("{dir}/meta.json"), Bytes::from(json))
            .await?;
        Ok(meta)
    }

    /// Step one of a two-step upload: where the client is to `PUT` a file of
    /// `file_size` bytes. Refused at once when the declared size is over the limit.
    pub async fn create_upload(
        &self,
        uploader: UserId,
        client_id: serde_json::Value,
        filename: &str,
        file_size: u64,
        public_url: &str,
    ) -> Result<PendingUpload> {
        let limit = self.inner.config.max_upload_bytes;
        if file_size > limit {
            return Err(FilesError::TooLarge { limit });
        }
        if let Some(left) = self.remaining_quota(uploader).await?
            && file_size > left
        {
            return Err(FilesError::QuotaExceeded);
        }
        let upload = self.inner.ids.next();
        let key = format!("uploads/{uploader}/{upload}");
        let ttl = Duration::from_secs(3600);
        let upload_url = match self.inner.storage.presigned_put(&key, ttl).await? {
            Some(u) => u,
            None => {
                let path = format!("/api/v10/uploads/{uploader}/{upload}");
                let q = self.inner.signer.sign(&path, unix_now(), ttl.as_secs());
                format!("{}{path}?{q}", public_url.trim_end_matches('/'))
            }
        };
        Ok(PendingUpload {
            id: client_id,
            upload_url,
            upload_filename: format!("{upload}/{}", sanitize_filename(filename)),
        })
    }

    /// The body of a `PUT` to a local upload URL (the S3 case goes to the bucket).
    pub async fn receive_upload<S, E>(
        &self,
        path: &str,
        uploader: UserId,
        upload: u64,
        q: SignedQuery<'_>,
        body: S,
    ) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        self.check_signature(path, q)?;
        let key = format!("uploads/{uploader}/{upload}");
        let (limit, by_quota) = self.upload_limit(uploader).await?;
        match self.inner.storage.put_stream(&key, body, limit).await {
            Ok(w) => Ok(w.size),
            Err(FilesError::TooLarge { .. }) if by_quota => Err(FilesError::QuotaExceeded),
            Err(e) => Err(e),
        }
    }

    /// Step two: turn `upload_filename` (from [`Files::create_upload`]) into an
    /// attachment of `channel`. Only the user who created the upload can claim it.
    pub async fn claim_upload(
        &self,
        channel: ChannelId,
        uploader: UserId,
        upload_filename: &str,
        filename: Option<&str>,
    ) -> Result<StoredAttachment> {
        let (upload, name) = upload_filename
            .split_once('/')
            .unwrap_or((upload_filename, ""));
        let Ok(upload) = upload.parse::<u64>() else {
            return Err(FilesError::invalid("uploaded_filename", "unknown upload"));
        };
        let from = format!("uploads/{uploader}/{upload}");
        let size = match self.inner.storage.size(&from).await {
            Ok(s) => s,
            Err(FilesError::NotFound) => {
                return Err(FilesError::invalid("uploaded_filename", "unknown upload"));
            }
            Err(e) => return Err(e),
        };
        let limit = self.inner.config.max_upload_bytes;
        if size > limit {
            // A presigned PUT cannot bound the size: the check happens here.
            let _ = self.inner.storage.delete(&from).await;
            return Err(FilesError::TooLarge { limit });
        }
        // Nor the quota: the upload stays (the sweeper removes it) so the user
        // may free space and send it again.
        if let Some(left) = self.remaining_quota(uploader).await?
            && size > left
        {
            return Err(FilesError::QuotaExceeded);
        }
        let id = AttachmentId::from(self.inner.ids.next());
        let dir = base(channel, id);
        // Moved, not read: only the head is needed to sniff the type.
        let head = self
            .inner
            .storage
            .head_bytes(&from, crate::storage::SNIFF_BYTES as u64)
            .await?;
        self.inner
            .storage
            .rename(&from, &format!("{dir}/file"))
            .await?;
        let name = filename.unwrap_or(name);
        let stored = self
            .finish_attachment(channel, uploader, id, name, size, &head)
            .await;
        self.keep_or_remove(channel, uploader, id, stored).await
    }

    /// The path an attachment is served at (what gets signed).
    pub fn attachment_path(a: &StoredAttachment) -> String {
        format!("/attachments/{}/{}/{}", a.channel_id, a.id, a.filename)
    }

    /// A signed URL for `a`, valid from now for the configured time. Call it only
    /// for a reader allowed to see the message. `public_url` is the instance's base
    /// URL; when it is not an `http(s)://` URL the answer is a path (`/attachments/...`).
    pub fn sign_url(&self, a: &StoredAttachment, public_url: &str) -> String {
        let path = Self::attachment_path(a);
        let q = self
            .inner
            .signer
            .sign(&path, unix_now(), self.inner.config.url_ttl_secs);
        let base = if public_url.starts_with("http://") || public_url.starts_with("https://") {
            public_url.trim_end_matches('/')
        } else {
            ""
        };
        format!("{base}{path}?{q}")
    }

    /// Discord's attachment object for `a`, with fresh URLs.
    pub fn attachment_json(&self, a: &StoredAttachment, public_url: &str) -> Attachment {
        let url = self.sign_url(a, public_url);
        let proxy_url = match a.thumbnails.first() {
            Some(s) => format!("{url}&width={s}"),
            None => url.clone(),
        };
        Attachment {
            id: a.id,
            filename: a.filename.clone(),
            description: a.description.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url,
            proxy_url,
            width: a.width,
            height: a.height,
        }
    }

    fn check_signature(&self, path: &str, q: SignedQuery<'_>) -> Result<()> {
        match self.inner.signer.verify(path, q.ex, q.is, q.hm, unix_now()) {
            Ok(()) => Ok(()),
            Err(Refusal::Tampered) => Err(FilesError::BadSignature),
            Err(Refusal::Expired) => Err(FilesError::NotFound),
        }
    }

    /// Check a request for `/attachments/{channel}/{id}/{filename}` and say what to
    /// send: a tampered URL is [`FilesError::BadSignature`], an expired one
    /// [`FilesError::NotFound`]. `width` picks the smallest thumbnail at least that wide.
    pub async fn open_attachment(
        &self,
        channel: ChannelId,
        id: AttachmentId,
        filename: &str,
        q: SignedQuery<'_>,
        width: Option<u32>,
    ) -> Result<Served> {
        let path = format!("/attachments/{channel}/{id}/{filename}");
        self.check_signature(&path, q)?;
        let dir = base(channel, id);
        let meta: StoredAttachment =
            serde_json::from_slice(&self.inner.storage.get(&format!("{dir}/meta.json")).await?)
                .map_err(|e| FilesError::Internal(format!("meta.json: {e}")))?;
        if meta.filename != filename {
            return Err(FilesError::NotFound);
        }
        if let Some(w) = width
            && let Some(s) = meta.thumbnails.iter().copied().find(|s| *s >= w)
        {
            let key = format!("{dir}/thumb-{s}.webp");
            let size = self.inner.storage.size(&key).await?;
            return Ok(Served {
                meta,
                key,
                content_type: "image/webp".into(),
                size,
            });
        }
        let content_type = meta.content_type.clone();
        let size = meta.size;
        Ok(Served {
            meta,
            key: format!("{dir}/file"),
            content_type,
            size,
        })
    }

    /// Delete an attachment's objects now (an upload given up, a message
    /// deleted). An attachment no message took is also released from its
    /// uploader's quota and queued for deletion, so a failure here is retried by
    /// the deletion worker. Idempotent.
    pub async fn delete_attachment(&self, channel: ChannelId, id: AttachmentId) -> Result<()> {
        let dir = base(channel, id);
        self.discard_usage(std::slice::from_ref(&dir)).await?;
        self.inner.storage.delete_prefix(&dir).await
    }

    /// Give up attachments stored for a message that was then refused: the
    /// ones no message took are queued for deletion and released from their
    /// uploader's quota (a file some message did take is left alone). Failures
    /// are logged; the orphan sweeper is the safety net.
    pub async fn discard_unclaimed(&self, files: &[(usize, StoredAttachment)]) {
        if files.is_empty() {
            return;
        }
        let keys: Vec<String> = files
            .iter()
            .map(|(_, a)| base(a.channel_id, a.id))
            .collect();
        if let Err(e) = self.discard_usage(&keys).await {
            tracing::warn!(error = %e, "could not give up the files of a refused message");
        }
    }

    /// The sweeper's pass over two-step uploads never claimed by a message: the
    /// ones older than `max_age` are deleted. Returns how many went.
    pub async fn sweep_pending_uploads(&self, max_age: Duration) -> Result<usize> {
        let age =
            chrono::Duration::from_std(max_age).map_err(|e| FilesError::Internal(e.to_string()))?;
        self.inner
            .storage
            .delete_older_than("uploads", chrono::Utc::now() - age)
            .await
    }

    /// Delete every attachment of a channel (channel deleted). Idempotent.
    pub async fn delete_channel_files(&self, channel: ChannelId) -> Result<()> {
        self.inner
            .storage
            .delete_prefix(&format!("attachments/{channel}"))
            .await
    }
}

/// The `ex`, `is`, `hm` parameters of a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignedQuery<'a> {
    pub ex: Option<&'a str>,
    pub is: Option<&'a str>,
    pub hm: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use beep_types::{Snowflake, SnowflakeGenerator};

    use super::*;
    use crate::FilesConfig;

    fn files() -> Files {
        let ids = Arc::new(SnowflakeGenerator::new(1).expect("worker"));
        Files::new(FilesConfig::default(), ids).expect("files")
    }

    fn stream(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Unpin + Send {
        futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
    }

    #[tokio::test]
    async fn uploads_are_sniffed_named_and_signed() {
        let f = files();
        let ch = ChannelId::from(Snowflake(42));
        let me = UserId::from(Snowflake(7));
        let a = f
            .upload_attachment(
                ch,
                me,
                "..\\x/evil\r\n.txt",
                stream(vec![b"hello ", b"world"]),
            )
            .await
            .expect("stored");
        assert_eq!(a.filename, "evil__.txt");
        assert_eq!(a.size, 11);
        assert!(a.content_type.starts_with("text/plain"));
        let url = f.sign_url(&a, "http://x");
        let q = url.split_once('?').expect("query").1;
        let get = |k: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .map(str::to_string)
        };
        let (ex, is, hm) = (get("ex"), get("is"), get("hm"));
        let sq = SignedQuery {
            ex: ex.as_deref(),
            is: is.as_deref(),
            hm: hm.as_deref(),
        };
        let served = f
            .open_attachment(ch, a.id, &a.filename, sq, None)
            .await
            .expect("served");
        assert_eq!(
            f.storage().get(&served.key).await.expect("bytes"),
            "hello world"
        );
        assert!(matches!(
            f.open_attachment(ch, a.id, "other.txt", sq, None).await,
            Err(FilesError::BadSignature)
        ));
        f.delete_attachment(ch, a.id).await.expect("deleted");
        assert!(
            f.storage()
                .list("attachments")
                .await
                .expect("list")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn stale_pending_uploads_are_swept() {
        let f = files();
        f.storage()
            .put("uploads/7/1", Bytes::from_static(b"x"))
            .await
            .expect("put");
        assert_eq!(
            f.sweep_pending_uploads(Duration::from_secs(3600))
                .await
                .expect("sweep"),
            0
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            f.sweep_pending_uploads(Duration::from_millis(1))
                .await
                .expect("sweep"),
            1
        );
    }
}
