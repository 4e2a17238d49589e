//! The review queues: the photos some check flagged, grouped by what a person has to decide, most
//! urgent first. Built from the store's flagged findings and the audit's labels.csv.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crowdsift_core::{PII_DOUBTS, Stage};
use crowdsift_store::{FindingRow, Store, StoreError};
use serde::Serialize;

/// What a queue asks of the reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Photos that cannot be read, fail a quality check or are off-topic: keep or reject.
    Unusable,
    /// Photos whose label the audit doubts, outliers, duplicates carrying other labels: keep,
    /// relabel (often to the suggestion) or reject.
    Labels,
    /// Exact and near copies of another photo: keep or reject.
    Duplicates,
    /// Photos with personal data: check the redacted copy, mark what it missed, keep or reject.
    Pii,
}

impl QueueKind {
    pub const ALL: [QueueKind; 4] = [QueueKind::Unusable, QueueKind::Labels, QueueKind::Duplicates, QueueKind::Pii];

    pub const fn as_str(self) -> &'static str {
        match self {
            QueueKind::Unusable => "unusable",
            QueueKind::Labels => "labels",
            QueueKind::Duplicates => "duplicates",
            QueueKind::Pii => "pii",
        }
    }

    /// What a person decides in the queue, in a few words.
    pub const fn about(self) -> &'static str {
        match self {
            QueueKind::Unusable => "unreadable, failing a quality check or off-topic: keep or reject",
            QueueKind::Labels => "label doubted by the audit: keep, relabel or reject",
            QueueKind::Duplicates => "copy of another photo: keep or reject",
            QueueKind::Pii => "personal data the release rule is unsure of: check the redacted copy",
        }
    }

    pub fn parse(s: &str) -> Option<QueueKind> {
        QueueKind::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// The queue a flagged finding puts its photo in (`None`: nothing to decide, e.g. OCR text).
    pub(crate) fn of(f: &crowdsift_core::Finding) -> Option<QueueKind> {
        match f.stage {
            Stage::Ingest | Stage::Quality => Some(QueueKind::Unusable),
            // No item of the collection: kept or rejected, never relabelled.
            Stage::Audit if f.check == "off_topic" => Some(QueueKind::Unusable),
            Stage::Duplicates => Some(QueueKind::Duplicates),
            Stage::Audit => Some(QueueKind::Labels),
            Stage::Pii | Stage::Redact => Some(QueueKind::Pii),
            _ => None,
        }
    }
}

/// One flagged finding, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub check: String,
    pub detail: String,
}

/// A photo in a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    pub label: Option<String>,
    /// The audit's suggested label, when it doubts the given one.
    pub suggested: Option<String>,
    pub reasons: Vec<Reason>,
    /// Other photos the findings name (the copy kept, the near copies), to show beside it.
    pub related: Vec<String>,
    /// Smaller is more urgent.
    #[serde(skip)]
    rank: (u8, f64),
}

/// Every queue, ranked.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    pub queues: BTreeMap<QueueKind, Vec<Item>>,
}

impl Queues {
    /// Builds the queues of the output folder `out` from its store.
    pub fn build(store: &Store, out: &Path) -> Result<Queues, StoreError> {
        let mut rows: Vec<FindingRow> = Vec::new();
        store.for_each_flagged(|r| rows.push(r))?;
        let audit: HashMap<String, crowdsift_report::AuditRow> =
            crowdsift_report::read_labels(&out.join("audit").join("labels.csv"))
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
        // The photos a finding's evidence names (the copy a duplicate copies, …): of the words of
        // the flagged findings' details, those that are photo ids. Only those are kept, not every
        // id of the collection.
        let words = |detail: &str| -> Vec<String> {
            detail.split(|c: char| c.is_whitespace() || ",;()".contains(c)).map(str::to_owned).collect()
        };
        let mentioned: HashSet<String> = rows.iter().flat_map(|r| words(&r.finding.detail)).collect();
        let mut known = HashSet::new();
        store.for_each_photo(|id, _, _, _, _| {
            if mentioned.contains(id) {
                known.insert(id.to_owned());
            }
        })?;
        drop(mentioned);

        let mut items: BTreeMap<(QueueKind, String), Item> = BTreeMap::new();
        for r in &rows {
            let f = &r.finding;
            let Some(kind) = QueueKind::of(f) else { continue };
            let item = items.entry((kind, f.image_id.clone())).or_insert_with(|| Item {
                id: f.image_id.clone(),
                label: r.label.clone(),
                suggested: None,
                reasons: Vec::new(),
                related: Vec::new(),
                rank: (u8::MAX, f64::MAX),
            });
            item.reasons.push(Reason { check: f.summary_key().to_owned(), detail: f.detail.clone() });
            for word in words(&f.detail) {
                if word != f.image_id && known.contains(&word) && !item.related.contains(&word) {
                    item.related.push(word);
                }
            }
            let score = f.score.unwrap_or(0.0);
            let rank = match (kind, f.check.as_str()) {
                // Unreadable before failing a check; within a check, the furthest past its threshold.
                (QueueKind::Unusable, "decode") => (0, 0.0),
                (QueueKind::Unusable, _) => (1, -(score - f.threshold.unwrap_or(score)).abs()),
                // Label issues in the audit's review order, then conflicts, then outliers.
                (QueueKind::Labels, "label_issue") => {
                    item.suggested =
                        audit.get(&f.image_id).map(|a| a.suggested.clone()).filter(|s| Some(s) != r.label.as_ref());
                    (0, audit.get(&f.image_id).map_or(score, |a| a.rank))
                }
                (QueueKind::Labels, "label_conflict") => (1, -score),
                (QueueKind::Labels, _) => (2, -score),
                // Exact copies before near ones (closest first).
                (QueueKind::Duplicates, "exact_duplicate") => (0, 0.0),
                (QueueKind::Duplicates, _) => (1, score),
                // What redaction may have missed first, then what the release rule for text could not
                // vouch for (handwriting, text not read or not classified), then the photos with the
                // most findings.
                (QueueKind::Pii, "redact_residual") => (0, 0.0),
                (QueueKind::Pii, check) if PII_DOUBTS.contains(&check) => (1, 0.0),
                (QueueKind::Pii, _) => (2, -score),
            };
            if rank < item.rank {
                item.rank = rank;
            }
        }
        let mut queues: BTreeMap<QueueKind, Vec<Item>> = QueueKind::ALL.into_iter().map(|q| (q, Vec::new())).collect();
        for ((kind, _), item) in items {
            queues.entry(kind).or_default().push(item);
        }
        for list in queues.values_mut() {
            list.sort_by(|a, b| a.rank.0.cmp(&b.rank.0).then(a.rank.1.total_cmp(&b.rank.1)).then(a.id.cmp(&b.id)));
        }
        Ok(Queues { queues })
    }

