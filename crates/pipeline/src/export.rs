//! `export`: a trained classifier and its backbone as one ONNX model (photo in, class
//! probabilities out), so it runs wherever ONNX does.
//!
//! The backbone's graph is kept as it is; the classifier is appended to it as ONNX nodes: after
//! the `embedding` output for a transfer head, after the cut tensor for a fine-tuned tail (whose
//! frozen batch-norm scale and shift are folded into the convolutions). The backbone's outputs are
//! replaced by `probs` `[N, classes]` (and `embedding` for a transfer head); the class names are in
//! the model's metadata (`crowdsift.classes`, a JSON list).

use std::path::Path;

use crowdsift_learn::tail::Tail;
use crowdsift_learn::{Classifier, Head, load};
use crowdsift_models::ModelSpec;
use crowdsift_models::graph::{Attr, Edit, Initializer, Node};

use crate::scan::PipelineError;

/// Builds the nodes and weights as they are appended.
struct Builder {
    edit: Edit,
    n: usize,
}

impl Builder {
    fn name(&mut self, what: &str) -> String {
        self.n += 1;
        format!("crowdsift/{what}_{}", self.n)
    }

    fn weight(&mut self, what: &str, dims: &[usize], data: Vec<f32>) -> String {
        let name = self.name(what);
        self.edit.initializers.push(Initializer::f32(&name, dims, data));
        name
    }

    fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = self.name(&op.to_lowercase());
        let mut node = Node::new(op, &out, inputs, &[&out]);
        for (k, v) in attrs {
            node = node.attr(k, v);
        }
        self.edit.nodes.push(node);
        out
    }

    fn relu6(&mut self, x: &str) -> String {
        let lo = self.weight("zero", &[], vec![0.0]);
        let hi = self.weight("six", &[], vec![6.0]);
        self.node("Clip", &[x, &lo, &hi], vec![])
    }

    /// A convolution with batch norm folded in: `weight[o][rest]·scale[o]`, bias `shift`.
    fn conv(&mut self, x: &str, w: Vec<f32>, dims: [usize; 4], scale: &[f32], shift: &[f32], group: usize) -> String {
        let per_out = w.len() / dims[0];
        let folded: Vec<f32> = w.iter().enumerate().map(|(i, v)| v * scale[i / per_out]).collect();
        let wn = self.weight("w", &dims, folded);
        let bn = self.weight("b", &[dims[0]], shift.to_vec());
        let k = dims[2] as i64;
        let p = k / 2;
        self.node(
            "Conv",
            &[x, &wn, &bn],
            vec![
                ("kernel_shape", Attr::Ints(vec![k, k])),
                ("pads", Attr::Ints(vec![p, p, p, p])),
                ("strides", Attr::Ints(vec![1, 1])),
                ("group", Attr::Int(group as i64)),
            ],
        )
    }

    fn gemm(&mut self, x: &str, w: Vec<f32>, b: Vec<f32>, out: usize, inp: usize) -> String {
        let wn = self.weight("w", &[out, inp], w);
        let bn = self.weight("b", &[out], b);
        self.node("Gemm", &[x, &wn, &bn], vec![("transB", Attr::Int(1))])
    }
}

/// Transposes a row-major `rows × cols` matrix.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

/// A linear layer on standardised input folded into one on raw input:
/// `W·((x − m)/s) + b = (W/s)·x + (b − (W/s)·m)`, for `W` `[out, dim]`.
fn fold_standardisation(w: &[f32], b: &[f32], mean: &[f32], std: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let dim = mean.len();
    let w2: Vec<f32> = w.iter().enumerate().map(|(i, v)| v / std[i % dim]).collect();
    let b2: Vec<f32> =
        b.iter().enumerate().map(|(o, bo)| bo - (0..dim).map(|i| w2[o * dim + i] * mean[i]).sum::<f32>()).collect();
    (w2, b2)
}

fn linear_head(b: &mut Builder, head: &Head, embedding: &str) -> Result<String, PipelineError> {
    let (mean, std, hidden, (w, bias)) = head.parts()?;
    let dim = mean.len();
    // Standardisation folded into the first layer: W·((x − m)/s) + b = (W/s)·x + (b − (W/s)·m).
    let fold = |w: &[f32], b: &[f32], out: usize| -> (Vec<f32>, Vec<f32>) {
        let w2: Vec<f32> = w.iter().enumerate().map(|(i, v)| v / std[i % dim]).collect();
        let b2: Vec<f32> = (0..out).map(|o| b[o] - (0..dim).map(|i| w2[o * dim + i] * mean[i]).sum::<f32>()).collect();
        (w2, b2)
    };
    let classes = head.meta().classes.len();
    Ok(match hidden {
        None => {
            let (w2, b2) = fold(&w, &bias, classes);
            b.gemm(embedding, w2, b2, classes, dim)
        }
        Some((hw, hb)) => {
            let width = head.meta().hidden;
            let (w2, b2) = fold(&hw, &hb, width);
            let h = b.gemm(embedding, w2, b2, width, dim);
            let h = b.node("Relu", &[&h], vec![]);
            b.gemm(&h, w, bias, classes, width)
        }
    })
}

