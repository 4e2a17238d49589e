//! `audit`: which labels to review — label issues by confident learning on out-of-sample
//! probabilities and neighbour votes, outliers, and duplicates that carry different labels — and
//! which photos are no item of the collection at all (off-topic: to the unusable queue, never
//! offered a label).
//! Results go to `out/audit/` (labels.csv, classes.csv, summary.json), to the store as findings of
//! stage `audit`, and to findings.csv/parquet.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crowdsift_audit::{AuditParams, AuditReport};
use crowdsift_core::{Finding, ProgressReporter, Stage};
use crowdsift_learn::Dataset;
use crowdsift_store::Store;

use crate::scan::PipelineError;
use crate::train::embedding_rows;

/// The parameters of the `audit` stage: the command's options (flattened into `crowdsift audit`)
/// and the Python function's keyword arguments (same names), defaults those of [`Default`]. The
/// audit itself runs on [`AuditParams`] ([`AuditJob::params`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(default)]
pub struct AuditJob {
    /// The backbone whose embeddings are audited (a models.toml name or PATH.onnx, as `embed
    /// --model`).
    #[arg(long, short, default_value_t = crate::BACKBONE.to_owned())]
    pub model: String,
    /// Folds for the out-of-sample probabilities (at least 2).
    #[arg(long, default_value_t = AuditJob::default().folds)]
    pub folds: usize,
    /// Epochs of each fold's head.
    #[arg(long, default_value_t = AuditJob::default().epochs)]
    pub epochs: usize,
    /// Neighbours per photo (label votes, outlier score).
    #[arg(long, default_value_t = AuditJob::default().k)]
    pub k: usize,
    /// Weight of the neighbours' label vote against the out-of-sample head (0–1).
    #[arg(long, default_value_t = AuditJob::default().knn_weight)]
    pub knn_weight: f64,
    /// Cosine similarity from which two photos are near duplicates.
    #[arg(long, default_value_t = AuditJob::default().dup_similarity)]
    pub dup_similarity: f32,
    /// Robust z-score within the class above which a photo is an outlier.
    #[arg(long, default_value_t = AuditJob::default().outlier_z)]
    pub outlier_z: f64,
    /// Robust deviations from the collection's trimmed centre above which a photo is off-topic
    /// (no item at all: a screenshot, a document, a wall).
    #[arg(long, default_value_t = AuditJob::default().off_topic_z)]
    pub off_topic_z: f64,
    /// A label is an issue only when its probability is below this share of chance (1/classes);
    /// at or above the number of classes: no floor, confident learning alone.
    #[arg(long, default_value_t = AuditJob::default().issue_floor)]
    pub issue_floor: f64,
    /// Up to this many photos neighbours are exact; above, an inverted-file index finds them.
    #[arg(long, default_value_t = AuditJob::default().exact_limit)]
    pub exact_limit: usize,
    /// Lists of the inverted-file index searched per photo (recall against time).
    #[arg(long, default_value_t = AuditJob::default().probes)]
    pub probes: usize,
    /// Seed of the folds, the heads and the index.
    #[arg(long, default_value_t = AuditJob::default().seed)]
    pub seed: u64,
}

impl Default for AuditJob {
    fn default() -> Self {
        let p = AuditParams::default();
        AuditJob {
            model: crate::BACKBONE.to_owned(),
            folds: p.folds,
            epochs: p.train.epochs,
            k: p.k,
            knn_weight: p.knn_weight,
            dup_similarity: p.dup_similarity,
            outlier_z: p.outlier_z,
            off_topic_z: p.off_topic.z,
            issue_floor: p.issue_floor,
            exact_limit: p.index.exact_limit,
            probes: p.index.probes,
            seed: 42,
        }
    }
}

