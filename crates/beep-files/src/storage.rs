//! Object storage: a folder under the data directory by default, an S3-compatible
//! bucket when configured. Everything else in this crate sees only [`Storage`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::error::{FilesError, Result};

/// Connection settings of an S3-compatible bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct S3Settings {
    /// Endpoint URL (`http://127.0.0.1:9000`); empty for AWS itself.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Address buckets as `endpoint/bucket/key` (MinIO, moto, s3s) rather than
    /// `bucket.endpoint/key`.
    pub path_style: bool,
}

/// Where objects live.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageConfig {
    /// A folder on local disk.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket.
    S3(S3Settings),
    /// In memory, lost at exit (tests and one-off tools).
    Memory,
}

/// The object store of a node, cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    backend: &'static str,
}

/// What a bounded streaming write produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// Bytes written.
    pub size: u64,
    /// The first bytes of the object (up to [`SNIFF_BYTES`]), for type sniffing.
    pub head: Bytes,
}

/// How many leading bytes are kept to sniff the type of an upload.
pub const SNIFF_BYTES: usize = 8192;

impl Storage {
    /// Open the store `config` names (creating the local folder if needed).
    pub fn open(config: &StorageConfig) -> Result<Storage> {
        match config {
            StorageConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    FilesError::Storage(format!("cannot create {}: {e}", dir.display()))
                })?;
                let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
                Ok(Storage {
                    store: Arc::new(fs),
                    signer: None,
                    backend: "local",
                })
            }
            StorageConfig::Memory => Ok(Storage {
                store: Arc::new(object_store::memory::InMemory::new()),
                signer: None,
                backend: "memory",
            }),
            StorageConfig::S3(s) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&s.bucket)
                    .with_region(if s.region.is_empty() {
                        "us-east-1"
                    } else {
                        &s.region
                    })
                    .with_access_key_id(&s.access_key_id)
                    .with_secret_access_key(&s.secret_access_key)
                    .with_virtual_hosted_style_request(!s.path_style);
                if !s.endpoint.is_empty() {
                    b = b
                        .with_endpoint(&s.endpoint)
                        .with_allow_http(s.endpoint.starts_with("http://"));
                }
                let s3 = Arc::new(b.build()?);
                Ok(Storage {
                    store: s3.clone(),
                    signer: Some(s3),
                    backend: "s3",
                })
            }
        }
    }

    /// `local`, `s3` or `memory`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Store small bytes in one request.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Stream `body` into `key`, refusing it as soon as it passes `limit` bytes: the
    /// partial object is aborted and [`FilesError::TooLarge`] returned. Memory use is
    /// bounded by the multipart chunk size, whatever the size of the body.
    pub async fn put_stream<S, E>(&self, key: &str, mut body: S, limit: u64) -> Result<Written>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, 5 * 1024 * 1024);
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(FilesError::invalid(
                        "file",
                        format!("upload interrupted: {e}"),
                    ));
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                let _ = w.abort().await;
                return Err(FilesError::TooLarge { limit });
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            // Back-pressure: at most two parts in flight.
            if let Err(e) = w.wait_for_capacity(2).await {
                let _ = w.abort().await;
                return Err(e.into());
            }
            w.put(chunk);
        }
        w.finish().await?;
        Ok(Written {
            size,
            head: Bytes::from(head),
        })
    }

    /// The whole object (callers bound sizes before).
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        Ok(self.store.get(&Path::from(key)).await?.bytes().await?)
    }

    /// The object as a stream of chunks, and its size.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<(u64, impl Stream<Item = Result<Bytes>> + Send + 'static)> {
        let r = self.store.get(&Path::from(key)).await?;
        let size = r.meta.size;
        Ok((size, r.into_stream().map(|c| c.map_err(FilesError::from))))
    }

    /// The first `n` bytes of an object (fewer if it is shorter).
    pub async fn head_bytes(&self, key: &str, n: u64) -> Result<Bytes> {
        let size = self.size(key).await?;
        if size == 0 {
            return Ok(Bytes::new());
        }
        Ok(self
            .store
            .get_range(&Path::from(key), 0..size.min(n))
            .await?)
    }

    /// Move an object (a rename on disk, copy and delete on S3).
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        Ok(self
            .store
            .rename(&Path::from(from), &Path::from(to))
            .await?)
    }

    /// Size of an object, or `NotFound`.
    pub async fn size(&self, key: &str) -> Result<u64> {
        Ok(self.store.head(&Path::from(key)).await?.size)
    }

    /// Delete one object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Delete every object under `prefix` (a "folder").
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let p = Path::from(prefix);
        let mut list = self.store.list(Some(&p));
        while let Some(meta) = list.next().await {
            self.delete(meta?.location.as_ref()).await?;
        }
        Ok(())
    }

    /// Delete the objects under `prefix` last written before `cutoff`; returns how
    /// many went.
    pub async fn delete_older_than(
        &self,
        prefix: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize> {
        let p = Path::from(prefix);
        let mut list = self.store.list(Some(&p));
        let mut n = 0;
        while let Some(meta) = list.next().await {
            let meta = meta?;
            if meta.last_modified < cutoff {
                self.delete(meta.location.as_ref()).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Keys under `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = Path::from(prefix);
        let mut out = Vec::new();
        let mut list = self.store.list(Some(&p));
        while let Some(meta) = list.next().await {
            out.push(meta?.location.to_string());
        }
        Ok(out)
    }

    /// The objects under `prefix` with the time each was last written, as they
    /// are listed (for the orphan sweeper; memory stays bounded).
    pub fn list_with_times(
        &self,
        prefix: &str,
    ) -> impl Stream<Item = Result<(String, chrono::DateTime<chrono::Utc>)>> + Send + 'static {
        self.store.list(Some(&Path::from(prefix))).map(|m| {
            m.map(|m| (m.location.to_string(), m.last_modified))
                .map_err(FilesError::from)
        })
    }

    /// A presigned `PUT` URL for direct uploads, when the store supports them (S3).
    pub async fn presigned_put(&self, key: &str, ttl: Duration) -> Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(http::Method::PUT, &Path::from(key), ttl)
            .await?;
        Ok(Some(url.to_string()))
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        match self.store.head(&Path::from("readyz-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
