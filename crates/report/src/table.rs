//! Parquet tables written in record batches (so a table of millions of rows never sits in memory),
//! and the columns they are made of, built from a batch of rows by a field accessor.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, FixedSizeListBuilder, Float64Builder, Int32Builder, ListBuilder, StringBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::ExportError;

/// A Parquet file being written: into `NAME.partial`, renamed into place by [`ParquetFile::close`],
/// so a reader never sees half a table.
pub struct ParquetFile {
    path: PathBuf,
    tmp: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl ParquetFile {
    /// Starts `path` with columns `fields`.
    pub fn create(path: &Path, fields: Vec<Field>) -> Result<ParquetFile, ExportError> {
        let schema = Arc::new(Schema::new(fields));
        let tmp = path.with_extension("parquet.partial");
        let err = |e: &dyn std::fmt::Display| ExportError::Write { path: path.to_owned(), message: e.to_string() };
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("crowdsift {}", crowdsift_core::VERSION))
            .build();
        let file = File::create(&tmp).map_err(|e| err(&e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| err(&e))?;
        Ok(ParquetFile { path: path.to_owned(), tmp, schema, writer, rows: 0 })
    }

    fn err(&self, e: &dyn std::fmt::Display) -> ExportError {
        ExportError::Write { path: self.path.clone(), message: e.to_string() }
    }

    /// Appends a batch of rows given as columns, in the order of the fields.
    pub fn write(&mut self, columns: Vec<ArrayRef>) -> Result<(), ExportError> {
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| self.err(&e))?;
        self.rows += batch.num_rows() as u64;
        self.writer.write(&batch).map_err(|e| self.err(&e))
    }

    /// Finishes the file and moves it into place; returns the number of rows.
    pub fn close(self) -> Result<u64, ExportError> {
        let err = |e: &dyn std::fmt::Display| ExportError::Write { path: self.path.clone(), message: e.to_string() };
        self.writer.close().map_err(|e| err(&e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| err(&e))?;
        Ok(self.rows)
    }
}

/// Column builders: each makes one column from a batch of rows and an accessor of the field.
pub mod col {
    use super::*;

    /// Corners of a region in photo pixels: top-left, top-right, bottom-right, bottom-left.
    pub type Quad = [[f32; 2]; 4];

    pub fn string<R>(rows: &[R], f: impl Fn(&R) -> Option<&str>) -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    }

    pub fn float<R>(rows: &[R], f: impl Fn(&R) -> Option<f64>) -> ArrayRef {
        let mut b = Float64Builder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    }

    pub fn int<R>(rows: &[R], f: impl Fn(&R) -> Option<i32>) -> ArrayRef {
        let mut b = Int32Builder::new();
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    }

    pub fn uint<R>(rows: &[R], f: impl Fn(&R) -> u32) -> ArrayRef {
        let mut b = UInt32Builder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    }

    pub fn boolean<R>(rows: &[R], f: impl Fn(&R) -> bool) -> ArrayRef {
        let mut b = BooleanBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    }

    /// A list of strings per row.
    pub fn strings<R>(rows: &[R], f: impl Fn(&R) -> Vec<&str>) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            f(r).into_iter().for_each(|s| b.values().append_value(s));
            b.append(true);
        }
        Arc::new(b.finish())
    }

    /// A [`Quad`] per row: four `[x, y]` pairs (fixed-size lists of doubles).
    pub fn quad<R>(rows: &[R], f: impl Fn(&R) -> &Quad) -> ArrayRef {
        let mut b = FixedSizeListBuilder::new(FixedSizeListBuilder::new(Float64Builder::new(), 2), 4);
        for r in rows {
            for [x, y] in f(r) {
                b.values().values().append_value(f64::from(*x));
                b.values().values().append_value(f64::from(*y));
                b.values().append(true);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }

    pub fn string_field(name: &str, nullable: bool) -> Field {
        Field::new(name, DataType::Utf8, nullable)
    }

    pub fn strings_field(name: &str) -> Field {
        Field::new(name, DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), false)
    }

    pub fn quad_field(name: &str) -> Field {
        let point = DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float64, true)), 2);
        Field::new(name, DataType::FixedSizeList(Arc::new(Field::new("item", point, true)), 4), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn a_table_is_written_in_batches_and_appears_only_when_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let fields = vec![
            col::string_field("id", false),
            Field::new("n", DataType::Int32, true),
            col::strings_field("kinds"),
            col::quad_field("quad"),
        ];
        let mut t = ParquetFile::create(&path, fields).unwrap();
        type Row = (&'static str, Option<i32>, Vec<&'static str>, col::Quad);
        let rows: Vec<Row> = vec![
            ("a", Some(1), vec!["phone", "email"], [[0.0, 0.0], [4.0, 0.0], [4.0, 2.0], [0.0, 2.0]]),
            ("b", None, vec![], [[1.5, 1.0], [2.0, 1.0], [2.0, 3.0], [1.5, 3.0]]),
        ];
        for chunk in rows.chunks(1) {
            t.write(vec![
                col::string(chunk, |r| Some(r.0)),
                col::int(chunk, |r| r.1),
                col::strings(chunk, |r| r.2.clone()),
                col::quad(chunk, |r| &r.3),
            ])
            .unwrap();
        }
        assert!(!path.exists(), "not in place before it is closed");
        assert_eq!(t.close().unwrap(), 2);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().build().unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        // The writer buffers its row group: the two batches come back as one.
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        assert_eq!(batch.num_rows(), 2);
        let n = batch.column(1).as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        assert_eq!((n.value(0), n.is_null(1)), (1, true));
        let quads = batch.column(3).as_any().downcast_ref::<arrow_array::FixedSizeListArray>().unwrap();
        let second = quads.value(1);
        let points = second.as_any().downcast_ref::<arrow_array::FixedSizeListArray>().unwrap();
        let p2 = points.value(2);
        let xy = p2.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        assert_eq!((xy.value(0), xy.value(1)), (2.0, 3.0));
        let kinds = batch.column(2).as_any().downcast_ref::<arrow_array::ListArray>().unwrap();
        assert_eq!((kinds.value_length(0), kinds.value_length(1)), (2, 0));
    }
}