fn tail_head(b: &mut Builder, tail: &Tail) -> Result<String, PipelineError> {
    let arch = tail.arch().clone();
    let mut values = tail.layer_values()?.into_iter();
    let mut next = || values.next().ok_or_else(|| PipelineError::Invalid("tail has fewer layers than its arch".into()));
    let mut x = arch.cut.clone();
    for blk in &arch.blocks {
        let input = x.clone();
        if blk.hidden != blk.input {
            let (w, s, t) = (next()?, next()?, next()?);
            let c = b.conv(&x, transpose(&w, blk.input, blk.hidden), [blk.hidden, blk.input, 1, 1], &s, &t, 1);
            x = b.relu6(&c);
        }
        let (w, s, t) = (next()?, next()?, next()?);
        let k = blk.kernel;
        let c = b.conv(&x, transpose(&w, k * k, blk.hidden), [blk.hidden, 1, k, k], &s, &t, blk.hidden);
        x = b.relu6(&c);
        let (w, s, t) = (next()?, next()?, next()?);
        x = b.conv(&x, transpose(&w, blk.hidden, blk.output), [blk.output, blk.hidden, 1, 1], &s, &t, 1);
        if blk.input == blk.output {
            x = b.node("Add", &[&x, &input], vec![]);
        }
    }
    let last = arch.blocks.last().map_or(arch.shape[2], |b| b.output);
    let (w, s, t) = (next()?, next()?, next()?);
    let c = b.conv(&x, transpose(&w, last, arch.features), [arch.features, last, 1, 1], &s, &t, 1);
    let x = b.relu6(&c);
    let x = b.node("GlobalAveragePool", &[&x], vec![]);
    let x = b.node("Flatten", &[&x], vec![("axis", Attr::Int(1))]);
    let (mean, std, w, bias) = (next()?, next()?, next()?, next()?);
    // Standardisation folded into the linear layer, as for a transfer head.
    let (w, bias) = fold_standardisation(&w, &bias, &mean, &std);
    Ok(b.gemm(&x, w, bias, tail.meta().classes.len(), arch.features))
}

/// Writes the backbone `spec` with the classifier at `head_path` appended to `dest`.
/// The backbone a head is exported with: `model` (a models.toml name or PATH.onnx), else the
/// models.toml entry the head names.
pub fn export_backbone(head_path: &Path, model: Option<&str>) -> Result<ModelSpec, PipelineError> {
    match model {
        Some(m) => Ok(ModelSpec::backbone(m)?),
        None => Ok(ModelSpec::backbone(&load(head_path)?.meta().backbone)?),
    }
}

pub fn export(spec: &ModelSpec, head_path: &Path, dest: &Path) -> Result<(), PipelineError> {
    let model = load(head_path)?;
    let meta = model.meta();
    if meta.backbone_sha256 != spec.sha256 {
        return Err(PipelineError::Invalid(format!(
            "{} was trained on backbone {} ({}), not {} ({})",
            head_path.display(),
            meta.backbone,
            meta.backbone_sha256,
            spec.name,
            spec.sha256
        )));
    }
    let mut b = Builder { edit: Edit::default(), n: 0 };
    let any = model.as_any();
    let (logits, keep) = if let Some(head) = any.downcast_ref::<Head>() {
        (linear_head(&mut b, head, &spec.output.embedding)?, vec![spec.output.embedding.clone()])
    } else if let Some(tail) = any.downcast_ref::<Tail>() {
        (tail_head(&mut b, tail)?, Vec::new())
    } else {
        return Err(PipelineError::Invalid(format!(
            "{} is a from-scratch CNN, which does not run on a backbone: export supports transfer and finetune",
            head_path.display()
        )));
    };
    let probs = b.node("Softmax", &[&logits], vec![("axis", Attr::Int(-1))]);
    b.edit.nodes.push(Node::new("Identity", "crowdsift/probs", &[&probs], &["probs"]));
    b.edit.outputs.push("probs".into());
    b.edit.keep_outputs = Some(keep);
    b.edit.metadata = vec![
        ("crowdsift.classes".into(), serde_json::to_string(&meta.classes).unwrap_or_default()),
        ("crowdsift.backbone".into(), format!("{} {}", spec.name, spec.sha256)),
        ("crowdsift.version".into(), crowdsift_core::VERSION.into()),
        ("crowdsift.input".into(), serde_json::to_string(&spec.input).unwrap_or_default()),
    ];
    let bytes = std::fs::read(&spec.path).map_err(|source| PipelineError::Io { path: spec.path.clone(), source })?;
    let out = crowdsift_models::graph::apply(&bytes, &b.edit)?;
    std::fs::write(dest, out).map_err(|source| PipelineError::Io { path: dest.to_owned(), source })
}
