//! Fine-tuning: the last inverted-residual blocks of a backbone, its 1×1 head convolution and a new
//! linear layer, trained on activations cached at the cut point (so an epoch runs only this part).
//!
//! The blocks are written here with candle tensors, channels last: a 1×1 convolution is a matrix
//! product over `n·h·w` rows, the depthwise convolution a sum of `k²` shifted slices. Batch norms
//! are frozen to their running statistics and folded into a per-channel scale and shift, which
//! stay trainable (the usual way to fine-tune on a few hundred photos).
//!
//! Weights come from the backbone's original PyTorch state dict (`.pth`), read by candle.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::LearnError;
use crate::head::{Classifier, HeadMeta, Tensors, uniform};

/// How a backbone family names its tensors in the `.pth` state dict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// `efficientnet-lite-pytorch`: `_blocks.{i}._expand_conv`, `_bn0`, `_depthwise_conv`, `_bn1`,
    /// `_project_conv`, `_bn2`; head `_conv_head`, `_bn1`. Batch-norm epsilon 1e-3.
    EfficientnetLite,
    /// torchvision MobileNetV2: `features.{i}.conv.0.0` (expand), `.0.1`, `.1.0` (depthwise),
    /// `.1.1`, `.2` (project), `.3`; head `features.18.0`, `features.18.1`. Epsilon 1e-5.
    MobilenetV2,
}

impl Family {
    pub fn bn_eps(self) -> f64 {
        match self {
            Family::EfficientnetLite => 1e-3,
            Family::MobilenetV2 => 1e-5,
        }
    }

    /// (conv, batch norm) key prefixes of block `i`: expand, depthwise, project. A block without
    /// expansion has no expand weights in the file.
    fn block_keys(self, i: usize) -> [(String, String); 3] {
        match self {
            Family::EfficientnetLite => {
                let p = format!("_blocks.{i}");
                [
                    (format!("{p}._expand_conv"), format!("{p}._bn0")),
                    (format!("{p}._depthwise_conv"), format!("{p}._bn1")),
                    (format!("{p}._project_conv"), format!("{p}._bn2")),
                ]
            }
            Family::MobilenetV2 => {
                let p = format!("features.{i}.conv");
                [
                    (format!("{p}.0.0"), format!("{p}.0.1")),
                    (format!("{p}.1.0"), format!("{p}.1.1")),
                    (format!("{p}.2"), format!("{p}.3")),
                ]
            }
        }
    }

    fn head_keys(self) -> (String, String) {
        match self {
            Family::EfficientnetLite => ("_conv_head".into(), "_bn1".into()),
            Family::MobilenetV2 => ("features.18.0".into(), "features.18.1".into()),
        }
    }
}

/// Shape of one inverted-residual block (stride 1: the cut is at the final resolution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockArch {
    pub index: usize,
    pub input: usize,
    /// Expanded width; equal to `input` when the block has no expansion.
    pub hidden: usize,
    pub kernel: usize,
    pub output: usize,
}

/// What a fine-tuned tail is: where it starts in the backbone and the shapes of its layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TailArch {
    pub family: Family,
    /// The backbone tensor the tail reads (the input of its first block).
    pub cut: String,
    /// `[height, width, channels]` of the cut tensor.
    pub shape: [usize; 3],
    pub blocks: Vec<BlockArch>,
    /// Width of the head convolution (the embedding).
    pub features: usize,
    pub dropout: f32,
}

/// A frozen-statistics batch norm: `x · scale + shift` per channel.
struct Affine {
    scale: Var,
    shift: Var,
}

struct Block {
    arch: BlockArch,
    /// `[input, hidden]`.
    expand: Option<(Var, Affine)>,
    /// `[k·k, hidden]`.
    depthwise: (Var, Affine),
    /// `[hidden, output]`.
    project: (Var, Affine),
}

