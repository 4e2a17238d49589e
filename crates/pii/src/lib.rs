//! Stage 7 of crowdsift: personal data in the text read from a photo.
//!
//! Faces come from a face detector on the photo ([`face`]). In the text, two kinds of evidence,
//! both on the OCR's text lines:
//! - a leading word from the [`Lexicon`] ("Name:", "Tél", "Alamat", "ফোন", …) at the start of a
//!   line: the rest of that line — or, when nothing follows, the line below it — is personal data
//!   of the word's kind;
//! - a pattern recognised anywhere, with its check digits where it has them ([`patterns`]).
//!
//! - without a leading word, what a value looks like and where it is written: a name the gazetteer
//!   knows ([`names`]); an address, by its street word and number ([`address`]); on a note that
//!   also holds a phone number or an e-mail address, a line written like a name, or a house number
//!   before a street's name; on a handwritten line, words written like a name, and digits written
//!   like a phone number with some read as letters ([`patterns::misread_phone`]).
//!
//! Each [`PiiFinding`] carries the region to hide (a quad in photo pixels: the part of the line the
//! value takes, or the whole line below), the evidence and a score. The value itself is kept only
//! masked (`+49 *** ***4567`): findings end up in reports and review screens.
//!
//! What was not found is not proof that nothing is there: [`safety`] decides which photos a person
//! must see before they are released.

pub mod address;
pub mod barcode;
pub mod eval;
pub mod face;
pub mod lexicon;
pub mod names;
pub mod patterns;
pub mod qr;
pub mod rows;
pub mod safety;

use crowdsift_ocr::db::bounds;
use crowdsift_ocr::{Quad, TextLine};
use serde::{Deserialize, Serialize};

pub use lexicon::Lexicon;

#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    #[error("lexicon {path}: {msg}")]
    Lexicon { path: String, msg: String },
    #[error(transparent)]
    Model(#[from] crowdsift_models::ModelError),
    #[error("face detector: {0}")]
    Face(String),
}

/// What kind of personal data a region holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PersonName,
    Phone,
    Email,
    IdNumber,
    CardNumber,
    Iban,
    Address,
    Signature,
    DateOfBirth,
    Face,
    QrOrBarcode,
    /// A handwritten line OCR could not read well, among personal data ([`find`]).
    IllegibleText,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PersonName => "person_name",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::IdNumber => "id_number",
            Kind::CardNumber => "card_number",
            Kind::Iban => "iban",
            Kind::Address => "address",
            Kind::Signature => "signature",
            Kind::DateOfBirth => "date_of_birth",
            Kind::Face => "face",
            Kind::QrOrBarcode => "qr_or_barcode",
            Kind::IllegibleText => "illegible_text",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "person_name" => Kind::PersonName,
            "phone" => Kind::Phone,
            "email" => Kind::Email,
            "id_number" => Kind::IdNumber,
            "card_number" => Kind::CardNumber,
            "iban" => Kind::Iban,
            "address" => Kind::Address,
            "signature" => Kind::Signature,
            "date_of_birth" => Kind::DateOfBirth,
            "face" => Kind::Face,
            "qr_or_barcode" => Kind::QrOrBarcode,
            "illegible_text" => Kind::IllegibleText,
            _ => return None,
        })
    }
}

/// Personal data found in a photo's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiiFinding {
    pub kind: Kind,
    /// The region to hide, in photo pixels (top-left, top-right, bottom-right, bottom-left).
    pub quad: Quad,
    /// Why: the leading word and its language, or the pattern and its check.
    pub evidence: String,
    /// 0–1: a leading word confirmed by a valid pattern scores highest.
    pub score: f32,
    /// The value with most characters replaced by `*` (empty for faces).
    pub masked: String,
    /// Index of the text line it was found in (none for faces).
    pub line: Option<usize>,
}

impl PiiFinding {
    /// A face found by the detector, as a region to hide.
    pub fn face(f: &face::Face) -> Self {
        let [x0, y0, x1, y1] = f.bbox;
        PiiFinding {
            kind: Kind::Face,
            quad: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
            evidence: format!("face detector score {:.2}", f.score),
            score: f.score,
            masked: String::new(),
            line: None,
        }
    }
}

