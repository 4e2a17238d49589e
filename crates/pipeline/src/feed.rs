use std::collections::HashSet;

use crossbeam_channel::Sender;
use std::path::Path;

use crowdsift_core::Stage;
use crowdsift_ingest::{IngestError, Item, Source};
use crowdsift_store::{PageReader, PhotoRow, Store};

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

/// Rows of a stage's table read at a time.
const PAGE: usize = 1024;

/// Sends every row of an earlier stage's table (`read`, e.g. `Store::ocr_photos`), completed by
/// `with` (which may look more up in the store), to the workers in photo-id order. Reads through
/// a connection of its own to the store in `out` while the caller writes results through another.
/// Stops early when the workers are gone.
pub(crate) fn send_rows<T: PhotoRow, U>(
    out: &Path,
    read: PageReader<T>,
    with: impl Fn(&Store, T) -> Result<U, PipelineError>,
    tx: Sender<U>,
) -> Result<(), PipelineError> {
    let store = Store::open(&out.join("crowdsift.db"))?;
    for row in store.paged(read, PAGE) {
        if tx.send(with(&store, row?)?).is_err() {
            break;
        }
    }
    Ok(())
}

/// The store of `out` for a stage that reads `stage`'s table, which must have rows; `missing`
/// says what to run when it has none.
pub(crate) fn open_results(
    out: &Path,
    stage: Stage,
    missing: impl FnOnce() -> String,
) -> Result<(Store, u64), PipelineError> {
    let db = out.join("crowdsift.db");
    if !db.is_file() {
        return Err(PipelineError::Invalid(missing()));
    }
    let store = Store::open(&db)?;
    match store.result_count(stage)? {
        0 => Err(PipelineError::Invalid(missing())),
        n => Ok((store, n)),
    }
}

/// Writes a stage's Parquet table `name` into `out` from its rows in the store, `read` a page at a
/// time; `rows` makes a stored row the table's rows (an error when it cannot be read back: nothing
/// is left out unsaid), `columns` a batch of those the table's columns (in the order of `fields`).
pub(crate) fn export_table<T: PhotoRow, R>(
    store: &Store,
    out: &Path,
    name: &str,
    fields: Vec<arrow_schema::Field>,
    read: PageReader<T>,
    rows: impl Fn(T) -> Result<Vec<R>, PipelineError>,
    columns: impl Fn(&[R]) -> Vec<arrow_array::ArrayRef>,
) -> Result<u64, PipelineError> {
    let mut table = crowdsift_report::ParquetFile::create(&out.join(name), fields)?;
    let mut batch = Vec::new();
    for row in store.paged(read, PAGE) {
        batch.extend(rows(row?)?);
        if batch.len() >= 8 * PAGE {
            table.write(columns(&batch))?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        table.write(columns(&batch))?;
    }
    Ok(table.close()?)
}
