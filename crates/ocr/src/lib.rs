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
pub mod digits;
mod engine;
pub mod eval;
mod lines;
mod rec;
pub mod script;
pub mod search;
pub mod style;
// The one module with `unsafe`: calls into libtesseract's C API (see its header).
#[allow(unsafe_code)]
pub mod tess;

use std::path::PathBuf;

use crowdsift_models::{ModelError, OcrSpec};
use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use db::{DbParams, Quad};
pub use det::input_size;
pub use engine::{Engine, ModelPlan, Reader, ReaderConfig, parse_languages};
pub use rec::{ctc_decode, read_dict};

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("character list {path}: {msg}")]
    Dict { path: PathBuf, msg: String },
    #[error("{0}")]
    Shape(String),
    #[error("Tesseract: {0}")]
    Tesseract(String),
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
    /// What read it: a PP-OCR model set (`ppocrv5`) or `tesseract:<languages>`.
    pub engine: String,
    /// Writing system of most of its letters (`Latin`, `Bengali`, …; `Common` for digits only).
    #[serde(default)]
    pub script: String,
    /// Probability that the line is handwritten ([`style`]); `None` when no style classifier ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handwriting: Option<f32>,
}

/// What OCR found in one photo: the lines it read, and the boxes the detector found that no
/// recogniser could read with at least the configured confidence (illegible writing — or texture
/// the detector took for text). Nothing found is dropped without a trace: the release rule decides
/// what unread boxes mean (see `crowdsift_pii::safety`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub lines: Vec<TextLine>,
    #[serde(default)]
    pub unread: Vec<TextLine>,
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
    /// Clean-up of each line crop before it is read.
    pub enhance: crop::Enhance,
}

impl Default for OcrParams {
    fn default() -> Self {
        OcrParams {
            db: DbParams::default(),
            orient: true,
            orient_thresh: 0.9,
            min_confidence: 0.5,
            tile: Some(1280),
            enhance: crop::Enhance::None,
        }
    }
}

/// Boxes higher than this are cut shrunk to it ([`crop::crop_line`]): four times the recogniser's
/// input height, above every line of the generated evaluation set (whose crops the handwriting
/// classifier was measured on), so only the large text and the texture boxes of big photos change.
const CROP_MAX_H: u32 = 4 * lines::LINE_H as u32;

