//! Numbers written in Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩) and their Persian forms (۰۱۲۳۴۵۶۷۸۹).
//!
//! On an Arabic note these are the phone numbers and dates of birth. Neither PP-OCR model set has
//! the digits in its character list (it reads `٠٥١ ٧٢٦ ٧٦١٧` as `VV 01:`), and Tesseract's Arabic
//! packs — Debian's and tessdata's best — read them as noise (`1/10`). No model we can obtain
//! offline reads them, so this is a small CTC reader trained here (`scripts/train_digits.py` with
//! PyTorch, on lines `scripts/make_digits_set.py` draws in 33 Arabic and 19 Latin faces; measured
//! on the faces crowdsift's generated sets draw with, never trained on: bench/results/
//! arabic_digits.md). ONNX Runtime runs it.
//!
//! It reads what is seen from left to right, one class per character: the Arabic-Indic and Latin
//! digits, separators, and `X` for any letter — it reads numbers and says where words are, it does
//! not spell them. [`logical`] puts a reading back into the order it was written in.
//!
//! Input: the line's crop in grey, 32 pixels high keeping its aspect, 0–255 (the net standardises
//! it). Output: per step of 4 pixels, the probabilities of the classes, CTC's blank first.
//! About 190 k weights, under a millisecond a line on one core.

use std::path::Path;

use crowdsift_models::OnnxNet;
use image::RgbImage;

use crate::OcrError;
use crate::rec::ctc_decode;

/// Crop height the net reads, in pixels.
pub const HEIGHT: usize = 32;
/// Pixels of crop per output step.
const STEP: usize = 4;
/// Crops are read at most this wide (longer lines are scaled down to it).
const MAX_WIDTH: usize = 1024;
/// The classes after CTC's blank, as scripts/make_digits_set.py's ALPHABET; `X` is any letter.
const ALPHABET: [char; 30] = [
    '٠', '١', '٢', '٣', '٤', '٥', '٦', '٧', '٨', '٩', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '-', '.',
    ':', '+', '/', ',', '(', ')', 'X',
];
/// What stands for a letter in a reading.
pub const LETTER: char = 'X';

/// The loaded reader.
pub struct DigitReader {
    net: OnnxNet,
    /// The class strings, blank first.
    classes: Vec<String>,
}

impl DigitReader {
    /// Loads the ONNX file at `path` (whose checksum the caller verified).
    pub fn load(path: &Path, threads: usize) -> Result<Self, OcrError> {
        let classes = std::iter::once(String::new()).chain(ALPHABET.iter().map(|c| c.to_string())).collect();
        Ok(DigitReader { net: OnnxNet::load(path, threads)?, classes })
    }

    /// What the crop shows, left to right, and the mean probability of the classes read.
    pub fn read(&mut self, crop: &RgbImage) -> Result<(String, f32), OcrError> {
        let (x, width) = prepare(crop);
        let (shape, p) = self.net.run(&[1, 1, HEIGHT, width], &x)?;
        let [1, t, c] = shape[..] else {
            return Err(OcrError::Shape(format!("digit reader output has shape {shape:?}, expected [1, T, C]")));
        };
        if c != self.classes.len() {
            return Err(OcrError::Shape(format!("digit reader has {c} classes, expected {}", self.classes.len())));
        }
        Ok(ctc_decode(&p, t, c, |k| &self.classes[k]))
    }
}

/// A crop as the net reads it: grey, [`HEIGHT`] high, its width a multiple of the step, 0–255.
/// Returns the values and the width.
pub fn prepare(crop: &RgbImage) -> (Vec<f32>, usize) {
    // Edge-padded on the right to whole steps, as the training lines were.
    crate::lines::grey_line(crop, HEIGHT, (8, MAX_WIDTH), |w| w.div_ceil(STEP) * STEP)
}

/// Whether `c` is an Arabic-Indic or Persian digit (a digit of the Arabic script, as the OCR
/// packs' rules tell one).
pub fn is_arabic_digit(c: char) -> bool {
    c.is_numeric() && crate::script::of_char(c) == Some("Arabic")
}

