//! `redact`: release copies of every photo `pii` looked at, in `out/redacted/`, with each region
//! of personal data hidden irreversibly (padded), EXIF/XMP/IPTC/GPS removed and the EXIF
//! orientation baked into the pixels; originals are only read. Per photo a record in the store
//! (written out as `redactions.parquet`) says what was hidden and why, what metadata the source
//! carried, and what the verification found.
//!
//! Verification (on by default): the redacted copy is read again by OCR, the face detector and
//! the QR code reader;
//! personal data found again inside a hidden region (the redaction left it readable) is hidden
//! once more with the new regions, and whatever is still found after that is reported as a
//! `redact_residual` finding for a person to look at.
//!
//! Reads what `pii` found from the store. Re-running skips photos whose record matches the source
//! bytes, findings and settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use crowdsift_core::{Finding, Limits, ProgressReporter, Stage, rng};
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode, file_stem, fit_dimensions, sha256_hex};
use crowdsift_ocr::{ModelPlan, Reader, ReaderConfig};
use crowdsift_pii::face::FaceDetector;
use crowdsift_pii::{Kind, Lexicon, PiiFinding};
use crowdsift_redact::{OutputFormat, Quad, Region, Shape, Style};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::feed::{close_run, export_table, open_results, send_rows};
use crate::pii::load_faces;
use crate::scan::PipelineError;

/// Bumped when the redaction of the same findings would give different pixels.
const METHOD: &str = "redact-2";

/// The parameters of the `redact` stage: the command's options (flattened into `crowdsift redact`)
/// and the Python function's keyword arguments (same names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct RedactJob {
    /// How regions are hidden.
    #[arg(long, value_enum, default_value_t = Style::default())]
    pub style: Style,
    /// JPEG quality of the copies of JPEG photos (other formats are written as lossless PNG).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Read each copy again (OCR, the face detector, the code readers) to check that nothing
    /// hidden can be found in it.
    #[arg(
        long = "no-verify",
        action = clap::ArgAction::SetFalse,
        help = "Do not read the copies again to check that nothing hidden can be found in them"
    )]
    pub verify: bool,
    /// PP-OCR model set of models.toml the copies are read with (as `ocr --models`).
    #[arg(long, default_value_t = crate::ocr::OCR_MODELS.to_owned())]
    pub models: String,
    /// Worker threads, each with its own models [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    /// Also write DIR/redact/<photo>.json, one record per copy (the records are in the store and
    /// redactions.parquet).
    #[arg(long)]
    pub debug_json: bool,
    /// Face detector of models.toml used for verification, and the long side it searches at.
    #[arg(skip = crate::pii::FACE_MODEL.to_owned())]
    #[serde(skip_deserializing)]
    pub faces: String,
    #[arg(skip = crate::pii::FACE_SIDE)]
    #[serde(skip_deserializing)]
    pub face_side: u32,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub reader: ReaderConfig,
    /// OCR window size for large photos, as `ocr` used it.
    #[arg(skip = crowdsift_ocr::OcrParams::default().tile)]
    #[serde(skip_deserializing)]
    pub tile: Option<u32>,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

impl Default for RedactJob {
    fn default() -> Self {
        RedactJob {
            style: Style::Blur,
            quality: 90,
            verify: true,
            models: crate::ocr::OCR_MODELS.to_owned(),
            jobs: crowdsift_core::cores(),
            debug_json: false,
            faces: crate::pii::FACE_MODEL.to_owned(),
            face_side: crate::pii::FACE_SIDE,
            reader: ReaderConfig::default(),
            tile: crowdsift_ocr::OcrParams::default().tile,
            limits: Limits::default(),
        }
    }
}

impl RedactJob {
    /// The OCR models of `reg` (checksums verified) that read the copies again; `None` when
    /// copies are not verified.
    pub fn plan<'r>(&self, reg: &'r crowdsift_models::Registry) -> Result<Option<ModelPlan<'r>>, PipelineError> {
        if !self.verify {
            return Ok(None);
        }
        Ok(Some(ModelPlan::new(reg, &self.models, &self.reader)?))
    }
}

#[derive(Debug, Clone)]
pub struct RedactSummary {
    /// Copies written by this run, and copies already up to date.
    pub written: u64,
    pub cached: u64,
    /// Regions hidden in the copies written.
    pub regions: u64,
    /// Copies in which verification still found personal data.
    pub residual: Vec<String>,
    pub failed: Vec<(String, String)>,
    /// The folder of the copies, and `redactions.parquet`: one row per copy in the output folder.
    pub dir: PathBuf,
    pub table: PathBuf,
    /// How regions were hidden.
    pub style: Style,
    pub elapsed: Duration,
}

