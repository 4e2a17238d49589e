//! Training from scratch: a small CNN on downscaled photos, from seeded random weights. It is the
//! baseline the seed's table starts from ("from scratch"), not a recommended mode.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::LearnError;
use crate::head::{Classifier, HeadMeta, Tensors, uniform};

/// Layers of the CNN: per entry of `channels`, a 3×3 convolution (padding 1) with ReLU and a 2×2
/// max pool; then global average pooling, dropout and a linear layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnArch {
    /// Input side: photos are resized to `size × size`.
    pub size: usize,
    pub channels: Vec<usize>,
    pub dropout: f32,
}

impl Default for CnnArch {
    fn default() -> Self {
        CnnArch { size: 64, channels: vec![32, 64, 128, 256], dropout: 0.3 }
    }
}

pub struct Cnn {
    meta: HeadMeta,
    arch: CnnArch,
    /// `[out, in, 3, 3]` and `[out]`.
    convs: Vec<(Var, Var)>,
    fc: (Var, Var),
}

impl Cnn {
    /// He-uniform convolutions (±√(6/fan_in)), so activations keep their scale through the ReLUs
    /// without batch norm; PyTorch-default linear layer.
    pub fn init(mut meta: HeadMeta, arch: CnnArch, seed: u64) -> Result<Self, LearnError> {
        let mut state = seed;
        let mut convs = Vec::new();
        let mut input = 3;
        for &c in &arch.channels {
            let fan_in = input * 9;
            let w = uniform(c, fan_in, (6.0 / fan_in as f32).sqrt(), &mut state)?;
            let w = Var::from_tensor(&w.as_tensor().reshape((c, input, 3, 3))?)?;
            convs.push((w, Var::zeros(c, DType::F32, &Device::Cpu)?));
            input = c;
        }
        let bound = 1.0 / (input as f32).sqrt();
        let classes = meta.classes.len();
        let fc = (uniform(classes, input, bound, &mut state)?, uniform(classes, 1, bound, &mut state)?);
        meta.dim = 3 * arch.size * arch.size;
        meta.arch = crate::head::Arch::Cnn(arch.clone());
        Ok(Cnn { meta, arch, convs, fc })
    }

    pub(crate) fn from_tensors(meta: HeadMeta, arch: CnnArch, t: &mut Tensors) -> Result<Self, LearnError> {
        let mut convs = Vec::new();
        for i in 0..arch.channels.len() {
            convs.push((t.var(&format!("conv{i}.weight"))?, t.var(&format!("conv{i}.bias"))?));
        }
        let fc = (t.var("fc.weight")?, t.var("fc.bias")?);
        let last = arch.channels.last().copied().unwrap_or(3);
        if fc.0.as_tensor().dims2()? != (meta.classes.len(), last) {
            return Err(t.bad(format!("fc.weight is not {}×{last}", meta.classes.len())));
        }
        Ok(Cnn { meta, arch, convs, fc })
    }
}

impl Classifier for Cnn {
    fn meta(&self) -> &HeadMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut HeadMeta {
        &mut self.meta
    }

    fn vars(&self) -> (Vec<Var>, Vec<Var>) {
        let mut v: Vec<Var> = self.convs.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
        v.extend([self.fc.0.clone(), self.fc.1.clone()]);
        (Vec::new(), v)
    }

    fn forward(&self, x: &Tensor, dropout: Option<&mut u64>) -> Result<Tensor, LearnError> {
        let n = x.dim(0)?;
        let s = self.arch.size;
        let mut t = x.reshape((n, 3, s, s))?;
        for (w, b) in &self.convs {
            t = t.conv2d(w.as_tensor(), 1, 1, 1, 1)?;
            t = t.broadcast_add(&b.as_tensor().reshape((1, (), 1, 1))?)?.relu()?.max_pool2d(2)?;
        }
        let mut e = t.flatten_from(2)?.mean(2)?;
        if let Some(state) = dropout {
            e = crate::tail::dropout(&e, self.arch.dropout, state)?;
        }
        Ok(e.matmul(&self.fc.0.as_tensor().t()?)?.broadcast_add(self.fc.1.as_tensor())?)
    }

    fn tensors(&self) -> HashMap<String, Tensor> {
        let mut m = HashMap::new();
        for (i, (w, b)) in self.convs.iter().enumerate() {
            m.insert(format!("conv{i}.weight"), w.as_tensor().clone());
            m.insert(format!("conv{i}.bias"), b.as_tensor().clone());
        }
        m.insert("fc.weight".into(), self.fc.0.as_tensor().clone());
        m.insert("fc.bias".into(), self.fc.1.as_tensor().clone());
        m
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
