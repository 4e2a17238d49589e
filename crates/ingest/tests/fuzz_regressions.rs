//! Inputs the fuzz targets (fuzz/) made crash, kept in fuzz/regressions/<target>/: each must now
//! come back as an error that names the file, with no panic, and a manifest listing after it goes
//! on to end.

use std::path::PathBuf;
use std::sync::Arc;

use crowdsift_core::Limits;
use crowdsift_ingest::{Fetcher, IngestErrorKind, Source};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("fuzz/regressions").map(|e| e.expect("entry").path()).collect();
    files.sort();
    files
}

/// Corrupt Parquet manifests on which the parquet and arrow crates panic (a dictionary decoder or
/// an encoding not set, a negative column start, a division by zero, a null bitmap read out of
/// bounds): the listing yields errors naming the file — the reader's own, then the panic as
/// "corrupt Parquet file" — and ends.
#[test]
fn corrupt_parquet_manifests_are_an_error_not_a_crash() {
    let files = regressions("manifest");
    assert_eq!(files.len(), 5);
    let fetcher = Arc::new(Fetcher::new(Limits::default()));
    let mut panics = 0;
    for file in files {
        let name = file.display().to_string();
        let errors: Vec<(IngestErrorKind, String)> = match Source::open(&name, fetcher.clone()).expect("opens").items()
        {
            Err(e) => vec![(e.kind(), e.to_string())],
            Ok(items) => {
                let listed: Vec<_> = items.take(100).collect();
                assert!(listed.len() < 100, "{name}: the listing ends");
                listed.iter().filter_map(|r| r.as_ref().err()).map(|e| (e.kind(), e.to_string())).collect()
            }
        };
        assert!(!errors.is_empty(), "{name}: no error");
        for (kind, msg) in &errors {
            assert_eq!(*kind, IngestErrorKind::Manifest, "{msg}");
            assert!(msg.contains(&name), "{msg}");
        }
        panics += usize::from(errors.iter().any(|(_, m)| m.contains("corrupt Parquet file (the reader failed: ")));
    }
    assert_eq!(panics, 5, "each file makes the reader panic, and the panic is an error");
}
