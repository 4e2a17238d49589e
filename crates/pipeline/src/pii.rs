//! `pii`: personal data in the text `ocr` read, per photo: each finding's kind, region, evidence,
//! score and masked value, and why a person must see the photo before release, recorded in the
//! store (what `redact` reads) with findings of stage `pii` (one `pii` row per photo, one row per
//! kind found), and written out as `pii.parquet` (one row per finding) and `pii_held.parquet` (one
//! row per reason a photo is held).
//!
//! Reads what the last `ocr` run read of each photo from the store; the photo's country comes
//! from its manifest's `country` column (ISO 3166 alpha-2), else `--country`. Faces: the photo is
//! read again from its uri and searched by the face detector of models.toml.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use crowdsift_core::{Finding, Limits, ProgressReporter, Stage};
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode, file_stem, sha256_hex};
use crowdsift_ocr::TextLine;
use crowdsift_pii::face::FaceDetector;
use crowdsift_pii::patterns::Regions;
use crowdsift_pii::safety::{self, Assessment, SafetyParams};
use crowdsift_pii::{Kind, Lexicon, PiiFinding};
use serde::{Deserialize, Serialize};

use crate::feed::{close_run, export_table, open_results, send_rows};
use crate::scan::PipelineError;

/// The parameters of the `pii` stage: the command's options (flattened into `crowdsift pii`) and
/// the Python function's keyword arguments (same names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct PiiJob {
    /// Country of photos whose manifest row has no `country` column (ISO 3166 alpha-2, e.g. KE):
    /// phone numbers written without their country code are validated for it.
    #[arg(long)]
    pub country: Option<String>,
    /// More leading words: a TOML file shaped like crates/pii/data/lexicon.toml.
    #[arg(long)]
    pub lexicon: Option<PathBuf>,
    /// Countries whose national phone numbers are recognised when written without a country
    /// code and the photo's own country is not known (ISO 3166 alpha-2, comma-separated)
    /// [default: the survey countries KE,TZ,UG,NG,GH,SN,FR,MX,CO,BR,ID,VN,PH,IN,PK,BD,SA].
    #[arg(long, value_delimiter = ',')]
    pub phone_regions: Option<Vec<String>>,
    #[command(flatten)]
    #[serde(flatten)]
    pub safety: SafetyParams,
    /// Search the photos for faces ([`FACE_MODEL`]).
    #[arg(long = "no-faces", action = clap::ArgAction::SetFalse, help = "Do not search the photos for faces (CenterFace)")]
    pub faces: bool,
    /// Long side, in pixels, photos are searched for faces at (the detector finds faces down to
    /// about 10 px there; time grows with the square).
    #[arg(long, default_value_t = FACE_SIDE)]
    pub face_side: u32,
    /// Worker threads, each with its own face detector [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    /// Also write DIR/pii/<photo>.json, one file per photo (the results are in the store,
    /// pii.parquet and pii_held.parquet).
    #[arg(long)]
    pub debug_json: bool,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

impl Default for PiiJob {
    fn default() -> Self {
        PiiJob {
            country: None,
            lexicon: None,
            phone_regions: None,
            safety: SafetyParams::default(),
            faces: true,
            face_side: FACE_SIDE,
            jobs: crowdsift_core::cores(),
            debug_json: false,
            limits: Limits::default(),
        }
    }
}

/// The face detector of models.toml the `pii` and `redact` stages search photos with.
pub const FACE_MODEL: &str = "centerface";

#[derive(Debug, Clone)]
pub struct PiiSummary {
    pub photos: u64,
    pub with_pii: u64,
    pub by_kind: BTreeMap<Kind, u64>,
    /// Photos whose text needs a person before release, and how many by check.
    pub needs_person: u64,
    pub by_doubt: BTreeMap<&'static str, u64>,
    /// Photos whose reading could not be used or searched in full, with the reason.
    pub failed: Vec<(String, String)>,
    /// `pii.parquet`: the findings of every photo looked at in the output folder.
    pub table: PathBuf,
    pub elapsed: Duration,
}

/// The table of personal-data findings, and of the reasons photos are held for a person.
pub const PII_TABLE: &str = "pii.parquet";
pub const HELD_TABLE: &str = "pii_held.parquet";

/// The default long side photos are searched for faces at.
pub const FACE_SIDE: u32 = 960;

/// The face detector `name` of models.toml (checksum verified), with `threads` ONNX threads,
/// searching photos at `side` pixels on their long side.
pub(crate) fn load_faces(name: &str, threads: usize, side: u32) -> Result<FaceDetector, PipelineError> {
    let reg = crowdsift_models::Registry::discover()?;
    let det =
        FaceDetector::load(reg.verified_face(name)?, threads).map_err(|e| PipelineError::Invalid(e.to_string()))?;
    Ok(det.with_max_side(side))
}

