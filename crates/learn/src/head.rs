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
    /// What the classifier reads and computes; plain embeddings when absent (older files).
    #[serde(default)]
    pub arch: Arch,
}

pub const FORMAT: &str = "crowdsift-head/1";

impl HeadMeta {
    /// Metadata of a new, untrained linear head for `classes` on `dim` values per photo from
    /// `backbone` (name, file SHA-256); set `hidden`, `params` and `arch` as needed.
    pub fn new(classes: Vec<String>, dim: usize, backbone: &str, backbone_sha256: &str) -> Self {
        HeadMeta {
            format: FORMAT.to_owned(),
            classes,
            dim,
            hidden: 0,
            backbone: backbone.to_owned(),
            backbone_sha256: backbone_sha256.to_owned(),
            epoch: 0,
            metrics: None,
            params: serde_json::Value::Null,
            arch: Arch::Linear,
        }
    }
}

/// The kind of classifier a checkpoint holds, and what its input rows are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Arch {
    /// A head on the backbone's embedding (`dim` values per photo).
    #[default]
    Linear,
    /// The last blocks of the backbone, fine-tuned, plus a head. Rows are the activations of the
    /// `cut` tensor, channels last (`height × width × channels`).
    Tail(crate::tail::TailArch),
    /// A small CNN trained from scratch on photos downscaled to `size`² (rows: `3 × size × size`,
    /// channels first, `(px − 127.5) / 127.5`).
    Cnn(crate::cnn::CnnArch),
}

