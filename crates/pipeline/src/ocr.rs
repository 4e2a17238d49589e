//! `ocr`: the text lines of every photo of a source, cached in the store by photo SHA-256 and
//! engine (model set and file checksums). Each photo's reading is recorded in the store (what
//! `pii` reads) with a finding of stage `ocr`, and written out as `ocr_lines.parquet` (one row
//! per line); per-photo JSON and overlays of the boxes on request, for debugging.
//!
//! Threads: a lister feeds `jobs` workers, each with its own model set (one ONNX thread each,
//! so the cores are shared by photos rather than by operators); this thread stores results.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use crowdsift_core::{Finding, ImageRecord, Limits, ProgressReporter, Stage};
use crowdsift_ingest::{DecodeParams, Fit, Source, decode, file_stem, sha256_hex};
use crowdsift_ocr::{ModelPlan, Page, ReaderConfig, TextLine};
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::feed::{close_run, count, feed, open_output};
use crate::scan::PipelineError;

/// The PP-OCR model set of models.toml read with unless told otherwise.
pub const OCR_MODELS: &str = "ppocrv5";

/// The parameters of the `ocr` stage: the command's options (flattened into `crowdsift ocr`) and
/// the Python function's keyword arguments (same names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct OcrJob {
    /// Which engine reads which line, in which languages.
    #[command(flatten)]
    #[serde(flatten)]
    pub reader: ReaderConfig,
    /// PP-OCR model set of models.toml: ppocrv5 (PP-OCRv5 mobile) or ppocrv6-small.
    #[arg(long, default_value_t = OCR_MODELS.to_owned())]
    pub models: String,
    /// A photo larger than 1.25 windows of this many pixels is first seen whole, shrunk, then
    /// again at full resolution in windows (at most this size) where that overview saw small
    /// text or traces of it; 0 reads whole photos only.
    #[arg(long, default_value_t = OcrJob::default().tile)]
    pub tile: u32,
    /// Also write DIR/ocr/overlay/<photo>.jpg with the text boxes drawn.
    #[arg(long)]
    pub debug_overlay: bool,
    /// Also write DIR/ocr/<photo>.json, one file per photo (the results are in the store and
    /// ocr_lines.parquet).
    #[arg(long)]
    pub debug_json: bool,
    /// Worker threads, each with its own models [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

impl Default for OcrJob {
    fn default() -> Self {
        OcrJob {
            reader: ReaderConfig::default(),
            models: OCR_MODELS.to_owned(),
            tile: crowdsift_ocr::OcrParams::default().tile.unwrap_or(0),
            debug_overlay: false,
            debug_json: false,
            jobs: crowdsift_core::cores(),
            limits: Limits::default(),
        }
    }
}

impl OcrJob {
    /// The window size large photos are searched in (`None`: whole photos only).
    pub fn tiles(&self) -> Option<u32> {
        (self.tile > 0).then_some(self.tile)
    }

    /// The models of `reg` this job reads with (checksums verified).
    pub fn plan<'r>(&self, reg: &'r crowdsift_models::Registry) -> Result<ModelPlan<'r>, PipelineError> {
        Ok(ModelPlan::new(reg, &self.models, &self.reader)?)
    }
}

#[derive(Debug, Clone)]
pub struct OcrSummary {
    pub engine: String,
    pub listed: u64,
    /// Photos read by this run, and photos whose bytes were read before.
    pub read: u64,
    pub cached: u64,
    /// Text lines in the photos of this source.
    pub lines: u64,
    pub failed: Vec<(String, String)>,
    pub listing_errors: Vec<String>,
    /// `ocr_lines.parquet`: the lines of every photo read into the output folder.
    pub table: PathBuf,
    pub elapsed: Duration,
}

/// The table of text lines written beside findings.parquet.
pub const LINES_TABLE: &str = "ocr_lines.parquet";

/// The languages a manifest gives for a photo: its `lang` column (Tesseract codes separated by
/// `,` or `+`, e.g. `ben,eng`).
fn hint(record: &ImageRecord) -> Option<Vec<String>> {
    let langs = crowdsift_ocr::parse_languages(record.meta.get("lang")?);
    (!langs.is_empty()).then_some(langs)
}

