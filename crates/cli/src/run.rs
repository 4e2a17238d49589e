//! `crowdsift run SRC --out DIR`: every stage with its defaults, in pipeline order (scan, embed,
//! audit, ocr, pii, redact, report), each as its
//! own command would run it (the same arguments parsed the same way, so defaults cannot drift).
//! A stage that cannot run is reported and the stages that need it are skipped; the others go on.

use std::io::Write;

use anyhow::{Result, bail};
use crowdsift_cli::args::RunArgs;

use crate::{dispatch, ignore_broken_pipe};

/// What became of a stage.
enum Outcome {
    Done { flagged: bool },
    Skipped(String),
    Failed(String),
}

/// A stage: its name, the stage it needs, its command line after `crowdsift`.
struct Stage {
    name: &'static str,
    needs: Option<&'static str>,
    argv: Vec<String>,
}

fn stages(args: &RunArgs) -> Vec<Stage> {
    let (src, out) = (args.src.clone(), args.out.display().to_string());
    let jobs: Vec<String> = args.jobs.map(|j| vec!["--jobs".into(), j.to_string()]).unwrap_or_default();
    let with = |mut v: Vec<String>, extra: &[String]| {
        v.extend_from_slice(extra);
        v
    };
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    let model = ["--model".to_owned(), args.model.clone()];
    vec![
        Stage { name: "scan", needs: None, argv: with(s(&["scan", &src, "--out", &out]), &jobs) },
        Stage {
            name: "embed",
            needs: Some("scan"),
            argv: with(s(&["embed", &src, "--out", &out]), &[&jobs[..], &model[..]].concat()),
        },
        Stage { name: "audit", needs: Some("embed"), argv: with(s(&["audit", &out]), &model) },
        Stage { name: "ocr", needs: Some("scan"), argv: with(s(&["ocr", &src, "--out", &out]), &jobs) },
        Stage { name: "pii", needs: Some("ocr"), argv: s(&["pii", &out]) },
        Stage { name: "redact", needs: Some("pii"), argv: with(s(&["redact", &out]), &jobs) },
        Stage { name: "report", needs: Some("scan"), argv: s(&["report", &out]) },
    ]
}

pub(crate) fn run(args: &RunArgs, quiet: bool) -> Result<bool> {
    let mut outcomes: Vec<(&'static str, Outcome)> = Vec::new();
    for stage in stages(args) {
        let failed_need = stage.needs.and_then(|n| {
            outcomes.iter().find(|(name, o)| *name == n && !matches!(o, Outcome::Done { .. })).map(|(name, _)| *name)
        });
        let outcome = if args.skip.iter().any(|s| s == stage.name) {
            Outcome::Skipped("--skip".into())
        } else if let Some(need) = failed_need {
            Outcome::Skipped(format!("needs {need}"))
        } else {
            ignore_broken_pipe(writeln!(std::io::stdout().lock(), "\n== {} ==", stage.name))?;
            let argv = std::iter::once("crowdsift".to_owned()).chain(stage.argv.iter().cloned());
            let command = crowdsift_cli::parse(argv)?;
            match dispatch(&command, quiet) {
                Ok(flagged) => Outcome::Done { flagged },
                // Without a photo decoded, later stages have nothing to work on.
                Err(e) if stage.name == "scan" => return Err(e),
                Err(e) => Outcome::Failed(format!("{e:#}")),
            }
        };
        outcomes.push((stage.name, outcome));
    }
    let mut text = String::from("\n== summary ==\n");
    for (name, o) in &outcomes {
        let line = match o {
            Outcome::Done { flagged: true } => "done; photos flagged or not read (see its lines above)".to_owned(),
            Outcome::Done { flagged: false } => "done".to_owned(),
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
    Ok(outcomes.iter().any(|(_, o)| matches!(o, Outcome::Done { flagged: true })))
}
