//! `crowdsift._native`: the Rust engine for Python. Each stage function takes its paths and a dict
//! of options, turned into the engine's own parameter struct for the stage (the one the command
//! line flattens into its arguments: same names, same defaults; unknown names and wrong types are
//! a `TypeError`), and runs the stage as the command does (same code, same store layout), with the
//! interpreter released while it works; it returns counts, and the Python package
//! (python/crowdsift) reads what the stage wrote into pyarrow tables.
//!
//! Models are loaded once per process and kept (Spark reuses its Python workers across tasks).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crowdsift_models::{OnnxModel, Registry};
use crowdsift_pipeline::NoProgress;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

create_exception!(_native, CrowdsiftError, PyException, "Any failure of the crowdsift engine.");
create_exception!(
    _native,
    SourceError,
    CrowdsiftError,
    "The source (folder, manifest, S3 prefix) or the output folder cannot be used."
);
create_exception!(
    _native,
    ModelError,
    CrowdsiftError,
    "A model or ONNX Runtime is missing, or a model file does not match its checksum."
);

fn source_err(e: impl std::fmt::Display) -> PyErr {
    SourceError::new_err(e.to_string())
}

fn model_err(e: impl std::fmt::Display) -> PyErr {
    ModelError::new_err(e.to_string())
}

fn pipeline_err(e: crowdsift_pipeline::PipelineError) -> PyErr {
    use crowdsift_pipeline::PipelineError as E;
    match e {
        E::Model(m) => model_err(m),
        E::Ocr(crowdsift_ocr::OcrError::Model(m)) => model_err(m),
        E::Ingest(i) => source_err(i),
        other => CrowdsiftError::new_err(other.to_string()),
    }
}

/// A Python dict of `key => value` pairs (returns from the enclosing function on a conversion error).
macro_rules! dict {
    ($py:expr, { $($k:literal => $v:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $( d.set_item($k, $v)?; )*
        d
    }};
}

/// Little-endian f32 values (numpy's `<f4` bytes).
fn le_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Models loaded in this process, by checksum and ONNX Runtime threads.
type LoadedModels = HashMap<(String, usize), OnnxModel>;

fn models() -> &'static Mutex<LoadedModels> {
    static MODELS: OnceLock<Mutex<LoadedModels>> = OnceLock::new();
    MODELS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `crowdsift scan` (ingest, quality, duplicates) into the store of its `--out`; returns counts.
/// Photos already scanned are not read again. With `duplicates=False` duplicates are not
/// searched: the photos are one part of a collection (see [`duplicates`]).
#[pyfunction]
#[pyo3(signature = (src, out, options=None, duplicates=true))]
fn scan(
    py: Python<'_>,
    src: String,
    out: PathBuf,
    options: Option<&Bound<'_, PyDict>>,
    duplicates: bool,
) -> PyResult<Py<PyDict>> {
    let mut params: crowdsift_pipeline::ScanParams = stage_options(py, "scan", options)?;
    params.duplicates = duplicates;
    let src = crowdsift_ingest::Source::open_for(&src, &out, params.limits).map_err(source_err)?;
    let s = py.detach(|| crowdsift_pipeline::scan(&src, &out, &params, &NoProgress)).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "listed" => s.listed,
        "processed" => s.processed,
        "resumed" => s.resumed,
        "photos" => s.totals.images,
        "usable" => s.totals.usable,
        "flagged_photos" => s.totals.flagged_images,
        "listing_errors" => s.listing_errors,
    })
    .unbind())
}

/// `crowdsift embed` into the store of its `--out`, with the model kept for the next call;
/// returns counts and the model's checksum.
#[pyfunction]
#[pyo3(signature = (src, out, options=None))]
fn embed(py: Python<'_>, src: String, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let params: crowdsift_pipeline::EmbedParams = stage_options(py, "embed", options)?;
    let spec = crowdsift_models::ModelSpec::backbone(&params.model).map_err(model_err)?;
    let src = crowdsift_ingest::Source::open_for(&src, &out, params.limits).map_err(source_err)?;
    let threads = params.threads.max(1);
    let s = py.detach(|| {
        with_model(&spec, threads, |m| {
            crowdsift_pipeline::embed(&src, &out, m, &params, &NoProgress).map_err(pipeline_err)
        })
    })?;
    Ok(dict!(py, {
        "computed" => s.computed,
        "cached" => s.cached,
        "model" => s.model,
        "model_sha256" => s.model_sha256,
        "failed" => s.failed,
    })
    .unbind())
}

