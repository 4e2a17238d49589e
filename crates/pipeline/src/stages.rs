//! The pipeline, declared once: every stage of `crowdsift run` in run order, what it needs, what it
//! writes, and the function that runs it. `crowdsift run`, Python's `crowdsift.run`, the progress
//! keys and the report's table of stages all read [`PIPELINE`]; adding a stage is one entry here
//! and its function. Each stage is a crate that owns its types; the names here are the `command`
//! of its runs and its key in the store's `stage_progress` table.

use std::path::Path;

use crowdsift_core::{Limits, ProgressReporter};
use crowdsift_ingest::Source;
use crowdsift_models::{ModelSpec, OnnxModel, Registry};
use crowdsift_store::Store;
use serde::{Deserialize, Serialize};

use crate::scan::PipelineError;
use crate::{
    AuditJob, AuditSummary, EmbedParams, EmbedSummary, OcrJob, OcrSummary, PiiJob, PiiSummary, RedactJob,
    RedactSummary, ReportSummary, ScanParams, ScanSummary,
};

/// One stage of the pipeline.
pub struct StageSpec {
    /// Its name: the `command` of its runs, its progress key, its `--skip` value.
    pub name: &'static str,
    /// What it does, in a few words.
    pub about: &'static str,
    /// The stage whose results it reads (it is skipped when that one did not run).
    pub needs: Option<&'static str>,
    /// What it writes into the output folder (besides the store and findings.csv/parquet).
    pub writes: &'static str,
    /// Runs it with the run's parameters.
    pub run: fn(&RunContext<'_>) -> Result<StageOutcome, PipelineError>,
}

/// Every stage of `crowdsift run`, in run order.
pub const PIPELINE: [StageSpec; 7] = [
    // 1 ingest + 2 quality: read, decode, per-photo checks, then exact and near duplicates over
    // everything scanned (crowdsift-ingest, crowdsift-quality).
    StageSpec {
        name: SCAN,
        about: "read, decode and check each photo; group duplicates",
        needs: None,
        writes: "crowdsift.db",
        run: run_scan,
    },
    // 3 embed: backbone embeddings, cached by photo and model checksum (crowdsift-embed, -models).
    StageSpec {
        name: EMBED,
        about: "embed each photo with a pretrained backbone",
        needs: Some(SCAN),
        writes: "embeddings in crowdsift.db",
        run: run_embed,
    },
    // 5 audit: label issues, outliers, off-topic photos, duplicates with other labels (crowdsift-audit).
    StageSpec {
        name: "audit",
        about: "check the labels (when the photos have labels)",
        needs: Some(EMBED),
        writes: "audit/labels.csv, classes.csv, summary.json",
        run: run_audit,
    },
    // 6 ocr: text lines (crowdsift-ocr).
    StageSpec {
        name: "ocr",
        about: "find and read the text",
        needs: Some(SCAN),
        writes: "ocr_lines.parquet; readings in crowdsift.db",
        run: run_ocr,
    },
    // 7 pii: personal data in the text, faces, codes; the release rule (crowdsift-pii).
    StageSpec {
        name: "pii",
        about: "find personal data; hold what a person must see",
        needs: Some("ocr"),
        writes: "pii.parquet, pii_held.parquet; findings in crowdsift.db",
        run: run_pii,
    },
    // 8 redact: release copies with personal data hidden (crowdsift-redact).
    StageSpec {
        name: "redact",
        about: "write release copies with personal data hidden",
        needs: Some("pii"),
        writes: "redacted/, redactions.parquet; records in crowdsift.db",
        run: run_redact,
    },
    // 9 report (crowdsift-report).
    StageSpec {
        name: "report",
        about: "write the HTML report",
        needs: Some(SCAN),
        writes: "report.html",
        run: run_report,
    },
];

/// Progress key of the per-photo scan stage.
pub const SCAN: &str = "scan";

/// Progress key of the embedding stage.
pub const EMBED: &str = "embed";

/// The stage called `name`.
pub fn stage(name: &str) -> Option<&'static StageSpec> {
    PIPELINE.iter().find(|s| s.name == name)
}

/// The parameters of `crowdsift run` (and Python's `crowdsift.run`): what every stage shares; each
/// stage otherwise runs with its own defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct RunJob {
    /// Worker threads of the stages that have them [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    /// Backbone for embeddings and the label audit (as `embed --model`).
    #[arg(long, short, default_value_t = crate::BACKBONE.to_owned())]
    pub model: String,
    /// Stages to leave out, e.g. `--skip audit,redact` (scan always runs).
    #[arg(long, value_delimiter = ',', value_parser = skippable())]
    pub skip: Vec<String>,
}

impl Default for RunJob {
    fn default() -> Self {
        RunJob { jobs: crowdsift_core::cores(), model: crate::BACKBONE.to_owned(), skip: Vec::new() }
    }
}

