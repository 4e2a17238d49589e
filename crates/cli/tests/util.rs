use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// `../shared` beside the checkout (CI places it there).
pub fn shared() -> PathBuf {
    let p = root().join("../shared");
    assert!(p.join("data").is_dir(), "../shared/data is missing beside the checkout ({})", p.display());
    p
}

/// Where the Chromium tests also save the screenshots the README shows, when asked:
/// `CROWDSIFT_SCREENSHOTS=docs/screenshots cargo nextest run -p crowdsift-cli the_demo a_grid_page`
/// (relative to the workspace root).
pub fn screenshots() -> Option<PathBuf> {
    let dir = root().join(std::env::var_os("CROWDSIFT_SCREENSHOTS")?);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    Some(dir)
}

/// The photos of ../shared/data/ifct-dev (307×172, food items on white or plain backgrounds),
/// sorted by name.
pub fn ifct_photos() -> Vec<PathBuf> {
    let dir = shared().join("data/ifct-dev/photos");
    let mut photos: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("ifct-dev photos").map(|e| e.expect("entry").path()).collect();
    photos.sort();
    photos
}

pub fn crowdsift() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crowdsift"))
}

/// Runs a fixture script from tests/fixtures with python3.
pub fn python(script: &str, args: &[&str]) {
    let out = Command::new("python3")
        .arg(root().join("tests/fixtures").join(script))
        .args(args)
        .output()
        .expect("python3 must be installed (scripts/test.sh installs pillow and numpy)");
    assert!(out.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run crowdsift");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "crowdsift exited {code:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "a thread panicked");
    out
}

/// One row of findings.csv.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub stage: String,
    pub check: String,
    pub score: Option<f64>,
    pub flagged: bool,
    pub reason: String,
    pub detail: String,
}

pub fn read_findings(out: &Path) -> Vec<Row> {
    let mut rdr = csv::Reader::from_path(out.join("findings.csv")).expect("findings.csv");
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            Row {
                id: r[0].to_owned(),
                stage: r[3].to_owned(),
                check: r[4].to_owned(),
                score: r[5].parse().ok(),
                flagged: &r[7] == "true",
                reason: r[8].to_owned(),
                detail: r[9].to_owned(),
            }
        })
        .collect()
}

/// findings keyed by (id, check).
pub fn by_id_check(rows: &[Row]) -> HashMap<(String, String), Row> {
    rows.iter().map(|r| ((r.id.clone(), r.check.clone()), r.clone())).collect()
}

/// The SHA-256 of every file below `dir` (following no links), keyed by path.
pub fn tree_digests(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.expect("walk");
        if e.file_type().is_file() {
            let data = std::fs::read(e.path()).unwrap_or_default();
            out.push((e.path().to_owned(), crowdsift_ingest::sha256_hex(&data)));
        }
    }
    out
}

/// A temporary output folder holding the EfficientNet-Lite0 embeddings of ifct-dev's manifest.
pub fn embedded_ifct_dev() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let manifest = shared().join("data/ifct-dev/manifest.csv");
    run_ok(crowdsift().args(["embed", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]));
    (tmp, out)
}

/// "… top-1 73.6%, …" → 73.6 from a `train` summary line.
pub fn top1_of(summary: &str) -> f64 {
    summary.split("top-1 ").nth(1).unwrap().split('%').next().unwrap().trim().parse().unwrap()
}

/// The rows of a Parquet table the stages write (`ocr_lines.parquet`, `pii.parquet`, …) as JSON
/// objects keyed by column name: strings, numbers, booleans, nulls, and lists (quads, kinds).
pub fn read_table(path: &Path) -> Vec<serde_json::Value> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int32Type, UInt32Type};
    use arrow_schema::DataType;

    fn value(col: &dyn Array, i: usize) -> serde_json::Value {
        if col.is_null(i) {
            return serde_json::Value::Null;
        }
        let list = |a: arrow_array::ArrayRef| (0..a.len()).map(|j| value(a.as_ref(), j)).collect();
        match col.data_type() {
            DataType::Utf8 => col.as_string::<i32>().value(i).into(),
            DataType::Int32 => col.as_primitive::<Int32Type>().value(i).into(),
            DataType::UInt32 => col.as_primitive::<UInt32Type>().value(i).into(),
            DataType::Float64 => col.as_primitive::<Float64Type>().value(i).into(),
            DataType::Boolean => col.as_boolean().value(i).into(),
            DataType::FixedSizeList(..) => serde_json::Value::Array(list(col.as_fixed_size_list().value(i))),
            DataType::List(..) => serde_json::Value::Array(list(col.as_list::<i32>().value(i))),
            t => panic!("no test reading for a column of type {t:?}"),
        }
    }

    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let row: serde_json::Map<String, serde_json::Value> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| (f.name().clone(), value(c.as_ref(), i)))
                .collect();
            rows.push(serde_json::Value::Object(row));
        }
    }
    rows
}
