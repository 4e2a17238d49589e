//! `crowdsift run`: every stage on the bundled sample photos in one command, resumed by a second
//! run, and stages left out with what needs them.

use crate::util::*;

#[test]
fn run_does_every_stage_on_the_samples_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = root().join("samples/manifest.csv");
    let first =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    // Flagged photos (the samples hold a truncated, a blurred, a dark one …): exit code 1.
    assert_eq!(first.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    for stage in ["scan", "embed", "audit", "ocr", "pii", "redact"] {
        assert!(stdout.contains(&format!("== {stage} ==")), "{stage}: {stdout}");
        let line = stdout.lines().rev().find(|l| l.starts_with(stage)).unwrap();
        assert!(line.split_whitespace().nth(1).unwrap().starts_with("done"), "{line}");
    }
    // Each stage's outputs, in the one findings table.
    let rows = read_findings(&out);
    for stage in ["quality", "ingest", "audit", "ocr", "pii", "redact"] {
        assert!(rows.iter().any(|r| r.stage == stage), "no {stage} rows");
    }
    assert_eq!(std::fs::read_dir(out.join("redacted")).unwrap().count(), 13, "a copy of every decodable photo");
    // The three portraits' faces are hidden in their copies.
    let faces = rows.iter().filter(|r| r.check == "face").count();
    assert_eq!(faces, 3, "{rows:?}");

    let again =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(stdout.contains("14 already done by an earlier run"), "{stdout}");
    assert!(stdout.contains("13 already embedded"), "{stdout}");
    assert!(stdout.contains("13 already read"), "{stdout}");
    assert!(stdout.contains("wrote 0 copies (0 regions hidden, style blur), 13 already up to date"), "{stdout}");
}

#[test]
fn skipped_stages_take_what_needs_them_along() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = root().join("samples/manifest.csv");
    let res = crowdsift()
        .args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--skip", "embed,ocr", "-q"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert_eq!(res.status.code(), Some(1), "{stdout}");
    for (stage, why) in [
        ("embed", "--skip"),
        ("audit", "needs embed"),
        ("ocr", "--skip"),
        ("pii", "needs ocr"),
        ("redact", "needs pii"),
    ] {
        let line = stdout.lines().rev().find(|l| l.starts_with(stage)).unwrap();
        assert!(line.contains(&format!("skipped ({why})")), "{line}");
    }
    assert!(!out.join("redacted").exists());
}
