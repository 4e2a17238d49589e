//! `crowdsift`: moderation of crowdsourced photo collections.
//!
//! Exit codes: 0 nothing flagged, 1 something flagged, 2 error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use crowdsift_cli::args::*;
use crowdsift_core::cores;
use crowdsift_pipeline::ScanSummary;
use crowdsift_pipeline::stages::StageOutcome;

mod progress;
mod run;

/// Opens a source of photos, leaving out the output folder should it lie inside.
fn open_source(src: &str, out: &std::path::Path, limits: crowdsift_core::Limits) -> Result<crowdsift_ingest::Source> {
    crowdsift_ingest::Source::open_for(src, out, limits).with_context(|| format!("opening {src}"))
}

fn scan(args: &ScanArgs, quiet: bool) -> Result<ScanSummary> {
    let source = open_source(&args.src, &args.out, args.params.limits)?;
    let bar = progress::Bar::new(quiet);
    crowdsift_pipeline::scan(&source, &args.out, &args.params, &bar)
        .with_context(|| format!("scanning {} into {}", args.src, args.out.display()))
}

fn embed(args: &EmbedArgs, quiet: bool) -> Result<bool> {
    let spec = crowdsift_models::ModelSpec::backbone(&args.params.model)?;
    let mut model = crowdsift_models::OnnxModel::load(&spec, args.params.threads.max(1))?;
    let source = open_source(&args.src, &args.out, args.params.limits)?;
    let bar = progress::Bar::new(quiet);
    let s = crowdsift_pipeline::embed(&source, &args.out, &mut model, &args.params, &bar)
        .with_context(|| format!("embedding {} into {}", args.src, args.out.display()))?;
    print_embed(&s)?;
    Ok(StageOutcome::Embed(s).flagged())
}