    pub fn get(&self, kind: QueueKind) -> &[Item] {
        self.queues.get(&kind).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crowdsift_core::{Finding, ImageRecord, Meta, Reason as Why};
    use crowdsift_store::ImageRow;

    fn row(id: &str) -> (ImageRow, Vec<Finding>) {
        let record =
            ImageRecord { id: id.into(), uri: format!("/p/{id}"), label: Some("rice".into()), meta: Meta::new() };
        (ImageRow { record, sha256: None, bytes_len: None, decoded: None, quality_scores: None }, vec![])
    }

    fn quality(id: &str, check: &str, score: f64, threshold: f64, flagged: bool) -> Finding {
        Finding {
            stage: Stage::Quality,
            check: check.into(),
            score: Some(score),
            threshold: Some(threshold),
            flagged,
            reason: None,
            ..Finding::unusable(id, Why::Empty, "q")
        }
    }

    #[test]
    fn flagged_photos_land_in_their_queue_most_urgent_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("crowdsift.db")).unwrap();
        let run = s.begin_run("scan", "x", &serde_json::json!({})).unwrap();
        let mut rows: Vec<_> = ["a", "b", "c", "d", "e"].iter().map(|id| row(id)).collect();
        rows[0].1 = vec![quality("a", "blur", 40.0, 50.0, true)];
        rows[1].1 = vec![quality("b", "blur", 5.0, 50.0, true), quality("b", "dark", 0.5, 0.1, false)];
        rows[2].1 = vec![Finding::unusable("c", Why::Truncated, "cut")];
        rows[3].1 = vec![quality("d", "dark", 0.01, 0.1, false)];
        s.record(run, "scan", &rows).unwrap();
        let dup = Finding::scored(
            "e",
            Stage::Duplicates,
            "exact_duplicate",
            2.0,
            true,
            "same file bytes as a (group of 2)".into(),
        );
        let face = Finding::scored("a", Stage::Pii, "pii", 1.0, true, "1 face".into());
        // An off-topic photo is kept or rejected, never relabelled: the unusable queue.
        let off = Finding::scored("d", Stage::Audit, "off_topic", 6.0, true, "unlike the collection".into());
        s.replace_stage_findings(run, Stage::Duplicates, &[dup]).unwrap();
        s.replace_findings(run, Stage::Pii, &[face]).unwrap();
        s.replace_stage_findings(run, Stage::Audit, &[off]).unwrap();

        let q = Queues::build(&s, dir.path()).unwrap();
        let ids = |k| q.get(k).iter().map(|i| i.id.as_str()).collect::<Vec<_>>();
        // The undecodable photo first, then the blurriest; d passed every check of the scan but
        // is off-topic (furthest past its threshold).
        assert_eq!(ids(QueueKind::Unusable), ["c", "b", "a", "d"]);
        assert_eq!(q.get(QueueKind::Unusable)[1].reasons, vec![Reason { check: "blur".into(), detail: "q".into() }]);
        assert_eq!(ids(QueueKind::Duplicates), ["e"]);
        assert_eq!(q.get(QueueKind::Duplicates)[0].related, ["a"], "the copy it duplicates");
        assert_eq!(ids(QueueKind::Pii), ["a"]);
        assert!(ids(QueueKind::Labels).is_empty());
        let queued = |id: &str| q.queues.values().flatten().any(|i| i.id == id);
        assert!(queued("a") && queued("d"));
    }
}