/// Adds what the pixels of a photo show to the findings of its text: QR codes and personal
/// linear barcodes (see [`qr`] and [`barcode`]) found in `img`, with regions scaled by `scale` to
/// the text's pixels. Returns the regions of the product barcodes it read (for
/// [`safety::assess`]: text read there is the code's bars and digits).
pub fn add_codes(found: &mut Vec<PiiFinding>, img: &image::GrayImage, scale: f32) -> Vec<Quad> {
    let (personal, products) = barcode::find(img);
    for mut f in qr::find(img).into_iter().chain(personal) {
        f.quad = f.quad.map(|[x, y]| [x * scale, y * scale]);
        // A member number read under the barcode is its caption: one value, one region.
        let [x0, y0, x1, y1] = bounds(&f.quad);
        let below = y1 - y0;
        let caption = found.iter().position(|t| {
            let [a0, b0, a1, b1] = bounds(&t.quad);
            let (cx, cy) = ((a0 + a1) / 2.0, (b0 + b1) / 2.0);
            t.evidence == patterns::MEMBER_EVIDENCE && (x0..=x1).contains(&cx) && (y0..=y1 + below).contains(&cy)
        });
        if let Some(i) = caption {
            f.quad = spanning([x0, y0, x1, y1], bounds(&found.remove(i).quad));
            f.evidence = format!("{}; its caption read as a membership number", f.evidence);
        }
        found.push(f);
    }
    // A member number whose barcode the reader could not decode (bars a pixel wide, blurred by
    // the JPEG): the bars above it encode the same number.
    for t in found.iter_mut().filter(|t| t.evidence == patterns::MEMBER_EVIDENCE) {
        if let Some(bars) = bars_above(img, t.quad.map(|[x, y]| [x / scale, y / scale])) {
            t.quad = spanning(bounds(&t.quad), bars.map(|v| v * scale));
            t.evidence = format!("{}, under barcode bars", patterns::MEMBER_EVIDENCE);
        }
    }
    products.into_iter().map(|q| q.map(|[x, y]| [x * scale, y * scale])).collect()
}

/// The upright rectangle spanning two bounds (left, top, right, bottom).
fn spanning(a: [f32; 4], b: [f32; 4]) -> Quad {
    let (l, t, r, bottom) = (a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3]));
    [[l, t], [r, t], [r, bottom], [l, bottom]]
}

/// The bars of a barcode printed right above a caption (`caption`, in `img`'s pixels): rows
/// above it, beginning within a caption's height, in which the grey level jumps up or down at
/// least once every [`BAR_STEP`] pixels across the caption's width and half of it each side.
/// Returns their bounds (left, top, right, bottom), if there are at least two captions' heights
/// of them.
fn bars_above(img: &image::GrayImage, caption: Quad) -> Option<[f32; 4]> {
    let [l, t, r, _] = bounds(&caption);
    let (w, h) = (img.width() as i64, img.height() as i64);
    if w < 2 || h < 2 {
        return None;
    }
    let high = sides(&caption).1.max(4.0);
    let half = (r - l) / 2.0;
    let (x0, x1) = (((l - half) as i64).clamp(0, w - 1), ((r + half) as i64).clamp(0, w - 1));
    let jumps = |y: i64| {
        let mut n = 0;
        for x in x0..x1 {
            let (a, b) = (img.get_pixel(x as u32, y as u32).0[0], img.get_pixel(x as u32 + 1, y as u32).0[0]);
            n += usize::from(a.abs_diff(b) >= BAR_JUMP);
        }
        n
    };
    let barred = |y: i64| y >= 0 && y < h && jumps(y) as f32 * BAR_STEP >= (x1 - x0) as f32;
    let start = t as i64;
    let first = (1..=high as i64).map(|d| start - d).find(|&y| barred(y))?;
    let mut top = first;
    while top > 0 && barred(top - 1) && (first - top) < (8.0 * high) as i64 {
        top -= 1;
    }
    let rows = (first - top + 1) as f32;
    if rows < 2.0 * high {
        return None;
    }
    // Across the middle row of bars, from the caption's middle outwards while the bars go on (a
    // jump at least every `BAR_GAP` pixels).
    let y = ((top + first) / 2) as u32;
    let jump = |x: i64| {
        x >= 0 && x + 1 < w && {
            let (a, b) = (img.get_pixel(x as u32, y).0[0], img.get_pixel(x as u32 + 1, y).0[0]);
            a.abs_diff(b) >= BAR_JUMP
        }
    };
    let walk = |from: i64, step: i64| {
        let (mut x, mut last) = (from, from);
        while x >= 0 && x < w && (x - last).abs() <= BAR_GAP {
            if jump(x) {
                last = x;
            }
            x += step;
        }
        last
    };
    let mid = ((l + r) / 2.0) as i64;
    let (left, right) = (walk(mid, -1).min(x0), walk(mid, 1).max(x1));
    Some([(left - BAR_GAP).max(0) as f32, top as f32, (right + BAR_GAP).min(w - 1) as f32, first as f32])
}

