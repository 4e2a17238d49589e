//! Label audit on ifct-dev: injected label noise is found at measured precision and recall floors,
//! clean labels give few flags, duplicates planted with different labels are reported, and a
//! group of near-identical off-topic photos sent with item labels is set apart as off-topic.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::util::*;

/// One row of audit/labels.csv: id → (label_issue, suggested, label_conflict, outlier).
fn audited(out: &Path) -> HashMap<String, (bool, String, bool, bool)> {
    let mut rdr = csv::Reader::from_path(out.join("audit/labels.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (issue, suggested, conflict, outlier) =
        (col("label_issue"), col("suggested"), col("label_conflict"), col("outlier"));
    rdr.records()
        .map(Result::unwrap)
        .map(|r| {
            (r[0].to_owned(), (&r[issue] == "1", r[suggested].to_owned(), &r[conflict] == "1", &r[outlier] == "1"))
        })
        .collect()
}

/// Replaces the labels of a seeded `rate` share of the photos (one photo per byte-identical group)
/// with another class: uniformly, or always the next class (class-conditional). Returns the ids
/// changed and their true labels.
fn inject_noise(out: &Path, rate: f64, conditional: bool, seed: u64) -> HashMap<String, String> {
    let conn = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let mut st = conn.prepare("SELECT id, label, sha256 FROM images ORDER BY id").unwrap();
    let rows: Vec<(String, String, String)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    let classes: Vec<String> =
        rows.iter().map(|r| r.1.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut state = seed;
    let mut seen = HashSet::new();
    let mut changed = HashMap::new();
    for (id, label, sha) in &rows {
        let u = (crowdsift_core::rng::splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        let pick = crowdsift_core::rng::splitmix(&mut state) as usize;
        if u >= rate || !seen.insert(sha.clone()) {
            continue;
        }
        let k = classes.iter().position(|c| c == label).unwrap();
        let to =
            if conditional { (k + 1) % classes.len() } else { (k + 1 + pick % (classes.len() - 1)) % classes.len() };
        conn.execute("UPDATE images SET label = ?1 WHERE id = ?2", [&classes[to], id]).unwrap();
        changed.insert(id.clone(), label.clone());
    }
    changed
}

fn precision_recall(found: &HashSet<String>, truth: &HashSet<String>) -> (f64, f64) {
    let hit = found.intersection(truth).count() as f64;
    (hit / found.len().max(1) as f64, hit / truth.len().max(1) as f64)
}

#[test]
fn injected_label_noise_is_found_and_clean_labels_mostly_pass() {
    let (_tmp, out) = embedded_ifct_dev();
    let dir = out.to_str().unwrap();

    // Clean labels: ifct-dev's own labels. Its 12 food groups are often confusable (out-of-sample
    // accuracy 67%), so confident learning alone flags 64 photos, as many as cleanlab on
    // LogisticRegression probabilities; the floor (a label's probability below half of chance)
    // keeps 9 (5 more are set apart as off-topic: close-ups of grain and seeds), at most 5 % is
    // the target (bench/results/audit_vs_cleanlab.md).
    let res = run_ok(crowdsift().args(["audit", dir]));
    let text = String::from_utf8_lossy(&res.stdout).into_owned();
    eprintln!("clean: {text}");
    let clean = audited(&out);
    assert_eq!(clean.len(), 245);
    let clean_flags = clean.values().filter(|v| v.0).count();
    assert!(clean_flags <= 12, "{clean_flags} of 245 clean photos flagged");
    assert!(clean.values().all(|v| !v.2), "no clean duplicate carries another label");
    let findings = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    assert!(findings.contains(",audit,label_issue,") && findings.contains(",audit,outlier,"));

    // Floors below what was measured with seed 7 (printed: 0.56/0.54, 0.48/0.54, systematic
    // 0.35/0.30); the benchmark's means over five seeds: 10 %: precision 0.47, recall 0.71;
    // 20 %: 0.61, 0.66. Systematic relabelling (always the next class) is found less than by
    // confident learning alone (recall 0.31 against 0.82 at 20 %, `--issue-floor 1000`): the model
    // learns a systematic error, and the label's probability stays above the floor.
    for (rate, conditional, min_p, min_r) in
        [(0.1, false, 0.45, 0.45), (0.2, false, 0.4, 0.45), (0.2, true, 0.25, 0.25)]
    {
        // Restore the clean labels, then inject.
        let conn = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
        let manifest = shared().join("data/ifct-dev/manifest.csv");
        let mut rdr = csv::Reader::from_path(&manifest).unwrap();
        for r in rdr.records().map(Result::unwrap) {
            conn.execute("UPDATE images SET label = ?1 WHERE id = ?2", [&r[1], &r[0]]).unwrap();
        }
        drop(conn);
        let truth_labels = inject_noise(&out, rate, conditional, 7);
        let truth: HashSet<String> = truth_labels.keys().cloned().collect();
        run_ok(crowdsift().args(["audit", dir]));
        let got = audited(&out);
        let found: HashSet<String> = got.iter().filter(|(_, v)| v.0).map(|(k, _)| k.clone()).collect();
        let (p, r) = precision_recall(&found, &truth);
        let fixed = truth.intersection(&found).filter(|id| got[*id].1 == truth_labels[*id]).count();
        eprintln!(
            "noise {rate} conditional {conditional}: {} injected, {} flagged, precision {p:.3}, recall {r:.3}, suggested label right for {fixed} of the found",
            truth.len(),
            found.len()
        );
        assert!(p >= min_p && r >= min_r, "rate {rate} conditional {conditional}: precision {p:.3} recall {r:.3}");
    }
}

#[test]
fn duplicates_planted_with_other_labels_are_conflicts() {
    let tmp = tempfile::tempdir().unwrap();
    let src = shared().join("data/ifct-dev");
    // The manifest with absolute uris, plus a byte-identical copy and a re-encoded, slightly
    // resized copy of two photos, each under another label.
    let mut rdr = csv::Reader::from_path(src.join("manifest.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let (a, b) = (&rows[0], &rows[100]);
    assert_ne!(&a[1], &b[1]);
    std::fs::copy(src.join(&a[2]), tmp.path().join("copy.jpeg")).unwrap();
    let script = format!(
        "from PIL import Image; im = Image.open({:?}).convert('RGB'); im.resize((int(im.width * .9), int(im.height * .9)), Image.BICUBIC).save({:?}, quality=80)",
        src.join(&b[2]),
        tmp.path().join("reencoded.jpeg")
    );
    let py = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let mut text = String::from("obs_uid,label,uri\n");
    for r in &rows {
        text.push_str(&format!("{},\"{}\",{}\n", &r[0], &r[1], src.join(&r[2]).display()));
    }
    text.push_str(&format!("planted-copy,\"{}\",copy.jpeg\n", &b[1]));
    text.push_str(&format!("planted-reencoded,\"{}\",reencoded.jpeg\n", &a[1]));
    std::fs::write(tmp.path().join("manifest.csv"), text).unwrap();
    let out = tmp.path().join("out");
    let manifest = tmp.path().join("manifest.csv");
    run_ok(crowdsift().args(["audit", out.to_str().unwrap(), "--src", manifest.to_str().unwrap(), "-q"]));
    let got = audited(&out);
    assert_eq!(got.len(), 247);
    for id in ["planted-copy", "planted-reencoded", &a[0], &b[0]] {
        assert!(got[id].2, "{id} not reported as a label conflict");
    }
    let conflicts = got.values().filter(|v| v.2).count();
    assert!(conflicts <= 8, "{conflicts} photos in conflicting clusters; planted 4");

    // With an embedding threshold no re-encoded copy reaches, only the screening stage's
    // perceptual hash can tie the re-encoded copy to its original: absent before `scan`, found after.
    let strict = ["audit", out.to_str().unwrap(), "--dup-similarity", "0.99999", "-q"];
    run_ok(crowdsift().args(strict));
    assert!(!audited(&out)["planted-reencoded"].2, "found without perceptual hashes at similarity 0.99999");
    run_ok(crowdsift().args(["scan", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    run_ok(crowdsift().args(strict));
    let got = audited(&out);
    for id in ["planted-copy", "planted-reencoded", &a[0], &b[0]] {
        assert!(got[id].2, "{id} not a label conflict with the scan's duplicate groups");
    }
    // One cluster per planted pair, whatever found it.
    let cluster = |id: &str| labels_row(&out, id)["dup_cluster"].clone();
    assert_eq!(cluster("planted-reencoded"), cluster(&b[0]));
    assert_ne!(cluster("planted-reencoded"), cluster("planted-copy"));
}

/// The columns of `id`'s row in audit/labels.csv.
fn labels_row(out: &Path, id: &str) -> HashMap<String, String> {
    let mut rdr = csv::Reader::from_path(out.join("audit/labels.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let row = rdr.records().map(Result::unwrap).find(|r| &r[0] == id).unwrap();
    headers.iter().map(String::from).zip(row.iter().map(String::from)).collect()
}

#[test]
fn a_group_of_off_topic_screenshots_with_item_labels_is_set_apart_and_never_relabelled() {
    let tmp = tempfile::tempdir().unwrap();
    let src = shared().join("data/ifct-dev");
    let mut rdr = csv::Reader::from_path(src.join("manifest.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let classes: Vec<String> =
        rows.iter().map(|r| r[1].to_owned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let manifest = tmp.path().join("manifest.csv");
    let mut w = csv::Writer::from_path(&manifest).unwrap();
    w.write_record(["obs_uid", "label", "uri"]).unwrap();
    for r in &rows {
        w.write_record([&r[0], &r[1], src.join(&r[2]).to_str().unwrap()]).unwrap();
    }
    // 12 resubmissions of one app screenshot (5 % of the collection: a small crop, a turn of a
    // few degrees, other brightness and contrast, other size; scripts/make_off_topic.py draws them),
    // each under a food label.
    let script = format!(
        "import random, sys; sys.path.insert(0, {scripts:?}); import make_off_topic as m\n\
         r = random.Random(5); base = m.screenshot(r)\n\
         for k in range(12): m.save(m.resubmit(r, base), f'{dir}/screenshot-{{k:02}}.jpg', 85)",
        scripts = root().join("scripts").to_str().unwrap(),
        dir = tmp.path().to_str().unwrap()
    );
    run_ok(std::process::Command::new("python3").args(["-c", &script]));
    let shots: Vec<String> = (0..12).map(|k| format!("screenshot-{k:02}")).collect();
    for (k, id) in shots.iter().enumerate() {
        let path = tmp.path().join(format!("{id}.jpg"));
        w.write_record([id.as_str(), &classes[k % classes.len()], path.to_str().unwrap()]).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let out = tmp.path().join("out");
    let dir = out.to_str().unwrap();
    run_ok(crowdsift().args(["embed", manifest.to_str().unwrap(), "--out", dir, "-q"]));
    let res = run_ok(crowdsift().args(["audit", dir]));
    let text = String::from_utf8_lossy(&res.stdout).into_owned();
    eprintln!("{text}");

    let row = |id: &str| labels_row(&out, id);
    for id in &shots {
        let r = row(id);
        assert_eq!(r["off_topic"], "1", "{id} is off-topic: {r:?}");
        assert_eq!(r["label_issue"], "0", "{id} is no label issue: {r:?}");
        assert_eq!(r["suggested"], r["label"], "{id} is offered no other label: {r:?}");
        assert_eq!(r["outlier"], "0", "{id} is not also an outlier: {r:?}");
    }
    // The food photos beside them: at most 2 % set apart (measured: 5 of 245 on ifct-dev alone,
    // the collection's most unusual photos), none of them with the screenshots' scores.
    let mut rdr = csv::Reader::from_path(out.join("audit/labels.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (off, score) = (col("off_topic"), col("off_topic_score"));
    let food: Vec<(String, f64, bool)> = rdr
        .records()
        .map(Result::unwrap)
        .filter(|r| !r[0].starts_with("screenshot-"))
        .map(|r| (r[0].to_owned(), r[score].parse::<f64>().unwrap(), &r[off] == "1"))
        .collect();
    let flagged: Vec<&(String, f64, bool)> = food.iter().filter(|f| f.2).collect();
    assert!(flagged.len() <= 5, "food photos set apart: {flagged:?}");
    let lowest_shot =
        shots.iter().map(|id| row(id)["off_topic_score"].parse::<f64>().unwrap()).fold(f64::MAX, f64::min);
    assert!(food.iter().all(|f| f.1 < lowest_shot), "a food photo scores like the screenshots");

    // Their findings: off_topic, flagged (the review's unusable queue), no label issue flagged.
    let findings = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    for id in &shots {
        let line = findings.lines().find(|l| l.starts_with(&format!("{id},")) && l.contains(",audit,off_topic,"));
        assert!(line.is_some_and(|l| l.contains(",true,")), "{id} has a flagged off_topic finding");
    }
    assert!(text.contains(" off-topic"), "{text}");
}
