//! `crowdsift run`: every stage on the bundled sample photos in one command, resumed by a second
//! run, and stages left out with what needs them.

use crate::util::*;

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

/// A manifest row without a photo is not lost in the output: the scan's summary line counts it.
#[test]
fn rows_that_cannot_be_listed_are_counted_in_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = root().join("tests/data/wheel_photos/photos");
    let manifest = tmp.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!("obs_uid,label,uri\nA1,coffee,{}\nA2,coffee,\n", photos.join("coffee.jpg").display()),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let res = crowdsift()
        .args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--skip", "embed,ocr", "-q"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert!(stdout.contains("row 2 (obs_uid A2) has no uri"), "{stdout}");
    let line = stdout.lines().rev().find(|l| l.starts_with("scan")).unwrap();
    assert_eq!(line, "scan    done: 1 photos, 0 flagged; 1 not listed", "{stdout}");
}

/// The demo (`bash scripts/demo.sh`): `run` on the bundled samples finds at every stage what the
/// samples plant for it (samples/LICENSES.md), report.html shows each with the counts of the
/// store, self-contained, its first screen agrees with `release`, and a second run resumes.
#[test]
fn the_demo_finds_something_at_every_stage_and_the_report_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = root().join("samples/manifest.csv");
    let res =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert_eq!(res.status.code(), Some(1), "photos flagged: {stdout}\n{}", String::from_utf8_lossy(&res.stderr));
    // The summary says per stage what it found.
    for (stage, found) in [
        (
            "scan",
            "23 photos, 6 flagged (blur 1, dark 1, exact_duplicate 2, low_information 1, too_small 1, truncated 1)",
        ),
        ("embed", "22 photos embedded with efficientnet-lite0; 1 not read"),
        ("audit", "22 photos in 6 classes:"),
        ("ocr", " text lines on 22 photos; 1 not read"),
        ("pii", "photos with personal data (person_name 1, phone "),
        ("redact", "22 release copies written ("),
    ] {
        let line = stdout.lines().rev().find(|l| l.starts_with(stage)).unwrap();
        assert!(line.split_whitespace().nth(1) == Some("done:") && line.contains(found), "{stage}: {line}");
    }

    // What each photo was made for (samples/LICENSES.md), found by the check that is for it.
    let rows = read_findings(&out);
    // File name → obs_uid, from the manifest.
    let ids: std::collections::HashMap<String, String> = csv::Reader::from_path(&manifest)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[2].trim_start_matches("photos/").to_owned(), r[0].to_owned())
        })
        .collect();
    let id = |file: &str| -> String { ids[file].clone() };
    let flagged = |file: &str, check: &str| -> Vec<&Row> {
        let id = id(file);
        rows.iter().filter(|r| r.id == id && r.check == check && r.flagged).collect()
    };
    for (file, check) in [
        ("figs_blurred.jpg", "blur"),
        ("coffee_dark.jpg", "dark"),
        ("cups_thumbnail.jpg", "too_small"),
        ("flowers_cut_off.jpg", "decode"),
        ("wine_2_sent_again.jpg", "exact_duplicate"),
        ("cups_2_as_coffee.jpg", "exact_duplicate"),
        ("figs_as_wine.jpg", "label_issue"),
        ("cups_2.jpg", "label_conflict"),
        ("cups_2_as_coffee.jpg", "label_conflict"),
        ("figs_2_note.jpg", "person_name"),
        ("figs_2_note.jpg", "phone"),
        ("figs_2_note.jpg", "handwriting"),
        ("newspaper_1.jpg", "face"),
        ("newspaper_2.jpg", "face"),
    ] {
        assert_eq!(flagged(file, check).len(), 1, "{file}: {check}");
    }
    assert!(flagged("figs_as_wine.jpg", "label_issue")[0].detail.contains("labelled wine, likely figs"));
    let issues: Vec<&str> =
        rows.iter().filter(|r| r.check == "label_issue" && r.flagged).map(|r| r.id.as_str()).collect();
    assert!(issues.len() <= 3, "the label issues are the figs labelled wine and the copy with two labels: {issues:?}");
    // The price tags are read, in their languages; so is the handwritten note.
    let text = |file: &str| {
        let id = id(file);
        rows.iter().find(|r| r.id == id && r.stage == "ocr" && r.check == "text").map(|r| r.detail.clone())
    };
    for (file, words) in [
        ("figs_1.jpg", "Higos frescos"),
        ("wine_2.jpg", "Vinho tinto seco 750 ml"),
        ("cups_1.jpg", "Vasos desechables 50 pzas"),
        ("figs_2_note.jpg", "98877-6655"),
    ] {
        assert!(text(file).is_some_and(|t| t.contains(words)), "{file}: {:?}", text(file));
    }
    // Every decodable photo has a release copy; those of the note and the newspapers hide regions
    // (the note's name and number, the faces).
    assert_eq!(std::fs::read_dir(out.join("redacted")).unwrap().count(), 22, "a copy of every decodable photo");
    for file in ["figs_2_note.jpg", "newspaper_1.jpg", "newspaper_2.jpg"] {
        let id = id(file);
        let hidden = rows.iter().find(|r| r.id == id && r.check == "redacted").and_then(|r| r.score);
        assert!(hidden.is_some_and(|n| n >= 1.0), "{file}: {hidden:?}");
    }

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
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let flagged_ids: std::collections::HashSet<&str> =
        rows.iter().filter(|r| r.flagged).map(|r| r.id.as_str()).collect();
    assert_eq!(count("count=\"photos"), ids.len() as u64);
    assert_eq!(count("count=\"flagged_photos"), flagged_ids.len() as u64);
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
    // Photos with personal data: the galleries show them only from their redacted copies.
    let with_pii = rows.iter().filter(|r| r.check == "pii" && r.flagged).count();
    assert!(html.contains(&format!("{with_pii} photos with personal data")), "{with_pii}");

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

    // Run again: nothing is done twice.
    let again =
        crowdsift().args(["run", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    for done in [
        "23 already done by an earlier run",
        "22 already embedded",
        "22 already read",
        "wrote 0 copies (0 regions hidden, style blur), 22 already up to date",
    ] {
        assert!(stdout.contains(done), "{done}: {stdout}");
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
        std::fs::copy(root().join("tests/data/wheel_photos/photos").join(name), photos.join(name)).unwrap();
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
