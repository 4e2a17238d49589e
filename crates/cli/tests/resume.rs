//! Resume after `kill -9`; outputs equal to an uninterrupted run; sources never modified; the
//! three kinds of source (folder, CSV manifest, Parquet manifest) agree.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::util::*;

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn kill_9_then_rerun_records_every_photo_exactly_once() {
    let src = shared().join("data/ifct-dev/photos");
    let n_files = std::fs::read_dir(&src).unwrap().count() as i64;
    let digests_before = tree_digests(&src);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let args = |o: &Path| {
        vec![
            "scan".to_owned(),
            src.display().to_string(),
            "--out".into(),
            o.display().to_string(),
            "-q".into(),
            "--jobs".into(),
            "1".into(),
        ]
    };

    let mut child = crowdsift().args(args(&out)).spawn().unwrap();
    let db = out.join("crowdsift.db");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if db.exists() && count(&db, "SELECT COUNT(*) FROM stage_progress") >= 40 {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(still_running, "the scan finished before it could be killed; the test needs a slower scan");
    let recorded = count(&db, "SELECT COUNT(*) FROM stage_progress");
    assert!(recorded >= 40 && recorded < n_files, "killed with {recorded} of {n_files} recorded");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM runs WHERE status = 'running'"), 1);

    let res = run_ok(crowdsift().args(args(&out)));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains(&format!("; {recorded} already done by an earlier run")), "{stdout}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM images"), n_files);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM stage_progress"), n_files);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM findings WHERE check_name = 'decode'"), n_files);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM (SELECT image_id FROM findings GROUP BY image_id, check_name HAVING COUNT(*) > 1)"
        ),
        0
    );

    // Exactly what an uninterrupted run writes.
    let clean = tmp.path().join("clean");
    run_ok(crowdsift().args(args(&clean)));
    let a = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    let b = std::fs::read_to_string(clean.join("findings.csv")).unwrap();
    assert_eq!(a.lines().count() as i64, 1 + 10 * n_files, "one row per photo per check");
    assert!(a == b, "resumed findings differ from an uninterrupted run");

    assert_eq!(tree_digests(&src), digests_before, "source files changed");
}

#[test]
fn folder_csv_and_parquet_manifests_agree() {
    let samples = root().join("tests/data/wheel_photos");
    let before = tree_digests(&samples);
    let tmp = tempfile::tempdir().unwrap();

    // A Parquet copy of tests/data/wheel_photos/manifest.csv, next to it so relative uris resolve the same way.
    let pq_dir = tmp.path().join("pq");
    std::fs::create_dir(&pq_dir).unwrap();
    std::os::unix::fs::symlink(samples.join("photos"), pq_dir.join("photos")).unwrap();
    let mut rdr = csv::Reader::from_path(samples.join("manifest.csv")).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let schema = Arc::new(Schema::new(headers.iter().map(|h| Field::new(h, DataType::Utf8, true)).collect::<Vec<_>>()));
    let cols = (0..headers.len())
        .map(|i| Arc::new(StringArray::from(recs.iter().map(|r| r[i].to_owned()).collect::<Vec<_>>())) as _)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let pq_path = pq_dir.join("manifest.bin"); // told apart by content, not extension
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&pq_path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let scan = |src: &Path, name: &str| {
        let out = tmp.path().join(name);
        run_ok(crowdsift().args(["scan", src.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
        read_findings(&out)
    };
    let from_csv = scan(&samples.join("manifest.csv"), "csv");
    let from_pq = scan(&pq_path, "pq");
    let from_dir = scan(&samples.join("photos"), "dir");
    let key = |rows: &[Row]| {
        rows.iter()
            .map(|r| (r.check.clone(), r.flagged, r.reason.clone(), r.score.map(|s| s.to_bits())))
            .collect::<Vec<_>>()
    };
    // 13 decodable photos × 10 checks, and one truncated photo with its single decode row.
    assert_eq!(from_csv.len(), 13 * 10 + 1);
    assert_eq!(key(&from_csv), key(&from_pq), "CSV and Parquet manifests give the same findings");
    assert_eq!(from_csv.iter().filter(|r| r.id == "S014" && r.reason == "truncated").count(), 1);
    // The folder has the same photos under file-name ids: same multiset of verdicts per check.
    let mut a: Vec<_> = key(&from_csv).into_iter().filter(|k| !k.0.ends_with("duplicate")).collect();
    let mut b: Vec<_> = key(&from_dir).into_iter().filter(|k| !k.0.ends_with("duplicate")).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(tree_digests(&samples), before, "samples changed");
}

#[test]
fn new_thresholds_rejudge_earlier_photos_without_rescanning() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = root().join("tests/data/wheel_photos/manifest.csv");
    let scan = |extra: &[&str]| {
        let res = run_ok(
            crowdsift().args(["scan", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).args(extra),
        );
        (String::from_utf8_lossy(&res.stdout).into_owned(), read_findings(&out))
    };
    let blurred = |rows: &[Row]| {
        let mut ids: Vec<String> =
            rows.iter().filter(|r| r.check == "blur" && r.flagged).map(|r| r.id.clone()).collect();
        ids.sort();
        ids
    };
    let (_, first) = scan(&[]);
    // The Gaussian-blurred cat and the camera-shake clock.
    assert_eq!(blurred(&first), ["S006", "S011"]);

    let (stdout, second) = scan(&["--min-sharpness", "5"]);
    assert!(stdout.contains("re-judged 13 earlier photos"), "{stdout}");
    assert!(stdout.contains("; 14 already done"), "{stdout}");
    assert!(blurred(&second).is_empty(), "blur=5 flags neither (scores 19 and 8)");
    let s011 = by_id_check(&second)[&("S011".to_owned(), "blur".to_owned())].clone();
    assert_eq!(s011.score, by_id_check(&first)[&("S011".to_owned(), "blur".to_owned())].score, "scores kept");
    assert_eq!(second.len(), first.len());

    // Same thresholds again: nothing to re-judge.
    let (stdout, third) = scan(&["--min-sharpness", "5"]);
    assert!(!stdout.contains("re-judged"), "{stdout}");
    assert_eq!(blurred(&third), Vec::<String>::new());
}
