//! What the stages after `ocr` hand over, one row per photo: the reading of the last `ocr` run,
//! the personal data `pii` found and the release copy `redact` made. Each is written together
//! with the photo's findings of that stage (one transaction), and read in pages in photo-id order
//! so that a stage over millions of photos never holds them all.
//!
//! The nested parts (text lines, findings, regions hidden) are JSON the stages own; the store
//! keeps them as they were given.

use crowdsift_core::{Finding, Stage};
use rusqlite::{OptionalExtension, Row, params};

use crate::{Result, Store, replace_findings};

/// A photo's reading by the last `ocr` run.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrPhoto {
    pub id: String,
    pub uri: String,
    /// The photo's extra manifest columns, as a JSON object.
    pub meta: String,
    pub sha256: String,
    /// The engine key the reading is stored under (model set, checksums, settings, languages).
    pub engine: String,
    pub width: u32,
    pub height: u32,
    /// The lines read and the boxes not read, as JSON.
    pub page: String,
}

/// The personal data the last `pii` run found in a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PiiPhoto {
    pub id: String,
    pub uri: String,
    pub meta: String,
    /// Of the bytes `ocr` read.
    pub sha256: String,
    pub country: Option<String>,
    /// JSON array of findings.
    pub findings: String,
    /// JSON array of `{check, detail}`: why a person must see the photo before release.
    pub held: String,
}

/// The release copy `redact` made of a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Redaction {
    pub id: String,
    pub uri: String,
    pub source_sha256: String,
    /// What the copy was made from (source bytes, findings, settings): unchanged means up to date.
    pub key: String,
    /// The copy's path, relative to the output folder.
    pub output: String,
    pub output_sha256: String,
    /// JSON of everything else recorded (regions hidden, metadata removed, verification).
    pub record: String,
}

/// A row of one of these tables: a photo's result.
pub trait PhotoRow {
    fn photo_id(&self) -> &str;
}

impl PhotoRow for OcrPhoto {
    fn photo_id(&self) -> &str {
        &self.id
    }
}

impl PhotoRow for PiiPhoto {
    fn photo_id(&self) -> &str {
        &self.id
    }
}

impl PhotoRow for Redaction {
    fn photo_id(&self) -> &str {
        &self.id
    }
}

/// How a table is read a page at a time: `(store, after id, limit)` → rows in id order.
pub type PageReader<T> = fn(&Store, &str, usize) -> Result<Vec<T>>;

/// Every row of a table, read a page at a time (see [`Store::paged`]).
pub struct Pages<'s, T> {
    store: &'s Store,
    read: PageReader<T>,
    limit: usize,
    after: String,
    page: std::vec::IntoIter<T>,
    done: bool,
}

impl<T: PhotoRow> Iterator for Pages<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if let Some(row) = self.page.next() {
            return Some(Ok(row));
        }
        if self.done {
            return None;
        }
        match (self.read)(self.store, &self.after, self.limit) {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(rows) => {
                self.done = rows.len() < self.limit;
                self.after = rows.last()?.photo_id().to_owned();
                self.page = rows.into_iter();
                self.page.next().map(Ok)
            }
        }
    }
}

const OCR_PHOTOS: &str = "SELECT p.image_id, i.uri, i.meta, p.sha256, p.engine, o.width, o.height, o.lines
     FROM ocr_photos p JOIN images i ON i.id = p.image_id JOIN ocr o ON o.sha256 = p.sha256 AND o.engine = p.engine";
const PII_PHOTOS: &str = "SELECT p.image_id, i.uri, i.meta, p.sha256, p.country, p.findings, p.held
     FROM pii_photos p JOIN images i ON i.id = p.image_id";
const REDACTIONS: &str = "SELECT r.image_id, i.uri, r.source_sha256, r.key, r.output, r.output_sha256, r.record
     FROM redactions r JOIN images i ON i.id = r.image_id";

fn ocr_photo(r: &Row<'_>) -> rusqlite::Result<OcrPhoto> {
    Ok(OcrPhoto {
        id: r.get(0)?,
        uri: r.get(1)?,
        meta: r.get(2)?,
        sha256: r.get(3)?,
        engine: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        page: r.get(7)?,
    })
}

fn pii_photo(r: &Row<'_>) -> rusqlite::Result<PiiPhoto> {
    Ok(PiiPhoto {
        id: r.get(0)?,
        uri: r.get(1)?,
        meta: r.get(2)?,
        sha256: r.get(3)?,
        country: r.get(4)?,
        findings: r.get(5)?,
        held: r.get(6)?,
    })
}

