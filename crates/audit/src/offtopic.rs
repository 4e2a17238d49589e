//! Off-topic photos: photos that are no item of the collection (a screenshot, a document, a
//! portrait, a wall), whether they come alone or as many near copies from one contributor.
//!
//! Neighbour-based outlier scores fail on the second case: off-topic photos from one source are
//! each other's nearest neighbours. Class centres fail too (measured on ifct-dev while building
//! this check: trimmed class centres and Mahalanobis distances found almost no off-topic photo at
//! 2 % of the food photos flagged): food classes overlap so much in the backbone's embedding that
//! a screenshot is no further from its nearest class than many food photos are. What holds is how unlike the
//! *collection as a whole* a photo is: the collection's centre is estimated on its most typical
//! photos only (trimmed: the photos furthest from the centre are left out and the centre estimated
//! again), so that off-topic photos — even a group of near copies, up to a fifth of the collection
//! — do not move it; a photo's cosine distance to that centre is scored in robust deviations (median
//! and MAD over the whole collection, so no class pays for being small or varied).
//!
//! A second opinion, when the caller has one per photo (the backbone's ImageNet classifier: the
//! probability of classes no item photo shows, such as web site or crossword puzzle): a photo is
//! also off-topic when that probability is above [`OffTopicParams::second_opinion`].
//!
//! Written here rather than taken from a library: a few passes of vector arithmetic over the
//! embedding matrix the audit already holds.

/// How off-topic photos are found.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OffTopicParams {
    /// Robust deviations from the collection's centre above which a photo is off-topic.
    pub z: f64,
    /// Share of the photos, closest to the centre, from which the centre is estimated.
    pub keep: f64,
    /// Rounds of trimming.
    pub rounds: usize,
    /// Floor of the deviation (cosine distance), so a very uniform collection does not flag
    /// photos a hair further than the rest.
    pub min_spread: f64,
    /// A second opinion (e.g. the probability of ImageNet classes no item photo shows) above
    /// which a photo is off-topic whatever its distance.
    pub second_opinion: f64,
    /// Collections smaller than this are not judged: a median and MAD of fewer photos say little.
    pub min_photos: usize,
}

impl Default for OffTopicParams {
    fn default() -> Self {
        OffTopicParams { z: 3.5, keep: 0.8, rounds: 5, min_spread: 0.02, second_opinion: 0.3, min_photos: 30 }
    }
}

/// Per photo: the robust z-score of its cosine distance to the collection's trimmed centre. `x`
/// is row-major `n × dim`. All zeros below [`OffTopicParams::min_photos`].
pub fn scores(x: &[f32], n: usize, dim: usize, p: &OffTopicParams) -> Vec<f64> {
    if n < p.min_photos.max(2) || dim == 0 {
        return vec![0.0; n];
    }
    // Norms, not a normalised copy: a million embeddings are not held twice.
    let row = |i: usize| &x[i * dim..(i + 1) * dim];
    let norms: Vec<f32> = (0..n).map(|i| row(i).iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12)).collect();
    let distance = |i: usize, centre: &[f32]| {
        1.0 - f64::from(row(i).iter().zip(centre).map(|(a, b)| a * b).sum::<f32>() / norms[i])
    };
    let mean_direction = |rows: &mut dyn Iterator<Item = usize>| {
        let mut m = vec![0f32; dim];
        for i in rows {
            m.iter_mut().zip(row(i)).for_each(|(a, b)| *a += b / norms[i]);
        }
        let norm = m.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        m.iter_mut().for_each(|v| *v /= norm);
        m
    };
    let mut centre = mean_direction(&mut (0..n));
    let keep = ((n as f64 * p.keep).ceil() as usize).clamp(1, n);
    for _ in 0..p.rounds {
        let mut by: Vec<(f64, usize)> = (0..n).map(|i| (distance(i, &centre), i)).collect();
        by.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        centre = mean_direction(&mut by[..keep].iter().map(|&(_, i)| i));
    }
    let d: Vec<f64> = (0..n).map(|i| distance(i, &centre)).collect();
    let med = median(&mut d.clone());
    let mut dev: Vec<f64> = d.iter().map(|v| (v - med).abs()).collect();
    let mad = (1.4826 * median(&mut dev)).max(p.min_spread);
    d.iter().map(|v| (v - med) / mad).collect()
}

/// Whether each photo is off-topic: its score beyond [`OffTopicParams::z`], or its second opinion
/// (if any) beyond [`OffTopicParams::second_opinion`].
pub fn flags(scores: &[f64], second: Option<&[f64]>, p: &OffTopicParams) -> Vec<bool> {
    (0..scores.len()).map(|i| scores[i] > p.z || second.is_some_and(|s| s[i] > p.second_opinion)).collect()
}

/// ImageNet classes that no photo of an item for sale shows: screens and what is read on them,
/// printed matter, fabrics hung up, landscapes (measured on the generated off-topic photos of
/// bench/off_topic.py: the classes EfficientNet-Lite0 gives screenshots, documents and scenes).
/// A class the photos of some label typically show is left out ([`not_item_probability`]):
/// a survey of telephones keeps "cellular telephone" as an item.
pub const NOT_ITEMS: [&str; 36] = [
    "web site",
    "comic book",
    "crossword puzzle",
    "book jacket",
    "envelope",
    "monitor",
    "screen",
    "scoreboard",
    "television",
    "laptop",
    "notebook",
    "desktop computer",
    "binder",
    "hand-held computer",
    "cellular telephone",
    "iPod",
    "slide rule",
    "jigsaw puzzle",
    "street sign",
    "digital clock",
    "packet",
    "doormat",
    "prayer rug",
    "quilt",
    "window shade",
    "shower curtain",
    "theater curtain",
    "alp",
    "cliff",
    "valley",
    "lakeside",
    "seashore",
    "volcano",
    "promontory",
    "sandbar",
    "geyser",
];

