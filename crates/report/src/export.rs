//! `findings.csv` and `findings.parquet`: one row per photo per check, streamed from the store in
//! record batches so a million photos do not sit in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{BooleanBuilder, Float64Builder, StringBuilder};
use arrow_schema::{DataType, Field};
use crowdsift_store::{FindingRow, Store};

use crate::ParquetFile;

/// Column order of both exports.
pub const FINDINGS_COLUMNS: [&str; 10] =
    ["id", "uri", "label", "stage", "check", "score", "threshold", "flagged", "reason", "detail"];

const BATCH: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] crowdsift_store::StoreError),
}

fn fields() -> Vec<Field> {
    let s = |n: &str, nullable| Field::new(n, DataType::Utf8, nullable);
    vec![
        s("id", false),
        s("uri", false),
        s("label", true),
        s("stage", false),
        s("check", false),
        Field::new("score", DataType::Float64, true),
        Field::new("threshold", DataType::Float64, true),
        Field::new("flagged", DataType::Boolean, false),
        s("reason", true),
        s("detail", false),
    ]
}

#[derive(Default)]
struct Columns {
    id: StringBuilder,
    uri: StringBuilder,
    label: StringBuilder,
    stage: StringBuilder,
    check: StringBuilder,
    score: Float64Builder,
    threshold: Float64Builder,
    flagged: BooleanBuilder,
    reason: StringBuilder,
    detail: StringBuilder,
    len: usize,
}

impl Columns {
    fn push(&mut self, r: &FindingRow) {
        let f = &r.finding;
        self.id.append_value(&f.image_id);
        self.uri.append_value(&r.uri);
        self.label.append_option(r.label.as_deref());
        self.stage.append_value(f.stage.as_str());
        self.check.append_value(&f.check);
        self.score.append_option(f.score);
        self.threshold.append_option(f.threshold);
        self.flagged.append_value(f.flagged);
        self.reason.append_option(f.reason.map(|r| r.as_str()));
        self.detail.append_value(&f.detail);
        self.len += 1;
    }

    fn finish(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        vec![
            Arc::new(self.id.finish()),
            Arc::new(self.uri.finish()),
            Arc::new(self.label.finish()),
            Arc::new(self.stage.finish()),
            Arc::new(self.check.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.threshold.finish()),
            Arc::new(self.flagged.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.detail.finish()),
        ]
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes `findings.csv` and `findings.parquet` into `dir`; returns the number of rows.
pub fn export_findings(store: &Store, dir: &Path) -> Result<u64, ExportError> {
    let csv_path = dir.join("findings.csv");
    let pq_path = dir.join("findings.parquet");
    let csv_err = |e: &dyn std::fmt::Display| ExportError::Write { path: csv_path.clone(), message: e.to_string() };
    let mut csv = csv::Writer::from_path(&csv_path).map_err(|e| csv_err(&e))?;
    csv.write_record(FINDINGS_COLUMNS).map_err(|e| csv_err(&e))?;
    let mut pq = ParquetFile::create(&pq_path, fields())?;

    let mut cols = Columns::default();
    let mut rows = 0u64;
    let mut failure: Option<ExportError> = None;
    store.for_each_finding(|r| {
        if failure.is_some() {
            return;
        }
        let f = &r.finding;
        let rec = [
            f.image_id.as_str(),
            r.uri.as_str(),
            r.label.as_deref().unwrap_or(""),
            f.stage.as_str(),
            f.check.as_str(),
            &opt(f.score),
            &opt(f.threshold),
            if f.flagged { "true" } else { "false" },
            f.reason.map(|x| x.as_str()).unwrap_or(""),
            f.detail.as_str(),
        ];
        if let Err(e) = csv.write_record(rec) {
            failure = Some(csv_err(&e));
            return;
        }
        cols.push(&r);
        rows += 1;
        if cols.len >= BATCH
            && let Err(e) = pq.write(cols.finish())
        {
            failure = Some(e);
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if cols.len > 0 {
        pq.write(cols.finish())?;
    }
    pq.close()?;
    csv.flush().map_err(|e| csv_err(&e))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crowdsift_core::{Finding, ImageRecord, Meta, Reason};
    use crowdsift_store::ImageRow;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::fs::File;

    #[test]
    fn csv_and_parquet_have_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let run = store.begin_run("scan", "test", &serde_json::json!({})).unwrap();
        let batch: Vec<_> = (0..3)
            .map(|i| {
                let id = format!("img{i}");
                let row = ImageRow {
                    record: ImageRecord { id: id.clone(), uri: format!("/x/{id}.jpg"), label: None, meta: Meta::new() },
                    sha256: None,
                    bytes_len: None,
                    decoded: None,
                    quality_scores: None,
                };
                (row, vec![Finding::unusable(&id, Reason::Missing, "no such file, \"quoted\"")])
            })
            .collect();
        store.record(run, "scan", &batch).unwrap();
        assert_eq!(export_findings(&store, dir.path()).unwrap(), 3);

        let mut rdr = csv::Reader::from_path(dir.path().join("findings.csv")).unwrap();
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(headers, FINDINGS_COLUMNS);
        let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(&recs[1][0], "img1");
        assert_eq!(&recs[1][8], "missing");
        assert_eq!(&recs[1][9], "no such file, \"quoted\"");

        let f = File::open(dir.path().join("findings.parquet")).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap();
        let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(n, 3);
    }
}
