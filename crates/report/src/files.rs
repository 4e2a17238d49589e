//! What the stages wrote, read back: the audit's labels.csv and the redacted copies.

use std::collections::BTreeMap;
use std::path::Path;

/// A row of audit/labels.csv.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: String,
    pub label: String,
    pub suggested: String,
    /// Probability of the given label.
    pub p_label: f64,
    pub issue: bool,
    /// Review rank (1 first; `f64::MAX` without one).
    pub rank: f64,
}

/// The rows of `audit/labels.csv`; `None` when the audit has not written it.
pub fn read_labels(path: &Path) -> Option<Vec<AuditRow>> {
    let mut rdr = csv::Reader::from_path(path).ok()?;
    let headers = rdr.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (id, label, suggested, p, issue, rank) =
        (col("id")?, col("label")?, col("suggested")?, col("p_label")?, col("label_issue")?, col("rank")?);
    Some(
        rdr.records()
            .filter_map(Result::ok)
            .map(|r| AuditRow {
                id: r[id].to_owned(),
                label: r[label].to_owned(),
                suggested: r[suggested].to_owned(),
                p_label: r[p].parse().unwrap_or(0.0),
                issue: &r[issue] == "1",
                rank: r[rank].parse().unwrap_or(f64::MAX),
            })
            .collect(),
    )
}

/// A release copy `redact` wrote, and the SHA-256 of the file it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedCopy {
    pub path: std::path::PathBuf,
    pub source_sha256: String,
}

/// Photo id → its redacted copy, as `redact` recorded them in the store (copies that exist only).
pub fn redacted_copies(
    store: &crowdsift_store::Store,
    out: &Path,
) -> Result<BTreeMap<String, RedactedCopy>, crowdsift_store::StoreError> {
    let mut copies = BTreeMap::new();
    for r in store.paged(crowdsift_store::Store::redactions, 4096) {
        let r = r?;
        let copy = RedactedCopy { path: out.join(&r.output), source_sha256: r.source_sha256 };
        if copy.path.is_file() {
            copies.insert(r.id, copy);
        }
    }
    Ok(copies)
}
