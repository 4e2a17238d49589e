use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::data::splitmix;
use crate::error::LearnError;

/// What a saved head is: written as JSON next to its safetensors file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMeta {
    /// `crowdsift-head/1`.
    pub format: String,
    pub classes: Vec<String>,
    pub dim: usize,
    /// Width of the hidden layer; 0 for a plain softmax layer.
    pub hidden: usize,
    /// The backbone whose embeddings the head reads, and its model file's SHA-256.
    pub backbone: String,
    pub backbone_sha256: String,
    /// Last epoch trained (1-based) and its validation metrics.
    pub epoch: usize,
    pub metrics: Option<crate::train::EpochMetrics>,
    /// The training parameters.
    pub params: serde_json::Value,
}

pub const FORMAT: &str = "crowdsift-head/1";

/// A classifier on embeddings: standardise with the training set's mean and deviation, then
/// (optionally one ReLU hidden layer and) a linear layer to class logits.
pub struct Head {
    pub meta: HeadMeta,
    mean: Tensor,
    std: Tensor,
    hidden: Option<(Var, Var)>,
    out: (Var, Var),
}

fn uniform(rows: usize, cols: usize, bound: f32, state: &mut u64) -> Result<Var, LearnError> {
    let v: Vec<f32> = (0..rows * cols)
        .map(|_| ((splitmix(state) >> 11) as f64 / (1u64 << 53) as f64) as f32 * 2.0 * bound - bound)
        .collect();
    let shape: Vec<usize> = if cols == 1 { vec![rows] } else { vec![rows, cols] };
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu)?)?)
}

impl Head {
    /// A new head with seeded PyTorch-style initialisation (uniform ±1/√fan_in).
    pub fn init(meta: HeadMeta, mean: Vec<f32>, std: Vec<f32>, seed: u64) -> Result<Self, LearnError> {
        let mut state = seed;
        let dim = meta.dim;
        let classes = meta.classes.len();
        let linear = |i: usize, o: usize, state: &mut u64| -> Result<(Var, Var), LearnError> {
            let b = 1.0 / (i as f32).sqrt();
            Ok((uniform(o, i, b, state)?, uniform(o, 1, b, state)?))
        };
        let hidden = if meta.hidden > 0 { Some(linear(dim, meta.hidden, &mut state)?) } else { None };
        let out = linear(if meta.hidden > 0 { meta.hidden } else { dim }, classes, &mut state)?;
        Ok(Head {
            mean: Tensor::from_vec(mean, dim, &Device::Cpu)?,
            std: Tensor::from_vec(std, dim, &Device::Cpu)?,
            meta,
            hidden,
            out,
        })
    }

    /// Trainable variables.
    pub fn vars(&self) -> Vec<Var> {
        let mut v = Vec::new();
        if let Some((w, b)) = &self.hidden {
            v.extend([w.clone(), b.clone()]);
        }
        v.extend([self.out.0.clone(), self.out.1.clone()]);
        v
    }

    /// Logits `[n, classes]` for embeddings `[n, dim]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, LearnError> {
        let mut h = x.broadcast_sub(&self.mean)?.broadcast_div(&self.std)?;
        if let Some((w, b)) = &self.hidden {
            h = h.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?.relu()?;
        }
        Ok(h.matmul(&self.out.0.as_tensor().t()?)?.broadcast_add(self.out.1.as_tensor())?)
    }

    /// Class probabilities, row-major `n × classes`, for `n` embeddings.
    pub fn predict_proba(&self, x: &[f32], n: usize) -> Result<Vec<f32>, LearnError> {
        let t = Tensor::from_slice(x, (n, self.meta.dim), &Device::Cpu)?;
        let p = candle_nn::ops::softmax(&self.forward(&t)?, D::Minus1)?;
        Ok(p.flatten_all()?.to_vec1::<f32>()?)
    }

    fn tensors(&self) -> HashMap<String, Tensor> {
        let mut m = HashMap::from([
            ("mean".to_owned(), self.mean.clone()),
            ("std".to_owned(), self.std.clone()),
            ("out.weight".to_owned(), self.out.0.as_tensor().clone()),
            ("out.bias".to_owned(), self.out.1.as_tensor().clone()),
        ]);
        if let Some((w, b)) = &self.hidden {
            m.insert("hidden.weight".to_owned(), w.as_tensor().clone());
            m.insert("hidden.bias".to_owned(), b.as_tensor().clone());
        }
        m
    }

    /// Writes `stem.safetensors` (tensors) and `stem.json` ([`HeadMeta`]).
    pub fn save(&self, stem: &Path) -> Result<PathBuf, LearnError> {
        let st = stem.with_extension("safetensors");
        candle_core::safetensors::save(&self.tensors(), &st).map_err(|e| LearnError::file(&st, e))?;
        let js = stem.with_extension("json");
        let text = serde_json::to_string_pretty(&self.meta).map_err(|e| LearnError::file(&js, e))?;
        std::fs::write(&js, text).map_err(|e| LearnError::file(&js, e))?;
        Ok(st)
    }

    /// Loads a head saved by [`Head::save`] from its `.safetensors` or `.json` path.
    pub fn load(path: &Path) -> Result<Self, LearnError> {
        let js = path.with_extension("json");
        let text = std::fs::read_to_string(&js).map_err(|e| LearnError::file(&js, e))?;
        let meta: HeadMeta = serde_json::from_str(&text).map_err(|e| LearnError::file(&js, e))?;
        if meta.format != FORMAT {
            return Err(LearnError::file(&js, format!("format {}, expected {FORMAT}", meta.format)));
        }
        let st = path.with_extension("safetensors");
        let mut t = candle_core::safetensors::load(&st, &Device::Cpu).map_err(|e| LearnError::file(&st, e))?;
        let mut take = |name: &str| -> Result<Tensor, LearnError> {
            t.remove(name)
                .ok_or_else(|| LearnError::file(&st, format!("tensor {name} missing")))?
                .to_dtype(DType::F32)
                .map_err(Into::into)
        };
        let hidden = if meta.hidden > 0 {
            Some((Var::from_tensor(&take("hidden.weight")?)?, Var::from_tensor(&take("hidden.bias")?)?))
        } else {
            None
        };
        let head = Head {
            mean: take("mean")?,
            std: take("std")?,
            out: (Var::from_tensor(&take("out.weight")?)?, Var::from_tensor(&take("out.bias")?)?),
            hidden,
            meta,
        };
        let (o, i) = head.out.0.as_tensor().dims2()?;
        let expect_in = if head.meta.hidden > 0 { head.meta.hidden } else { head.meta.dim };
        if o != head.meta.classes.len() || i != expect_in {
            return Err(LearnError::file(
                &st,
                format!("out.weight is {o}×{i}, metadata says {}×{expect_in}", head.meta.classes.len()),
            ));
        }
        Ok(head)
    }
}
