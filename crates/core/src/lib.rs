//! Types shared by every stage of crowdsift.
//!
//! A photo enters as an [`ImageRecord`], each stage writes [`Finding`]s about it, and a photo that
//! cannot be read or decoded gets exactly one finding whose [`Reason`] says why. Nothing here does
//! I/O; the stages own their own logic and their own error types.

mod finding;
mod limits;
mod progress;
mod record;
pub mod rng;

pub use finding::{Finding, PII_DOUBTS, Reason, Stage};
pub use limits::Limits;
pub use progress::{NoProgress, ProgressReporter};
pub use record::{ImageRecord, Meta};

/// Worker threads a stage uses unless told otherwise: the machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Version of crowdsift recorded in every run and output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