pub struct Tail {
    meta: HeadMeta,
    arch: TailArch,
    blocks: Vec<Block>,
    /// `[in, features]`.
    head_conv: (Var, Affine),
    /// Mean and deviation of the pooled features over the training photos (set by
    /// [`Tail::standardise_on`]): the new layer reads standardised features, as a transfer head does.
    norm: Option<(Tensor, Tensor)>,
    /// `[classes, features]` and `[classes]`.
    fc: (Var, Var),
}

fn relu6(x: &Tensor) -> Result<Tensor, candle_core::Error> {
    x.clamp(0f32, 6f32)
}

impl Affine {
    fn apply(&self, x: &Tensor) -> Result<Tensor, candle_core::Error> {
        x.broadcast_mul(self.scale.as_tensor())?.broadcast_add(self.shift.as_tensor())
    }
}

/// Depthwise `k×k` convolution, stride 1, zero "same" padding, of `x` `[n, h, w, c]` with
/// per-channel taps `w` `[k·k, c]`.
fn depthwise(x: &Tensor, w: &Tensor, k: usize) -> Result<Tensor, candle_core::Error> {
    let (_, h, wd, _) = x.dims4()?;
    let p = k / 2;
    let xp = x.pad_with_zeros(1, p, p)?.pad_with_zeros(2, p, p)?;
    let mut acc: Option<Tensor> = None;
    for dy in 0..k {
        for dx in 0..k {
            let tap = xp.narrow(1, dy, h)?.narrow(2, dx, wd)?.broadcast_mul(&w.get(dy * k + dx)?)?;
            acc = Some(match acc {
                Some(a) => (a + tap)?,
                None => tap,
            });
        }
    }
    acc.ok_or_else(|| candle_core::Error::Msg("depthwise kernel of size 0".into()))
}

/// Dropout with a mask drawn from the seeded generator (candle's own dropout is not seeded).
pub(crate) fn dropout(x: &Tensor, p: f32, state: &mut u64) -> Result<Tensor, LearnError> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let keep = 1.0 - p;
    let mask: Vec<f32> = (0..n)
        .map(|_| {
            let u = (crate::data::splitmix(state) >> 40) as f32 / (1u64 << 24) as f32;
            if u < keep { 1.0 / keep } else { 0.0 }
        })
        .collect();
    Ok((x * Tensor::from_vec(mask, x.shape(), x.device())?)?)
}

