//! The release rule for text: which photos may be published without a person having looked.
//!
//! A photo goes out unreviewed only when every text line on it was read with good confidence
//! and is either personal data that redaction hides or classified as not personal. Anything the
//! system cannot vouch for sends the photo to the `pii` review queue, with the reason shown:
//!
//! | check | when | why |
//! |---|---|---|
//! | `handwriting` | a line is handwritten (style classifier ≥ [`SafetyParams::handwriting`]) | notes in a collector's hand hold names and numbers, and OCR misreads them |
//! | `low_confidence_text` | a line not hidden was read with confidence < [`SafetyParams::min_confidence`] | what it really says is not known |
//! | `unread_text` | the detector found a line no recogniser could read with the OCR's confidence floor: a box at least [`SafetyParams::unread_min_height`] px high, twice as long with a letter or digit made out in it, or four times as long; or 1.5 times as long and within a line's height of personal data found | illegible writing; two lines of a note the detector boxed as one |
//! | `unclassified_text` | a line not hidden holds what may be personal: a number of 7+ digits nothing explains (not an amount, code, date or barcode), an `@` | the rules could not tell |
//!
//! Left out, as no place for personal data: lines of one or two characters in a short box (a dash,
//! a digit OCR made of a speck); lines lower than [`SafetyParams::unread_min_height`] (texture, or
//! writing no one can read in the photo either); a short number with no letters (`12:30`, `500`:
//! fewer than seven digits in a box less than three times as long as high: no name, no phone
//! number fits in it); and what OCR read on a product barcode (its bars and digits). The thresholds are [`SafetyParams`] (defaults measured in bench/results/pii_leak.md); the
//! release (`crowdsift release`) holds every photo with one of these checks flagged until a
//! reviewer decides, and says how many it held and why.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crowdsift_ocr::db::bounds;
use crowdsift_ocr::{Quad, TextLine};

use crate::{Kind, PiiFinding, mask, patterns, rows};

/// A line this likely handwritten counts as handwriting.
pub const HANDWRITING: f32 = 0.5;

/// The checks that hold a photo for a person (besides `redact_residual`, what verification of a
/// redacted copy found again); the store's readers know them as [`crowdsift_core::PII_DOUBTS`].
pub const CHECKS: [&str; 4] = crowdsift_core::PII_DOUBTS;

/// The thresholds of the release rule for text: the `pii` stage's options of the same names
/// (command line and Python), their defaults those of [`Default`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct SafetyParams {
    /// Release rule: a line at least this likely handwritten holds its photo for a person.
    #[arg(long, default_value_t = SafetyParams::default().handwriting)]
    pub handwriting: f32,
    /// Release rule: a line read with less confidence than this (and not hidden) holds its photo
    /// for a person.
    #[arg(long, default_value_t = SafetyParams::default().min_confidence)]
    pub min_confidence: f32,
    /// Release rule: boxes lower than this (photo pixels), read or not, are not counted (specks,
    /// texture).
    #[arg(long, default_value_t = SafetyParams::default().unread_min_height)]
    pub unread_min_height: f32,
    /// Release rule: an unread box holds its photo when at least this much longer than high and a
    /// recogniser made out a letter or digit in it with --unread-min-reading confidence or more …
    #[arg(long, default_value_t = SafetyParams::default().unread_min_aspect)]
    pub unread_min_aspect: f32,
    /// Release rule: the confidence with which a recogniser must make out a letter or digit in an
    /// unread box for --unread-min-aspect to apply.
    #[arg(long, default_value_t = SafetyParams::default().unread_min_reading)]
    pub unread_min_reading: f32,
    /// Release rule: … or when at least this much longer than high, read or not (the shape of a
    /// line).
    #[arg(long, default_value_t = SafetyParams::default().unread_line_aspect)]
    pub unread_line_aspect: f32,
}

impl Default for SafetyParams {
    fn default() -> Self {
        SafetyParams {
            handwriting: HANDWRITING,
            min_confidence: 0.8,
            unread_min_height: 10.0,
            unread_min_aspect: 2.0,
            unread_min_reading: 0.2,
            unread_line_aspect: 4.0,
        }
    }
}

