//! TensorBoard event files (`events.out.tfevents.*`) with scalar summaries, readable by
//! `tensorboard` and `tensorboard.backend.event_processing.event_accumulator`.
//!
//! The format is TFRecord framing (length, masked CRC-32C, payload, masked CRC-32C) around
//! `tensorflow.Event` protobuf messages. Only three fields of three messages are needed, so they
//! are encoded here by hand rather than pulling in a protobuf toolchain and TensorFlow's .proto set.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u32, data: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// An `Event` with `wall_time`, `step`, and either `file_version` or a scalar `summary`.
fn event(step: i64, file_version: Option<&str>, scalar: Option<(&str, f32)>) -> Vec<u8> {
    let mut e = Vec::new();
    e.push(1 << 3 | 1); // wall_time: double
    e.extend_from_slice(&now().to_le_bytes());
    e.push(2 << 3); // step: int64
    varint(step as u64, &mut e);
    if let Some(v) = file_version {
        bytes_field(3, v.as_bytes(), &mut e);
    }
    if let Some((tag, value)) = scalar {
        let mut val = Vec::new();
        bytes_field(1, tag.as_bytes(), &mut val); // Summary.Value.tag
        val.push(2 << 3 | 5); // simple_value: float
        val.extend_from_slice(&value.to_le_bytes());
        let mut summary = Vec::new();
        bytes_field(1, &val, &mut summary); // Summary.value
        bytes_field(5, &summary, &mut e); // Event.summary
    }
    e
}

/// Appends scalar summaries to a new event file in a run folder.
pub struct EventWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl EventWriter {
    /// Creates `dir/events.out.tfevents.<seconds>.crowdsift` and writes the file-version record.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let secs = now() as u64;
        let mut n = 0;
        let path = loop {
            let p = dir.join(format!(
                "events.out.tfevents.{secs}.crowdsift{}",
                if n == 0 { String::new() } else { format!(".{n}") }
            ));
            if !p.exists() {
                break p;
            }
            n += 1;
        };
        let mut w = Self { out: BufWriter::new(File::create(&path)?), path };
        w.record(&event(0, Some("brain.Event:2"), None))?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&mut self, data: &[u8]) -> std::io::Result<()> {
        let len = (data.len() as u64).to_le_bytes();
        self.out.write_all(&len)?;
        self.out.write_all(&masked_crc(&len).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.write_all(&masked_crc(data).to_le_bytes())
    }

    /// Writes one scalar, e.g. `("val/top1", 0.8)` at an epoch.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f32) -> std::io::Result<()> {
        self.record(&event(step, None, Some((tag, value))))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_framed_with_valid_checksums() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EventWriter::create(dir.path()).unwrap();
        w.scalar("val/top1", 3, 0.75).unwrap();
        w.flush().unwrap();
        let data = std::fs::read(w.path()).unwrap();
        let mut pos = 0;
        let mut records = Vec::new();
        while pos < data.len() {
            let len_bytes = &data[pos..pos + 8];
            let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
            assert_eq!(u32::from_le_bytes(data[pos + 8..pos + 12].try_into().unwrap()), masked_crc(len_bytes));
            let payload = &data[pos + 12..pos + 12 + len];
            assert_eq!(
                u32::from_le_bytes(data[pos + 12 + len..pos + 16 + len].try_into().unwrap()),
                masked_crc(payload)
            );
            records.push(payload.to_vec());
            pos += 16 + len;
        }
        assert_eq!(records.len(), 2);
        assert!(records[0].windows(13).any(|w| w == b"brain.Event:2"));
        assert!(records[1].windows(8).any(|w| w == b"val/top1"));
        assert!(records[1].windows(4).any(|w| w == 0.75f32.to_le_bytes()));
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720 check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }
}