impl Tail {
    /// The pretrained tail of a backbone from its `.pth` state dict, with a new seeded linear
    /// layer for `meta.classes`. `blocks` are the indices of the trainable blocks, in order;
    /// `dim` is the size of the cut tensor of one photo (a square grid of the first block's
    /// input channels).
    #[allow(clippy::too_many_arguments)]
    pub fn from_pth(
        mut meta: HeadMeta,
        pth: &Path,
        family: Family,
        cut: &str,
        dim: usize,
        blocks: &[usize],
        dropout: f32,
        seed: u64,
    ) -> Result<Self, LearnError> {
        let file = crate::pth::load(pth)?;
        let get = |name: &str| -> Result<Option<Tensor>, LearnError> { Ok(file.get(name).cloned()) };
        let need = |name: &str| -> Result<Tensor, LearnError> {
            get(name)?.ok_or_else(|| LearnError::file(pth, format!("tensor {name} missing")))
        };
        let bn = |prefix: &str| -> Result<Affine, LearnError> {
            let gamma = need(&format!("{prefix}.weight"))?;
            let beta = need(&format!("{prefix}.bias"))?;
            let mean = need(&format!("{prefix}.running_mean"))?;
            let var = need(&format!("{prefix}.running_var"))?;
            let scale = gamma.div(&(var + family.bn_eps())?.sqrt()?)?;
            let shift = (beta - mean.mul(&scale)?)?;
            Ok(Affine { scale: Var::from_tensor(&scale)?, shift: Var::from_tensor(&shift)? })
        };
        // A 1×1 convolution weight `[out, in, 1, 1]` as the `[in, out]` matrix rows multiply.
        let pointwise = |name: &str| -> Result<Var, LearnError> {
            let w = need(name)?;
            let (o, i, _, _) = w.dims4()?;
            Ok(Var::from_tensor(&w.reshape((o, i))?.t()?.contiguous()?)?)
        };
        let mut layers = Vec::new();
        let mut archs = Vec::new();
        let mut shape = None;
        let mut channels = 0;
        for &i in blocks {
            let [(ec, eb), (dc, db), (pc, pb)] = family.block_keys(i);
            let expand = match get(&format!("{ec}.weight"))? {
                Some(_) => Some((pointwise(&format!("{ec}.weight"))?, bn(&eb)?)),
                None => None,
            };
            let dw = need(&format!("{dc}.weight"))?;
            let (hidden, _, k, _) = dw.dims4()?;
            let dw = Var::from_tensor(&dw.reshape((hidden, k * k))?.t()?.contiguous()?)?;
            let project = pointwise(&format!("{pc}.weight"))?;
            let output = project.as_tensor().dims2()?.1;
            let input = match &expand {
                Some((w, _)) => w.as_tensor().dims2()?.0,
                None => hidden,
            };
            if shape.is_none() {
                let side = ((dim / input.max(1)) as f64).sqrt().round() as usize;
                if side * side * input != dim {
                    return Err(LearnError::file(
                        pth,
                        format!("block {i} reads {input} channels; a cut of {dim} values is not a square grid of them"),
                    ));
                }
                shape = Some([side, side, input]);
                channels = input;
            }
            if input != channels {
                return Err(LearnError::file(pth, format!("block {i} reads {input} channels, the cut has {channels}")));
            }
            channels = output;
            archs.push(BlockArch { index: i, input, hidden, kernel: k, output });
            layers.push(Block {
                arch: archs[archs.len() - 1].clone(),
                expand,
                depthwise: (dw, bn(&db)?),
                project: (project, bn(&pb)?),
            });
        }
        let (hc, hb) = family.head_keys();
        let head_conv = (pointwise(&format!("{hc}.weight"))?, bn(&hb)?);
        let (head_in, features) = head_conv.0.as_tensor().dims2()?;
        if head_in != channels {
            return Err(LearnError::file(pth, format!("head reads {head_in} channels, the blocks give {channels}")));
        }
        let mut state = seed;
        let b = 1.0 / (features as f32).sqrt();
        let classes = meta.classes.len();
        let fc = (uniform(classes, features, b, &mut state)?, uniform(classes, 1, b, &mut state)?);
        let shape = shape.ok_or_else(|| LearnError::Data("fine-tuning needs at least one block".into()))?;
        let arch = TailArch { family, cut: cut.to_owned(), shape, blocks: archs, features, dropout };
        meta.dim = dim;
        meta.arch = crate::head::Arch::Tail(arch.clone());
        Ok(Tail { meta, arch, blocks: layers, head_conv, norm: None, fc })
    }

    pub(crate) fn from_tensors(meta: HeadMeta, arch: TailArch, t: &mut Tensors) -> Result<Self, LearnError> {
        fn affine(t: &mut Tensors, p: &str) -> Result<Affine, LearnError> {
            Ok(Affine { scale: t.var(&format!("{p}.scale"))?, shift: t.var(&format!("{p}.shift"))? })
        }
        let mut blocks = Vec::new();
        for b in &arch.blocks {
            let p = format!("blocks.{}", b.index);
            let expand = if b.hidden != b.input || t.has(&format!("{p}.expand")) {
                Some((t.var(&format!("{p}.expand"))?, affine(t, &format!("{p}.expand_bn"))?))
            } else {
                None
            };
            blocks.push(Block {
                arch: b.clone(),
                expand,
                depthwise: (t.var(&format!("{p}.depthwise"))?, affine(t, &format!("{p}.depthwise_bn"))?),
                project: (t.var(&format!("{p}.project"))?, affine(t, &format!("{p}.project_bn"))?),
            });
        }
        let head_conv = (t.var("head_conv")?, affine(t, "head_conv_bn")?);
        let norm =
            if t.has("features.mean") { Some((t.take("features.mean")?, t.take("features.std")?)) } else { None };
        let fc = (t.var("fc.weight")?, t.var("fc.bias")?);
        if fc.0.as_tensor().dims2()? != (meta.classes.len(), arch.features) {
            return Err(t.bad(format!("fc.weight is not {}×{}", meta.classes.len(), arch.features)));
        }
        Ok(Tail { meta, arch, blocks, head_conv, norm, fc })
    }

