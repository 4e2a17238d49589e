//! `train --mode transfer`: a classification head on the cached embeddings of one backbone.

use std::path::{Path, PathBuf};

use crowdsift_embed::from_bytes;
use crowdsift_learn::tensorboard::EventWriter;
use crowdsift_learn::{
    Dataset, EpochMetrics, HEAD_FORMAT, Head, HeadMeta, Row, Split, TrainParams, standardisation, stratified_kfold,
    stratified_split,
};
use crowdsift_store::Store;

use crate::scan::PipelineError;

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainJob {
    /// Backbone whose embeddings to use (name and model file SHA-256).
    pub backbone: String,
    pub backbone_sha256: String,
    /// Share of each class held out for validation.
    pub val_split: f64,
    /// Hidden layer width (0: softmax layer only).
    pub hidden: usize,
    pub params: TrainParams,
    /// Continue from this checkpoint (its run folder is reused).
    pub resume: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub classes: Vec<String>,
    pub train_photos: usize,
    pub val_photos: usize,
    pub epochs: Vec<EpochMetrics>,
    pub best: EpochMetrics,
    pub stopped_early: bool,
    pub checkpoints: PathBuf,
    pub tensorboard: PathBuf,
}

/// A fresh head for `job`, standardised on the training rows of `split`.
fn new_head(ds: &Dataset, split: &Split, job: &TrainJob, config: &serde_json::Value) -> Result<Head, PipelineError> {
    let (mean, std) = standardisation(ds, &split.train);
    let meta = HeadMeta {
        format: HEAD_FORMAT.to_owned(),
        classes: ds.classes.clone(),
        dim: ds.dim,
        hidden: job.hidden,
        backbone: job.backbone.clone(),
        backbone_sha256: job.backbone_sha256.clone(),
        epoch: 0,
        metrics: None,
        params: config.clone(),
    };
    Ok(Head::init(meta, mean, std, job.params.seed)?)
}

/// `(id, label, file sha256, vector)` of every photo embedded by the backbone, or an error that
/// says which command makes them.
pub(crate) fn embedding_rows(
    store: &Store,
    out: &Path,
    backbone: &str,
    sha256: &str,
) -> Result<Vec<Row>, PipelineError> {
    let mut rows = Vec::new();
    store.for_each_embedding(sha256, |id, label, sha, v| {
        rows.push((id.to_owned(), label.map(str::to_owned), sha.to_owned(), from_bytes(v)));
    })?;
    if rows.is_empty() {
        return Err(PipelineError::Invalid(format!(
            "no {backbone} embeddings in {}: run `crowdsift embed SRC --out {} --model {backbone}` first",
            out.display(),
            out.display(),
        )));
    }
    Ok(rows)
}

/// Trains a head on the embeddings in `out/crowdsift.db`; checkpoints go to
/// `out/checkpoints/<run>/` and TensorBoard events to `out/tb/<run>/`.
pub fn train(
    out: &Path,
    job: &TrainJob,
    on_epoch: &mut dyn FnMut(&EpochMetrics),
) -> Result<TrainSummary, PipelineError> {
    let store = Store::open(&out.join("crowdsift.db"))?;
    let ds = Dataset::from_rows(embedding_rows(&store, out, &job.backbone, &job.backbone_sha256)?)?;
    let split = stratified_split(&ds, job.val_split, job.params.seed);
    let config = serde_json::json!({
        "mode": "transfer", "backbone": job.backbone, "backbone_sha256": job.backbone_sha256,
        "val_split": job.val_split, "hidden": job.hidden, "params": job.params,
        "resume": job.resume.as_ref().map(|p| p.display().to_string()),
    });
    let run_id = store.begin_run("train", &out.display().to_string(), &config)?;

    let (mut head, run_name) = match &job.resume {
        Some(ckpt) => {
            let head = Head::load(ckpt)?;
            if head.meta.classes != ds.classes || head.meta.backbone_sha256 != job.backbone_sha256 {
                return Err(PipelineError::Invalid(format!(
                    "{} was trained on other classes or another backbone than the store now holds",
                    ckpt.display()
                )));
            }
            let name = ckpt.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
            (head, name.unwrap_or_else(|| format!("transfer-{run_id}")))
        }
        None => (new_head(&ds, &split, job, &config)?, format!("transfer-{run_id}")),
    };
    let ckpt_dir = out.join("checkpoints").join(&run_name);
    let tb_dir = out.join("tb").join(&run_name);
    let mut tb = EventWriter::create(&tb_dir).map_err(|source| PipelineError::Io { path: tb_dir.clone(), source })?;
    let report = crowdsift_learn::train(&mut head, &ds, &split, &job.params, &ckpt_dir, Some(&mut tb), on_epoch);
    let status = if report.is_ok() { "done" } else { "failed" };
    store.finish_run(run_id, status)?;
    let report = report?;
    Ok(TrainSummary {
        classes: ds.classes.clone(),
        train_photos: split.train.len(),
        val_photos: split.val.len(),
        epochs: report.epochs,
        best: report.best,
        stopped_early: report.stopped_early,
        checkpoints: ckpt_dir,
        tensorboard: tb_dir,
    })
}

