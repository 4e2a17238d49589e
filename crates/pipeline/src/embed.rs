//! `embed`: backbone embeddings for a whole source, cached in the store by photo SHA-256 and model
//! SHA-256 (never recomputed).
//!
//! Threads: a lister feeds `jobs` decode workers (read, hash, DCT-scaled decode, preprocess); this
//! thread batches their tensors through the model and stores the vectors. Queues are bounded, so
//! decoding and inference overlap and memory stays flat.

use std::collections::{HashMap, HashSet};

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, bounded};
use crowdsift_core::{ImageRecord, Limits};
use crowdsift_embed::{preprocess, to_bytes};
use crowdsift_ingest::{DecodeParams, Fit, Source, decode, sha256_hex};
use crowdsift_models::{Model, ModelSpec};
use crowdsift_store::Store;
use serde::{Deserialize, Serialize};

use crate::feed::{count, feed, open_output};
use crate::scan::PipelineError;
use crate::stages;
use crowdsift_core::ProgressReporter;

/// The parameters of the `embed` stage: the command's options (flattened into `crowdsift embed`)
/// and the Python function's keyword arguments (same names), defaults those of [`Default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct EmbedParams {
    /// A model of models.toml (efficientnet-lite0, mobilenet-v2) or PATH.onnx with its input spec
    /// in PATH.onnx.toml.
    #[arg(long, short, default_value_t = BACKBONE.to_owned())]
    pub model: String,
    /// Photos per inference batch (at least 1).
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Decode worker threads [default: number of cores].
    #[arg(long, short, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub jobs: usize,
    /// ONNX Runtime intra-op threads [default: number of cores].
    #[arg(long, default_value_t = crowdsift_core::cores(), hide_default_value = true)]
    pub threads: usize,
    #[arg(skip)]
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

/// The backbone of models.toml the stages embed with unless told otherwise.
pub const BACKBONE: &str = "efficientnet-lite0";