/// Runs `f` with the model of `spec` at `threads` ONNX Runtime threads, loaded once per process.
fn with_model<T>(
    spec: &crowdsift_models::ModelSpec,
    threads: usize,
    f: impl FnOnce(&mut OnnxModel) -> PyResult<T>,
) -> PyResult<T> {
    let mut cache = models().lock().unwrap_or_else(|p| p.into_inner());
    let key = (spec.sha256.clone(), threads);
    if !cache.contains_key(&key) {
        let loaded = OnnxModel::load(spec, threads).map_err(model_err)?;
        cache.insert(key.clone(), loaded);
    }
    let Some(m) = cache.get_mut(&key) else {
        return Err(model_err("model cache lost its entry"));
    };
    f(m)
}

/// Manifest rows handed over as columns (a Spark partition's): an in-memory source, no file.
fn rows_source(
    ids: Vec<String>,
    uris: Vec<String>,
    labels: Vec<Option<String>>,
    limits: crowdsift_core::Limits,
) -> PyResult<crowdsift_ingest::Source> {
    if ids.len() != uris.len() || ids.len() != labels.len() {
        return Err(PyValueError::new_err("ids, uris and labels differ in length"));
    }
    let records = ids
        .into_iter()
        .zip(uris)
        .zip(labels)
        .map(|((id, uri), label)| crowdsift_core::ImageRecord { id, uri, label, meta: Default::default() })
        .collect();
    let fetcher = std::sync::Arc::new(crowdsift_ingest::Fetcher::new(limits));
    Ok(crowdsift_ingest::Source::records(records, fetcher))
}