/// A reading in the order it was written: the runs of a line that has Arabic-Indic digits are
/// drawn right to left (the bidirectional algorithm runs a number's groups right to left in an
/// Arabic line, and in a line of such groups alone: `٠٥١ ٧٢٦ ٧٦١٧` is seen as `٧٦١٧ ٧٢٦ ٠٥١`),
/// while a number's own digits, and separators between two digits (`١٢:٣٠`), read left to right.
/// Runs of `X` (letters) are kept as one run each. A `+` drawn at the left of a number that starts
/// the line is the number's: a line of groups alone is drawn left to right with its groups
/// reversed (`+٩٦٦ ٥١ ٣١٦ ٥٨٢١` is seen as `+٥٨٢١ ٣١٦ ٥١ ٩٦٦`). A reading without Arabic-Indic
/// digits is returned as it is.
pub fn logical(visual: &str) -> String {
    if !visual.chars().any(is_arabic_digit) {
        return visual.to_owned();
    }
    if let Some(rest) = visual.strip_prefix('+')
        && rest.starts_with(|c: char| c.is_numeric())
    {
        return format!("+{}", logical(rest));
    }
    let chars: Vec<char> = visual.chars().collect();
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i + 1;
        if c.is_numeric() {
            // Digits, and single separators between digits.
            while j < chars.len()
                && (chars[j].is_numeric()
                    || (matches!(chars[j], '.' | ',' | ':' | '/') && chars.get(j + 1).is_some_and(|n| n.is_numeric())))
            {
                j += 1;
            }
        } else if c == LETTER {
            while j < chars.len() && chars[j] == LETTER {
                j += 1;
            }
        }
        runs.push(chars[i..j].iter().collect());
        i = j;
    }
    runs.reverse();
    runs.concat()
}

