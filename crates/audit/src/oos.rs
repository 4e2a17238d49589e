use crowdsift_core::ProgressReporter;
use crowdsift_learn::{
    Classifier, Dataset, Head, HeadMeta, LearnError, Split, TrainParams, fit, predict_proba, standardisation,
    stratified_kfold,
};

/// Out-of-sample class probabilities (`n × classes`, row-major) of every row of `ds`: each fold's
/// rows are scored by a head trained for `params.epochs` on the other folds only. Byte-identical
/// photos (one group) always share a fold, so no photo is scored by a head that saw its copy.
/// Rows marked in `exclude` (off-topic photos) are scored but never trained on.
/// Also returns the fold of each row. Progress counts epochs over all folds.
pub fn out_of_sample(
    ds: &Dataset,
    folds: usize,
    hidden: usize,
    params: &TrainParams,
    exclude: &[bool],
    progress: &dyn ProgressReporter,
) -> Result<(Vec<f32>, Vec<usize>), LearnError> {
    let folds = folds.max(2);
    let fold_of = stratified_kfold(ds, folds, params.seed);
    let c = ds.classes.len();
    let mut probs = vec![0f32; ds.len() * c];
    progress.start("out-of-sample heads", Some((folds * params.epochs) as u64));
    for f in 0..folds {
        let mut split = Split::from_folds(&fold_of, f);
        split.train.retain(|&i| !exclude.get(i).copied().unwrap_or(false));
        if split.val.is_empty() || split.train.is_empty() {
            progress.advance(params.epochs as u64);
            continue;
        }
        let (mean, std) = standardisation(ds, &split.train);
        let meta = HeadMeta { hidden, ..HeadMeta::new(ds.classes.clone(), ds.dim, "", "") };
        let mut head = Head::init(meta, mean, std, params.seed.wrapping_add(f as u64))?;
        fit(&mut head, ds, &split.train, params, &mut |_| progress.advance(1))?;
        // Scored in chunks so that a million photos never need one giant batch.
        for rows in split.val.chunks(16_384) {
            let x: Vec<f32> = rows.iter().flat_map(|&i| ds.row(i).iter().copied()).collect();
            let p = predict_proba(&head as &dyn Classifier, &x, rows.len())?;
            for (k, &i) in rows.iter().enumerate() {
                probs[i * c..(i + 1) * c].copy_from_slice(&p[k * c..(k + 1) * c]);
            }
        }
    }
    progress.finish();
    Ok((probs, fold_of))
}
