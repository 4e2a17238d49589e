use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::{TensorRef, ValueType};

use crate::error::{ModelError, ModelErrorKind};
use crate::spec::ModelSpec;
use crate::{Model, runtime};

/// One output of a run: shape and values.
pub type Output = (Vec<usize>, Vec<f32>);

/// An ONNX Runtime session for `path` (or its edited `bytes`) with `threads` intra-op threads.
/// Spinning is off: spinning ONNX Runtime threads starve the decode threads that share the cores.
///
/// `free_shape`: the input changes size from run to run (text detectors on photo windows,
/// recognisers on lines). ONNX Runtime's memory pattern is planned and kept per shape: off for
/// such models. Measured on 50 photos of 12 MP with two OCR workers: peak RSS 1.8 GiB with it,
/// 1.4 GiB without; also without the CPU arena 0.9 GiB, but with twice the system time (page
/// faults of every large tensor allocated afresh), so the arena stays.
fn build_session(path: &Path, threads: usize, bytes: Option<&[u8]>, free_shape: bool) -> Result<Session, ModelError> {
    let env = runtime::environment()?;
    let load_err = |e: &dyn std::fmt::Display| {
        ModelError::new(ModelErrorKind::Runtime, format!("loading model {}: {e}", path.display()))
    };
    let mut builder = Session::builder(env)
        .map_err(|e| load_err(&e))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| load_err(&e))?
        .with_intra_op_spinning(false)
        .map_err(|e| load_err(&e))?;
    if free_shape {
        builder = builder.with_memory_pattern(false).map_err(|e| load_err(&e))?;
    }
    match bytes {
        Some(b) => builder.commit_from_memory(b),
        None => builder.commit_from_file(path),
    }
    .map_err(|e| load_err(&e))
}

/// Any ONNX model with one f32 input of free shape and f32 outputs: text detectors and
/// recognisers, whose inputs change size from photo to photo.
pub struct OnnxNet {
    session: Session,
    input: String,
    path: PathBuf,
}

impl OnnxNet {
    /// Loads `path` (whose checksum the caller verified) with `threads` intra-op threads.
    pub fn load(path: &Path, threads: usize) -> Result<Self, ModelError> {
        let session = build_session(path, threads, None, true)?;
        let input = match session.inputs() {
            [one] => one.name().to_owned(),
            other => {
                return Err(ModelError::new(
                    ModelErrorKind::Shape,
                    format!("model {}: expected one input, found {}", path.display(), other.len()),
                ));
            }
        };
        Ok(Self { session, input, path: path.to_owned() })
    }

    /// Runs `input` of `shape` and returns the first output.
    pub fn run(&mut self, shape: &[usize], input: &[f32]) -> Result<Output, ModelError> {
        let mut all = self.run_all(shape, input)?;
        if all.is_empty() {
            return Err(ModelError::new(
                ModelErrorKind::Inference,
                format!("model {}: no output", self.path.display()),
            ));
        }
        Ok(all.swap_remove(0))
    }

    /// Runs `input` of `shape` and returns every output, in the model's order.
    pub fn run_all(&mut self, shape: &[usize], input: &[f32]) -> Result<Vec<Output>, ModelError> {
        let infer =
            |e: ort::Error| ModelError::new(ModelErrorKind::Inference, format!("model {}: {e}", self.path.display()));
        if shape.iter().product::<usize>() != input.len() {
            return Err(ModelError::new(
                ModelErrorKind::Shape,
                format!(
                    "model {}: input of shape {shape:?} needs {} floats, got {}",
                    self.path.display(),
                    shape.iter().product::<usize>(),
                    input.len()
                ),
            ));
        }
        let tensor = TensorRef::from_array_view((shape.to_vec(), input)).map_err(infer)?;
        let result = self.session.run(ort::inputs![self.input.as_str() => tensor]).map_err(infer)?;
        let mut out = Vec::new();
        for (_, value) in result.iter() {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(infer)?;
            out.push((shape.iter().map(|&d| d.max(0) as usize).collect(), data.to_vec()));
        }
        Ok(out)
    }
}

/// An image backbone run by ONNX Runtime.
pub struct OnnxModel {
    session: Session,
    spec: ModelSpec,
}

fn shape_err(spec: &ModelSpec, msg: impl std::fmt::Display) -> ModelError {
    ModelError::new(ModelErrorKind::Shape, format!("model {} ({}): {msg}", spec.name, spec.path.display()))
}

