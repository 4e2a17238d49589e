use std::path::Path;
use std::time::Instant;

use candle_core::{D, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Split, shuffle, splitmix};
use crate::error::LearnError;
use crate::head::{Classifier, save};
use crate::tensorboard::EventWriter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub epochs: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub batch: usize,
    /// Stop when validation top-1 has not improved for this many epochs (0: never).
    pub patience: usize,
    pub seed: u64,
    /// Weight each class by n / (classes · n_class), so rare item types count as much.
    pub class_weights: bool,
    /// Learning rate of pretrained backbone layers relative to `lr` (fine-tuning).
    #[serde(default = "default_backbone_lr")]
    pub backbone_lr: f64,
    /// Epochs at the start in which only the new layers learn (pretrained layers frozen): the new
    /// layer settles before its gradients reach the pretrained ones ("linear probe, then fine-tune").
    #[serde(default)]
    pub warmup: usize,
}

fn default_backbone_lr() -> f64 {
    0.1
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            epochs: 40,
            lr: 1e-3,
            weight_decay: 1e-2,
            batch: 64,
            patience: 10,
            seed: 42,
            class_weights: true,
            backbone_lr: default_backbone_lr(),
            warmup: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_top1: f64,
    pub val_top5: f64,
    pub seconds: f64,
}

#[derive(Debug, Clone)]
pub struct TrainReport {
    pub epochs: Vec<EpochMetrics>,
    pub best: EpochMetrics,
    pub stopped_early: bool,
}

/// Rows `rows` (view `view(i)` of each) as a batch.
fn gather(ds: &Dataset, rows: &[usize], view: impl Fn(usize) -> usize) -> Result<(Tensor, Tensor), LearnError> {
    let mut x = Vec::new();
    x.reserve_exact(rows.len() * ds.dim);
    for &i in rows {
        x.extend_from_slice(ds.view(i, view(i)));
    }
    let y: Vec<u32> = rows.iter().map(|&i| ds.y[i]).collect();
    Ok((Tensor::from_vec(x, (rows.len(), ds.dim), &Device::Cpu)?, Tensor::from_vec(y, rows.len(), &Device::Cpu)?))
}

/// Weighted mean negative log-likelihood.
fn loss(logits: &Tensor, y: &Tensor, weights: &Tensor) -> Result<Tensor, LearnError> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let nll = logp.gather(&y.unsqueeze(1)?, 1)?.squeeze(1)?.neg()?;
    let w = weights.index_select(y, 0)?;
    Ok((nll * &w)?.sum_all()?.broadcast_div(&w.sum_all()?)?)
}

/// Loss (unweighted), top-1 and top-5 accuracy of `model` on view 0 of `rows`.
pub fn evaluate_split(model: &dyn Classifier, ds: &Dataset, rows: &[usize]) -> Result<(f64, f64, f64), LearnError> {
    if rows.is_empty() {
        return Ok((f64::NAN, f64::NAN, f64::NAN));
    }
    let ones = Tensor::ones(ds.classes.len(), candle_core::DType::F32, &Device::Cpu)?;
    let (mut total, mut top1, mut top5) = (0f64, 0usize, 0usize);
    for chunk in rows.chunks(EVAL_BATCH) {
        let (x, y) = gather(ds, chunk, |_| 0)?;
        let logits = model.forward(&x, None)?;
        total += f64::from(loss(&logits, &y, &ones)?.to_scalar::<f32>()?) * chunk.len() as f64;
        for (s, &i) in logits.to_vec2::<f32>()?.iter().zip(chunk) {
            let truth = s[ds.y[i] as usize];
            let better = s.iter().filter(|&&v| v > truth).count();
            top1 += usize::from(better == 0);
            top5 += usize::from(better < 5);
        }
    }
    let n = rows.len() as f64;
    Ok((total / n, top1 as f64 / n, top5 as f64 / n))
}

/// Rows per forward pass when evaluating (bounds the activations of a fine-tuned tail).
const EVAL_BATCH: usize = 4096;

/// Per-feature mean and standard deviation of the training rows.
pub fn standardisation(ds: &Dataset, rows: &[usize]) -> (Vec<f32>, Vec<f32>) {
    let mut m = Moments::new(ds.dim);
    for &i in rows {
        m.add(ds.row(i));
    }
    m.mean_std(1e-6)
}

/// Running per-feature sums for a mean and standard deviation.
pub(crate) struct Moments {
    sum: Vec<f64>,
    sq: Vec<f64>,
    n: usize,
}

impl Moments {
    pub(crate) fn new(dim: usize) -> Self {
        Moments { sum: vec![0.0; dim], sq: vec![0.0; dim], n: 0 }
    }

    pub(crate) fn add(&mut self, row: &[f32]) {
        for (k, &v) in row.iter().enumerate() {
            self.sum[k] += f64::from(v);
            self.sq[k] += f64::from(v) * f64::from(v);
        }
        self.n += 1;
    }

