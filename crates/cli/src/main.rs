//! `crowdsift`: moderation of crowdsourced photo collections.
//!
//! Exit codes: 0 nothing flagged, 1 something flagged, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use crowdsift_ingest::{Fetcher, Source};
use crowdsift_pipeline::{ScanParams, ScanSummary};

mod progress;

#[derive(Parser)]
#[command(name = "crowdsift", version, about = "Screen, audit and redact crowdsourced photo collections")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Read every photo, flag the unusable ones (corrupt, blurred, dark, overexposed, small, odd,
    /// grayscale, duplicated) and write crowdsift.db, findings.csv and findings.parquet.
    Scan(ScanArgs),
    /// Embed every photo with a pretrained backbone (cached by photo and model checksum) into
    /// DIR/crowdsift.db.
    Embed(EmbedArgs),
}

#[derive(Args)]
struct EmbedArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    src: String,
    /// Output folder (shared with scan; embeddings already there are not recomputed).
    #[arg(long, short)]
    out: PathBuf,
    /// A model of models.toml (efficientnet-lite0, mobilenet-v2) or PATH.onnx with its input spec in
    /// PATH.onnx.toml.
    #[arg(long, short, default_value = "efficientnet-lite0")]
    model: String,
    /// Photos per inference batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Decode worker threads [default: number of cores].
    #[arg(long, short)]
    jobs: Option<usize>,
    /// ONNX Runtime intra-op threads [default: number of cores].
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct ScanArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    src: String,
    /// Output folder (created; re-running with the same folder resumes).
    #[arg(long, short)]
    out: PathBuf,
    /// Worker threads [default: number of cores].
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Change a check's threshold, e.g. `--threshold blur=30 --threshold too_small=300`.
    /// Checks: blur, dark, overexposed, low_information, too_small, odd_aspect, grayscale, near_duplicate.
    #[arg(long = "threshold", value_name = "CHECK=VALUE")]
    thresholds: Vec<String>,
    /// Refuse to decode photos larger than this many megapixels.
    #[arg(long, default_value_t = 100.0)]
    max_megapixels: f64,
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

fn scan(args: &ScanArgs, quiet: bool) -> Result<ScanSummary> {
    let mut params = ScanParams::default();
    if let Some(j) = args.jobs {
        params.jobs = j.max(1);
    }
    params.limits.max_pixels = (args.max_megapixels * 1e6) as u64;
    for t in &args.thresholds {
        apply_threshold(&mut params.quality, t)?;
    }
    let fetcher = Arc::new(Fetcher::new(params.limits));
    let source = Source::open(&args.src, fetcher).with_context(|| format!("opening {}", args.src))?.exclude(&args.out);
    let bar = progress::Bar::new(quiet);
    crowdsift_pipeline::scan(&source, &args.out, &params, &bar)
        .with_context(|| format!("scanning {} into {}", args.src, args.out.display()))
}

fn embed(args: &EmbedArgs, quiet: bool) -> Result<bool> {
    let spec = if args.model.ends_with(".onnx") || std::path::Path::new(&args.model).is_file() {
        crowdsift_models::ModelSpec::from_onnx_file(std::path::Path::new(&args.model))?
    } else {
        crowdsift_models::Registry::discover()?.verified(&args.model)?.clone()
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut model = crowdsift_models::OnnxModel::load(&spec, args.threads.unwrap_or(cores))?;
    let mut params = crowdsift_pipeline::EmbedParams { batch: args.batch.max(1), ..Default::default() };
    if let Some(j) = args.jobs {
        params.jobs = j.max(1);
    }
    let fetcher = Arc::new(Fetcher::new(params.limits));
    let source = Source::open(&args.src, fetcher).with_context(|| format!("opening {}", args.src))?.exclude(&args.out);
    let bar = progress::Bar::new(quiet);
    let s = crowdsift_pipeline::embed(&source, &args.out, &mut model, &params, &bar)
        .with_context(|| format!("embedding {} into {}", args.src, args.out.display()))?;
    let mut out = std::io::stdout().lock();
    let secs = s.elapsed.as_secs_f64();
    let res = (|| -> std::io::Result<()> {
        writeln!(
            out,
            "embedded {} photos with {} (sha256 {}…) in {secs:.1} s ({:.1} photos/s); {} already in the store",
            s.computed,
            s.model,
            &s.model_sha256[..12],
            s.computed as f64 / secs.max(1e-9),
            s.cached
        )?;
        for (id, why) in s.failed.iter().take(20) {
            writeln!(out, "not embedded: {id}: {why}")?;
        }
        if s.failed.len() > 20 {
            writeln!(out, "… and {} more not embedded", s.failed.len() - 20)?;
        }
        for e in &s.listing_errors {
            writeln!(out, "not listed: {e}")?;
        }
        Ok(())
    })();
    if let Err(e) = res
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(!s.failed.is_empty() || !s.listing_errors.is_empty())
}

fn print_summary(s: &ScanSummary) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let t = &s.totals;
    let secs = s.elapsed.as_secs_f64();
    writeln!(
        out,
        "scanned {} photos in {secs:.1} s ({:.1} photos/s){}",
        s.processed,
        s.processed as f64 / secs.max(1e-9),
        if s.resumed > 0 { format!("; {} already done by an earlier run", s.resumed) } else { String::new() }
    )?;
    if s.rejudged > 0 {
        writeln!(out, "re-judged {} earlier photos with the new thresholds", s.rejudged)?;
    }
    writeln!(out, "{} photos recorded, {} decodable, {} flagged", t.images, t.usable, t.flagged_images)?;
    if !t.flagged_by.is_empty() {
        writeln!(out, "flagged by reason:")?;
        let mut by: Vec<_> = t.flagged_by.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (k, n) in by {
            writeln!(out, "  {k:<20} {n:>8}")?;
        }
    }
    for e in s.listing_errors.iter().take(20) {
        writeln!(out, "not listed: {e}")?;
    }
    if s.listing_errors.len() > 20 {
        writeln!(out, "… and {} more entries not listed", s.listing_errors.len() - 20)?;
    }
    let d = s.out_dir.display();
    writeln!(out, "wrote {d}/crowdsift.db, {d}/findings.csv and {d}/findings.parquet ({} rows)", s.findings_rows)?;
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Scan(args) => scan(args, cli.quiet).and_then(|s| {
            match print_summary(&s) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
            Ok(s.totals.flagged_images > 0 || !s.listing_errors.is_empty())
        }),
        Command::Embed(args) => embed(args, cli.quiet),
    };
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("crowdsift: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
