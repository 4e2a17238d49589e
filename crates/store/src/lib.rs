//! The run store: one SQLite database per output folder (`crowdsift.db`), in WAL mode.
//!
//! Each photo's row, its findings and its progress mark are written in one transaction, so a run
//! killed at any instant leaves every photo either fully recorded or not at all, and a re-run
//! picks up exactly the photos that are missing.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crowdsift_core::{Finding, ImageRecord, Reason, Stage};
use rusqlite::{Connection, OptionalExtension, params};

mod decisions;
mod results;
pub use decisions::{Change, Decision, DecisionError, Verdict};
pub use results::{OcrPhoto, PageReader, Pages, PhotoRow, PiiPhoto, Redaction};

/// A photo as the store knows it: id, label, file SHA-256, URI.
pub type StoredPhoto = (String, Option<String>, String, String);

/// Schema migrations, applied in order; `PRAGMA user_version` holds how many ran.
const MIGRATIONS: [&str; 8] = [
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_quality_scores.sql"),
    include_str!("../migrations/003_embeddings.sql"),
    include_str!("../migrations/004_features.sql"),
    include_str!("../migrations/005_ocr.sql"),
    include_str!("../migrations/006_decisions.sql"),
    include_str!("../migrations/007_findings_summary.sql"),
    include_str!("../migrations/008_results.sql"),
];

#[derive(Debug, thiserror::Error)]
#[error("store {path}: {source}")]
pub struct StoreError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Facts about one photo established by ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRow {
    pub record: ImageRecord,
    pub sha256: Option<String>,
    pub bytes_len: Option<u64>,
    pub decoded: Option<DecodedFacts>,
    /// The quality stage's scores as JSON (opaque to the store).
    pub quality_scores: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFacts {
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
    pub color: String,
    pub pixel_sha256: String,
    pub phash: u64,
}

/// What duplicate detection needs of each photo.
#[derive(Debug, Clone, PartialEq)]
pub struct DupKeys {
    pub id: String,
    pub sha256: String,
    pub pixels: u64,
    /// `None` for photos that could not be decoded.
    pub pixel_sha256: Option<String>,
    pub phash: Option<u64>,
}

impl DupKeys {
    /// The keys of a photo as scan recorded it (`None` when its bytes could not be read).
    pub fn of(row: &ImageRow) -> Option<DupKeys> {
        Some(DupKeys {
            id: row.record.id.clone(),
            sha256: row.sha256.clone()?,
            pixels: row.decoded.as_ref().map_or(0, |d| u64::from(d.width) * u64::from(d.height)),
            pixel_sha256: row.decoded.as_ref().map(|d| d.pixel_sha256.clone()),
            phash: row.decoded.as_ref().map(|d| d.phash),
        })
    }
}

/// A finding joined with its photo, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub uri: String,
    pub label: Option<String>,
    pub finding: Finding,
}

/// Scores of one check in equal bins.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub check: String,
    /// The range of the bins: the scores' and the threshold's.
    pub lo: f64,
    pub hi: f64,
    pub threshold: Option<f64>,
    pub counts: Vec<u64>,
    /// Finite scores counted.
    pub scores: u64,
}

/// A run of a command, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub id: i64,
    pub command: String,
    pub source: String,
    pub version: String,
    /// JSON of every parameter that shaped the results (models and their checksums included).
    pub config: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: String,
}

/// Totals for a summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub images: u64,
    pub usable: u64,
    pub flagged_images: u64,
    /// Flagged findings per reason code or check name.
    pub flagged_by: BTreeMap<String, u64>,
}

pub struct Store {
    conn: Connection,
    path: String,
}

fn stage_from(s: &str) -> Stage {
    match s {
        "quality" => Stage::Quality,
        "duplicates" => Stage::Duplicates,
        "audit" => Stage::Audit,
        "ocr" => Stage::Ocr,
        "pii" => Stage::Pii,
        "redact" => Stage::Redact,
        _ => Stage::Ingest,
    }
}

