//! `scan`: ingest + quality + duplicates for a whole source, resumable.
//!
//! Threads: this thread lists the source and feeds a bounded queue; `jobs` workers read, decode
//! and measure; one writer commits results to SQLite in small transactions. Queues are bounded, so
//! memory stays flat whatever the collection size.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, bounded};
use crowdsift_core::{Finding, Limits, Reason, Stage};
use crowdsift_ingest::{DecodeError, DecodeParams, Decoded, Fetcher, Fit, Item, Source, decode, sha256_hex};
use crowdsift_quality::{Params as QualityParams, PerceptualHasher, Scores, assess, measure};
use crowdsift_store::{DecodedFacts, DupKeys, ImageRow, Store, Totals};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::feed::{count, feed, open_output};
use crate::stages;
use crowdsift_core::ProgressReporter;

/// Everything that shapes a scan's results; recorded in the runs table. The command's options
/// (flattened into `crowdsift scan`) and the Python function's keyword arguments (same names),
/// defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct ScanParams {
    /// Worker threads reading and decoding photos [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    #[command(flatten)]
    #[serde(flatten)]
    pub limits: Limits,
    /// Quality checks run on the photo scaled to this longest side (never upscaled).
    #[arg(skip = ScanParams::default().working_long_side)]
    #[serde(skip_deserializing)]
    pub working_long_side: u32,
    #[command(flatten)]
    #[serde(flatten)]
    pub quality: QualityParams,
    /// Photos per store transaction (a transaction also closes after one second).
    #[arg(skip = ScanParams::default().batch_size)]
    #[serde(skip_deserializing)]
    pub batch_size: usize,
    /// Look for duplicates among all photos of the store once they are read. Off when the photos
    /// are one part of a collection whose duplicates are found over all parts (Spark: from the
    /// keys of every part, see [`crate::duplicate_findings`]).
    #[arg(skip = true)]
    #[serde(skip_deserializing)]
    pub duplicates: bool,
}