/// Result of K-fold cross-validation: the last-epoch metrics of each fold (no epoch is chosen on
/// the held-out fold, so the estimate is not optimistic).
#[derive(Debug, Clone)]
pub struct CvSummary {
    pub classes: usize,
    pub photos: usize,
    pub folds: Vec<EpochMetrics>,
    pub mean_top1: f64,
    pub sd_top1: f64,
    pub mean_top5: f64,
    pub seconds: f64,
    /// `id,fold` of every photo, for running other tools on the same folds.
    pub folds_csv: PathBuf,
}

/// Stratified K-fold cross-validation of `job` (byte-identical photos share a fold), each fold
/// trained for the full `job.params.epochs`. Writes `out/cv/<run>/folds.csv`, and the checkpoints
/// and TensorBoard logs of each fold under `…/cv-<run>/fold-N/`.
pub fn cross_validate(
    out: &Path,
    job: &TrainJob,
    k: usize,
    on_fold: &mut dyn FnMut(usize, &EpochMetrics),
) -> Result<CvSummary, PipelineError> {
    let t0 = std::time::Instant::now();
    let store = Store::open(&out.join("crowdsift.db"))?;
    let ds = Dataset::from_rows(embedding_rows(&store, out, &job.backbone, &job.backbone_sha256)?)?;
    let folds = stratified_kfold(&ds, k, job.params.seed);
    let mut params = job.params.clone();
    params.patience = 0;
    let config = serde_json::json!({
        "mode": "transfer", "folds": k, "backbone": job.backbone, "backbone_sha256": job.backbone_sha256,
        "hidden": job.hidden, "params": params,
    });
    let run_id = store.begin_run("train-cv", &out.display().to_string(), &config)?;
    let name = format!("cv-{run_id}");
    let cv_dir = out.join("cv").join(&name);
    std::fs::create_dir_all(&cv_dir).map_err(|source| PipelineError::Io { path: cv_dir.clone(), source })?;
    let folds_csv = cv_dir.join("folds.csv");
    let mut text = String::from("id,fold\n");
    for (id, f) in ds.ids.iter().zip(&folds) {
        text.push_str(&format!("\"{}\",{f}\n", id.replace('"', "\"\"")));
    }
    std::fs::write(&folds_csv, text).map_err(|source| PipelineError::Io { path: folds_csv.clone(), source })?;
    let mut results = Vec::new();
    for f in 0..k.max(2) {
        let split = Split::from_folds(&folds, f);
        let mut head = new_head(&ds, &split, job, &config)?;
        let fold_dir = |kind: &str| out.join(kind).join(&name).join(format!("fold-{f}"));
        let tb_dir = fold_dir("tb");
        let mut tb =
            EventWriter::create(&tb_dir).map_err(|source| PipelineError::Io { path: tb_dir.clone(), source })?;
        let report = crowdsift_learn::train(
            &mut head,
            &ds,
            &split,
            &params,
            &fold_dir("checkpoints"),
            Some(&mut tb),
            &mut |_| {},
        )?;
        let last = report.epochs.last().cloned().unwrap_or(report.best);
        on_fold(f, &last);
        results.push(last);
    }
    store.finish_run(run_id, "done")?;
    let n = results.len() as f64;
    let mean_top1 = results.iter().map(|m| m.val_top1).sum::<f64>() / n;
    let sd_top1 = (results.iter().map(|m| (m.val_top1 - mean_top1).powi(2)).sum::<f64>() / n).sqrt();
    Ok(CvSummary {
        classes: ds.classes.len(),
        photos: ds.len(),
        mean_top5: results.iter().map(|m| m.val_top5).sum::<f64>() / n,
        folds: results,
        mean_top1,
        sd_top1,
        seconds: t0.elapsed().as_secs_f64(),
        folds_csv,
    })
}
