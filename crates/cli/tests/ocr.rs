//! `crowdsift ocr` on ../shared/data/ocr-dev: ocr_lines.parquet with the known lines, findings of
//! stage `ocr`, overlays and per-photo JSON on request, originals untouched, and a second run
//! reads nothing again; `pii` after it reads the store and writes pii.parquet.

use std::collections::BTreeMap;

use crate::util::*;

#[test]
fn ocr_writes_lines_findings_and_overlays_and_caches_by_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let src = shared().join("data/ocr-dev");
    let before = tree_digests(&src);
    let first = run_ok(crowdsift().args([
        "ocr",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--debug-overlay",
        "--debug-json",
        "-q",
    ]));
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(stdout.contains("read 4 photos"), "{stdout}");
    assert_eq!(tree_digests(&src), before, "originals changed");

    let gt: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(src.join("gt.json")).unwrap()).unwrap();
    let name = |uri: &serde_json::Value| {
        std::path::Path::new(uri.as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned()
    };
    let table = read_table(&out.join("ocr_lines.parquet"));
    let mut lines: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for row in &table {
        if row["read"] == true {
            lines.entry(name(&row["uri"])).or_default().push(row);
        }
    }
    assert_eq!(lines.keys().collect::<Vec<_>>(), gt.keys().collect::<Vec<_>>());
    for (name, truth) in &gt {
        let rows = &lines[name];
        let index: Vec<i64> = rows.iter().map(|r| r["line"].as_i64().unwrap()).collect();
        assert_eq!(index, (0..rows.len() as i64).collect::<Vec<_>>(), "{name}: lines in reading order");
        let texts: Vec<String> = rows.iter().map(|l| l["text"].as_str().unwrap().to_owned()).collect();
        for (t, (_, cer)) in truth.iter().zip(crowdsift_ocr::eval::match_lines(&texts, truth)) {
            assert!(cer <= 0.1, "{name}: {t:?} read as {texts:?} (CER {cer:.3})");
        }
        let quad = rows[0]["quad"].as_array().unwrap();
        assert_eq!((quad.len(), quad[0].as_array().unwrap().len()), (4, 2), "{:?}", rows[0]);
        assert!(rows.iter().all(|r| r["engine"] == "ppocrv5" && r["confidence"].as_f64().unwrap() > 0.5), "{rows:?}");
    }
    // The per-photo JSON asked for holds the same lines as the table.
    let mut docs = 0;
    for e in std::fs::read_dir(out.join("ocr")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let texts: Vec<&str> =
                doc["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
            let table: Vec<&str> = lines[&name(&doc["uri"])].iter().map(|r| r["text"].as_str().unwrap()).collect();
            assert_eq!(texts, table);
            assert!(doc["width"].as_u64().unwrap() > 0 && doc["engine"].as_str().unwrap().starts_with("ppocrv5:"));
            docs += 1;
        }
    }
    assert_eq!(docs, 4);
    let overlays = std::fs::read_dir(out.join("ocr/overlay")).unwrap().count();
    assert_eq!(overlays, 4);

    // Findings: one `text` row per photo with the lines joined.
    let rows = read_findings(&out);
    let text: Vec<&Row> = rows.iter().filter(|r| r.check == "text").collect();
    assert_eq!(text.len(), 4);
    assert!(text.iter().any(|r| r.detail.contains("anna.schmidt@example.com") && r.score >= Some(4.0)), "{text:?}");

    let again = run_ok(crowdsift().args(["ocr", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(stdout.contains("read 0 photos") && stdout.contains("4 already read"), "{stdout}");
}

/// A manifest's `lang` column is the photo's language hint: what is read depends on it, so the
/// cache holds each (photo, languages) once — the same hint is answered from the store, another
/// hint reads the photo again — and every line records its script and engine.
#[test]
fn manifest_languages_are_hints_and_part_of_the_cache_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let photo = shared().join("data/ocr-dev/receipt_cabbage.jpg");
    let manifest = tmp.path().join("m.csv");
    let run = |lang: &str| {
        std::fs::write(&manifest, format!("obs_uid,label,uri,lang\nr1,receipt,{},\"{lang}\"\n", photo.display()))
            .unwrap();
        let (m, o) = (manifest.to_str().unwrap(), out.to_str().unwrap());
        let res = run_ok(crowdsift().args(["ocr", m, "--out", o, "--debug-json", "-q"]));
        String::from_utf8_lossy(&res.stdout).to_string()
    };
    let first = run("deu");
    assert!(first.contains("read 1 photos"), "{first}");
    let same = run("deu");
    assert!(same.contains("read 0 photos") && same.contains("1 already read"), "{same}");
    let other = run("ben,eng");
    assert!(other.contains("read 1 photos"), "{other}");
    let doc = std::fs::read_dir(out.join("ocr"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(doc).unwrap()).unwrap();
    assert!(doc["engine"].as_str().unwrap().ends_with("|lang=ben,eng"), "{doc}");
    let lines = doc["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["text"].as_str().unwrap().contains("anna.schmidt@example.com")), "{doc}");
    assert!(
        lines.iter().all(|l| !l["script"].as_str().unwrap().is_empty() && !l["engine"].as_str().unwrap().is_empty())
    );
}

/// `ocr` then `pii` on ocr-dev plus scikit-image's astronaut portrait: the receipt's phone number
/// and e-mail address are found with their regions; the portrait's face is found; the other photos
/// (prices, a shelf label, a sign) hold none. Values appear only masked.
#[test]
fn pii_after_ocr_finds_the_receipts_phone_and_email_and_a_face() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let src = tmp.path().join("photos");
    std::fs::create_dir_all(&src).unwrap();
    for e in std::fs::read_dir(shared().join("data/ocr-dev")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jpg") {
            std::fs::copy(&p, src.join(p.file_name().unwrap())).unwrap();
        }
    }
    let script = "import sys\nfrom skimage import data\nfrom PIL import Image\nImage.fromarray(data.astronaut()).save(sys.argv[1])";
    let made =
        std::process::Command::new("python3").args(["-c", script]).arg(src.join("astronaut.png")).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    run_ok(crowdsift().args(["ocr", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    let res = run_ok(crowdsift().args(["pii", out.to_str().unwrap(), "-q"]));
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    assert!(stdout.contains("5 photos, 2 with personal data"), "{stdout}");
    let found = read_table(&out.join("pii.parquet"));
    let of = |n: &str| -> Vec<&serde_json::Value> {
        found.iter().filter(|f| f["uri"].as_str().unwrap().ends_with(n)).collect()
    };
    let receipt = of("receipt_cabbage.jpg");
    let kinds: Vec<&str> = receipt.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"phone") && kinds.contains(&"email"), "{receipt:?}");
    assert!(receipt.iter().all(|f| f["line"].is_i64() || f["kind"] == "face"), "{receipt:?}");
    let text = serde_json::to_string(&found).unwrap();
    assert!(!text.contains("1234567") && !text.contains("anna.schmidt@"), "values must be masked: {text}");
    let faces: Vec<&serde_json::Value> = of("astronaut.png").into_iter().filter(|f| f["kind"] == "face").collect();
    assert_eq!(faces.len(), 1, "{found:?}");
    assert_eq!(faces[0]["line"], serde_json::Value::Null);
    let ids: std::collections::BTreeSet<&str> = found.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "the two photos with personal data, and no other: {ids:?}");
    assert!(!out.join("pii").exists(), "per-photo JSON only when asked for");
    let rows = read_findings(&out);
    let flagged: Vec<&Row> = rows.iter().filter(|r| r.check == "pii" && r.flagged).collect();
    assert_eq!(flagged.len(), 2, "{rows:?}");
    assert!(rows.iter().any(|r| r.check == "phone" && r.flagged), "{rows:?}");
    assert!(rows.iter().any(|r| r.check == "face" && r.flagged), "{rows:?}");

    // A photo replaced after `ocr` read it is not searched for faces against stale text boxes.
    std::fs::copy(src.join("tag_tomato.jpg"), src.join("astronaut.png")).unwrap();
    let again = crowdsift().args(["pii", out.to_str().unwrap(), "-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert_eq!(again.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("changed since `ocr` read it"), "{stdout}");
}