    /// Mean and standard deviation (at least `floor`) per feature.
    pub(crate) fn mean_std(&self, floor: f32) -> (Vec<f32>, Vec<f32>) {
        let n = self.n.max(1) as f64;
        let mean = self.sum.iter().map(|s| (s / n) as f32).collect();
        let sd = self
            .sq
            .iter()
            .zip(&self.sum)
            .map(|(q, s)| ((q / n - (s / n).powi(2)).max(0.0).sqrt() as f32).max(floor))
            .collect();
        (mean, sd)
    }
}

/// Optimisers, class weights and batch order of one training run.
struct Trainer<'a> {
    params: &'a TrainParams,
    weights: Tensor,
    opt: AdamW,
    opt_backbone: AdamW,
    order: Vec<usize>,
}

impl<'a> Trainer<'a> {
    fn new(model: &dyn Classifier, ds: &Dataset, rows: &[usize], params: &'a TrainParams) -> Result<Self, LearnError> {
        let classes = ds.classes.len();
        let mut counts = vec![0usize; classes];
        for &i in rows {
            counts[ds.y[i] as usize] += 1;
        }
        let weights: Vec<f32> = counts
            .iter()
            .map(|&c| if params.class_weights && c > 0 { rows.len() as f32 / (classes as f32 * c as f32) } else { 1.0 })
            .collect();
        let (backbone, fresh) = model.vars();
        let adam = |lr: f64| ParamsAdamW { lr, weight_decay: params.weight_decay, ..Default::default() };
        Ok(Trainer {
            params,
            weights: Tensor::from_vec(weights, classes, &Device::Cpu)?,
            opt: AdamW::new(fresh, adam(params.lr))?,
            opt_backbone: AdamW::new(backbone, adam(params.lr * params.backbone_lr))?,
            order: rows.to_vec(),
        })
    }

    /// One pass over the rows; returns the mean training loss. The shuffle, views and dropout of
    /// epoch `e` depend only on the seed and `e`, so a resumed run sees the same batches.
    fn epoch(&mut self, model: &mut dyn Classifier, ds: &Dataset, epoch: usize) -> Result<f64, LearnError> {
        let params = self.params;
        let mut state = params.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9);
        shuffle(&mut self.order, &mut state);
        let mut dropout_state = state;
        let views = ds.views.max(1);
        let view_seed = params.seed.wrapping_add(epoch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
        let view =
            |i: usize| if views == 1 { 0 } else { (splitmix(&mut (view_seed ^ i as u64)) % views as u64) as usize };
        let mut total = 0f64;
        for chunk in self.order.chunks(params.batch.max(1)) {
            let (x, y) = gather(ds, chunk, view)?;
            let l = loss(&model.forward(&x, Some(&mut dropout_state))?, &y, &self.weights)?;
            let grads = l.backward()?;
            self.opt.step(&grads)?;
            if epoch > params.warmup {
                self.opt_backbone.step(&grads)?;
            }
            total += f64::from(l.to_scalar::<f32>()?) * chunk.len() as f64;
        }
        Ok(total / self.order.len().max(1) as f64)
    }
}

/// Fits `model` on `rows` for `params.epochs` epochs, with no validation and no checkpoints (for
/// out-of-sample predictions, where nothing may be chosen on held-out photos); `on_epoch` hears
/// each finished epoch. Returns the last epoch's training loss.
pub fn fit(
    model: &mut dyn Classifier,
    ds: &Dataset,
    rows: &[usize],
    params: &TrainParams,
    on_epoch: &mut dyn FnMut(usize),
) -> Result<f64, LearnError> {
    let mut trainer = Trainer::new(&*model, ds, rows, params)?;
    let mut last = f64::NAN;
    for epoch in 1..=params.epochs {
        last = trainer.epoch(model, ds, epoch)?;
        on_epoch(epoch);
    }
    Ok(last)
}

