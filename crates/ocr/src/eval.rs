//! Scoring OCR output against known text and boxes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::{Quad, TextLine};

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

/// Area of a simple polygon (shoelace formula).
fn area(p: &[[f32; 2]]) -> f32 {
    let n = p.len();
    (0..n).map(|i| p[i][0] * p[(i + 1) % n][1] - p[(i + 1) % n][0] * p[i][1]).sum::<f32>().abs() / 2.0
}

/// The part of convex polygon `subject` inside convex polygon `clip` (Sutherland–Hodgman; both
/// convex, any winding). Hand-written: these are two 4-gons, the geometry crates bring far more.
fn clip_convex(subject: &[[f32; 2]], clip: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let orient: f32 = {
        let n = clip.len();
        (0..n).map(|i| clip[i][0] * clip[(i + 1) % n][1] - clip[(i + 1) % n][0] * clip[i][1]).sum()
    };
    let side = |a: [f32; 2], b: [f32; 2], p: [f32; 2]| {
        ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) * orient.signum()
    };
    let mut out = subject.to_vec();
    for i in 0..clip.len() {
        let (a, b) = (clip[i], clip[(i + 1) % clip.len()]);
        let input = std::mem::take(&mut out);
        for j in 0..input.len() {
            let (p, q) = (input[j], input[(j + 1) % input.len()]);
            let (sp, sq) = (side(a, b, p), side(a, b, q));
            if sp >= 0.0 {
                out.push(p);
            }
            if (sp >= 0.0) != (sq >= 0.0) {
                let t = sp / (sp - sq);
                out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
            }
        }
        if out.is_empty() {
            break;
        }
    }
    out
}

/// Intersection over union of two convex quads.
pub fn quad_iou(a: &Quad, b: &Quad) -> f32 {
    let inter = area(&clip_convex(a, b));
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Text without whitespace: the character error rate counts letters, digits and signs, not how
/// an engine spaces them (Thai has no spaces between words; engines differ on `R$ 7` vs `R$7`).
pub fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// How one photo's found lines compare with its true lines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineScore {
    pub truth: usize,
    pub found: usize,
    /// True lines matched by a found box (IoU ≥ the threshold, one-to-one, best pairs first).
    pub matched: usize,
    /// Edits between each true line and its match (the whole line when unmatched), spaces ignored.
    pub edits: usize,
    /// Characters of the true lines, spaces ignored.
    pub chars: usize,
}

