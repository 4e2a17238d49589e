//! What the stages wrote besides the store, read back: the audit's labels.csv and the records of
//! redacted copies.

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

/// Photo id → its redacted copy, from the records `redact` wrote (copies that exist only).
pub fn redacted_copies(out: &Path) -> BTreeMap<String, RedactedCopy> {
    let Ok(dir) = std::fs::read_dir(out.join("redact")) else { return BTreeMap::new() };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|v| {
            let copy = RedactedCopy {
                path: out.join(v["output"].as_str()?),
                source_sha256: v["source_sha256"].as_str()?.to_owned(),
            };
            Some((v["id"].as_str()?.to_owned(), copy))
        })
        .filter(|(_, c)| c.path.is_file())
        .collect()
}
