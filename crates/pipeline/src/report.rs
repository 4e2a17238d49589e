//! `report`: DIR/report.html from the store and the stages' files, with thumbnails of the photos
//! it shows (read again from their uris, or from their redacted copies where they hold personal
//! data), embedded so the page is one file.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use crowdsift_core::Limits;
use crowdsift_ingest::{DecodeParams, Fetcher, Fit, Location, decode};
use crowdsift_redact::OutputFormat;

use crate::scan::PipelineError;

#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub path: PathBuf,
    pub counts: crowdsift_report::ReportCounts,
}

/// A thumbnail of the photo at `location` (a file path or a uri) as a JPEG data URI.
fn thumbnail(fetcher: &Fetcher, limits: Limits, location: &str) -> Option<String> {
    // The fetcher reads paths and uris alike (file://, s3://), within the limits.
    let bytes = fetcher.fetch(&Location::from_uri(location)).ok()?;
    let d = decode(&bytes, &DecodeParams { limits, fit: Fit::LongSide(240) }).ok()?;
    let jpeg = crowdsift_redact::encode(&d.image, OutputFormat::Jpeg { quality: 80 }, None).ok()?;
    Some(format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg.bytes)))
}

/// The report's first screen from what `release` would do now (`None`, logged, when it cannot
/// be worked out: the rest of the report is still written).
fn next_steps(out: &Path) -> Option<crowdsift_report::NextSteps> {
    use crowdsift_review::QueueKind;
    let s = crowdsift_review::outlook(out).inspect_err(|e| tracing::warn!("report: next steps not known: {e}")).ok()?;
    let mut waiting = s.waiting;
    Some(crowdsift_report::NextSteps {
        ready: s.released,
        rejected: s.rejected,
        unreadable: s.unreadable,
        unredacted: s.unredacted,
        waiting: QueueKind::ALL
            .into_iter()
            .filter_map(|k| {
                let photos = waiting.remove(k.as_str())?;
                Some(crowdsift_report::Waiting { queue: k.as_str().to_owned(), about: k.about().to_owned(), photos })
            })
            .collect(),
    })
}

/// Writes `out/report.html`.
pub fn report(out: &Path, limits: Limits) -> Result<ReportSummary, PipelineError> {
    let db = out.join("crowdsift.db");
    if !db.is_file() {
        return Err(PipelineError::Invalid(format!(
            "no results in {}: run `crowdsift scan SRC --out {}` (or `crowdsift run`) first",
            out.display(),
            out.display()
        )));
    }
    let store = crowdsift_store::Store::open(&db)?;
    let fetcher = Fetcher::new(limits);
    let thumbs = |_id: &str, location: &str| thumbnail(&fetcher, limits, location);
    // Every stage before this one (the report is the page itself).
    let stages: Vec<(&str, &str)> =
        crate::stages::PIPELINE.iter().filter(|s| s.name != "report").map(|s| (s.name, s.about)).collect();
    let next = next_steps(out);
    let (html, counts) = crowdsift_report::render(&store, out, &stages, next.as_ref(), &thumbs)?;
    let path = out.join("report.html");
    std::fs::write(&path, html).map_err(|source| PipelineError::Io { path: path.clone(), source })?;
    Ok(ReportSummary { path, counts })
}