/// What `ocr` read in a photo (the fields this stage needs).
struct OcrDoc {
    id: String,
    uri: String,
    sha256: String,
    lines: Vec<TextLine>,
    /// Boxes found but not read.
    unread: Vec<TextLine>,
}

/// The findings rows of one photo: a `pii` row (how many regions), one per kind, and the release
/// rule's checks: `handwriting` (the most likely handwritten line) and `low_confidence_text` (the
/// least confident line not hidden) whenever the photo has text, `unread_text` and
/// `unclassified_text` when flagged.
fn rows(id: &str, found: &[PiiFinding], a: &Assessment, p: &SafetyParams) -> Vec<Finding> {
    let row = |check: &str, score: f64, flagged: bool, detail: String| {
        Finding::scored(id, Stage::Pii, check, score, flagged, detail)
    };
    let mut kinds: BTreeMap<Kind, Vec<&PiiFinding>> = BTreeMap::new();
    for f in found {
        kinds.entry(f.kind).or_default().push(f);
    }
    let summary = if found.is_empty() {
        "no personal data found".to_owned()
    } else {
        kinds.iter().map(|(k, v)| format!("{} ×{}", k.as_str(), v.len())).collect::<Vec<_>>().join(", ")
    };
    let mut out = vec![row("pii", found.len() as f64, !found.is_empty(), summary)];
    for (k, v) in &kinds {
        let best = v.iter().map(|f| f.score).fold(0f32, f32::max);
        let detail = v.iter().map(|f| format!("{} ({})", f.masked, f.evidence)).collect::<Vec<_>>().join(" | ");
        out.push(row(k.as_str(), f64::from(best), true, detail));
    }
    let doubts = |check: &str| a.of(check).map(|d| d.detail.clone()).collect::<Vec<_>>();
    let thresholded = |check: &str, score: f32, threshold: f32, flagged: bool, none: &str| {
        let d = doubts(check);
        let detail = if d.is_empty() { none.to_owned() } else { d.join(" | ") };
        Finding { threshold: Some(f64::from(threshold)), ..row(check, f64::from(score), flagged, detail) }
    };
    if let Some(h) = a.handwriting {
        out.push(thresholded("handwriting", h, p.handwriting, h >= p.handwriting, "typed text only"));
    }
    if let Some(c) = a.min_confidence {
        let none = "every line not hidden read with good confidence";
        out.push(thresholded("low_confidence_text", c, p.min_confidence, c < p.min_confidence, none));
    }
    for check in ["unread_text", "unclassified_text"] {
        let d = doubts(check);
        if !d.is_empty() {
            out.push(row(check, d.len() as f64, true, d.join(" | ")));
        }
    }
    out
}

/// One photo's result, from a worker to the writer.
enum Work {
    Done { doc: OcrDoc, country: Option<String>, found: Vec<PiiFinding>, assessment: Assessment, problems: Vec<String> },
    Failed { id: String, reason: String },
}

/// What one worker needs.
struct Searcher<'a> {
    job: &'a PiiJob,
    lexicon: &'a Lexicon,
    fetcher: &'a Fetcher,
    faces: Option<FaceDetector>,
}

impl Searcher<'_> {
    fn search(&mut self, photo: crowdsift_store::OcrPhoto) -> Work {
        let page = match crate::ocr::parse_page(&photo.id, &photo.page) {
            Ok(p) => p,
            Err(reason) => return Work::Failed { id: photo.id, reason },
        };
        let doc = OcrDoc { id: photo.id, uri: photo.uri, sha256: photo.sha256, lines: page.lines, unread: page.unread };
        let meta: BTreeMap<String, String> = serde_json::from_str(&photo.meta).unwrap_or_default();
        let country = meta.get("country").filter(|c| c.len() == 2).cloned().or_else(|| self.job.country.clone());
        let mut found = crowdsift_pii::find(&doc.lines, self.lexicon, country.as_deref());
        let mut problems = Vec::new();
        // The photo again, at most 1280 px on its long side (QR codes; the face detector scales
        // further down to its working size), regions mapped back to full-resolution pixels. Boxes
        // from the text and from the picture must describe the same picture.
        let params = DecodeParams { limits: self.job.limits, fit: Fit::LongSide(1280) };
        let photo = self.fetcher.fetch(&Location::from_uri(&doc.uri)).map_err(|e| e.to_string()).and_then(|bytes| {
            if sha256_hex(&bytes) != doc.sha256 {
                return Err(format!("{} changed since `ocr` read it; run ocr again", doc.uri));
            }
            decode(&bytes, &params).map_err(|e| e.to_string())
        });
        let mut codes = Vec::new();
        match photo {
            Err(e) => problems.push(format!("not searched for faces, QR codes and barcodes: {e}")),
            Ok(d) => {
                let s = d.width as f32 / d.image.width().max(1) as f32;
                codes = crowdsift_pii::add_codes(&mut found, &image::imageops::grayscale(&d.image), s);
                if let Some(det) = &mut self.faces {
                    match det.detect(&d.image) {
                        Err(e) => problems.push(format!("faces not searched: {e}")),
                        Ok(fs) => found.extend(fs.iter().map(|f| {
                            let mut face = PiiFinding::face(f);
                            face.quad = face.quad.map(|[x, y]| [x * s, y * s]);
                            face
                        })),
                    }
                }
            }
        }
        let assessment = safety::assess(&doc.lines, &doc.unread, &found, &codes, &self.job.safety);
        Work::Done { doc, country, found, assessment, problems }
    }
}

