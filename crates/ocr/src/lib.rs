//! Stage 6 of crowdsift: find and read the text in photos.
//!
//! [`PpOcr`] runs a PP-OCR model set (see `[ocr.*]` in models.toml) through ONNX Runtime the way
//! PaddleOCR does: the DB detector's probability map becomes rotated boxes ([`db`]), each box is
//! warped upright ([`crop`]), lines read upside down are turned by the 0°/180° classifier, and
//! the CTC recogniser reads them in batches sorted by width. [`eval`] scores the result against
//! known text (character error rate).

mod cls;
pub mod crop;
pub mod db;
mod det;
pub mod eval;
mod lines;
mod rec;

use std::path::PathBuf;

use crowdsift_models::{ModelError, OcrSpec};
use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use db::{DbParams, Quad};
pub use det::input_size;
pub use rec::{ctc_decode, read_dict};

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("character list {path}: {msg}")]
    Dict { path: PathBuf, msg: String },
    #[error("{0}")]
    Shape(String),
}

/// A line of text found in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    /// Corners in photo pixels: top-left, top-right, bottom-right, bottom-left.
    pub quad: Quad,
    pub text: String,
    /// Mean probability of the characters read (0–1).
    pub confidence: f32,
    /// The line was upside down and turned before reading.
    pub turned: bool,
    /// Model set that read it.
    pub engine: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcrParams {
    pub db: DbParams,
    /// Run the 0°/180° line classifier.
    pub orient: bool,
    /// Classifier probability above which a line is turned.
    pub orient_thresh: f32,
    /// Lines read with a lower confidence are dropped.
    pub min_confidence: f32,
    /// Also search photos larger than this in overlapping windows of this many pixels (small text
    /// on large photos); `None`: the whole photo only.
    pub tile: Option<u32>,
}

impl Default for OcrParams {
    fn default() -> Self {
        OcrParams { db: DbParams::default(), orient: true, orient_thresh: 0.9, min_confidence: 0.5, tile: Some(1280) }
    }
}

/// A loaded PP-OCR model set.
pub struct PpOcr {
    det: det::Detector,
    cls: cls::Classifier,
    rec: rec::Recognizer,
    name: String,
    pub params: OcrParams,
}

impl PpOcr {
    /// Loads `spec` (whose checksums the caller verified) with `threads` threads per model.
    pub fn load(spec: &OcrSpec, threads: usize) -> Result<Self, OcrError> {
        Ok(PpOcr {
            det: det::Detector::load(spec, threads)?,
            cls: cls::Classifier::load(spec, threads)?,
            rec: rec::Recognizer::load(spec, threads)?,
            name: spec.name.clone(),
            params: OcrParams::default(),
        })
    }

    /// The text lines of an upright photo, in reading order.
    pub fn read(&mut self, img: &RgbImage) -> Result<Vec<TextLine>, OcrError> {
        let quads = self.det.detect_tiled(img, &self.params.db, self.params.tile)?;
        let mut crops: Vec<RgbImage> = quads.iter().map(|q| crop::crop_quad(img, q)).collect();
        let turned = if self.params.orient {
            self.cls.orient(&mut crops, self.params.orient_thresh)?
        } else {
            vec![false; crops.len()]
        };
        let read = self.rec.recognise(&crops)?;
        Ok(quads
            .into_iter()
            .zip(turned)
            .zip(read)
            .filter(|(_, (_, conf))| *conf >= self.params.min_confidence)
            .map(|((quad, turned), (text, confidence))| TextLine {
                quad,
                text,
                confidence,
                turned,
                engine: self.name.clone(),
            })
            .collect())
    }
}
