//! The personal-data rules on arbitrary text: each line of the input is a line OCR read (in a row
//! of boxes as on a note), the first byte picks the photo's country (or none) and how confident
//! and how handwritten the lines look. `find` and the release rule (`safety::assess`) must never
//! panic, whatever the text (any script, any length, any mix of digits and separators), and every
//! finding must point at a line that exists.

use crowdsift_ocr::TextLine;
use crowdsift_pii::safety::{SafetyParams, assess};
use crowdsift_pii::{Lexicon, find};

const COUNTRIES: [&str; 16] =
    ["KE", "BR", "IN", "BD", "ID", "VN", "FR", "ES", "MX", "SA", "TZ", "NG", "PH", "EG", "US", ""];

fn main() {
    let lexicon = Lexicon::builtin();
    let params = SafetyParams::default();
    afl::fuzz!(|data: &[u8]| {
        let Some((&pick, text)) = data.split_first() else { return };
        let Ok(text) = std::str::from_utf8(text) else { return };
        let country = COUNTRIES[usize::from(pick) % COUNTRIES.len()];
        let confidence = if pick & 0x10 == 0 { 0.95 } else { 0.6 };
        let handwriting = (pick & 0x20 != 0).then_some(0.9);
        let lines: Vec<TextLine> = text
            .lines()
            .take(64)
            .enumerate()
            .map(|(i, t)| {
                let (x, y) = (20.0 + 5.0 * (i % 3) as f32, 30.0 * i as f32);
                let w = 12.0 * t.chars().count().max(1) as f32;
                TextLine {
                    quad: [[x, y], [x + w, y], [x + w, y + 24.0], [x, y + 24.0]],
                    text: t.to_owned(),
                    confidence,
                    turned: false,
                    engine: "fuzz".into(),
                    script: crowdsift_ocr::script::of_text(t).to_owned(),
                    handwriting,
                }
            })
            .collect();
        let found = find(&lines, &lexicon, (!country.is_empty()).then_some(country));
        for f in &found {
            assert!(f.line.is_none_or(|i| i < lines.len()), "a finding points past the lines: {f:?}");
        }
        let _ = assess(&lines, &[], &found, &[], &params);
    });
}