impl Default for EmbedParams {
    fn default() -> Self {
        Self {
            model: BACKBONE.to_owned(),
            batch: 16,
            jobs: crowdsift_core::cores(),
            threads: crowdsift_core::cores(),
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmbedSummary {
    pub run_id: i64,
    pub model: String,
    pub model_sha256: String,
    pub listed: u64,
    /// Embeddings computed by this run.
    pub computed: u64,
    /// Photos whose bytes were already embedded (by an earlier run, or earlier in this one).
    pub cached: u64,
    /// Photos that could not be read or decoded: (id, reason).
    pub failed: Vec<(String, String)>,
    pub listing_errors: Vec<String>,
    pub elapsed: Duration,
}

enum Work {
    Ready {
        record: ImageRecord,
        sha: String,
        len: u64,
        tensor: Vec<f32>,
    },
    Cached {
        record: ImageRecord,
        sha: String,
        len: u64,
    },
    /// A byte-identical copy of a photo another worker claimed in this run: it shares that photo's
    /// outcome, known once the photo is embedded or has failed.
    Copy {
        record: ImageRecord,
        sha: String,
        len: u64,
    },
    Failed {
        id: String,
        sha: Option<String>,
        reason: String,
    },
}

/// A photo's input tensor for `spec`: decoded (DCT-scaled where the format allows) to at least the
/// model's resize side, then preprocessed exactly as the model declares.
fn tensor(bytes: &[u8], spec: &ModelSpec, limits: Limits) -> Result<Vec<f32>, String> {
    let dp = DecodeParams { limits, fit: Fit::AtLeastShortSide(spec.input.resize_short_side) };
    let d = decode(bytes, &dp).map_err(|e| e.to_string())?;
    Ok(preprocess(&d.image, &spec.input))
}

/// One part of a collection embedded without a store (a Spark task's partition): each photo's
/// record, file SHA-256 and vector, in id order, and the photos that could not be read.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedPart {
    pub rows: Vec<(ImageRecord, String, Vec<f32>)>,
    pub failed: Vec<(String, String)>,
    pub listing_errors: Vec<String>,
}

/// Embeds every photo of `source` (typically [`Source::records`]) with `model` as [`embed`] does,
/// but into memory: no store, no cache, no files.
pub fn embed_part(source: &Source, model: &mut dyn Model, params: &EmbedParams) -> Result<EmbeddedPart, PipelineError> {
    let spec = model.spec().clone();
    let (jobs, batch_size, dim) = (params.jobs.max(1), params.batch.max(1), spec.output.dim);
    let fetcher = source.fetcher();
    let (item_tx, item_rx) = bounded::<crowdsift_ingest::Item>(jobs * 4);
    type Prepared = Result<(ImageRecord, String, Vec<f32>), (String, String)>;
    let (work_tx, work_rx) = bounded::<Prepared>(batch_size * 2);
    let mut part = EmbeddedPart::default();
    std::thread::scope(|s| -> Result<(), PipelineError> {
        for _ in 0..jobs {
            let (rx, tx, spec) = (item_rx.clone(), work_tx.clone(), &spec);
            s.spawn(move || {
                for item in rx {
                    let id = item.record.id.clone();
                    let prepared = fetcher
                        .fetch(&item.location)
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| Ok((item.record, sha256_hex(&bytes), tensor(&bytes, spec, params.limits)?)));
                    if tx.send(prepared.map_err(|reason| (id, reason))).is_err() {
                        break;
                    }
                }
            });
        }
        drop((item_rx, work_tx));
        let lister = s.spawn(|| feed(source, item_tx, |_| false));
        let mut batch: Vec<(ImageRecord, String, Vec<f32>)> = Vec::new();
        let mut infer = |batch: &mut Vec<(ImageRecord, String, Vec<f32>)>| -> Result<(), PipelineError> {
            let input: Vec<f32> = batch.iter().flat_map(|b| b.2.iter().copied()).collect();
            let vectors = model.embed(&input, batch.len())?;
            let done = batch.drain(..).zip(vectors.chunks(dim)).map(|((r, sha, _), v)| (r, sha, v.to_vec()));
            part.rows.extend(done);
            Ok(())
        };
        for prepared in work_rx {
            match prepared {
                Ok(p) => batch.push(p),
                Err(failed) => part.failed.push(failed),
            }
            if batch.len() >= batch_size {
                infer(&mut batch)?;
            }
        }
        if !batch.is_empty() {
            infer(&mut batch)?;
        }
        part.listing_errors = lister.join().unwrap_or_else(|p| std::panic::resume_unwind(p)).errors;
        Ok(())
    })?;
    part.rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    Ok(part)
}

/// Embeds every photo of `source` with `model` into the store in `out`.
pub fn embed(
    source: &Source,
    out: &Path,
    model: &mut dyn Model,
    params: &EmbedParams,
    progress: &dyn ProgressReporter,
) -> Result<EmbedSummary, PipelineError> {
    let started = Instant::now();
    let mut store = open_output(out)?;
    let spec = model.spec().clone();
    let config = serde_json::json!({ "model": spec.name, "model_sha256": spec.sha256, "params": params });
    let run_id = store.begin_run("embed", &source.describe(), &config)?;
    let embedded: Arc<HashSet<String>> = Arc::new(store.embedded(&spec.sha256)?);
    // Bytes claimed by a worker in this run: a byte-identical copy is neither decoded nor inferred
    // again (its embedding is stored once, under the shared SHA-256).
    let claimed: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let known: HashMap<String, String> = store.known_sha256()?;

    // Every photo advances the bar: computed, already embedded, or failed.
    progress.start(stages::EMBED, Some(count(source, |_| false)?));

    let fetcher = source.fetcher();
    let jobs = params.jobs.max(1);
    let (item_tx, item_rx) = bounded(jobs * 4);
    let batch_size = params.batch.max(1);
    let (work_tx, work_rx) = bounded::<Work>(batch_size * 2);
    let mut listing_errors = Vec::new();
    let mut listed = 0u64;
    let mut computed = 0u64;
    let mut cached = 0u64;
    let mut failed = Vec::new();

    let result = std::thread::scope(|s| -> Result<(), PipelineError> {
        for _ in 0..jobs {
            let rx = item_rx.clone();
            let tx = work_tx.clone();
            let embedded = embedded.clone();
            let claimed = &claimed;
            let spec = &spec;
            s.spawn(move || {
                for item in rx {
                    let item: crowdsift_ingest::Item = item;
                    let id = item.record.id.clone();
                    let w = match fetcher.fetch(&item.location) {
                        Err(e) => Work::Failed { id, sha: None, reason: e.to_string() },
                        Ok(bytes) => {
                            let sha = sha256_hex(&bytes);
                            let len = bytes.len() as u64;
                            let first = claimed.lock().unwrap_or_else(|p| p.into_inner()).insert(sha.clone());
                            if embedded.contains(&sha) {
                                Work::Cached { record: item.record, sha, len }
                            } else if !first {
                                Work::Copy { record: item.record, sha, len }
                            } else {
                                match tensor(&bytes, spec, params.limits) {
                                    Ok(tensor) => Work::Ready { record: item.record, sha, len, tensor },
                                    Err(reason) => Work::Failed { id, sha: Some(sha), reason },
                                }
                            }
                        }
                    };
                    if tx.send(w).is_err() {
                        break;
                    }
                }
            });
        }
        drop((item_rx, work_tx));

        // Known bytes with a stored embedding: nothing to read.
        let lister = s.spawn(|| {
            feed(source, item_tx, |item| known.get(&item.record.id).is_some_and(|sha| embedded.contains(sha)))
        });

        let dim = spec.output.dim;
        let mut batch: Vec<(ImageRecord, String, u64, Vec<f32>)> = Vec::new();
        let mut register: Vec<(ImageRecord, String, u64)> = Vec::new();
        let mut flush = |batch: &mut Vec<(ImageRecord, String, u64, Vec<f32>)>,
                         register: &mut Vec<(ImageRecord, String, u64)>,
                         store: &mut Store|
         -> Result<u64, PipelineError> {
            let n = batch.len();
            if n > 0 {
                let input: Vec<f32> = batch.iter().flat_map(|b| b.3.iter().copied()).collect();
                let vectors = model.embed(&input, n)?;
                let rows: Vec<(String, Vec<u8>)> =
                    batch.iter().zip(vectors.chunks(dim)).map(|(b, v)| (b.1.clone(), to_bytes(v))).collect();
                store.put_embeddings(run_id, &spec.name, &spec.sha256, dim, &rows)?;
                register.extend(batch.drain(..).map(|(r, sha, len, _)| (r, sha, len)));
            }
            if !register.is_empty() {
                store.register_images(run_id, register)?;
                register.clear();
            }
            Ok(n as u64)
        };
        // Outcomes of this run's photos by SHA-256, for their byte-identical copies.
        let mut stored: HashSet<String> = HashSet::new();
        let mut bad: HashMap<String, String> = HashMap::new();
        let mut copies: HashMap<String, Vec<(ImageRecord, u64)>> = HashMap::new();
        loop {
            let (msg, closed) = match work_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(w) => (Some(w), false),
                Err(RecvTimeoutError::Timeout) => (None, false),
                Err(RecvTimeoutError::Disconnected) => (None, true),
            };
            // A partial batch goes through when the queue has gone quiet, so a slow source does not
            // hold photos back waiting for a full batch.
            let idle = msg.is_none();
            match msg {
                Some(Work::Ready { record, sha, len, tensor }) => batch.push((record, sha, len, tensor)),
                Some(Work::Cached { record, sha, len }) => {
                    cached += 1;
                    progress.advance(1);
                    register.push((record, sha, len));
                }
                Some(Work::Copy { record, sha, len }) => copies.entry(sha).or_default().push((record, len)),
                Some(Work::Failed { id, sha, reason }) => {
                    progress.advance(1);
                    if let Some(sha) = sha {
                        bad.insert(sha, reason.clone());
                    }
                    failed.push((id, reason));
                }
                None => {}
            }
            if batch.len() >= batch_size || closed || (idle && !batch.is_empty()) {
                stored.extend(batch.iter().map(|b| b.1.clone()));
                let n = flush(&mut batch, &mut register, &mut store)?;
                computed += n;
                progress.advance(n);
            }
            // Copies whose original is now settled share its outcome.
            copies.retain(|sha, waiting| {
                if stored.contains(sha) {
                    cached += waiting.len() as u64;
                    progress.advance(waiting.len() as u64);
                    register.extend(waiting.drain(..).map(|(r, len)| (r, sha.clone(), len)));
                    false
                } else if let Some(reason) = bad.get(sha) {
                    progress.advance(waiting.len() as u64);
                    failed.extend(
                        waiting.drain(..).map(|(r, _)| (r.id, format!("same bytes as a photo that failed: {reason}"))),
                    );
                    false
                } else {
                    true
                }
            });
            if closed {
                // Every original has reported by now; anything left had no outcome to share.
                for (r, _) in copies.drain().flat_map(|(_, w)| w) {
                    failed.push((r.id, "same bytes as a photo whose outcome is unknown".to_owned()));
                }
                if !register.is_empty() {
                    store.register_images(run_id, &register)?;
                }
                break;
            }
        }
        let listing = lister.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        listed = listing.listed;
        cached += listing.skipped;
        progress.advance(listing.skipped);
        listing_errors = listing.errors;
        Ok(())
    });
    progress.finish();
    if let Err(e) = result {
        let _ = store.finish_run(run_id, "failed");
        return Err(e);
    }
    store.finish_run(run_id, "done")?;
    Ok(EmbedSummary {
        run_id,
        model: spec.name.clone(),
        model_sha256: spec.sha256.clone(),
        listed,
        computed,
        cached,
        failed,
        listing_errors,
        elapsed: started.elapsed(),
    })
}
