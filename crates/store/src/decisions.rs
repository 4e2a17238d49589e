//! Review decisions: an append-only log in which each row holds a photo's whole state after the
//! decision (verdict, label after review, regions to hide), with the reviewer and the time. The
//! latest row is the photo's decision; undoing appends the state from before the undone row, so
//! the log never loses what anybody did.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Result, Store};

/// Whether a photo goes into the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Reject,
}

impl Verdict {
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Keep => "keep",
            Verdict::Reject => "reject",
        }
    }

    fn parse(s: &str) -> Option<Verdict> {
        match s {
            "keep" => Some(Verdict::Keep),
            "reject" => Some(Verdict::Reject),
            _ => None,
        }
    }
}

/// What a person changes about a photo.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Release the photo (redacted where personal data was found).
    Keep,
    /// Leave the photo out of the release.
    Reject,
    /// Release the photo under another label.
    Relabel(String),
    /// Hide these rectangles too (`[x0, y0, x1, y1]` as fractions of the picture), replacing any
    /// marked before.
    Regions(Vec<[f32; 4]>),
    /// Go back to the state before decision `seq` of the same photo.
    Undo(i64),
}

impl Change {
    fn action(&self) -> &'static str {
        match self {
            Change::Keep => "keep",
            Change::Reject => "reject",
            Change::Relabel(_) => "relabel",
            Change::Regions(_) => "regions",
            Change::Undo(_) => "undo",
        }
    }
}

/// A photo's state after a decision, with who made the decision, where and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub seq: i64,
    pub image_id: String,
    pub action: String,
    pub verdict: Option<Verdict>,
    /// The label after review, when the reviewer changed it.
    pub label: Option<String>,
    pub regions: Vec<[f32; 4]>,
    pub queue: String,
    pub reviewer: String,
    pub at: String,
}

const COLUMNS: &str = "seq, image_id, action, verdict, label, regions, queue, reviewer, at";

fn decision(r: &Row<'_>) -> rusqlite::Result<Decision> {
    let verdict: Option<String> = r.get(3)?;
    let regions: String = r.get(5)?;
    Ok(Decision {
        seq: r.get(0)?,
        image_id: r.get(1)?,
        action: r.get(2)?,
        verdict: verdict.as_deref().and_then(Verdict::parse),
        label: r.get(4)?,
        regions: serde_json::from_str(&regions).unwrap_or_default(),
        queue: r.get(6)?,
        reviewer: r.get(7)?,
        at: r.get(8)?,
    })
}

/// Why a decision could not be recorded (besides the database failing).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecisionError {
    #[error("no photo {0} in the store")]
    UnknownPhoto(String),
    #[error("photo {image_id} has no decision {seq} to undo")]
    UnknownDecision { image_id: String, seq: i64 },
}

