//! From parsed arguments to the parameters of a pipeline stage.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use crowdsift_ingest::{Fetcher, Source};
use crowdsift_models::{ModelSpec, Registry};
use crowdsift_pipeline::ScanParams;

use crate::args::{
    AuditArgs, EmbedArgs, ExportArgs, Mode, OcrArgs, PiiArgs, RedactArgs, ReleaseArgs, ScanArgs, TrainArgs,
};

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Opens a source of photos, leaving out the output folder `out` should it lie inside.
pub fn open_source(src: &str, out: &Path, limits: crowdsift_core::Limits) -> Result<Source> {
    let fetcher = Arc::new(Fetcher::new(limits));
    Ok(Source::open(src, fetcher).with_context(|| format!("opening {src}"))?.exclude(out))
}

/// A models.toml name (checksum verified) or PATH.onnx with its PATH.onnx.toml.
pub fn backbone_spec(model: &str) -> Result<ModelSpec> {
    let path = Path::new(model);
    if model.ends_with(".onnx") || path.is_file() {
        return Ok(ModelSpec::from_onnx_file(path)?);
    }
    Ok(Registry::discover()?.verified(model)?.clone())
}

/// The backbone a head is exported with: `--model`, else the models.toml entry the head names.
pub fn export_backbone(args: &ExportArgs) -> Result<ModelSpec> {
    let model = match &args.model {
        Some(m) => m.clone(),
        None => crowdsift_learn::load(&args.head)
            .with_context(|| format!("reading {}", args.head.display()))?
            .meta()
            .backbone
            .clone(),
    };
    backbone_spec(&model)
}

fn apply_threshold(p: &mut crowdsift_quality::Params, spec: &str) -> Result<()> {
    let (name, value) = spec.split_once('=').with_context(|| format!("--threshold {spec}: expected CHECK=VALUE"))?;
    let v: f64 = value.trim().parse().with_context(|| format!("--threshold {spec}: {value} is not a number"))?;
    match name.trim() {
        "blur" => p.min_sharpness = v,
        "dark" => p.max_dark_brightness = v,
        "overexposed" => p.min_overexposure = v,
        "low_information" => p.min_contrast_range = v,
        "too_small" => p.min_side = v as u32,
        "odd_aspect" => p.max_aspect = v,
        "grayscale" => p.min_colorfulness = v,
        "near_duplicate" => p.max_hash_distance = v as u32,
        other => bail!("--threshold {spec}: unknown check `{other}`"),
    }
    Ok(())
}

pub fn scan_params(args: &ScanArgs) -> Result<ScanParams> {
    let mut params = ScanParams::default();
    if let Some(j) = args.jobs {
        params.jobs = j.max(1);
    }
    params.limits.max_pixels = (args.max_megapixels * 1e6) as u64;
    for t in &args.thresholds {
        apply_threshold(&mut params.quality, t)?;
    }
    Ok(params)
}

pub fn embed_params(args: &EmbedArgs) -> crowdsift_pipeline::EmbedParams {
    let mut params = crowdsift_pipeline::EmbedParams { batch: args.batch.max(1), ..Default::default() };
    if let Some(j) = args.jobs {
        params.jobs = j.max(1);
    }
    params
}

pub fn train_job(args: &TrainArgs) -> Result<crowdsift_pipeline::TrainJob> {
    let mode = match args.mode {
        Mode::Transfer => crowdsift_pipeline::Mode::Transfer { hidden: args.hidden },
        Mode::Finetune => {
            crowdsift_pipeline::Mode::Finetune { unfreeze: args.unfreeze, views: args.views, dropout: args.dropout }
        }
        Mode::Scratch => crowdsift_pipeline::Mode::Scratch {
            arch: crowdsift_learn::cnn::CnnArch { size: args.size, dropout: args.dropout, ..Default::default() },
            views: args.views,
        },
    };
    Ok(crowdsift_pipeline::TrainJob {
        backbone: backbone_spec(&args.model)?,
        mode,
        val_split: args.val_split,
        jobs: args.jobs.unwrap_or_else(cores),
        params: crowdsift_learn::TrainParams {
            epochs: args.epochs,
            lr: args.lr,
            weight_decay: args.weight_decay,
            batch: args.batch.max(1),
            patience: args.patience,
            seed: args.seed,
            class_weights: !args.no_class_weights,
            backbone_lr: args.backbone_lr,
            warmup: if matches!(args.mode, Mode::Finetune) { args.warmup } else { 0 },
        },
        resume: args.resume.clone(),
    })
}