    /// Standardises the pooled features the new layer reads with their mean and deviation over
    /// view 0 of `rows` (the training photos), computed with the pretrained weights.
    pub fn standardise_on(&mut self, ds: &crate::Dataset, rows: &[usize]) -> Result<(), LearnError> {
        let f = self.arch.features;
        let mut moments = crate::train::Moments::new(f);
        for chunk in rows.chunks(256) {
            let x: Vec<f32> = chunk.iter().flat_map(|&i| ds.row(i).iter().copied()).collect();
            let e = self.embed(&Tensor::from_vec(x, (chunk.len(), ds.dim), &Device::Cpu)?)?.to_vec2::<f32>()?;
            e.iter().for_each(|row| moments.add(row));
        }
        let (mean, std) = moments.mean_std(1e-3);
        self.norm = Some((Tensor::from_vec(mean, f, &Device::Cpu)?, Tensor::from_vec(std, f, &Device::Cpu)?));
        Ok(())
    }

    pub fn arch(&self) -> &TailArch {
        &self.arch
    }

    /// The pooled features (the fine-tuned embedding) `[n, features]` of cut activations
    /// `[n, h·w·c]`.
    pub fn embed(&self, x: &Tensor) -> Result<Tensor, LearnError> {
        let [h, w, c] = self.arch.shape;
        let n = x.dim(0)?;
        let mut t = x.reshape((n * h * w, c))?;
        for b in &self.blocks {
            let input = t.clone();
            if let Some((we, bn)) = &b.expand {
                t = relu6(&bn.apply(&t.matmul(we.as_tensor())?)?)?;
            }
            let hidden = b.arch.hidden;
            t = depthwise(&t.reshape((n, h, w, hidden))?, b.depthwise.0.as_tensor(), b.arch.kernel)?
                .reshape((n * h * w, hidden))?;
            t = relu6(&b.depthwise.1.apply(&t)?)?;
            t = b.project.1.apply(&t.matmul(b.project.0.as_tensor())?)?;
            if b.arch.input == b.arch.output {
                t = (t + input)?;
            }
        }
        t = relu6(&self.head_conv.1.apply(&t.matmul(self.head_conv.0.as_tensor())?)?)?;
        Ok(t.reshape((n, h * w, self.arch.features))?.mean(1)?)
    }

