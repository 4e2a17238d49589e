//! Models crowdsift runs: where they are, what they expect, and how to run them.
//!
//! - [`Registry`] reads `models.toml` (file, pinned SHA-256, source package, licence, input and
//!   output spec) and refuses a model file whose checksum differs. Nothing is downloaded.
//! - [`runtime`] finds and loads the ONNX Runtime shared library once per process.
//! - [`Model`] is the small trait stages run inference through; [`OnnxModel`] implements it with
//!   ONNX Runtime, and [`testing::FakeModel`] lets unit tests run without a model file.

mod error;
pub mod graph;
mod onnx;
pub mod runtime;
mod spec;
pub mod testing;

pub use error::{ModelError, ModelErrorKind};
pub use onnx::{OnnxModel, OnnxNet, Output};
pub use spec::{
    Cut, DigitsSpec, FaceSpec, FinetuneSpec, InputSpec, LineModelSpec, ModelSpec, OcrSpec, OutputSpec, PinnedFile,
    Registry, StyleSpec, sha256_file,
};

/// An image model: takes a batch of preprocessed images (NCHW, f32) and returns one output row
/// per image.
pub trait Model: Send {
    fn spec(&self) -> &ModelSpec;
    /// Runs `n` images laid out as `n × 3 × size × size` floats; returns `n × dim` floats of the
    /// spec's embedding output.
    fn embed(&mut self, input: &[f32], n: usize) -> Result<Vec<f32>, ModelError>;
}