/// The text of a line whose digits this reader read (`reading`, in display order) and another
/// recogniser read as `other`: the reading in the order it was written, its letters replaced by
/// the words of `other` in the Arabic script (the leading word, `جوال`; the other recogniser
/// spells them, this reader does not). None unless the reading has at least `min_digits`
/// Arabic-Indic digits, more than `other` has digits of any kind (PP-OCR reads a few of them as
/// Latin digits or dots: `190..` for `٢٢-٠٤-١٩٥٠`), and at most one Latin digit to three of them
/// (a mixed reading is this reader's guess at a line of Latin digits: a handwritten
/// `+880 1851-028081` that PP-OCR read right was read `+028٥٥١-51١ ٥٨0`).
pub fn merge(other: &str, reading: &str, min_digits: usize) -> Option<String> {
    let ours = reading.chars().filter(|&c| is_arabic_digit(c)).count();
    let latin = reading.chars().filter(char::is_ascii_digit).count();
    let theirs = other.chars().filter(|c| c.is_numeric()).count();
    if ours < min_digits || ours <= theirs || 3 * latin > ours {
        return None;
    }
    let words: Vec<&str> = other
        .split_whitespace()
        .filter(|w| w.chars().any(|c| crate::script::of_char(c) == Some("Arabic") && c.is_alphabetic()))
        .map(|w| w.trim_matches(|c: char| c == ':' || c == '\u{061B}'))
        .collect();
    let mut words = Some(words.join(" ")).filter(|w| !w.is_empty());
    let mut text = String::new();
    let mut letters = false;
    for c in logical(reading).chars() {
        if c == LETTER {
            // The words go where the reader saw the first run of letters.
            if !letters && let Some(w) = words.take() {
                text.push_str(&w);
            }
            letters = true;
        } else {
            letters = false;
            text.push(c);
        }
    }
    if let Some(w) = words {
        text = format!("{w} {text}");
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(text.trim_matches(|c: char| c == ':' || c.is_whitespace()).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_go_back_to_the_order_they_were_written_in() {
        // As libraqm draws them (python-bidi agrees): groups right to left, digits left to right.
        assert_eq!(logical("٧٦١٧ ٧٢٦ ٠٥١"), "٠٥١ ٧٢٦ ٧٦١٧");
        assert_eq!(logical("١٩٥٠-٠٤-٢٢"), "٢٢-٠٤-١٩٥٠");
        assert_eq!(logical("٧٦١٧ ٧٢٦ ٠٥١ :XXXX"), "XXXX: ٠٥١ ٧٢٦ ٧٦١٧");
        assert_eq!(logical("١٢:٣٠"), "١٢:٣٠");
        assert_eq!(logical("+٥٨٢١ ٣١٦ ٥١ ٩٦٦"), "+٩٦٦ ٥١ ٣١٦ ٥٨٢١");
        assert_eq!(logical("٥٨٢١ ٣١٦ ٥١ ٩٦٦+ :XXX"), "XXX: +٩٦٦ ٥١ ٣١٦ ٥٨٢١");
        // Latin digits are left as they are.
        assert_eq!(logical("0551 234 567"), "0551 234 567");
    }

    #[test]
    fn numbers_join_the_arabic_words_another_recogniser_read() {
        assert_eq!(merge("جوال: 7 .01", "٦٢٣٢ ٢٧٣ ٠٥١ :XXXX", 4).as_deref(), Some("جوال: ٠٥١ ٢٧٣ ٦٢٣٢"));
        assert_eq!(merge("جوال 7 .01", "٦٢٣٢ ٢٧٣ ٠٥١ XXXX", 4).as_deref(), Some("جوال ٠٥١ ٢٧٣ ٦٢٣٢"));
        assert_eq!(merge("VV 01:", "٧٦١٧ ٧٢٦ ٠٥١ :", 4).as_deref(), Some("٠٥١ ٧٢٦ ٧٦١٧"));
        // Letters nobody spelled are left out; words the reader did not see go first.
        assert_eq!(merge("..", "٠٥١٢ XXX", 4).as_deref(), Some("٠٥١٢"));
        assert_eq!(merge("هاتف", "٠٥١٢٣", 4).as_deref(), Some("هاتف ٠٥١٢٣"));
        // Too few digits, or nothing the other reading lacks.
        assert_eq!(merge("السعر", "١٢ XXXXX", 4), None);
        assert_eq!(merge("هاتف ٠٥١٢٣", "٠٥١٢٣", 4), None);
        assert_eq!(merge("Tel 0551", "0551 XXX", 4), None);
        // Fewer than the digits the other read, or a mixed reading.
        assert_eq!(merge("0512 345 678", "٠٥١٢ ٣٤٥ ٦٧٨", 4), None);
        assert_eq!(merge("+880 1851-028081", "+028٥٥١-51١ ٥٨0", 4), None);
        assert_eq!(merge("190..", "١٩٥٠-٠٤-٢٢ 1", 4).as_deref(), Some("1 ٢٢-٠٤-١٩٥٠"));
    }

    #[test]
    fn crops_are_scaled_to_whole_steps() {
        let crop = RgbImage::from_pixel(50, 16, image::Rgb([200, 200, 200]));
        let (v, w) = prepare(&crop);
        assert_eq!(w, 100);
        assert_eq!(v.len(), HEIGHT * 100);
        assert!(v.iter().all(|&p| (p - 200.0).abs() < 1.0));
        let (_, w) = prepare(&RgbImage::new(51, 16));
        assert_eq!(w % STEP, 0);
        assert_eq!(prepare(&RgbImage::new(5000, 10)).1, MAX_WIDTH);
    }

    /// The committed model gives what PyTorch gave at training time (the held-out reference lines
    /// scripts/train_digits.py wrote beside it), and reads them.
    #[test]
    fn onnx_runtime_reads_the_model_as_pytorch_trained_it() {
        use base64::Engine as _;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ocr");
        let mut reader = DigitReader::load(&dir.join("arabic_digits.onnx"), 1).unwrap();
        let text = std::fs::read_to_string(dir.join("arabic_digits.reference.json")).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let lines = doc["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 12);
        let mut right = 0;
        for l in lines {
            let width = l["width"].as_u64().unwrap() as usize;
            let grey = base64::engine::general_purpose::STANDARD.decode(l["grey"].as_str().unwrap()).unwrap();
            let x: Vec<f32> = grey.iter().map(|&p| f32::from(p)).collect();
            let (shape, p) = reader.net.run(&[1, 1, HEIGHT, width], &x).unwrap();
            let want: Vec<f32> =
                l["max_probs"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            assert_eq!(shape, [1, width / STEP, ALPHABET.len() + 1]);
            for (step, w) in p.chunks(shape[2]).zip(&want) {
                let got = step.iter().copied().fold(0f32, f32::max);
                assert!((got - w).abs() < 1e-3, "ONNX Runtime {got}, PyTorch {w}");
            }
            let (read, _) = ctc_decode(&p, shape[1], shape[2], |k| &reader.classes[k]);
            assert_eq!(read, l["read"].as_str().unwrap());
            right += usize::from(read == l["truth"].as_str().unwrap());
        }
        assert!(right >= 10, "{right} of 12 held-out lines read right");
    }
}
