//! Manifest readers: CSV or Parquet with columns `obs_uid`, `label`, `uri`; every other column is
//! kept as metadata. Rows are streamed, never loaded whole.

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, RecordBatch, RecordBatchReader, cast::AsArray};
use arrow_schema::DataType;
use crowdsift_core::Meta;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::error::{IngestError, IngestErrorKind};

/// One manifest row, before its uri is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based data row number, for error messages.
    pub number: usize,
    pub obs_uid: String,
    pub label: Option<String>,
    pub uri: String,
    pub meta: Meta,
}

pub type Rows = Box<dyn Iterator<Item = Result<Row, IngestError>> + Send>;

fn manifest_err(path: &Path, msg: impl std::fmt::Display) -> IngestError {
    IngestError::new(IngestErrorKind::Manifest, format!("manifest {}: {msg}", path.display()))
}

/// Is this file a Parquet file (by its magic bytes)?
pub fn is_parquet(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && &magic == b"PAR1"
}

/// Builds a row from named cells, checking the required columns.
fn make_row(path: &Path, number: usize, cells: impl Iterator<Item = (String, String)>) -> Result<Row, IngestError> {
    let mut obs_uid = None;
    let mut label = None;
    let mut uri = None;
    let mut meta = Meta::new();
    for (k, v) in cells {
        match k.as_str() {
            "obs_uid" => obs_uid = Some(v),
            "label" => label = Some(v).filter(|s| !s.trim().is_empty()),
            "uri" => uri = Some(v),
            _ => {
                meta.insert(k, v);
            }
        }
    }
    let obs_uid = obs_uid
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| manifest_err(path, format!("row {number} has no obs_uid")))?;
    let uri = uri
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| manifest_err(path, format!("row {number} (obs_uid {obs_uid}) has no uri")))?;
    Ok(Row { number, obs_uid, label, uri, meta })
}

fn check_columns(path: &Path, names: &[String]) -> Result<(), IngestError> {
    for required in ["obs_uid", "uri"] {
        if !names.iter().any(|n| n == required) {
            return Err(manifest_err(
                path,
                format!("missing column `{required}` (found: {}); expected obs_uid,label,uri", names.join(",")),
            ));
        }
    }
    Ok(())
}

pub fn read_csv(path: &Path) -> Result<Rows, IngestError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(|e| manifest_err(path, e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| manifest_err(path, e))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    check_columns(path, &headers)?;
    let path = path.to_owned();
    Ok(Box::new(reader.into_records().enumerate().map(move |(i, rec)| {
        let rec = rec.map_err(|e| manifest_err(&path, e))?;
        make_row(&path, i + 1, headers.iter().cloned().zip(rec.iter().map(str::to_owned)))
    })))
}

pub fn read_parquet(path: &Path) -> Result<Rows, IngestError> {
    let file = File::open(path).map_err(|e| manifest_err(path, e))?;
    let reader = unpanicked(path, || {
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.with_batch_size(4096).build())
    })?
    .map_err(|e| manifest_err(path, e))?;
    let names: Vec<String> = reader.schema().fields().iter().map(|f| f.name().clone()).collect();
    check_columns(path, &names)?;
    Ok(Box::new(ParquetRows { path: path.to_owned(), reader, batch: None, row: 0, number: 0, broken: false }))
}

/// Runs `f`, a call into the Parquet and Arrow readers, turning a panic into an error naming the
/// file. Those readers panic on some corrupt files instead of returning an error (found by the
/// manifest fuzz target, fuzz/: "Decoder for dict should have been set", "column start and length
/// should not be negative", a division by zero, an offset out of bounds), and one bad manifest
/// must not take the process down with it.
fn unpanicked<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| corrupt(path, &*panic))
}

/// The error for a panic of the Parquet reader on `path` (see [`unpanicked`]).
fn corrupt(path: &Path, panic: &(dyn std::any::Any + Send)) -> IngestError {
    let msg = crowdsift_core::panic_message(panic).unwrap_or_default();
    manifest_err(path, format!("corrupt Parquet file (the reader failed: {msg})"))
}

struct ParquetRows {
    path: std::path::PathBuf,
    reader: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    row: usize,
    number: usize,
    /// The reader panicked: what it holds is not to be trusted, the listing ends.
    broken: bool,
}

fn cell(col: &dyn Array, row: usize) -> Result<String, String> {
    if col.is_null(row) {
        return Ok(String::new());
    }
    Ok(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => col.as_string_view().value(row).to_owned(),
        DataType::Int64 => col.as_primitive::<arrow_array::types::Int64Type>().value(row).to_string(),
        DataType::Int32 => col.as_primitive::<arrow_array::types::Int32Type>().value(row).to_string(),
        other => return Err(format!("type {other} (expected strings or integers)")),
    })
}

impl Iterator for ParquetRows {
    type Item = Result<Row, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.broken {
            return None;
        }
        // Caught here rather than through `unpanicked`, which would need the path apart from
        // `self` (a copy per row).
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.next_row())).unwrap_or_else(|panic| {
            self.broken = true;
            Some(Err(corrupt(&self.path, &*panic)))
        })
    }
}

impl ParquetRows {
    fn next_row(&mut self) -> Option<Result<Row, IngestError>> {
        loop {
            if let Some(batch) = &self.batch
                && self.row < batch.num_rows()
            {
                let r = self.row;
                self.row += 1;
                self.number += 1;
                let schema = batch.schema();
                let mut cells = Vec::new();
                for (field, col) in schema.fields().iter().zip(batch.columns()) {
                    match cell(col.as_ref(), r) {
                        Ok(v) => cells.push((field.name().clone(), v)),
                        Err(t) => {
                            return Some(Err(manifest_err(&self.path, format!("column `{}` has {t}", field.name()))));
                        }
                    }
                }
                return Some(make_row(&self.path, self.number, cells.into_iter()));
            }
            match self.reader.next()? {
                Ok(b) => {
                    self.batch = Some(b);
                    self.row = 0;
                }
                Err(e) => return Some(Err(manifest_err(&self.path, e))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_keeps_extra_columns_and_reports_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, "obs_uid,label,uri,country\nA1,rice,a.jpg,BD\n,rice,b.jpg,BD\nA3,,c.jpg,KE\n").unwrap();
        let rows: Vec<_> = read_csv(&p).unwrap().collect();
        let a = rows[0].as_ref().unwrap();
        assert_eq!((a.obs_uid.as_str(), a.label.as_deref(), a.uri.as_str()), ("A1", Some("rice"), "a.jpg"));
        assert_eq!(a.meta.get("country").map(String::as_str), Some("BD"));
        assert!(rows[1].as_ref().unwrap_err().to_string().contains("row 2 has no obs_uid"));
        assert_eq!(rows[2].as_ref().unwrap().label, None);
    }

    #[test]
    fn csv_without_uri_column_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, "id,label,path\n1,a,b\n").unwrap();
        let err = read_csv(&p).err().unwrap();
        assert!(err.to_string().contains("missing column `obs_uid`"), "{err}");
    }
}