/// See [`bars_above`]: a jump in grey level between neighbouring pixels of a bar's edge, and how
/// often one comes along a row of bars at least (a 1-pixel module's bars jump every 2–4 pixels).
const BAR_JUMP: u8 = 48;
const BAR_STEP: f32 = 8.0;
/// The widest gap between bars' edges within one barcode, pixels (and the quiet zone kept
/// beyond its ends).
const BAR_GAP: i64 = 12;

/// Finds personal data in the text lines of one photo. `country` (ISO 3166 alpha-2, e.g. `KE`)
/// lets phone numbers written without their country code be validated for it first; the
/// lexicon's regions are tried for the others.
pub fn find(lines: &[TextLine], lexicon: &Lexicon, country: Option<&str>) -> Vec<PiiFinding> {
    let rows = rows::rows(lines);
    // Numbers on a right-to-left photo may come in visual order, also on lines OCR read without
    // their right-to-left words (`5115 217 051 :J`).
    let rtl_photo = lines.iter().any(|l| is_rtl(&l.text) || l.script == "Arabic");
    let mut out: Vec<PiiFinding> = Vec::new();
    for row in &rows {
        let rtl = rtl_photo || is_rtl(&row.text);
        for h in patterns::find(&row.text, country, &lexicon.regions, rtl) {
            out.push(PiiFinding {
                kind: h.kind,
                quad: row.region(lines, h.start, h.end),
                evidence: h.evidence.to_owned(),
                score: 0.9,
                masked: mask(&row.text[h.start..h.end]),
                line: Some(row.first()),
            });
        }
    }
    let quads: Vec<Quad> = rows.iter().map(|r| r.quad(lines)).collect();
    for (i, row) in rows.iter().enumerate() {
        let Some(lead) = lexicon.leading(&row.text) else { continue };
        let evidence = format!("leading word {:?} ({})", lead.word, lead.lang);
        let rest = &row.text[lead.value_start..];
        let (quad, value, at) = if rest.chars().filter(|c| c.is_alphanumeric()).count() >= 2 {
            (row.region(lines, lead.value_start, row.text.len()), rest.trim().to_owned(), row.first())
        } else {
            match line_below(&quads, i) {
                Some(j) => (quads[j], rows[j].text.clone(), rows[j].first()),
                None => continue,
            }
        };
        // The same value found by its pattern: one finding, confirmed twice.
        if let Some(f) = out.iter_mut().find(|f| f.kind == lead.kind && f.line == Some(at)) {
            f.score = 0.99;
            f.evidence = format!("{evidence}; {}", f.evidence);
            continue;
        }
        // Digits a phone number's metadata also accepts, after the word for a date of birth or an
        // ID ("Tanggal lahir: 26/08/1952", "आधार: 3345 288 2432" with a digit misread): what the
        // word says they are. Check digits (cards, IBANs, IDs) stand against any word.
        if matches!(lead.kind, Kind::DateOfBirth | Kind::IdNumber)
            && let Some(f) = out.iter_mut().find(|f| f.kind == Kind::Phone && f.line == Some(at))
        {
            f.kind = lead.kind;
            f.evidence = format!("{evidence}; digits also valid as a phone number");
            continue;
        }
        out.push(PiiFinding { kind: lead.kind, quad, evidence, score: 0.8, masked: mask(&value), line: Some(at) });
    }
    // Without a leading word, on rows where nothing else was found: names the gazetteer knows,
    // then addresses by their street word and number.
    let bare = |out: &[PiiFinding], row: &rows::Row| !out.iter().any(|f| f.line == Some(row.first()));
    for row in &rows {
        if !bare(&out, row) {
            continue;
        }
        let found = lexicon
            .names
            .find(&row.text)
            .map(|h| (Kind::PersonName, h.start, h.end, h.score, h.evidence))
            .or_else(|| address::find(&row.text).map(|h| (Kind::Address, h.start, h.end, 0.6, h.evidence)));
        if let Some((kind, start, end, score, evidence)) = found {
            out.push(PiiFinding {
                kind,
                quad: row.region(lines, start, end),
                evidence,
                score,
                masked: mask(&row.text[start..end]),
                line: Some(row.first()),
            });
        }
    }
    // Handwritten phone numbers OCR misread a digit of as a letter (`0557 bb1 50b0`).
    let handwritten: Vec<bool> =
        rows.iter().map(|r| r.handwriting(lines).is_some_and(|p| p >= safety::HANDWRITING)).collect();
    for (i, row) in rows.iter().enumerate() {
        if handwritten[i]
            && !out.iter().any(|f| f.line == Some(row.first()) && f.kind == Kind::Phone)
            && let Some((start, end)) = patterns::misread_phone(&row.text)
        {
            out.push(PiiFinding {
                kind: Kind::Phone,
                quad: row.region(lines, start, end),
                evidence: "digits written like a phone number, some misread as letters, on a handwritten line".into(),
                score: 0.5,
                masked: mask(&row.text[start..end]),
                line: Some(row.first()),
            });
        }
    }
    // Names the gazetteer does not know, by where they are written: a line written like a name on
    // a note that holds a phone number or an e-mail address, or on a handwritten line.
    let notes = rows::notes(&rows, lines);
    // Which notes hold a finding that `pick` takes.
    let notes_with = |out: &[PiiFinding], pick: fn(&PiiFinding) -> bool| -> Vec<bool> {
        let mut with = vec![false; rows.len()];
        for f in out.iter().filter(|f| pick(f)) {
            if let Some(j) = rows.iter().position(|r| Some(r.first()) == f.line) {
                with.iter_mut().zip(&notes).filter(|(_, n)| **n == notes[j]).for_each(|(w, _)| *w = true);
            }
        }
        with
    };
    let contact_note = notes_with(&out, |f| matches!(f.kind, Kind::Phone | Kind::Email));
    for (i, row) in rows.iter().enumerate() {
        if !bare(&out, row) {
            continue;
        }
        let handwritten = handwritten[i];
        // On a note with a phone number, one capital is enough: OCR often lowers the first
        // letter of a name ("izgü Öcalan").
        let capital = row.text.chars().any(char::is_uppercase);
        // After a colon, a leading word OCR misread beyond recognition ("Nomke: Santiago SeRna").
        let after_colon = |any_case: bool| {
            names::name_like(&row.text, any_case).or_else(|| {
                let at = row.text.rfind(lexicon::COLONS)?;
                let colon = row.text[at..].chars().next().map_or(1, char::len_utf8);
                names::name_like(&row.text[at + colon..], any_case).map(|(a, b)| (at + colon + a, at + colon + b))
            })
        };
        if contact_note[i]
            && let Some(h) = address::number_first(&row.text)
        {
            out.push(PiiFinding {
                kind: Kind::Address,
                quad: row.region(lines, h.start, h.end),
                evidence: h.evidence,
                score: 0.5,
                masked: mask(&row.text[h.start..h.end]),
                line: Some(row.first()),
            });
            continue;
        }
        let (evidence, score, span) = if contact_note[i]
            && let Some(span) = after_colon(handwritten || capital)
        {
            ("words written like a name, on a note with a phone number or e-mail address", 0.55, span)
        } else if handwritten && let Some(span) = after_colon(true) {
            ("words written like a name, on a handwritten line", 0.5, span)
        } else {
            continue;
        };
        out.push(PiiFinding {
            kind: Kind::PersonName,
            quad: row.region(lines, span.0, span.1),
            evidence: evidence.to_owned(),
            score,
            masked: mask(&row.text[span.0..span.1]),
            line: Some(row.first()),
        });
    }
    // A handwritten line OCR read badly, on a note where personal data was found, with no price
    // on it: what it says cannot be checked, and beside a name, a phone number or an e-mail
    // address it is likely more of them ("Atnesee0" for "Address: 896 Jesse Stravenue Apt. 440").
    // Hidden whole; the photo goes to a person anyway (handwriting, see [`safety`]).
    let personal = notes_with(&out, |_| true);
    for (i, row) in rows.iter().enumerate() {
        let conf = row.confidence(lines);
        let letters = row.text.chars().filter(|c| c.is_alphanumeric()).count();
        if !bare(&out, row)
            || !handwritten[i]
            || !personal[i]
            || conf >= ILLEGIBLE_BELOW
            || letters < 3
            || patterns::has_amount(&row.text)
        {
            continue;
        }
        out.push(PiiFinding {
            kind: Kind::IllegibleText,
            quad: row.quad(lines),
            evidence: format!("handwritten line read with confidence {conf:.2}, on a note with personal data"),
            score: 0.4,
            masked: mask(&row.text),
            line: Some(row.first()),
        });
    }
    out.sort_by_key(|f| f.line);
    out
}

