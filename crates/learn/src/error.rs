#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnError {
    #[error("dataset: {0}")]
    Data(String),
    #[error("tensor computation: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl LearnError {
    pub(crate) fn file(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        LearnError::File { path: path.display().to_string(), message: e.to_string() }
    }
}
