//! `train`: an item-type classifier, in one of three modes.
//!
//! - transfer: a head on the cached embeddings of a backbone;
//! - finetune: the backbone's last blocks plus a head, on activations cached at the cut point
//!   (with fixed augmented views: crops and flips);
//! - scratch: a small CNN from random weights on downscaled photos (the baseline).

use std::path::{Path, PathBuf};

use crowdsift_core::ProgressReporter;
use crowdsift_embed::from_bytes;
use crowdsift_learn::cnn::{Cnn, CnnArch};
use crowdsift_learn::tail::{Family, Tail};
use crowdsift_learn::tensorboard::EventWriter;
use crowdsift_learn::{
    Classifier, Dataset, EpochMetrics, Head, HeadMeta, Row, Split, TrainParams, load, standardisation,
    stratified_kfold, stratified_split,
};
use crowdsift_models::ModelSpec;
use crowdsift_store::Store;

use crate::features::{self, FeatureSummary, Features, Photo};
use crate::scan::PipelineError;

/// How to train.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// A softmax head (with a hidden layer of this width if non-zero) on frozen embeddings.
    Transfer { hidden: usize },
    /// The last `unfreeze` blocks of the backbone, its head convolution and a new linear layer,
    /// trained on `views` fixed views per photo (view 0 plain, the others augmented).
    Finetune { unfreeze: usize, views: usize, dropout: f32 },
    /// A small CNN from scratch on `views` views per photo.
    Scratch { arch: CnnArch, views: usize },
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Transfer { .. } => "transfer",
            Mode::Finetune { .. } => "finetune",
            Mode::Scratch { .. } => "scratch",
        }
    }
}

/// The way a classifier is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TrainMode {
    /// A softmax head (optionally one hidden layer) on frozen, cached embeddings.
    Transfer,
    /// The backbone's last blocks (--unfreeze) and a new head, on activations cached at the cut
    /// point, with augmented views (random crops and flips).
    Finetune,
    /// A small CNN from random weights on downscaled photos (the baseline).
    Scratch,
}

/// The parameters of the `train` stage: the command's options (flattened into `crowdsift
/// train`) and the Python function's keyword arguments (same names), defaults those of
/// [`Default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(default)]
pub struct TrainJob {
    /// transfer: a head on the cached embeddings; finetune: the backbone's last blocks and a new
    /// head; scratch: a small CNN from random weights.
    #[arg(long, value_enum, default_value_t = TrainMode::Transfer)]
    pub mode: TrainMode,
    /// Backbone whose embeddings to train on (a models.toml name or PATH.onnx).
    #[arg(long, short, default_value_t = crate::BACKBONE.to_owned())]
    pub model: String,
    /// Passes over the training photos (fewer when --patience stops early).
    #[arg(long, default_value_t = TrainJob::default().epochs)]
    pub epochs: usize,
    /// Share of each class held out for validation (stratified, fixed seed).
    #[arg(long, default_value_t = TrainJob::default().val_split)]
    pub val_split: f64,
    /// Learning rate (AdamW).
    #[arg(long, default_value_t = TrainJob::default().lr)]
    pub lr: f64,
    /// Weight decay (AdamW).
    #[arg(long, default_value_t = TrainJob::default().weight_decay)]
    pub weight_decay: f64,
    /// Width of one hidden layer (0: none). Transfer only.
    #[arg(long, default_value_t = TrainJob::default().hidden)]
    pub hidden: usize,
    /// How many of the backbone's last blocks to fine-tune (finetune).
    #[arg(long, default_value_t = TrainJob::default().unfreeze)]
    pub unfreeze: usize,
    /// Views per photo: the plain one and augmented crops/flips, computed once (finetune, scratch).
    #[arg(long, default_value_t = TrainJob::default().views)]
    pub views: usize,
    /// Learning rate of the pretrained layers relative to --lr (finetune).
    #[arg(long, default_value_t = TrainJob::default().backbone_lr)]
    pub backbone_lr: f64,
    /// Epochs at the start that train only the new layer, the pretrained ones frozen (finetune).
    #[arg(long, default_value_t = TrainJob::default().warmup)]
    pub warmup: usize,
    /// Dropout before the last layer (finetune, scratch).
    #[arg(long, default_value_t = TrainJob::default().dropout)]
    pub dropout: f32,
    /// Photo side for the from-scratch CNN (scratch).
    #[arg(long, default_value_t = TrainJob::default().size)]
    pub size: usize,
    /// Decode and inference threads when features must be computed [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    /// Photos per optimisation step.
    #[arg(long, default_value_t = TrainJob::default().batch)]
    pub batch: usize,
    /// Stop when validation top-1 has not improved for this many epochs (0: never).
    #[arg(long, default_value_t = TrainJob::default().patience)]
    pub patience: usize,
    /// Seed of the validation split, the initial weights, the shuffling and the augmentation.
    #[arg(long, default_value_t = TrainJob::default().seed)]
    pub seed: u64,
    /// Weight classes by inverse frequency, so rare item types count as much.
    #[arg(
        long = "no-class-weights",
        action = clap::ArgAction::SetFalse,
        help = "Do not weight classes by inverse frequency"
    )]
    pub class_weights: bool,
    /// Continue from a checkpoint (…/checkpoints/RUN/epoch-NNN.safetensors).
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

