//! Training inputs other than embeddings, computed once per photo bytes and view and cached in the
//! store: activations at a fine-tuning cut point, or photos downscaled for the from-scratch CNN.
//!
//! Threads: decode workers read, decode and cut each photo's views; this thread runs the backbone
//! (when there is one) on batches of views and stores the results. Queues are bounded.

use std::collections::HashSet;

use crossbeam_channel::bounded;
use crowdsift_core::{Limits, ProgressReporter};
use crowdsift_embed::{from_bytes, to_bytes, training_view};
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode};
use crowdsift_learn::tail::channels_last;
use crowdsift_models::graph::Edit;
use crowdsift_models::{InputSpec, ModelSpec, OnnxModel};
use crowdsift_store::Store;

use crate::scan::PipelineError;

pub use crowdsift_store::StoredPhoto as Photo;

/// What to compute per view.
#[derive(Debug, Clone)]
pub enum Features {
    /// The backbone's `cut` tensor (channels last).
    Cut { model: Box<ModelSpec>, cut: String },
    /// The photo itself at `size`², `(px − 127.5) / 127.5`, channels first.
    Pixels { size: u32 },
}

impl Features {
    /// Cache key: what the features are, down to the model file's checksum.
    pub fn key(&self) -> String {
        match self {
            Features::Cut { model, cut } => format!("{}:{cut}", model.sha256),
            Features::Pixels { size } => format!("pixels:{size}"),
        }
    }

    fn input(&self) -> InputSpec {
        match self {
            Features::Cut { model, .. } => model.input.clone(),
            Features::Pixels { size } => InputSpec {
                name: "pixels".into(),
                size: *size,
                // As the backbones do: resize to 8/7 of the crop, then crop.
                resize_short_side: size * 8 / 7,
                mean: [127.5; 3],
                std: [127.5; 3],
            },
        }
    }
}

/// Outcome of [`ensure`].
#[derive(Debug, Clone, Default)]
pub struct FeatureSummary {
    pub computed: usize,
    pub cached: usize,
    /// Photos whose bytes could not be read or decoded again: (id, reason).
    pub failed: Vec<(String, String)>,
}

/// Makes sure views `0..views` of `features` are cached for every photo in `photos`.
pub fn ensure(
    store: &mut Store,
    photos: &[Photo],
    features: &Features,
    views: usize,
    jobs: usize,
    progress: &dyn ProgressReporter,
) -> Result<FeatureSummary, PipelineError> {
    let key = features.key();
    let done = store.featured(&key, views)?;
    let mut seen = HashSet::new();
    let todo: Vec<&Photo> = photos.iter().filter(|p| !done.contains(&p.2) && seen.insert(p.2.clone())).collect();
    let mut summary = FeatureSummary { cached: photos.len() - todo.len(), ..Default::default() };
    if todo.is_empty() {
        return Ok(summary);
    }
    let mut model = match features {
        Features::Cut { model, cut } => {
            let edit = Edit { outputs: vec![cut.clone()], ..Default::default() };
            Some((OnnxModel::load_edited(model, jobs, &edit)?, cut.clone()))
        }
        Features::Pixels { .. } => None,
    };
    let spec = features.input();
    let fetcher = Fetcher::new(Limits::default());
    let dp = DecodeParams { limits: Limits::default(), fit: Fit::AtLeastShortSide(spec.resize_short_side) };
    progress.start("features", Some(todo.len() as u64));
    let (item_tx, item_rx) = bounded::<&Photo>(jobs * 2);
    let (view_tx, view_rx) = bounded::<Result<(String, Vec<f32>), (String, String)>>(jobs * 2);
    std::thread::scope(|s| -> Result<(), PipelineError> {
        for _ in 0..jobs.max(1) {
            let (rx, tx, spec, fetcher, dp) = (item_rx.clone(), view_tx.clone(), &spec, &fetcher, &dp);
            s.spawn(move || {
                for (id, _, sha, uri) in rx {
                    let r = fetcher
                        .fetch(&Location::from_uri(uri))
                        .and_then(|bytes| decode(&bytes, dp))
                        .map(|d| (0..views).flat_map(|v| training_view(&d.image, spec, sha, v)).collect::<Vec<f32>>())
                        .map(|x| (sha.clone(), x))
                        .map_err(|e| (id.clone(), e.to_string()));
                    if tx.send(r).is_err() {
                        break;
                    }
                }
            });
        }
        drop((item_rx, view_tx));
        s.spawn(move || {
            for p in todo {
                if item_tx.send(p).is_err() {
                    break;
                }
            }
        });
        let per_view = (3 * spec.size * spec.size) as usize;
        let mut batch: Vec<(String, Vec<f32>)> = Vec::new();
        let mut flush = |batch: &mut Vec<(String, Vec<f32>)>| -> Result<usize, PipelineError> {
            let n = batch.len() * views;
            let mut rows = Vec::new();
            match &mut model {
                Some((m, cut)) => {
                    let input: Vec<f32> = batch.iter().flat_map(|b| b.1.iter().copied()).collect();
                    let (shape, x) = m.run(&input, n, &[cut.as_str()])?.pop().unwrap_or_default();
                    let [_, c, h, w] = shape[..] else {
                        return Err(PipelineError::Invalid(format!("cut tensor {cut} has shape {shape:?}, not NCHW")));
                    };
                    let x = channels_last(&x, n, c, h, w)?;
                    for (k, v) in x.chunks(c * h * w).enumerate() {
                        rows.push((batch[k / views].0.clone(), k % views, to_bytes(v)));
                    }
                }
                None => {
                    for (sha, x) in batch.iter() {
                        rows.extend(x.chunks(per_view).enumerate().map(|(v, px)| (sha.clone(), v, to_bytes(px))));
                    }
                }
            }
            store.put_features(&key, &rows)?;
            let done = batch.len();
            batch.clear();
            Ok(done)
        };
        for r in view_rx {
            progress.advance(1);
            match r {
                Ok(item) => batch.push(item),
                Err(failed) => summary.failed.push(failed),
            }
            if batch.len() * views >= 32 {
                summary.computed += flush(&mut batch)?;
            }
        }
        summary.computed += flush(&mut batch)?;
        Ok(())
    })?;
    progress.finish();
    Ok(summary)
}

/// `(id, label, sha256, views × dim values)` of every photo with all views cached.
pub fn rows(
    store: &Store,
    photos: &[Photo],
    features: &Features,
    views: usize,
) -> Result<Vec<crowdsift_learn::Row>, PipelineError> {
    let key = features.key();
    let mut out = Vec::new();
    for (id, label, sha, _) in photos {
        if let Some(b) = store.features(&key, sha, views)? {
            out.push((id.clone(), label.clone(), sha.clone(), from_bytes(&b)));
        }
    }
    Ok(out)
}
