//! Transfer learning on ifct-dev: a measured accuracy floor, TensorBoard files that Python's
//! tensorboard reads back, checkpoints that resume where they stopped.

use std::process::Command;

use crate::util::*;

#[test]
fn transfer_head_on_ifct_dev_reaches_its_floor_logs_and_resumes() {
    let (_tmp, out) = embedded_ifct_dev();
    let res = run_ok(crowdsift().args(["train", out.to_str().unwrap(), "--epochs", "40"]));
    assert_eq!(res.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    eprintln!("{stdout}");
    let summary = stdout.lines().find(|l| l.starts_with("12 classes")).expect("summary line");
    // "… best epoch N: top-1 73.6%, …" — measured 73.6% with the default early stopping (75.5% over
    // 60 epochs without it), seed 42; the seed project reported 65.4% for transfer learning.
    let top1: f64 = summary.split("top-1 ").nth(1).unwrap().split('%').next().unwrap().parse().unwrap();
    assert!(top1 >= 70.0, "{summary}");
    let epochs_run = stdout.lines().filter(|l| l.starts_with("epoch")).count();
    assert!(epochs_run >= 10);

    let run_dir = |kind: &str| {
        let dir = out.join(kind);
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    };
    let ckpts = run_dir("checkpoints");
    assert!(ckpts.join("best.safetensors").is_file() && ckpts.join("best.json").is_file());
    let meta = std::fs::read_to_string(ckpts.join("best.json")).unwrap();
    assert!(meta.contains("\"format\": \"crowdsift-head/1\"") && meta.contains("Cereals and Millets"), "{meta}");

    // TensorBoard reads the event file: one val/top1 point per epoch, matching what was printed.
    let tb = run_dir("tb");
    let script = format!(
        r#"
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator("{}"); acc.Reload()
ev = acc.Scalars("val/top1")
print(len(ev), max(e.value for e in ev), sorted(acc.Tags()["scalars"]))
"#,
        tb.display()
    );
    let py = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let text = String::from_utf8_lossy(&py.stdout);
    let mut parts = text.split_whitespace();
    assert_eq!(parts.next().unwrap().parse::<usize>().unwrap(), epochs_run, "{text}");
    let tb_best: f64 = parts.next().unwrap().parse().unwrap();
    assert!((100.0 * tb_best - top1).abs() < 0.06, "{text} vs {top1}");
    assert!(text.contains("'train/loss', 'val/loss', 'val/top1', 'val/top5'"), "{text}");

    // predict: every embedded photo gets top-5 labels; evaluate: the head's own validation split,
    // rebuilt from its recorded seed, gives exactly the accuracy training reported.
    let best = ckpts.join("best.safetensors");
    run_ok(crowdsift().args(["predict", out.to_str().unwrap(), "--head"]).arg(&best));
    let mut rdr = csv::Reader::from_path(out.join("predictions.csv")).unwrap();
    let preds: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(preds.len(), 245);
    assert!(preds.iter().all(|r| r[5].split(';').count() == 5));
    let res = run_ok(crowdsift().args(["evaluate", out.to_str().unwrap(), "--head"]).arg(&best));
    let eval = String::from_utf8_lossy(&res.stdout).into_owned();
    assert!(eval.contains(&format!("accuracy {top1:.1}%")), "{eval}\nvs training top-1 {top1}");
    let eval_dir = run_dir("eval");
    for f in ["metrics.json", "per_class.csv", "confusion.csv", "confusion.svg"] {
        assert!(eval_dir.join(f).is_file(), "{f}");
    }
    let confusion = std::fs::read_to_string(eval_dir.join("confusion.csv")).unwrap();
    let cells: usize =
        confusion.lines().skip(1).flat_map(|l| l.rsplit(',').take(12).map(|v| v.parse::<usize>().unwrap())).sum();
    let n_val: usize = summary.split(" / ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(cells, n_val, "confusion matrix counts every validation photo once");

    // Resume from epoch 5: continues with epoch 6 and reproduces the uninterrupted curve.
    let res = run_ok(
        crowdsift()
            .args(["train", out.to_str().unwrap(), "--epochs", "7", "--resume"])
            .arg(ckpts.join("epoch-005.safetensors")),
    );
    let resumed = String::from_utf8_lossy(&res.stdout).into_owned();
    let epochs: Vec<&str> = resumed.lines().filter(|l| l.starts_with("epoch")).collect();
    assert_eq!(epochs.len(), 2, "{resumed}");
    assert!(epochs[0].starts_with("epoch   6/7"), "{resumed}");
    let val_loss = |line: &str| line.split("val loss ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let first_run_6 = stdout.lines().find(|l| l.starts_with("epoch   6/")).unwrap();
    // Same batches, fresh optimiser moments: close to, not equal to, the uninterrupted epoch 6.
    let (a, b): (f64, f64) = (val_loss(first_run_6).parse().unwrap(), val_loss(epochs[0]).parse().unwrap());
    assert!((a - b).abs() < 0.25, "uninterrupted {a}, resumed {b}");
}

#[test]
fn train_without_embeddings_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = crowdsift().args(["train", tmp.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run `crowdsift embed"), "{err}");
}

#[test]
fn cross_validation_keeps_copies_in_one_fold() {
    let (_tmp, out) = embedded_ifct_dev();
    let res = run_ok(crowdsift().args(["train", out.to_str().unwrap(), "--folds", "5", "--epochs", "30"]));
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    assert_eq!(stdout.lines().filter(|l| l.starts_with("fold ")).count(), 5, "{stdout}");
    // Measured 71.6% ± 6.3% over 40 epochs; 30 epochs land close.
    let line = stdout.lines().find(|l| l.starts_with("5-fold cross-validation")).unwrap();
    let mean: f64 = line.split("top-1 ").nth(1).unwrap().split('%').next().unwrap().parse().unwrap();
    assert!(mean >= 65.0, "{line}");

    let folds_csv = stdout.lines().find_map(|l| l.strip_prefix("folds: ")).unwrap();
    let mut rdr = csv::Reader::from_path(folds_csv).unwrap();
    let folds: std::collections::HashMap<String, String> =
        rdr.records().map(|r| r.unwrap()).map(|r| (r[0].to_owned(), r[1].to_owned())).collect();
    assert_eq!(folds.len(), 245);
    let conn = rusqlite::Connection::open(out.join("crowdsift.db")).unwrap();
    let mut st = conn.prepare("SELECT id, sha256 FROM images").unwrap();
    let mut fold_of_sha: std::collections::HashMap<String, String> = Default::default();
    let mut copies = 0;
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
        let (id, sha) = row.unwrap();
        if let Some(prev) = fold_of_sha.insert(sha, folds[&id].clone()) {
            copies += 1;
            assert_eq!(prev, folds[&id], "byte-identical copy {id} in another fold");
        }
    }
    assert_eq!(copies, 38, "ifct-dev's byte-identical copies were all checked");
}