/// `scan` of one part of a collection given as columns of manifest rows, in memory (no store, no
/// files; duplicates are left to [`duplicates`] over every part's keys): the findings as columns
/// (id, uri, label, stage, check, score, threshold, flagged, reason, detail), the duplicate keys as
/// [`KeyColumns`], and what could not be listed.
#[pyfunction]
#[pyo3(signature = (ids, uris, labels, options=None))]
fn scan_part(
    py: Python<'_>,
    ids: Vec<String>,
    uris: Vec<String>,
    labels: Vec<Option<String>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Py<PyDict>> {
    let params: crowdsift_pipeline::ScanParams = stage_options(py, "scan", options)?;
    let src = rows_source(ids, uris, labels, params.limits)?;
    let part = py.detach(|| crowdsift_pipeline::scan_part(&src, &params));
    let f = PyDict::new(py);
    let rows = || part.photos.iter().flat_map(|(row, fs)| fs.iter().map(move |f| (&row.record, f)));
    f.set_item("id", rows().map(|(_, f)| f.image_id.as_str()).collect::<Vec<_>>())?;
    f.set_item("uri", rows().map(|(r, _)| r.uri.as_str()).collect::<Vec<_>>())?;
    f.set_item("label", rows().map(|(r, _)| r.label.as_deref()).collect::<Vec<_>>())?;
    f.set_item("stage", rows().map(|(_, f)| f.stage.as_str()).collect::<Vec<_>>())?;
    f.set_item("check", rows().map(|(_, f)| f.check.as_str()).collect::<Vec<_>>())?;
    f.set_item("score", rows().map(|(_, f)| f.score).collect::<Vec<_>>())?;
    f.set_item("threshold", rows().map(|(_, f)| f.threshold).collect::<Vec<_>>())?;
    f.set_item("flagged", rows().map(|(_, f)| f.flagged).collect::<Vec<_>>())?;
    f.set_item("reason", rows().map(|(_, f)| f.reason.map(|r| r.as_str())).collect::<Vec<_>>())?;
    f.set_item("detail", rows().map(|(_, f)| f.detail.as_str()).collect::<Vec<_>>())?;
    let mut keys: KeyColumns = Default::default();
    for k in part.dup_keys() {
        keys.0.push(k.id);
        keys.1.push(k.sha256);
        keys.2.push(k.pixels);
        keys.3.push(k.pixel_sha256);
        keys.4.push(k.phash);
    }
    Ok(dict!(py, { "findings" => f, "keys" => keys, "listing_errors" => part.listing_errors }).unbind())
}

/// `embed` of one part of a collection given as columns of manifest rows, in memory (no store, no
/// cache, no files), with the model kept for the next call: `(ids, labels, sha256s, dim,
/// little-endian f32 bytes of every vector, failed (id, reason) pairs, listing errors)`, in id order.
#[pyfunction]
#[pyo3(signature = (ids, uris, labels, options=None))]
#[allow(clippy::type_complexity)]
fn embed_part<'py>(
    py: Python<'py>,
    ids: Vec<String>,
    uris: Vec<String>,
    labels: Vec<Option<String>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<(
    Vec<String>,
    Vec<Option<String>>,
    Vec<String>,
    usize,
    Bound<'py, PyBytes>,
    Vec<(String, String)>,
    Vec<String>,
)> {
    let params: crowdsift_pipeline::EmbedParams = stage_options(py, "embed", options)?;
    let spec = crowdsift_models::ModelSpec::backbone(&params.model).map_err(model_err)?;
    let src = rows_source(ids, uris, labels, params.limits)?;
    let part = py.detach(|| {
        with_model(&spec, params.threads.max(1), |m| {
            crowdsift_pipeline::embed_part(&src, m, &params).map_err(pipeline_err)
        })
    })?;
    let mut data = Vec::new();
    let (mut ids, mut labels, mut shas) = (Vec::new(), Vec::new(), Vec::new());
    for (record, sha, v) in part.rows {
        ids.push(record.id);
        labels.push(record.label);
        shas.push(sha);
        data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    Ok((ids, labels, shas, spec.output.dim, PyBytes::new(py, &data), part.failed, part.listing_errors))
}

/// The embeddings in the store in `out` from the model with checksum `model_sha256`:
/// `(ids, labels, sha256s, dim, little-endian f32 bytes of every vector, in id order)`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn embeddings<'py>(
    py: Python<'py>,
    out: PathBuf,
    model_sha256: &str,
) -> PyResult<(Vec<String>, Vec<Option<String>>, Vec<String>, usize, Bound<'py, PyBytes>)> {
    let store = crowdsift_store::Store::open(&out.join("crowdsift.db")).map_err(source_err)?;
    let (mut ids, mut labels, mut shas, mut data) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut dim = 0;
    store
        .for_each_embedding(model_sha256, |id, label, sha, v| {
            ids.push(id.to_owned());
            labels.push(label.map(str::to_owned));
            shas.push(sha.to_owned());
            dim = v.len() / 4;
            data.extend_from_slice(v);
        })
        .map_err(source_err)?;
    Ok((ids, labels, shas, dim, PyBytes::new(py, &data)))
}

/// Columns of duplicate keys: ids, file sha256s, pixel counts, pixel sha256s (None: not decoded),
/// perceptual hashes (None: not decoded).
type KeyColumns = (Vec<String>, Vec<String>, Vec<u64>, Vec<Option<String>>, Vec<Option<u64>>);

/// A finding as a tuple: (id, stage, check, score, threshold, flagged, detail).
type FindingTuple = (String, String, String, Option<f64>, Option<f64>, bool, String);

/// The duplicate findings of a whole collection from the keys of all its photos (gathered from
/// its parts), exactly as `scan` finds them in one store. `max_distance`: perceptual-hash bits
/// that may differ between near copies [default: scan's].
#[pyfunction]
#[pyo3(signature = (ids, sha256s, pixels, pixel_sha256s, phashes, max_distance=None))]
fn duplicates(
    ids: Vec<String>,
    sha256s: Vec<String>,
    pixels: Vec<u64>,
    pixel_sha256s: Vec<Option<String>>,
    phashes: Vec<Option<u64>>,
    max_distance: Option<u32>,
) -> PyResult<Vec<FindingTuple>> {
    let n = ids.len();
    if [sha256s.len(), pixels.len(), pixel_sha256s.len(), phashes.len()].iter().any(|&l| l != n) {
        return Err(CrowdsiftError::new_err("duplicates: every key column needs one value per id"));
    }
    let mut keys: Vec<crowdsift_store::DupKeys> = ids
        .into_iter()
        .zip(sha256s)
        .zip(pixels)
        .zip(pixel_sha256s)
        .zip(phashes)
        .map(|((((id, sha256), pixels), pixel_sha256), phash)| crowdsift_store::DupKeys {
            id,
            sha256,
            pixels,
            pixel_sha256,
            phash,
        })
        .collect();
    // In id order, as the store gives them to scan.
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    let max = max_distance.unwrap_or_else(|| crowdsift_quality::Params::default().max_hash_distance);
    Ok(crowdsift_pipeline::duplicate_findings(&keys, max)
        .into_iter()
        .map(|f| (f.image_id, f.stage.as_str().to_owned(), f.check, f.score, f.threshold, f.flagged, f.detail))
        .collect())
}

/// Saves a softmax regression fitted elsewhere (Spark MLlib's LogisticRegression on the
/// embeddings) as a crowdsift head: `stem.safetensors` + `stem.json`, which `crowdsift predict`,
/// `evaluate` and `export` read. `weight` and `bias` are little-endian f32 bytes (`classes × dim`
/// row-major, and `classes`). Returns the safetensors path.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (stem, classes, dim, weight, bias, backbone, backbone_sha256, params_json="{}"))]
fn save_head(
    stem: PathBuf,
    classes: Vec<String>,
    dim: usize,
    weight: &[u8],
    bias: &[u8],
    backbone: &str,
    backbone_sha256: &str,
    params_json: &str,
) -> PyResult<PathBuf> {
    let mut meta = crowdsift_learn::HeadMeta::new(classes, dim, backbone, backbone_sha256);
    meta.params = serde_json::from_str(params_json).map_err(|e| CrowdsiftError::new_err(format!("params: {e}")))?;
    let learn_err = |e: crowdsift_learn::LearnError| CrowdsiftError::new_err(e.to_string());
    let head = crowdsift_learn::Head::from_linear(meta, le_f32(weight), le_f32(bias)).map_err(learn_err)?;
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| source_err(format!("{}: {e}", dir.display())))?;
    }
    crowdsift_learn::save(&head, &stem).map_err(learn_err)
}