impl Store {
    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError { path: self.path.clone(), source }
    }

    /// Opens or creates the store, enabling WAL and applying pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError { path: p.clone(), source })?;
        let mut store = Store { conn, path: p };
        store.init().map_err(|e| store.err(e))?;
        Ok(store)
    }

    fn init(&mut self) -> rusqlite::Result<()> {
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let done: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(&self, command: &str, source: &str, config: &serde_json::Value) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (command, source, version, config) VALUES (?1, ?2, ?3, ?4)",
                params![command, source, crowdsift_core::VERSION, config.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run_id: i64, status: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
                params![run_id, status],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Ids of photos that have finished `stage`.
    pub fn done_ids(&self, stage: &str) -> Result<HashSet<String>> {
        let run = || -> rusqlite::Result<HashSet<String>> {
            let mut st = self.conn.prepare("SELECT image_id FROM stage_progress WHERE stage = ?1")?;
            st.query_map([stage], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Writes photos, their findings and their `stage` progress marks in one transaction.
    pub fn record(&mut self, run_id: i64, stage: &str, batch: &[(ImageRow, Vec<Finding>)]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut img = tx.prepare_cached(
                    "INSERT OR REPLACE INTO images (id, uri, label, meta, sha256, bytes_len, format, width,
                        height, orientation, color, pixel_sha256, phash, usable, run_id, quality_scores)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )?;
                let mut clear =
                    tx.prepare_cached("DELETE FROM findings WHERE image_id = ?1 AND stage IN ('ingest', 'quality')")?;
                let mut done = tx.prepare_cached(
                    "INSERT OR REPLACE INTO stage_progress (image_id, stage, run_id) VALUES (?1, ?2, ?3)",
                )?;
                for (row, findings) in batch {
                    let r = &row.record;
                    let meta = serde_json::to_string(&r.meta).unwrap_or_else(|_| "{}".to_owned());
                    let d = row.decoded.as_ref();
                    img.execute(params![
                        r.id,
                        r.uri,
                        r.label,
                        meta,
                        row.sha256,
                        row.bytes_len.map(|n| n as i64),
                        d.map(|d| d.format.as_str()),
                        d.map(|d| d.width),
                        d.map(|d| d.height),
                        d.map(|d| d.orientation),
                        d.map(|d| d.color.as_str()),
                        d.map(|d| d.pixel_sha256.as_str()),
                        d.map(|d| d.phash as i64),
                        d.is_some(),
                        run_id,
                        row.quality_scores,
                    ])?;
                    clear.execute([&r.id])?;
                    insert_findings(&tx, run_id, findings)?;
                    done.execute(params![r.id, stage, run_id])?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Replaces every finding of `stage` (for collection-level stages such as duplicates).
    pub fn replace_stage_findings(&mut self, run_id: i64, stage: Stage, findings: &[Finding]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            tx.execute("DELETE FROM findings WHERE stage = ?1", [stage.as_str()])?;
            insert_findings(&tx, run_id, findings)?;
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>> {
        let run = || -> rusqlite::Result<Vec<RunInfo>> {
            let mut st = self.conn.prepare(
                "SELECT id, command, source, version, config, started_at, ended_at, status FROM runs ORDER BY id",
            )?;
            st.query_map([], |r| {
                Ok(RunInfo {
                    id: r.get(0)?,
                    command: r.get(1)?,
                    source: r.get(2)?,
                    version: r.get(3)?,
                    config: r.get(4)?,
                    started_at: r.get(5)?,
                    ended_at: r.get(6)?,
                    status: r.get(7)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The runs whose findings of `stage` are still in the store, with their configuration (JSON).
    pub fn runs_owning(&self, stage: Stage) -> Result<Vec<(i64, serde_json::Value)>> {
        let run = || -> rusqlite::Result<Vec<(i64, serde_json::Value)>> {
            let mut st = self.conn.prepare(
                "SELECT id, config FROM runs WHERE id IN (SELECT DISTINCT run_id FROM findings WHERE stage = ?1)
                 ORDER BY id",
            )?;
            st.query_map([stage.as_str()], |r| {
                let cfg: String = r.get(1)?;
                Ok((r.get(0)?, serde_json::from_str(&cfg).unwrap_or_default()))
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Up to `limit` photos (ids after `after`, in id order) whose quality findings were written by
    /// run `run_id`, with their stored quality scores: pages for re-judging a large store without
    /// holding it in memory.
    pub fn quality_scores_page(&self, run_id: i64, after: &str, limit: usize) -> Result<Vec<(String, String)>> {
        let run = || -> rusqlite::Result<Vec<(String, String)>> {
            let mut st = self.conn.prepare_cached(
                "SELECT i.id, i.quality_scores FROM images i
                 WHERE i.quality_scores IS NOT NULL AND i.id > ?1
                   AND EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.stage = 'quality' AND f.run_id = ?3)
                 ORDER BY i.id LIMIT ?2",
            )?;
            st.query_map(params![after, limit as i64, run_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Replaces the findings of `stage` for the photos the findings name, in one transaction.
    pub fn replace_findings(&mut self, run_id: i64, stage: Stage, findings: &[Finding]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            replace_findings(&tx, run_id, stage, findings)?;
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Registers photos seen by a stage other than scan (e.g. embed), keeping any row scan wrote.
    pub fn register_images(&mut self, run_id: i64, rows: &[(ImageRecord, String, u64)]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO images (id, uri, label, meta, sha256, bytes_len, usable, run_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)
                     ON CONFLICT(id) DO UPDATE SET sha256 = excluded.sha256, bytes_len = excluded.bytes_len
                     WHERE images.sha256 IS NOT excluded.sha256",
                )?;
                for (r, sha, len) in rows {
                    let meta = serde_json::to_string(&r.meta).unwrap_or_else(|_| "{}".to_owned());
                    ins.execute(params![r.id, r.uri, r.label, meta, sha, *len as i64, run_id])?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// The extra manifest columns of every photo (`country`, `lang`, …), by photo id.
    pub fn image_meta(&self) -> Result<std::collections::HashMap<String, std::collections::BTreeMap<String, String>>> {
        let run = || -> rusqlite::Result<Vec<(String, String)>> {
            let mut st = self.conn.prepare("SELECT id, meta FROM images")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        };
        let rows = run().map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|(id, meta)| (id, serde_json::from_str(&meta).unwrap_or_default())).collect())
    }

    /// The file SHA-256 recorded for each photo id, for skipping photos whose embedding exists.
    pub fn known_sha256(&self) -> Result<std::collections::HashMap<String, String>> {
        let run = || -> rusqlite::Result<std::collections::HashMap<String, String>> {
            let mut st = self.conn.prepare("SELECT id, sha256 FROM images WHERE sha256 IS NOT NULL")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// SHA-256s of the photos that already have an embedding from `model_sha256`.
    pub fn embedded(&self, model_sha256: &str) -> Result<HashSet<String>> {
        let run = || -> rusqlite::Result<HashSet<String>> {
            let mut st = self.conn.prepare("SELECT sha256 FROM embeddings WHERE model_sha256 = ?1")?;
            st.query_map([model_sha256], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// SHA-256s of the photos `engine` has already read.
    pub fn ocr_done(&self, engine: &str) -> Result<HashSet<String>> {
        let run = || -> rusqlite::Result<HashSet<String>> {
            let mut st = self.conn.prepare("SELECT sha256 FROM ocr WHERE engine = ?1")?;
            st.query_map([engine], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// `(engine, photo sha256)` of every reading stored under an engine key starting with `prefix`
    /// (one engine read with different per-photo language hints).
    pub fn ocr_done_with_prefix(&self, prefix: &str) -> Result<HashSet<(String, String)>> {
        let run = || -> rusqlite::Result<HashSet<(String, String)>> {
            let mut st =
                self.conn.prepare("SELECT engine, sha256 FROM ocr WHERE substr(engine, 1, length(?1)) = ?1")?;
            st.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Stores what `engine` read: `(photo sha256, width, height, lines as JSON)`, in one transaction.
    pub fn put_ocr(&mut self, engine: &str, rows: &[(String, u32, u32, String)]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR REPLACE INTO ocr (sha256, engine, width, height, lines) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (sha, w, h, lines) in rows {
                    ins.execute(params![sha, engine, w, h, lines])?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// What `engine` read in the photo with bytes `sha256`: `(width, height, lines as JSON)`.
    pub fn ocr(&self, engine: &str, sha256: &str) -> Result<Option<(u32, u32, String)>> {
        let run = || -> rusqlite::Result<Option<(u32, u32, String)>> {
            let mut st =
                self.conn.prepare_cached("SELECT width, height, lines FROM ocr WHERE engine = ?1 AND sha256 = ?2")?;
            st.query_row(params![engine, sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
        };
        run().map_err(|e| self.err(e))
    }

    /// Stores embeddings `(photo sha256, vector as little-endian f32 bytes)` in one transaction.
    pub fn put_embeddings(
        &mut self,
        run_id: i64,
        model: &str,
        model_sha256: &str,
        dim: usize,
        rows: &[(String, Vec<u8>)],
    ) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR REPLACE INTO embeddings (sha256, model_sha256, model, dim, vector, run_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for (sha, v) in rows {
                    ins.execute(params![sha, model_sha256, model, dim as i64, v, run_id])?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Calls `f(id, label, file sha256, vector bytes)` for every photo with an embedding from `model_sha256`, in
    /// id order.
    pub fn for_each_embedding(
        &self,
        model_sha256: &str,
        mut f: impl FnMut(&str, Option<&str>, &str, &[u8]),
    ) -> Result<()> {
        let mut run = || -> rusqlite::Result<()> {
            let mut st = self.conn.prepare(
                "SELECT i.id, i.label, i.sha256, e.vector FROM images i JOIN embeddings e ON e.sha256 = i.sha256
                 WHERE e.model_sha256 = ?1 ORDER BY i.id",
            )?;
            let mut rows = st.query([model_sha256])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let label: Option<String> = r.get(1)?;
                let sha: String = r.get(2)?;
                let v = r.get_ref(3)?.as_blob()?;
                f(&id, label.as_deref(), &sha, v);
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    /// `(id, label, file sha256, uri)` of every photo with an embedding from `model_sha256`, in id
    /// order: the photos a backbone could read.
    pub fn embedded_images(&self, model_sha256: &str) -> Result<Vec<StoredPhoto>> {
        let run = || -> rusqlite::Result<Vec<StoredPhoto>> {
            let mut st = self.conn.prepare(
                "SELECT i.id, i.label, i.sha256, i.uri FROM images i JOIN embeddings e ON e.sha256 = i.sha256
                 WHERE e.model_sha256 = ?1 ORDER BY i.id",
            )?;
            st.query_map([model_sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// SHA-256s with all `views` views of feature `key` cached.
    pub fn featured(&self, key: &str, views: usize) -> Result<HashSet<String>> {
        let run = || -> rusqlite::Result<HashSet<String>> {
            let mut st = self.conn.prepare(
                "SELECT sha256 FROM features WHERE key = ?1 AND view < ?2 GROUP BY sha256 HAVING COUNT(*) = ?2",
            )?;
            st.query_map(params![key, views as i64], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Stores features `(sha256, view, little-endian f32 bytes)` of `key` in one transaction.
    pub fn put_features(&mut self, key: &str, rows: &[(String, usize, Vec<u8>)]) -> Result<()> {
        let res = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR REPLACE INTO features (key, sha256, view, data) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (sha, view, data) in rows {
                    ins.execute(params![key, sha, *view as i64, data])?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| self.err(e))
    }

    /// Views `0..views` of feature `key` for photo bytes `sha256`, concatenated, if all are cached.
    pub fn features(&self, key: &str, sha256: &str, views: usize) -> Result<Option<Vec<u8>>> {
        let run = || -> rusqlite::Result<Option<Vec<u8>>> {
            let mut st = self.conn.prepare_cached(
                "SELECT data FROM features WHERE key = ?1 AND sha256 = ?2 AND view < ?3 ORDER BY view",
            )?;
            let parts: Vec<Vec<u8>> =
                st.query_map(params![key, sha256, views as i64], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok((parts.len() == views).then(|| parts.concat()))
        };
        run().map_err(|e| self.err(e))
    }

    /// Keys for duplicate detection, for every readable photo, in id order.
    pub fn dup_keys(&self) -> Result<Vec<DupKeys>> {
        let run = || -> rusqlite::Result<Vec<DupKeys>> {
            let mut st = self.conn.prepare(
                "SELECT id, sha256, COALESCE(width * height, 0), pixel_sha256, phash FROM images
                 WHERE sha256 IS NOT NULL ORDER BY id",
            )?;
            st.query_map([], |r| {
                Ok(DupKeys {
                    id: r.get(0)?,
                    sha256: r.get(1)?,
                    pixels: r.get::<_, i64>(2)? as u64,
                    pixel_sha256: r.get(3)?,
                    phash: r.get::<_, Option<i64>>(4)?.map(|h| h as u64),
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Calls `f` for every finding, ordered by photo id then stage and check.
    pub fn for_each_finding(&self, f: impl FnMut(FindingRow)) -> Result<()> {
        self.findings_where("1", f)
    }

    /// Calls `f` for every flagged finding, ordered by photo id then stage and check.
    pub fn for_each_flagged(&self, f: impl FnMut(FindingRow)) -> Result<()> {
        self.findings_where("f.flagged", f)
    }

    fn findings_where(&self, filter: &str, mut f: impl FnMut(FindingRow)) -> Result<()> {
        let mut run = || -> rusqlite::Result<()> {
            let mut st = self.conn.prepare(&format!(
                "SELECT {FINDING_COLUMNS} FROM findings f JOIN images i ON i.id = f.image_id
                 WHERE {filter}
                 ORDER BY f.image_id,
                   CASE f.stage WHEN 'ingest' THEN 0 WHEN 'quality' THEN 1 ELSE 2 END, f.check_name"
            ))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                f(finding_row(r)?);
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    /// Findings counted per stage and summary key (the reason code of unusable photos, else the
    /// check): `(stage, key, findings, flagged)`, in stage and key order.
    pub fn finding_counts(&self) -> Result<Vec<(String, String, u64, u64)>> {
        let run = || -> rusqlite::Result<Vec<(String, String, i64, i64)>> {
            // Grouped as the findings_summary index is ordered, so that SQLite reads only the index.
            let mut st = self.conn.prepare(
                "SELECT stage, COALESCE(reason, check_name), COUNT(*), SUM(flagged) FROM findings
                 GROUP BY stage, check_name, reason",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect()
        };
        let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for (stage, key, n, flagged) in run().map_err(|e| self.err(e))? {
            let c = counts.entry((stage, key)).or_default();
            c.0 += n as u64;
            c.1 += flagged as u64;
        }
        Ok(counts.into_iter().map(|((stage, key), (n, flagged))| (stage, key, n, flagged)).collect())
    }

    /// Up to `per_key` flagged findings of `stage` for each summary key, in photo id order: the
    /// examples a report shows, without reading every finding.
    pub fn flagged_samples(&self, stage: Stage, per_key: usize) -> Result<Vec<FindingRow>> {
        let run = || -> rusqlite::Result<Vec<FindingRow>> {
            let mut st = self.conn.prepare(&format!(
                "SELECT {FINDING_COLUMNS} FROM
                   (SELECT *, ROW_NUMBER() OVER (PARTITION BY COALESCE(reason, check_name) ORDER BY image_id) AS n
                    FROM findings WHERE flagged AND stage = ?1) f
                 JOIN images i ON i.id = f.image_id
                 WHERE f.n <= ?2 ORDER BY COALESCE(f.reason, f.check_name), f.image_id"
            ))?;
            st.query_map(params![stage.as_str(), per_key as i64], finding_row)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Whether photo `id` has a flagged finding of `stage` and `check`.
    pub fn is_flagged(&self, id: &str, stage: Stage, check: &str) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM findings WHERE image_id = ?1 AND stage = ?2 AND check_name = ?3 AND flagged")
            .and_then(|mut st| st.exists(params![id, stage.as_str(), check]))
            .map_err(|e| self.err(e))
    }

    /// Histograms of the finite scores of `stage`'s checks in `bins` equal bins spanning the
    /// scores and the threshold, computed in the database (two passes over the findings).
    pub fn score_histograms(&self, stage: Stage, bins: usize) -> Result<Vec<Histogram>> {
        let bins = bins.max(1);
        let run = || -> rusqlite::Result<Vec<Histogram>> {
            let mut st = self.conn.prepare(
                "WITH r AS (
                   SELECT check_name, MIN(score) AS mn, MAX(score) AS mx, MAX(threshold) AS t, COUNT(*) AS n
                   FROM findings WHERE stage = ?1 AND score BETWEEN -1.0e308 AND 1.0e308 GROUP BY check_name),
                 s AS (SELECT check_name, MIN(mn, COALESCE(t, mn)) AS lo, MAX(mx, COALESCE(t, mx)) AS hi, t, n FROM r)
                 SELECT s.check_name, s.lo, s.hi, s.t, s.n,
                        MAX(0, MIN(?2 - 1, CAST((f.score - s.lo) / MAX(s.hi - s.lo, 1e-9) * ?2 AS INTEGER))) AS bin,
                        COUNT(*)
                 FROM findings f JOIN s ON s.check_name = f.check_name
                 WHERE f.stage = ?1 AND f.score BETWEEN -1.0e308 AND 1.0e308
                 GROUP BY s.check_name, bin ORDER BY s.check_name, bin",
            )?;
            let mut out: Vec<Histogram> = Vec::new();
            let mut rows = st.query(params![stage.as_str(), bins as i64])?;
            while let Some(r) = rows.next()? {
                let check: String = r.get(0)?;
                if out.last().is_none_or(|h| h.check != check) {
                    out.push(Histogram {
                        check,
                        lo: r.get(1)?,
                        hi: r.get(2)?,
                        threshold: r.get(3)?,
                        counts: vec![0; bins],
                        scores: r.get::<_, i64>(4)? as u64,
                    });
                }
                let (bin, n): (i64, i64) = (r.get(5)?, r.get(6)?);
                if let (Some(h), Ok(i)) = (out.last_mut(), usize::try_from(bin))
                    && let Some(slot) = h.counts.get_mut(i)
                {
                    *slot += n as u64;
                }
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    /// `(id, label, file sha256, uri)` of one photo (sha256 empty when the file could not be read).
    pub fn photo(&self, id: &str) -> Result<Option<StoredPhoto>> {
        self.conn
            .query_row("SELECT id, label, COALESCE(sha256, ''), uri FROM images WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Calls `f(id, label, file sha256, uri, decodable)` for every photo, in id order.
    pub fn for_each_photo(&self, mut f: impl FnMut(&str, Option<&str>, Option<&str>, &str, bool)) -> Result<()> {
        let mut run = || -> rusqlite::Result<()> {
            let mut st = self.conn.prepare("SELECT id, label, sha256, uri, usable FROM images ORDER BY id")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let (id, label, sha, uri): (String, Option<String>, Option<String>, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                f(&id, label.as_deref(), sha.as_deref(), &uri, r.get(4)?);
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    /// Every label given to a photo, sorted.
    pub fn labels(&self) -> Result<Vec<String>> {
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut st =
                self.conn.prepare("SELECT DISTINCT label FROM images WHERE label IS NOT NULL ORDER BY label")?;
            st.query_map([], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Counts over everything recorded so far.
    pub fn totals(&self) -> Result<Totals> {
        let run = || -> rusqlite::Result<Totals> {
            let (images, usable): (i64, i64) =
                self.conn.query_row("SELECT COUNT(*), COALESCE(SUM(usable), 0) FROM images", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            let flagged_images: i64 =
                self.conn.query_row("SELECT COUNT(DISTINCT image_id) FROM findings WHERE flagged", [], |r| r.get(0))?;
            let mut st = self.conn.prepare(
                "SELECT COALESCE(reason, check_name), COUNT(*) FROM findings WHERE flagged GROUP BY 1 ORDER BY 1",
            )?;
            let flagged_by = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Totals {
                images: images as u64,
                usable: usable as u64,
                flagged_images: flagged_images as u64,
                flagged_by,
            })
        };
        run().map_err(|e| self.err(e))
    }

    /// The status of a run, if it exists.
    pub fn run_status(&self, run_id: i64) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT status FROM runs WHERE id = ?1", [run_id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}

const FINDING_COLUMNS: &str =
    "f.image_id, f.stage, f.check_name, f.score, f.threshold, f.flagged, f.reason, f.detail, i.uri, i.label";

fn finding_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FindingRow> {
    let reason: Option<String> = r.get(6)?;
    Ok(FindingRow {
        uri: r.get(8)?,
        label: r.get(9)?,
        finding: Finding {
            image_id: r.get(0)?,
            stage: stage_from(&r.get::<_, String>(1)?),
            check: r.get(2)?,
            score: r.get(3)?,
            threshold: r.get(4)?,
            flagged: r.get(5)?,
            reason: reason.as_deref().and_then(Reason::parse),
            detail: r.get(7)?,
        },
    })
}

/// Deletes the findings of `stage` of the photos `findings` name, then inserts `findings`.
fn replace_findings(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    stage: Stage,
    findings: &[Finding],
) -> rusqlite::Result<()> {
    {
        let mut clear = tx.prepare_cached("DELETE FROM findings WHERE image_id = ?1 AND stage = ?2")?;
        let mut last: Option<&str> = None;
        for f in findings {
            if last != Some(f.image_id.as_str()) {
                clear.execute(params![f.image_id, stage.as_str()])?;
                last = Some(&f.image_id);
            }
        }
    }
    insert_findings(tx, run_id, findings)
}

fn insert_findings(tx: &rusqlite::Transaction<'_>, run_id: i64, findings: &[Finding]) -> rusqlite::Result<()> {
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO findings (image_id, stage, check_name, score, threshold, flagged, reason, detail, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for f in findings {
        ins.execute(params![
            f.image_id,
            f.stage.as_str(),
            f.check,
            f.score,
            f.threshold,
            f.flagged,
            f.reason.map(Reason::as_str),
            f.detail,
            run_id
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crowdsift_core::Meta;

    fn row(id: &str, decoded: bool) -> ImageRow {
        ImageRow {
            record: ImageRecord {
                id: id.into(),
                uri: format!("/p/{id}"),
                label: Some("rice".into()),
                meta: Meta::new(),
            },
            sha256: Some(format!("sha-{id}")),
            bytes_len: Some(10),
            quality_scores: decoded.then(|| format!("{{\"id\":\"{id}\"}}")),
            decoded: decoded.then(|| DecodedFacts {
                format: "jpg".into(),
                width: 40,
                height: 30,
                orientation: 1,
                color: "Rgb8".into(),
                pixel_sha256: "px".into(),
                phash: u64::MAX,
            }),
        }
    }

    #[test]
    fn record_resume_and_totals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crowdsift.db");
        let mut s = Store::open(&path).unwrap();
        let run = s.begin_run("scan", "folder x", &serde_json::json!({"jobs": 2})).unwrap();
        let bad = Finding::unusable("b", Reason::Truncated, "cut");
        s.record(run, "scan", &[(row("a", true), vec![]), (row("b", false), vec![bad.clone()])]).unwrap();
        // Recording again replaces rather than duplicates.
        s.record(run, "scan", &[(row("b", false), vec![bad])]).unwrap();
        s.finish_run(run, "done").unwrap();
        drop(s);

        let s = Store::open(&path).unwrap();
        assert_eq!(s.done_ids("scan").unwrap(), HashSet::from(["a".to_owned(), "b".to_owned()]));
        let t = s.totals().unwrap();
        assert_eq!((t.images, t.usable, t.flagged_images), (2, 1, 1));
        assert_eq!(t.flagged_by.get("truncated"), Some(&1));
        let keys = s.dup_keys().unwrap();
        assert_eq!(keys[0].phash, Some(u64::MAX), "phash survives the signed round trip");
        assert_eq!(keys[1].pixel_sha256, None);
        let mut n = 0;
        s.for_each_finding(|r| {
            assert_eq!(r.finding.reason, Some(Reason::Truncated));
            assert_eq!(r.uri, "/p/b");
            n += 1;
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(s.run_status(run).unwrap().as_deref(), Some("done"));
        let mut s = s;
        let q = Finding {
            stage: Stage::Quality,
            check: "blur".into(),
            reason: None,
            ..Finding::unusable("a", Reason::Empty, "")
        };
        s.replace_findings(run, Stage::Quality, std::slice::from_ref(&q)).unwrap();
        assert_eq!(s.runs_owning(Stage::Quality).unwrap(), vec![(run, serde_json::json!({"jobs": 2}))]);
        assert_eq!(s.quality_scores_page(run, "", 10).unwrap(), vec![("a".to_owned(), "{\"id\":\"a\"}".to_owned())]);
        assert!(s.quality_scores_page(run, "a", 10).unwrap().is_empty());
        assert!(s.quality_scores_page(run + 1, "", 10).unwrap().is_empty());
        // Replacing keeps one row per (photo, check).
        s.replace_findings(run, Stage::Quality, &[q]).unwrap();
        let mut n = 0;
        s.for_each_finding(|_| n += 1).unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn counts_samples_and_histograms_come_from_sql() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let run = s.begin_run("scan", "x", &serde_json::json!({})).unwrap();
        let blur = |id: &str, score: f64| Finding {
            stage: Stage::Quality,
            check: "blur".into(),
            score: Some(score),
            threshold: Some(50.0),
            flagged: score < 50.0,
            reason: None,
            ..Finding::unusable(id, Reason::Empty, "")
        };
        let ids: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        let batch: Vec<(ImageRow, Vec<Finding>)> =
            ids.iter().enumerate().map(|(i, id)| (row(id, true), vec![blur(id, 10.0 * i as f64)])).collect();
        s.record(run, "scan", &batch).unwrap();
        s.record(run, "scan", &[(row("bad", false), vec![Finding::unusable("bad", Reason::Truncated, "cut")])])
            .unwrap();

        assert_eq!(
            s.finding_counts().unwrap(),
            vec![("ingest".into(), "truncated".into(), 1, 1), ("quality".into(), "blur".into(), 10, 5)]
        );
        let samples = s.flagged_samples(Stage::Quality, 3).unwrap();
        let got: Vec<&str> = samples.iter().map(|r| r.finding.image_id.as_str()).collect();
        assert_eq!(got, ["p0", "p1", "p2"], "the first three flagged, in id order");
        assert_eq!(samples[0].uri, "/p/p0");
        assert!(s.is_flagged("p1", Stage::Quality, "blur").unwrap());
        assert!(!s.is_flagged("p7", Stage::Quality, "blur").unwrap());
        let h = s.score_histograms(Stage::Quality, 10).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].lo, h[0].hi, h[0].threshold, h[0].scores), (0.0, 90.0, Some(50.0), 10));
        // Scores 0, 10, …, 90 over [0, 90] in ten bins: one each, the maximum in the last bin.
        assert_eq!(h[0].counts, vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    }
}