/// The table of release copies written beside findings.parquet.
pub const REDACTIONS_TABLE: &str = "redactions.parquet";

/// What `pii` found in a photo.
struct PiiDoc {
    id: String,
    uri: String,
    sha256: String,
    country: Option<String>,
    findings: Vec<PiiFinding>,
    /// The photo's languages from its manifest row (read again in them).
    langs: Option<Vec<String>>,
}

impl PiiDoc {
    fn new(p: crowdsift_store::PiiPhoto) -> Result<PiiDoc, String> {
        let findings = serde_json::from_str(&p.findings).map_err(|e| format!("its findings in the store: {e}"))?;
        let meta: BTreeMap<String, String> = serde_json::from_str(&p.meta).unwrap_or_default();
        let langs = meta.get("lang").map(|l| crowdsift_ocr::parse_languages(l)).filter(|l| !l.is_empty());
        Ok(PiiDoc { id: p.id, uri: p.uri, sha256: p.sha256, country: p.country, findings, langs })
    }
}

/// A hidden region, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Hidden {
    kind: Kind,
    /// The region found, and the padded region whose pixels were replaced.
    quad: Quad,
    padded: Quad,
    evidence: String,
    masked: String,
    /// 0: found by `pii`; 1: found again in the copy by verification.
    round: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    id: String,
    uri: String,
    source_sha256: String,
    key: String,
    output: String,
    output_sha256: String,
    style: Style,
    format: OutputFormat,
    width: u32,
    height: u32,
    /// EXIF orientation applied to the pixels (1: none).
    orientation: u8,
    /// Metadata blocks the source had, none of which the copy has.
    metadata_removed: Vec<String>,
    hidden: Vec<Hidden>,
    /// Verification: whether it ran, lines read in the copy, findings left after the last round.
    verified: bool,
    lines_read: usize,
    residual: Vec<PiiFinding>,
}

/// Models of one worker.
struct Verifier {
    reader: Reader,
    faces: FaceDetector,
    lexicon: Lexicon,
}

impl Verifier {
    /// Personal data found in `img` that lies mostly inside one of `hidden` (the rest of the photo
    /// was searched by `pii` already), and how many text lines were read.
    ///
    /// Only what was hidden is looked for again: text when text was hidden, faces when faces,
    /// codes when codes. A leading word whose value reads as fewer than three letters or digits
    /// (the blur read as `-`) has nothing readable left.
    fn residual(
        &mut self,
        img: &RgbImage,
        hidden: &[Hidden],
        doc: &PiiDoc,
    ) -> Result<(Vec<PiiFinding>, usize), String> {
        let has = |k: &[Kind]| hidden.iter().any(|h| k.contains(&h.kind));
        let (text, faces, codes) = (
            hidden.iter().any(|h| !matches!(h.kind, Kind::Face | Kind::QrOrBarcode)),
            has(&[Kind::Face]),
            has(&[Kind::QrOrBarcode]),
        );
        let mut found = Vec::new();
        let mut lines_read = 0;
        if text {
            let lines =
                self.reader.read_hinted(img, doc.langs.as_deref()).map_err(|e| format!("verification OCR: {e}"))?;
            lines_read = lines.len();
            found = crowdsift_pii::find(&lines, &self.lexicon, doc.country.as_deref());
            found.retain(|f| f.masked.chars().filter(|c| c.is_alphanumeric() || *c == '*').count() >= 3);
        }
        if faces || codes {
            // At the size `pii` searched them.
            let (w, h) = fit_dimensions(img.width(), img.height(), Fit::LongSide(1280));
            let small = image::imageops::thumbnail(img, w.max(1), h.max(1));
            let s = img.width() as f32 / small.width().max(1) as f32;
            if codes {
                crowdsift_pii::add_codes(&mut found, &image::imageops::grayscale(&small), s);
            }
            if faces {
                for f in self.faces.detect(&small).map_err(|e| format!("verification faces: {e}"))? {
                    let mut face = PiiFinding::face(&f);
                    face.quad = face.quad.map(|[x, y]| [x * s, y * s]);
                    found.push(face);
                }
            }
        }
        found.retain(|f| hidden.iter().any(|h| covered(&f.quad, &h.padded) >= 0.3));
        Ok((found, lines_read))
    }
}

/// The share of `q`'s bounding box that lies within `h`'s bounding box.
fn covered(q: &Quad, h: &Quad) -> f32 {
    let bb = |q: &Quad| {
        let xs = q.map(|p| p[0]);
        let ys = q.map(|p| p[1]);
        let lo = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min);
        let hi = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max);
        [lo(xs), lo(ys), hi(xs), hi(ys)]
    };
    let (a, b) = (bb(q), bb(h));
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = (a[2] - a[0]).max(1.0) * (a[3] - a[1]).max(1.0);
    iw * ih / area
}

