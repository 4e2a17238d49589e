//! The CTC text recogniser and its character list.

use std::path::Path;

use crowdsift_models::{OcrSpec, OnnxNet};
use image::RgbImage;

use crate::OcrError;
use crate::lines::{LINE_H, by_ratio, ratio, write_line};

const BATCH: usize = 6;
/// Narrowest batch: 160 px. PaddleOCR pads every batch to at least its training width, 320 px;
/// the recogniser's cost grows with the width, and short words (a price, a unit) padded to 320
/// cost twice what they need. Measured with 160: 50 photos of 12 MP recognised in 7.9 s of one
/// core instead of 9.4, CER 0.178 → 0.176; the generated evaluation set unchanged (0.164).
const MIN_RATIO: f32 = 160.0 / 48.0;

pub(crate) struct Recognizer {
    net: OnnxNet,
    /// The dictionary's characters; class 0 is the CTC blank, class `len + 1` a space.
    chars: Vec<String>,
}

/// The dictionary: one character per line, kept as it is (its first line may be U+3000, an
/// ideographic space, which trimming would lose).
pub fn read_dict(path: &Path) -> Result<Vec<String>, OcrError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| OcrError::Dict { path: path.to_owned(), msg: e.to_string() })?;
    Ok(text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned()).filter(|l| !l.is_empty()).collect())
}

/// Greedy CTC decoding of `t` steps of `c` class probabilities: the most likely class per step,
/// repeats merged, then blanks (class 0) dropped; confidence is the mean probability of the kept
/// steps (0 when nothing is read).
pub fn ctc_decode<'a>(probs: &[f32], t: usize, c: usize, char_of: impl Fn(usize) -> &'a str) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut prev = usize::MAX;
    for step in probs.chunks(c).take(t) {
        let (best, p) =
            step.iter().enumerate().fold((0, f32::MIN), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc });
        if best != prev && best != 0 {
            text.push_str(char_of(best));
            sum += p;
            kept += 1;
        }
        prev = best;
    }
    (text, if kept == 0 { 0.0 } else { sum / kept as f32 })
}

impl Recognizer {
    /// Whether `c` is in the character list.
    pub fn knows(&self, c: char) -> bool {
        let mut buf = [0u8; 4];
        let c = &*c.encode_utf8(&mut buf);
        self.chars.iter().any(|d| d == c)
    }

    pub fn load(spec: &OcrSpec, threads: usize) -> Result<Self, OcrError> {
        Ok(Recognizer { net: OnnxNet::load(&spec.rec.path, threads)?, chars: read_dict(&spec.dict.path)? })
    }

    fn char_of(&self, class: usize) -> &str {
        match class {
            0 => "",
            i if i <= self.chars.len() => &self.chars[i - 1],
            _ => " ",
        }
    }

    /// Text and confidence of each crop, in the order given. Crops are batched by width/height
    /// ratio; each batch is as wide as its widest line (at least 320 px at height 48).
    pub fn recognise(&mut self, crops: &[RgbImage]) -> Result<Vec<(String, f32)>, OcrError> {
        let mut out = vec![(String::new(), 0f32); crops.len()];
        let order = by_ratio(crops);
        for batch in order.chunks(BATCH) {
            let max_ratio = batch.iter().map(|&i| ratio(&crops[i])).fold(MIN_RATIO, f32::max);
            let width = (LINE_H as f32 * max_ratio) as usize;
            let per = 3 * LINE_H * width;
            let mut x = vec![0f32; batch.len() * per];
            for (k, &i) in batch.iter().enumerate() {
                write_line(&crops[i], width, &mut x[k * per..(k + 1) * per]);
            }
            let (shape, p) = self.net.run(&[batch.len(), 3, LINE_H, width], &x)?;
            let [n, t, c] = shape[..] else {
                return Err(OcrError::Shape(format!("recogniser output has shape {shape:?}, expected [N, T, C]")));
            };
            if n != batch.len() || c < self.chars.len() + 1 {
                return Err(OcrError::Shape(format!(
                    "recogniser output has shape {shape:?} for {} lines and {} characters",
                    batch.len(),
                    self.chars.len()
                )));
            }
            for (k, &i) in batch.iter().enumerate() {
                out[i] = ctc_decode(&p[k * t * c..(k + 1) * t * c], t, c, |cls| self.char_of(cls));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_before_dropping_blanks() {
        // Classes: 0 blank, 1 'a', 2 'b'. Steps: a a blank a b b blank.
        let steps = [1, 1, 0, 1, 2, 2, 0];
        let mut probs = Vec::new();
        for &s in &steps {
            let mut row = [0.05f32; 3];
            row[s] = 0.9;
            probs.extend(row);
        }
        let chars = ["a", "b"];
        let (text, conf) = ctc_decode(&probs, steps.len(), 3, |c| chars[c - 1]);
        assert_eq!(text, "aab");
        assert!((conf - 0.9).abs() < 1e-6);
        assert_eq!(ctc_decode(&[0.9, 0.1], 1, 2, |_| "x"), (String::new(), 0.0));
    }
}