pub fn audit_params(args: &AuditArgs) -> crowdsift_audit::AuditParams {
    crowdsift_audit::AuditParams {
        folds: args.folds.max(2),
        train: crowdsift_learn::TrainParams { epochs: args.epochs, patience: 0, seed: args.seed, ..Default::default() },
        hidden: 0,
        k: args.k.max(1),
        knn_weight: args.knn_weight,
        dup_similarity: args.dup_similarity,
        outlier_z: args.outlier_z,
        index: crowdsift_audit::IndexParams {
            exact_limit: args.exact_limit,
            probes: args.probes,
            seed: args.seed,
            ..Default::default()
        },
    }
}

/// The OCR job and its models of `reg` (checksums verified).
pub fn ocr_job<'r>(
    args: &OcrArgs,
    reg: &'r Registry,
) -> Result<(crowdsift_pipeline::OcrJob, crowdsift_ocr::ModelPlan<'r>)> {
    let langs = (args.lang != "auto").then(|| crowdsift_ocr::parse_languages(&args.lang));
    let job = crowdsift_pipeline::OcrJob {
        jobs: args.jobs.unwrap_or_else(cores).max(1),
        overlay: args.debug_overlay,
        tile: (args.tile > 0).then_some(args.tile),
        reader: crowdsift_ocr::ReaderConfig { engine: args.engine, langs, ..Default::default() },
        ..Default::default()
    };
    let plan = crowdsift_ocr::ModelPlan::new(reg, &args.models, &job.reader)?;
    Ok((job, plan))
}

pub fn pii_job(args: &PiiArgs) -> crowdsift_pipeline::PiiJob {
    crowdsift_pipeline::PiiJob {
        country: args.country.clone(),
        lexicon: args.lexicon.clone(),
        regions: args.phone_regions.clone(),
        safety: crowdsift_pii::safety::SafetyParams {
            min_confidence: args.min_confidence,
            handwriting: args.handwriting,
            ..Default::default()
        },
        faces: (!args.no_faces).then(|| "centerface".to_owned()),
        face_side: args.face_side,
        ..Default::default()
    }
}

/// The redaction job and, when copies are verified, the OCR models of `reg` that read them again.
pub fn redact_job<'r>(
    args: &RedactArgs,
    reg: &'r Registry,
) -> Result<(crowdsift_pipeline::RedactJob, Option<crowdsift_ocr::ModelPlan<'r>>)> {
    let job = crowdsift_pipeline::RedactJob {
        style: crowdsift_redact::Style::parse(&args.style).context("--style must be blur, pixelate or fill")?,
        quality: args.quality,
        verify: !args.no_verify,
        jobs: args.jobs.unwrap_or_else(cores).max(1),
        ..Default::default()
    };
    let plan = if job.verify { Some(crowdsift_ocr::ModelPlan::new(reg, &args.models, &job.reader)?) } else { None };
    Ok((job, plan))
}

pub fn release_job(args: &ReleaseArgs) -> crowdsift_review::ReleaseJob {
    crowdsift_review::ReleaseJob {
        to: args.to.clone(),
        quality: args.quality,
        jobs: args.jobs.unwrap_or_else(cores),
        limits: crowdsift_core::Limits::default(),
    }
}
