//! Lines of text as a person reads them. OCR boxes a line in pieces where its words stand far
//! apart ("Servi par:" | "Juliette Leclercq", "+33" | "616" | "62 77 30"); a leading word and its
//! value, or the groups of a number, must be read together.

use crowdsift_ocr::{Quad, TextLine};

use crate::sub_quad;

/// OCR lines joined left to right: the text with a space between pieces, and where each piece
/// starts in it.
#[derive(Debug, Clone)]
pub struct Row {
    pub text: String,
    /// (byte offset of the piece in `text`, index of its OCR line).
    pub parts: Vec<(usize, usize)>,
}

impl Row {
    /// The OCR line the row starts with.
    pub fn first(&self) -> usize {
        self.parts[0].1
    }

    /// The whole row: from its first piece's left edge to its last piece's right edge.
    pub fn quad(&self, lines: &[TextLine]) -> Quad {
        let (a, b) = (&lines[self.first()].quad, &lines[self.parts[self.parts.len() - 1].1].quad);
        [a[0], b[1], b[2], a[3]]
    }

    /// How likely the row is handwritten: its pieces' probabilities, weighted by their length
    /// (`None` when no style classifier looked at them).
    pub fn handwriting(&self, lines: &[TextLine]) -> Option<f32> {
        let (mut sum, mut weight) = (0.0, 0.0);
        for &(_, li) in &self.parts {
            let p = lines[li].handwriting?;
            let w = lines[li].text.chars().count().max(1) as f32;
            sum += p * w;
            weight += w;
        }
        (weight > 0.0).then(|| sum / weight)
    }

    /// The lowest confidence with which its pieces were read.
    pub fn confidence(&self, lines: &[TextLine]) -> f32 {
        self.parts.iter().map(|&(_, li)| lines[li].confidence).fold(1f32, f32::min)
    }

    /// The region bytes `start..end` of the text take: the matching part of each piece they
    /// overlap (by character count within a piece), spanned from the first to the last.
    pub fn region(&self, lines: &[TextLine], start: usize, end: usize) -> Quad {
        let mut quads = Vec::new();
        for (k, &(ps, li)) in self.parts.iter().enumerate() {
            let pe = ps + lines[li].text.len();
            let (s, e) = (start.max(ps), end.min(pe));
            if s < e || (k == 0 && self.parts.len() == 1) {
                quads.push(sub_quad(&lines[li], s.min(pe) - ps, e.max(s).min(pe) - ps));
            }
        }
        match (quads.first(), quads.last()) {
            (Some(a), Some(b)) => [a[0], b[1], b[2], a[3]],
            _ => self.quad(lines),
        }
    }
}

/// The line's height and unit direction along its text.
fn frame(q: &Quad) -> (f32, [f32; 2]) {
    let d = [q[1][0] - q[0][0], q[1][1] - q[0][1]];
    let l = d[0].hypot(d[1]).max(1e-3);
    let h = 0.5 * ((q[3][0] - q[0][0]).hypot(q[3][1] - q[0][1]) + (q[2][0] - q[1][0]).hypot(q[2][1] - q[1][1]));
    (h.max(1.0), [d[0] / l, d[1] / l])
}

/// Whether `b` continues the line `a` ends with: same height within 1.5×, same direction within
/// about 8°, starting at most 1.5 heights after `a`'s end and off its axis by less than a third
/// of a height.
fn continues(a: &Quad, b: &Quad) -> bool {
    let ((ha, ua), (hb, ub)) = (frame(a), frame(b));
    if ha.max(hb) > 1.5 * ha.min(hb) || ua[0] * ub[0] + ua[1] * ub[1] < 0.99 {
        return false;
    }
    let mid = |p: [f32; 2], q: [f32; 2]| [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0];
    let (end, start) = (mid(a[1], a[2]), mid(b[0], b[3]));
    let v = [start[0] - end[0], start[1] - end[1]];
    let along = v[0] * ua[0] + v[1] * ua[1];
    let across = -v[0] * ua[1] + v[1] * ua[0];
    (-0.5 * ha..=1.5 * ha).contains(&along) && across.abs() < 0.35 * ha
}

