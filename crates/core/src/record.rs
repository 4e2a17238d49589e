use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Extra manifest columns kept with a photo (for example `country`, `collected_at`).
pub type Meta = BTreeMap<String, String>;

/// One photo of a collection, as ingest found it.
///
/// `id` is stable across runs of the same source (the manifest's `obs_uid`, or the path relative to
/// the scanned folder or S3 prefix), so a re-run can skip what is already done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: String,
    /// Where the bytes live: a local path or an `s3://bucket/key` URI.
    pub uri: String,
    pub label: Option<String>,
    pub meta: Meta,
}