impl Default for ScanParams {
    fn default() -> Self {
        Self {
            jobs: crowdsift_core::cores(),
            limits: Limits::default(),
            working_long_side: 512,
            quality: QualityParams::default(),
            batch_size: 64,
            duplicates: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] crowdsift_store::StoreError),
    #[error(transparent)]
    Ingest(#[from] crowdsift_ingest::IngestError),
    #[error(transparent)]
    Export(#[from] crowdsift_report::ExportError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Model(#[from] crowdsift_models::ModelError),
    #[error(transparent)]
    Learn(#[from] crowdsift_learn::LearnError),
    #[error(transparent)]
    Ocr(#[from] crowdsift_ocr::OcrError),
    #[error("{0}")]
    Invalid(String),
}

/// What a scan did and what the store now holds.
#[derive(Debug, Clone)]
pub struct ScanSummary {
    pub run_id: i64,
    /// Photos the source listed.
    pub listed: u64,
    /// Photos processed by this run.
    pub processed: u64,
    /// Photos skipped because an earlier run had finished them.
    pub resumed: u64,
    /// Photos of earlier runs re-judged from their stored scores because thresholds changed.
    pub rejudged: u64,
    /// Source entries that could not be listed (bad manifest rows, unlistable folders).
    pub listing_errors: Vec<String>,
    /// Everything recorded in the store after this run.
    pub totals: Totals,
    pub findings_rows: u64,
    pub elapsed: Duration,
    pub out_dir: PathBuf,
}

struct Outcome {
    row: ImageRow,
    findings: Vec<Finding>,
}

impl ScanParams {
    /// The parameters as the runs table keeps them: thresholds under `quality` and decoding limits
    /// under `limits` (what re-judging and the duplicate search read back from earlier runs).
    fn record(&self) -> serde_json::Value {
        serde_json::json!({
            "jobs": self.jobs,
            "limits": self.limits,
            "working_long_side": self.working_long_side,
            "quality": self.quality,
            "batch_size": self.batch_size,
            "duplicates": self.duplicates,
        })
    }
}

/// Scans `source` into `out` (created if needed): `crowdsift.db`, `findings.csv`,
/// `findings.parquet`. Photos already recorded by an earlier run are skipped.
pub fn scan(
    source: &Source,
    out: &Path,
    params: &ScanParams,
    progress: &dyn ProgressReporter,
) -> Result<ScanSummary, PipelineError> {
    let started = Instant::now();
    let mut store = open_output(out)?;
    let run_id = store.begin_run("scan", &source.describe(), &params.record())?;
    let done = store.done_ids(stages::SCAN)?;

    progress.start(stages::SCAN, Some(count(source, |item| done.contains(&item.record.id))?));

    let consume = move |rx: &crossbeam_channel::Receiver<Outcome>| {
        let result = write_results(&mut store, run_id, params.batch_size, rx, progress);
        (store, result)
    };
    let (listing, (store_back, write_result)) =
        inspect_source(source, params, |item| done.contains(&item.record.id), consume);
    let mut store = store_back;
    let processed = match write_result {
        Ok(n) => n,
        Err(e) => {
            let _ = store.finish_run(run_id, "failed");
            return Err(e.into());
        }
    };
    progress.finish();

    let rejudged = rejudge(&mut store, run_id, &params.quality, progress)?;
    if params.duplicates {
        crate::dups::detect(&mut store, run_id, params.quality.max_hash_distance)?;
    }
    let findings_rows = crowdsift_report::export_findings(&store, out)?;
    store.finish_run(run_id, "done")?;
    Ok(ScanSummary {
        run_id,
        listed: listing.listed,
        processed,
        resumed: listing.skipped,
        rejudged,
        listing_errors: listing.errors,
        totals: store.totals()?,
        findings_rows,
        elapsed: started.elapsed(),
        out_dir: out.to_owned(),
    })
}

/// Reads, decodes and checks every photo `source` lists except those `skip` says are done, on
/// `params.jobs` workers, while `consume` takes the outcomes as they come (in no particular order)
/// on a thread of its own.
fn inspect_source<R: Send>(
    source: &Source,
    params: &ScanParams,
    skip: impl Fn(&Item) -> bool,
    consume: impl FnOnce(&crossbeam_channel::Receiver<Outcome>) -> R + Send,
) -> (crate::feed::Listing, R) {
    let jobs = params.jobs.max(1);
    let fetcher = source.fetcher();
    let (work_tx, work_rx) = bounded::<Item>(jobs * 4);
    let (res_tx, res_rx) = bounded::<Outcome>(256);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let rx = work_rx.clone();
            let tx = res_tx.clone();
            s.spawn(move || {
                let hasher = PerceptualHasher::default();
                for item in rx {
                    if tx.send(process(item, fetcher, params, &hasher)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((work_rx, res_tx));
        let consumer = s.spawn(move || consume(&res_rx));
        let listing = feed(source, work_tx, skip);
        (listing, consumer.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

/// One part of a collection scanned without a store: what each photo is and its findings, in id
/// order (a Spark task's partition). Duplicates depend on the whole collection and are not
/// searched: [`crate::duplicate_findings`] finds them from every part's [`DupKeys`].
#[derive(Debug, Clone, Default)]
pub struct ScannedPart {
    pub photos: Vec<(ImageRow, Vec<Finding>)>,
    /// Entries that could not be listed, and repeated ids.
    pub listing_errors: Vec<String>,
}

impl ScannedPart {
    /// The duplicate keys of the photos read (those with bytes).
    pub fn dup_keys(&self) -> Vec<DupKeys> {
        self.photos.iter().filter_map(|(row, _)| DupKeys::of(row)).collect()
    }
}

/// Scans every photo of `source` (typically [`Source::records`]) as [`scan`] does, photo by photo,
/// but into memory: no store, no files.
pub fn scan_part(source: &Source, params: &ScanParams) -> ScannedPart {
    let (listing, mut outcomes) = inspect_source(source, params, |_| false, |rx| rx.iter().collect::<Vec<_>>());
    outcomes.sort_by(|a, b| a.row.record.id.cmp(&b.row.record.id));
    ScannedPart { photos: outcomes.into_iter().map(|o| (o.row, o.findings)).collect(), listing_errors: listing.errors }
}

/// Applies the current thresholds to photos judged by earlier runs with other thresholds, from
/// their stored scores (no rescan). Decoding limits and the working size are not re-applied: they
/// change the scores themselves, and need a fresh output folder.
fn rejudge(
    store: &mut Store,
    run_id: i64,
    quality: &QualityParams,
    progress: &dyn ProgressReporter,
) -> Result<u64, PipelineError> {
    let current = serde_json::to_value(quality).unwrap_or_default();
    let stale: Vec<i64> = store
        .runs_owning(Stage::Quality)?
        .into_iter()
        .filter(|(id, cfg)| *id != run_id && cfg.get("quality") != Some(&current))
        .map(|(id, _)| id)
        .collect();
    let mut n = 0u64;
    if stale.is_empty() {
        return Ok(0);
    }
    progress.start("rejudge", None);
    for old in stale {
        let mut after = String::new();
        loop {
            let page = store.quality_scores_page(old, &after, 5000)?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            let mut findings = Vec::new();
            for (id, json) in &page {
                match serde_json::from_str::<Scores>(json) {
                    Ok(scores) => findings.extend(assess(id, &scores, quality)),
                    Err(e) => tracing::warn!("photo {id}: stored scores unreadable ({e}); rescan to re-judge it"),
                }
            }
            store.replace_findings(run_id, Stage::Quality, &findings)?;
            n += page.len() as u64;
            progress.advance(page.len() as u64);
        }
    }
    progress.finish();
    Ok(n)
}

/// Commits outcomes in transactions of `batch_size` photos, or every second, whichever first.
fn write_results(
    store: &mut Store,
    run_id: i64,
    batch_size: usize,
    rx: &crossbeam_channel::Receiver<Outcome>,
    progress: &dyn ProgressReporter,
) -> Result<u64, crowdsift_store::StoreError> {
    let mut batch = Vec::new();
    let mut written = 0u64;
    let mut last = Instant::now();
    loop {
        let (msg, closed) = match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(o) => (Some(o), false),
            Err(RecvTimeoutError::Timeout) => (None, false),
            Err(RecvTimeoutError::Disconnected) => (None, true),
        };
        if let Some(o) = msg {
            batch.push((o.row, o.findings));
        }
        if !batch.is_empty() && (closed || batch.len() >= batch_size || last.elapsed() >= Duration::from_secs(1)) {
            store.record(run_id, stages::SCAN, &batch)?;
            written += batch.len() as u64;
            progress.advance(batch.len() as u64);
            batch.clear();
            last = Instant::now();
        }
        if closed {
            return Ok(written);
        }
    }
}

fn process(item: Item, fetcher: &Fetcher, params: &ScanParams, hasher: &PerceptualHasher) -> Outcome {
    let record = item.record.clone();
    match catch_unwind(AssertUnwindSafe(|| inspect(item, fetcher, params, hasher))) {
        Ok(o) => o,
        Err(panic) => {
            let msg = crowdsift_core::panic_message(&*panic).unwrap_or_else(|| "unknown panic".to_owned());
            let err = DecodeError::new(Reason::DecodeError, format!("decoder crashed: {msg}"));
            unusable(ImageRow { record, sha256: None, bytes_len: None, decoded: None, quality_scores: None }, &err)
        }
    }
}

fn unusable(row: ImageRow, err: &DecodeError) -> Outcome {
    let f = Finding::unusable(&row.record.id, err.reason(), err.detail());
    Outcome { row, findings: vec![f] }
}

fn inspect(item: Item, fetcher: &Fetcher, params: &ScanParams, hasher: &PerceptualHasher) -> Outcome {
    let mut row = ImageRow { record: item.record, sha256: None, bytes_len: None, decoded: None, quality_scores: None };
    let bytes = match fetcher.fetch(&item.location) {
        Ok(b) => b,
        Err(e) => return unusable(row, &e),
    };
    row.sha256 = Some(sha256_hex(&bytes));
    row.bytes_len = Some(bytes.len() as u64);
    let decode_params = DecodeParams { limits: params.limits, fit: Fit::LongSide(params.working_long_side) };
    let d = match decode(&bytes, &decode_params) {
        Ok(d) => d,
        Err(e) => return unusable(row, &e),
    };
    let id = row.record.id.clone();
    let mut findings = vec![decoded_finding(&id, &d)];
    let scores = measure(&d.image, d.width, d.height);
    findings.extend(assess(&id, &scores, &params.quality));
    row.quality_scores = serde_json::to_string(&scores).ok();
    row.decoded = Some(DecodedFacts {
        format: d.format.to_owned(),
        width: d.width,
        height: d.height,
        orientation: d.orientation,
        color: d.color.clone(),
        pixel_sha256: pixel_digest(&d),
        phash: hasher.hash(&d.image),
    });
    Outcome { row, findings }
}

/// The `decode` row of a photo that decoded: what it is, and what the decoder had to work around.
fn decoded_finding(id: &str, d: &Decoded) -> Finding {
    let mut detail = format!("{} {}×{} {}", d.format, d.width, d.height, d.color);
    if d.orientation > 1 {
        detail.push_str(&format!(", EXIF orientation {} applied", d.orientation));
    }
    if d.has_alpha {
        detail.push_str(", transparency composited over white");
    }
    for w in &d.warnings {
        detail.push_str(&format!("; decoder warning: {w}"));
    }
    Finding {
        image_id: id.to_owned(),
        stage: Stage::Ingest,
        check: "decode".to_owned(),
        score: None,
        threshold: None,
        flagged: false,
        reason: None,
        detail,
    }
}

/// Digest of the decoded pixels: equal for files that differ only in metadata or container.
fn pixel_digest(d: &Decoded) -> String {
    let mut h = Sha256::new();
    h.update(d.width.to_le_bytes());
    h.update(d.height.to_le_bytes());
    h.update(d.image.as_raw());
    crowdsift_ingest::hex(&h.finalize())
}
