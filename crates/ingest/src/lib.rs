//! Stage 1 of crowdsift: find the photos of a collection, read their bytes without ever writing to
//! the source, and decode them safely.
//!
//! - [`Source`] lists a folder, a CSV/Parquet manifest (`obs_uid,label,uri`, extra columns kept as
//!   metadata) or an `s3://bucket/prefix`, lazily, in a stable order.
//! - [`Fetcher`] reads the bytes of one photo and turns I/O failures into reason codes.
//! - [`decode`] decodes them under [`crowdsift_core::Limits`] with EXIF orientation applied.

mod decode;
mod error;
mod fetch;
mod hash;
mod jpeg;
mod manifest;
mod sniff;
mod source;

pub use decode::{DecodeError, DecodeParams, Decoded, Fit, decode, fit_dimensions};
pub use error::{IngestError, IngestErrorKind};
pub use fetch::Fetcher;
pub use hash::{file_stem, hex, sha256_hex};
pub use sniff::{Sniffed, sniff};
pub use source::{Item, Location, Source, path_id};
