use std::borrow::Cow;

use serde::Serialize;

use crowdsift_core::ProgressReporter;
use crowdsift_learn::{Dataset, LearnError, TrainParams};

use crate::confident::{find_issues, normalized_margin};
use crate::offtopic::median;
use crate::{IndexParams, Neighbour, OffTopicParams, neighbours, offtopic, out_of_sample};

/// How to audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditParams {
    /// Folds for the out-of-sample probabilities.
    pub folds: usize,
    /// Training of each fold's head (epochs, learning rate, seed, …).
    pub train: TrainParams,
    pub hidden: usize,
    /// Neighbours per photo (label votes, outlier score).
    pub k: usize,
    /// Weight of the neighbours' label vote in the probabilities confident learning reads (the
    /// rest is the out-of-sample head).
    pub knn_weight: f64,
    /// Cosine similarity from which two photos are near duplicates.
    pub dup_similarity: f32,
    /// Robust z-score (within the photo's class) above which a photo is an outlier.
    pub outlier_z: f64,
    /// A photo confident learning flags is a label issue only when the probability of its label
    /// is below this share of chance (`issue_floor / classes`; see [`find_issues`]).
    pub issue_floor: f64,
    /// Exact or approximate (inverted-file index) neighbours.
    pub index: IndexParams,
    /// Photos that are no item at all ([`offtopic`]).
    pub off_topic: OffTopicParams,
}

impl Default for AuditParams {
    fn default() -> Self {
        AuditParams {
            folds: 5,
            train: TrainParams { epochs: 40, patience: 0, ..Default::default() },
            hidden: 0,
            k: 10,
            knn_weight: 0.5,
            dup_similarity: 0.95,
            outlier_z: 3.5,
            issue_floor: 0.5,
            index: IndexParams::default(),
            off_topic: OffTopicParams::default(),
        }
    }
}

