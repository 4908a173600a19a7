//! Files of Beep (SPEC §2.11): object storage (a local folder or an S3-compatible
//! bucket), attachment uploads streamed under a size limit with types sniffed
//! from the bytes, image validation and thumbnails, signed expiring URLs,
//! avatars/icons/banners from data URIs, and SSRF-safe link previews.
//!
//! [`Files`] is the service; it knows nothing of HTTP or SQL. Object keys come
//! from server ids only; a user's filename is kept, sanitized, for display.

pub mod attachments;
pub mod avatars;
pub mod error;
pub mod images;
pub mod ledger;
pub mod preview;
pub mod signing;
pub mod sniff;
pub mod storage;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use beep_types::SnowflakeGenerator;

pub use attachments::{Attachment, PendingUpload, StoredAttachment};
pub use avatars::ImageKind;
pub use error::{FilesError, Result};
pub use images::ImageLimits;
pub use ledger::UsageLedger;
pub use preview::{PreviewConfig, Previewer};
pub use signing::{Refusal, UrlSigner};
pub use storage::{S3Settings, Storage, StorageConfig};

/// Settings of the files service.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesConfig {
    /// Where objects live.
    pub storage: StorageConfig,
    /// Signing key as 64 hex digits; empty to use (and create) `key_file`.
    pub signing_key: String,
    /// File holding the signing key when none is configured; when empty too, a
    /// random key lives in memory only.
    pub key_file: PathBuf,
    /// How long a signed attachment URL stays valid, in seconds.
    pub url_ttl_secs: u64,
    /// Largest attachment, in bytes.
    pub max_upload_bytes: u64,
    /// Most attachments on one message.
    pub max_files: usize,
    /// Largest avatar, banner or icon (decoded), in bytes.
    pub max_avatar_bytes: u64,
    /// Decoding bounds for images.
    pub image: ImageLimits,
    /// Thumbnail sizes (longest side, pixels) made for image attachments.
    pub thumbnail_sizes: Vec<u32>,
    /// Link preview fetching.
    pub preview: PreviewConfig,
}

impl Default for FilesConfig {
    fn default() -> Self {
        // In memory by default, like the core's ephemeral keys: the node's wiring
        // names the data directory (or the bucket) explicitly.
        FilesConfig {
            storage: StorageConfig::Memory,
            signing_key: String::new(),
            key_file: PathBuf::new(),
            url_ttl_secs: 24 * 3600,
            max_upload_bytes: 25 * 1024 * 1024,
            max_files: 10,
            max_avatar_bytes: 10 * 1024 * 1024,
            image: ImageLimits::default(),
            thumbnail_sizes: vec![256, 1024],
            preview: PreviewConfig::default(),
        }
    }
}

/// The files service, cheap to clone.
#[derive(Clone, Debug)]
pub struct Files {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    storage: Storage,
    signer: UrlSigner,
    config: FilesConfig,
    ids: Arc<SnowflakeGenerator>,
    previewer: Previewer,
    /// Where stored bytes are counted (set once by the core's wiring).
    ledger: OnceLock<Arc<dyn UsageLedger>>,
}

impl Files {
    /// Open the store and load (or create) the signing key.
    pub fn new(config: FilesConfig, ids: Arc<SnowflakeGenerator>) -> Result<Files> {
        let storage = Storage::open(&config.storage)?;
        let signer = UrlSigner::load(&config.signing_key, &config.key_file)?;
        let previewer = Previewer::new(config.preview.clone())?;
        Ok(Files {
            inner: Arc::new(Inner {
                storage,
                signer,
                config,
                ids,
                previewer,
                ledger: OnceLock::new(),
            }),
        })
    }

    /// The object store (for readiness checks and tests).
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// The URL signer.
    pub fn signer(&self) -> &UrlSigner {
        &self.inner.signer
    }

    /// The configuration in force.
    pub fn config(&self) -> &FilesConfig {
        &self.inner.config
    }

    /// The link previewer.
    pub fn previewer(&self) -> &Previewer {
        &self.inner.previewer
    }

    /// Count stored attachments against their uploaders' quotas with `ledger`
    /// from now on. Only the first call counts.
    pub fn set_ledger(&self, ledger: Arc<dyn UsageLedger>) {
        let _ = self.inner.ledger.set(ledger);
    }

    /// Bytes `user` may still store (`None`: no limit, or no ledger).
    pub async fn remaining_quota(&self, user: beep_types::UserId) -> Result<Option<u64>> {
        match self.inner.ledger.get() {
            Some(l) => l.remaining(user).await,
            None => Ok(None),
        }
    }

    /// Count an attachment folder against `user`; `false` past the quota.
    async fn record_usage(
        &self,
        key: &str,
        user: beep_types::UserId,
        channel: beep_types::ChannelId,
        size: u64,
    ) -> Result<bool> {
        match self.inner.ledger.get() {
            Some(l) => l.record(key, user, channel, size).await,
            None => Ok(true),
        }
    }

    /// Give up attachment folders no message took.
    async fn discard_usage(&self, keys: &[String]) -> Result<()> {
        match self.inner.ledger.get() {
            Some(l) => l.discard(keys).await,
            None => Ok(()),
        }
    }

    /// Whether the object store answers.
    pub async fn ready(&self) -> Result<()> {
        self.inner.storage.ping().await
    }
}