/// Why a line keeps its photo for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Doubt {
    /// One of [`CHECKS`].
    pub check: &'static str,
    /// What was seen, masked like findings (`handwritten line "Da*** *****id"`).
    pub detail: String,
}

/// What the rule made of one photo's text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Assessment {
    pub doubts: Vec<Doubt>,
    /// The highest probability of handwriting among its lines (`None`: no line classified).
    pub handwriting: Option<f32>,
    /// The lowest confidence among the lines not hidden (`None`: no such line).
    pub min_confidence: Option<f32>,
}

impl Assessment {
    /// Whether a person must see the photo before it is released.
    pub fn needs_person(&self) -> bool {
        !self.doubts.is_empty()
    }

    /// The doubts of one check.
    pub fn of(&self, check: &str) -> impl Iterator<Item = &Doubt> {
        self.doubts.iter().filter(move |d| d.check == check)
    }
}

/// A line read as fewer characters than this per line height of its length has most of its text
/// unread: letters are about half as wide as a line's box is high (measured on the generated
/// set: lines read whole, 1.2 and more; the line-shaped boxes of photos without personal data,
/// 1.4 and more).
pub const SHORT_READING: f32 = 1.0;

/// Whether the centre of `q` lies inside one of the convex `regions`.
fn centre_in(q: &Quad, regions: &[Quad]) -> bool {
    let (x, y) = (q.iter().map(|p| p[0]).sum::<f32>() / 4.0, q.iter().map(|p| p[1]).sum::<f32>() / 4.0);
    regions.iter().any(|r| {
        let side = |i: usize| {
            let (a, b) = (r[i], r[(i + 1) % 4]);
            (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
        };
        let s: Vec<f32> = (0..4).map(side).collect();
        s.iter().all(|v| *v >= 0.0) || s.iter().all(|v| *v <= 0.0)
    })
}

/// Whether a box touches, or lies within a line's height of, personal data found in the text.
fn beside_personal(q: &Quad, found: &[PiiFinding]) -> bool {
    let [x0, y0, x1, y1] = bounds(q);
    found.iter().filter(|f| f.line.is_some()).any(|f| {
        let [a0, b0, a1, b1] = bounds(&f.quad);
        let m = crate::sides(&f.quad).1;
        a0 < x1 + m && x0 - m < a1 && b0 < y1 + m && y0 - m < b1
    })
}

/// Applies the rule to the lines read (`lines`), the boxes found but not read (`unread`), the
/// personal data found in them (`found`, from [`crate::find`] on the same lines) and the regions
/// of the product barcodes in the photo (`codes`, from [`crate::add_codes`]).
pub fn assess(
    lines: &[TextLine],
    unread: &[TextLine],
    found: &[PiiFinding],
    codes: &[Quad],
    p: &SafetyParams,
) -> Assessment {
    let mut a = Assessment::default();
    let rows = rows::rows(lines);
    for row in &rows {
        let hidden = found.iter().any(|f| f.kind != Kind::Face && f.line == Some(row.first()));
        let q = row.quad(lines);
        let (len, height) = crate::sides(&q);
        if !holds_text(&row.text, len, height, p) || centre_in(&q, codes) {
            continue;
        }
        let style = row.handwriting(lines);
        if let Some(h) = style {
            a.handwriting = Some(a.handwriting.map_or(h, |m| m.max(h)));
            if h >= p.handwriting {
                a.doubts.push(Doubt {
                    check: "handwriting",
                    detail: format!("handwritten line {:?} ({h:.2})", mask(&row.text)),
                });
            }
        }
        let conf = row.confidence(lines);
        if !hidden {
            a.min_confidence = Some(a.min_confidence.map_or(conf, |m| m.min(conf)));
            if conf < p.min_confidence {
                a.doubts.push(Doubt {
                    check: "low_confidence_text",
                    detail: format!("line {:?} read with confidence {conf:.2}", mask(&row.text)),
                });
            }
            if let Some(why) = unexplained(&row.text) {
                a.doubts.push(Doubt { check: "unclassified_text", detail: format!("{why}: {:?}", mask(&row.text)) });
            }
            // A line's box with far fewer characters read than it holds: most of it was not read
            // (an Arabic date of birth read as "190..": the recogniser lacks its digits).
            let chars = row.text.chars().filter(|c| !c.is_whitespace()).count();
            if len >= p.unread_line_aspect * height && (chars as f32) < SHORT_READING * len / height {
                a.doubts.push(Doubt {
                    check: "unread_text",
                    detail: format!(
                        "line {:?}: {chars} characters read in a box of {:.0}×{:.0} px",
                        mask(&row.text),
                        len,
                        height
                    ),
                });
            }
        } else if has_at(&row.text)
            && !found.iter().any(|f| {
                // An address its pattern read whole (not only a leading word's "rest of the line").
                f.kind == Kind::Email && f.line == Some(row.first()) && f.evidence.contains("e-mail address")
            })
        {
            // Hidden for another reason ("Email: ana.souza@"): what the address lacks may be
            // written beyond what OCR found of the line.
            a.doubts.push(Doubt {
                check: "unclassified_text",
                detail: format!("an e-mail address read only in part: {:?}", mask(&row.text)),
            });
        }
    }
    for u in unread {
        let (len, height) = crate::sides(&u.quad);
        if centre_in(&u.quad, codes) {
            continue;
        }
        let read = u.text.chars().any(char::is_alphanumeric) && u.confidence >= p.unread_min_reading;
        let line = len >= p.unread_line_aspect * height;
        if height >= p.unread_min_height && (len >= p.unread_min_aspect * height && read || line) {
            a.doubts.push(Doubt {
                check: "unread_text",
                detail: format!("text {:.0}×{:.0} px not readable (best reading {:.2})", len, height, u.confidence),
            });
        } else if height >= p.unread_min_height && len >= 1.5 * height && beside_personal(&u.quad, found) {
            // Two lines of a note the detector boxed as one, against an e-mail address it did
            // read: neither a line's length nor a reading, but more of the note is likely.
            a.doubts.push(Doubt {
                check: "unread_text",
                detail: format!("text {:.0}×{:.0} px not readable, beside personal data", len, height),
            });
        }
    }
    a
}

/// Whether a line read as `text` in a box `len` × `height` px can hold personal data at all.
fn holds_text(text: &str, len: f32, height: f32, p: &SafetyParams) -> bool {
    let alnum = text.chars().filter(|c| c.is_alphanumeric()).count();
    let short = len < 3.0 * height;
    // One or two characters read in a short box are a mark or texture, not writing; read in a
    // long box, they are what little OCR made of a line.
    let mark = alnum < 3 && short;
    // A short number and nothing else: no name, no phone number fits (seven digits at least).
    let digits = text.chars().filter(|c| c.is_numeric()).count();
    let number = short && digits < 7 && !text.chars().any(char::is_alphabetic);
    height >= p.unread_min_height && !mark && !number
}

/// Digits of any script with the separators numbers are written with.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d[\d ().\-/]*\d").expect("regex"));

fn has_at(text: &str) -> bool {
    text.contains('@') || text.contains('＠')
}

/// What on a line not hidden may still be personal data, if anything.
pub fn unexplained(text: &str) -> Option<&'static str> {
    if has_at(text) {
        return Some("an @ without a readable e-mail address");
    }
    for m in NUMBER.find_iter(text) {
        let s = m.as_str();
        let digits = s.chars().filter(|c| c.is_numeric()).count();
        if digits < 7 {
            continue;
        }
        let ascii: String =
            s.chars().map(|c| c.to_digit(10).and_then(|d| char::from_digit(d, 10)).unwrap_or(c)).collect();
        let explained =
            patterns::explain_number(text, m.start(), m.end()).is_some() || patterns::benign_shape(&ascii).is_some();
        if !explained {
            return Some("a number nothing explains");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lexicon;

    fn line(text: &str, y: f32, conf: f32, hand: f32) -> TextLine {
        let w = 12.0 * text.chars().count() as f32;
        TextLine {
            quad: [[10.0, y], [10.0 + w, y], [10.0 + w, y + 24.0], [10.0, y + 24.0]],
            text: text.into(),
            confidence: conf,
            turned: false,
            engine: "test".into(),
            script: "Latin".into(),
            handwriting: Some(hand),
        }
    }

    fn checks(lines: &[TextLine], unread: &[TextLine]) -> Vec<&'static str> {
        let found = crate::find(lines, &Lexicon::builtin(), None);
        let mut c: Vec<&str> =
            assess(lines, unread, &found, &[], &SafetyParams::default()).doubts.iter().map(|d| d.check).collect();
        c.dedup();
        c
    }

    #[test]
    fn a_typed_price_tag_read_well_needs_nobody() {
        let tag = [line("Gula pasir Rp 16.000", 0.0, 0.98, 0.02), line("Kedaluwarsa 12/05/2026", 40.0, 0.97, 0.05)];
        assert!(checks(&tag, &[]).is_empty());
        // EAN digits under a barcode, a price, a code: explained.
        let codes = [line("8 901030 865278", 0.0, 0.99, 0.1), line("SKU 10024578", 40.0, 0.99, 0.1)];
        assert!(checks(&codes, &[]).is_empty(), "{:?}", checks(&codes, &[]));
        // The same digits read with a space lost, or the first two missed.
        for cut in ["8901030 865278", "101030 865278"] {
            assert!(checks(&[line(cut, 0.0, 0.99, 0.0)], &[]).is_empty(), "{cut}");
        }
        // A time or a price alone, even in a hand-like style: no name or phone number fits.
        assert!(checks(&[line("12:30", 0.0, 0.99, 0.6)], &[]).is_empty());
        // A reading 7 px high in the photo: texture, or nothing anyone can read.
        let mut speck = line("00", 0.0, 0.5, 0.1);
        speck.quad = [[0.0, 0.0], [31.0, 0.0], [31.0, 7.0], [0.0, 7.0]];
        assert!(checks(&[speck], &[]).is_empty());
    }

    #[test]
    fn what_is_read_on_a_product_barcode_is_the_code() {
        // The bars read as "E0650TL668" with low confidence and a hand-like style, and an unread
        // box on the bars: inside the region of a product code the photo's pixels decoded.
        let bars = line("E0650TL668", 0.0, 0.52, 0.99);
        let mut unread = bars.clone();
        unread.text = String::new();
        let code = [[0.0, -20.0], [260.0, -20.0], [260.0, 60.0], [0.0, 60.0]];
        let found = crate::find(std::slice::from_ref(&bars), &Lexicon::builtin(), None);
        let a = assess(
            std::slice::from_ref(&bars),
            std::slice::from_ref(&unread),
            &found,
            &[code],
            &SafetyParams::default(),
        );
        assert!(a.doubts.is_empty(), "{:?}", a.doubts);
        // Elsewhere in the photo the same reading needs a person.
        let away = [[500.0, 500.0], [700.0, 500.0], [700.0, 600.0], [500.0, 600.0]];
        let a = assess(std::slice::from_ref(&bars), &[unread], &found, &[away], &SafetyParams::default());
        assert!(a.needs_person());
    }

    #[test]
    fn handwriting_doubtful_reading_and_unread_text_need_a_person() {
        let note = [line("Daudi Sayyid", 0.0, 0.98, 0.93)];
        assert_eq!(checks(&note, &[]), ["handwriting"]);
        // A short handwritten name, and a handwritten number long enough to be a phone's.
        assert_eq!(checks(&[line("Ana", 0.0, 0.98, 0.93)], &[]), ["handwriting"]);
        assert_eq!(checks(&[line("0712 55", 0.0, 0.98, 0.93)], &[]), ["handwriting"]);
        let blurry = [line("Prix au kilo 3,90", 0.0, 0.62, 0.1)];
        assert_eq!(checks(&blurry, &[]), ["low_confidence_text"]);
        let scrawl = line("~~ 7", 100.0, 0.3, 0.8);
        let mut long = scrawl.clone();
        long.text = String::new();
        long.quad = [[0.0, 0.0], [200.0, 0.0], [200.0, 24.0], [0.0, 24.0]];
        assert_eq!(checks(&[], &[long]), ["unread_text"], "a line's shape, nothing read");
        let mut texture = scrawl.clone();
        texture.text = String::new();
        assert!(checks(&[], &[texture]).is_empty(), "texture reads as nothing");
        assert_eq!(
            checks(&[line("Fresh milk 500 ml", 0.0, 0.97, 0.0)], std::slice::from_ref(&scrawl)),
            ["unread_text"]
        );
        // A speck the detector boxed is not text.
        let mut speck = scrawl;
        speck.quad = [[0.0, 0.0], [8.0, 0.0], [8.0, 6.0], [0.0, 6.0]];
        assert!(checks(&[], &[speck]).is_empty());
    }

    /// Photo 023 of the leak benchmark: a typed phone number and the e-mail line below it, tilted;
    /// the detector boxed the number with half of the e-mail line (252×78 px, nothing read), and
    /// read the e-mail line on its own.
    #[test]
    fn unread_text_against_personal_data_needs_a_person() {
        let email = line("Correo: kperez@gmail.com", 60.0, 0.97, 0.0);
        let found = crate::find(std::slice::from_ref(&email), &Lexicon::builtin(), Some("MX"));
        assert_eq!(found.len(), 1, "{found:?}");
        let mut block = line("", 0.0, 0.0, 0.99);
        block.quad = [[0.0, 10.0], [252.0, 10.0], [252.0, 88.0], [0.0, 88.0]];
        let a =
            assess(std::slice::from_ref(&email), std::slice::from_ref(&block), &found, &[], &SafetyParams::default());
        assert_eq!(a.doubts.iter().map(|d| d.check).collect::<Vec<_>>(), ["unread_text"], "{:?}", a.doubts);
        // The same box far from any personal data is texture as far as anyone can tell.
        block.quad = block.quad.map(|[x, y]| [x + 600.0, y + 400.0]);
        let a = assess(std::slice::from_ref(&email), &[block], &found, &[], &SafetyParams::default());
        assert!(a.doubts.is_empty(), "{:?}", a.doubts);
    }

    /// An Arabic date of birth the recogniser read as "190.." (it lacks Arabic-Indic digits): a
    /// long box, five characters. Read whole, the same box is fine.
    #[test]
    fn a_line_mostly_not_read_needs_a_person() {
        let mut dob = line("190..", 0.0, 0.92, 0.07);
        dob.quad = [[277.0, 117.0], [528.0, 121.0], [528.0, 168.0], [276.0, 164.0]];
        assert_eq!(checks(std::slice::from_ref(&dob), &[]), ["unread_text"]);
        dob.text = "Mchele kilo 5 TSh 3,000".into();
        assert!(checks(&[dob], &[]).is_empty());
    }

    #[test]
    fn what_might_be_personal_and_was_not_found_needs_a_person() {
        assert_eq!(unexplained("write to ana.souza@"), Some("an @ without a readable e-mail address"));
        assert_eq!(unexplained("call 4471 99821 03"), Some("a number nothing explains"));
        for fine in ["Total Rp 1.250.000", "Best before 12/05/2026", "4006381333931", "No. 004512", "2 x 500 g"] {
            assert_eq!(unexplained(fine), None, "{fine}");
        }
        // An e-mail address cut short by the end of what OCR found holds the photo, hidden or not.
        let cut = [line("Email: daniswara.saptono88@", 0.0, 0.99, 0.0)];
        assert_eq!(checks(&cut, &[]), ["unclassified_text"]);
        // A bare phone number is personal data found and hidden, not a doubt.
        let lines = [line("0806 446 5620", 0.0, 0.95, 0.1)];
        let found = crate::find(&lines, &Lexicon::builtin(), None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(assess(&lines, &[], &found, &[], &SafetyParams::default()).doubts.is_empty());
    }
}
