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
    /// Search boxes of lines joined in the map again on their own crop ([`PpOcr::look_closer`]).
    pub look_closer: bool,
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
            look_closer: true,
        }
    }
}

/// Boxes higher than this are cut shrunk to it ([`crop::crop_line`]): four times the recogniser's
/// input height, above every line of the generated evaluation set (whose crops the handwriting
/// classifier was measured on), so only the large text and the texture boxes of big photos change.
const CROP_MAX_H: u32 = 4 * lines::LINE_H as u32;

/// See [`PpOcr::look_closer`]: a box read with less confidence than this, at least this many
/// times as high as the photo's median line, is searched again on its crop at these scales (the
/// enlarged crop at most this many pixels long). The crop alone parted the lines of an IBAN
/// that the crop enlarged twice joined again, and the other way round for a phone number.
const ZOOM_BELOW: f32 = 0.8;
const ZOOM_TALL: f32 = 1.7;
const ZOOMS: [f32; 2] = [1.0, 2.0];
/// A crop is enlarged only while the photo's median line stays at most this high (pixels).
const ZOOM_LINE_MAX: f32 = 80.0;
const ZOOM_MAX_SIDE: f32 = 2400.0;

/// A line read, with its upright crop.
type Read = (TextLine, RgbImage);

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
            let lines = self.read_quads(&turned, quads)?;
            let mut lines = self.look_closer(&turned, lines)?;
            // Rotated (u, v) came from original (x, y) = (v, h − u).
            for (l, _) in &mut lines {
                l.quad = l.quad.map(|[u, v]| [v, h - u]);
            }
            return Ok(lines);
        }
        let lines = self.read_quads(img, quads)?;
        self.look_closer(img, lines)
    }

    /// Boxes as high as two lines or more that read as little (nothing, or a string of guesses
    /// below [`ZOOM_BELOW`]) are lines written so close together that the detector joined them.
    /// Each is searched again on its own crop, where the detector no longer sees what is around
    /// it, and on that crop enlarged (see [`ZOOMS`]); the search that reads more letters wins.
    /// The lines it finds replace the box — read or not, so an unread part still counts as
    /// unread — unless none of them reads better than the box did. A line found again where a
    /// line was already read replaces that line (and any other it covers) when it reads more
    /// letters than they did together, or when it is one of several lines found at that line's
    /// place that together read more (a confident box that was two lines); it is left out
    /// otherwise.
    ///
    /// Boxes are searched again when they are read with doubt and are either [`ZOOM_TALL`] times
    /// the photo's median line or hold two bands of ink one above the other
    /// ([`crop::ink_bands`]): on a note of few lines, the median line may be a joined one.
    ///
    /// Measured on the personal-data set (issue 19): typed phone, IBAN and card lines printed
    /// tight under a price were joined with their neighbours, read as nothing, and held the
    /// photo for unread text instead of being found.
    fn look_closer(&mut self, img: &RgbImage, lines: Vec<Read>) -> Result<Vec<Read>, OcrError> {
        if !self.params.look_closer {
            return Ok(lines);
        }
        let min = self.params.min_confidence;
        let short = |q: &Quad| {
            let side = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
            side(q[0], q[1]).min(side(q[1], q[2]))
        };
        let mut heights: Vec<f32> =
            lines.iter().filter(|(l, _)| l.confidence >= ZOOM_BELOW).map(|(l, _)| short(&l.quad)).collect();
        heights.sort_by(f32::total_cmp);
        let Some(&line_h) = heights.get(heights.len() / 2) else { return Ok(lines) };
        // Tall beside the photo's other lines, or holding bands of ink one above the other: on a
        // note of few lines the confident boxes may themselves be joined lines (photo 078 of the
        // personal-data set: an Arabic price line, a phone number in Arabic-Indic digits and an
        // e-mail address, boxed as three lines and as two).
        let joined: Vec<bool> = lines
            .iter()
            .map(|(l, crop)| {
                l.confidence < ZOOM_BELOW && (short(&l.quad) >= ZOOM_TALL * line_h || crop::ink_bands(crop) >= 2)
            })
            .collect();
        if !joined.contains(&true) {
            return Ok(lines);
        }
        let letters = |l: &TextLine| if l.confidence >= min { l.text.trim().chars().count() } else { 0 };
        // The lines read outside the joined boxes, and whether a line found again replaced them.
        let read: Vec<usize> = (0..lines.len()).filter(|&i| !joined[i] && lines[i].0.confidence >= min).collect();
        let mut gone = vec![false; lines.len()];
        let mut found = Vec::new();
        for i in (0..lines.len()).filter(|&i| joined[i]) {
            // The letters a search read, its lines, and the lines read before that they replace.
            let mut best: Option<(usize, Vec<Read>, Vec<usize>)> = None;
            // Enlarged only while its lines stay of a height the detector parts well.
            for scale in ZOOMS.into_iter().filter(|&s| s == 1.0 || s * line_h <= ZOOM_LINE_MAX) {
                let quads = self.zoom(img, &lines[i].0.quad, line_h, scale)?;
                // Lines joined are lines one above the other; one line found again, or in pieces
                // side by side, was a large line, not joined ones.
                if !stacked(&quads) {
                    continue;
                }
                let again = self.read_quads(img, quads)?;
                let covers: Vec<Vec<usize>> = again
                    .iter()
                    .map(|(line, _)| {
                        read.iter().copied().filter(|&k| db::same_place(&line.quad, &lines[k].0.quad)).collect()
                    })
                    .collect();
                // A line read before that the lines found again at its place part into more
                // letters (a confident box that was two lines) is replaced by all of them.
                let parted: Vec<bool> = (0..lines.len())
                    .map(|k| {
                        let parts = again.iter().zip(&covers).filter(|(_, c)| c.contains(&k));
                        parts.clone().count() > 1
                            && parts.map(|((l, _), _)| letters(l)).sum::<usize>() > letters(&lines[k].0)
                    })
                    .collect();
                let mut fresh = Vec::new();
                let mut replaced = Vec::new();
                for ((line, crop), covered) in again.into_iter().zip(covers) {
                    let more = letters(&line) > covered.iter().map(|&k| letters(&lines[k].0)).sum();
                    if covered.is_empty() || more || matches!(covered[..], [k] if parted[k]) {
                        replaced.extend(covered);
                        fresh.push((line, crop));
                    }
                }
                let gain = fresh.iter().map(|(l, _)| letters(l)).sum();
                if best.as_ref().is_none_or(|(g, ..)| gain > *g) {
                    best = Some((gain, fresh, replaced));
                }
            }
            let confidence = lines[i].0.confidence;
            if let Some((_, fresh, replaced)) = best
                && fresh.iter().any(|(l, _)| l.confidence >= min && l.confidence > confidence)
            {
                gone[i] = true;
                replaced.into_iter().for_each(|k| gone[k] = true);
                found.extend(fresh);
            }
        }
        // Joined boxes that overlap find some lines twice: the reading with more letters stays.
        found.sort_by_key(|(l, _)| std::cmp::Reverse(letters(l)));
        let mut once: Vec<Read> = Vec::new();
        for (line, crop) in found {
            if !once.iter().any(|(k, _)| db::same_place(&k.quad, &line.quad)) {
                once.push((line, crop));
            }
        }
        let mut out: Vec<Read> =
            lines.into_iter().zip(gone).filter(|(_, gone)| !gone).map(|(l, _)| l).chain(once).collect();
        db::reading_order_of(&mut out, |(l, _)| &l.quad);
        Ok(out)
    }

    /// The boxes the detector finds around `quad` (with a margin of half a line of `line_h`
    /// pixels) in `img` enlarged `scale` times, in `img`'s pixels.
    fn zoom(&mut self, img: &RgbImage, quad: &Quad, line_h: f32, scale: f32) -> Result<Vec<Quad>, OcrError> {
        let [x0, y0, x1, y1] = db::bounds(quad);
        let pad = 0.5 * line_h;
        let (w, h) = img.dimensions();
        let x0 = (x0 - pad).max(0.0) as u32;
        let y0 = (y0 - pad).max(0.0) as u32;
        let x1 = ((x1 + pad).ceil() as u32).min(w);
        let y1 = ((y1 + pad).ceil() as u32).min(h);
        if x1 <= x0 + 1 || y1 <= y0 + 1 {
            return Ok(Vec::new());
        }
        let part = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
        let scale = scale.min(ZOOM_MAX_SIDE / (x1 - x0).max(y1 - y0) as f32).max(1.0);
        let big = lines::resize_bilinear(&part, ((x1 - x0) as f32 * scale) as u32, ((y1 - y0) as f32 * scale) as u32);
        let (bw, bh) = big.dimensions();
        // A crop longer than that even at its own size (a large box on a 12 MP photo) is shrunk
        // to it for the detector.
        let side = bw.max(bh).min(ZOOM_MAX_SIDE as u32);
        let found = self.det.detect_at(&big, &self.params.db, side, true)?;
        let (sx, sy) = ((x1 - x0) as f32 / bw as f32, (y1 - y0) as f32 / bh as f32);
        Ok(found.into_iter().map(|q| q.map(|[x, y]| [x0 as f32 + x * sx, y0 as f32 + y * sy])).collect())
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

/// Whether two of `quads` lie one above the other: their middles further apart up and down than
/// half the height of the lower of the two boxes.
fn stacked(quads: &[Quad]) -> bool {
    let middle = |q: &Quad| q.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    let high = |q: &Quad| (q[3][1] - q[0][1]).abs().max((q[2][1] - q[1][1]).abs());
    quads
        .iter()
        .enumerate()
        .any(|(i, a)| quads[i + 1..].iter().any(|b| (middle(a) - middle(b)).abs() > 0.5 * high(a).min(high(b))))
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
    fn lines_one_above_the_other_are_stacked_pieces_side_by_side_are_not() {
        let line = |x: f32, y: f32| -> Quad { [[x, y], [x + 100.0, y], [x + 100.0, y + 20.0], [x, y + 20.0]] };
        assert!(stacked(&[line(0.0, 0.0), line(0.0, 24.0)]));
        assert!(stacked(&[line(0.0, 0.0), line(120.0, 3.0), line(10.0, 30.0)]));
        assert!(!stacked(&[line(0.0, 0.0), line(120.0, 6.0)]), "a line in two pieces, a little tilted");
        assert!(!stacked(&[line(0.0, 0.0)]));
    }

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
