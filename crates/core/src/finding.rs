use std::fmt;

use serde::{Deserialize, Serialize};

/// Pipeline stage that produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Reading and decoding the file.
    Ingest,
    /// Per-photo quality checks.
    Quality,
    /// Collection-level duplicate detection.
    Duplicates,
    /// Label audit: label issues, outliers, label conflicts among duplicates.
    Audit,
    /// Text found and read in the photo.
    Ocr,
    /// Personal data in that text.
    Pii,
    /// Release copies with personal data hidden and metadata removed.
    Redact,
}

impl Stage {
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Quality => "quality",
            Stage::Duplicates => "duplicates",
            Stage::Audit => "audit",
            Stage::Ocr => "ocr",
            Stage::Pii => "pii",
            Stage::Redact => "redact",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The checks of stage `pii` that hold a photo for a person before it is released — the release
/// rule for text (`crowdsift_pii::safety`): handwriting, text not read with good confidence, text
/// found but not read, text not classified. The other `pii` checks name kinds of personal data
/// found, which redaction hides.
pub const PII_DOUBTS: [&str; 4] = ["handwriting", "low_confidence_text", "unread_text", "unclassified_text"];

/// Why a photo could not be used at all. Each is a stable code written to every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The file does not exist (or is a dangling symlink, or a symlink loop).
    Missing,
    /// The file exists but may not be read.
    Permission,
    /// The file has zero bytes.
    Empty,
    /// The file ends before the image does (a cut-off upload).
    Truncated,
    /// The file claims to be an image format but its header is invalid.
    BadHeader,
    /// The file is not an image format crowdsift decodes (the detail names it).
    UnsupportedFormat,
    /// Declared dimensions, allocation or file size exceed the configured limits.
    TooLarge,
    /// Any other failure while decoding the pixel data.
    DecodeError,
    /// The file could not be read for an I/O reason other than the above.
    ReadError,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::Missing,
        Reason::Permission,
        Reason::Empty,
        Reason::Truncated,
        Reason::BadHeader,
        Reason::UnsupportedFormat,
        Reason::TooLarge,
        Reason::DecodeError,
        Reason::ReadError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Permission => "permission",
            Reason::Empty => "empty",
            Reason::Truncated => "truncated",
            Reason::BadHeader => "bad_header",
            Reason::UnsupportedFormat => "unsupported_format",
            Reason::TooLarge => "too_large",
            Reason::DecodeError => "decode_error",
            Reason::ReadError => "read_error",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's verdict on one photo: a continuous score, the threshold it was compared with,
/// whether it is flagged, and a sentence a moderator can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub image_id: String,
    pub stage: Stage,
    /// Name of the check, e.g. `blur`, `dark`, `decode`, `near_duplicate`.
    pub check: String,
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub flagged: bool,
    /// Reason code for unusable photos (`decode` check only).
    pub reason: Option<Reason>,
    /// Human-readable evidence: why it was (not) flagged.
    pub detail: String,
}

impl Finding {
    /// A scored finding of a check without a threshold (what later stages record: a count, a
    /// best score), with its evidence.
    pub fn scored(image_id: &str, stage: Stage, check: &str, score: f64, flagged: bool, detail: String) -> Self {
        Finding {
            image_id: image_id.to_owned(),
            stage,
            check: check.to_owned(),
            score: Some(score),
            threshold: None,
            flagged,
            reason: None,
            detail,
        }
    }

    /// The single finding recorded for a photo that could not be read or decoded.
    pub fn unusable(image_id: &str, reason: Reason, detail: impl Into<String>) -> Self {
        Finding {
            image_id: image_id.to_owned(),
            stage: Stage::Ingest,
            check: "decode".to_owned(),
            score: None,
            threshold: None,
            flagged: true,
            reason: Some(reason),
            detail: detail.into(),
        }
    }

    /// Label used to count this finding in a summary: the reason code for unusable photos, the
    /// check name otherwise.
    pub fn summary_key(&self) -> &str {
        match self.reason {
            Some(r) => r.as_str(),
            None => &self.check,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("nope"), None);
    }

    #[test]
    fn unusable_findings_count_by_reason() {
        let f = Finding::unusable("a", Reason::Truncated, "cut at 10 of 100 bytes");
        assert!(f.flagged);
        assert_eq!(f.summary_key(), "truncated");
        assert_eq!(f.check, "decode");
    }
}
