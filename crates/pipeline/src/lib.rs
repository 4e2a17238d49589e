//! Runs crowdsift's stages over a collection: resumable, parallel, with bounded memory.

mod audit;
mod classify;
mod dups;
mod embed;
mod export;
pub mod features;
mod feed;
mod ocr;
mod pii;
mod redact;
mod report;
mod scan;
pub mod stages;
mod train;

pub use audit::{AuditJob, AuditSummary, audit};
pub use classify::{PredictSummary, TOP_K, evaluate, predict, predict_embeddings};
pub use crowdsift_core::{NoProgress, ProgressReporter};
pub use dups::findings as duplicate_findings;
pub use embed::{BACKBONE, EmbedParams, EmbedSummary, EmbeddedPart, embed, embed_part};
pub use export::{export, export_backbone};
pub use ocr::{LINES_TABLE, OcrJob, OcrSummary, ocr};
pub use pii::{FACE_SIDE, HELD_TABLE, PII_TABLE, PiiJob, PiiSummary, pii};
pub use redact::{REDACTIONS_TABLE, RedactJob, RedactSummary, redact};
pub use report::{ReportSummary, report};
pub use scan::{PipelineError, ScanParams, ScanSummary, ScannedPart, scan, scan_part};
pub use train::{CvSummary, Mode, TrainJob, TrainMode, TrainSummary, cross_validate, train};