/// A stage of `crowdsift run`: `(name, status, detail, flagged, found)`.
type StageRow = (String, String, String, bool, String);

/// `crowdsift run`: every stage of the pipeline in order; per stage `(name, status, detail,
/// flagged, found)` with status `done`, `skipped` or `failed`, and what a done stage found.
#[pyfunction]
#[pyo3(signature = (src, out, options=None))]
fn run(py: Python<'_>, src: String, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<StageRow>> {
    let job: crowdsift_pipeline::stages::RunJob = stage_options(py, "run", options)?;
    let outcomes = py
        .detach(|| crowdsift_pipeline::stages::run(&src, &out, &job, &NoProgress, &mut |_, _| {}))
        .map_err(pipeline_err)?;
    Ok(outcomes
        .into_iter()
        .map(|(name, o)| {
            let found = match &o {
                crowdsift_pipeline::stages::Outcome::Done(done) => done.found(),
                _ => String::new(),
            };
            (name.to_owned(), o.status().to_owned(), o.detail(), o.flagged(), found)
        })
        .collect())
}

/// `crowdsift release`: approved photos, or photos not flagged for a person, written from pixels
/// (redacted where personal data was found); returns counts; the rows are in `to/manifest.parquet`.
#[pyfunction]
#[pyo3(signature = (out, options=None))]
fn release(py: Python<'_>, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let job: crowdsift_review::ReleaseJob = stage_options(py, "release", options)?;
    let s = py.detach(|| crowdsift_review::release(&out, &job)).map_err(|e| match e {
        e @ (crowdsift_review::ReviewError::NoResults(_) | crowdsift_review::ReviewError::Write { .. }) => {
            source_err(e)
        }
        other => CrowdsiftError::new_err(other.to_string()),
    })?;
    Ok(dict!(py, {
        "released" => s.released,
        "rejected" => s.rejected,
        "pending" => s.pending,
        "failed" => s.failed,
        "unreadable" => s.unreadable,
    })
    .unbind())
}

