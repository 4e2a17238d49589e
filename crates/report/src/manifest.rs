//! The release manifest: `manifest.csv` and `manifest.parquet`, one row per released photo.

use std::path::Path;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::UInt64Builder;
use arrow_schema::{DataType, Field};

use crate::{ExportError, ParquetFile, col};

/// Column order of both files.
pub const MANIFEST_COLUMNS: [&str; 9] =
    ["obs_uid", "label", "original_label", "file", "sha256", "bytes", "reasons", "decision", "reviewer"];

/// One released photo.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRow {
    pub obs_uid: String,
    /// The label after review.
    pub label: Option<String>,
    /// The label the photo came with.
    pub original_label: Option<String>,
    /// Path of the released file, relative to the release folder.
    pub file: String,
    /// SHA-256 of the released file.
    pub sha256: String,
    pub bytes: u64,
    /// Why it was looked at and what was done, `;`-separated (`blur`, `pii`, `relabelled`, …).
    pub reasons: String,
    /// `approved` by a reviewer, or `passed` (nothing flagged that needs a person).
    pub decision: String,
    pub reviewer: Option<String>,
}

const BATCH: usize = 8192;

/// Writes `manifest.csv` and `manifest.parquet` into `dir`.
pub fn write_manifest(dir: &Path, rows: &[ManifestRow]) -> Result<(), ExportError> {
    let csv_path = dir.join("manifest.csv");
    let pq_path = dir.join("manifest.parquet");
    let csv_err = |e: &dyn std::fmt::Display| ExportError::Write { path: csv_path.clone(), message: e.to_string() };

    let mut csv = csv::Writer::from_path(&csv_path).map_err(|e| csv_err(&e))?;
    csv.write_record(MANIFEST_COLUMNS).map_err(|e| csv_err(&e))?;
    for r in rows {
        let bytes = r.bytes.to_string();
        csv.write_record([
            r.obs_uid.as_str(),
            r.label.as_deref().unwrap_or_default(),
            r.original_label.as_deref().unwrap_or_default(),
            &r.file,
            &r.sha256,
            &bytes,
            &r.reasons,
            &r.decision,
            r.reviewer.as_deref().unwrap_or_default(),
        ])
        .map_err(|e| csv_err(&e))?;
    }
    csv.flush().map_err(|e| csv_err(&e))?;

    let s = col::string_field;
    let mut pq = ParquetFile::create(
        &pq_path,
        vec![
            s("obs_uid", false),
            s("label", true),
            s("original_label", true),
            s("file", false),
            s("sha256", false),
            Field::new("bytes", DataType::UInt64, false),
            s("reasons", false),
            s("decision", false),
            s("reviewer", true),
        ],
    )?;
    for chunk in rows.chunks(BATCH) {
        let mut bytes = UInt64Builder::new();
        chunk.iter().for_each(|r| bytes.append_value(r.bytes));
        pq.write(vec![
            col::string(chunk, |r| Some(&r.obs_uid)),
            col::string(chunk, |r| r.label.as_deref()),
            col::string(chunk, |r| r.original_label.as_deref()),
            col::string(chunk, |r| Some(&r.file)),
            col::string(chunk, |r| Some(&r.sha256)),
            Arc::new(bytes.finish()) as ArrayRef,
            col::string(chunk, |r| Some(&r.reasons)),
            col::string(chunk, |r| Some(&r.decision)),
            col::string(chunk, |r| r.reviewer.as_deref()),
        ])?;
    }
    pq.close()?;
    Ok(())
}
