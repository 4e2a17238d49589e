use std::collections::BTreeMap;

use crate::error::LearnError;

/// One photo for a dataset: id, label (if any), group (the file SHA-256), embedding.
pub type Row = (String, Option<String>, String, Vec<f32>);

/// Labelled embeddings. Rows sharing a `group` (the file SHA-256) are the same photo and are kept
/// on the same side of every split.
///
/// A photo may have several views (augmented crops and flips, computed once): view 0 is the plain
/// one, used for validation and prediction; training draws one view per photo and epoch.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub dim: usize,
    /// Views per photo (1 for plain embeddings).
    pub views: usize,
    pub ids: Vec<String>,
    pub groups: Vec<String>,
    /// Row-major `len × views × dim`.
    pub x: Vec<f32>,
    pub y: Vec<u32>,
    /// Class names, sorted; `y` indexes them.
    pub classes: Vec<String>,
}

impl Dataset {
    /// Builds a dataset from `(id, label, group, vector)` rows; rows without a label are left out.
    pub fn from_rows(rows: impl IntoIterator<Item = Row>) -> Result<Self, LearnError> {
        let rows: Vec<_> = rows.into_iter().filter_map(|(i, l, g, v)| l.map(|l| (i, l, g, v))).collect();
        let classes: Vec<String> =
            rows.iter().map(|r| r.1.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let index: BTreeMap<&str, u32> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
        let mut ds = Dataset { classes: classes.clone(), views: 1, ..Default::default() };
        // Rows are consumed one by one, so a million vectors are never held twice.
        let dim = rows.first().map_or(0, |r| r.3.len());
        ds.x.reserve_exact(rows.len() * dim);
        for (id, label, group, v) in rows {
            if ds.dim == 0 {
                ds.dim = v.len();
            }
            if v.len() != ds.dim {
                return Err(LearnError::Data(format!(
                    "photo {id}: embedding of {} values, expected {}",
                    v.len(),
                    ds.dim
                )));
            }
            ds.x.extend_from_slice(&v);
            ds.y.push(index[label.as_str()]);
            ds.ids.push(id);
            ds.groups.push(group);
        }
        if ds.classes.len() < 2 {
            return Err(LearnError::Data(format!(
                "{} labelled photos in {} class(es): training needs at least two classes",
                ds.len(),
                ds.classes.len()
            )));
        }
        Ok(ds)
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Reads each row's vector as `views` vectors of equal length, one per view.
    pub fn with_views(mut self, views: usize) -> Result<Self, LearnError> {
        let per_row = self.dim * self.views.max(1);
        if views == 0 || !per_row.is_multiple_of(views) {
            return Err(LearnError::Data(format!("rows of {per_row} values cannot hold {views} views")));
        }
        self.views = views;
        self.dim = per_row / views;
        Ok(self)
    }

    /// View 0 (the plain one) of row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        self.view(i, 0)
    }

    pub fn view(&self, i: usize, v: usize) -> &[f32] {
        let start = (i * self.views.max(1) + v) * self.dim;
        &self.x[start..start + self.dim]
    }
}

/// Train and validation row indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

pub(crate) use crowdsift_core::rng::splitmix;

pub(crate) fn shuffle<T>(v: &mut [T], state: &mut u64) {
    for i in (1..v.len()).rev() {
        let j = (splitmix(state) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Stratified split: per class, `val_fraction` of its photo groups (rounded, at least one when the
/// class has two or more) go to validation. Groups of byte-identical photos stay together.
pub fn stratified_split(ds: &Dataset, val_fraction: f64, seed: u64) -> Split {
    // class -> group -> rows
    let mut by_class: BTreeMap<u32, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for i in 0..ds.len() {
        by_class.entry(ds.y[i]).or_default().entry(ds.groups[i].as_str()).or_default().push(i);
    }
    let mut state = seed;
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for groups in by_class.values() {
        let mut gs: Vec<&Vec<usize>> = groups.values().collect();
        shuffle(&mut gs, &mut state);
        let n_val =
            if gs.len() >= 2 { ((gs.len() as f64 * val_fraction).round() as usize).clamp(1, gs.len() - 1) } else { 0 };
        for (k, g) in gs.into_iter().enumerate() {
            if k < n_val { val.extend(g) } else { train.extend(g) }
        }
    }
    train.sort_unstable();
    val.sort_unstable();
    Split { train, val }
}

/// Stratified K-fold assignment (the fold of each row): per class, its photo groups are shuffled
/// with the seed and dealt round-robin, starting where the previous class stopped so fold sizes stay
/// even. Byte-identical photos (one group) always share a fold.
pub fn stratified_kfold(ds: &Dataset, k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(2);
    let mut by_class: BTreeMap<u32, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for i in 0..ds.len() {
        by_class.entry(ds.y[i]).or_default().entry(ds.groups[i].as_str()).or_default().push(i);
    }
    let mut state = seed;
    let mut fold = vec![0usize; ds.len()];
    let mut next = 0usize;
    for groups in by_class.values() {
        let mut gs: Vec<&Vec<usize>> = groups.values().collect();
        shuffle(&mut gs, &mut state);
        for g in gs {
            for &i in g {
                fold[i] = next % k;
            }
            next += 1;
        }
    }
    fold
}

impl Split {
    /// Train on every fold but `f`, validate on `f`.
    pub fn from_folds(folds: &[usize], f: usize) -> Split {
        let (val, train): (Vec<usize>, Vec<usize>) = (0..folds.len()).partition(|&i| folds[i] == f);
        Split { train, val }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> Dataset {
        let mut rows = Vec::new();
        for c in 0..3 {
            for k in 0..10 {
                // Photos 0 and 1 of each class are byte-identical copies (one group).
                let group = format!("c{c}g{}", k.max(1));
                rows.push((format!("c{c}p{k}"), Some(format!("class{c}")), group, vec![c as f32, k as f32]));
            }
        }
        rows.push(("unlabelled".into(), None, "u".into(), vec![0.0, 0.0]));
        Dataset::from_rows(rows).unwrap()
    }

    #[test]
    fn split_is_stratified_seeded_and_keeps_copies_together() {
        let d = ds();
        assert_eq!(d.len(), 30);
        let s = stratified_split(&d, 0.2, 42);
        assert_eq!(s, stratified_split(&d, 0.2, 42), "same seed, same split");
        assert_ne!(s, stratified_split(&d, 0.2, 43));
        for c in 0..3u32 {
            let n = s.val.iter().filter(|&&i| d.y[i] == c).count();
            assert!((2..=3).contains(&n), "class {c}: {n} in validation");
        }
        for i in 0..d.len() {
            for j in 0..d.len() {
                if d.groups[i] == d.groups[j] {
                    assert_eq!(s.val.contains(&i), s.val.contains(&j), "copies {i} and {j} split apart");
                }
            }
        }
        assert_eq!(s.train.len() + s.val.len(), 30);
    }

    #[test]
    fn kfold_is_stratified_and_keeps_copies_together() {
        let d = ds();
        let folds = stratified_kfold(&d, 5, 3);
        assert_eq!(folds, stratified_kfold(&d, 5, 3));
        for f in 0..5 {
            let s = Split::from_folds(&folds, f);
            assert_eq!(s.train.len() + s.val.len(), d.len());
            assert!((4..=8).contains(&s.val.len()), "fold {f}: {}", s.val.len());
        }
        for i in 0..d.len() {
            for j in 0..d.len() {
                if d.groups[i] == d.groups[j] {
                    assert_eq!(folds[i], folds[j]);
                }
            }
        }
    }

    #[test]
    fn one_class_is_refused() {
        let rows = vec![
            ("a".into(), Some("x".into()), "a".into(), vec![1.0]),
            ("b".into(), Some("x".into()), "b".into(), vec![2.0]),
        ];
        assert!(Dataset::from_rows(rows).unwrap_err().to_string().contains("at least two classes"));
    }
}
