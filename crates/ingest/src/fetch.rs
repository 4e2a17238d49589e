use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use crowdsift_core::{Limits, Reason};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;

use crate::decode::DecodeError;
use crate::error::{IngestError, IngestErrorKind};
use crate::source::Location;

/// Reads the bytes of photos, read-only, from local disk or S3. Shared by all worker threads.
///
/// S3 settings come from the usual environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL` for S3-compatible servers, `AWS_ALLOW_HTTP=true` for plain HTTP).
pub struct Fetcher {
    limits: Limits,
    runtime: OnceLock<Arc<tokio::runtime::Runtime>>,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("limits", &self.limits).finish_non_exhaustive()
    }
}

fn io_reason(e: &std::io::Error, path: &Path) -> DecodeError {
    const ELOOP: i32 = 40;
    let p = path.display();
    match e.kind() {
        ErrorKind::NotFound if path.symlink_metadata().is_ok() => {
            DecodeError::new(Reason::Missing, format!("{p}: dangling symlink ({e})"))
        }
        ErrorKind::NotFound => DecodeError::new(Reason::Missing, format!("{p}: no such file")),
        ErrorKind::PermissionDenied => DecodeError::new(Reason::Permission, format!("{p}: {e}")),
        _ if e.raw_os_error() == Some(ELOOP) => DecodeError::new(Reason::Missing, format!("{p}: symlink loop ({e})")),
        _ => DecodeError::new(Reason::ReadError, format!("{p}: {e}")),
    }
}

impl Fetcher {
    pub fn new(limits: Limits) -> Self {
        Self { limits, runtime: OnceLock::new(), stores: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn runtime(&self) -> Result<Arc<tokio::runtime::Runtime>, IngestError> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt.clone());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| IngestError::with_source(IngestErrorKind::Io, "starting the async runtime for S3", e))?;
        Ok(self.runtime.get_or_init(|| Arc::new(rt)).clone())
    }

    pub(crate) fn s3_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, IngestError> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stores.get(bucket) {
            return Ok(s.clone());
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        // AWS CLI and boto use AWS_ENDPOINT_URL; object_store reads AWS_ENDPOINT. Accept both.
        if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder.with_endpoint(url);
        }
        let store: Arc<dyn ObjectStore> = Arc::new(builder.build().map_err(|e| {
            IngestError::with_source(IngestErrorKind::ObjectStore, format!("configuring S3 for bucket {bucket}"), e)
        })?);
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Reads one photo. Every failure is a per-photo [`DecodeError`] with a reason code.
    pub fn fetch(&self, location: &Location) -> Result<Bytes, DecodeError> {
        match location {
            Location::Local(path) => self.fetch_local(path),
            Location::S3 { bucket, key } => self.fetch_s3(bucket, key),
        }
    }

    fn too_large(&self, what: &str, len: u64) -> DecodeError {
        DecodeError::new(Reason::TooLarge, format!("{what} has {len} bytes, limit {}", self.limits.max_file_bytes))
    }

    fn fetch_local(&self, path: &Path) -> Result<Bytes, DecodeError> {
        let meta = std::fs::metadata(path).map_err(|e| io_reason(&e, path))?;
        if meta.is_dir() {
            return Err(DecodeError::new(Reason::UnsupportedFormat, format!("{}: is a folder", path.display())));
        }
        if meta.len() > self.limits.max_file_bytes {
            return Err(self.too_large(&path.display().to_string(), meta.len()));
        }
        std::fs::read(path).map(Bytes::from).map_err(|e| io_reason(&e, path))
    }

    fn fetch_s3(&self, bucket: &str, key: &str) -> Result<Bytes, DecodeError> {
        let uri = format!("s3://{bucket}/{key}");
        let store = self.s3_store(bucket).map_err(|e| DecodeError::new(Reason::ReadError, e.to_string()))?;
        let rt = self.runtime().map_err(|e| DecodeError::new(Reason::ReadError, e.to_string()))?;
        let path = ObjectPath::from(key);
        rt.block_on(async {
            let got = store.get(&path).await.map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    DecodeError::new(Reason::Missing, format!("{uri}: no such object"))
                }
                object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                    DecodeError::new(Reason::Permission, format!("{uri}: {e}"))
                }
                other => DecodeError::new(Reason::ReadError, format!("{uri}: {other}")),
            })?;
            if got.meta.size > self.limits.max_file_bytes {
                return Err(self.too_large(&uri, got.meta.size));
            }
            got.bytes().await.map_err(|e| DecodeError::new(Reason::ReadError, format!("{uri}: {e}")))
        })
    }
}