/// A stage's parameters `T` from the keyword arguments of its Python function: each name must be
/// one of the stage's options (the arguments `T` gives the command line, so the two faces share
/// one list), each value is converted by serde, and every option left out takes `T::default()`.
fn stage_options<T: clap::Args + serde::de::DeserializeOwned>(
    py: Python<'_>,
    stage: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let command = T::augment_args(clap::Command::new("options"));
    let names: Vec<&str> = command.get_arguments().map(|a| a.get_id().as_str()).collect();
    let empty = PyDict::new(py);
    let options = options.unwrap_or(&empty);
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if !names.contains(&key.as_str()) {
            return Err(PyTypeError::new_err(format!(
                "{stage}(): unknown option `{key}`; its options are {}",
                names.join(", ")
            )));
        }
        // Each value on its own first, so that an error names its option: a value of the wrong
        // type is a TypeError, a value its type does not allow (a mode that does not exist) a
        // ValueError.
        let one = PyDict::new(py);
        one.set_item(&key, value)?;
        if let Err(e) = pythonize::depythonize::<T>(one.as_any()) {
            let message = e.to_string();
            let err = PyErr::from(e);
            let text = format!("{stage}(): option `{key}`: {}", err.value(py));
            return Err(if err.is_instance_of::<PyTypeError>(py) || message.starts_with("invalid type") {
                PyTypeError::new_err(text)
            } else {
                PyValueError::new_err(text)
            });
        }
    }
    pythonize::depythonize(options.as_any()).map_err(|e| PyValueError::new_err(format!("{stage}(): {e}")))
}

/// An option of a stage as `options` describes it: name, help, default, accepted values.
type OptionInfo = (String, String, Option<String>, Vec<String>);

/// The options of `T` (a stage's parameter struct), as the command line declares them.
fn describe<T: clap::Args>() -> Vec<OptionInfo> {
    let mut command = T::augment_args(clap::Command::new("options"));
    command.build();
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_action(), clap::ArgAction::Help | clap::ArgAction::Version))
        .map(|a| {
            let help = a.get_long_help().or(a.get_help()).map(|h| h.to_string()).unwrap_or_default();
            let default = (!a.is_hide_default_value_set() && !a.get_default_values().is_empty()).then(|| {
                a.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect::<Vec<_>>().join(",")
            });
            let values =
                a.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_owned()).collect();
            let values = if matches!(a.get_action(), clap::ArgAction::SetTrue | clap::ArgAction::SetFalse) {
                Vec::new()
            } else {
                values
            };
            (a.get_id().to_string(), help, default, values)
        })
        .collect()
}

/// The options a stage's Python function passes to the engine, straight from the engine's
/// parameter struct (the one the command line flattens): `(name, help, default, accepted values)`
/// with the default as the command line shows it (`None`: none, or one that depends on the machine
/// and is named in the help). The Python package documents its functions from this list.
#[pyfunction]
fn options(stage: &str) -> PyResult<Vec<OptionInfo>> {
    Ok(match stage {
        "run" => describe::<crowdsift_pipeline::stages::RunJob>(),
        "scan" => describe::<crowdsift_pipeline::ScanParams>(),
        "embed" => describe::<crowdsift_pipeline::EmbedParams>(),
        "train" => describe::<crowdsift_pipeline::TrainJob>(),
        "audit" => describe::<crowdsift_pipeline::AuditJob>(),
        "ocr" => describe::<crowdsift_pipeline::OcrJob>(),
        "pii" => describe::<crowdsift_pipeline::PiiJob>(),
        "redact" => describe::<crowdsift_pipeline::RedactJob>(),
        "release" => describe::<crowdsift_review::ReleaseJob>(),
        other => return Err(PyValueError::new_err(format!("no stage `{other}` with options"))),
    })
}

fn epoch_dict<'py>(py: Python<'py>, m: &crowdsift_learn::EpochMetrics) -> PyResult<Bound<'py, PyDict>> {
    Ok(dict!(py, {
        "epoch" => m.epoch,
        "train_loss" => m.train_loss,
        "val_loss" => m.val_loss,
        "val_top1" => m.val_top1,
        "val_top5" => m.val_top5,
        "seconds" => m.seconds,
    }))
}