/// The names `--skip` accepts: every stage but the first.
fn skippable() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(PIPELINE[1..].iter().map(|s| s.name))
}

/// What a stage is run on.
pub struct RunContext<'a> {
    /// The source's spec (folder, manifest, `s3://` prefix).
    pub src: &'a str,
    pub out: &'a Path,
    pub job: &'a RunJob,
    pub progress: &'a dyn ProgressReporter,
}

impl RunContext<'_> {
    fn source(&self, limits: Limits) -> Result<Source, PipelineError> {
        Ok(Source::open_for(self.src, self.out, limits)?)
    }

    fn jobs(&self) -> usize {
        self.job.jobs.max(1)
    }
}

/// What a stage did: its own summary.
#[derive(Debug)]
pub enum StageOutcome {
    Scan(ScanSummary),
    Embed(EmbedSummary),
    Audit(AuditSummary),
    Ocr(OcrSummary),
    Pii(PiiSummary),
    Redact(RedactSummary),
    Report(ReportSummary),
    /// The stage had nothing to do, and why (an audit of photos without labels).
    Nothing(String),
}

impl StageOutcome {
    /// What it found, in one line for the run's summary: counts per check or kind, so a person sees
    /// at a glance where to look (`crowdsift run`'s last lines).
    pub fn found(&self) -> String {
        // " (a 1, b 2)" of the non-zero counts, or nothing.
        let counts = |m: &mut dyn Iterator<Item = (String, u64)>| -> String {
            let parts: Vec<String> = m.filter(|(_, n)| *n > 0).map(|(k, n)| format!("{k} {n}")).collect();
            if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
        };
        let not_read = |failed: usize| if failed > 0 { format!("; {failed} not read") } else { String::new() };
        let not_listed = |errors: &[String]| {
            if errors.is_empty() { String::new() } else { format!("; {} not listed", errors.len()) }
        };
        match self {
            StageOutcome::Scan(s) => {
                let t = &s.totals;
                let by = counts(&mut t.flagged_by.iter().map(|(k, n)| (k.clone(), *n)));
                format!("{} photos, {} flagged{by}{}", t.images, t.flagged_images, not_listed(&s.listing_errors))
            }
            StageOutcome::Embed(s) => {
                let (n, model) = (s.computed + s.cached, &s.model);
                format!("{n} photos embedded with {model}{}{}", not_read(s.failed.len()), not_listed(&s.listing_errors))
            }
            StageOutcome::Audit(s) => format!(
                "{} photos in {} classes: {} label issues, {} outliers, {} off-topic, {} groups of copies with conflicting labels",
                s.photos, s.classes, s.issues, s.outliers, s.off_topic, s.conflicts
            ),
            StageOutcome::Ocr(s) => {
                let (lines, photos) = (s.lines, s.read + s.cached);
                format!(
                    "{lines} text lines on {photos} photos{}{}",
                    not_read(s.failed.len()),
                    not_listed(&s.listing_errors)
                )
            }
            StageOutcome::Pii(s) => {
                let kinds = counts(&mut s.by_kind.iter().map(|(k, n)| (k.as_str().to_owned(), *n)));
                let doubts = counts(&mut s.by_doubt.iter().map(|(k, n)| ((*k).to_owned(), *n)));
                format!(
                    "{} photos with personal data{kinds}; {} for a person to see before release{doubts}{}",
                    s.with_pii,
                    s.needs_person,
                    not_read(s.failed.len())
                )
            }
            StageOutcome::Redact(s) => format!(
                "{} release copies written ({} regions hidden), {} up to date{}{}",
                s.written,
                s.regions,
                s.cached,
                not_read(s.failed.len()),
                if s.residual.is_empty() {
                    String::new()
                } else {
                    format!("; {} with personal data still readable in the copy", s.residual.len())
                }
            ),
            StageOutcome::Report(s) => s.path.display().to_string(),
            StageOutcome::Nothing(why) => why.clone(),
        }
    }

    /// Whether it flagged photos or could not read some (exit code 1 of the command line).
    pub fn flagged(&self) -> bool {
        match self {
            StageOutcome::Scan(s) => s.totals.flagged_images > 0 || !s.listing_errors.is_empty(),
            StageOutcome::Embed(s) => !s.failed.is_empty() || !s.listing_errors.is_empty(),
            StageOutcome::Audit(s) => s.issues > 0 || s.outliers > 0 || s.off_topic > 0 || s.conflicts > 0,
            StageOutcome::Ocr(s) => !s.failed.is_empty() || !s.listing_errors.is_empty(),
            StageOutcome::Pii(s) => !s.failed.is_empty(),
            StageOutcome::Redact(s) => !s.failed.is_empty() || !s.residual.is_empty(),
            StageOutcome::Report(_) | StageOutcome::Nothing(_) => false,
        }
    }
}

fn run_scan(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    let params = ScanParams { jobs: cx.jobs(), ..Default::default() };
    let source = cx.source(params.limits)?;
    Ok(StageOutcome::Scan(crate::scan(&source, cx.out, &params, cx.progress)?))
}