/// A loaded PP-OCR model set.
pub struct PpOcr {
    det: det::Detector,
    cls: cls::Classifier,
    rec: rec::Recognizer,
    /// A second recogniser: each line keeps the more confident of the two readings.
    rec2: Option<rec::Recognizer>,
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
            rec2: None,
            name: spec.name.clone(),
            params: OcrParams::default(),
        })
    }

    /// Detection and line orientation from `find`, recognition by `read` (both verified), and
    /// with `second` a second recogniser whose reading a line keeps when it is more confident.
    pub fn load_mixed(
        find: &OcrSpec,
        read: &OcrSpec,
        second: Option<&OcrSpec>,
        threads: usize,
    ) -> Result<Self, OcrError> {
        let mut name = if find.name == read.name { find.name.clone() } else { format!("{}/{}", find.name, read.name) };
        if let Some(s) = second {
            name = format!("{name}+{}", s.name);
        }
        Ok(PpOcr {
            det: det::Detector::load(find, threads)?,
            cls: cls::Classifier::load(find, threads)?,
            rec: rec::Recognizer::load(read, threads)?,
            rec2: second.map(|s| rec::Recognizer::load(s, threads)).transpose()?,
            name,
            params: OcrParams::default(),
        })
    }

    /// The text lines of an upright photo, in reading order.
    pub fn read(&mut self, img: &RgbImage) -> Result<Vec<TextLine>, OcrError> {
        let min = self.params.min_confidence;
        Ok(self.read_all(img)?.into_iter().map(|(l, _)| l).filter(|l| l.confidence >= min).collect())
    }

    /// Every box the detector found, read, with its upright crop — before the confidence filter,
    /// so that another recogniser can try the lines this one cannot read.
    ///
    /// A photo whose text runs mostly up or down (taken sideways) is read turned a quarter
    /// clockwise — the detector separates close lines only when they run across — and the boxes
    /// mapped back; lines that come out upside down are turned by the line classifier.
    pub fn read_all(&mut self, img: &RgbImage) -> Result<Vec<(TextLine, RgbImage)>, OcrError> {
        let quads = self.detect(img)?;
        if self.params.orient && runs_vertically(&quads) {
            let turned = image::imageops::rotate90(img);
            let h = img.height() as f32;
            let quads = self.detect(&turned)?;
            let mut lines = self.read_quads(&turned, quads)?;
            // Rotated (u, v) came from original (x, y) = (v, h − u).
            for (l, _) in &mut lines {
                l.quad = l.quad.map(|[u, v]| [v, h - u]);
            }
            return Ok(lines);
        }
        self.read_quads(img, quads)
    }

    fn read_quads(&mut self, img: &RgbImage, quads: Vec<Quad>) -> Result<Vec<(TextLine, RgbImage)>, OcrError> {
        let mut crops: Vec<RgbImage> = quads.iter().map(|q| crop::crop_line(img, q, CROP_MAX_H)).collect();
        let turned = if self.params.orient {
            self.cls.orient(&mut crops, self.params.orient_thresh)?
        } else {
            vec![false; crops.len()]
        };
        if self.params.enhance != crop::Enhance::None {
            let mode = self.params.enhance;
            crops = crops.into_iter().map(|c| crop::enhance(c, mode)).collect();
        }
        let mut read = self.rec.recognise(&crops)?;
        if let Some(rec2) = &mut self.rec2 {
            for (r, r2) in read.iter_mut().zip(rec2.recognise(&crops)?) {
                if r2.1 > r.1 {
                    *r = r2;
                }
            }
        }
        Ok(quads
            .into_iter()
            .zip(turned)
            .zip(read)
            .zip(crops)
            .map(|(((quad, turned), (text, confidence)), crop)| {
                let line = TextLine {
                    quad,
                    script: script::of_text(&text).to_owned(),
                    text,
                    confidence,
                    turned,
                    engine: self.name.clone(),
                    handwriting: None,
                };
                (line, crop)
            })
            .collect())
    }

    fn detect(&mut self, img: &RgbImage) -> Result<Vec<Quad>, OcrError> {
        self.det.search(img, &self.params.db, self.params.tile)
    }

    /// Whether a recogniser's character list has every letter of `text`.
    pub fn can_spell(&self, text: &str) -> bool {
        let knows = |c: char| self.rec.knows(c) || self.rec2.as_ref().is_some_and(|r| r.knows(c));
        text.chars().filter(|c| c.is_alphabetic()).all(knows)
    }
}

/// Whether the elongated boxes among `quads` (long side ≥ 1.5 × the short) run mostly up and
/// down, weighted by length: the photo was taken sideways.
fn runs_vertically(quads: &[Quad]) -> bool {
    let (mut across, mut down) = (0f32, 0f32);
    for q in quads {
        let (a, b) = ([q[1][0] - q[0][0], q[1][1] - q[0][1]], [q[3][0] - q[0][0], q[3][1] - q[0][1]]);
        let (la, lb) = (a[0].hypot(a[1]), b[0].hypot(b[1]));
        let (long, len, short) = if la >= lb { (a, la, lb) } else { (b, lb, la) };
        if len < 1.5 * short {
            continue;
        }
        if long[1].abs() > long[0].abs() { down += len } else { across += len }
    }
    down > across
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sideways_text_is_told_by_its_long_boxes() {
        let across: Quad = [[0.0, 0.0], [100.0, 0.0], [100.0, 20.0], [0.0, 20.0]];
        let down: Quad = [[0.0, 0.0], [20.0, 0.0], [20.0, 100.0], [0.0, 100.0]];
        let square: Quad = [[0.0, 0.0], [30.0, 0.0], [30.0, 30.0], [0.0, 30.0]];
        assert!(!runs_vertically(&[across, square, square]));
        assert!(runs_vertically(&[down, down, across]));
        assert!(!runs_vertically(&[]));
    }
}