/// Finds the personal data in the text of every photo `ocr` read into `out`.
///
/// Threads: `jobs` workers (each with its own face detector, one ONNX thread each) search the
/// photos; this thread writes the results.
pub fn pii(out: &Path, job: &PiiJob, progress: &dyn ProgressReporter) -> Result<PiiSummary, PipelineError> {
    let started = Instant::now();
    let mut lexicon = match &job.lexicon {
        Some(p) => Lexicon::with_file(p).map_err(|e| PipelineError::Invalid(e.to_string()))?,
        None => Lexicon::builtin(),
    };
    if let Some(r) = &job.phone_regions {
        lexicon.regions = Regions::parse(r).map_err(PipelineError::Invalid)?;
    }
    let jobs = job.jobs.max(1);
    let mut detectors = Vec::new();
    for _ in 0..jobs {
        detectors.push(job.faces.then(|| load_faces(FACE_MODEL, 1, job.face_side)).transpose()?);
    }
    let fetcher = Fetcher::new(job.limits);
    let (mut store, photos) = open_results(out, Stage::Ocr, || {
        format!(
            "no OCR results in {}: run `crowdsift ocr SRC --out {}` first (photos read before are not read again)",
            out.display(),
            out.display()
        )
    })?;
    let run_id = store.begin_run("pii", &out.display().to_string(), &serde_json::json!({ "job": job }))?;
    let dir = out.join("pii");
    if job.debug_json {
        std::fs::create_dir_all(&dir).map_err(|source| PipelineError::Io { path: dir.clone(), source })?;
    }
    let mut summary = PiiSummary {
        photos: 0,
        with_pii: 0,
        by_kind: BTreeMap::new(),
        needs_person: 0,
        by_doubt: BTreeMap::new(),
        failed: Vec::new(),
        table: out.join(PII_TABLE),
        elapsed: Duration::ZERO,
    };
    progress.start("pii", Some(photos));
    let (photo_tx, photo_rx) = bounded::<crowdsift_store::OcrPhoto>(jobs * 2);
    let (work_tx, work_rx) = bounded::<Work>(jobs * 2);
    let result = std::thread::scope(|s| -> Result<(), PipelineError> {
        for faces in detectors {
            let (rx, tx) = (photo_rx.clone(), work_tx.clone());
            let mut searcher = Searcher { job, lexicon: &lexicon, fetcher: &fetcher, faces };
            s.spawn(move || {
                for photo in rx {
                    if tx.send(searcher.search(photo)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((photo_rx, work_tx));
        let lister = s.spawn(move || send_rows(out, crowdsift_store::Store::ocr_photos, |_, p| Ok(p), photo_tx));
        for w in work_rx {
            progress.advance(1);
            let (doc, country, found, assessment, problems) = match w {
                Work::Failed { id, reason } => {
                    summary.failed.push((id, reason));
                    continue;
                }
                Work::Done { doc, country, found, assessment, problems } => (doc, country, found, assessment, problems),
            };
            summary.needs_person += u64::from(assessment.needs_person());
            let mut checks: Vec<&'static str> = assessment.doubts.iter().map(|d| d.check).collect();
            checks.sort_unstable();
            checks.dedup();
            for c in checks {
                *summary.by_doubt.entry(c).or_default() += 1;
            }
            summary.failed.extend(problems.into_iter().map(|p| (doc.id.clone(), p)));
            summary.photos += 1;
            summary.with_pii += u64::from(!found.is_empty());
            for f in &found {
                *summary.by_kind.entry(f.kind).or_default() += 1;
            }
            if job.debug_json {
                let record = serde_json::json!({
                    "id": doc.id, "uri": doc.uri, "sha256": doc.sha256, "country": country, "findings": found,
                    "needs_person": assessment.doubts,
                });
                let target = dir.join(format!("{}.json", file_stem(&doc.id)));
                std::fs::write(&target, serde_json::to_string_pretty(&record).unwrap_or_default())
                    .map_err(|source| PipelineError::Io { path: target.clone(), source })?;
            }
            let row = crowdsift_store::PiiPhoto {
                findings: serde_json::to_string(&found).unwrap_or_else(|_| "[]".into()),
                held: serde_json::to_string(&assessment.doubts).unwrap_or_else(|_| "[]".into()),
                id: doc.id,
                uri: doc.uri,
                meta: String::new(),
                sha256: doc.sha256,
                country,
            };
            store.put_pii_photo(run_id, &row, &rows(&row.id, &found, &assessment, &job.safety))?;
        }
        lister.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    progress.finish();
    let result = result.and_then(|()| export_pii(&store, out));
    close_run(&store, run_id, out, result)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A reason a photo is held for a person, as stored (`Doubt` with an owned check).
#[derive(Deserialize)]
struct Held {
    check: String,
    detail: String,
}

/// A finding of a photo, as a row of [`PII_TABLE`].
struct FindingRow {
    id: String,
    uri: String,
    sha256: String,
    country: Option<String>,
    found: PiiFinding,
}

/// Writes [`PII_TABLE`] (one row per finding: id, uri, sha256, country, kind, line, masked,
/// evidence, score, quad) and [`HELD_TABLE`] (one row per reason a photo is held: id, uri,
/// check, detail) from the store.
pub fn export_pii(store: &crowdsift_store::Store, out: &Path) -> Result<(), PipelineError> {
    use arrow_schema::{DataType, Field};
    use crowdsift_report::col;
    let s = col::string_field;
    let fields = vec![
        s("id", false),
        s("uri", false),
        s("sha256", false),
        s("country", true),
        s("kind", false),
        Field::new("line", DataType::Int32, true),
        s("masked", false),
        s("evidence", false),
        Field::new("score", DataType::Float64, false),
        col::quad_field("quad"),
    ];
    let unreadable = |id: &str, e: serde_json::Error| {
        PipelineError::Invalid(format!("{id}: its personal data in the store cannot be read ({e}); run pii again"))
    };
    let findings = |p: crowdsift_store::PiiPhoto| -> Result<Vec<FindingRow>, PipelineError> {
        let found: Vec<PiiFinding> = serde_json::from_str(&p.findings).map_err(|e| unreadable(&p.id, e))?;
        Ok(found
            .into_iter()
            .map(|found| FindingRow {
                id: p.id.clone(),
                uri: p.uri.clone(),
                sha256: p.sha256.clone(),
                country: p.country.clone(),
                found,
            })
            .collect())
    };
    let columns = |r: &[FindingRow]| {
        vec![
            col::string(r, |r| Some(&r.id)),
            col::string(r, |r| Some(&r.uri)),
            col::string(r, |r| Some(&r.sha256)),
            col::string(r, |r| r.country.as_deref()),
            col::string(r, |r| Some(r.found.kind.as_str())),
            col::int(r, |r| r.found.line.map(|l| l as i32)),
            col::string(r, |r| Some(&r.found.masked)),
            col::string(r, |r| Some(&r.found.evidence)),
            col::float(r, |r| Some(f64::from(r.found.score))),
            col::quad(r, |r| &r.found.quad),
        ]
    };
    export_table(store, out, PII_TABLE, fields, crowdsift_store::Store::pii_photos, findings, columns)?;

    let fields = vec![s("id", false), s("uri", false), s("check", false), s("detail", false)];
    let held = |p: crowdsift_store::PiiPhoto| -> Result<Vec<(String, String, Held)>, PipelineError> {
        let held: Vec<Held> = serde_json::from_str(&p.held).map_err(|e| unreadable(&p.id, e))?;
        Ok(held.into_iter().map(|h| (p.id.clone(), p.uri.clone(), h)).collect())
    };
    let columns = |r: &[(String, String, Held)]| {
        vec![
            col::string(r, |r| Some(&r.0)),
            col::string(r, |r| Some(&r.1)),
            col::string(r, |r| Some(&r.2.check)),
            col::string(r, |r| Some(&r.2.detail)),
        ]
    };
    export_table(store, out, HELD_TABLE, fields, crowdsift_store::Store::pii_photos, held, columns)?;
    Ok(())
}
