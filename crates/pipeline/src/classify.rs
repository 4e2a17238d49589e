//! `predict` and `evaluate` with a trained head.

use std::io::Write;
use std::path::{Path, PathBuf};

use crowdsift_core::ProgressReporter;
use crowdsift_learn::metrics::{Evaluation, evaluate as score};
use crowdsift_learn::{Classifier, Dataset, load, predict_proba, stratified_split};
use crowdsift_models::Registry;
use crowdsift_store::Store;

use crate::scan::PipelineError;
use crate::train::model_rows;

fn io(path: &Path) -> impl Fn(std::io::Error) -> PipelineError + '_ {
    move |source| PipelineError::Io { path: path.to_owned(), source }
}

/// Probabilities for all rows of `x` (`n × dim`), in chunks.
fn probabilities(model: &dyn Classifier, x: &[f32], n: usize) -> Result<Vec<f32>, PipelineError> {
    let dim = model.meta().dim;
    let mut out = Vec::new();
    for start in (0..n).step_by(1024) {
        let m = (n - start).min(1024);
        out.extend(predict_proba(model, &x[start * dim..(start + m) * dim], m)?);
    }
    Ok(out)
}

/// The class probabilities (row-major `n × classes`) a head on the backbone's embedding gives
/// the `n` embeddings `x` (row-major `n × dim`), with the head's classes: what `predict` computes,
/// for embeddings held outside a store (a Spark DataFrame). Heads that read the photos
/// (fine-tuned, from scratch) are refused.
pub fn predict_embeddings(head_path: &Path, x: &[f32], n: usize) -> Result<(Vec<String>, Vec<f32>), PipelineError> {
    let model = load(head_path)?;
    let meta = model.meta();
    if !matches!(meta.arch, crowdsift_learn::Arch::Linear) {
        return Err(PipelineError::Invalid(format!(
            "{} reads the photos, not their embeddings (fine-tuned or from scratch): predict with the photos' store",
            head_path.display()
        )));
    }
    if x.len() != n * meta.dim {
        return Err(PipelineError::Invalid(format!(
            "{} takes {}-d embeddings; got {} values for {n} photos",
            head_path.display(),
            meta.dim,
            x.len()
        )));
    }
    Ok((meta.classes.clone(), probabilities(&*model, x, n)?))
}

#[derive(Debug, Clone)]
pub struct PredictSummary {
    pub photos: usize,
    /// Photos with a given label the head knows, and how many of those it agrees with.
    pub labelled: usize,
    pub agreeing: usize,
    pub csv: PathBuf,
}

/// Writes `out/predictions.csv`: per photo the given label, the top-k predicted labels with
/// probabilities, and the probability of the given label. A fine-tuned or from-scratch
/// classifier reads its features from the cache, computing what is missing (with `registry`'s
/// backbone and `jobs` threads).
/// Labels listed per photo by `predict` unless told otherwise.
pub const TOP_K: usize = 5;

pub fn predict(
    out: &Path,
    head_path: &Path,
    top_k: usize,
    registry: Option<&Registry>,
    jobs: usize,
    progress: &dyn ProgressReporter,
) -> Result<PredictSummary, PipelineError> {
    let model = load(head_path)?;
    let mut store = Store::open(&out.join("crowdsift.db"))?;
    let rows = model_rows(&mut store, out, model.meta(), registry, jobs, progress)?;
    let n = rows.len();
    let x: Vec<f32> = rows.iter().flat_map(|r| r.3.iter().copied()).collect();
    let probs = probabilities(&*model, &x, n)?;
    let head = model.meta();
    let c = head.classes.len();
    let csv = out.join("predictions.csv");
    let mut w = csv::Writer::from_path(&csv).map_err(|e| PipelineError::Invalid(format!("{}: {e}", csv.display())))?;
    let werr = |e: csv::Error| PipelineError::Invalid(format!("{}: {e}", csv.display()));
    w.write_record(["id", "label", "predicted", "confidence", "p_label", "top_k"]).map_err(werr)?;
    let (mut labelled, mut agreeing) = (0, 0);
    for (i, (id, label, _, _)) in rows.iter().enumerate() {
        let p = &probs[i * c..(i + 1) * c];
        let mut order: Vec<usize> = (0..c).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let top: Vec<String> =
            order.iter().take(top_k.max(1)).map(|&k| format!("{}:{:.4}", head.classes[k], p[k])).collect();
        let given = label.as_deref().and_then(|l| head.classes.iter().position(|c| c == l));
        if let Some(g) = given {
            labelled += 1;
            agreeing += usize::from(g == order[0]);
        }
        w.write_record([
            id.as_str(),
            label.as_deref().unwrap_or(""),
            head.classes[order[0]].as_str(),
            &format!("{:.4}", p[order[0]]),
            &given.map(|g| format!("{:.4}", p[g])).unwrap_or_default(),
            &top.join(";"),
        ])
        .map_err(werr)?;
    }
    w.flush().map_err(io(&csv))?;
    Ok(PredictSummary { photos: n, labelled, agreeing, csv })
}

/// Evaluates a head on its own validation split (`all = false`, rebuilt from the seed and share
/// recorded in the head) or on every labelled photo; writes metrics.json, per_class.csv,
/// confusion.csv and confusion.svg into `out/eval/<head run>/`.
pub fn evaluate(
    out: &Path,
    head_path: &Path,
    all: bool,
    registry: Option<&Registry>,
    jobs: usize,
    progress: &dyn ProgressReporter,
) -> Result<(Evaluation, PathBuf), PipelineError> {
    let model = load(head_path)?;
    let mut store = Store::open(&out.join("crowdsift.db"))?;
    let ds = Dataset::from_rows(model_rows(&mut store, out, model.meta(), registry, jobs, progress)?)?;
    let head = model.meta();
    if ds.classes != head.classes {
        return Err(PipelineError::Invalid(format!(
            "{} knows classes {:?}; the store's labels are {:?}",
            head_path.display(),
            head.classes,
            ds.classes
        )));
    }
    let rows: Vec<usize> = if all {
        (0..ds.len()).collect()
    } else {
        let p = &head.params;
        let val = p["val_split"].as_f64().unwrap_or(0.2);
        let seed = p["params"]["seed"].as_u64().unwrap_or(42);
        stratified_split(&ds, val, seed).val
    };
    let x: Vec<f32> = rows.iter().flat_map(|&i| ds.row(i).iter().copied()).collect();
    let probs = probabilities(&*model, &x, rows.len())?;
    let y: Vec<u32> = rows.iter().map(|&i| ds.y[i]).collect();
    let e = score(&probs, &y, &ds.classes);

    let run = head_path
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| "head".to_owned(), |n| n.to_string_lossy().into_owned());
    let dir = out.join("eval").join(run);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::File::create(&p).and_then(|mut f| f.write_all(text.as_bytes())).map_err(io(&p))
    };
    write("metrics.json", serde_json::to_string_pretty(&e).unwrap_or_default())?;
    let mut per = String::from("class,support,precision,recall,f1\n");
    for m in &e.per_class {
        per.push_str(&format!(
            "\"{}\",{},{:.4},{:.4},{:.4}\n",
            m.class.replace('"', "\"\""),
            m.support,
            m.precision,
            m.recall,
            m.f1
        ));
    }
    write("per_class.csv", per)?;
    write("confusion.csv", e.confusion_csv())?;
    write("confusion.svg", e.confusion_svg())?;
    Ok((e, dir))
}