/// A class is typical of a label when the median photo of that label gives it this probability.
const TYPICAL: f32 = 0.05;

/// The second opinion from an ImageNet classifier: for each photo, the summed probability of the
/// [`NOT_ITEMS`] classes (`probs`, row-major `n × k`, columns in that order) — without those
/// classes that the median `counted` photo of some label gives at least [`TYPICAL`] (items of
/// that kind). The caller counts one photo per cluster of copies: medians per label hold while
/// off-topic photos are fewer than half of a label's distinct photos.
pub fn not_item_probability(
    probs: &[f32],
    n: usize,
    k: usize,
    labels: &[u32],
    classes: usize,
    counted: &[bool],
) -> Vec<f64> {
    let mut typical = vec![false; k];
    for label in 0..classes as u32 {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == label && counted[i]).collect();
        if rows.is_empty() {
            continue;
        }
        for (j, t) in typical.iter_mut().enumerate() {
            let mut v: Vec<f64> = rows.iter().map(|&i| f64::from(probs[i * k + j])).collect();
            *t |= median(&mut v) >= f64::from(TYPICAL);
        }
    }
    (0..n).map(|i| (0..k).filter(|&j| !typical[j]).map(|j| f64::from(probs[i * k + j])).sum()).collect()
}

/// The median of `v` (sorted in place); 0 when empty.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crowdsift_core::rng::splitmix;

    fn gauss(s: &mut u64) -> f32 {
        // Box–Muller on two uniforms of the splitmix stream.
        let u = |s: &mut u64| ((splitmix(s) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-2.0f64 * u(s).ln()).sqrt() * (std::f64::consts::TAU * u(s)).cos()) as f32
    }

    /// Items share a common direction (what the collection's photos have in common) and their
    /// classes' own; one class is three times as varied, one has eight photos. Off-topic: a group
    /// of 20 near copies of one photo (10 % of the collection) spread over the labels, and one
    /// photo alone.
    #[test]
    fn groups_of_off_topic_copies_are_found_and_varied_or_rare_classes_are_not() {
        let (dim, mut s) = (32, 7u64);
        let mut x = Vec::new();
        for (class, (count, spread)) in [(60usize, 0.3f32), (60, 0.9), (8, 0.3), (60, 0.3)].into_iter().enumerate() {
            for _ in 0..count {
                x.extend((0..dim).map(|d| {
                    let base = if d < 8 { 1.0 } else { 0.0 } + if d == 8 + class { 0.6 } else { 0.0 };
                    base + spread * 0.15 * gauss(&mut s)
                }));
            }
        }
        let items = x.len() / dim;
        for _ in 0..20 {
            x.extend((0..dim).map(|d| if d >= 16 { 0.5 } else { 0.0 } + 0.02 * gauss(&mut s)));
        }
        x.extend((0..dim).map(|d| if d == 30 { 1.0 } else { 0.0 }));
        let n = x.len() / dim;
        let truth: Vec<bool> = (0..n).map(|i| i >= items).collect();
        let p = OffTopicParams::default();
        let z = scores(&x, n, dim, &p);
        let flagged = flags(&z, None, &p);
        let missed: Vec<usize> = (0..n).filter(|&i| truth[i] && !flagged[i]).collect();
        let wrong: Vec<(usize, f64)> = (0..n).filter(|&i| !truth[i] && flagged[i]).map(|i| (i, z[i])).collect();
        assert!(missed.is_empty(), "off-topic photos missed: {missed:?} {:?}", &z[items..]);
        assert!(wrong.is_empty(), "item photos flagged: {wrong:?}");
        // The second opinion alone flags a photo; small collections are not judged.
        let mut second = vec![0.0; n];
        second[0] = 0.9;
        assert!(flags(&z, Some(&second), &p)[0]);
        assert!(scores(&x[..10 * dim], 10, dim, &p).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn classes_typical_of_a_label_are_no_evidence_of_an_off_topic_photo() {
        // Two "not item" classes; label 1's photos are telephones (column 1); photo 0 is off-topic.
        let probs = [0.9, 0.0, 0.0, 0.1, 0.01, 0.0, 0.0, 0.0, 0.0, 0.8, 0.0, 0.7, 0.02, 0.6];
        let labels = [0, 0, 0, 0, 1, 1, 1];
        let p = not_item_probability(&probs, 7, 2, &labels, 2, &[true; 7]);
        let want = [0.9, 0.0, 0.01, 0.0, 0.0, 0.0, 0.02];
        assert!(p.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{p:?}");
        // Three copies of the off-topic photo in label 0 would make column 0 typical of it;
        // counted once (one per cluster of copies), they do not.
        let mut probs = probs.to_vec();
        probs.extend([0.9, 0.0, 0.9, 0.0]);
        let labels = [0, 0, 0, 0, 1, 1, 1, 0, 0];
        let mut counted = [true; 9];
        assert!(not_item_probability(&probs, 9, 2, &labels, 2, &counted)[0] < 1e-6, "copies outvote the label");
        counted[7] = false;
        counted[8] = false;
        assert!((not_item_probability(&probs, 9, 2, &labels, 2, &counted)[0] - 0.9).abs() < 1e-6);
    }
}