/// Draws each line's quad in red on a copy of the photo.
fn overlay(img: &RgbImage, lines: &[TextLine]) -> RgbImage {
    let mut out = img.clone();
    let thick = (img.width().max(img.height()) / 400).max(1) as i32;
    for l in lines {
        for k in 0..4 {
            let (a, b) = (l.quad[k], l.quad[(k + 1) % 4]);
            for dx in -thick / 2..=thick / 2 {
                for dy in -thick / 2..=thick / 2 {
                    let (ox, oy) = (dx as f32, dy as f32);
                    imageproc::drawing::draw_line_segment_mut(
                        &mut out,
                        (a[0] + ox, a[1] + oy),
                        (b[0] + ox, b[1] + oy),
                        Rgb([255, 0, 0]),
                    );
                }
            }
        }
    }
    out
}

enum Work {
    Read {
        record: ImageRecord,
        key: String,
        sha: String,
        len: u64,
        size: (u32, u32),
        page: Page,
        overlay: Option<RgbImage>,
    },
    Cached {
        record: ImageRecord,
        key: String,
        sha: String,
        len: u64,
    },
    Failed {
        id: String,
        reason: String,
    },
}

/// The `ocr` finding of a photo: how many lines, and their text.
fn finding(id: &str, lines: &[TextLine]) -> Finding {
    let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    Finding {
        image_id: id.to_owned(),
        stage: Stage::Ocr,
        check: "text".into(),
        score: Some(lines.len() as f64),
        threshold: None,
        flagged: false,
        reason: None,
        detail: if text.is_empty() { "no text found".into() } else { text.join(" | ") },
    }
}

/// A page as the store keeps it: `{"lines": […], "unread": […]}`, or the bare list of lines
/// that stores written before unread boxes were kept hold. Anything else is an error that names
/// the photo: a reading that cannot be read back is never taken for a photo without text.
pub(crate) fn parse_page(id: &str, json: &str) -> Result<Page, String> {
    serde_json::from_str(json)
        .or_else(|e| {
            serde_json::from_str::<Vec<TextLine>>(json).map(|lines| Page { lines, unread: Vec::new() }).map_err(|_| e)
        })
        .map_err(|e| format!("{id}: its reading in the store cannot be read ({e}); run ocr again into a new folder"))
}

