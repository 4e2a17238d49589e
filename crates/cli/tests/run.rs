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

/// report.html after `run` on the samples: every section, the counts of the store, thumbnails
/// embedded, nothing fetched from anywhere.
#[test]
fn report_shows_what_the_store_holds_in_one_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = root().join("samples/manifest.csv");
    let res =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", String::from_utf8_lossy(&res.stdout));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for section in ["next", "summary", "stages", "findings", "galleries", "histograms", "labels", "pii", "runs"] {
        assert!(html.contains(&format!("<section id=\"{section}\">")), "{section}");
    }
    // Every stage of the pipeline with the status of its run.
    for stage in ["scan", "embed", "audit", "ocr", "pii", "redact"] {
        let row = html.split(&format!("<tr data-stage=\"{stage}\">")).nth(1).unwrap_or_else(|| panic!("{stage}"));
        let row = row.split("</tr>").next().unwrap();
        assert!(row.contains("<td class=\"status\">done</td>"), "{stage}: {row}");
    }
    let count = |key: &str| -> u64 {
        let at = html.find(&format!("data-{key}\">")).unwrap_or_else(|| panic!("{key}")) + key.len() + 7;
        html[at..].split('<').next().unwrap().split_whitespace().next().unwrap().parse().unwrap()
    };
    let rows = read_findings(&out);
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let flagged: std::collections::HashSet<&str> = rows.iter().filter(|r| r.flagged).map(|r| r.id.as_str()).collect();
    assert_eq!(count("count=\"photos"), ids.len() as u64);
    assert_eq!(count("count=\"flagged_photos"), flagged.len() as u64);
    for (stage, check) in [("quality", "blur"), ("quality", "dark"), ("audit", "label_issue"), ("pii", "face")] {
        let n = rows.iter().filter(|r| r.stage == stage && r.check == check && r.flagged).count() as u64;
        assert_eq!(count(&format!("flagged=\"{stage}:{check}")), n, "{stage}:{check}");
    }
    // The first screen says what `release` does now: as many photos ready as it then releases,
    // and as many waiting in each queue as it holds back for that queue.
    assert!(html.find("<section id=\"next\">") < html.find("<section id=\"summary\">"), "the first screen");
    let rel = tmp.path().join("release");
    let res = crowdsift().args(["release", out.to_str().unwrap(), "--to", rel.to_str().unwrap()]).output().unwrap();
    let said = String::from_utf8_lossy(&res.stdout);
    assert_eq!(res.status.code(), Some(1), "photos wait for review: {said}");
    let released: u64 = said.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{said}"));
    assert!(released > 0, "{said}");
    assert_eq!(count("count=\"ready"), released, "{said}");
    let held =
        said.lines().find_map(|l| l.strip_prefix("held back for a person: ")).unwrap_or_else(|| panic!("{said}"));
    let mut queues = 0;
    for (queue, n) in held.split(", ").filter_map(|h| h.rsplit_once(' ')).filter(|(q, _)| !q.starts_with("pii")) {
        assert_eq!(count(&format!("waiting=\"{queue}")), n.parse::<u64>().unwrap(), "{queue}: {said}");
        queues += 1;
    }
    assert!(queues >= 2, "the samples hold unusable photos and duplicates: {said}");
    assert!(html.contains("<code>crowdsift review "), "the command that opens the queues");

    // One self-contained file: pictures are data URIs, no scripts, nothing to fetch.
    assert!(html.matches("<img src=\"data:image/jpeg;base64,").count() >= 8);
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"));
    assert!(html.matches("<svg").count() >= 8, "a histogram per quality check and the confusion of labels");
    // The portraits hold faces: the galleries show them only from their redacted copies.
    assert!(html.contains("3 photos with personal data"));

    // Opened in headless Chromium (Debian `chromium`, scripts/setup.sh --test): it renders and
    // logs nothing from the page's console.
    let shot = tmp.path().join("report.png");
    let page = format!("file://{}", out.join("report.html").display());
    let chrome = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--window-size=1280,4000", &format!("--screenshot={}", shot.display()), &page])
        .output()
        .expect("chromium runs (scripts/setup.sh --test installs it)");
    let log = String::from_utf8_lossy(&chrome.stderr);
    assert!(chrome.status.success(), "{log}");
    assert!(!log.contains(":CONSOLE"), "console messages: {log}");
    let png = image::open(&shot).expect("a screenshot");
    assert_eq!((png.width(), png.height()), (1280, 4000));
    // Not a blank page: the thumbnails and plots put colour on it.
    let rgb = png.to_rgb8();
    let coloured = rgb.pixels().filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 40).count();
    assert!(coloured > 50_000, "{coloured} coloured pixels");
    if let Some(dir) = screenshots() {
        // The first screen, for the README.
        let shot = dir.join("report.png");
        let chrome = std::process::Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,900"])
            .args([&format!("--screenshot={}", shot.display()), &page])
            .output()
            .unwrap();
        assert!(chrome.status.success() && shot.is_file(), "{}", String::from_utf8_lossy(&chrome.stderr));
    }
}

#[test]
fn report_without_results_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let res = crowdsift().args(["report", tmp.path().to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(res.status.code(), Some(2), "{res:?}");
    assert!(String::from_utf8_lossy(&res.stderr).contains("run `crowdsift scan SRC --out"), "{res:?}");
    assert!(!tmp.path().join("report.html").exists());
}

/// Photos without labels (a plain folder) are not an error: the audit has nothing to do and says
/// so, the other stages run, and the exit code is that of any run.
#[test]
fn photos_without_labels_skip_the_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["coffee.jpg", "chelsea.jpg", "rocket.jpg"] {
        std::fs::copy(root().join("samples/photos").join(name), photos.join(name)).unwrap();
    }
    let out = tmp.path().join("out");
    let res = run_ok(crowdsift().args([
        "run",
        photos.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--skip",
        "ocr",
        "-q",
    ]));
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    let line = stdout.lines().rev().find(|l| l.starts_with("audit")).unwrap();
    assert!(line.contains("skipped (no labels)"), "{line}");
    let line = stdout.lines().rev().find(|l| l.starts_with("embed")).unwrap();
    assert!(line.split_whitespace().nth(1).unwrap().starts_with("done"), "{line}");
    let bad = crowdsift()
        .args(["run", photos.to_str().unwrap(), "--out", out.to_str().unwrap(), "--skip", "scan"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "scan cannot be skipped");
}
