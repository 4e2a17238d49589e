use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// models.toml or a model's spec is missing or invalid.
    Config,
    /// A model file is missing or its checksum differs from the pinned one.
    Integrity,
    /// The ONNX Runtime library could not be found or loaded.
    Runtime,
    /// The model does not have the declared inputs or outputs.
    Shape,
    /// Inference failed.
    Inference,
}

/// A model error, naming the model or file concerned.
#[derive(Debug, thiserror::Error)]
pub struct ModelError {
    kind: ModelErrorKind,
    message: String,
}

impl ModelError {
    pub(crate) fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn kind(&self) -> ModelErrorKind {
        self.kind
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
