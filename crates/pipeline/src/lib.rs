//! Runs crowdsift's stages over a collection: resumable, parallel, with bounded memory.

mod dups;
mod progress;
mod scan;
pub mod stages;

pub use progress::{NoProgress, ProgressReporter};
pub use scan::{PipelineError, ScanParams, ScanSummary, scan};
