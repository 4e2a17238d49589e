//! Stage 4 of crowdsift: classifiers of item types on backbone embeddings.
//!
//! - [`Dataset`] and [`stratified_split`]: labelled embeddings, split per class with a fixed seed,
//!   byte-identical photos always on the same side.
//! - [`Head`]: a softmax layer (optionally after one hidden layer) on standardised embeddings,
//!   trained with AdamW and class-weighted cross-entropy by [`train`], with per-epoch validation,
//!   checkpoints (safetensors + JSON) and TensorBoard event files.
//! - [`tail::Tail`]: fine-tuning the last blocks of a backbone on activations cached at a cut
//!   point; [`cnn::Cnn`]: a small CNN trained from scratch. Both train through the same loop
//!   ([`Classifier`]), with augmented views drawn per epoch.
//! - [`imagenet::ImagenetHead`]: the backbone's own ImageNet classifier on stored embeddings.

pub mod cnn;
mod data;
mod error;
mod head;
pub mod imagenet;
pub mod metrics;
pub mod pth;
pub mod synthetic;
pub mod tail;
pub mod tensorboard;
mod train;

pub use data::{Dataset, Row, Split, stratified_kfold, stratified_split};
pub use error::LearnError;
pub use head::{Arch, Classifier, FORMAT as HEAD_FORMAT, Head, HeadMeta, load, predict_proba, save};
pub use train::{EpochMetrics, TrainParams, TrainReport, evaluate_split, fit, standardisation, train};
