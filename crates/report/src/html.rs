//! `report.html`: one self-contained page (styles inline, thumbnails as data URIs, plots as inline
//! SVG; no script, nothing fetched) written from the store and the stages' files, so that its
//! numbers always agree with findings.csv.
//!
//! Sections: what to do now (photos ready to release, photos waiting for a person per review queue
//! with why and a few of them); summary counts; findings per check; a gallery per reason; score histograms of the
//! quality checks with their thresholds; the label audit's review queue and its confusion of given
//! and suggested labels; personal data found (thumbnails only of redacted copies); the runs with
//! their versions and configurations. A stage that has not run is shown as not run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crowdsift_core::{PII_DOUBTS, Stage};
use crowdsift_store::{FindingRow, Histogram, Store, Verdict};

use crate::export::ExportError;
use crate::files::{AuditRow, read_labels, redacted_copies};

/// Photos shown per gallery.
const GALLERY: usize = 12;
/// Rows of the label-issue queue shown.
const QUEUE: usize = 50;

/// The page's first screen, what a person does now: what `release` would publish and what waits
/// for a person in which review queue. Made by the caller from the release rule, which belongs to
/// the review stage, not to the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NextSteps {
    /// Photos `release` would publish now: approved, or needing nobody.
    pub ready: u64,
    /// Photos a reviewer rejected.
    pub rejected: u64,
    /// Photos no decoder can read.
    pub unreadable: u64,
    /// Photos with personal data and no redacted copy of their current file.
    pub unredacted: u64,
    /// The review queues where photos wait, in the order a person takes them.
    pub waiting: Vec<Waiting>,
}

/// A review queue on the first screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Waiting {
    /// The queue's name (`unusable`, `labels`, `duplicates`, `pii`).
    pub queue: String,
    /// What a person decides there.
    pub about: String,
    /// The photos that wait in it, each with the checks that put it there.
    pub photos: Vec<(String, Vec<String>)>,
}

/// Photos shown per waiting queue on the first screen.
const EXAMPLES: usize = 6;

/// What the page shows, counted (the test compares these with the store).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportCounts {
    pub photos: u64,
    pub usable: u64,
    pub flagged_photos: u64,
    /// Photos ready to release, when the first screen was shown.
    pub ready: Option<u64>,
    /// Photos waiting for a person, per review queue.
    pub waiting: BTreeMap<String, u64>,
    /// Flagged findings per `stage:check`.
    pub flagged: BTreeMap<String, u64>,
    pub thumbnails: usize,
}

/// Where thumbnails come from: `(id, path or uri)` to a data URI (`data:image/jpeg;base64,…`),
/// `None` when the photo cannot be read.
pub type Thumbnails<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A bar histogram (counts in equal bins over `lo..=hi`) with the threshold drawn, as inline SVG.
fn histogram(hist: &Histogram) -> String {
    let (w, h) = (320.0, 120.0);
    let (lo, hi, counts, threshold) = (hist.lo, hist.hi, &hist.counts, hist.threshold);
    let bins = counts.len().max(1);
    let span = (hi - lo).max(1e-9);
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = w / bins as f64;
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" role="img">"#, h + 16.0);
    for (i, c) in counts.iter().enumerate() {
        let bh = h * *c as f64 / top;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#4a7bb7"><title>{c}</title></rect>"##,
            i as f64 * bw + 1.0,
            h - bh,
            bw - 2.0
        );
    }
    if let Some(t) = threshold {
        let x = (t - lo) / span * w;
        let _ = write!(svg, r##"<line x1="{x:.1}" x2="{x:.1}" y1="0" y2="{h}" stroke="#c0392b" stroke-width="2"/>"##);
    }
    let _ = write!(
        svg,
        r##"<text x="0" y="{}" font-size="10">{}</text><text x="{w}" y="{}" font-size="10" text-anchor="end">{}</text></svg>"##,
        h + 12.0,
        esc(&format!("{lo:.3}")),
        h + 12.0,
        esc(&format!("{hi:.3}"))
    );
    svg
}