impl OnnxModel {
    /// Loads `spec` (whose checksum the caller verified) with `threads` intra-op threads. Spinning is
    /// off: spinning ONNX Runtime threads starve the decode threads that share the cores.
    /// The declared input and output are checked here, not on the first photo.
    pub fn load(spec: &ModelSpec, threads: usize) -> Result<Self, ModelError> {
        let model = Self::session(spec, threads, None)?;
        model.check_embedding()?;
        Ok(model)
    }

    /// Loads `spec`'s model edited by `edit` (see [`crate::graph`]): for example with an
    /// intermediate tensor exposed as an output. Only the input is checked.
    pub fn load_edited(spec: &ModelSpec, threads: usize, edit: &crate::graph::Edit) -> Result<Self, ModelError> {
        let bytes = std::fs::read(&spec.path).map_err(|e| {
            ModelError::new(ModelErrorKind::Integrity, format!("model file {}: {e}", spec.path.display()))
        })?;
        Self::session(spec, threads, Some(&crate::graph::apply(&bytes, edit)?))
    }

    fn session(spec: &ModelSpec, threads: usize, bytes: Option<&[u8]>) -> Result<Self, ModelError> {
        let session = build_session(&spec.path, threads, bytes, false)?;

        let names = |outlets: &[ort::value::Outlet]| outlets.iter().map(|o| o.name().to_owned()).collect::<Vec<_>>();
        let input = session.inputs().iter().find(|i| i.name() == spec.input.name).ok_or_else(|| {
            shape_err(spec, format!("no input `{}` (has {:?})", spec.input.name, names(session.inputs())))
        })?;
        let size = i64::from(spec.input.size);
        match input.dtype() {
            ValueType::Tensor { shape, .. }
                if shape.len() == 4
                    && [3, size, size].iter().zip(&shape[1..]).all(|(want, got)| *got == -1 || got == want) => {}
            other => {
                return Err(shape_err(
                    spec,
                    format!("input `{}` is {other:?}, expected [N, 3, {size}, {size}]", spec.input.name),
                ));
            }
        }
        Ok(Self { session, spec: spec.clone() })
    }

    fn check_embedding(&self) -> Result<(), ModelError> {
        let (session, spec) = (&self.session, &self.spec);
        let names = |outlets: &[ort::value::Outlet]| outlets.iter().map(|o| o.name().to_owned()).collect::<Vec<_>>();
        let output = session.outputs().iter().find(|o| o.name() == spec.output.embedding).ok_or_else(|| {
            shape_err(spec, format!("no output `{}` (has {:?})", spec.output.embedding, names(session.outputs())))
        })?;
        match output.dtype() {
            ValueType::Tensor { shape, .. }
                if shape.len() == 2 && (shape[1] == -1 || shape[1] == spec.output.dim as i64) => {}
            other => {
                return Err(shape_err(
                    spec,
                    format!("output `{}` is {other:?}, expected [N, {}]", spec.output.embedding, spec.output.dim),
                ));
            }
        }
        Ok(())
    }

    /// Runs `n` preprocessed images and returns the named outputs as (shape, values).
    pub fn run(&mut self, input: &[f32], n: usize, outputs: &[&str]) -> Result<Vec<Output>, ModelError> {
        let size = self.spec.input.size as usize;
        if input.len() != n * 3 * size * size {
            return Err(shape_err(
                &self.spec,
                format!("batch of {n} needs {} floats, got {}", n * 3 * size * size, input.len()),
            ));
        }
        let infer =
            |e: ort::Error| ModelError::new(ModelErrorKind::Inference, format!("model {}: {e}", self.spec.name));
        let tensor = TensorRef::from_array_view(([n, 3, size, size], input)).map_err(infer)?;
        let result = self.session.run(ort::inputs![self.spec.input.name.as_str() => tensor]).map_err(infer)?;
        let mut out = Vec::new();
        for name in outputs {
            let value = result
                .get(name)
                .ok_or_else(|| shape_err(&self.spec, format!("output `{name}` missing from the run")))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(infer)?;
            out.push((shape.iter().map(|&d| d.max(0) as usize).collect(), data.to_vec()));
        }
        Ok(out)
    }
}

impl Model for OnnxModel {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn embed(&mut self, input: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        let name = self.spec.output.embedding.clone();
        let (shape, data) = self.run(input, n, &[&name])?.pop().unwrap_or_default();
        if shape.len() != 2 || shape[0] != n || shape[1] != self.spec.output.dim {
            return Err(shape_err(
                &self.spec,
                format!("embedding output has shape {shape:?}, expected [{n}, {}]", self.spec.output.dim),
            ));
        }
        Ok(data)
    }
}