fn rtl(text: &str) -> bool {
    crate::is_rtl(text)
}

/// Which note (sticker, tag, sheet) each row is written on, as an index per row: rows written
/// one under another — each starting at most 1.6 line heights below the one above, overlapping it
/// horizontally, of similar height — are on one note.
pub fn notes(rows: &[Row], lines: &[TextLine]) -> Vec<usize> {
    let boxes: Vec<[f32; 4]> = rows.iter().map(|r| crowdsift_ocr::db::bounds(&r.quad(lines))).collect();
    let mut note: Vec<usize> = (0..rows.len()).collect();
    fn root(note: &mut [usize], mut i: usize) -> usize {
        while note[i] != i {
            note[i] = note[note[i]];
            i = note[i];
        }
        i
    }
    for i in 0..boxes.len() {
        for j in 0..boxes.len() {
            let (a, b) = (boxes[i], boxes[j]);
            let (ha, hb) = ((a[3] - a[1]).max(1.0), (b[3] - b[1]).max(1.0));
            let gap = b[1] - a[3];
            let similar = ha.max(hb) <= 2.0 * ha.min(hb);
            let overlap = a[0].max(b[0]) < a[2].min(b[2]);
            if i != j && similar && overlap && gap >= -0.5 * ha && gap <= 1.6 * ha.max(hb) {
                let (ri, rj) = (root(&mut note, i), root(&mut note, j));
                note[ri] = rj;
            }
        }
    }
    (0..rows.len()).map(|i| root(&mut note, i)).collect()
}

/// The rows of a photo's lines. Right-to-left lines are left as they are.
pub fn rows(lines: &[TextLine]) -> Vec<Row> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| lines[a].quad[0][0].total_cmp(&lines[b].quad[0][0]));
    let mut used = vec![false; lines.len()];
    let mut out = Vec::new();
    for &i in &order {
        if used[i] {
            continue;
        }
        used[i] = true;
        let mut row = Row { text: lines[i].text.clone(), parts: vec![(0, i)] };
        let mut last = i;
        while !rtl(&lines[last].text) {
            let next = order
                .iter()
                .copied()
                .find(|&j| !used[j] && !rtl(&lines[j].text) && continues(&lines[last].quad, &lines[j].quad));
            let Some(j) = next else { break };
            used[j] = true;
            row.text.push(' ');
            row.parts.push((row.text.len(), j));
            row.text.push_str(&lines[j].text);
            last = j;
        }
        out.push(row);
    }
    out.sort_by_key(Row::first);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(text: &str, x: f32, y: f32) -> TextLine {
        let w = 10.0 * text.chars().count() as f32;
        TextLine {
            quad: [[x, y], [x + w, y], [x + w, y + 20.0], [x, y + 20.0]],
            text: text.into(),
            confidence: 0.9,
            turned: false,
            engine: "test".into(),
            script: "Latin".into(),
            handwriting: None,
        }
    }

    #[test]
    fn pieces_of_a_line_are_joined_and_regions_follow_the_pieces() {
        let lines = vec![
            piece("62", 200.0, 0.0),
            piece("+33", 100.0, 1.0),
            piece("616", 145.0, 0.0),
            piece("TOTAL 3.60", 100.0, 40.0), // the next line
            piece("far away", 400.0, 0.0),    // more than 1.5 heights after "62"
        ];
        let rows = rows(&lines);
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["+33 616 62", "TOTAL 3.60", "far away"]);
        let r = &rows[0];
        assert_eq!(r.first(), 1);
        // "616 62" spans from inside the second piece to the end of the third.
        let q = r.region(&lines, 4, r.text.len());
        assert!(q[0][0] >= 145.0 - 10.0 && q[0][0] < 150.0 && (q[1][0] - 220.0).abs() < 1e-3, "{q:?}");
        assert_eq!(r.quad(&lines)[1], lines[0].quad[1]);
        // The pieces and "TOTAL 3.60" below them are one note; "far away" is a note of its own.
        let n = notes(&rows, &lines);
        assert_eq!(n[0], n[1]);
        assert_ne!(n[0], n[2]);
    }
}