fn run_embed(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    let params = EmbedParams { jobs: cx.jobs(), threads: cx.jobs(), model: cx.job.model.clone(), ..Default::default() };
    let mut model = OnnxModel::load(&ModelSpec::backbone(&params.model)?, params.threads)?;
    let source = cx.source(params.limits)?;
    Ok(StageOutcome::Embed(crate::embed(&source, cx.out, &mut model, &params, cx.progress)?))
}

fn run_audit(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    if Store::open(&cx.out.join("crowdsift.db"))?.labels()?.is_empty() {
        return Ok(StageOutcome::Nothing("no labels".into()));
    }
    let job = AuditJob { model: cx.job.model.clone(), ..Default::default() };
    Ok(StageOutcome::Audit(crate::audit(cx.out, &job, cx.progress)?))
}

fn run_ocr(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    let job = OcrJob { jobs: cx.jobs(), ..Default::default() };
    let reg = Registry::discover()?;
    let plan = job.plan(&reg)?;
    let source = cx.source(job.limits)?;
    Ok(StageOutcome::Ocr(crate::ocr(&source, cx.out, &plan, &job, cx.progress)?))
}

fn run_pii(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    let job = PiiJob { jobs: cx.jobs(), ..Default::default() };
    Ok(StageOutcome::Pii(crate::pii(cx.out, &job, cx.progress)?))
}

fn run_redact(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    let job = RedactJob { jobs: cx.jobs(), ..Default::default() };
    let reg = Registry::discover()?;
    let plan = job.plan(&reg)?;
    Ok(StageOutcome::Redact(crate::redact(cx.out, &job, plan.as_ref(), cx.progress)?))
}

fn run_report(cx: &RunContext<'_>) -> Result<StageOutcome, PipelineError> {
    Ok(StageOutcome::Report(crate::report(cx.out, Limits::default())?))
}

/// What became of a stage in a run.
#[derive(Debug)]
pub enum Outcome {
    Done(StageOutcome),
    Skipped(String),
    Failed(String),
}

impl Outcome {
    /// `done`, `skipped` or `failed`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Done(_) => "done",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }

    /// It ran and produced results (not skipped, not failed, not "nothing to do"): what the stages
    /// that need it can read.
    pub fn produced(&self) -> bool {
        matches!(self, Outcome::Done(d) if !matches!(d, StageOutcome::Nothing(_)))
    }

    /// It ran and flagged photos or could not read some.
    pub fn flagged(&self) -> bool {
        matches!(self, Outcome::Done(d) if d.flagged())
    }

    /// Why it was skipped or failed, or what it had nothing to do for.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Done(StageOutcome::Nothing(why)) => why.clone(),
            Outcome::Done(_) => String::new(),
            Outcome::Skipped(why) | Outcome::Failed(why) => why.clone(),
        }
    }
}

/// Runs every stage of [`PIPELINE`] on `src` into `out`, in order: a stage in `job.skip`, or whose
/// need did not run, is skipped; one that fails is reported and the stages after it that need it
/// are skipped, the others go on. Only a failed scan ends the run (nothing was read). `on_stage`
/// hears each stage as it starts (`None`) and when it is over.
pub fn run(
    src: &str,
    out: &Path,
    job: &RunJob,
    progress: &dyn ProgressReporter,
    on_stage: &mut dyn FnMut(&StageSpec, Option<&Outcome>),
) -> Result<Vec<(&'static str, Outcome)>, PipelineError> {
    if let Some(bad) = job.skip.iter().find(|s| !PIPELINE[1..].iter().any(|p| p.name == s.as_str())) {
        let names: Vec<&str> = PIPELINE[1..].iter().map(|s| s.name).collect();
        return Err(PipelineError::Invalid(format!(
            "cannot skip `{bad}`: the stages that can be skipped are {}",
            names.join(", ")
        )));
    }
    let cx = RunContext { src, out, job, progress };
    let mut outcomes: Vec<(&'static str, Outcome)> = Vec::new();
    for stage in &PIPELINE {
        let failed_need = stage
            .needs
            .and_then(|n| outcomes.iter().find(|(name, o)| *name == n && !o.produced()).map(|(name, _)| *name));
        let outcome = if job.skip.iter().any(|s| s == stage.name) {
            Outcome::Skipped("--skip".into())
        } else if let Some(need) = failed_need {
            Outcome::Skipped(format!("needs {need}"))
        } else {
            on_stage(stage, None);
            match (stage.run)(&cx) {
                Ok(done) => Outcome::Done(done),
                // Without a photo read, later stages have nothing to work on.
                Err(e) if stage.needs.is_none() => return Err(e),
                Err(e) => Outcome::Failed(e.to_string()),
            }
        };
        on_stage(stage, Some(&outcome));
        outcomes.push((stage.name, outcome));
    }
    Ok(outcomes)
}