impl LineScore {
    pub fn add(&mut self, o: &LineScore) {
        self.truth += o.truth;
        self.found += o.found;
        self.matched += o.matched;
        self.edits += o.edits;
        self.chars += o.chars;
    }
    pub fn cer(&self) -> f64 {
        self.edits as f64 / self.chars.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        self.matched as f64 / self.found.max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.matched as f64 / self.truth.max(1) as f64
    }
    /// Detection F1 (harmonic mean of precision and recall).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

/// Matches found lines to true lines by box overlap (IoU ≥ `min_iou`, greedily by IoU) and
/// counts detection hits and character errors.
pub fn score_lines(truth: &[(Quad, String)], found: &[(Quad, String)], min_iou: f32) -> LineScore {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, (tq, _)) in truth.iter().enumerate() {
        for (j, (fq, _)) in found.iter().enumerate() {
            let iou = quad_iou(tq, fq);
            if iou >= min_iou {
                pairs.push((iou, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut t_used, mut f_used) = (vec![None; truth.len()], vec![false; found.len()]);
    for (_, i, j) in pairs {
        if t_used[i].is_none() && !f_used[j] {
            t_used[i] = Some(j);
            f_used[j] = true;
        }
    }
    let mut s = LineScore { truth: truth.len(), found: found.len(), ..Default::default() };
    for (i, (_, text)) in truth.iter().enumerate() {
        let t = without_spaces(text);
        s.chars += t.chars().count();
        s.edits += match t_used[i] {
            Some(j) => {
                s.matched += 1;
                strsim::levenshtein(&without_spaces(&found[j].1), &t)
            }
            None => t.chars().count(),
        };
    }
    s
}

/// Generates an evaluation set into `dir` with the workspace's `scripts/{script}`
/// (`make_ocr_eval.py`, `make_pii_eval.py`) and its arguments after `--out dir`; the error is
/// the script's stderr. For tests and benchmarks run from the workspace.
pub fn generate_set(script: &str, dir: &Path, args: &[&str]) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(script);
    let out = std::process::Command::new("python3")
        .arg(&path)
        .arg("--out")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("python3 {}: {e}", path.display()))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// A photo of a generated evaluation set (`scripts/make_ocr_eval.py`).
#[derive(Debug, Clone, Deserialize)]
pub struct EvalPhoto {
    pub file: String,
    pub lang: String,
    pub script: String,
    #[serde(default, alias = "kind")]
    pub style: String,
    #[serde(default)]
    pub condition: String,
    pub lines: Vec<EvalLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EvalLine {
    pub text: String,
    pub quad: Quad,
}

/// Reads `dir/truth.json` of an evaluation set.
pub fn load_set(dir: &Path) -> Result<Vec<EvalPhoto>, String> {
    let path = dir.join("truth.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Scores of a whole set, in total and per language, script, style and condition
/// (keys `lang:eng`, `script:Bengali`, `style:handwriting`, `condition:blur`).
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    pub total: LineScore,
    pub groups: BTreeMap<String, LineScore>,
}

impl Breakdown {
    /// Adds one photo's result (detection IoU ≥ 0.5).
    pub fn add(&mut self, photo: &EvalPhoto, found: &[TextLine]) -> LineScore {
        let truth: Vec<(Quad, String)> = photo.lines.iter().map(|l| (l.quad, l.text.clone())).collect();
        let found: Vec<(Quad, String)> = found.iter().map(|l| (l.quad, l.text.clone())).collect();
        let s = score_lines(&truth, &found, 0.5);
        self.total.add(&s);
        for key in [
            format!("lang:{}", photo.lang),
            format!("script:{}", photo.script),
            format!("style:{}", photo.style),
            format!("condition:{}", photo.condition),
        ] {
            self.groups.entry(key).or_default().add(&s);
        }
        s
    }

    pub fn get(&self, key: &str) -> LineScore {
        self.groups.get(key).copied().unwrap_or_default()
    }

    /// A Markdown table: group, lines, CER, detection precision / recall / F1.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| group | lines | CER | det P | det R | det F1 |\n|---|---:|---:|---:|---:|---:|\n");
        let row = |k: &str, s: &LineScore| {
            format!(
                "| {k} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
                s.truth,
                s.cer(),
                s.precision(),
                s.recall(),
                s.f1()
            )
        };
        out += &row("all", &self.total);
        for (k, s) in &self.groups {
            out += &row(k, s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_iou_of_shifted_and_rotated_boxes() {
        let a: Quad = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let b: Quad = [[5.0, 0.0], [15.0, 0.0], [15.0, 10.0], [5.0, 10.0]];
        assert!((quad_iou(&a, &b) - 50.0 / 150.0).abs() < 1e-5);
        assert!((quad_iou(&a, &a) - 1.0).abs() < 1e-5);
        // The same square listed counter-clockwise, and a diamond inside it (area 50).
        let ccw: Quad = [[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]];
        assert!((quad_iou(&a, &ccw) - 1.0).abs() < 1e-5);
        let diamond: Quad = [[5.0, 0.0], [10.0, 5.0], [5.0, 10.0], [0.0, 5.0]];
        assert!((quad_iou(&a, &diamond) - 0.5).abs() < 1e-5);
        let far: Quad = [[20.0, 20.0], [30.0, 20.0], [30.0, 30.0], [20.0, 30.0]];
        assert_eq!(quad_iou(&a, &far), 0.0);
    }

    #[test]
    fn lines_match_one_to_one_and_misses_cost_every_character() {
        let q = |x: f32| [[x, 0.0], [x + 10.0, 0.0], [x + 10.0, 5.0], [x, 5.0]];
        let truth = vec![(q(0.0), "Prix 2,50 €".to_owned()), (q(100.0), "Tel".to_owned())];
        let found = vec![(q(1.0), "Prix 2.50€".to_owned()), (q(2.0), "ghost".to_owned())];
        let s = score_lines(&truth, &found, 0.5);
        assert_eq!((s.truth, s.found, s.matched), (2, 2, 1));
        assert_eq!((s.edits, s.chars), (1 + 3, 9 + 3));
        assert!((s.f1() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn cer_counts_unicode_characters() {
        assert_eq!(cer("Bananes fraiches", "Bananes fraîches"), 1.0 / 16.0);
        assert_eq!(cer("", "abc"), 1.0);
        let m = match_lines(&["TOTAL 3.60".into(), "Tel +49".into()], &["Tel +49".into(), "x".into()]);
        assert_eq!(m[0], (Some(1), 0.0));
        assert_eq!(m[1], (Some(1), 7.0)); // CER may exceed 1: seven edits for one character
    }
}