impl Default for TrainJob {
    fn default() -> Self {
        let p = TrainParams::default();
        let arch = CnnArch::default();
        TrainJob {
            mode: TrainMode::Transfer,
            model: crate::BACKBONE.to_owned(),
            epochs: p.epochs,
            val_split: 0.2,
            lr: p.lr,
            weight_decay: p.weight_decay,
            hidden: 0,
            unfreeze: 1,
            views: 8,
            backbone_lr: p.backbone_lr,
            warmup: 5,
            dropout: 0.2,
            size: arch.size,
            jobs: crowdsift_core::cores(),
            batch: p.batch,
            patience: p.patience,
            seed: p.seed,
            class_weights: p.class_weights,
            resume: None,
        }
    }
}

impl TrainJob {
    /// The mode with its own parameters.
    pub fn method(&self) -> Mode {
        match self.mode {
            TrainMode::Transfer => Mode::Transfer { hidden: self.hidden },
            TrainMode::Finetune => Mode::Finetune { unfreeze: self.unfreeze, views: self.views, dropout: self.dropout },
            TrainMode::Scratch => Mode::Scratch {
                arch: CnnArch { size: self.size, dropout: self.dropout, ..Default::default() },
                views: self.views,
            },
        }
    }

    /// The optimisation's parameters (the warm-up freezes pretrained layers: fine-tuning only).
    pub fn train_params(&self) -> TrainParams {
        TrainParams {
            epochs: self.epochs,
            lr: self.lr,
            weight_decay: self.weight_decay,
            batch: self.batch.max(1),
            patience: self.patience,
            seed: self.seed,
            class_weights: self.class_weights,
            backbone_lr: self.backbone_lr,
            warmup: if self.mode == TrainMode::Finetune { self.warmup } else { 0 },
        }
    }

    fn plan(&self) -> Result<TrainPlan, PipelineError> {
        Ok(TrainPlan {
            backbone: ModelSpec::backbone(&self.model)?,
            mode: self.method(),
            val_split: self.val_split,
            params: self.train_params(),
            resume: self.resume.clone(),
            jobs: self.jobs.max(1),
        })
    }
}

/// A job with its backbone found and its parameters in the learner's terms.
#[derive(Debug, Clone)]
struct TrainPlan {
    /// The backbone (embeddings, or the network fine-tuned). Scratch training reads the same photos.
    backbone: ModelSpec,
    mode: Mode,
    /// Share of each class held out for validation.
    val_split: f64,
    params: TrainParams,
    /// Continue from this checkpoint (its run folder is reused).
    resume: Option<PathBuf>,
    /// Threads for decoding and inference when features must be computed.
    jobs: usize,
}

#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub classes: Vec<String>,
    pub train_photos: usize,
    pub val_photos: usize,
    /// Photos whose features were computed or read from the cache (finetune, scratch).
    pub features: Option<FeatureSummary>,
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
        return Err(no_embeddings(out, backbone));
    }
    Ok(rows)
}

fn no_embeddings(out: &Path, backbone: &str) -> PipelineError {
    PipelineError::Invalid(format!(
        "no {backbone} embeddings in {}: run `crowdsift embed SRC --out {} --model {backbone}` first",
        out.display(),
        out.display(),
    ))
}

/// What fine-tuning `unfreeze` blocks of a backbone needs: the cut tensor it reads, how its
/// weights are named, the trainable blocks and the weights file's entry.
struct FinetunePlan<'a> {
    cut: String,
    family: Family,
    blocks: Vec<usize>,
    weights: &'a crowdsift_models::FinetuneSpec,
}

