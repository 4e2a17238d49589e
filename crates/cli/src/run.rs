//! `crowdsift run SRC --out DIR`: every stage of the engine's pipeline
//! ([`crowdsift_pipeline::stages::PIPELINE`]) with its defaults, in order; each stage's summary is
//! printed as its own command prints it, and a summary of the run at the end. A stage that cannot
//! run is reported and the stages that need it are skipped; the others go on.

use std::io::Write;

use anyhow::{Context, Result, bail};
use crowdsift_cli::args::RunArgs;
use crowdsift_pipeline::stages::{self, Outcome, StageOutcome};

use crate::{ignore_broken_pipe, print_outcome, progress};

pub(crate) fn run(args: &RunArgs, quiet: bool) -> Result<bool> {
    let bar = progress::Bar::new(quiet);
    let mut printed = Ok(());
    let outcomes = stages::run(&args.src, &args.out, &args.job, &bar, &mut |stage, outcome| {
        let line = match outcome {
            None => ignore_broken_pipe(writeln!(std::io::stdout().lock(), "\n== {} ==", stage.name)),
            Some(Outcome::Done(done)) => print_outcome(done),
            Some(_) => Ok(()),
        };
        if printed.is_ok() {
            printed = line;
        }
    })
    .with_context(|| format!("scanning {} into {}", args.src, args.out.display()))?;
    printed?;
    let mut text = String::from("\n== summary ==\n");
    for (name, o) in &outcomes {
        let line = match o {
            Outcome::Done(StageOutcome::Nothing(why)) => format!("skipped ({why})"),
            Outcome::Done(done) => format!("done: {}", done.found()),
            Outcome::Skipped(why) => format!("skipped ({why})"),
            Outcome::Failed(why) => format!("did not run: {why}"),
        };
        text.push_str(&format!("{name:<7} {line}\n"));
    }
    let d = args.out.display();
    text.push_str(&format!(
        "report: {d}/report.html; findings: {d}/findings.csv, {d}/findings.parquet; store: {d}/crowdsift.db; release copies: {d}/redacted/\n\
         next: `crowdsift review {d}` to decide what was flagged, then `crowdsift release {d} --to RELEASE_DIR`\n"
    ));
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))?;
    let failed: Vec<&str> =
        outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Failed(_))).map(|(name, _)| *name).collect();
    if !failed.is_empty() {
        bail!("{} did not run (see the summary)", failed.join(", "));
    }
    Ok(outcomes.iter().any(|(_, o)| o.flagged()))
}
