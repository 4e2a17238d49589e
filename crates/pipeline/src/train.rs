//! `train --mode transfer`: a classification head on the cached embeddings of one backbone.

use std::path::{Path, PathBuf};

use crowdsift_embed::from_bytes;
use crowdsift_learn::tensorboard::EventWriter;
use crowdsift_learn::{
    Dataset, EpochMetrics, HEAD_FORMAT, Head, HeadMeta, Row, TrainParams, standardisation, stratified_split,
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
        None => {
            let (mean, std) = standardisation(&ds, &split.train);
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
            (Head::init(meta, mean, std, job.params.seed)?, format!("transfer-{run_id}"))
        }
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