/// Trains `model` on `split.train`, validating on `split.val` after every epoch; writes
/// `epoch-NNN` and `best` checkpoints into `ckpt_dir` and scalars to `tb`. Epochs continue from
/// `meta.epoch` (resume). Optimiser moments start afresh on resume. Photos with several views
/// show one of them per epoch, drawn from the seed.
pub fn train(
    model: &mut dyn Classifier,
    ds: &Dataset,
    split: &Split,
    params: &TrainParams,
    ckpt_dir: &Path,
    mut tb: Option<&mut EventWriter>,
    on_epoch: &mut dyn FnMut(&EpochMetrics),
) -> Result<TrainReport, LearnError> {
    std::fs::create_dir_all(ckpt_dir).map_err(|e| LearnError::file(ckpt_dir, e))?;
    let mut trainer = Trainer::new(&*model, ds, &split.train, params)?;
    let mut history = Vec::new();
    let mut best: Option<EpochMetrics> = None;
    let mut since_best = 0;
    let start = model.meta().epoch;
    let mut stopped_early = false;
    for epoch in start + 1..=params.epochs {
        let t0 = Instant::now();
        let train_loss = trainer.epoch(model, ds, epoch)?;
        let (val_loss, val_top1, val_top5) = evaluate_split(&*model, ds, &split.val)?;
        let m = EpochMetrics { epoch, train_loss, val_loss, val_top1, val_top5, seconds: t0.elapsed().as_secs_f64() };
        model.meta_mut().epoch = epoch;
        model.meta_mut().metrics = Some(m.clone());
        save(&*model, &ckpt_dir.join(format!("epoch-{epoch:03}")))?;
        let improved = best.as_ref().is_none_or(|b| (m.val_top1, -m.val_loss) > (b.val_top1, -b.val_loss));
        if improved {
            save(&*model, &ckpt_dir.join("best"))?;
            best = Some(m.clone());
            since_best = 0;
        } else {
            since_best += 1;
        }
        if let Some(w) = tb.as_deref_mut() {
            let step = epoch as i64;
            for (tag, v) in [
                ("train/loss", m.train_loss),
                ("val/loss", m.val_loss),
                ("val/top1", m.val_top1),
                ("val/top5", m.val_top5),
            ] {
                w.scalar(tag, step, v as f32).map_err(|e| LearnError::file(ckpt_dir, e))?;
            }
            w.flush().map_err(|e| LearnError::file(ckpt_dir, e))?;
        }
        on_epoch(&m);
        history.push(m);
        if params.patience > 0 && since_best >= params.patience {
            stopped_early = true;
            break;
        }
    }
    let best = best
        .ok_or_else(|| LearnError::Data(format!("nothing to train: already at epoch {start} of {}", params.epochs)))?;
    Ok(TrainReport { epochs: history, best, stopped_early })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::stratified_split;
    use crate::head::{Head, HeadMeta, load, predict_proba};

    /// Three Gaussian blobs in 16 dimensions.
    fn blobs() -> Dataset {
        let mut state = 1;
        let mut rows = Vec::new();
        for c in 0..3 {
            for k in 0..60 {
                let v: Vec<f32> = (0..16)
                    .map(|d| {
                        let noise = (splitmix(&mut state) % 1000) as f32 / 1000.0 - 0.5;
                        if d == c { 3.0 + noise } else { noise }
                    })
                    .collect();
                rows.push((format!("{c}-{k}"), Some(format!("c{c}")), format!("{c}-{k}"), v));
            }
        }
        Dataset::from_rows(rows).unwrap()
    }

    fn new_head(ds: &Dataset, split: &Split, hidden: usize) -> Head {
        let (m, s) = standardisation(ds, &split.train);
        let meta = HeadMeta { hidden, ..HeadMeta::new(ds.classes.clone(), ds.dim, "test", "0") };
        Head::init(meta, m, s, 7).unwrap()
    }

    #[test]
    fn learns_separable_classes_saves_and_resumes() {
        let ds = blobs();
        let split = stratified_split(&ds, 0.2, 1);
        let dir = tempfile::tempdir().unwrap();
        for hidden in [0, 32] {
            let mut head = new_head(&ds, &split, hidden);
            let params = TrainParams { epochs: 30, lr: 3e-2, patience: 0, ..Default::default() };
            let mut seen = 0;
            let report = train(&mut head, &ds, &split, &params, dir.path(), None, &mut |_| seen += 1).unwrap();
            assert_eq!(seen, 30);
            assert!(report.best.val_top1 > 0.97, "{:?}", report.best);
            assert!(report.epochs[29].train_loss < 0.5 * report.epochs[0].train_loss);

            // Saved heads predict the same; resuming continues at epoch 31.
            let loaded = load(&dir.path().join("epoch-030.safetensors")).unwrap();
            let x = ds.row(0);
            assert_eq!(predict_proba(&*loaded, x, 1).unwrap(), predict_proba(&head, x, 1).unwrap());
            let mut resumed = loaded;
            let more = TrainParams { epochs: 32, ..params };
            let r = train(&mut *resumed, &ds, &split, &more, dir.path(), None, &mut |_| {}).unwrap();
            assert_eq!(r.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), [31, 32]);
        }
    }

    #[test]
    fn training_is_reproducible() {
        let ds = blobs();
        let split = stratified_split(&ds, 0.2, 1);
        let dir = tempfile::tempdir().unwrap();
        let params = TrainParams { epochs: 3, patience: 0, ..Default::default() };
        let run = || {
            let mut head = new_head(&ds, &split, 0);
            train(&mut head, &ds, &split, &params, dir.path(), None, &mut |_| {}).unwrap().epochs
        };
        let strip =
            |v: Vec<EpochMetrics>| v.into_iter().map(|e| EpochMetrics { seconds: 0.0, ..e }).collect::<Vec<_>>();
        assert_eq!(strip(run()), strip(run()));
    }
}
