//! Evaluation of a classifier: accuracy, per-class precision / recall / F1, confusion matrix
//! (CSV and SVG) and expected calibration error.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub class: String,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub photos: usize,
    pub accuracy: f64,
    pub top5: f64,
    pub macro_f1: f64,
    /// Expected calibration error over 10 equal-width confidence bins.
    pub ece: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    pub classes: Vec<String>,
}

/// Evaluates probabilities `probs` (row-major `n × classes`) against labels `y`.
pub fn evaluate(probs: &[f32], y: &[u32], classes: &[String]) -> Evaluation {
    let c = classes.len();
    let n = y.len();
    let mut confusion = vec![vec![0usize; c]; c];
    let (mut top1, mut top5) = (0usize, 0usize);
    let mut bins = [(0f64, 0f64, 0usize); 10]; // (sum confidence, sum correct, count)
    for (i, &t) in y.iter().enumerate() {
        let p = &probs[i * c..(i + 1) * c];
        let (pred, conf) = p.iter().enumerate().fold((0, f32::MIN), |a, (k, &v)| if v > a.1 { (k, v) } else { a });
        confusion[t as usize][pred] += 1;
        let correct = pred == t as usize;
        top1 += usize::from(correct);
        top5 += usize::from(p.iter().filter(|&&v| v > p[t as usize]).count() < 5);
        let b = ((f64::from(conf) * 10.0) as usize).min(9);
        bins[b].0 += f64::from(conf);
        bins[b].1 += f64::from(u8::from(correct));
        bins[b].2 += 1;
    }
    let ece = bins.iter().filter(|b| b.2 > 0).map(|b| (b.0 - b.1).abs() / n.max(1) as f64).sum();
    let per_class: Vec<ClassMetrics> = (0..c)
        .map(|k| {
            let tp = confusion[k][k] as f64;
            let predicted: usize = confusion.iter().map(|row| row[k]).sum();
            let support: usize = confusion[k].iter().sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassMetrics { class: classes[k].clone(), support, precision, recall, f1 }
        })
        .collect();
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|m| m.support > 0).collect();
    let macro_f1 = present.iter().map(|m| m.f1).sum::<f64>() / present.len().max(1) as f64;
    Evaluation {
        photos: n,
        accuracy: top1 as f64 / n.max(1) as f64,
        top5: top5 as f64 / n.max(1) as f64,
        macro_f1,
        ece,
        per_class,
        confusion,
        classes: classes.to_vec(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Evaluation {
    /// The confusion matrix as CSV: a header of predicted classes, one row per true class.
    pub fn confusion_csv(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut out = String::from("true\\predicted");
        for c in &self.classes {
            out.push(',');
            out.push_str(&q(c));
        }
        out.push('\n');
        for (c, row) in self.classes.iter().zip(&self.confusion) {
            out.push_str(&q(c));
            for v in row {
                let _ = write!(out, ",{v}");
            }
            out.push('\n');
        }
        out
    }

    /// The confusion matrix as a self-contained SVG: rows true classes, columns predictions, cells
    /// shaded by the share of the true class.
    pub fn confusion_svg(&self) -> String {
        let c = self.classes.len();
        let (cell, left, top) = (34usize, 220usize, 200usize);
        let (w, h) = (left + c * cell + 20, top + c * cell + 40);
        let mut s = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
        );
        let _ = write!(
            s,
            r#"<text x="{left}" y="16" font-size="13">predicted →   (rows: true class; accuracy {:.1}%)</text>"#,
            100.0 * self.accuracy
        );
        for (k, name) in self.classes.iter().enumerate() {
            let y = top + k * cell + cell / 2 + 4;
            let _ = write!(s, r#"<text x="{}" y="{y}" text-anchor="end">{}</text>"#, left - 6, esc(name));
            let x = left + k * cell + cell / 2;
            let _ = write!(s, r#"<text transform="translate({x},{}) rotate(-60)">{}</text>"#, top - 6, esc(name));
        }
        for (i, row) in self.confusion.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (j, &v) in row.iter().enumerate() {
                let share = v as f64 / total;
                let shade = 255 - (share * 200.0) as u8;
                let (x, y) = (left + j * cell, top + i * cell);
                let fill =
                    if i == j { format!("rgb({shade},{},{shade})", 255) } else { format!("rgb(255,{shade},{shade})") };
                let _ = write!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#ccc"/>"##
                );
                if v > 0 {
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}" text-anchor="middle">{v}</text>"#,
                        x + cell / 2,
                        y + cell / 2 + 4
                    );
                }
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_a_known_case() {
        let classes = vec!["a".to_owned(), "b".to_owned()];
        // Three photos: a→a (0.9), a→b (0.6), b→b (0.8).
        let probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8];
        let e = evaluate(&probs, &[0, 0, 1], &classes);
        assert_eq!(e.confusion, vec![vec![1, 1], vec![0, 1]]);
        assert!((e.accuracy - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.per_class[0].precision, 1.0);
        assert_eq!(e.per_class[0].recall, 0.5);
        assert!((e.per_class[1].precision - 0.5).abs() < 1e-12);
        // Bins: 0.9 correct, 0.6 wrong, 0.8 correct → |0.9-1| + |0.6-0| + |0.8-1| over 3.
        assert!((e.ece - (0.1 + 0.6 + 0.2) / 3.0).abs() < 1e-6, "{}", e.ece);
        assert!(e.confusion_csv().starts_with("true\\predicted,\"a\",\"b\"\n\"a\",1,1\n"));
        let svg = e.confusion_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>") && svg.contains(">a</text>"));
    }
}
