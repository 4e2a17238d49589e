//! `crowdsift._native`: the Rust engine for Python. Each function runs one stage exactly as the
//! command line does (same code, same store layout in `out`), with the interpreter released while
//! it works; the Python package (python/crowdsift) turns the outputs into pyarrow tables.
//!
//! Models are loaded once per process and kept (Spark reuses its Python workers across tasks).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crowdsift_ingest::{Fetcher, Source};
use crowdsift_models::{ModelSpec, OnnxModel, Registry};
use crowdsift_pipeline::{EmbedParams, NoProgress, ScanParams};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
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
        E::Ingest(i) => source_err(i),
        other => CrowdsiftError::new_err(other.to_string()),
    }
}

fn open_source(src: &str, out: &Path, limits: crowdsift_core::Limits) -> PyResult<Source> {
    let fetcher = Arc::new(Fetcher::new(limits));
    Ok(Source::open(src, fetcher).map_err(|e| source_err(format!("opening {src}: {e}")))?.exclude(out))
}

/// Models loaded in this process, by checksum.
fn models() -> &'static Mutex<HashMap<String, OnnxModel>> {
    static MODELS: OnceLock<Mutex<HashMap<String, OnnxModel>>> = OnceLock::new();
    MODELS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn spec(model: &str) -> PyResult<ModelSpec> {
    let path = Path::new(model);
    if model.ends_with(".onnx") || path.is_file() {
        return ModelSpec::from_onnx_file(path).map_err(model_err);
    }
    let reg = Registry::discover().map_err(model_err)?;
    reg.verified(model).cloned().map_err(model_err)
}

/// Reads, decodes and checks every photo of `source` (ingest, quality, duplicates) into the store
/// in `out`, as `crowdsift scan`; returns counts. Photos already scanned are not read again.
/// With `duplicates=False` duplicates are not searched: the photos are one part of a collection
/// (see [`duplicates`]).
#[pyfunction]
#[pyo3(signature = (source, out, jobs=None, duplicates=true))]
fn scan(py: Python<'_>, source: &str, out: PathBuf, jobs: Option<usize>, duplicates: bool) -> PyResult<Py<PyDict>> {
    let mut params = ScanParams { duplicates, ..Default::default() };
    if let Some(j) = jobs {
        params.jobs = j.max(1);
    }
    let src = open_source(source, &out, params.limits)?;
    let s = py.detach(|| crowdsift_pipeline::scan(&src, &out, &params, &NoProgress)).map_err(pipeline_err)?;
    let d = PyDict::new(py);
    d.set_item("listed", s.listed)?;
    d.set_item("processed", s.processed)?;
    d.set_item("resumed", s.resumed)?;
    d.set_item("photos", s.totals.images)?;
    d.set_item("usable", s.totals.usable)?;
    d.set_item("flagged_photos", s.totals.flagged_images)?;
    d.set_item("listing_errors", s.listing_errors)?;
    Ok(d.unbind())
}

