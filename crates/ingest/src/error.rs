use std::fmt;

/// What went wrong while opening or listing a source. Per-photo problems are not errors: they
/// become findings with a [`crowdsift_core::Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IngestErrorKind {
    /// The source path or URI does not name a folder, manifest or S3 prefix.
    Source,
    /// A manifest could not be parsed, or a row is invalid.
    Manifest,
    /// Listing or reading from an object store failed.
    ObjectStore,
    /// Local I/O failed while listing.
    Io,
}

/// An error of the ingest stage, naming the file or row it concerns.
#[derive(Debug, thiserror::Error)]
pub struct IngestError {
    kind: IngestErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl IngestError {
    pub(crate) fn new(kind: IngestErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    pub(crate) fn with_source(
        kind: IngestErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(Box::new(source)) }
    }

    pub fn kind(&self) -> IngestErrorKind {
        self.kind
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}
