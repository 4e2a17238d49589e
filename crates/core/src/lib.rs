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

/// The message a caught panic carried (`panic!` with a literal or a formatted string), if any:
/// what a stage that catches a library's panic reports as its error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| payload.downcast_ref::<String>().cloned())
}

/// Version of crowdsift recorded in every run and output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
