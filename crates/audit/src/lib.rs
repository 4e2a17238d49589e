//! Stage 5 of crowdsift: which labels to review.
//!
//! - [`out_of_sample`]: class probabilities for every photo from a head that never saw it
//!   (stratified K-fold; byte-identical photos share a fold).
//! - [`neighbours`]: k nearest neighbours by cosine similarity, exact (chunked matrix products) up
//!   to 200k photos and by an inverted-file index above: the evidence for label votes, outliers and
//!   embedding duplicates.
//! - [`confident`]: confident learning (Northcutt, Jiang & Chuang, JAIR 2021): per-class thresholds,
//!   the calibrated confident joint, pruning by noise rate, ranking by self-confidence.
//! - [`offtopic`]: photos that are no item at all (screenshots, documents, walls), alone or in
//!   groups of near copies: distance to the collection's trimmed centre, and the backbone's
//!   ImageNet classifier as a second opinion.
//! - [`audit`]: all of it for one collection, per photo and per class.

pub mod confident;
mod knn;
pub mod offtopic;
mod oos;
mod report;

pub use knn::{IndexParams, Neighbour, neighbours};
pub use offtopic::OffTopicParams;
pub use oos::out_of_sample;
pub use report::{AuditParams, AuditReport, ClassSummary, PhotoAudit, audit};