/// Given label × suggested label as an SVG heat map.
fn confusion(pairs: &[(String, String)]) -> String {
    let mut labels: Vec<&String> = pairs.iter().flat_map(|(a, b)| [a, b]).collect();
    labels.sort();
    labels.dedup();
    let idx = |l: &String| labels.iter().position(|x| *x == l).unwrap_or(0);
    let n = labels.len();
    let mut m = vec![vec![0usize; n]; n];
    for (a, b) in pairs {
        m[idx(a)][idx(b)] += 1;
    }
    let top = m.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let (cell, left, head) = (22.0, 110.0, 110.0);
    let size = left + cell * n as f64 + 60.0; // room for the last column's slanted label
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{}" role="img">"#,
        head + cell * n as f64 + 4.0
    );
    for (i, l) in labels.iter().enumerate() {
        let y = head + cell * i as f64 + 15.0;
        let _ = write!(svg, r#"<text x="{}" y="{y}" font-size="11" text-anchor="end">{}</text>"#, left - 4.0, esc(l));
        let x = left + cell * i as f64 + 15.0;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{}" font-size="11" transform="rotate(-60 {x} {})">{}</text>"#,
            head - 4.0,
            head - 4.0,
            esc(l)
        );
    }
    for (i, row) in m.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            let a = if *c == 0 { 0.0 } else { 0.15 + 0.85 * *c as f64 / top };
            let _ = write!(
                svg,
                r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#2c6e49" fill-opacity="{a:.2}" stroke="#ddd"><title>{} → {}: {c}</title></rect>"##,
                left + cell * j as f64,
                head + cell * i as f64,
                cell,
                cell,
                esc(labels[i]),
                esc(labels[j])
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One photo of a gallery: its thumbnail (when there is one), id, label and evidence.
fn card(
    html: &mut String,
    counts: &mut ReportCounts,
    thumb: Option<String>,
    id: &str,
    label: Option<&str>,
    text: &str,
) {
    html.push_str(r#"<figure class="card">"#);
    match thumb {
        Some(uri) => {
            counts.thumbnails += 1;
            let _ = write!(html, r#"<img src="{}" alt="{}">"#, esc(&uri), esc(id));
        }
        None => html.push_str(r#"<div class="nothumb">no picture</div>"#),
    }
    let _ = write!(
        html,
        "<figcaption><b>{}</b>{}<br>{}</figcaption></figure>",
        esc(id),
        label.map(|l| format!(" · {}", esc(l))).unwrap_or_default(),
        esc(text)
    );
}

/// The first screen: how many photos are ready to release, how many wait for a person in each
/// queue and why, the command for each, and a few of the photos waiting.
fn first_screen(
    html: &mut String,
    counts: &mut ReportCounts,
    out: &Path,
    next: Option<&NextSteps>,
    picture: &dyn Fn(&str) -> Option<String>,
) {
    let dir = esc(&out.display().to_string());
    html.push_str("<section id=\"next\"><h2>What to do now</h2>");
    let Some(next) = next else {
        html.push_str(
            "<p class=\"absent\">Not known: the release rule could not be applied to this folder.</p></section>",
        );
        return;
    };
    counts.ready = Some(next.ready);
    let _ = write!(
        html,
        "<p><b class=\"num\" data-count=\"ready\">{}</b> photos are ready to release without a person: \
         <code>crowdsift release {dir} --to RELEASE_FOLDER</code></p>",
        next.ready
    );
    if next.waiting.is_empty() {
        html.push_str("<p>No photo waits for a person.</p>");
    } else {
        html.push_str("<table><tr><th>waiting for a person</th><th>photos</th><th>decided there</th><th>why</th></tr>");
        for Waiting { queue, about, photos } in &next.waiting {
            counts.waiting.insert(queue.clone(), photos.len() as u64);
            let mut why: BTreeMap<&str, usize> = BTreeMap::new();
            for check in photos.iter().flat_map(|(_, checks)| checks) {
                *why.entry(check.as_str()).or_default() += 1;
            }
            let why: Vec<String> = why.iter().map(|(c, n)| format!("{} {n}", esc(c))).collect();
            let _ = write!(
                html,
                "<tr data-queue=\"{0}\"><td>{0}</td><td class=\"num\" data-waiting=\"{0}\">{1}</td><td>{2}</td><td>{3}</td></tr>",
                esc(queue),
                photos.len(),
                esc(about),
                why.join(", ")
            );
        }
        let _ = write!(
            html,
            "</table><p>Open them with <code>crowdsift review {dir}</code>: each queue is a tab of the page \
             at the address it prints, and that address ending in <code>#pii</code> (or the name of \
             another queue) opens that queue.</p>"
        );
        for Waiting { queue, photos, .. } in &next.waiting {
            let _ = write!(html, "<h3>{} — {} waiting</h3><div class=\"gallery\">", esc(queue), photos.len());
            for (id, checks) in photos.iter().take(EXAMPLES) {
                card(html, counts, picture(id), id, None, &checks.join(", "));
            }
            html.push_str("</div>");
        }
    }
    if next.unredacted > 0 {
        let _ = write!(
            html,
            "<p>{} photos with personal data have no redacted copy of their current file: \
             <code>crowdsift redact {dir}</code></p>",
            next.unredacted
        );
    }
    let _ =
        write!(html, "<p>Rejected by a reviewer: {} · unreadable: {}</p></section>", next.rejected, next.unreadable);
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\
.num{text-align:right}.gallery{display:flex;flex-wrap:wrap;gap:8px}\
.card{width:180px;margin:0;border:1px solid #ddd;padding:4px;font-size:12px;word-wrap:break-word}\
.card img{width:180px;height:135px;object-fit:contain;background:#f4f4f4}\
.nothumb{width:180px;height:135px;background:#eee;color:#888;display:flex;align-items:center;justify-content:center}\
.absent{color:#888;font-style:italic}pre{white-space:pre-wrap;font-size:11px;background:#f7f7f7;padding:6px}";

/// Renders `out/report.html` from the store in `out` and the stages' files. The store is read
/// through counts, histograms and a few examples per reason, all computed in SQLite, so a
/// report of a million photos does not hold their findings in memory.
///
/// `stages` are the pipeline's stages in run order, `(name, what it does)`: the report shows each
/// with the status of its last run. `next` is the first screen (`None`: not known, and said so).
pub fn render(
    store: &Store,
    out: &Path,
    stages: &[(&str, &str)],
    next: Option<&NextSteps>,
    thumbs: Thumbnails<'_>,
) -> Result<(String, ReportCounts), ExportError> {
    let totals = store.totals()?;
    let finding_counts = store.finding_counts()?;
    let runs = store.runs()?;
    let mut counts = ReportCounts {
        photos: totals.images,
        usable: totals.usable,
        flagged_photos: totals.flagged_images,
        ..Default::default()
    };
    let stages_run: Vec<&str> = runs.iter().filter(|r| r.status == "done").map(|r| r.command.as_str()).collect();
    let ran = |cmd: &str| stages_run.contains(&cmd);
    let redacted = redacted_copies(store, out)?;
    // A photo's picture: from its redacted copy when it holds personal data (none without a copy).
    let picture = |id: &str| -> Option<String> {
        if store.is_flagged(id, Stage::Pii, "pii").unwrap_or(true) {
            redacted.get(id).and_then(|copy| thumbs(id, &copy.path.display().to_string()))
        } else {
            store.photo(id).ok().flatten().and_then(|(_, _, _, uri)| thumbs(id, &uri))
        }
    };

    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>crowdsift report</title>\
         <style>{STYLE}</style></head><body><h1>crowdsift report</h1>\
         <p>{} · {} photos</p>",
        esc(&out.display().to_string()),
        totals.images
    );

    first_screen(&mut html, &mut counts, out, next, &picture);

    // Summary.
    let _ = write!(
        html,
        "<section id=\"summary\"><h2>Summary</h2><table>\
         <tr><th>photos recorded</th><td class=\"num\" data-count=\"photos\">{}</td></tr>\
         <tr><th>decodable</th><td class=\"num\" data-count=\"usable\">{}</td></tr>\
         <tr><th>with a flagged finding</th><td class=\"num\" data-count=\"flagged_photos\">{}</td></tr></table></section>",
        totals.images, totals.usable, totals.flagged_images
    );

    // The pipeline's stages and what became of the last run of each.
    html.push_str("<section id=\"stages\"><h2>Stages</h2><table><tr><th>stage</th><th>what it does</th><th>last run</th><th>status</th></tr>");
    for (name, about) in stages {
        let last = runs.iter().rev().find(|r| r.command == *name);
        let (when, status) = match last {
            Some(r) => (r.started_at.as_str(), r.status.as_str()),
            None => ("", "not run"),
        };
        let _ = write!(
            html,
            "<tr data-stage=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td class=\"status\">{3}</td></tr>",
            esc(name),
            esc(about),
            esc(when),
            esc(status)
        );
    }
    html.push_str("</table></section>");

    // Findings per stage and check.
    html.push_str("<section id=\"findings\"><h2>Findings</h2><table><tr><th>stage</th><th>check</th><th>photos</th><th>flagged</th></tr>");
    for (stage, check, n, flagged) in &finding_counts {
        counts.flagged.insert(format!("{stage}:{check}"), *flagged);
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{n}</td><td class=\"num\" data-flagged=\"{}:{}\">{flagged}</td></tr>",
            esc(stage),
            esc(check),
            esc(stage),
            esc(check)
        );
    }
    html.push_str("</table></section>");

    // Galleries per reason: quality, decoding and duplicates (personal data has its own section).
    html.push_str("<section id=\"galleries\"><h2>Photos by reason</h2>");
    let mut galleries: BTreeMap<String, (u64, Vec<FindingRow>)> = BTreeMap::new();
    for stage in [Stage::Ingest, Stage::Quality, Stage::Duplicates] {
        for (_, key, _, flagged) in finding_counts.iter().filter(|c| c.0 == stage.as_str() && c.3 > 0) {
            galleries.entry(key.clone()).or_default().0 += flagged;
        }
        for r in store.flagged_samples(stage, GALLERY)? {
            galleries.entry(r.finding.summary_key().to_owned()).or_default().1.push(r);
        }
    }
    if galleries.is_empty() {
        html.push_str("<p class=\"absent\">No photo flagged by the quality checks.</p>");
    }
    for (reason, (n, list)) in &galleries {
        let _ = write!(html, "<h3 data-gallery=\"{}\">{} ({n})</h3><div class=\"gallery\">", esc(reason), esc(reason));
        for r in list.iter().take(GALLERY) {
            let id = r.finding.image_id.as_str();
            card(&mut html, &mut counts, picture(id), id, r.label.as_deref(), &r.finding.detail);
        }
        html.push_str("</div>");
    }
    html.push_str("</section>");

    // Histograms of the quality scores.
    html.push_str("<section id=\"histograms\"><h2>Quality scores</h2>");
    let histograms = store.score_histograms(Stage::Quality, 20)?;
    if histograms.is_empty() {
        html.push_str("<p class=\"absent\">scan has not run.</p>");
    }
    html.push_str("<div class=\"gallery\">");
    for h in &histograms {
        let _ = write!(
            html,
            "<figure class=\"plot\" data-histogram=\"{}\"><figcaption>{} ({} photos; threshold in red)</figcaption>{}</figure>",
            esc(&h.check),
            esc(&h.check),
            h.scores,
            histogram(h)
        );
    }
    html.push_str("</div></section>");

    // Label audit.
    html.push_str("<section id=\"labels\"><h2>Label audit</h2>");
    match read_labels(&out.join("audit").join("labels.csv")) {
        None => html.push_str("<p class=\"absent\">audit has not run.</p>"),
        Some(labels) => {
            let mut queue: Vec<&AuditRow> = labels.iter().filter(|l| l.issue).collect();
            queue.sort_by(|a, b| a.rank.total_cmp(&b.rank));
            let _ = write!(
                html,
                "<h3>Review queue: {} label issues</h3><div class=\"gallery\" data-queue=\"{}\">",
                queue.len(),
                queue.len()
            );
            for l in queue.iter().take(QUEUE) {
                let thumb = picture(&l.id);
                let text = format!("labelled {}, suggested {} (p of label {:.2})", l.label, l.suggested, l.p_label);
                card(&mut html, &mut counts, thumb, &l.id, None, &text);
            }
            html.push_str("</div><h3>Given label (rows) × suggested label (columns)</h3>");
            let pairs: Vec<(String, String)> = labels.iter().map(|l| (l.label.clone(), l.suggested.clone())).collect();
            html.push_str(&confusion(&pairs));
        }
    }
    html.push_str("</section>");

    // Personal data.
    html.push_str("<section id=\"pii\"><h2>Personal data</h2>");
    if !ran("pii") {
        html.push_str("<p class=\"absent\">pii has not run.</p>");
    } else {
        let pii_photos = finding_counts.iter().find(|c| c.0 == "pii" && c.1 == "pii").map_or(0, |c| c.3);
        let _ = write!(
            html,
            "<p data-count=\"pii_photos\">{pii_photos} photos with personal data</p><table><tr><th>kind</th><th>photos</th></tr>"
        );
        let doubt = |check: &str| PII_DOUBTS.contains(&check);
        for (_, kind, n, _) in finding_counts.iter().filter(|c| c.0 == "pii" && c.1 != "pii" && !doubt(&c.1)) {
            let _ = write!(html, "<tr><td>{}</td><td class=\"num\">{n}</td></tr>", esc(kind));
        }
        html.push_str("</table>");
        // The release rule for text: what holds photos for a person (crowdsift_pii::safety).
        let held: Vec<_> = finding_counts.iter().filter(|c| c.0 == "pii" && doubt(&c.1) && c.3 > 0).collect();
        if !held.is_empty() {
            html.push_str(
                "<p>Photos a person must see before release (text the checks cannot vouch for)</p>\
                 <table><tr><th>reason</th><th>photos</th></tr>",
            );
            for (_, check, _, flagged) in held {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td class=\"num\" data-count=\"held_{}\">{flagged}</td></tr>",
                    esc(check),
                    esc(check)
                );
            }
            html.push_str("</table>");
        }
        html.push_str("<div class=\"gallery\">");
        for r in store.flagged_samples(Stage::Pii, GALLERY)?.iter().filter(|r| r.finding.check == "pii") {
            let id = r.finding.image_id.as_str();
            let thumb = picture(id);
            let text = if thumb.is_some() {
                r.finding.detail.clone()
            } else {
                format!("{} (no redacted copy yet: run redact)", r.finding.detail)
            };
            card(&mut html, &mut counts, thumb, id, r.label.as_deref(), &text);
        }
        html.push_str("</div>");
    }
    html.push_str("</section>");

    // Review decisions.
    html.push_str("<section id=\"review\"><h2>Review</h2>");
    let decisions = store.decisions()?;
    let decided: Vec<_> = decisions.iter().filter(|d| d.verdict.is_some()).collect();
    if decided.is_empty() {
        let _ = write!(
            html,
            "<p class=\"absent\">No decision yet: <code>crowdsift review {}</code>.</p>",
            esc(&out.display().to_string())
        );
    } else {
        let keep = decided.iter().filter(|d| d.verdict == Some(Verdict::Keep)).count();
        let relabelled = decided.iter().filter(|d| d.label.is_some()).count();
        let marked = decided.iter().filter(|d| !d.regions.is_empty()).count();
        let mut reviewers: Vec<&str> = decided.iter().map(|d| d.reviewer.as_str()).collect();
        reviewers.sort_unstable();
        reviewers.dedup();
        let _ = write!(
            html,
            "<table><tr><th>photos decided</th><td class=\"num\" data-count=\"decided\">{}</td></tr>\
             <tr><th>approved</th><td class=\"num\">{keep}</td></tr><tr><th>rejected</th><td class=\"num\">{}</td></tr>\
             <tr><th>relabelled</th><td class=\"num\">{relabelled}</td></tr><tr><th>with regions marked to hide</th><td class=\"num\">{marked}</td></tr>\
             <tr><th>reviewers</th><td>{}</td></tr></table>",
            decided.len(),
            decided.len() - keep,
            esc(&reviewers.join(", "))
        );
    }
    html.push_str("</section>");

    // Runs.
    html.push_str("<section id=\"runs\"><h2>Runs</h2><table><tr><th>#</th><th>command</th><th>version</th><th>started</th><th>status</th><th>configuration</th></tr>");
    for r in &runs {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary><pre>{}</pre></details></td></tr>",
            r.id,
            esc(&r.command),
            esc(&r.version),
            esc(&r.started_at),
            esc(&r.status),
            esc(&r.source),
            esc(&r.config)
        );
    }
    html.push_str("</table></section></body></html>\n");
    Ok((html, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_and_text_is_escaped() {
        let h = histogram(&Histogram {
            check: "blur".into(),
            lo: 1.0,
            hi: 3.0,
            threshold: Some(2.5),
            counts: vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            scores: 4,
        });
        assert!(h.starts_with("<svg") && h.ends_with("</svg>") && h.contains("<line"));
        assert_eq!(h.matches("<rect").count(), 20);
        let c = confusion(&[("cat".into(), "dog".into()), ("cat".into(), "cat".into()), ("<b>".into(), "cat".into())]);
        assert!(c.contains("&lt;b&gt;") && !c.contains("<b>"));
        assert_eq!(c.matches("<rect").count(), 9);
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