impl AuditJob {
    /// The audit's parameters: the library's defaults with this job's options.
    pub fn params(&self) -> AuditParams {
        let d = AuditParams::default();
        AuditParams {
            folds: self.folds.max(2),
            train: crowdsift_learn::TrainParams { epochs: self.epochs, seed: self.seed, ..d.train },
            k: self.k.max(1),
            knn_weight: self.knn_weight,
            dup_similarity: self.dup_similarity,
            outlier_z: self.outlier_z,
            issue_floor: self.issue_floor,
            index: crowdsift_audit::IndexParams {
                exact_limit: self.exact_limit,
                probes: self.probes,
                seed: self.seed,
                ..d.index
            },
            off_topic: crowdsift_audit::OffTopicParams { z: self.off_topic_z, ..d.off_topic },
            ..d
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditSummary {
    pub photos: usize,
    pub classes: usize,
    pub issues: usize,
    pub outliers: usize,
    pub off_topic: usize,
    pub clusters: usize,
    pub conflicts: usize,
    pub oos_accuracy: f64,
    pub dir: PathBuf,
    pub seconds: f64,
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> PipelineError + '_ {
    move |e| PipelineError::Invalid(format!("{}: {e}", path.display()))
}

fn write_labels(path: &Path, ds: &Dataset, r: &AuditReport) -> Result<(), PipelineError> {
    let err = csv_err(path);
    let mut w = csv::Writer::from_path(path).map_err(&err)?;
    w.write_record([
        "id",
        "label",
        "suggested",
        "p_label",
        "p_label_head",
        "margin",
        "label_issue",
        "rank",
        "neighbours_agree",
        "nearest",
        "outlier_score",
        "outlier_z",
        "outlier",
        "off_topic_score",
        "not_item_p",
        "off_topic",
        "dup_cluster",
        "label_conflict",
        "fold",
    ])
    .map_err(&err)?;
    for p in &r.photos {
        let nearest: Vec<String> = p
            .nearest
            .iter()
            .map(|nb| {
                let j = nb.row as usize;
                format!("{}:{}:{:.3}", ds.ids[j], ds.classes[ds.y[j] as usize], nb.similarity)
            })
            .collect();
        w.write_record([
            ds.ids[p.row].as_str(),
            &ds.classes[p.given as usize],
            &ds.classes[p.suggested as usize],
            &format!("{:.4}", p.p_given),
            &format!("{:.4}", p.p_given_head),
            &format!("{:.4}", p.margin),
            if p.issue { "1" } else { "0" },
            &p.rank.map(|r| r.to_string()).unwrap_or_default(),
            &format!("{:.2}", p.neighbours_agree),
            &nearest.join(";"),
            &format!("{:.4}", p.outlier_score),
            &format!("{:.2}", p.outlier_z),
            if p.outlier { "1" } else { "0" },
            &format!("{:.2}", p.off_topic_score),
            &p.second_opinion.map(|s| format!("{s:.3}")).unwrap_or_default(),
            if p.off_topic { "1" } else { "0" },
            &p.cluster.map(|c| c.to_string()).unwrap_or_default(),
            if p.label_conflict { "1" } else { "0" },
            &p.fold.to_string(),
        ])
        .map_err(&err)?;
    }
    w.flush().map_err(|source| PipelineError::Io { path: path.to_owned(), source })
}

fn write_classes(path: &Path, r: &AuditReport) -> Result<(), PipelineError> {
    let err = csv_err(path);
    let mut w = csv::Writer::from_path(path).map_err(&err)?;
    w.write_record(["class", "photos", "share", "label_issues", "confused_with"]).map_err(&err)?;
    for c in &r.classes {
        let confused: Vec<String> = c.confused_with.iter().map(|(k, n)| format!("{k}:{n:.1}")).collect();
        w.write_record([
            c.class.as_str(),
            &c.photos.to_string(),
            &format!("{:.4}", c.share),
            &c.issues.to_string(),
            &confused.join(";"),
        ])
        .map_err(&err)?;
    }
    w.flush().map_err(|source| PipelineError::Io { path: path.to_owned(), source })
}

/// The audit's findings: per photo `label_issue` and `outlier` (or `off_topic` in their place),
/// and `label_conflict` for photos with duplicates.
fn findings(ds: &Dataset, r: &AuditReport, params: &AuditParams) -> Vec<Finding> {
    let mut members: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for p in &r.photos {
        if let Some(c) = p.cluster {
            members.entry(c).or_default().push(p.row);
        }
    }
    let name = |i: usize| format!("{} ({})", ds.ids[i], ds.classes[ds.y[i] as usize]);
    let mut out = Vec::new();
    for p in &r.photos {
        let id = &ds.ids[p.row];
        let given = &ds.classes[p.given as usize];
        let nearest: Vec<String> = p.nearest.iter().map(|nb| name(nb.row as usize)).collect();
        if p.off_topic {
            out.push(Finding {
                image_id: id.clone(),
                stage: Stage::Audit,
                check: "off_topic".into(),
                score: Some(p.off_topic_score),
                threshold: Some(params.off_topic.z),
                flagged: true,
                reason: None,
                detail: format!(
                    "labelled {given}, but unlike the collection's photos: {:.1} robust deviations from their centre (off-topic above {}){}; not audited as a label",
                    p.off_topic_score,
                    params.off_topic.z,
                    p.second_opinion.map_or(String::new(), |s| format!(
                        ", ImageNet classes no item shows (web site, document, landscape…) at p {s:.2} (off-topic above {})",
                        params.off_topic.second_opinion
                    ))
                ),
            });
            // Its label is not audited below (no issue, outlier, or conflict among its copies):
            // the unusable queue decides on it.
        }
        let detail = if p.off_topic {
            format!("labelled {given}: off-topic, no label audited")
        } else if p.issue {
            format!(
                "labelled {given}, likely {} (p {:.2} vs {:.2} for the label; head alone {:.2}); {:.0}% of {} neighbours share the label; nearest: {}; review rank {}",
                ds.classes[p.suggested as usize],
                p.p_suggested,
                p.p_given,
                p.p_given_head,
                100.0 * p.neighbours_agree,
                params.k,
                nearest.join(", "),
                p.rank.unwrap_or(0)
            )
        } else {
            format!("labelled {given}: consistent (p {:.2}); nearest: {}", p.p_given, nearest.join(", "))
        };
        out.push(Finding {
            image_id: id.clone(),
            stage: Stage::Audit,
            check: "label_issue".into(),
            score: Some(p.p_given),
            threshold: None,
            flagged: p.issue,
            reason: None,
            detail,
        });
        if p.off_topic {
            continue;
        }
        out.push(Finding {
            image_id: id.clone(),
            stage: Stage::Audit,
            check: "outlier".into(),
            score: Some(p.outlier_z),
            threshold: Some(params.outlier_z),
            flagged: p.outlier,
            reason: None,
            detail: format!(
                "mean cosine distance {:.3} to its {} nearest photos, {:.1} robust deviations from its class ({given})",
                p.outlier_score, params.k, p.outlier_z
            ),
        });
        if let Some(c) = p.cluster {
            let others: Vec<String> = members[&c].iter().filter(|&&j| j != p.row).map(|&j| name(j)).collect();
            out.push(Finding {
                image_id: id.clone(),
                stage: Stage::Audit,
                check: "label_conflict".into(),
                score: Some(others.len() as f64),
                threshold: None,
                flagged: p.label_conflict,
                reason: None,
                detail: format!(
                    "{} as {given}; duplicates (same bytes or pixels, perceptual hash, or embedding similarity ≥ {}): {}",
                    if p.label_conflict { "duplicates carry other labels" } else { "duplicates agree" },
                    params.dup_similarity,
                    others.join(", ")
                ),
            });
        }
    }
    out
}

/// For the off-topic check's second opinion: the probabilities the backbone's own ImageNet
/// classifier gives each photo's embedding for the classes no item photo shows
/// ([`crowdsift_audit::offtopic::NOT_ITEMS`]), row-major, and how many of those classes there are.
/// None for a backbone without its state dict or class names beside it (a user's own ONNX file):
/// the check then rests on distance alone.
fn not_item_probabilities(
    spec: &crowdsift_models::ModelSpec,
    ds: &Dataset,
) -> Result<Option<(Vec<f32>, usize)>, PipelineError> {
    use crowdsift_audit::offtopic::NOT_ITEMS;
    let (Some(ft), Some(dir)) = (&spec.finetune, spec.path.parent()) else { return Ok(None) };
    let Ok(names) = std::fs::read_to_string(dir.join("imagenet_classes.txt")) else { return Ok(None) };
    let names: Vec<&str> = names.lines().collect();
    let columns: Vec<usize> = NOT_ITEMS.iter().filter_map(|c| names.iter().position(|n| n == c)).collect();
    if columns.is_empty() || ds.views > 1 {
        return Ok(None);
    }
    let head = crowdsift_learn::imagenet::ImagenetHead::load(ft.verified_weights()?, ds.dim, names.len())?;
    Ok(Some((head.probabilities(&ds.x, ds.len(), &columns)?, columns.len())))
}

/// Audits the labels of the photos `job.model` embedded in `out`. The screening stage's duplicate
/// groups (exact and perceptual hash) join the embedding duplicates.
pub fn audit(out: &Path, job: &AuditJob, progress: &dyn ProgressReporter) -> Result<AuditSummary, PipelineError> {
    let t0 = Instant::now();
    let spec = crowdsift_models::ModelSpec::backbone(&job.model)?;
    let (backbone, backbone_sha256) = (spec.name.as_str(), spec.sha256.as_str());
    let params = &job.params();
    let mut store = Store::open(&out.join("crowdsift.db"))?;
    let ds = Dataset::from_rows(embedding_rows(&store, out, backbone, backbone_sha256)?)?;
    let config = serde_json::json!({ "backbone": backbone, "backbone_sha256": backbone_sha256, "params": params });
    let run_id = store.begin_run("audit", &out.display().to_string(), &config)?;
    let row_of: std::collections::HashMap<&str, usize> =
        ds.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let known: Vec<Vec<usize>> = crate::dups::known_groups(&store)?
        .iter()
        .map(|g| g.iter().filter_map(|id| row_of.get(id.as_str()).copied()).collect::<Vec<_>>())
        .filter(|g| g.len() > 1)
        .collect();
    let not_items = not_item_probabilities(&spec, &ds)?;
    let report = crowdsift_audit::audit(&ds, params, &known, not_items.as_ref().map(|(p, k)| (&p[..], *k)), progress)?;
    let dir = out.join("audit");
    std::fs::create_dir_all(&dir).map_err(|source| PipelineError::Io { path: dir.clone(), source })?;
    write_labels(&dir.join("labels.csv"), &ds, &report)?;
    write_classes(&dir.join("classes.csv"), &report)?;
    let summary_path = dir.join("summary.json");
    let summary_json = serde_json::json!({
        "photos": ds.len(), "classes": ds.classes.len(), "label_issues": report.issues,
        "outliers": report.outliers, "off_topic": report.off_topic, "duplicate_clusters": report.clusters, "label_conflicts": report.conflicts,
        "out_of_sample_accuracy": report.oos_accuracy, "params": params, "version": crowdsift_core::VERSION,
    });
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary_json).unwrap_or_default())
        .map_err(|source| PipelineError::Io { path: summary_path.clone(), source })?;
    store.replace_stage_findings(run_id, Stage::Audit, &findings(&ds, &report, params))?;
    crowdsift_report::export_findings(&store, out)?;
    store.finish_run(run_id, "done")?;
    Ok(AuditSummary {
        photos: ds.len(),
        classes: ds.classes.len(),
        issues: report.issues,
        outliers: report.outliers,
        off_topic: report.off_topic,
        clusters: report.clusters,
        conflicts: report.conflicts,
        oos_accuracy: report.oos_accuracy,
        dir,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
