//! The manifest reader on arbitrary bytes: written to a file and opened as a source, told CSV or
//! Parquet by its content (the Parquet magic), then listed row by row as every stage lists it.
//! Bad rows and bad files must come back as errors naming the file, never as a panic.
//!
//! Without afl's panic hook (`fuzz_nohook!`): the reader turns the panics of the Parquet crate
//! into errors itself (`catch_unwind`), which a hook aborting at the panic would not let it do;
//! a panic that escapes still aborts the process, and the fuzzer sees it.

use std::sync::Arc;

use crowdsift_core::Limits;
use crowdsift_ingest::{Fetcher, Source};

fn main() {
    // One file per process, rewritten for each input (in memory-backed /dev/shm when there is one).
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    let path = dir.join(format!("crowdsift-fuzz-manifest-{}", std::process::id()));
    let spec = path.to_string_lossy().into_owned();
    let fetcher = Arc::new(Fetcher::new(Limits::default()));
    afl::fuzz_nohook!(|data: &[u8]| {
        if std::fs::write(&path, data).is_err() {
            return;
        }
        let Ok(source) = Source::open(&spec, fetcher.clone()) else { return };
        if let Ok(items) = source.items() {
            // Rows are streamed; a manifest of a million rows is not what this looks for.
            for item in items.take(10_000).flatten() {
                assert!(!item.record.id.is_empty(), "a row without an obs_uid was listed");
            }
        }
    });
}
