//! Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
//! Dataset Labels", JAIR 2021), written from the paper:
//!
//! 1. per-class thresholds `t_j` = mean probability of class `j` over the photos labelled `j`;
//! 2. the confident joint `C[i][j]`: photos labelled `i` whose probability of `j` reaches `t_j`
//!    (the likeliest such `j` when several do);
//! 3. calibrated so each row sums to the number of photos labelled `i`;
//! 4. prune by noise rate: of the photos labelled `i`, the `round(C[i][j])` with the largest margin
//!    `p(j) − p(i)` are issues, for every `j ≠ i` (keeping at least one photo per class);
//! 5. a photo whose likeliest class is its label is never an issue;
//! 6. nor is one whose label's probability reaches `floor / classes` (a share of chance): our
//!    addition. With a classifier that often confuses two similar classes, steps 1–4 flag nearly
//!    every photo it confuses (a quarter of ifct-dev with clean labels); a label given at random
//!    has a probability far below chance (bench/results/audit_vs_cleanlab.md).

/// The outcome for a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Issues {
    /// Per-class thresholds.
    pub thresholds: Vec<f64>,
    /// Calibrated confident joint, row-major `classes × classes` (given × likely true).
    pub joint: Vec<f64>,
    /// Per photo: is its label likely wrong.
    pub flagged: Vec<bool>,
}

/// Finds label issues from out-of-sample probabilities `probs` (`n × classes`) and given labels;
/// `floor` is step 6's share of chance (`f64::INFINITY`: confident learning alone).
pub fn find_issues(labels: &[u32], probs: &[f32], classes: usize, floor: f64) -> Issues {
    let n = labels.len();
    let p = |i: usize, j: usize| f64::from(probs[i * classes + j]);
    let mut count = vec![0usize; classes];
    let mut sum = vec![0f64; classes];
    for (i, &y) in labels.iter().enumerate() {
        count[y as usize] += 1;
        sum[y as usize] += p(i, y as usize);
    }
    let thresholds: Vec<f64> =
        (0..classes).map(|j| if count[j] > 0 { sum[j] / count[j] as f64 } else { f64::INFINITY }).collect();

    let mut joint = vec![0f64; classes * classes];
    for (i, &y) in labels.iter().enumerate() {
        let best = (0..classes)
            .filter(|&j| p(i, j) >= thresholds[j])
            .max_by(|&a, &b| p(i, a).total_cmp(&p(i, b)).then(b.cmp(&a)));
        if let Some(j) = best {
            joint[y as usize * classes + j] += 1.0;
        }
    }
    for i in 0..classes {
        let row: f64 = joint[i * classes..(i + 1) * classes].iter().sum();
        if row > 0.0 {
            for v in &mut joint[i * classes..(i + 1) * classes] {
                *v *= count[i] as f64 / row;
            }
        }
    }

    let mut flagged = vec![false; n];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &y) in labels.iter().enumerate() {
        members[y as usize].push(i);
    }
    for (given, rows) in members.iter().enumerate() {
        let mut budget = rows.len().saturating_sub(1);
        for j in (0..classes).filter(|&j| j != given) {
            let k = (joint[given * classes + j].round() as usize).min(budget);
            if k == 0 {
                continue;
            }
            let mut by_margin: Vec<usize> = rows.clone();
            by_margin.sort_by(|&a, &b| (p(b, j) - p(b, given)).total_cmp(&(p(a, j) - p(a, given))).then(a.cmp(&b)));
            for &i in by_margin.iter().take(k) {
                if !flagged[i] {
                    flagged[i] = true;
                    budget -= 1;
                }
            }
        }
    }
    let floor = floor / classes.max(1) as f64;
    for (i, &y) in labels.iter().enumerate() {
        let top = (0..classes).max_by(|&a, &b| p(i, a).total_cmp(&p(i, b)).then(b.cmp(&a))).unwrap_or(0);
        if top == y as usize || p(i, y as usize) >= floor {
            flagged[i] = false;
        }
    }
    Issues { thresholds, joint, flagged }
}

/// `p(given) − max_{j ≠ given} p(j)`: below zero when another class is likelier.
pub fn normalized_margin(probs: &[f32], given: usize) -> f64 {
    let other = probs.iter().enumerate().filter(|&(j, _)| j != given).map(|(_, &v)| v).fold(0f32, f32::max);
    f64::from(probs[given] - other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_confident_disagreements_only() {
        // Three classes, four photos each; photo 3 is labelled 0 but confidently class 1, photo 7
        // is labelled 1 and merely unsure.
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for c in 0..3u32 {
            for k in 0..4 {
                let mut p = [0.05f32; 3];
                p[c as usize] = 0.9;
                if c == 0 && k == 3 {
                    p = [0.1, 0.85, 0.05];
                }
                if c == 1 && k == 3 {
                    p = [0.3, 0.45, 0.25];
                }
                probs.extend(p);
                labels.push(c);
            }
        }
        let issues = find_issues(&labels, &probs, 3, f64::INFINITY);
        let flagged: Vec<usize> = (0..12).filter(|&i| issues.flagged[i]).collect();
        assert_eq!(flagged, [3]);
        // Photo 3's label has probability 0.1: below half of chance (1/6), not below a quarter.
        assert!(find_issues(&labels, &probs, 3, 0.5).flagged[3]);
        assert!(!find_issues(&labels, &probs, 3, 0.25).flagged.iter().any(|&f| f));
        assert!((issues.thresholds[0] - (0.9 * 3.0 + 0.1) / 4.0).abs() < 1e-6);
        // Row 0 of the joint: three photos confidently 0, one confidently 1; calibrated to 4.
        assert!((issues.joint[1] - 1.0).abs() < 1e-9 && (issues.joint[0] - 3.0).abs() < 1e-9);
        assert!(normalized_margin(&probs[9..12], 0) < 0.0);
    }
}
