//! `release`: the photos to publish, copied into a folder of their own with a manifest.
//!
//! A photo is released when a reviewer approved it, or when nothing flagged it for a person (its
//! personal data, if any, hidden by `redact` with nothing found again in the copy, and none of
//! the release rule's doubts about its text — handwriting, text not read with good confidence,
//! text not classified: [`PII_DOUBTS`], see `crowdsift_pii::safety`). Rejected
//! photos, photos no decoder can read and photos still waiting for a decision stay out; the
//! summary names them. Every released file is written from pixels (no EXIF, GPS, XMP or IPTC;
//! orientation baked in; colour profile kept): the redacted copy where `redact` made one from the
//! current file, else the photo itself re-encoded; regions a reviewer marked are hidden on top.
//! Originals are only read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crowdsift_core::{Limits, PII_DOUBTS, Stage};
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode, file_stem, sha256_hex};
use crowdsift_redact::{OutputFormat, Region, Shape, Style};
use crowdsift_report::{ManifestRow, RedactedCopy};
use crowdsift_store::{Decision, Store, Verdict};

use crate::ReviewError;
use crate::queue::{Item, QueueKind, Queues};

/// The parameters of `release`: the command's options (flattened into `crowdsift release`) and
/// the Python function's keyword arguments (same names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(default)]
pub struct ReleaseJob {
    /// Release folder (empty, or an earlier release that is brought up to date): `images/`,
    /// `manifest.csv`, `manifest.parquet`.
    #[arg(long)]
    pub to: PathBuf,
    /// JPEG quality of photos re-encoded for the release (copies `redact` made are taken as they
    /// are).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Worker threads [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

impl Default for ReleaseJob {
    /// No release folder (`to` is empty: every caller names one).
    fn default() -> Self {
        ReleaseJob { to: PathBuf::new(), quality: 90, jobs: crowdsift_core::cores(), limits: Limits::default() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReleaseSummary {
    pub released: u64,
    pub rejected: u64,
    /// Photos not released for want of a decision or a redacted copy: `(id, why)`.
    pub pending: Vec<(String, String)>,
    /// Photos held for a person, by queue and, for personal data, by the release rule's check
    /// (`duplicates`, `pii: handwriting`, …); a photo counts once under each reason it has.
    pub held: BTreeMap<String, u64>,
    /// The photos held for a person, by the review queue where they wait (`unusable`, `labels`,
    /// `duplicates`, `pii`; a photo held in two queues is in both), each with the checks that put
    /// it there (for `pii`, the release rule's doubts).
    pub waiting: BTreeMap<String, Vec<(String, Vec<String>)>>,
    /// Photos that could not be read or written: `(id, why)`.
    pub failed: Vec<(String, String)>,
    /// Photos no decoder could read (never released).
    pub unreadable: u64,
    /// Photos with personal data and no redacted copy of their current file (among `pending`).
    pub unredacted: u64,
    /// Files of an earlier release into the same folder that are no longer released.
    pub removed: u64,
}

/// A photo to release and where its pixels come from.
struct Plan {
    id: String,
    label: Option<String>,
    uri: String,
    sha256: String,
    copy: Option<PathBuf>,
    decision: Option<Decision>,
    reasons: Vec<String>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ReviewError + '_ {
    move |source| ReviewError::Write { path: path.to_owned(), message: source.to_string() }
}

/// Releases the photos of the output folder `out` into `job.to`.
pub fn release(out: &Path, job: &ReleaseJob) -> Result<ReleaseSummary, ReviewError> {
    if job.to.as_os_str().is_empty() {
        return Err(ReviewError::NoReleaseFolder);
    }
    let db = out.join("crowdsift.db");
    if !db.is_file() {
        return Err(ReviewError::NoResults(out.to_owned()));
    }
    let earlier = job.to.join("manifest.csv");
    if job.to.is_dir() && !earlier.is_file() && std::fs::read_dir(&job.to).map_err(io_err(&job.to))?.next().is_some() {
        return Err(ReviewError::Write {
            path: job.to.clone(),
            message: "not empty and not an earlier release (no manifest.csv): choose an empty folder".into(),
        });
    }
    let store = Store::open(&db)?;
    let run_id = store.begin_run(
        "release",
        &out.display().to_string(),
        &serde_json::json!({
            "to": job.to.display().to_string(), "quality": job.quality,
        }),
    )?;
    let result = release_into(&store, out, job);
    store.finish_run(run_id, if result.is_ok() { "done" } else { "failed" })?;
    result
}

/// What `release` would do now, writing nothing and recording no run: `released` is the number
/// of photos it would release (approved, or needing nobody), the rest of the summary as a release
/// would report it. The report's first screen is made from it.
pub fn outlook(out: &Path) -> Result<ReleaseSummary, ReviewError> {
    let db = out.join("crowdsift.db");
    if !db.is_file() {
        return Err(ReviewError::NoResults(out.to_owned()));
    }
    let store = Store::open(&db)?;
    let mut ready = 0;
    let mut summary = decide(&store, out, &mut |_| ready += 1)?;
    summary.released = ready;
    Ok(summary)
}

fn release_into(store: &Store, out: &Path, job: &ReleaseJob) -> Result<ReleaseSummary, ReviewError> {
    let images = job.to.join("images");
    let mut plans = Vec::new();
    let mut summary = decide(store, out, &mut |plan| plans.push(plan))?;
    write_plans(plans, &mut summary, job, &images)?;
    Ok(summary)
}

/// Which photos are released (each plan given to `on_plan`) and which are not, and why.
fn decide(store: &Store, out: &Path, on_plan: &mut dyn FnMut(Plan)) -> Result<ReleaseSummary, ReviewError> {
    let queues = Queues::build(store, out)?;
    // The queues each photo waits in, with its entry there (the checks that put it there).
    let mut needs: HashMap<&str, Vec<(QueueKind, &Item)>> = HashMap::new();
    for (kind, items) in &queues.queues {
        for it in items {
            needs.entry(it.id.as_str()).or_default().push((*kind, it));
        }
    }
    let mut reasons: HashMap<String, Vec<String>> = HashMap::new();
    let mut pii = HashSet::new();
    store.for_each_flagged(|r| {
        let f = &r.finding;
        if f.stage == Stage::Ocr {
            return;
        }
        if f.stage == Stage::Pii {
            pii.insert(f.image_id.clone());
        }
        reasons.entry(f.image_id.clone()).or_default().push(f.summary_key().to_owned());
    })?;
    let decisions: HashMap<String, Decision> =
        store.decisions()?.into_iter().map(|d| (d.image_id.clone(), d)).collect();
    let copies: BTreeMap<String, RedactedCopy> = crowdsift_report::redacted_copies(store, out)?;
    let mut summary = ReleaseSummary::default();
    // Photo by photo as the store lists them: of a photo released nothing is kept but its plan,
    // given to `on_plan` (`outlook` only counts them), and of the others what the summary says.
    store.for_each_photo(|id, label, sha, uri, decodable| {
        let decision = decisions.get(id).cloned();
        let verdict = decision.as_ref().and_then(|d| d.verdict);
        let (Some(sha256), true) = (sha, decodable) else {
            summary.unreadable += 1;
            return;
        };
        let copy = copies.get(id).filter(|c| c.source_sha256 == sha256).map(|c| c.path.clone());
        let queued = needs.get(id).map_or(&[][..], Vec::as_slice);
        // Personal data hidden by redact, with nothing found again in the copy, needs nobody;
        // what the release rule for text doubts (PII_DOUBTS: handwriting, text not read
        // confidently or not classified) and what verification found again need a person.
        let held: Vec<&str> = reasons.get(id).map_or(Vec::new(), |r| {
            r.iter().map(String::as_str).filter(|c| *c == "redact_residual" || PII_DOUBTS.contains(c)).collect()
        });
        let needs_person = queued.iter().any(|(k, _)| *k != QueueKind::Pii) || !held.is_empty();
        match verdict {
            Some(Verdict::Reject) => {
                summary.rejected += 1;
                return;
            }
            None if needs_person => {
                let mut queues: Vec<String> = queued.iter().map(|(k, _)| k.as_str().to_owned()).collect();
                if !held.is_empty()
                    && let Some(q) = queues.iter_mut().find(|q| *q == QueueKind::Pii.as_str())
                {
                    q.push_str(&format!(" ({})", held.join(", ")));
                }
                for (k, item) in queued {
                    if *k != QueueKind::Pii {
                        *summary.held.entry(k.as_str().to_owned()).or_default() += 1;
                    }
                    let why: Vec<String> = if *k == QueueKind::Pii {
                        held.iter().map(|c| (*c).to_owned()).collect()
                    } else {
                        let mut checks: Vec<String> = Vec::new();
                        for r in &item.reasons {
                            if !checks.contains(&r.check) {
                                checks.push(r.check.clone());
                            }
                        }
                        checks
                    };
                    if *k != QueueKind::Pii || !held.is_empty() {
                        summary.waiting.entry(k.as_str().to_owned()).or_default().push((id.to_owned(), why));
                    }
                }
                for c in &held {
                    *summary.held.entry(format!("pii: {c}")).or_default() += 1;
                }
                summary.pending.push((id.to_owned(), format!("waiting for review in {}", queues.join(", "))));
                return;
            }
            _ => {}
        }
        if pii.contains(id) && copy.is_none() {
            summary.unredacted += 1;
            summary.pending.push((
                id.to_owned(),
                "personal data found but no redacted copy of this file: run crowdsift redact".into(),
            ));
            return;
        }
        on_plan(Plan {
            id: id.to_owned(),
            label: label.map(str::to_owned),
            uri: uri.to_owned(),
            sha256: sha256.to_owned(),
            copy,
            decision,
            reasons: reasons.remove(id).unwrap_or_default(),
        });
    })?;
    Ok(summary)
}

/// Writes the photos of `plans` into `images` (and the release's manifests), taking out the files
/// of an earlier release that are no longer released.
fn write_plans(
    plans: Vec<Plan>,
    summary: &mut ReleaseSummary,
    job: &ReleaseJob,
    images: &Path,
) -> Result<(), ReviewError> {
    std::fs::create_dir_all(images).map_err(io_err(images))?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let fetcher = Fetcher::new(job.limits);
    std::thread::scope(|s| {
        for _ in 0..job.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(i) else { break };
                    let res = write_one(plan, &fetcher, job, images);
                    results.lock().unwrap_or_else(|p| p.into_inner()).push((i, res));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut rows = Vec::new();
    for (i, res) in results {
        let plan = &plans[i];
        match res {
            Ok(row) => rows.push(row),
            Err(why) => summary.failed.push((plan.id.clone(), why)),
        }
    }
    summary.released = rows.len() as u64;

    // Files of an earlier release that this one does not hold.
    let keep: HashSet<String> = rows.iter().map(|r| r.file.clone()).collect();
    for entry in std::fs::read_dir(images).map_err(io_err(images))?.flatten() {
        let rel = format!("images/{}", entry.file_name().to_string_lossy());
        if !keep.contains(&rel) && entry.path().is_file() {
            std::fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
            summary.removed += 1;
        }
    }
    crowdsift_report::write_manifest(&job.to, &rows)
        .map_err(|e| ReviewError::Write { path: job.to.clone(), message: e.to_string() })
}

/// Writes one photo into `images` and returns its manifest row.
fn write_one(plan: &Plan, fetcher: &Fetcher, job: &ReleaseJob, images: &Path) -> Result<ManifestRow, String> {
    let regions = plan.decision.as_ref().map_or(&[][..], |d| d.regions.as_slice());
    let source = plan.copy.as_ref().map_or_else(|| plan.uri.clone(), |c| c.display().to_string());
    let bytes = fetcher.fetch(&Location::from_uri(&source)).map_err(|e| e.to_string())?;
    let (bytes, ext) = match (&plan.copy, regions.is_empty()) {
        // redact's copy, as it is: already written from pixels.
        (Some(copy), true) => {
            let ext = copy.extension().and_then(|e| e.to_str()).unwrap_or("jpg").to_owned();
            (bytes.to_vec(), ext)
        }
        _ => {
            if plan.copy.is_none() && sha256_hex(&bytes) != plan.sha256 {
                return Err(format!("{source} changed since it was scanned: scan it again"));
            }
            let d = decode(&bytes, &DecodeParams { limits: job.limits, fit: Fit::Full }).map_err(|e| e.to_string())?;
            let mut img = d.image;
            let (w, h) = (img.width() as f32, img.height() as f32);
            let marked: Vec<Region> = regions
                .iter()
                .map(|&[x0, y0, x1, y1]| Region {
                    quad: [[x0 * w, y0 * h], [x1 * w, y0 * h], [x1 * w, y1 * h], [x0 * w, y1 * h]],
                    shape: Shape::Object,
                })
                .collect();
            let seed = u64::from_str_radix(&plan.sha256[..16], 16).unwrap_or(0);
            crowdsift_redact::redact(&mut img, &marked, Style::Blur, seed);
            let meta = crowdsift_redact::inspect(&bytes);
            let format = OutputFormat::for_source(d.format, job.quality);
            let enc = crowdsift_redact::encode(&img, format, meta.icc.as_deref()).map_err(|e| e.to_string())?;
            (enc.bytes, format.extension().to_owned())
        }
    };
    let name = format!("{}.{ext}", file_stem(&plan.id));
    let target = images.join(&name);
    // Never write over the photo itself (a release folder holding the originals).
    if let (Ok(a), Ok(b)) = (target.canonicalize(), Path::new(&plan.uri).canonicalize())
        && a == b
    {
        return Err(format!("{} is the original photo: release into another folder", target.display()));
    }
    let tmp = images.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, &target))
        .map_err(|e| format!("writing {}: {e}", target.display()))?;
    let d = plan.decision.as_ref();
    let label = d.and_then(|d| d.label.clone()).or_else(|| plan.label.clone());
    let mut reasons = plan.reasons.clone();
    if plan.copy.is_some() && reasons.iter().any(|r| r == "pii") {
        reasons.push("redacted".into());
    }
    if !regions.is_empty() {
        reasons.push(format!("{} regions hidden by reviewer", regions.len()));
    }
    if label != plan.label {
        reasons.push("relabelled".into());
    }
    Ok(ManifestRow {
        obs_uid: plan.id.clone(),
        label,
        original_label: plan.label.clone(),
        file: format!("images/{name}"),
        sha256: sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        reasons: reasons.join(";"),
        decision: if d.is_some_and(|d| d.verdict == Some(Verdict::Keep)) { "approved".into() } else { "passed".into() },
        reviewer: d.filter(|d| d.verdict.is_some()).map(|d| d.reviewer.clone()),
    })
}