fn redaction(r: &Row<'_>) -> rusqlite::Result<Redaction> {
    Ok(Redaction {
        id: r.get(0)?,
        uri: r.get(1)?,
        source_sha256: r.get(2)?,
        key: r.get(3)?,
        output: r.get(4)?,
        output_sha256: r.get(5)?,
        record: r.get(6)?,
    })
}

impl Store {
    /// Every row `read` gives (e.g. [`Store::ocr_photos`]), `limit` at a time, in photo-id order:
    /// a table of millions of photos without holding it in memory.
    pub fn paged<T: PhotoRow>(&self, read: PageReader<T>, limit: usize) -> Pages<'_, T> {
        Pages {
            store: self,
            read,
            limit: limit.max(1),
            after: String::new(),
            page: Vec::new().into_iter(),
            done: false,
        }
    }

    /// Runs `f` (writing the stage's row) and replaces the photo's findings of `stage` with
    /// `findings`, in one transaction.
    fn put_result(
        &mut self,
        run_id: i64,
        stage: Stage,
        findings: &[Finding],
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<usize>,
    ) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            f(&tx)?;
            replace_findings(&tx, run_id, stage, findings)?;
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Up to `limit` rows of `select` with photo ids after `after`, in id order.
    fn page<T>(
        &self,
        select: &str,
        after: &str,
        limit: usize,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let run = || -> rusqlite::Result<Vec<T>> {
            let mut st = self.conn.prepare_cached(&format!("{select} WHERE i.id > ?1 ORDER BY i.id LIMIT ?2"))?;
            st.query_map(params![after, limit as i64], map)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Records that the photo `id` (registered) was read as the reading stored under
    /// `(engine, sha256)` in the OCR cache, with its `ocr` findings.
    pub fn put_ocr_photo(
        &mut self,
        run_id: i64,
        id: &str,
        sha256: &str,
        engine: &str,
        findings: &[Finding],
    ) -> Result<()> {
        self.put_result(run_id, Stage::Ocr, findings, |tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO ocr_photos (image_id, sha256, engine, run_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, sha256, engine, run_id])
        })
    }

    /// Up to `limit` photos read by `ocr` with ids after `after`, in id order.
    pub fn ocr_photos(&self, after: &str, limit: usize) -> Result<Vec<OcrPhoto>> {
        self.page(OCR_PHOTOS, after, limit, ocr_photo)
    }

    /// Records what `pii` found in a photo (`uri` and `meta` are the photo's and not written),
    /// with its `pii` findings.
    pub fn put_pii_photo(&mut self, run_id: i64, p: &PiiPhoto, findings: &[Finding]) -> Result<()> {
        self.put_result(run_id, Stage::Pii, findings, |tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO pii_photos (image_id, sha256, country, findings, held, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![p.id, p.sha256, p.country, p.findings, p.held, run_id])
        })
    }

    /// Up to `limit` photos `pii` looked at with ids after `after`, in id order.
    pub fn pii_photos(&self, after: &str, limit: usize) -> Result<Vec<PiiPhoto>> {
        self.page(PII_PHOTOS, after, limit, pii_photo)
    }

    /// Records the release copy of a photo (`uri` is the photo's and not written), with its
    /// `redact` findings.
    pub fn put_redaction(&mut self, run_id: i64, r: &Redaction, findings: &[Finding]) -> Result<()> {
        self.put_result(run_id, Stage::Redact, findings, |tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO redactions (image_id, source_sha256, key, output, output_sha256, record, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![r.id, r.source_sha256, r.key, r.output, r.output_sha256, r.record, run_id])
        })
    }

    /// The release copy recorded for photo `id`.
    pub fn redaction(&self, id: &str) -> Result<Option<Redaction>> {
        let run = || -> rusqlite::Result<Option<Redaction>> {
            self.conn
                .prepare_cached(&format!("{REDACTIONS} WHERE r.image_id = ?1"))?
                .query_row([id], redaction)
                .optional()
        };
        run().map_err(|e| self.err(e))
    }

    /// Up to `limit` release copies of photos with ids after `after`, in id order.
    pub fn redactions(&self, after: &str, limit: usize) -> Result<Vec<Redaction>> {
        self.page(REDACTIONS, after, limit, redaction)
    }

    /// How many photos hold a result of `stage` (`ocr`, `pii`, `redact`; 0 for the others).
    pub fn result_count(&self, stage: Stage) -> Result<u64> {
        let table = match stage {
            Stage::Ocr => "ocr_photos",
            Stage::Pii => "pii_photos",
            Stage::Redact => "redactions",
            _ => return Ok(0),
        };
        let run = || -> rusqlite::Result<u64> {
            self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
        };
        run().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use crowdsift_core::ImageRecord;

    use super::*;

    fn store() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let run = s.begin_run("ocr", "src", &serde_json::json!({})).unwrap();
        let rows: Vec<(ImageRecord, String, u64)> = ["b", "a", "c"]
            .iter()
            .map(|id| {
                let record = ImageRecord {
                    id: (*id).into(),
                    uri: format!("/p/{id}.jpg"),
                    label: None,
                    meta: Default::default(),
                };
                (record, format!("sha-{id}"), 10)
            })
            .collect();
        s.register_images(run, &rows).unwrap();
        (dir, s, run)
    }

    #[test]
    fn each_stage_reads_the_previous_stages_rows_in_pages_in_id_order() {
        let (_dir, mut s, run) = store();
        for id in ["b", "a", "c"] {
            let sha = format!("sha-{id}");
            s.put_ocr(&format!("eng|{id}"), &[(sha.clone(), 40, 30, format!("{{\"lines\":[\"{id}\"]}}"))]).unwrap();
            let text = Finding::scored(id, Stage::Ocr, "text", 1.0, false, id.into());
            s.put_ocr_photo(run, id, &sha, &format!("eng|{id}"), &[text]).unwrap();
        }
        assert_eq!(s.result_count(Stage::Ocr).unwrap(), 3);
        let first = s.ocr_photos("", 2).unwrap();
        assert_eq!(first.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            first[0],
            OcrPhoto {
                id: "a".into(),
                uri: "/p/a.jpg".into(),
                meta: "{}".into(),
                sha256: "sha-a".into(),
                engine: "eng|a".into(),
                width: 40,
                height: 30,
                page: "{\"lines\":[\"a\"]}".into(),
            }
        );
        let all: Vec<String> = s.paged(Store::ocr_photos, 2).map(|p| p.unwrap().id).collect();
        assert_eq!(all, ["a", "b", "c"], "two pages, the second short");
        let rest = s.ocr_photos("b", 2).unwrap();
        assert_eq!(rest.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["c"]);
        assert!(s.ocr_photos("c", 2).unwrap().is_empty());
        // Reading a photo again replaces its row and its findings, not adds to them.
        let again = Finding::scored("a", Stage::Ocr, "text", 2.0, false, "again".into());
        s.put_ocr("eng|a2", &[("sha-a".into(), 40, 30, "{}".into())]).unwrap();
        s.put_ocr_photo(run, "a", "sha-a", "eng|a2", &[again]).unwrap();
        assert_eq!(s.result_count(Stage::Ocr).unwrap(), 3);
        assert_eq!(s.ocr_photos("", 1).unwrap()[0].engine, "eng|a2");
        let mut details = Vec::new();
        s.for_each_finding(|r| details.push((r.finding.image_id, r.finding.detail))).unwrap();
        assert_eq!(details, [("a".into(), "again".into()), ("b".into(), "b".into()), ("c".into(), "c".into())]);
    }

    #[test]
    fn personal_data_and_copies_are_kept_as_given() {
        let (_dir, mut s, run) = store();
        let p = PiiPhoto {
            id: "b".into(),
            uri: "ignored".into(),
            meta: "ignored".into(),
            sha256: "sha-b".into(),
            country: Some("KE".into()),
            findings: "[{\"kind\":\"phone\"}]".into(),
            held: "[]".into(),
        };
        let row = Finding::scored("b", Stage::Pii, "pii", 1.0, true, "phone ×1".into());
        s.put_pii_photo(run, &p, &[row]).unwrap();
        let got = s.pii_photos("", 10).unwrap();
        assert_eq!(got, vec![PiiPhoto { uri: "/p/b.jpg".into(), meta: "{}".into(), ..p }]);
        assert!(s.is_flagged("b", Stage::Pii, "pii").unwrap());

        assert_eq!(s.redaction("b").unwrap(), None);
        let r = Redaction {
            id: "b".into(),
            uri: String::new(),
            source_sha256: "sha-b".into(),
            key: "k1".into(),
            output: "redacted/b.jpg".into(),
            output_sha256: "out".into(),
            record: "{}".into(),
        };
        s.put_redaction(run, &r, &[]).unwrap();
        assert_eq!(s.redaction("b").unwrap(), Some(Redaction { uri: "/p/b.jpg".into(), ..r.clone() }));
        assert_eq!(s.redactions("", 10).unwrap().len(), 1);
        assert_eq!(s.result_count(Stage::Redact).unwrap(), 1);
        assert_eq!(s.result_count(Stage::Quality).unwrap(), 0);
    }
}
