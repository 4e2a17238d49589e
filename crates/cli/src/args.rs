//! The command line's arguments, with their defaults and help: parsed by the `crowdsift` binary
//! and, from keyword arguments, by the Python package, so both run a stage with the same
//! parameters.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "crowdsift", version, about = "Screen, audit and redact crowdsourced photo collections")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Every stage with its defaults, in order: scan, embed, audit (when the photos have labels),
    /// ocr, pii, redact; resumable (each stage keeps what it did); a summary at the end.
    Run(RunArgs),
    /// Read every photo, flag the unusable ones (corrupt, blurred, dark, overexposed, small, odd,
    /// grayscale, duplicated) and write crowdsift.db, findings.csv and findings.parquet.
    Scan(ScanArgs),
    /// Embed every photo with a pretrained backbone (cached by photo and model checksum) into
    /// DIR/crowdsift.db.
    Embed(EmbedArgs),
    /// Train an item-type classifier on the embeddings in DIR (after `embed`): per-epoch validation,
    /// checkpoints in DIR/checkpoints/, TensorBoard logs in DIR/tb/.
    Train(TrainArgs),
    /// Predict item types for every embedded photo in DIR with a trained head: DIR/predictions.csv.
    Predict(PredictArgs),
    /// Accuracy, per-class precision/recall/F1, confusion matrix (CSV, SVG) and calibration error of
    /// a head, on its validation split (or all labelled photos): DIR/eval/RUN/.
    Evaluate(EvaluateArgs),
    /// Export a transfer or fine-tuned classifier with its backbone as one ONNX model: photo in
    /// (the backbone's input spec), `probs` out; class names in the model metadata.
    Export(ExportArgs),
    /// Audit the labels in DIR: label issues (confident learning on out-of-sample probabilities and
    /// neighbour votes) ranked for review with a suggested label, outliers, duplicates carrying
    /// different labels, a class summary: DIR/audit/, findings.csv/parquet.
    Audit(AuditArgs),
    /// Find and read the text in every photo (PP-OCR through ONNX Runtime): rotated boxes, text and
    /// confidence per line in the store, DIR/ocr_lines.parquet and findings.csv/parquet.
    Ocr(OcrArgs),
    /// Find personal data in the photos `ocr` read: faces (CenterFace), QR codes and personal
    /// barcodes, and in their text leading words such as "Name:"/"Tél" in ten languages, validated
    /// phones, e-mails, card numbers, IBANs, national IDs, names from a gazetteer; regions, evidence
    /// and masked values in the store and DIR/pii.parquet (what holds a photo for a person in
    /// DIR/pii_held.parquet), findings of stage pii.
    Pii(PiiArgs),
    /// Release copies of the photos `pii` looked at, in DIR/redacted/: personal data hidden
    /// irreversibly (padded regions), EXIF/XMP/IPTC/GPS removed, orientation baked in; each copy
    /// read again by OCR, the face detector and the code readers; what was hidden and why in the
    /// store and DIR/redactions.parquet.
    Redact(RedactArgs),
    /// Write DIR/report.html: one self-contained page with the counts, galleries of thumbnails per
    /// reason (redacted copies where personal data was found), score histograms, the label-issue
    /// queue and confusion, personal data found, and the runs with their configurations.
    Report(ReportArgs),
    /// Serve the review UI on 127.0.0.1: queues of unusable photos, label issues, duplicates and
    /// personal data, most urgent first, decided by keyboard; every decision (with time and
    /// reviewer) kept in DIR/crowdsift.db. Prints the URL with its access token.
    Review(ReviewArgs),
    /// Copy the photos to publish into OUT/images — approved by a reviewer, or not flagged for
    /// one; redacted where personal data was found; written from pixels, so without EXIF/GPS —
    /// with OUT/manifest.csv and OUT/manifest.parquet (obs_uid, label after review, sha256 of the
    /// released file, reasons). Originals are only read.
    Release(ReleaseArgs),
}

#[derive(Args)]
pub struct ReviewArgs {
    /// Output folder of the earlier stages (holds crowdsift.db).
    pub dir: PathBuf,
    /// Address to listen on; anything but a loopback address needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Serve on a non-loopback address (anyone on the network with the URL can then review).
    #[arg(long)]
    pub allow_remote: bool,
    /// Name recorded with each decision [default: $USER].
    #[arg(long)]
    pub reviewer: Option<String>,
}

#[derive(Args)]
pub struct ReleaseArgs {
    /// Output folder of the earlier stages (holds crowdsift.db).
    pub dir: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_review::ReleaseJob,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Output folder of the earlier stages (holds crowdsift.db).
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct RedactArgs {
    /// Output folder of `pii` (holds its results in crowdsift.db).
    pub dir: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_pipeline::RedactJob,
}

#[derive(Args)]
pub struct PiiArgs {
    /// Output folder of `ocr` (holds its results in crowdsift.db).
    pub dir: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_pipeline::PiiJob,
}

#[derive(Args)]
pub struct OcrArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (shared with the other stages; photos already read are not read again).
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_pipeline::OcrJob,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Output folder of `embed` (holds crowdsift.db).
    pub dir: PathBuf,
    /// Embed this source into DIR first (cached photos are not embedded again).
    #[arg(long)]
    pub src: Option<String>,
    #[command(flatten)]
    pub job: crowdsift_pipeline::AuditJob,
}

#[derive(Args)]
pub struct ExportArgs {
    /// A checkpoint, e.g. DIR/checkpoints/RUN/best.safetensors.
    #[arg(long)]
    pub head: PathBuf,
    /// Where to write the ONNX model.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The backbone, if not the models.toml entry the head names (a PATH.onnx it was trained on).
    #[arg(long, short)]
    pub model: Option<String>,
}

#[derive(Args)]
pub struct PredictArgs {
    pub dir: PathBuf,
    /// A checkpoint, e.g. DIR/checkpoints/RUN/best.safetensors.
    #[arg(long)]
    pub head: PathBuf,
    /// How many labels (with probabilities) to list per photo.
    #[arg(long, default_value_t = crowdsift_pipeline::TOP_K)]
    pub top_k: usize,
}

#[derive(Args)]
pub struct EvaluateArgs {
    pub dir: PathBuf,
    #[arg(long)]
    pub head: PathBuf,
    /// Evaluate on every labelled photo instead of the head's validation split.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Output folder of `scan`/`embed` (holds crowdsift.db).
    pub dir: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_pipeline::TrainJob,
    /// Instead of one split, K-fold cross-validation (byte-identical photos share a fold); reports
    /// each fold's last epoch and writes the fold of every photo to DIR/cv/RUN/folds.csv.
    #[arg(long, conflicts_with = "resume")]
    pub folds: Option<usize>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (shared with scan; embeddings already there are not recomputed).
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub params: crowdsift_pipeline::EmbedParams,
}

#[derive(Args)]
pub struct ScanArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (created; re-running with the same folder resumes; other thresholds re-judge
    /// the photos already scanned from their stored scores).
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub params: crowdsift_pipeline::ScanParams,
}

#[derive(Args)]
pub struct RunArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (re-running with the same folder resumes: each stage keeps what it did).
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub job: crowdsift_pipeline::stages::RunJob,
}