fn region(f: &PiiFinding) -> Region {
    // Faces and codes are boxes around an object; the rest are lines of text.
    let object = matches!(f.kind, Kind::Face | Kind::QrOrBarcode);
    Region { quad: f.quad, shape: if object { Shape::Object } else { Shape::Text } }
}

/// The cache key of a photo's copy: source bytes, findings, settings and method.
fn key(doc: &PiiDoc, job: &RedactJob) -> String {
    let findings = serde_json::to_string(&doc.findings).unwrap_or_default();
    let settings = format!("{METHOD}|{}|q{}|verify={}|{}", job.style.as_str(), job.quality, job.verify, doc.sha256);
    sha256_hex(format!("{settings}|{findings}").as_bytes())
}

enum Work {
    Done { record: Box<Record>, bytes: Vec<u8> },
    Cached,
    Failed { id: String, reason: String },
}

/// Makes one photo's release copy.
fn process(
    doc: PiiDoc,
    key: String,
    job: &RedactJob,
    fetcher: &Fetcher,
    verifier: Option<&mut Verifier>,
) -> Result<(Record, Vec<u8>), String> {
    let bytes = fetcher.fetch(&Location::from_uri(&doc.uri)).map_err(|e| e.to_string())?;
    if sha256_hex(&bytes) != doc.sha256 {
        return Err(format!("{} changed since `pii` looked at it; run ocr and pii again", doc.uri));
    }
    let decoded = decode(&bytes, &DecodeParams { limits: job.limits, fit: Fit::Full }).map_err(|e| e.to_string())?;
    let meta = crowdsift_redact::inspect(&bytes);
    let mut img = decoded.image;
    let seed = rng::seed_for(&doc.sha256, 0);
    let regions: Vec<Region> = doc.findings.iter().map(region).collect();
    let padded = crowdsift_redact::redact(&mut img, &regions, job.style, seed);
    let mut hidden: Vec<Hidden> = doc
        .findings
        .iter()
        .zip(&padded)
        .map(|(f, p)| Hidden {
            kind: f.kind,
            quad: f.quad,
            padded: *p,
            evidence: f.evidence.clone(),
            masked: f.masked.clone(),
            round: 0,
        })
        .collect();
    let (mut residual, mut lines_read) = (Vec::new(), 0);
    let verified = job.verify && !hidden.is_empty();
    if let (true, Some(v)) = (verified, verifier) {
        // Read the copy again; what is found again is hidden once more and the copy read again.
        (residual, lines_read) = v.residual(&img, &hidden, &doc)?;
        if !residual.is_empty() {
            let regions: Vec<Region> = residual.iter().map(region).collect();
            let padded = crowdsift_redact::redact(&mut img, &regions, job.style, rng::seed_for(&doc.sha256, 1));
            hidden.extend(residual.iter().zip(&padded).map(|(f, p)| Hidden {
                kind: f.kind,
                quad: f.quad,
                padded: *p,
                evidence: format!("readable after redaction: {}", f.evidence),
                masked: f.masked.clone(),
                round: 1,
            }));
            (residual, lines_read) = v.residual(&img, &hidden, &doc)?;
        }
    }
    let format = OutputFormat::for_source(decoded.format, job.quality);
    let out = crowdsift_redact::encode(&img, format, meta.icc.as_deref()).map_err(|e| e.to_string())?;
    let record = Record {
        output: format!("redacted/{}.{}", file_stem(&doc.id), format.extension()),
        output_sha256: sha256_hex(&out.bytes),
        id: doc.id,
        uri: doc.uri,
        source_sha256: doc.sha256,
        key,
        style: job.style,
        format,
        width: img.width(),
        height: img.height(),
        orientation: decoded.orientation,
        metadata_removed: meta.removed().into_iter().map(String::from).collect(),
        hidden,
        verified,
        lines_read,
        residual,
    };
    Ok((record, out.bytes))
}

