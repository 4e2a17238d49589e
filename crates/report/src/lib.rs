//! Outputs of a run, written from the store so they always agree with it.

mod export;
mod html;

pub use export::{ExportError, FINDINGS_COLUMNS, export_findings};
pub use html::{ReportCounts, Thumbnails, render};
