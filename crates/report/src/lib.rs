//! Outputs of a run, written from the store so they always agree with it.

mod export;
mod files;
mod html;
mod manifest;
mod table;

pub use export::{ExportError, FINDINGS_COLUMNS, export_findings};
pub use files::{AuditRow, RedactedCopy, read_labels, redacted_copies};
pub use html::{NextSteps, ReportCounts, Thumbnails, Waiting, render};
pub use manifest::{MANIFEST_COLUMNS, ManifestRow, write_manifest};
pub use table::{ParquetFile, col};
