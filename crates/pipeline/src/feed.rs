use std::collections::HashSet;

use crossbeam_channel::Sender;
use std::path::{Path, PathBuf};

use crowdsift_ingest::{IngestError, Item, Source};
use crowdsift_store::Store;

use crate::scan::PipelineError;

/// What listing a source found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Photos listed.
    pub listed: u64,
    /// Photos not sent because `skip` said they were done.
    pub skipped: u64,
    /// Entries that could not be listed, and duplicate ids (only the first of an id is processed).
    pub errors: Vec<String>,
}

/// Lists `source` into `tx`, leaving out photos `skip` says are done and repeated ids. Stops early
/// when the receivers are gone (the consumer failed; it reports why).
pub(crate) fn feed(source: &Source, tx: Sender<Item>, skip: impl Fn(&Item) -> bool) -> Listing {
    let mut out = Listing::default();
    let items = match source.items() {
        Ok(items) => items,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let mut seen = HashSet::new();
    for item in items {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                out.errors.push(e.to_string());
                continue;
            }
        };
        out.listed += 1;
        if skip(&item) {
            out.skipped += 1;
            continue;
        }
        if !seen.insert(item.record.id.clone()) {
            out.errors.push(format!("duplicate id {} ({}) skipped", item.record.id, item.record.uri));
            continue;
        }
        if tx.send(item).is_err() {
            break;
        }
    }
    out
}

/// How many photos `source` lists that `skip` leaves in: the total of a progress bar (a listing
/// pass is cheap next to decoding).
pub(crate) fn count(source: &Source, skip: impl Fn(&Item) -> bool) -> Result<u64, IngestError> {
    Ok(source.items()?.flatten().filter(|item| !skip(item)).count() as u64)
}

/// Creates the output folder if needed and opens its store.
pub(crate) fn open_output(out: &Path) -> Result<Store, PipelineError> {
    std::fs::create_dir_all(out).map_err(|source| PipelineError::Io { path: out.to_owned(), source })?;
    Ok(Store::open(&out.join("crowdsift.db"))?)
}

/// Ends a run of a stage that writes findings: on success, exports findings.csv/parquet and marks
/// the run done; on failure, marks it failed and returns the error.
pub(crate) fn close_run(
    store: &Store,
    run_id: i64,
    out: &Path,
    result: Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    if let Err(e) = result {
        let _ = store.finish_run(run_id, "failed");
        return Err(e);
    }
    crowdsift_report::export_findings(store, out)?;
    store.finish_run(run_id, "done")?;
    Ok(())
}

/// The `*.json` files of an earlier stage's folder, sorted; `missing` says what to run when the
/// folder does not exist.
pub(crate) fn stage_files(dir: &Path, missing: impl FnOnce() -> String) -> Result<Vec<PathBuf>, PipelineError> {
    if !dir.is_dir() {
        return Err(PipelineError::Invalid(missing()));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| PipelineError::Io { path: dir.to_owned(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Sends every item to the workers (stops early when they are gone).
pub(crate) fn send_all<T>(items: Vec<T>, tx: Sender<T>) {
    for item in items {
        if tx.send(item).is_err() {
            break;
        }
    }
}