fn print_embed(s: &crowdsift_pipeline::EmbedSummary) -> Result<()> {
    let secs = s.elapsed.as_secs_f64();
    let mut text = format!(
        "embedded {} photos with {} (sha256 {}…) in {secs:.1} s ({:.1} photos/s); {} already embedded (same bytes)\n",
        s.computed,
        s.model,
        &s.model_sha256[..12.min(s.model_sha256.len())],
        s.computed as f64 / secs.max(1e-9),
        s.cached
    );
    for (id, why) in s.failed.iter().take(20) {
        text.push_str(&format!("not embedded: {id}: {why}\n"));
    }
    if s.failed.len() > 20 {
        text.push_str(&format!("… and {} more not embedded\n", s.failed.len() - 20));
    }
    for e in &s.listing_errors {
        text.push_str(&format!("not listed: {e}\n"));
    }
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

fn ocr(args: &OcrArgs, quiet: bool) -> Result<bool> {
    let reg = crowdsift_models::Registry::discover()?;
    let plan = args.job.plan(&reg)?;
    let source = open_source(&args.src, &args.out, args.job.limits)?;
    let s = crowdsift_pipeline::ocr(&source, &args.out, &plan, &args.job, &progress::Bar::new(quiet))
        .with_context(|| format!("reading the text of {} into {}", args.src, args.out.display()))?;
    print_ocr(&s)?;
    Ok(StageOutcome::Ocr(s).flagged())
}

fn print_ocr(s: &crowdsift_pipeline::OcrSummary) -> Result<()> {
    let secs = s.elapsed.as_secs_f64();
    let mut text = format!(
        "read {} photos with {} in {secs:.1} s ({:.2} photos/s), {} already read (same bytes): {} text lines\nwrote {}; findings.csv, findings.parquet\n",
        s.read,
        s.engine,
        s.read as f64 / secs.max(1e-9),
        s.cached,
        s.lines,
        s.table.display()
    );
    for (id, why) in &s.failed {
        text.push_str(&format!("not read: {id}: {why}\n"));
    }
    for e in &s.listing_errors {
        text.push_str(&format!("not listed: {e}\n"));
    }
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

fn pii(args: &PiiArgs, quiet: bool) -> Result<bool> {
    let s = crowdsift_pipeline::pii(&args.dir, &args.job, &progress::Bar::new(quiet))
        .with_context(|| format!("finding personal data in {}", args.dir.display()))?;
    print_pii(&s)?;
    Ok(StageOutcome::Pii(s).flagged())
}

fn print_pii(s: &crowdsift_pipeline::PiiSummary) -> Result<()> {
    let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
    let doubts: Vec<String> = s.by_doubt.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let mut text = format!(
        "{} photos, {} with personal data ({}) in {:.1} s\n{} to be seen by a person before release ({})\nwrote {} and {}; findings.csv, findings.parquet\n",
        s.photos,
        s.with_pii,
        if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") },
        s.elapsed.as_secs_f64(),
        s.needs_person,
        if doubts.is_empty() { "none".to_owned() } else { doubts.join(", ") },
        s.table.display(),
        s.table.with_file_name(crowdsift_pipeline::HELD_TABLE).display()
    );
    for (file, why) in &s.failed {
        text.push_str(&format!("not read: {file}: {why}\n"));
    }
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

fn redact(args: &RedactArgs, quiet: bool) -> Result<bool> {
    let reg = crowdsift_models::Registry::discover()?;
    let plan = args.job.plan(&reg)?;
    let s = crowdsift_pipeline::redact(&args.dir, &args.job, plan.as_ref(), &progress::Bar::new(quiet))
        .with_context(|| format!("writing release copies of {}", args.dir.display()))?;
    print_redact(&s)?;
    Ok(StageOutcome::Redact(s).flagged())
}

fn print_redact(s: &crowdsift_pipeline::RedactSummary) -> Result<()> {
    let mut text = format!(
        "wrote {} copies ({} regions hidden, style {}), {} already up to date, in {:.1} s\nwrote {}/ and {}\n",
        s.written,
        s.regions,
        s.style.as_str(),
        s.cached,
        s.elapsed.as_secs_f64(),
        s.dir.display(),
        s.table.display()
    );
    for id in &s.residual {
        text.push_str(&format!("still found after redaction (see findings redact_residual): {id}\n"));
    }
    for (file, why) in &s.failed {
        text.push_str(&format!("not written: {file}: {why}\n"));
    }
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

fn report(args: &ReportArgs) -> Result<bool> {
    let s = crowdsift_pipeline::report(&args.dir, crowdsift_core::Limits::default())
        .with_context(|| format!("writing the report of {}", args.dir.display()))?;
    print_report(&s)?;
    Ok(false)
}

fn print_report(s: &crowdsift_pipeline::ReportSummary) -> Result<()> {
    let c = &s.counts;
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(writeln!(
        out,
        "wrote {} ({} photos, {} flagged, {} thumbnails)",
        s.path.display(),
        c.photos,
        c.flagged_photos,
        c.thumbnails
    ))?;
    if let Some(ready) = c.ready {
        let waiting: Vec<String> = c.waiting.iter().map(|(q, n)| format!("{q} {n}")).collect();
        let waiting = if waiting.is_empty() { "none".to_owned() } else { waiting.join(", ") };
        ignore_broken_pipe(writeln!(out, "ready to release: {ready}; waiting for a person: {waiting}"))?;
    }
    Ok(())
}

fn review(args: &ReviewArgs) -> Result<bool> {
    let reviewer = args.reviewer.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "reviewer".into());
    let cfg = crowdsift_review::ReviewConfig {
        out: args.dir.clone(),
        addr: std::net::SocketAddr::new(args.bind, args.port),
        allow_remote: args.allow_remote,
        reviewer,
        limits: crowdsift_core::Limits::default(),
    };
    let server = crowdsift_review::bind(&cfg)?;
    {
        let mut out = std::io::stdout().lock();
        ignore_broken_pipe(writeln!(out, "review {} at {}", args.dir.display(), server.url()))?;
        ignore_broken_pipe(writeln!(
            out,
            "(the token in the URL is the password; stop with Ctrl-C, decisions are saved as they are made)"
        ))?;
        ignore_broken_pipe(out.flush())?;
    }
    server.run()?;
    Ok(false)
}

fn release(args: &ReleaseArgs) -> Result<bool> {
    let s = crowdsift_review::release(&args.dir, &args.job)
        .with_context(|| format!("releasing {} into {}", args.dir.display(), args.job.to.display()))?;
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(writeln!(
        out,
        "released {} photos into {} (manifest.csv, manifest.parquet); {} rejected, {} waiting for review, {} unreadable{}",
        s.released,
        args.job.to.display(),
        s.rejected,
        s.pending.len(),
        s.unreadable,
        if s.removed > 0 { format!(", {} files of the earlier release removed", s.removed) } else { String::new() }
    ))?;
    if !s.held.is_empty() {
        let why: Vec<String> = s.held.iter().map(|(k, n)| format!("{k} {n}")).collect();
        ignore_broken_pipe(writeln!(out, "held back for a person: {}", why.join(", ")))?;
    }
    for (id, why) in s.pending.iter().take(20) {
        ignore_broken_pipe(writeln!(out, "  not released: {id}: {why}"))?;
    }
    if s.pending.len() > 20 {
        ignore_broken_pipe(writeln!(
            out,
            "  … and {} more (crowdsift review {})",
            s.pending.len() - 20,
            args.dir.display()
        ))?;
    }
    for (id, why) in &s.failed {
        ignore_broken_pipe(writeln!(out, "  failed: {id}: {why}"))?;
    }
    Ok(!s.pending.is_empty() || !s.failed.is_empty())
}

fn train(args: &TrainArgs, quiet: bool) -> Result<bool> {
    let job = &args.job;
    let bar = progress::Bar::new(quiet);
    if let Some(k) = args.folds {
        let mut lines = Vec::new();
        let cv = crowdsift_pipeline::cross_validate(&args.dir, job, k, &bar, &mut |f, m| {
            let line = format!(
                "fold {}/{k}: top-1 {:5.1}%  top-5 {:5.1}%  val loss {:.4}  (epoch {})",
                f + 1,
                100.0 * m.val_top1,
                100.0 * m.val_top5,
                m.val_loss,
                m.epoch
            );
            eprintln!("{line}");
            lines.push(line);
        })
        .with_context(|| format!("cross-validating on {}", args.dir.display()))?;
        ignore_broken_pipe(writeln!(
            std::io::stdout().lock(),
            "{}\n{k}-fold cross-validation, {} photos, {} classes: top-1 {:.1}% ± {:.1}%, top-5 {:.1}% in {:.1} s\nfolds: {}",
            lines.join("\n"),
            cv.photos,
            cv.classes,
            100.0 * cv.mean_top1,
            100.0 * cv.sd_top1,
            100.0 * cv.mean_top5,
            cv.seconds,
            cv.folds_csv.display()
        ))?;
        return Ok(false);
    }
    let mut out = std::io::stdout().lock();
    let mut write_err = None;
    let s = crowdsift_pipeline::train(&args.dir, job, &bar, &mut |m| {
        let line = writeln!(
            out,
            "epoch {:>3}/{}  train loss {:.4}  val loss {:.4}  top-1 {:5.1}%  top-5 {:5.1}%  ({:.2} s)",
            m.epoch,
            job.epochs,
            m.train_loss,
            m.val_loss,
            100.0 * m.val_top1,
            100.0 * m.val_top5,
            m.seconds
        );
        if let Err(e) = line
            && write_err.is_none()
        {
            write_err = Some(e);
        }
    })
    .with_context(|| format!("training on {}", args.dir.display()))?;
    if let Some(e) = write_err
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let b = &s.best;
    let res = writeln!(
        out,
        "{} classes, {} training / {} validation photos; best epoch {}: top-1 {:.1}%, top-5 {:.1}%, val loss {:.4}{}\ncheckpoints: {}\ntensorboard: {}",
        s.classes.len(),
        s.train_photos,
        s.val_photos,
        b.epoch,
        100.0 * b.val_top1,
        100.0 * b.val_top5,
        b.val_loss,
        if s.stopped_early { " (stopped early)" } else { "" },
        s.checkpoints.display(),
        s.tensorboard.display()
    )
    .and_then(|()| match &s.features {
        Some(f) => {
            writeln!(out, "features: {} photos computed, {} cached, {} unreadable", f.computed, f.cached, f.failed.len())?;
            f.failed.iter().take(20).try_for_each(|(id, why)| writeln!(out, "not used: {id}: {why}"))
        }
        None => Ok(()),
    });
    if let Err(e) = res
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(false)
}

fn export(args: &ExportArgs) -> Result<bool> {
    let spec = crowdsift_pipeline::export_backbone(&args.head, args.model.as_deref())
        .with_context(|| format!("finding the backbone of {}", args.head.display()))?;
    crowdsift_pipeline::export(&spec, &args.head, &args.out)
        .with_context(|| format!("exporting {} to {}", args.head.display(), args.out.display()))?;
    ignore_broken_pipe(writeln!(
        std::io::stdout().lock(),
        "wrote {} ({} + {}): input `{}` [N, 3, {s}, {s}], output `probs`",
        args.out.display(),
        spec.name,
        args.head.display(),
        spec.input.name,
        s = spec.input.size
    ))?;
    Ok(false)
}

fn audit(args: &AuditArgs, quiet: bool) -> Result<bool> {
    if let Some(src) = &args.src {
        let e = EmbedArgs {
            src: src.clone(),
            out: args.dir.clone(),
            params: crowdsift_pipeline::EmbedParams { model: args.job.model.clone(), ..Default::default() },
        };
        embed(&e, quiet)?;
    }
    let bar = progress::Bar::new(quiet);
    let s = crowdsift_pipeline::audit(&args.dir, &args.job, &bar)
        .with_context(|| format!("auditing {}", args.dir.display()))?;
    print_audit(&s)?;
    Ok(StageOutcome::Audit(s).flagged())
}

fn print_audit(s: &crowdsift_pipeline::AuditSummary) -> Result<()> {
    ignore_broken_pipe(writeln!(
        std::io::stdout().lock(),
        "audited {} labelled photos in {} classes in {:.1} s (out-of-sample accuracy {:.1}%): {} label issues to review, {} outliers, {} off-topic, {} duplicate clusters ({} with conflicting labels)\nwrote {}/labels.csv, classes.csv, summary.json; findings.csv, findings.parquet",
        s.photos,
        s.classes,
        s.seconds,
        100.0 * s.oos_accuracy,
        s.issues,
        s.outliers,
        s.off_topic,
        s.clusters,
        s.conflicts,
        s.dir.display()
    ))
}

/// Prints what a stage of `crowdsift run` did, as its own command prints it.
fn print_outcome(outcome: &StageOutcome) -> Result<()> {
    match outcome {
        StageOutcome::Scan(s) => ignore_broken_pipe(print_summary(s)),
        StageOutcome::Embed(s) => print_embed(s),
        StageOutcome::Audit(s) => print_audit(s),
        StageOutcome::Ocr(s) => print_ocr(s),
        StageOutcome::Pii(s) => print_pii(s),
        StageOutcome::Redact(s) => print_redact(s),
        StageOutcome::Report(s) => print_report(s),
        StageOutcome::Nothing(why) => ignore_broken_pipe(writeln!(std::io::stdout().lock(), "nothing to do: {why}")),
    }
}

fn ignore_broken_pipe(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn predict(args: &PredictArgs, quiet: bool) -> Result<bool> {
    let registry = crowdsift_models::Registry::discover().ok();
    let s = crowdsift_pipeline::predict(
        &args.dir,
        &args.head,
        args.top_k,
        registry.as_ref(),
        cores(),
        &progress::Bar::new(quiet),
    )
    .with_context(|| format!("predicting with {}", args.head.display()))?;
    ignore_broken_pipe(writeln!(
        std::io::stdout().lock(),
        "predicted {} photos; the head agrees with {} of {} given labels ({:.1}%)\nwrote {}",
        s.photos,
        s.agreeing,
        s.labelled,
        100.0 * s.agreeing as f64 / s.labelled.max(1) as f64,
        s.csv.display()
    ))?;
    Ok(false)
}

fn evaluate(args: &EvaluateArgs, quiet: bool) -> Result<bool> {
    let registry = crowdsift_models::Registry::discover().ok();
    let (e, dir) = crowdsift_pipeline::evaluate(
        &args.dir,
        &args.head,
        args.all,
        registry.as_ref(),
        cores(),
        &progress::Bar::new(quiet),
    )
    .with_context(|| format!("evaluating {}", args.head.display()))?;
    let mut out = std::io::stdout().lock();
    let mut text = format!(
        "{} photos ({}): accuracy {:.1}%, top-5 {:.1}%, macro F1 {:.3}, calibration error {:.3}\n",
        e.photos,
        if args.all { "all labelled" } else { "validation split" },
        100.0 * e.accuracy,
        100.0 * e.top5,
        e.macro_f1,
        e.ece
    );
    for m in &e.per_class {
        text.push_str(&format!(
            "  {:<32} n {:>4}  precision {:.2}  recall {:.2}  F1 {:.2}\n",
            m.class, m.support, m.precision, m.recall, m.f1
        ));
    }
    text.push_str(&format!("wrote {0}/metrics.json, per_class.csv, confusion.csv, confusion.svg", dir.display()));
    ignore_broken_pipe(writeln!(out, "{text}"))?;
    Ok(false)
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

/// Runs one command; `Ok(true)` when it flagged something (exit code 1).
fn dispatch(command: &Command, quiet: bool) -> Result<bool> {
    match command {
        Command::Run(args) => run::run(args, quiet),
        Command::Scan(args) => scan(args, quiet).and_then(|s| {
            ignore_broken_pipe(print_summary(&s))?;
            Ok(StageOutcome::Scan(s).flagged())
        }),
        Command::Embed(args) => embed(args, quiet),
        Command::Train(args) => train(args, quiet),
        Command::Predict(args) => predict(args, quiet),
        Command::Evaluate(args) => evaluate(args, quiet),
        Command::Export(args) => export(args),
        Command::Audit(args) => audit(args, quiet),
        Command::Ocr(args) => ocr(args, quiet),
        Command::Pii(args) => pii(args, quiet),
        Command::Redact(args) => redact(args, quiet),
        Command::Report(args) => report(args),
        Command::Review(args) => review(args),
        Command::Release(args) => release(args),
    }
}

/// Large blocks (a 12 MP photo is 36 MB, a detector's feature maps tens of MB) come from glibc's
/// heap and are kept for the next photo instead of being mapped and unmapped each time: every
/// fresh mapping page-faults its way in, zeroed by the kernel. Measured on 50 photos of 12 MP
/// (`crowdsift ocr`, two workers, three runs each): system time 2.5 → 1.25 s, wall 15.9 → 15.3 s,
/// peak RSS unchanged (1.36 GB; freed space over 64 MiB at the heap's top is still returned).
/// Most of those blocks are ONNX Runtime's, so a Rust allocator would not reach them; glibc's
/// own settings do.
#[allow(unsafe_code)] // mallopt, before any thread allocates
fn keep_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's thresholds; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[allow(unsafe_code)] // set_var, while this is the only thread (see below)
fn main() -> ExitCode {
    // Tesseract's OpenMP threads spin against our worker threads: with them capped at one per
    // worker, OCR with Tesseract runs 1.36× faster on one core (48.4 → 35.7 s on the generated
    // set) and sheds the spin time. libgomp reads the cap when libtesseract is loaded, so it is
    // set now, before any thread exists, unless the user chose a value.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        // SAFETY: no other thread has been started yet, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
    }
    keep_large_blocks();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match dispatch(&cli.command, cli.quiet) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("crowdsift: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