/// The audit of one photo (a row of the dataset).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoAudit {
    pub row: usize,
    /// The fold whose head scored this photo.
    pub fold: usize,
    pub given: u32,
    /// Likeliest class by the combined probabilities, and its probability.
    pub suggested: u32,
    pub p_suggested: f64,
    /// Out-of-sample probability of the given label (head only), and combined with the neighbours.
    pub p_given_head: f64,
    pub p_given: f64,
    /// Combined `p(given) − max other`.
    pub margin: f64,
    pub issue: bool,
    /// 1-based position in the review queue of label issues (lowest `p_given` first).
    pub rank: Option<usize>,
    /// Share of the neighbours carrying the given label, and the nearest three.
    pub neighbours_agree: f64,
    pub nearest: Vec<Neighbour>,
    /// 1 − mean cosine similarity to the neighbours, and its robust z-score within the class.
    pub outlier_score: f64,
    pub outlier_z: f64,
    pub outlier: bool,
    /// Robust deviations from the collection's trimmed centre, the second opinion (if the caller
    /// gave one), and whether either is beyond its threshold ([`OffTopicParams`]): an off-topic
    /// photo is no item of the collection; it is never a label issue or an outlier, nor offered a
    /// label.
    pub off_topic_score: f64,
    pub second_opinion: Option<f64>,
    pub off_topic: bool,
    /// Duplicate cluster (photos with the same bytes, duplicates the caller knows of, or
    /// embeddings at least `dup_similarity` alike), if the photo has any duplicate.
    pub cluster: Option<usize>,
    /// The cluster carries more than one label.
    pub label_conflict: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassSummary {
    pub class: String,
    pub photos: usize,
    pub share: f64,
    pub issues: usize,
    /// Classes its photos are most often confidently mistaken for: (class, calibrated count).
    pub confused_with: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub photos: Vec<PhotoAudit>,
    pub classes: Vec<ClassSummary>,
    pub issues: usize,
    pub outliers: usize,
    pub off_topic: usize,
    pub clusters: usize,
    pub conflicts: usize,
    /// Out-of-sample top-1 accuracy of the head against the given labels.
    pub oos_accuracy: f64,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Audits the labels of `ds` (plain embeddings; the first view if there are several).
/// `known_duplicates` are groups of rows already known to be copies (e.g. by perceptual hash):
/// they join the duplicate clusters, each photo in at most one cluster. `not_items` (row-major
/// `n × k` probabilities of the [`offtopic::NOT_ITEMS`] classes by the backbone's ImageNet
/// classifier, and `k`) gives the off-topic check its second opinion
/// ([`offtopic::not_item_probability`]).
pub fn audit(
    ds: &Dataset,
    params: &AuditParams,
    known_duplicates: &[Vec<usize>],
    not_items: Option<(&[f32], usize)>,
    progress: &dyn ProgressReporter,
) -> Result<AuditReport, LearnError> {
    let n = ds.len();
    let c = ds.classes.len();
    let mut group_ids = std::collections::HashMap::new();
    let groups: Vec<u32> = ds
        .groups
        .iter()
        .map(|g| {
            let next = group_ids.len() as u32;
            *group_ids.entry(g.as_str()).or_insert(next)
        })
        .collect();
    // One view per photo is the matrix itself: no copy of a million rows.
    let x: Cow<[f32]> = if ds.views <= 1 {
        Cow::Borrowed(&ds.x)
    } else {
        Cow::Owned((0..n).flat_map(|i| ds.row(i).iter().copied()).collect())
    };
    // At most √n neighbours: in a small collection ten neighbours reach far beyond a photo's own
    // class and dilute its vote (a class of four photos can give at most three).
    let k = params.k.min((n as f64).sqrt().ceil() as usize).max(1);
    let nn = neighbours(&x, n, ds.dim, &groups, k, &params.index, progress)?;
    // Duplicate clusters: byte-identical copies, known duplicates and embedding neighbours above
    // the threshold, joined in one union-find so that no pair is counted twice.
    let mut parent: Vec<usize> = (0..n).collect();
    for g in known_duplicates {
        for w in g.windows(2) {
            let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
            parent[a] = b;
        }
    }
    let mut first_of_group = std::collections::HashMap::new();
    for i in 0..n {
        if let Some(&j) = first_of_group.get(&groups[i]) {
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            parent[a] = b;
        } else {
            first_of_group.insert(groups[i], i);
        }
        for nb in nn[i].iter().filter(|nb| nb.similarity >= params.dup_similarity) {
            let (a, b) = (find(&mut parent, i), find(&mut parent, nb.row as usize));
            parent[a] = b;
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();

    // Off-topic photos first: they are left out of everything that learns what a class is. The
    // second opinion's classes typical of a label are judged on one photo per cluster of copies
    // and only on photos not already off-topic by distance: a group of resubmitted screenshots
    // must not make "web site" typical of the small class it was labelled with.
    let topic = offtopic::scores(&x, n, ds.dim, &params.off_topic);
    drop(x);
    let far = offtopic::flags(&topic, None, &params.off_topic);
    let second_opinion: Option<Vec<f64>> = not_items.filter(|(p, k)| *k > 0 && p.len() == n * k).map(|(p, k)| {
        let mut seen = std::collections::HashSet::new();
        let counted: Vec<bool> = (0..n).map(|i| !far[i] && seen.insert(roots[i])).collect();
        offtopic::not_item_probability(p, n, k, &ds.y, c, &counted)
    });
    let second_opinion = second_opinion.as_deref();
    let off = offtopic::flags(&topic, second_opinion, &params.off_topic);
    let (head_probs, fold_of) = out_of_sample(ds, params.folds, params.hidden, &params.train, &off, progress)?;

    // Neighbour vote: similarity-weighted label shares of the on-topic neighbours, lightly smoothed.
    let w = params.knn_weight.clamp(0.0, 1.0) as f32;
    let mut probs = head_probs.clone();
    for i in 0..n {
        let mut vote = vec![0.1f32 / c as f32; c];
        for nb in nn[i].iter().filter(|nb| !off[nb.row as usize]) {
            vote[ds.y[nb.row as usize] as usize] += nb.similarity.max(0.0);
        }
        let total: f32 = vote.iter().sum();
        for j in 0..c {
            probs[i * c + j] = (1.0 - w) * head_probs[i * c + j] + w * vote[j] / total;
        }
    }
    // Confident learning on the on-topic photos only (its per-class thresholds and joint are
    // class statistics), mapped back to every row.
    let on: Vec<usize> = (0..n).filter(|&i| !off[i]).collect();
    let on_labels: Vec<u32> = on.iter().map(|&i| ds.y[i]).collect();
    let on_probs: Vec<f32> = on.iter().flat_map(|&i| probs[i * c..(i + 1) * c].iter().copied()).collect();
    let on_issues = find_issues(&on_labels, &on_probs, c, params.issue_floor);
    let mut flagged = vec![false; n];
    for (k, &i) in on.iter().enumerate() {
        flagged[i] = on_issues.flagged[k];
    }
    drop((on_labels, on_probs));

    // Outliers: distance to the neighbours, scored against the photo's own class.
    let score: Vec<f64> = nn
        .iter()
        .map(|v| 1.0 - v.iter().map(|nb| f64::from(nb.similarity)).sum::<f64>() / v.len().max(1) as f64)
        .collect();
    let mut z = vec![0f64; n];
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); c];
    for &i in &on {
        by_class[ds.y[i] as usize].push(i);
    }
    for rows in &by_class {
        let mut s: Vec<f64> = rows.iter().map(|&i| score[i]).collect();
        let med = median(&mut s);
        let mut dev: Vec<f64> = rows.iter().map(|&i| (score[i] - med).abs()).collect();
        let mad = (1.4826 * median(&mut dev)).max(0.02);
        for &i in rows {
            z[i] = (score[i] - med) / mad;
        }
    }

    let mut members: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &r) in roots.iter().enumerate() {
        members.entry(r).or_default().push(i);
    }
    let mut cluster = vec![None; n];
    let mut conflict = vec![false; n];
    let (mut clusters, mut conflicts) = (0, 0);
    for rows in members.values().filter(|r| r.len() > 1) {
        let labels: std::collections::BTreeSet<u32> = rows.iter().map(|&i| ds.y[i]).collect();
        for &i in rows {
            cluster[i] = Some(clusters);
            conflict[i] = labels.len() > 1;
        }
        conflicts += usize::from(labels.len() > 1);
        clusters += 1;
    }

    let argmax = |p: &[f32]| (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
    let mut photos: Vec<PhotoAudit> = (0..n)
        .map(|i| {
            let p = &probs[i * c..(i + 1) * c];
            let given = ds.y[i];
            // An off-topic photo is offered no other label: it is no item of any class.
            let suggested = if off[i] { given as usize } else { argmax(p) };
            PhotoAudit {
                row: i,
                fold: fold_of[i],
                given,
                suggested: suggested as u32,
                p_suggested: f64::from(p[suggested]),
                p_given_head: f64::from(head_probs[i * c + given as usize]),
                p_given: f64::from(p[given as usize]),
                margin: normalized_margin(p, given as usize),
                issue: flagged[i],
                rank: None,
                neighbours_agree: nn[i].iter().filter(|nb| ds.y[nb.row as usize] == given).count() as f64
                    / nn[i].len().max(1) as f64,
                nearest: nn[i].iter().take(3).copied().collect(),
                outlier_score: score[i],
                outlier_z: z[i],
                outlier: !off[i] && z[i] > params.outlier_z,
                off_topic_score: topic[i],
                second_opinion: second_opinion.map(|s| s[i]),
                off_topic: off[i],
                cluster: cluster[i],
                label_conflict: conflict[i],
            }
        })
        .collect();
    let mut queue: Vec<usize> = (0..n).filter(|&i| photos[i].issue).collect();
    queue.sort_by(|&a, &b| photos[a].p_given.total_cmp(&photos[b].p_given).then(a.cmp(&b)));
    for (r, &i) in queue.iter().enumerate() {
        photos[i].rank = Some(r + 1);
    }
    let oos_accuracy = on.iter().filter(|&&i| argmax(&head_probs[i * c..(i + 1) * c]) == ds.y[i] as usize).count()
        as f64
        / on.len().max(1) as f64;
    let classes = (0..c)
        .map(|j| {
            let count = by_class[j].len();
            let mut confused: Vec<(String, f64)> = (0..c)
                .filter(|&k| k != j && on_issues.joint[j * c + k] >= 0.5)
                .map(|k| (ds.classes[k].clone(), on_issues.joint[j * c + k]))
                .collect();
            confused.sort_by(|a, b| b.1.total_cmp(&a.1));
            confused.truncate(3);
            ClassSummary {
                class: ds.classes[j].clone(),
                photos: count,
                share: count as f64 / on.len().max(1) as f64,
                issues: by_class[j].iter().filter(|&&i| photos[i].issue).count(),
                confused_with: confused,
            }
        })
        .collect();
    Ok(AuditReport {
        issues: queue.len(),
        outliers: photos.iter().filter(|p| p.outlier).count(),
        off_topic: photos.iter().filter(|p| p.off_topic).count(),
        photos,
        classes,
        clusters,
        conflicts,
        oos_accuracy,
    })
}
