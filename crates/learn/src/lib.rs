//! Stage 4 of crowdsift: classifiers of item types on backbone embeddings.
//!
//! - [`Dataset`] and [`stratified_split`]: labelled embeddings, split per class with a fixed seed,
//!   byte-identical photos always on the same side.
//! - [`Head`]: a softmax layer (optionally after one hidden layer) on standardised embeddings,
//!   trained with AdamW and class-weighted cross-entropy by [`train`], with per-epoch validation,
//!   checkpoints (safetensors + JSON) and TensorBoard event files.

mod data;
mod error;
mod head;
pub mod metrics;
pub mod tensorboard;
mod train;

pub use data::{Dataset, Row, Split, stratified_kfold, stratified_split};
pub use error::LearnError;
pub use head::{FORMAT as HEAD_FORMAT, Head, HeadMeta};
pub use train::{EpochMetrics, TrainParams, TrainReport, evaluate_split, standardisation, train};