/// Reads the text of every photo of `source` with the model sets of `plan` into the store in `out`.
pub fn ocr(
    source: &Source,
    out: &Path,
    plan: &ModelPlan,
    job: &OcrJob,
    progress: &dyn ProgressReporter,
) -> Result<OcrSummary, PipelineError> {
    let started = Instant::now();
    // Load every worker's models first, so a missing runtime fails before anything is written.
    let jobs = job.jobs.max(1);
    // Each worker's models at the same time: with Tesseract's packs, a worker's take a second or
    // more of one core.
    let models = std::thread::scope(|s| {
        let loading: Vec<_> = (0..jobs).map(|_| s.spawn(|| plan.load(&job.reader, job.tiles(), 1))).collect();
        loading
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| PipelineError::Invalid(e.to_string()))?;
    let mut store = open_output(out)?;
    let engine = plan.key(job.tiles(), &job.reader);
    let config = serde_json::json!({ "engine": engine, "job": job });
    let run_id = store.begin_run("ocr", &source.describe(), &config)?;
    let done: HashSet<(String, String)> = store.ocr_done_with_prefix(&engine)?;
    let dir = out.join("ocr");
    let overlay_dir = dir.join("overlay");
    for (d, wanted) in [(&dir, job.debug_json), (&overlay_dir, job.debug_overlay)] {
        if wanted {
            std::fs::create_dir_all(d).map_err(|source| PipelineError::Io { path: d.clone(), source })?;
        }
    }
    progress.start("ocr", Some(count(source, |_| false)?));

    let fetcher = source.fetcher();
    let (item_tx, item_rx) = bounded(jobs * 2);
    let (work_tx, work_rx) = bounded::<Work>(jobs * 2);
    let mut summary = OcrSummary {
        engine: engine.clone(),
        listed: 0,
        read: 0,
        cached: 0,
        lines: 0,
        failed: Vec::new(),
        listing_errors: Vec::new(),
        table: out.join(LINES_TABLE),
        elapsed: Duration::ZERO,
    };
    let result = std::thread::scope(|s| -> Result<(), PipelineError> {
        for mut model in models {
            let (rx, tx, done, fetcher, engine) = (item_rx.clone(), work_tx.clone(), &done, &fetcher, &engine);
            s.spawn(move || {
                let dp = DecodeParams { limits: job.limits, fit: Fit::Full };
                for item in rx {
                    let item: crowdsift_ingest::Item = item;
                    let id = item.record.id.clone();
                    let w = match fetcher.fetch(&item.location) {
                        Err(e) => Work::Failed { id, reason: e.to_string() },
                        Ok(bytes) => {
                            let (sha, len) = (sha256_hex(&bytes), bytes.len() as u64);
                            let hint = hint(&item.record);
                            // What is read depends on the photo's languages: they are part of its key.
                            let key = match &hint {
                                Some(h) => format!("{engine}|lang={}", h.join(",")),
                                None => engine.clone(),
                            };
                            if done.contains(&(key.clone(), sha.clone())) {
                                Work::Cached { record: item.record, key, sha, len }
                            } else {
                                match decode(&bytes, &dp) {
                                    Err(e) => Work::Failed { id, reason: e.to_string() },
                                    Ok(d) => match model.read_page(&d.image, hint.as_deref()) {
                                        Err(e) => Work::Failed { id, reason: format!("OCR: {e}") },
                                        Ok(page) => Work::Read {
                                            key,
                                            overlay: job.debug_overlay.then(|| overlay(&d.image, &page.lines)),
                                            size: d.image.dimensions(),
                                            record: item.record,
                                            sha,
                                            len,
                                            page,
                                        },
                                    },
                                }
                            }
                        }
                    };
                    if tx.send(w).is_err() {
                        break;
                    }
                }
            });
        }
        drop((item_rx, work_tx));
        let lister = s.spawn(|| feed(source, item_tx, |_| false));
        for w in work_rx {
            progress.advance(1);
            let (record, key, sha, len, size, page, picture) = match w {
                Work::Failed { id, reason } => {
                    summary.failed.push((id, reason));
                    continue;
                }
                Work::Cached { record, key, sha, len } => {
                    summary.cached += 1;
                    let Some((w, h, json)) = store.ocr(&key, &sha)? else { continue };
                    match parse_page(&record.id, &json) {
                        Ok(page) => (record, key, sha, len, (w, h), page, None),
                        Err(reason) => {
                            summary.failed.push((record.id, reason));
                            continue;
                        }
                    }
                }
                Work::Read { record, key, sha, len, size, page, overlay } => {
                    summary.read += 1;
                    let json = serde_json::to_string(&page).unwrap_or_default();
                    store.put_ocr(&key, &[(sha.clone(), size.0, size.1, json)])?;
                    (record, key, sha, len, size, page, overlay)
                }
            };
            let lines = &page.lines;
            summary.lines += lines.len() as u64;
            let stem = file_stem(&record.id);
            if let Some(p) = picture {
                let path = overlay_dir.join(format!("{stem}.jpg"));
                p.save(&path).map_err(|e| PipelineError::Invalid(format!("{}: {e}", path.display())))?;
            }
            if job.debug_json {
                let doc = serde_json::json!({
                    "id": record.id, "uri": record.uri, "sha256": sha, "engine": key,
                    "width": size.0, "height": size.1, "lines": lines, "unread": page.unread,
                });
                let path = dir.join(format!("{stem}.json"));
                std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap_or_default())
                    .map_err(|source| PipelineError::Io { path: path.clone(), source })?;
            }
            let id = record.id.clone();
            store.register_images(run_id, &[(record, sha.clone(), len)])?;
            store.put_ocr_photo(run_id, &id, &sha, &key, &[finding(&id, lines)])?;
        }
        let listing = lister.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        summary.listed = listing.listed;
        summary.listing_errors = listing.errors;
        Ok(())
    });
    progress.finish();
    let result = result.and_then(|()| export_lines(&store, out).map(drop));
    close_run(&store, run_id, out, result)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A line (or a box not read) of a photo, as a row of [`LINES_TABLE`].
struct LineRow {
    id: String,
    uri: String,
    sha256: String,
    /// Index among the photo's lines read (what personal-data findings refer to); `None` for
    /// boxes not read.
    line: Option<i32>,
    found: TextLine,
}

/// Writes [`LINES_TABLE`] from the readings in the store: one row per line read, and one per box
/// found but not read (`read` false), with the photo's id, uri and SHA-256.
pub fn export_lines(store: &crowdsift_store::Store, out: &Path) -> Result<u64, PipelineError> {
    use arrow_schema::{DataType, Field};
    use crowdsift_report::col;
    let fields = vec![
        col::string_field("id", false),
        col::string_field("uri", false),
        col::string_field("sha256", false),
        Field::new("line", DataType::Int32, true),
        Field::new("read", DataType::Boolean, false),
        col::string_field("text", false),
        Field::new("confidence", DataType::Float64, false),
        col::string_field("script", false),
        col::string_field("engine", false),
        Field::new("turned", DataType::Boolean, false),
        Field::new("handwriting", DataType::Float64, true),
        col::quad_field("quad"),
    ];
    let rows = |p: crowdsift_store::OcrPhoto| -> Result<Vec<LineRow>, PipelineError> {
        let page = parse_page(&p.id, &p.page).map_err(PipelineError::Invalid)?;
        let row = |line: Option<i32>, l: TextLine| LineRow {
            id: p.id.clone(),
            uri: p.uri.clone(),
            sha256: p.sha256.clone(),
            line,
            found: l,
        };
        let read = page.lines.into_iter().enumerate().map(|(i, l)| row(Some(i as i32), l));
        Ok(read.chain(page.unread.into_iter().map(|l| row(None, l))).collect())
    };
    let columns = |r: &[LineRow]| {
        vec![
            col::string(r, |r| Some(&r.id)),
            col::string(r, |r| Some(&r.uri)),
            col::string(r, |r| Some(&r.sha256)),
            col::int(r, |r| r.line),
            col::boolean(r, |r| r.line.is_some()),
            col::string(r, |r| Some(&r.found.text)),
            col::float(r, |r| Some(f64::from(r.found.confidence))),
            col::string(r, |r| Some(&r.found.script)),
            col::string(r, |r| Some(&r.found.engine)),
            col::boolean(r, |r| r.found.turned),
            col::float(r, |r| r.found.handwriting.map(f64::from)),
            col::quad(r, |r| &r.found.quad),
        ]
    };
    crate::feed::export_table(store, out, LINES_TABLE, fields, crowdsift_store::Store::ocr_photos, rows, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_pages_read_back_in_both_shapes_and_garbage_is_an_error() {
        let line = r#"{"quad":[[0,0],[9,0],[9,4],[0,4]],"text":"Tel 0712","confidence":0.9,"turned":false,"engine":"ppocrv5"}"#;
        let page = parse_page("p1", &format!(r#"{{"lines":[{line}],"unread":[{line}]}}"#)).unwrap();
        assert_eq!((page.lines.len(), page.unread.len(), page.lines[0].text.as_str()), (1, 1, "Tel 0712"));
        // Stores written before unread boxes were kept hold the bare list of lines.
        let old = parse_page("p1", &format!("[{line}]")).unwrap();
        assert_eq!((old.lines.len(), old.unread.len()), (1, 0));
        // A reading that cannot be read back is not a photo without text.
        let err = parse_page("p1", r#"{"lines": 3}"#).unwrap_err();
        assert!(err.starts_with("p1: its reading in the store cannot be read"), "{err}");
    }
}