/// Anything [`crate::train`] can fit: a head, a fine-tuned tail or a small CNN.
pub trait Classifier: Send {
    fn meta(&self) -> &HeadMeta;
    fn meta_mut(&mut self) -> &mut HeadMeta;
    /// Trainable variables: (pretrained backbone part, newly initialised part). The first group
    /// trains at a reduced learning rate.
    fn vars(&self) -> (Vec<Var>, Vec<Var>);
    /// Logits `[n, classes]` for rows `[n, dim]`. With `dropout`, training-time dropout is drawn
    /// from that generator state.
    fn forward(&self, x: &Tensor, dropout: Option<&mut u64>) -> Result<Tensor, LearnError>;
    /// Every tensor to save, by name.
    fn tensors(&self) -> HashMap<String, Tensor>;
    /// For callers that need the concrete type (export).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Class probabilities, row-major `n × classes`, for `n` input rows.
pub fn predict_proba(c: &dyn Classifier, x: &[f32], n: usize) -> Result<Vec<f32>, LearnError> {
    let t = Tensor::from_slice(x, (n, c.meta().dim), &Device::Cpu)?;
    let p = candle_nn::ops::softmax(&c.forward(&t, None)?, D::Minus1)?;
    Ok(p.flatten_all()?.to_vec1::<f32>()?)
}

/// Writes `stem.safetensors` (tensors) and `stem.json` ([`HeadMeta`]).
pub fn save(c: &dyn Classifier, stem: &Path) -> Result<PathBuf, LearnError> {
    let st = stem.with_extension("safetensors");
    candle_core::safetensors::save(&c.tensors(), &st).map_err(|e| LearnError::file(&st, e))?;
    let js = stem.with_extension("json");
    let text = serde_json::to_string_pretty(c.meta()).map_err(|e| LearnError::file(&js, e))?;
    std::fs::write(&js, text).map_err(|e| LearnError::file(&js, e))?;
    Ok(st)
}

/// The tensors of a saved classifier, taken by name.
pub(crate) struct Tensors {
    path: PathBuf,
    map: HashMap<String, Tensor>,
}

impl Tensors {
    pub(crate) fn take(&mut self, name: &str) -> Result<Tensor, LearnError> {
        self.map
            .remove(name)
            .ok_or_else(|| LearnError::file(&self.path, format!("tensor {name} missing")))?
            .to_dtype(DType::F32)
            .map_err(Into::into)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub(crate) fn var(&mut self, name: &str) -> Result<Var, LearnError> {
        Ok(Var::from_tensor(&self.take(name)?)?)
    }

    pub(crate) fn bad(&self, msg: impl std::fmt::Display) -> LearnError {
        LearnError::file(&self.path, msg)
    }
}

/// Loads a classifier saved by [`save`] from its `.safetensors` or `.json` path.
pub fn load(path: &Path) -> Result<Box<dyn Classifier>, LearnError> {
    let js = path.with_extension("json");
    let text = std::fs::read_to_string(&js).map_err(|e| LearnError::file(&js, e))?;
    let meta: HeadMeta = serde_json::from_str(&text).map_err(|e| LearnError::file(&js, e))?;
    if meta.format != FORMAT {
        return Err(LearnError::file(&js, format!("format {}, expected {FORMAT}", meta.format)));
    }
    let st = path.with_extension("safetensors");
    let map = candle_core::safetensors::load(&st, &Device::Cpu).map_err(|e| LearnError::file(&st, e))?;
    let mut t = Tensors { path: st, map };
    Ok(match meta.arch.clone() {
        Arch::Linear => Box::new(Head::from_tensors(meta, &mut t)?),
        Arch::Tail(a) => Box::new(crate::tail::Tail::from_tensors(meta, a, &mut t)?),
        Arch::Cnn(a) => Box::new(crate::cnn::Cnn::from_tensors(meta, a, &mut t)?),
    })
}

/// A classifier on embeddings: standardise with the training set's mean and deviation, then
/// (optionally one ReLU hidden layer and) a linear layer to class logits.
pub struct Head {
    pub meta: HeadMeta,
    mean: Tensor,
    std: Tensor,
    hidden: Option<(Var, Var)>,
    out: (Var, Var),
}

/// PyTorch's default initialisation of a linear layer: uniform ±1/√fan_in, from a seeded generator.
pub(crate) fn uniform(rows: usize, cols: usize, bound: f32, state: &mut u64) -> Result<Var, LearnError> {
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

    /// A linear head with given weights (`classes × dim`, row-major) and biases on unstandardised
    /// embeddings — a softmax regression fitted elsewhere (Spark MLlib's LogisticRegression).
    pub fn from_linear(meta: HeadMeta, weight: Vec<f32>, bias: Vec<f32>) -> Result<Self, LearnError> {
        let (dim, classes) = (meta.dim, meta.classes.len());
        if meta.hidden != 0 || weight.len() != classes * dim || bias.len() != classes {
            return Err(LearnError::Data(format!(
                "a linear head of {classes} classes on {dim} values needs {} weights and {classes} biases, got {} and {}",
                classes * dim,
                weight.len(),
                bias.len()
            )));
        }
        let var = |v: Vec<f32>, shape: &[usize]| -> Result<Var, LearnError> {
            Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu)?)?)
        };
        Ok(Head {
            mean: Tensor::zeros(dim, DType::F32, &Device::Cpu)?,
            std: Tensor::ones(dim, DType::F32, &Device::Cpu)?,
            out: (var(weight, &[classes, dim])?, var(bias, &[classes])?),
            hidden: None,
            meta,
        })
    }

    fn from_tensors(meta: HeadMeta, t: &mut Tensors) -> Result<Self, LearnError> {
        let hidden = if meta.hidden > 0 { Some((t.var("hidden.weight")?, t.var("hidden.bias")?)) } else { None };
        let head = Head {
            mean: t.take("mean")?,
            std: t.take("std")?,
            out: (t.var("out.weight")?, t.var("out.bias")?),
            hidden,
            meta,
        };
        let (o, i) = head.out.0.as_tensor().dims2()?;
        let expect_in = if head.meta.hidden > 0 { head.meta.hidden } else { head.meta.dim };
        if o != head.meta.classes.len() || i != expect_in {
            return Err(t.bad(format!("out.weight is {o}×{i}, metadata says {}×{expect_in}", head.meta.classes.len())));
        }
        Ok(head)
    }

    /// The standardisation and layers as plain vectors, for export: (mean, std, hidden (weight
    /// `[hidden, dim]`, bias) if any, out (weight `[classes, in]`, bias)).
    #[allow(clippy::type_complexity)]
    pub fn parts(
        &self,
    ) -> Result<(Vec<f32>, Vec<f32>, Option<(Vec<f32>, Vec<f32>)>, (Vec<f32>, Vec<f32>)), LearnError> {
        let flat = |t: &Tensor| -> Result<Vec<f32>, LearnError> { Ok(t.flatten_all()?.to_vec1::<f32>()?) };
        let hidden = match &self.hidden {
            Some((w, b)) => Some((flat(w.as_tensor())?, flat(b.as_tensor())?)),
            None => None,
        };
        Ok((
            flat(&self.mean)?,
            flat(&self.std)?,
            hidden,
            (flat(self.out.0.as_tensor())?, flat(self.out.1.as_tensor())?),
        ))
    }
}

impl Classifier for Head {
    fn meta(&self) -> &HeadMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut HeadMeta {
        &mut self.meta
    }

    fn vars(&self) -> (Vec<Var>, Vec<Var>) {
        let mut v = Vec::new();
        if let Some((w, b)) = &self.hidden {
            v.extend([w.clone(), b.clone()]);
        }
        v.extend([self.out.0.clone(), self.out.1.clone()]);
        (Vec::new(), v)
    }

    fn forward(&self, x: &Tensor, _dropout: Option<&mut u64>) -> Result<Tensor, LearnError> {
        let mut h = x.broadcast_sub(&self.mean)?.broadcast_div(&self.std)?;
        if let Some((w, b)) = &self.hidden {
            h = h.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?.relu()?;
        }
        Ok(h.matmul(&self.out.0.as_tensor().t()?)?.broadcast_add(self.out.1.as_tensor())?)
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

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
