//! The backbone's own ImageNet classifier, applied to stored embeddings: the final layer of the
//! pretrained network (`logits = W · embedding + b`, 1000 classes) is read from its `.pth` state
//! dict, so class probabilities come from the embedding cache without running the backbone again.
//! The audit's off-topic check asks it for the classes no item photo shows.

use std::path::Path;

use candle_core::{D, Device, Tensor};

use crate::error::LearnError;

/// Rows scored per matrix product (bounded memory whatever the collection's size).
const CHUNK: usize = 8192;

/// The final layer of the state dict at `path` for embeddings of `dim`: the weight of shape
/// `classes × dim` that has a bias of `classes` beside it (`_fc` in EfficientNet-Lite,
/// `classifier.1` in MobileNetV2).
pub struct ImagenetHead {
    weight: Tensor,
    bias: Tensor,
}

impl ImagenetHead {
    pub fn load(path: &Path, dim: usize, classes: usize) -> Result<Self, LearnError> {
        let tensors = crate::pth::load(path)?;
        for (name, w) in &tensors {
            let Some(stem) = name.strip_suffix(".weight") else { continue };
            if w.dims() != [classes, dim] {
                continue;
            }
            if let Some(b) = tensors.get(&format!("{stem}.bias")).filter(|b| b.dims() == [classes]) {
                return Ok(ImagenetHead { weight: w.clone(), bias: b.clone() });
            }
        }
        Err(LearnError::file(path, format!("no final layer of {classes} classes on {dim}-d embeddings")))
    }

    /// For each of the `n` embeddings in `x` (row-major `n × dim`), the softmax probabilities of
    /// the classes `columns`: row-major `n × columns.len()`.
    pub fn probabilities(&self, x: &[f32], n: usize, columns: &[usize]) -> Result<Vec<f32>, LearnError> {
        let dim = self.weight.dims()[1];
        if x.len() != n * dim {
            return Err(LearnError::Data(format!("{} values are not {n} embeddings of {dim}", x.len())));
        }
        let wt = self.weight.t()?;
        let cols =
            Tensor::from_vec(columns.iter().map(|&c| c as u32).collect::<Vec<_>>(), columns.len(), &Device::Cpu)?;
        let mut out = Vec::new();
        for start in (0..n).step_by(CHUNK) {
            let rows = CHUNK.min(n - start);
            let xs = Tensor::from_slice(&x[start * dim..(start + rows) * dim], (rows, dim), &Device::Cpu)?;
            let logits = xs.matmul(&wt)?.broadcast_add(&self.bias)?;
            let p = candle_nn::ops::softmax(&logits, D::Minus1)?.index_select(&cols, 1)?;
            out.extend(p.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }
}