    /// Every layer as plain vectors for export, in the order [`Tail::embed`] applies them:
    /// per block (expand (`[in, hidden]`, scale, shift) if any, depthwise (`[k·k, hidden]`, scale,
    /// shift), project (`[hidden, out]`, scale, shift)), then the head convolution, the feature
    /// mean and deviation (0 and 1 when not standardised) and the linear layer (`[classes, features]`, bias).
    pub fn layer_values(&self) -> Result<Vec<Vec<f32>>, LearnError> {
        let flat = |v: &Var| -> Result<Vec<f32>, LearnError> { Ok(v.as_tensor().flatten_all()?.to_vec1::<f32>()?) };
        let mut out = Vec::new();
        let mut conv = |w: &Var, a: &Affine| -> Result<(), LearnError> {
            out.extend([flat(w)?, flat(&a.scale)?, flat(&a.shift)?]);
            Ok(())
        };
        for b in &self.blocks {
            if let Some((w, a)) = &b.expand {
                conv(w, a)?;
            }
            conv(&b.depthwise.0, &b.depthwise.1)?;
            conv(&b.project.0, &b.project.1)?;
        }
        conv(&self.head_conv.0, &self.head_conv.1)?;
        let f = self.arch.features;
        match &self.norm {
            Some((m, s)) => out.extend([m.to_vec1::<f32>()?, s.to_vec1::<f32>()?]),
            None => out.extend([vec![0.0; f], vec![1.0; f]]),
        }
        out.extend([flat(&self.fc.0)?, flat(&self.fc.1)?]);
        Ok(out)
    }
}

impl Classifier for Tail {
    fn meta(&self) -> &HeadMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut HeadMeta {
        &mut self.meta
    }

    fn vars(&self) -> (Vec<Var>, Vec<Var>) {
        let mut backbone = Vec::new();
        let mut conv = |w: &Var, a: &Affine| backbone.extend([w.clone(), a.scale.clone(), a.shift.clone()]);
        for b in &self.blocks {
            if let Some((w, a)) = &b.expand {
                conv(w, a);
            }
            conv(&b.depthwise.0, &b.depthwise.1);
            conv(&b.project.0, &b.project.1);
        }
        conv(&self.head_conv.0, &self.head_conv.1);
        (backbone, vec![self.fc.0.clone(), self.fc.1.clone()])
    }

    fn forward(&self, x: &Tensor, dropout_state: Option<&mut u64>) -> Result<Tensor, LearnError> {
        let mut e = self.embed(x)?;
        if let Some((m, s)) = &self.norm {
            e = e.broadcast_sub(m)?.broadcast_div(s)?;
        }
        if let Some(state) = dropout_state {
            e = dropout(&e, self.arch.dropout, state)?;
        }
        Ok(e.matmul(&self.fc.0.as_tensor().t()?)?.broadcast_add(self.fc.1.as_tensor())?)
    }

    fn tensors(&self) -> HashMap<String, Tensor> {
        let mut m = HashMap::new();
        let mut put = |name: String, v: &Var| {
            m.insert(name, v.as_tensor().clone());
        };
        let mut conv = |name: String, w: &Var, a: &Affine, bn: String| {
            put(name, w);
            put(format!("{bn}.scale"), &a.scale);
            put(format!("{bn}.shift"), &a.shift);
        };
        for b in &self.blocks {
            let p = format!("blocks.{}", b.arch.index);
            if let Some((w, a)) = &b.expand {
                conv(format!("{p}.expand"), w, a, format!("{p}.expand_bn"));
            }
            conv(format!("{p}.depthwise"), &b.depthwise.0, &b.depthwise.1, format!("{p}.depthwise_bn"));
            conv(format!("{p}.project"), &b.project.0, &b.project.1, format!("{p}.project_bn"));
        }
        conv("head_conv".into(), &self.head_conv.0, &self.head_conv.1, "head_conv_bn".into());
        put("fc.weight".into(), &self.fc.0);
        put("fc.bias".into(), &self.fc.1);
        if let Some((mean, std)) = &self.norm {
            m.insert("features.mean".into(), mean.clone());
            m.insert("features.std".into(), std.clone());
        }
        m
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Cut activations `[n, c, h, w]` (as ONNX Runtime returns them) laid out channels last, one row
/// per photo.
pub fn channels_last(x: &[f32], n: usize, c: usize, h: usize, w: usize) -> Result<Vec<f32>, LearnError> {
    let t = Tensor::from_slice(x, (n, c, h, w), &Device::Cpu)?;
    Ok(t.permute((0, 2, 3, 1))?.flatten_all()?.to_vec1::<f32>()?)
}
