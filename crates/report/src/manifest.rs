//! The release manifest: `manifest.csv` and `manifest.parquet`, one row per released photo.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::ExportError;

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
    let err = |path: &Path| {
        let path = path.to_owned();
        move |e: &dyn std::fmt::Display| ExportError::Write { path: path.clone(), message: e.to_string() }
    };
    let (csv_err, pq_err) = (err(&csv_path), err(&pq_path));

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

    let s = |n: &str, nullable| Field::new(n, DataType::Utf8, nullable);
    let schema = Arc::new(Schema::new(vec![
        s("obs_uid", false),
        s("label", true),
        s("original_label", true),
        s("file", false),
        s("sha256", false),
        Field::new("bytes", DataType::UInt64, false),
        s("reasons", false),
        s("decision", false),
        s("reviewer", true),
    ]));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("crowdsift {}", crowdsift_core::VERSION))
        .build();
    let file = File::create(&pq_path).map_err(|e| pq_err(&e))?;
    let mut pq = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| pq_err(&e))?;
    for chunk in rows.chunks(BATCH) {
        let strings = |f: &dyn Fn(&ManifestRow) -> Option<&str>| -> ArrayRef {
            let mut b = StringBuilder::new();
            chunk.iter().for_each(|r| b.append_option(f(r)));
            Arc::new(b.finish())
        };
        let mut bytes = UInt64Builder::new();
        chunk.iter().for_each(|r| bytes.append_value(r.bytes));
        let cols: Vec<ArrayRef> = vec![
            strings(&|r| Some(&r.obs_uid)),
            strings(&|r| r.label.as_deref()),
            strings(&|r| r.original_label.as_deref()),
            strings(&|r| Some(&r.file)),
            strings(&|r| Some(&r.sha256)),
            Arc::new(bytes.finish()),
            strings(&|r| Some(&r.reasons)),
            strings(&|r| Some(&r.decision)),
            strings(&|r| r.reviewer.as_deref()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| pq_err(&e))?;
        pq.write(&batch).map_err(|e| pq_err(&e))?;
    }
    pq.close().map_err(|e| pq_err(&e))?;
    Ok(())
}