fn finetune_plan(backbone: &ModelSpec, unfreeze: usize) -> Result<FinetunePlan<'_>, PipelineError> {
    let ft = backbone.finetune.as_ref().ok_or_else(|| {
        PipelineError::Invalid(format!(
            "model {} declares no fine-tuning weights ([model.{}.finetune] in models.toml)",
            backbone.name, backbone.name
        ))
    })?;
    let cut = ft.cuts.get(unfreeze.max(1) - 1).ok_or_else(|| {
        PipelineError::Invalid(format!("{} can unfreeze 1 to {} blocks, not {unfreeze}", backbone.name, ft.cuts.len()))
    })?;
    let family = match ft.family.as_str() {
        "efficientnet-lite" => Family::EfficientnetLite,
        "mobilenet-v2" => Family::MobilenetV2,
        other => return Err(PipelineError::Invalid(format!("unknown backbone family `{other}` in models.toml"))),
    };
    Ok(FinetunePlan { cut: cut.tensor.clone(), family, blocks: (cut.block..=ft.last_block).collect(), weights: ft })
}

/// The features a head reads, for its mode (None: plain embeddings).
fn head_features(backbone: &ModelSpec, meta: &HeadMeta) -> Option<Features> {
    match &meta.arch {
        crowdsift_learn::Arch::Linear => None,
        crowdsift_learn::Arch::Tail(t) => Some(Features::Cut { model: Box::new(backbone.clone()), cut: t.cut.clone() }),
        crowdsift_learn::Arch::Cnn(c) => Some(Features::Pixels { size: c.size as u32 }),
    }
}

/// The training data of `job`: its rows (with views) and, when features were needed, what
/// computing them did.
fn dataset(
    store: &mut Store,
    out: &Path,
    job: &TrainPlan,
    progress: &dyn ProgressReporter,
) -> Result<(Dataset, Option<FeatureSummary>), PipelineError> {
    let b = &job.backbone;
    let (features, views) = match &job.mode {
        Mode::Transfer { .. } => {
            return Ok((Dataset::from_rows(embedding_rows(store, out, &b.name, &b.sha256)?)?, None));
        }
        Mode::Finetune { unfreeze, views, .. } => {
            let cut = finetune_plan(b, *unfreeze)?.cut;
            (Features::Cut { model: Box::new(b.clone()), cut }, (*views).max(1))
        }
        Mode::Scratch { arch, views } => (Features::Pixels { size: arch.size as u32 }, (*views).max(1)),
    };
    let (ds, summary) = feature_dataset(store, out, b, &features, views, job.jobs, progress)?;
    Ok((ds, Some(summary)))
}

/// Rows of `features` (`views` per photo) for every photo the backbone embedded, computing what
/// the cache lacks.
pub(crate) fn feature_dataset(
    store: &mut Store,
    out: &Path,
    backbone: &ModelSpec,
    features: &Features,
    views: usize,
    jobs: usize,
    progress: &dyn ProgressReporter,
) -> Result<(Dataset, FeatureSummary), PipelineError> {
    let photos: Vec<Photo> = store.embedded_images(&backbone.sha256)?;
    if photos.is_empty() {
        return Err(no_embeddings(out, &backbone.name));
    }
    let summary = features::ensure(store, &photos, features, views, jobs, progress)?;
    let rows = features::rows(store, &photos, features, views)?;
    Ok((Dataset::from_rows(rows)?.with_views(views)?, summary))
}

/// A fresh classifier for `job`, standardised (transfer) on the training rows of `split`.
fn new_model(
    ds: &Dataset,
    split: &Split,
    job: &TrainPlan,
    config: &serde_json::Value,
) -> Result<Box<dyn Classifier>, PipelineError> {
    let meta = HeadMeta {
        params: config.clone(),
        ..HeadMeta::new(ds.classes.clone(), ds.dim, &job.backbone.name, &job.backbone.sha256)
    };
    let seed = job.params.seed;
    Ok(match &job.mode {
        Mode::Transfer { hidden } => {
            let (mean, std) = standardisation(ds, &split.train);
            Box::new(Head::init(HeadMeta { hidden: *hidden, ..meta }, mean, std, seed)?)
        }
        Mode::Finetune { unfreeze, dropout, .. } => {
            let plan = finetune_plan(&job.backbone, *unfreeze)?;
            let pth = plan.weights.verified_weights()?;
            let mut tail = Tail::from_pth(meta, pth, plan.family, &plan.cut, ds.dim, &plan.blocks, *dropout, seed)?;
            tail.standardise_on(ds, &split.train)?;
            Box::new(tail)
        }
        Mode::Scratch { arch, .. } => Box::new(Cnn::init(meta, arch.clone(), seed)?),
    })
}

fn job_config(job: &TrainPlan) -> serde_json::Value {
    serde_json::json!({
        "mode": job.mode.name(), "mode_params": job.mode, "backbone": job.backbone.name,
        "backbone_sha256": job.backbone.sha256, "val_split": job.val_split, "params": job.params,
        "resume": job.resume.as_ref().map(|p| p.display().to_string()),
    })
}