/// Embeds every photo of `source` with `model` (a models.toml name or a PATH.onnx) into the store
/// in `out`, as `crowdsift embed`; returns counts and the model's checksum.
#[pyfunction]
#[pyo3(signature = (source, out, model="efficientnet-lite0", batch=16, jobs=None, threads=None))]
fn embed(
    py: Python<'_>,
    source: &str,
    out: PathBuf,
    model: &str,
    batch: usize,
    jobs: Option<usize>,
    threads: Option<usize>,
) -> PyResult<Py<PyDict>> {
    let spec = spec(model)?;
    let mut params = EmbedParams { batch: batch.max(1), ..Default::default() };
    if let Some(j) = jobs {
        params.jobs = j.max(1);
    }
    let src = open_source(source, &out, params.limits)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let s = py.detach(|| -> PyResult<crowdsift_pipeline::EmbedSummary> {
        let mut cache = models().lock().unwrap_or_else(|p| p.into_inner());
        if !cache.contains_key(&spec.sha256) {
            let loaded = OnnxModel::load(&spec, threads.unwrap_or(cores)).map_err(model_err)?;
            cache.insert(spec.sha256.clone(), loaded);
        }
        let Some(m) = cache.get_mut(&spec.sha256) else {
            return Err(model_err("model cache lost its entry"));
        };
        crowdsift_pipeline::embed(&src, &out, m, &params, &NoProgress).map_err(pipeline_err)
    })?;
    let d = PyDict::new(py);
    d.set_item("computed", s.computed)?;
    d.set_item("cached", s.cached)?;
    d.set_item("model", s.model)?;
    d.set_item("model_sha256", s.model_sha256)?;
    d.set_item("failed", s.failed)?;
    Ok(d.unbind())
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

/// What duplicate detection needs of every photo in the store in `out`, in id order.
#[pyfunction]
fn dup_keys(out: PathBuf) -> PyResult<KeyColumns> {
    let store = crowdsift_store::Store::open(&out.join("crowdsift.db")).map_err(source_err)?;
    let keys = store.dup_keys().map_err(source_err)?;
    let mut cols: KeyColumns = Default::default();
    for k in keys {
        cols.0.push(k.id);
        cols.1.push(k.sha256);
        cols.2.push(k.pixels);
        cols.3.push(k.pixel_sha256);
        cols.4.push(k.phash);
    }
    Ok(cols)
}

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
    let floats =
        |b: &[u8]| -> Vec<f32> { b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect() };
    let mut meta = crowdsift_learn::HeadMeta::new(classes, dim, backbone, backbone_sha256);
    meta.params = serde_json::from_str(params_json).map_err(|e| CrowdsiftError::new_err(format!("params: {e}")))?;
    let learn_err = |e: crowdsift_learn::LearnError| CrowdsiftError::new_err(e.to_string());
    let head = crowdsift_learn::Head::from_linear(meta, floats(weight), floats(bias)).map_err(learn_err)?;
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| source_err(format!("{}: {e}", dir.display())))?;
    }
    crowdsift_learn::save(&head, &stem).map_err(learn_err)
}

/// Releases the photos of `out` into `to` as `crowdsift release` does (approved or not flagged for
/// a person; redacted where personal data was found; written from pixels) and returns counts; the
/// rows are in `to/manifest.parquet`.
#[pyfunction]
#[pyo3(signature = (out, to, quality=90, jobs=None))]
fn release(py: Python<'_>, out: PathBuf, to: PathBuf, quality: u8, jobs: Option<usize>) -> PyResult<Py<PyDict>> {
    let job = crowdsift_review::ReleaseJob {
        to,
        quality: quality.clamp(1, 100),
        jobs: jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        limits: crowdsift_core::Limits::default(),
    };
    let s = py.detach(|| crowdsift_review::release(&out, &job)).map_err(|e| match e {
        e @ (crowdsift_review::ReviewError::NoResults(_) | crowdsift_review::ReviewError::Write { .. }) => {
            source_err(e)
        }
        other => CrowdsiftError::new_err(other.to_string()),
    })?;
    let d = PyDict::new(py);
    d.set_item("released", s.released)?;
    d.set_item("rejected", s.rejected)?;
    d.set_item("pending", s.pending)?;
    d.set_item("failed", s.failed)?;
    d.set_item("unreadable", s.unreadable)?;
    Ok(d.unbind())
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
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(embed, m)?)?;
    m.add_function(wrap_pyfunction!(embeddings, m)?)?;
    m.add_function(wrap_pyfunction!(export_findings, m)?)?;
    m.add_function(wrap_pyfunction!(dup_keys, m)?)?;
    m.add_function(wrap_pyfunction!(duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(save_head, m)?)?;
    m.add_function(wrap_pyfunction!(release, m)?)?;
    Ok(())
}
