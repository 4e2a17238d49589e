//! Scoring personal-data findings against planted values (the generated set of
//! scripts/make_pii_eval.py): per kind, a finding is right when it has the value's kind and its
//! region overlaps the value's box with IoU ≥ 0.3 (the criterion of the Presidio comparison).

use std::collections::BTreeMap;
use std::path::Path;

use crowdsift_ocr::Quad;
use crowdsift_ocr::eval::quad_iou;
use serde::Deserialize;

use crate::{Kind, PiiFinding};

/// Minimum IoU between a finding's region and a planted value's box.
pub const MIN_IOU: f32 = 0.3;

/// A planted value.
#[derive(Debug, Clone, Deserialize)]
pub struct Planted {
    pub kind: Kind,
    pub text: String,
    /// The leading word written before it, if any.
    pub leading: Option<String>,
    pub quad: Quad,
}

/// One photo of the set.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalPhoto {
    pub file: String,
    pub lang: String,
    /// Tesseract language of the photo's script (the manifest's `lang`).
    pub hint: String,
    pub country: String,
    pub style: String,
    pub condition: String,
    pub pii: Vec<Planted>,
}

pub fn load_set(dir: &Path) -> Result<Vec<EvalPhoto>, String> {
    let path = dir.join("truth.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Counts for one group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// Matches `found` against `planted` one to one, greedily by IoU. A finding is a true positive
/// when it has the value's kind (`any_kind`: any kind — what matters for hiding it), a false
/// positive when it overlaps no planted value of its kind; a second finding on a value already
/// matched counts as neither (hiding a region twice is harmless).
pub fn score(planted: &[Planted], found: &[PiiFinding], any_kind: bool) -> BTreeMap<Kind, Counts> {
    let same = |p: &Planted, f: &PiiFinding| any_kind || p.kind == f.kind;
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, p) in planted.iter().enumerate() {
        for (j, f) in found.iter().enumerate() {
            let iou = quad_iou(&p.quad, &f.quad);
            if same(p, f) && iou >= MIN_IOU {
                pairs.push((iou, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_p, mut used_f) = (vec![false; planted.len()], vec![false; found.len()]);
    for &(_, i, j) in &pairs {
        if !used_p[i] && !used_f[j] {
            used_p[i] = true;
            used_f[j] = true;
        }
    }
    let mut out: BTreeMap<Kind, Counts> = BTreeMap::new();
    for (i, p) in planted.iter().enumerate() {
        let c = out.entry(p.kind).or_default();
        if used_p[i] { c.tp += 1 } else { c.fn_ += 1 }
    }
    for (j, f) in found.iter().enumerate() {
        let duplicate = pairs.iter().any(|&(_, _, k)| k == j);
        if !used_f[j] && !duplicate {
            out.entry(f.kind).or_default().fp += 1;
        }
    }
    out
}

/// Per-kind and per-group counts over a set.
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    pub kinds: BTreeMap<Kind, Counts>,
    /// Any kind: values whose region was found at all, findings on no value.
    pub any: Counts,
    /// By language, style, condition and `with leading word` / `without` (any kind).
    pub groups: BTreeMap<String, Counts>,
}

impl Breakdown {
    pub fn add(&mut self, photo: &EvalPhoto, found: &[PiiFinding]) {
        for (k, c) in score(&photo.pii, found, false) {
            self.kinds.entry(k).or_default().add(c);
        }
        let any = score(&photo.pii, found, true).into_values().fold(Counts::default(), |mut a, c| {
            a.add(c);
            a
        });
        self.any.add(any);
        for g in [&photo.lang, &photo.style, &photo.condition] {
            self.groups.entry(g.clone()).or_default().add(any);
        }
        for (lead, name) in [(true, "with leading word"), (false, "without leading word")] {
            let subset: Vec<Planted> = photo.pii.iter().filter(|p| p.leading.is_some() == lead).cloned().collect();
            let c = score(&subset, found, true).into_values().fold(Counts::default(), |mut a, c| {
                a.tp += c.tp;
                a.fn_ += c.fn_;
                a
            });
            self.groups.entry(name.into()).or_default().add(c);
        }
    }

    pub fn kind(&self, k: Kind) -> Counts {
        self.kinds.get(&k).copied().unwrap_or_default()
    }

    /// A markdown table: precision and recall per kind, then per group.
    pub fn table(&self) -> String {
        let mut s = String::from("| | values | found | false | precision | recall |\n|---|---|---|---|---|---|\n");
        let mut row = |name: &str, c: &Counts| {
            s.push_str(&format!(
                "| {name} | {} | {} | {} | {:.3} | {:.3} |\n",
                c.tp + c.fn_,
                c.tp,
                c.fp,
                c.precision(),
                c.recall()
            ));
        };
        for (k, c) in &self.kinds {
            row(k.as_str(), c);
        }
        row("**any kind**", &self.any);
        for (g, c) in &self.groups {
            row(g, c);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(x0: f32, x1: f32) -> Quad {
        [[x0, 0.0], [x1, 0.0], [x1, 10.0], [x0, 10.0]]
    }

    fn finding(kind: Kind, quad: Quad) -> PiiFinding {
        PiiFinding { kind, quad, evidence: String::new(), score: 0.9, masked: String::new(), line: None }
    }

    #[test]
    fn one_to_one_matching_by_kind_and_overlap() {
        let planted = vec![
            Planted { kind: Kind::Phone, text: "1".into(), leading: None, quad: q(0.0, 100.0) },
            Planted { kind: Kind::Email, text: "2".into(), leading: None, quad: q(200.0, 300.0) },
        ];
        let found = vec![
            finding(Kind::Phone, q(10.0, 100.0)),       // right
            finding(Kind::Phone, q(0.0, 90.0)),         // the same value again: neither
            finding(Kind::PersonName, q(200.0, 300.0)), // wrong kind
            finding(Kind::Phone, q(500.0, 600.0)),      // on nothing
        ];
        let s = score(&planted, &found, false);
        assert_eq!(s[&Kind::Phone], Counts { tp: 1, fp: 1, fn_: 0 });
        assert_eq!(s[&Kind::Email], Counts { tp: 0, fp: 0, fn_: 1 });
        assert_eq!(s[&Kind::PersonName], Counts { tp: 0, fp: 1, fn_: 0 });
        let any: Counts = score(&planted, &found, true).into_values().fold(Counts::default(), |mut a, c| {
            a.add(c);
            a
        });
        assert_eq!(any, Counts { tp: 2, fp: 1, fn_: 0 });
    }
}
