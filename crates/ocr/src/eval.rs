//! Scoring OCR output against known text.

/// Character error rate: edit distance (insertions, deletions, substitutions of Unicode
/// characters) divided by the length of `truth`.
pub fn cer(found: &str, truth: &str) -> f64 {
    strsim::levenshtein(found, truth) as f64 / truth.chars().count().max(1) as f64
}

/// For each `truth` line, the index of the found line closest to it and their CER (1.0 and `None`
/// when nothing was found).
pub fn match_lines(found: &[String], truth: &[String]) -> Vec<(Option<usize>, f64)> {
    truth
        .iter()
        .map(|t| {
            found
                .iter()
                .enumerate()
                .map(|(i, f)| (Some(i), cer(f, t)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((None, 1.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cer_counts_unicode_characters() {
        assert_eq!(cer("Bananes fraiches", "Bananes fraîches"), 1.0 / 16.0);
        assert_eq!(cer("", "abc"), 1.0);
        let m = match_lines(&["TOTAL 3.60".into(), "Tel +49".into()], &["Tel +49".into(), "x".into()]);
        assert_eq!(m[0], (Some(1), 0.0));
        assert_eq!(m[1], (Some(1), 7.0)); // CER may exceed 1: seven edits for one character
    }
}