impl Store {
    /// Records `change` to photo `image_id` made by `reviewer` in `queue`, and returns the photo's
    /// new state. `Ok(Err(_))` when the photo or the decision to undo does not exist.
    pub fn decide(
        &mut self,
        image_id: &str,
        change: &Change,
        queue: &str,
        reviewer: &str,
    ) -> Result<std::result::Result<Decision, DecisionError>> {
        let res = (|| -> rusqlite::Result<std::result::Result<Decision, DecisionError>> {
            let tx = self.conn.transaction()?;
            let known = tx.query_row("SELECT 1 FROM images WHERE id = ?1", [image_id], |_| Ok(())).optional()?;
            if known.is_none() {
                return Ok(Err(DecisionError::UnknownPhoto(image_id.to_owned())));
            }
            let latest_before = |seq: i64| {
                tx.query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM decisions WHERE image_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1"
                    ),
                    params![image_id, seq],
                    decision,
                )
                .optional()
            };
            let current = latest_before(i64::MAX)?;
            let (mut verdict, mut label, mut regions) = match &current {
                Some(d) => (d.verdict, d.label.clone(), d.regions.clone()),
                None => (None, None, Vec::new()),
            };
            match change {
                Change::Keep => verdict = Some(Verdict::Keep),
                Change::Reject => verdict = Some(Verdict::Reject),
                Change::Relabel(l) => {
                    label = Some(l.clone());
                    verdict = Some(Verdict::Keep);
                }
                Change::Regions(r) => regions = r.clone(),
                Change::Undo(seq) => {
                    let exists = tx
                        .query_row(
                            "SELECT 1 FROM decisions WHERE image_id = ?1 AND seq = ?2",
                            params![image_id, seq],
                            |_| Ok(()),
                        )
                        .optional()?;
                    if exists.is_none() {
                        return Ok(Err(DecisionError::UnknownDecision { image_id: image_id.to_owned(), seq: *seq }));
                    }
                    (verdict, label, regions) = match latest_before(*seq)? {
                        Some(d) => (d.verdict, d.label, d.regions),
                        None => (None, None, Vec::new()),
                    };
                }
            }
            let regions_json = serde_json::to_string(&regions).unwrap_or_else(|_| "[]".to_owned());
            tx.execute(
                "INSERT INTO decisions (image_id, action, verdict, label, regions, queue, reviewer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![image_id, change.action(), verdict.map(Verdict::as_str), label, regions_json, queue, reviewer],
            )?;
            let seq = tx.last_insert_rowid();
            let d = tx.query_row(&format!("SELECT {COLUMNS} FROM decisions WHERE seq = ?1"), [seq], decision)?;
            tx.commit()?;
            Ok(Ok(d))
        })();
        res.map_err(|e| self.err(e))
    }

    /// The current decision of every photo that has one, in photo id order.
    pub fn decisions(&self) -> Result<Vec<Decision>> {
        let run = || -> rusqlite::Result<Vec<Decision>> {
            let mut st = self.conn.prepare(&format!(
                "SELECT {COLUMNS} FROM decisions WHERE seq IN (SELECT MAX(seq) FROM decisions GROUP BY image_id)
                 ORDER BY image_id"
            ))?;
            st.query_map([], decision)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The log, newest first: of one photo, or of every photo; at most `limit` rows.
    pub fn decision_log(&self, image_id: Option<&str>, limit: usize) -> Result<Vec<Decision>> {
        let run = || -> rusqlite::Result<Vec<Decision>> {
            let mut st = self.conn.prepare(&format!(
                "SELECT {COLUMNS} FROM decisions WHERE ?1 IS NULL OR image_id = ?1 ORDER BY seq DESC LIMIT ?2"
            ))?;
            st.query_map(params![image_id, limit as i64], decision)?.collect()
        };
        run().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImageRow, Store};
    use crowdsift_core::{ImageRecord, Meta};

    fn store_with(ids: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let run = s.begin_run("scan", "x", &serde_json::json!({})).unwrap();
        let rows: Vec<(ImageRow, Vec<crowdsift_core::Finding>)> = ids
            .iter()
            .map(|id| {
                let record = ImageRecord {
                    id: (*id).into(),
                    uri: format!("/p/{id}"),
                    label: Some("rice".into()),
                    meta: Meta::new(),
                };
                (ImageRow { record, sha256: None, bytes_len: None, decoded: None, quality_scores: None }, vec![])
            })
            .collect();
        s.record(run, "scan", &rows).unwrap();
        (dir, s)
    }

    #[test]
    fn decisions_accumulate_undo_restores_and_the_log_keeps_everything() {
        let (dir, mut s) = store_with(&["a", "b"]);
        let d1 = s.decide("a", &Change::Reject, "unusable", "ana").unwrap().unwrap();
        assert_eq!((d1.verdict, d1.reviewer.as_str(), d1.queue.as_str()), (Some(Verdict::Reject), "ana", "unusable"));
        let d2 = s.decide("a", &Change::Relabel("beans".into()), "labels", "ana").unwrap().unwrap();
        assert_eq!((d2.verdict, d2.label.as_deref()), (Some(Verdict::Keep), Some("beans")));
        let d3 = s.decide("a", &Change::Regions(vec![[0.1, 0.2, 0.3, 0.4]]), "pii", "bo").unwrap().unwrap();
        assert_eq!(
            (d3.verdict, d3.label.as_deref(), d3.regions.clone()),
            (Some(Verdict::Keep), Some("beans"), vec![[0.1, 0.2, 0.3, 0.4]])
        );
        // Undoing the relabel goes back to the state before it (rejected, no regions).
        let u = s.decide("a", &Change::Undo(d2.seq), "labels", "bo").unwrap().unwrap();
        assert_eq!((u.verdict, u.label, u.regions.len(), u.action.as_str()), (Some(Verdict::Reject), None, 0, "undo"));
        // Undoing the first decision clears the photo.
        let u = s.decide("a", &Change::Undo(d1.seq), "unusable", "bo").unwrap().unwrap();
        assert_eq!(u.verdict, None);
        assert_eq!(s.decide("zz", &Change::Keep, "pii", "bo").unwrap(), Err(DecisionError::UnknownPhoto("zz".into())));
        assert_eq!(
            s.decide("b", &Change::Undo(d1.seq), "pii", "bo").unwrap(),
            Err(DecisionError::UnknownDecision { image_id: "b".into(), seq: d1.seq })
        );
        s.decide("b", &Change::Keep, "pii", "bo").unwrap().unwrap();
        drop(s);

        // Decisions survive reopening; the log keeps every row, newest first.
        let s = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let current: Vec<(String, Option<Verdict>)> =
            s.decisions().unwrap().into_iter().map(|d| (d.image_id, d.verdict)).collect();
        assert_eq!(current, vec![("a".into(), None), ("b".into(), Some(Verdict::Keep))]);
        let log: Vec<String> = s.decision_log(Some("a"), 100).unwrap().into_iter().map(|d| d.action).collect();
        assert_eq!(log, ["undo", "undo", "regions", "relabel", "reject"]);
        assert_eq!(s.decision_log(None, 2).unwrap().len(), 2);
        assert!(s.decision_log(None, 100).unwrap().windows(2).all(|w| w[0].seq > w[1].seq));
    }
}