/// A handwritten line read with less confidence than this, among personal data, is hidden as
/// [`Kind::IllegibleText`]. Measured on bench/pii_peers.py's notes: handwritten lines over a
/// planted value read with 0.5–0.8 confidence match its text by 21–58 % (median per tenth),
/// those read with 0.85 and more by 88–100 %.
pub const ILLEGIBLE_BELOW: f32 = 0.8;

/// The part of `line`'s quad that bytes `start..end` of its text take, by character count
/// (OCR gives no character positions), widened by one character and by the line's height each
/// side: in a proportional face, or where perspective makes one end of the line larger, a value
/// sits up to a few narrow characters away from where counting puts it (a digit of "22/01/1978"
/// after "Tarehe ya kuzaliwa: " was left outside), and a region a little too wide costs nothing.
/// Lines whose first letter is Arabic or Hebrew run from right to left: their text starts at the
/// quad's right end.
pub fn sub_quad(line: &TextLine, start: usize, end: usize) -> Quad {
    let n = line.text.chars().count().max(1) as f32;
    let a = line.text[..start].chars().count() as f32;
    let b = line.text[..end].chars().count() as f32;
    let (len, height) = sides(&line.quad);
    let pad = 1.0 / n + height / len.max(1.0);
    let (f0, f1) = ((a / n - pad).clamp(0.0, 1.0), (b / n + pad).clamp(0.0, 1.0));
    let (f0, f1) = if is_rtl(&line.text) { (1.0 - f1, 1.0 - f0) } else { (f0, f1) };
    let [tl, tr, br, bl] = line.quad;
    let lerp = |p: [f32; 2], q: [f32; 2], t: f32| [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t];
    [lerp(tl, tr, f0), lerp(tl, tr, f1), lerp(bl, br, f1), lerp(bl, br, f0)]
}