/// `crowdsift train` (or, with `--folds`, its cross-validation): per-epoch metrics, the best epoch,
/// the checkpoint folder.
#[pyfunction]
#[pyo3(signature = (out, options=None, folds=None))]
fn train(
    py: Python<'_>,
    out: PathBuf,
    options: Option<&Bound<'_, PyDict>>,
    folds: Option<usize>,
) -> PyResult<Py<PyDict>> {
    let job: crowdsift_pipeline::TrainJob = stage_options(py, "train", options)?;
    let epochs =
        |ms: &[crowdsift_learn::EpochMetrics]| ms.iter().map(|m| epoch_dict(py, m)).collect::<PyResult<Vec<_>>>();
    if let Some(k) = folds {
        let cv = py
            .detach(|| crowdsift_pipeline::cross_validate(&out, &job, k, &NoProgress, &mut |_, _| {}))
            .map_err(pipeline_err)?;
        return Ok(dict!(py, {
            "folds" => epochs(&cv.folds)?,
            "photos" => cv.photos,
            "classes" => cv.classes,
            "mean_top1" => cv.mean_top1,
            "sd_top1" => cv.sd_top1,
            "mean_top5" => cv.mean_top5,
            "seconds" => cv.seconds,
            "folds_csv" => cv.folds_csv,
        })
        .unbind());
    }
    let s = py.detach(|| crowdsift_pipeline::train(&out, &job, &NoProgress, &mut |_| {})).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "epochs" => epochs(&s.epochs)?,
        "best" => epoch_dict(py, &s.best)?,
        "classes" => s.classes,
        "train_photos" => s.train_photos,
        "val_photos" => s.val_photos,
        "stopped_early" => s.stopped_early,
        "checkpoints" => s.checkpoints,
        "tensorboard" => s.tensorboard,
        "failed" => s.features.map(|f| f.failed).unwrap_or_default(),
    })
    .unbind())
}

/// `crowdsift predict`: counts and the path of predictions.csv.
#[pyfunction]
#[pyo3(signature = (out, head, top_k=crowdsift_pipeline::TOP_K))]
fn predict(py: Python<'_>, out: PathBuf, head: PathBuf, top_k: usize) -> PyResult<Py<PyDict>> {
    let registry = Registry::discover().ok();
    let s = py
        .detach(|| {
            let cores = crowdsift_core::cores();
            crowdsift_pipeline::predict(&out, &head, top_k, registry.as_ref(), cores, &NoProgress)
        })
        .map_err(pipeline_err)?;
    Ok(dict!(py, {
        "photos" => s.photos,
        "labelled" => s.labelled,
        "agreeing" => s.agreeing,
        "csv" => s.csv,
    })
    .unbind())
}

/// Class probabilities of a head on embeddings for `n` embeddings given as little-endian f32
/// bytes (row-major `n × dim`): `(classes, probabilities as little-endian f32 bytes, n × classes)`.
#[pyfunction]
fn predict_embeddings<'py>(
    py: Python<'py>,
    head: PathBuf,
    data: &[u8],
    n: usize,
) -> PyResult<(Vec<String>, Bound<'py, PyBytes>)> {
    let x = le_f32(data);
    let (classes, probs) = py.detach(|| crowdsift_pipeline::predict_embeddings(&head, &x, n)).map_err(pipeline_err)?;
    let bytes: Vec<u8> = probs.iter().flat_map(|p| p.to_le_bytes()).collect();
    Ok((classes, PyBytes::new(py, &bytes)))
}

/// `crowdsift evaluate`: the metrics (as metrics.json holds them) and the folder of its files.
#[pyfunction]
#[pyo3(signature = (out, head, all=false))]
fn evaluate(py: Python<'_>, out: PathBuf, head: PathBuf, all: bool) -> PyResult<(String, PathBuf)> {
    let registry = Registry::discover().ok();
    let (e, dir) = py
        .detach(|| {
            let cores = crowdsift_core::cores();
            crowdsift_pipeline::evaluate(&out, &head, all, registry.as_ref(), cores, &NoProgress)
        })
        .map_err(pipeline_err)?;
    let json = serde_json::to_string(&e).map_err(|e| CrowdsiftError::new_err(e.to_string()))?;
    Ok((json, dir))
}

/// `crowdsift audit` (the embeddings must be in the store): counts and the folder of labels.csv.
#[pyfunction]
#[pyo3(signature = (out, options=None))]
fn audit(py: Python<'_>, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let job: crowdsift_pipeline::AuditJob = stage_options(py, "audit", options)?;
    let s = py.detach(|| crowdsift_pipeline::audit(&out, &job, &NoProgress)).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "photos" => s.photos,
        "classes" => s.classes,
        "issues" => s.issues,
        "outliers" => s.outliers,
        "off_topic" => s.off_topic,
        "clusters" => s.clusters,
        "conflicts" => s.conflicts,
        "oos_accuracy" => s.oos_accuracy,
        "dir" => s.dir,
    })
    .unbind())
}