/// The findings rows of one copy: `redacted` (regions hidden, metadata removed) and, when
/// verification still found personal data, a flagged `redact_residual`.
fn rows(r: &Record) -> Vec<Finding> {
    let row = |check: &str, score: f64, flagged: bool, detail: String| {
        Finding::scored(&r.id, Stage::Redact, check, score, flagged, detail)
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for h in &r.hidden {
        *kinds.entry(h.kind.as_str()).or_default() += 1;
    }
    let what: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    let removed = if r.metadata_removed.is_empty() { "none".to_owned() } else { r.metadata_removed.join(", ") };
    let mut out = vec![row(
        "redacted",
        r.hidden.len() as f64,
        false,
        format!(
            "{}: {}; metadata removed: {removed}",
            r.output,
            if what.is_empty() { "nothing hidden".into() } else { what.join(", ") }
        ),
    )];
    if !r.residual.is_empty() {
        let detail =
            r.residual.iter().map(|f| format!("{} ({})", f.kind.as_str(), f.evidence)).collect::<Vec<_>>().join(" | ");
        out.push(row("redact_residual", r.residual.len() as f64, true, detail));
    }
    out
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| PipelineError::Io { path: path.to_owned(), source })
}

/// Writes a release copy of every photo `pii` looked at in `out`. `plan` is the OCR model set
/// for verification (unused when `job.verify` is off).
pub fn redact(
    out: &Path,
    job: &RedactJob,
    plan: Option<&ModelPlan>,
    progress: &dyn ProgressReporter,
) -> Result<RedactSummary, PipelineError> {
    let started = Instant::now();
    let (mut store, photos) = open_results(out, Stage::Pii, || {
        format!("no personal-data results in {}: run `crowdsift pii {}` first", out.display(), out.display())
    })?;
    let jobs = job.jobs.max(1);
    let mut verifiers = Vec::new();
    if job.verify {
        let plan = plan.ok_or_else(|| PipelineError::Invalid("verification needs an OCR model set".into()))?;
        for _ in 0..jobs {
            verifiers.push(Some(Verifier {
                reader: plan.load(&job.reader, job.tile, 1).map_err(|e| PipelineError::Invalid(e.to_string()))?,
                faces: load_faces(&job.faces, 1, job.face_side)?,
                lexicon: Lexicon::builtin(),
            }));
        }
    } else {
        verifiers.resize_with(jobs, || None);
    }
    let copies = out.join("redacted");
    let records = out.join("redact");
    for (d, wanted) in [(&copies, true), (&records, job.debug_json)] {
        if wanted {
            std::fs::create_dir_all(d).map_err(|source| PipelineError::Io { path: d.clone(), source })?;
        }
    }
    let run_id =
        store.begin_run("redact", &out.display().to_string(), &serde_json::json!({ "job": job, "method": METHOD }))?;
    let mut summary = RedactSummary {
        written: 0,
        cached: 0,
        regions: 0,
        residual: Vec::new(),
        failed: Vec::new(),
        dir: copies.clone(),
        table: out.join(REDACTIONS_TABLE),
        style: job.style,
        elapsed: Duration::ZERO,
    };
    progress.start("redact", Some(photos));
    let fetcher = Fetcher::new(job.limits);
    // Each photo with the copy made of it before, if any.
    type Item = (crowdsift_store::PiiPhoto, Option<crowdsift_store::Redaction>);
    let (item_tx, item_rx) = bounded::<Item>(jobs * 2);
    let (work_tx, work_rx) = bounded::<Work>(jobs * 2);
    let result = std::thread::scope(|s| -> Result<(), PipelineError> {
        for mut verifier in verifiers {
            let (rx, tx, fetcher) = (item_rx.clone(), work_tx.clone(), &fetcher);
            s.spawn(move || {
                for (photo, previous) in rx {
                    let id = photo.id.clone();
                    let w = match PiiDoc::new(photo) {
                        Err(reason) => Work::Failed { id, reason },
                        Ok(doc) => {
                            let key = key(&doc, job);
                            let up_to_date = previous.is_some_and(|r| {
                                r.key == key
                                    && std::fs::read(out.join(&r.output))
                                        .is_ok_and(|b| sha256_hex(&b) == r.output_sha256)
                            });
                            if up_to_date {
                                Work::Cached
                            } else {
                                match process(doc, key, job, fetcher, verifier.as_mut()) {
                                    Ok((record, bytes)) => Work::Done { record: Box::new(record), bytes },
                                    Err(reason) => Work::Failed { id, reason },
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
        let with_copy = |store: &crowdsift_store::Store, p: crowdsift_store::PiiPhoto| -> Result<Item, PipelineError> {
            let previous = store.redaction(&p.id)?;
            Ok((p, previous))
        };
        let lister = s.spawn(move || send_rows(out, crowdsift_store::Store::pii_photos, with_copy, item_tx));
        for w in work_rx {
            progress.advance(1);
            match w {
                Work::Failed { id, reason } => summary.failed.push((id, reason)),
                Work::Cached => summary.cached += 1,
                Work::Done { record, bytes } => {
                    write_atomic(&out.join(&record.output), &bytes)?;
                    if job.debug_json {
                        let pretty = serde_json::to_string_pretty(&record).unwrap_or_default();
                        write_atomic(&records.join(format!("{}.json", file_stem(&record.id))), pretty.as_bytes())?;
                    }
                    let row = crowdsift_store::Redaction {
                        id: record.id.clone(),
                        uri: record.uri.clone(),
                        source_sha256: record.source_sha256.clone(),
                        key: record.key.clone(),
                        output: record.output.clone(),
                        output_sha256: record.output_sha256.clone(),
                        record: serde_json::to_string(&record).unwrap_or_default(),
                    };
                    store.put_redaction(run_id, &row, &rows(&record))?;
                    summary.written += 1;
                    summary.regions += record.hidden.len() as u64;
                    if !record.residual.is_empty() {
                        summary.residual.push(record.id.clone());
                    }
                }
            }
        }
        lister.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    progress.finish();
    let result = result.and_then(|()| export_redactions(&store, out).map(drop));
    close_run(&store, run_id, out, result)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Writes [`REDACTIONS_TABLE`] from the records in the store: one row per copy with id, uri,
/// source_sha256, copy (its path relative to the output folder), copy_sha256, style, format,
/// width, height, orientation, hidden (regions), kinds hidden, metadata_removed, verified,
/// lines_read and residual (kinds still found when the copy was read again).
pub fn export_redactions(store: &crowdsift_store::Store, out: &Path) -> Result<u64, PipelineError> {
    use arrow_schema::{DataType, Field};
    use crowdsift_report::col;
    let s = col::string_field;
    let fields = vec![
        s("id", false),
        s("uri", false),
        s("source_sha256", false),
        s("copy", false),
        s("copy_sha256", false),
        s("style", false),
        s("format", false),
        Field::new("width", DataType::UInt32, false),
        Field::new("height", DataType::UInt32, false),
        Field::new("orientation", DataType::UInt32, false),
        Field::new("hidden", DataType::UInt32, false),
        col::strings_field("kinds"),
        col::strings_field("metadata_removed"),
        Field::new("verified", DataType::Boolean, false),
        Field::new("lines_read", DataType::UInt32, false),
        col::strings_field("residual"),
    ];
    let records = |r: crowdsift_store::Redaction| -> Result<Vec<Record>, PipelineError> {
        let record = serde_json::from_str::<Record>(&r.record).map_err(|e| {
            PipelineError::Invalid(format!("{}: its redaction record cannot be read ({e}); run redact again", r.id))
        })?;
        Ok(vec![record])
    };
    let kinds = |v: &mut Vec<&'static str>| {
        v.sort_unstable();
        v.dedup();
    };
    let columns = |r: &[Record]| {
        vec![
            col::string(r, |r| Some(&r.id)),
            col::string(r, |r| Some(&r.uri)),
            col::string(r, |r| Some(&r.source_sha256)),
            col::string(r, |r| Some(&r.output)),
            col::string(r, |r| Some(&r.output_sha256)),
            col::string(r, |r| Some(r.style.as_str())),
            col::string(r, |r| Some(r.format.extension())),
            col::uint(r, |r| r.width),
            col::uint(r, |r| r.height),
            col::uint(r, |r| u32::from(r.orientation)),
            col::uint(r, |r| r.hidden.len() as u32),
            col::strings(r, |r| {
                let mut v: Vec<&str> = r.hidden.iter().map(|h| h.kind.as_str()).collect();
                kinds(&mut v);
                v
            }),
            col::strings(r, |r| r.metadata_removed.iter().map(String::as_str).collect()),
            col::boolean(r, |r| r.verified),
            col::uint(r, |r| r.lines_read as u32),
            col::strings(r, |r| {
                let mut v: Vec<&str> = r.residual.iter().map(|f| f.kind.as_str()).collect();
                kinds(&mut v);
                v
            }),
        ]
    };
    export_table(store, out, REDACTIONS_TABLE, fields, crowdsift_store::Store::redactions, records, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_is_the_share_of_the_finding_inside_the_hidden_box() {
        let q = |x0: f32, y0: f32, x1: f32, y1: f32| [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        assert_eq!(covered(&q(0.0, 0.0, 10.0, 10.0), &q(0.0, 0.0, 20.0, 20.0)), 1.0);
        assert_eq!(covered(&q(0.0, 0.0, 10.0, 10.0), &q(5.0, 0.0, 20.0, 20.0)), 0.5);
        assert_eq!(covered(&q(0.0, 0.0, 10.0, 10.0), &q(30.0, 30.0, 40.0, 40.0)), 0.0);
    }
}