/// A quad's length along its text (top edge) and its height (left edge).
pub(crate) fn sides(q: &Quad) -> (f32, f32) {
    let (a, b) = ([q[1][0] - q[0][0], q[1][1] - q[0][1]], [q[3][0] - q[0][0], q[3][1] - q[0][1]]);
    (a[0].hypot(a[1]), b[0].hypot(b[1]))
}

/// Whether a line's first letter is of a right-to-left script (Hebrew, Arabic, Syriac, Thaana).
pub(crate) fn is_rtl(text: &str) -> bool {
    text.chars().find(|c| c.is_alphabetic()).is_some_and(|c| ('\u{0590}'..='\u{08FF}').contains(&c))
}

/// The row just below row `i`: starting under its bottom edge within two line heights, and
/// overlapping it horizontally.
fn line_below(quads: &[Quad], i: usize) -> Option<usize> {
    let [x0, y0, x1, y1] = bounds(&quads[i]);
    let h = (y1 - y0).max(1.0);
    (0..quads.len())
        .filter(|&j| j != i)
        .filter_map(|j| {
            let [u0, v0, u1, _] = bounds(&quads[j]);
            let below = v0 >= y0 + 0.5 * h && v0 <= y1 + 2.0 * h;
            let overlap = u0.max(x0) < u1.min(x1);
            (below && overlap).then_some((v0 - y1, j))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, j)| j)
}