/// `crowdsift ocr`: counts, what could not be read, the path of ocr_lines.parquet.
#[pyfunction]
#[pyo3(signature = (src, out, options=None))]
fn ocr(py: Python<'_>, src: String, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let job: crowdsift_pipeline::OcrJob = stage_options(py, "ocr", options)?;
    let reg = Registry::discover().map_err(model_err)?;
    let plan = job.plan(&reg).map_err(pipeline_err)?;
    let src = crowdsift_ingest::Source::open_for(&src, &out, job.limits).map_err(source_err)?;
    let s = py.detach(|| crowdsift_pipeline::ocr(&src, &out, &plan, &job, &NoProgress)).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "engine" => s.engine,
        "read" => s.read,
        "cached" => s.cached,
        "lines" => s.lines,
        "failed" => s.failed,
        "listing_errors" => s.listing_errors,
        "table" => s.table,
    })
    .unbind())
}

/// `crowdsift pii`: counts, what could not be read, the path of pii.parquet.
#[pyfunction]
#[pyo3(signature = (out, options=None))]
fn pii(py: Python<'_>, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let job: crowdsift_pipeline::PiiJob = stage_options(py, "pii", options)?;
    let s = py.detach(|| crowdsift_pipeline::pii(&out, &job, &NoProgress)).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "photos" => s.photos,
        "with_pii" => s.with_pii,
        "failed" => s.failed,
        "table" => s.table,
    })
    .unbind())
}

/// `crowdsift redact`: counts, copies where data was still found, the folder of the copies and the
/// path of redactions.parquet.
#[pyfunction]
#[pyo3(signature = (out, options=None))]
fn redact(py: Python<'_>, out: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyDict>> {
    let job: crowdsift_pipeline::RedactJob = stage_options(py, "redact", options)?;
    let reg = Registry::discover().map_err(model_err)?;
    let plan = job.plan(&reg).map_err(pipeline_err)?;
    let s = py.detach(|| crowdsift_pipeline::redact(&out, &job, plan.as_ref(), &NoProgress)).map_err(pipeline_err)?;
    Ok(dict!(py, {
        "written" => s.written,
        "cached" => s.cached,
        "regions" => s.regions,
        "residual" => s.residual,
        "failed" => s.failed,
        "dir" => s.dir,
        "table" => s.table,
    })
    .unbind())
}

/// `crowdsift report`: the path of report.html.
#[pyfunction]
fn report(py: Python<'_>, out: PathBuf) -> PyResult<PathBuf> {
    let s = py.detach(|| crowdsift_pipeline::report(&out, crowdsift_core::Limits::default())).map_err(pipeline_err)?;
    Ok(s.path)
}

/// `crowdsift export`: writes the classifier (backbone + head) as one ONNX model.
#[pyfunction]
#[pyo3(signature = (head, to, model=None))]
fn export(py: Python<'_>, head: PathBuf, to: PathBuf, model: Option<String>) -> PyResult<PathBuf> {
    let spec = crowdsift_pipeline::export_backbone(&head, model.as_deref()).map_err(pipeline_err)?;
    py.detach(|| crowdsift_pipeline::export(&spec, &head, &to)).map_err(pipeline_err)?;
    Ok(to)
}

/// Writes findings.csv and findings.parquet of the store in `out` (as every command does when it
/// ends) and returns the parquet path.
#[pyfunction]
fn export_findings(out: PathBuf) -> PyResult<PathBuf> {
    let store = crowdsift_store::Store::open(&out.join("crowdsift.db")).map_err(source_err)?;
    crowdsift_report::export_findings(&store, &out).map_err(|e| CrowdsiftError::new_err(e.to_string()))?;
    Ok(out.join("findings.parquet"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crowdsift_core::VERSION)?;
    m.add("CrowdsiftError", m.py().get_type::<CrowdsiftError>())?;
    m.add("SourceError", m.py().get_type::<SourceError>())?;
    m.add("ModelError", m.py().get_type::<ModelError>())?;
    m.add_function(wrap_pyfunction!(options, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(scan_part, m)?)?;
    m.add_function(wrap_pyfunction!(embed_part, m)?)?;
    m.add_function(wrap_pyfunction!(embed, m)?)?;
    m.add_function(wrap_pyfunction!(embeddings, m)?)?;
    m.add_function(wrap_pyfunction!(export_findings, m)?)?;
    m.add_function(wrap_pyfunction!(duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(save_head, m)?)?;
    m.add_function(wrap_pyfunction!(release, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(predict_embeddings, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(audit, m)?)?;
    m.add_function(wrap_pyfunction!(ocr, m)?)?;
    m.add_function(wrap_pyfunction!(pii, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    Ok(())
}