/// Trains a classifier on the photos in `out/crowdsift.db`; checkpoints go to
/// `out/checkpoints/<run>/` and TensorBoard events to `out/tb/<run>/`.
pub fn train(
    out: &Path,
    job: &TrainJob,
    progress: &dyn ProgressReporter,
    on_epoch: &mut dyn FnMut(&EpochMetrics),
) -> Result<TrainSummary, PipelineError> {
    let job = &job.plan()?;
    let mut store = Store::open(&out.join("crowdsift.db"))?;
    let (ds, features) = dataset(&mut store, out, job, progress)?;
    let split = stratified_split(&ds, job.val_split, job.params.seed);
    let config = job_config(job);
    let run_id = store.begin_run("train", &out.display().to_string(), &config)?;
    let mode = job.mode.name();

    let (mut model, run_name) = match &job.resume {
        Some(ckpt) => {
            let model = load(ckpt)?;
            let m = model.meta();
            if m.classes != ds.classes || m.backbone_sha256 != job.backbone.sha256 || m.dim != ds.dim {
                return Err(PipelineError::Invalid(format!(
                    "{} was trained on other classes, another backbone or another mode than asked",
                    ckpt.display()
                )));
            }
            let name = ckpt.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
            (model, name.unwrap_or_else(|| format!("{mode}-{run_id}")))
        }
        None => (new_model(&ds, &split, job, &config)?, format!("{mode}-{run_id}")),
    };
    let ckpt_dir = out.join("checkpoints").join(&run_name);
    let tb_dir = out.join("tb").join(&run_name);
    let mut tb = EventWriter::create(&tb_dir).map_err(|source| PipelineError::Io { path: tb_dir.clone(), source })?;
    let report = crowdsift_learn::train(&mut *model, &ds, &split, &job.params, &ckpt_dir, Some(&mut tb), on_epoch);
    let status = if report.is_ok() { "done" } else { "failed" };
    store.finish_run(run_id, status)?;
    let report = report?;
    Ok(TrainSummary {
        classes: ds.classes.clone(),
        train_photos: split.train.len(),
        val_photos: split.val.len(),
        features,
        epochs: report.epochs,
        best: report.best,
        stopped_early: report.stopped_early,
        checkpoints: ckpt_dir,
        tensorboard: tb_dir,
    })
}

/// Input rows (view 0) for a trained classifier: its backbone's embeddings, or the features it
/// reads, computed where the cache lacks them.
pub(crate) fn model_rows(
    store: &mut Store,
    out: &Path,
    meta: &HeadMeta,
    registry: Option<&crowdsift_models::Registry>,
    jobs: usize,
    progress: &dyn ProgressReporter,
) -> Result<Vec<Row>, PipelineError> {
    if matches!(meta.arch, crowdsift_learn::Arch::Linear) {
        return embedding_rows(store, out, &meta.backbone, &meta.backbone_sha256);
    }
    let registry = registry.ok_or_else(|| PipelineError::Invalid("models.toml is needed for this head".into()))?;
    let backbone = registry.verified(&meta.backbone)?.clone();
    if backbone.sha256 != meta.backbone_sha256 {
        return Err(PipelineError::Invalid(format!(
            "the head was trained on {} {}, models.toml has {}",
            meta.backbone, meta.backbone_sha256, backbone.sha256
        )));
    }
    let features = head_features(&backbone, meta).ok_or_else(|| PipelineError::Invalid("no features".into()))?;
    let photos: Vec<Photo> = store.embedded_images(&backbone.sha256)?;
    features::ensure(store, &photos, &features, 1, jobs, progress)?;
    features::rows(store, &photos, &features, 1)
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
    progress: &dyn ProgressReporter,
    on_fold: &mut dyn FnMut(usize, &EpochMetrics),
) -> Result<CvSummary, PipelineError> {
    let job = &job.plan()?;
    let mut store = Store::open(&out.join("crowdsift.db"))?;
    let (ds, _) = dataset(&mut store, out, job, progress)?;
    // Training time only: computing and caching features on first use is not counted.
    let t0 = std::time::Instant::now();
    let folds = stratified_kfold(&ds, k, job.params.seed);
    let mut params = job.params.clone();
    params.patience = 0;
    let mut config = job_config(job);
    config["folds"] = k.into();
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
        let mut model = new_model(&ds, &split, job, &config)?;
        let fold_dir = |kind: &str| out.join(kind).join(&name).join(format!("fold-{f}"));
        let tb_dir = fold_dir("tb");
        let mut tb =
            EventWriter::create(&tb_dir).map_err(|source| PipelineError::Io { path: tb_dir.clone(), source })?;
        let report = crowdsift_learn::train(
            &mut *model,
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