/// `value` with all but its first and last two alphanumeric characters replaced by `*` (all but
/// the last for values of 6 characters or fewer).
pub fn mask(value: &str) -> String {
    let n = value.chars().filter(|c| c.is_alphanumeric()).count();
    let (keep_head, keep_tail) = if n > 6 { (2, 2) } else { (0, 1) };
    let mut k = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            k += 1;
            if k <= keep_head || k > n - keep_tail { c } else { '*' }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, y: f32) -> TextLine {
        TextLine {
            quad: [
                [10.0, y],
                [10.0 + 10.0 * text.chars().count() as f32, y],
                [10.0 + 10.0 * text.chars().count() as f32, y + 20.0],
                [10.0, y + 20.0],
            ],
            text: text.into(),
            confidence: 0.95,
            turned: false,
            engine: "test".into(),
            script: "Latin".into(),
            handwriting: None,
        }
    }

    #[test]
    fn leading_words_mark_the_value_on_the_line_or_below() {
        let lex = Lexicon::builtin();
        let lines = vec![
            line("MARKET STALL 12", 0.0),
            line("Nom: Jean Dupont", 30.0),
            line("Teléfono:", 60.0),
            line("+34 612 345 678", 90.0),
            line("Prix 2,50 €", 120.0),
        ];
        let f = find(&lines, &lex, Some("ES"));
        let kinds: Vec<(Kind, Option<usize>)> = f.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(kinds, [(Kind::PersonName, Some(1)), (Kind::Phone, Some(3))], "{f:#?}");
        // "Nom: " is 5 of 16 characters (50 of 160 px): the region starts a character (10 px) and
        // the line's height (20 px) before the value.
        assert!((f[0].quad[0][0] - (10.0 + 50.0 - 10.0 - 20.0)).abs() < 1e-3, "{:?}", f[0].quad);
        assert_eq!(f[0].masked, "Je** ****nt");
        // The phone below its leading word: the pattern and the word agree.
        assert!(f[1].score >= 0.99 && f[1].evidence.contains("teléfono"), "{:?}", f[1]);
        assert_eq!(f[1].quad, lines[3].quad);
    }

    #[test]
    fn right_to_left_values_take_the_left_of_the_line() {
        // "Phone: 051 234 5678" in Arabic: the leading word on the right, the number on the left.
        let l = line("هاتف: 051 234 5678", 0.0);
        let f = find(std::slice::from_ref(&l), &Lexicon::builtin(), Some("SA"));
        assert_eq!(f.len(), 1, "{f:#?}");
        let (x0, x1) = (l.quad[0][0], l.quad[1][0]);
        assert!((f[0].quad[0][0] - x0).abs() < 1e-3, "{:?} starts at the line's left end", f[0].quad);
        // "هاتف: " is the right 6 of 18 characters; the region reaches a character and a line
        // height into it, no further.
        assert!(f[0].quad[1][0] < x0 + 0.84 * (x1 - x0), "{:?} leaves the leading word", f[0].quad);
    }

    /// The note of issue 19, as OCR read it on a food photo whose manifest row had no country:
    /// the e-mail was found, the name and the Brazilian mobile number were released untouched.
    #[test]
    fn issue_19_a_bare_name_and_phone_on_a_note_are_found_without_a_country() {
        let mut lines =
            vec![line("Bna Beatriz Souza", 0.0), line("(21) 98877-6655", 30.0), line("ana.souza@gmail.com", 60.0)];
        let found = |lines: &[TextLine]| {
            find(lines, &Lexicon::builtin(), None).iter().map(|f| (f.kind, f.line)).collect::<Vec<_>>()
        };
        let all = [(Kind::PersonName, Some(0)), (Kind::Phone, Some(1)), (Kind::Email, Some(2))];
        assert_eq!(found(&lines), all);
        // A name the gazetteer does not know, on the same note as the phone number.
        lines[0].text = "Xaviera Qorvannes".into();
        assert_eq!(found(&lines), all);
        // The same words on a price tag with no contact on it are not a name; handwritten, they are.
        let alone = vec![line("Xaviera Qorvannes", 0.0), line("Arroz 5 kg R$ 24,90", 30.0)];
        assert!(found(&alone).is_empty());
        let mut hand = alone.clone();
        hand[0].handwriting = Some(0.9);
        assert_eq!(found(&hand), [(Kind::PersonName, Some(0))]);
    }

    /// Handwritten notes of the evaluation set as OCR read them: a leading word garbled beyond
    /// recognition, a comma between a name's parts, a phone number with digits read as letters.
    #[test]
    fn handwritten_notes_as_ocr_misreads_them() {
        let hand = |text: &str, y: f32| TextLine { handwriting: Some(0.99), ..line(text, y) };
        let lines = vec![
            line("Cantidad 3 × 12.50", 0.0),
            hand("Nomke: Santiago SeRna,", 30.0),
            hand("Juliana, Montenegeo", 60.0),
            hand("0557 bb1 50b0", 90.0),
        ];
        let f = find(&lines, &Lexicon::builtin(), None);
        let got: Vec<(Kind, Option<usize>)> = f.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(got, [(Kind::PersonName, Some(1)), (Kind::PersonName, Some(2)), (Kind::Phone, Some(3))], "{f:#?}");
        // The name after the garbled word: the region leaves "Nomke:" out.
        assert_eq!(f[0].masked, "Sa****** ***na");
        // The same words typed on a price tag are no name and no phone number.
        let typed: Vec<TextLine> = lines.iter().map(|l| TextLine { handwriting: Some(0.01), ..l.clone() }).collect();
        assert!(find(&typed[3..], &Lexicon::builtin(), None).is_empty());
    }

    /// A handwritten line OCR made nonsense of, on a note with a phone number, is hidden; read
    /// well, priced, or on a note without personal data, it is not.
    #[test]
    fn illegible_handwriting_among_personal_data_is_hidden() {
        let hand =
            |text: &str, y: f32, confidence: f32| TextLine { handwriting: Some(0.99), confidence, ..line(text, y) };
        let lines = vec![
            hand("Brown bread KSh 60", 0.0, 0.62),
            hand("Atnesee0", 30.0, 0.58),
            hand("Phone: 0719 382577", 60.0, 0.9),
            hand("Buy 2 get 1", 90.0, 0.86),
        ];
        let f = find(&lines, &Lexicon::builtin(), Some("KE"));
        let got: Vec<(Kind, Option<usize>)> = f.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(got, [(Kind::IllegibleText, Some(1)), (Kind::Phone, Some(2))], "{f:#?}");
        assert_eq!(f[0].quad, lines[1].quad);
        // Without the phone number, nothing on the note is personal.
        let alone = [lines[0].clone(), lines[1].clone(), lines[3].clone()];
        assert!(find(&alone, &Lexicon::builtin(), Some("KE")).is_empty());
        // Typed, the same reading is a product's text read badly.
        let typed: Vec<TextLine> = lines.iter().map(|l| TextLine { handwriting: Some(0.01), ..l.clone() }).collect();
        assert!(!find(&typed, &Lexicon::builtin(), Some("KE")).iter().any(|f| f.kind == Kind::IllegibleText));
    }

    #[test]
    fn a_leading_word_names_digits_a_phone_pattern_also_accepts() {
        let lines = vec![line("Tanggal lahir: 26/08/1952", 0.0), line("आधार: 3345 288 2432", 30.0)];
        let f = find(&lines, &Lexicon::builtin(), Some("ID"));
        let kinds: Vec<(Kind, Option<usize>)> = f.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(kinds, [(Kind::DateOfBirth, Some(0)), (Kind::IdNumber, Some(1))], "{f:#?}");
    }

    /// A member number under barcode bars the reader could not decode: its region takes in the
    /// bars. Under a line of text, or under nothing, it stays the caption's.
    #[test]
    fn a_member_number_under_undecoded_bars_hides_them_too() {
        let mut img = image::GrayImage::from_pixel(400, 200, image::Luma([255]));
        // Bars 1–3 px wide, rows 40..100; the caption is read at rows 102..120.
        for y in 40..100 {
            let mut x = 80;
            let mut black = true;
            while x < 320 {
                let width = 1 + (x % 3);
                for dx in 0..width {
                    img.put_pixel(x + dx, y, image::Luma([if black { 20 } else { 250 }]));
                }
                x += width;
                black = !black;
            }
        }
        let caption = |y: f32| -> Quad { [[150.0, y], [250.0, y], [250.0, y + 18.0], [150.0, y + 18.0]] };
        let member = |y: f32| PiiFinding {
            kind: Kind::IdNumber,
            quad: caption(y),
            evidence: patterns::MEMBER_EVIDENCE.into(),
            score: 0.9,
            masked: "73****41".into(),
            line: Some(0),
        };
        let mut found = vec![member(102.0)];
        add_codes(&mut found, &img, 1.0);
        let [l, t, r, b] = crowdsift_ocr::db::bounds(&found[0].quad);
        assert!(l <= 80.0 && r >= 319.0 && (38.0..=42.0).contains(&t) && b == 120.0, "{:?}", found[0]);
        // Below the bars by more than a caption's height, or with nothing above: as it was.
        let mut far = vec![member(150.0)];
        add_codes(&mut far, &img, 1.0);
        assert_eq!(far[0].quad, caption(150.0));
    }

    #[test]
    fn masks_keep_only_a_few_characters() {
        assert_eq!(mask("+49 170 1234567"), "+49 *** *****67");
        assert_eq!(mask("Ana"), "**a");
    }
}
