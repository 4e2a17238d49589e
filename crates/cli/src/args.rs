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
    /// confidence per line in DIR/ocr/<photo>.json, the store and findings.csv/parquet.
    Ocr(OcrArgs),
    /// Find personal data in the photos `ocr` read: faces (CenterFace), QR codes and personal
    /// barcodes, and in their text leading words such as "Name:"/"Tél" in ten languages, validated
    /// phones, e-mails, card numbers, IBANs, national IDs, names from a gazetteer; regions, evidence
    /// and masked values in DIR/pii/<photo>.json, findings of stage pii.
    Pii(PiiArgs),
    /// Release copies of the photos `pii` looked at, in DIR/redacted/: personal data hidden
    /// irreversibly (padded regions), EXIF/XMP/IPTC/GPS removed, orientation baked in; each copy
    /// read again by OCR, the face detector and the code readers; what was hidden and why in
    /// DIR/redact/<photo>.json.
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
    /// Release folder (empty, or an earlier release that is brought up to date).
    #[arg(long)]
    pub to: PathBuf,
    /// JPEG quality of photos re-encoded for the release (redacted copies are taken as they are).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Worker threads [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Output folder of the earlier stages (holds crowdsift.db).
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct RedactArgs {
    /// Output folder of `pii` (holds pii/*.json and crowdsift.db).
    pub dir: PathBuf,
    /// blur: cells averaged, blurred and noised; pixelate: large flat cells with noise; fill: black.
    #[arg(long, default_value = "blur", value_parser = ["blur", "pixelate", "fill"])]
    pub style: String,
    /// JPEG quality of the copies of JPEG photos (other formats are written as lossless PNG).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Do not read the copies again to check that nothing hidden can be found in them.
    #[arg(long)]
    pub no_verify: bool,
    /// PP-OCR model set of models.toml for the verification (as `ocr --models`).
    #[arg(long, default_value = "ppocrv5")]
    pub models: String,
    /// Worker threads, each with its own models [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

#[derive(Args)]
pub struct PiiArgs {
    /// Output folder of `ocr` (holds ocr/*.json and crowdsift.db).
    pub dir: PathBuf,
    /// Country of photos whose manifest row has no `country` column (ISO 3166 alpha-2, e.g. KE):
    /// phone numbers written without their country code are validated for it.
    #[arg(long)]
    pub country: Option<String>,
    /// More leading words: a TOML file shaped like crates/pii/data/lexicon.toml.
    #[arg(long)]
    pub lexicon: Option<PathBuf>,
    /// Countries whose national phone numbers are recognised when written without a country
    /// code and the photo's own country is not known (ISO 3166 alpha-2, comma-separated)
    /// [default: the survey countries KE,TZ,UG,NG,GH,SN,FR,MX,CO,BR,ID,VN,PH,IN,PK,BD,SA].
    #[arg(long, value_delimiter = ',')]
    pub phone_regions: Option<Vec<String>>,
    /// Release rule: a line read with less confidence than this (and not hidden) holds its photo
    /// for a person.
    #[arg(long, default_value_t = crowdsift_pii::safety::SafetyParams::default().min_confidence)]
    pub min_confidence: f32,
    /// Release rule: a line at least this likely handwritten holds its photo for a person.
    #[arg(long, default_value_t = crowdsift_pii::safety::SafetyParams::default().handwriting)]
    pub handwriting: f32,
    /// Do not search the photos for faces (CenterFace).
    #[arg(long)]
    pub no_faces: bool,
    /// Long side, in pixels, photos are searched for faces at (the detector finds faces down to
    /// about 10 px there; time grows with the square).
    #[arg(long, default_value_t = crowdsift_pipeline::FACE_SIDE)]
    pub face_side: u32,
}

#[derive(Args)]
pub struct OcrArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (shared with the other stages; photos already read are not read again).
    #[arg(long, short)]
    pub out: PathBuf,
    /// auto: PP-OCR finds and reads every line, Tesseract re-reads the lines in scripts PP-OCR
    /// lacks (Bengali, Devanagari, Arabic, Thai, Khmer, …) and re-spells Vietnamese; ppocr or
    /// tesseract: that engine alone.
    #[arg(long, default_value = "auto")]
    pub engine: crowdsift_ocr::Engine,
    /// Tesseract language codes of the collection (e.g. `ben,eng` or `vie`); auto: one installed
    /// pack per script PP-OCR lacks. A manifest's `lang` column narrows it per photo.
    #[arg(long, default_value = "auto")]
    pub lang: String,
    /// PP-OCR model set of models.toml: ppocrv5 (PP-OCRv5 mobile) or ppocrv6-small.
    #[arg(long, default_value = "ppocrv5")]
    pub models: String,
    /// Also write DIR/ocr/overlay/<photo>.jpg with the text boxes drawn.
    #[arg(long)]
    pub debug_overlay: bool,
    /// Search photos larger than 1.25 windows also in overlapping windows of this many pixels
    /// (small text on large photos); 0 reads whole photos only.
    #[arg(long, default_value_t = 1280)]
    pub tile: u32,
    /// Worker threads, each with its own models [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Output folder of `embed` (holds crowdsift.db).
    pub dir: PathBuf,
    /// Embed this source into DIR first (cached photos are not embedded again).
    #[arg(long)]
    pub src: Option<String>,
    #[arg(long, short, default_value = "efficientnet-lite0")]
    pub model: String,
    /// Folds for the out-of-sample probabilities.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Epochs of each fold's head.
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Neighbours per photo (label votes, outlier score).
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Weight of the neighbours' label vote against the out-of-sample head (0–1).
    #[arg(long, default_value_t = 0.5)]
    pub knn_weight: f64,
    /// Cosine similarity from which two photos are near duplicates.
    #[arg(long, default_value_t = 0.95)]
    pub dup_similarity: f32,
    /// Robust z-score within the class above which a photo is an outlier.
    #[arg(long, default_value_t = 3.5)]
    pub outlier_z: f64,
    /// Up to this many photos neighbours are exact; above, an inverted-file index finds them.
    #[arg(long, default_value_t = 200_000)]
    pub exact_limit: usize,
    /// Lists of the inverted-file index searched per photo (recall against time).
    #[arg(long, default_value_t = 16)]
    pub probes: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
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
    #[arg(long, default_value_t = 5)]
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

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    /// A softmax head (optionally one hidden layer) on frozen, cached embeddings.
    Transfer,
    /// The backbone's last blocks (--unfreeze) and a new head, on activations cached at the cut
    /// point, with augmented views (random crops and flips).
    Finetune,
    /// A small CNN from random weights on downscaled photos (the baseline).
    Scratch,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Output folder of `scan`/`embed` (holds crowdsift.db).
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value = "transfer")]
    pub mode: Mode,
    /// Backbone whose embeddings to train on (a models.toml name or PATH.onnx).
    #[arg(long, short, default_value = "efficientnet-lite0")]
    pub model: String,
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Share of each class held out for validation (stratified, fixed seed).
    #[arg(long, default_value_t = 0.2)]
    pub val_split: f64,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-2)]
    pub weight_decay: f64,
    /// Width of one hidden layer (0: none). Transfer only.
    #[arg(long, default_value_t = 0)]
    pub hidden: usize,
    /// How many of the backbone's last blocks to fine-tune (finetune).
    #[arg(long, default_value_t = 1)]
    pub unfreeze: usize,
    /// Views per photo: the plain one and augmented crops/flips, computed once (finetune, scratch).
    #[arg(long, default_value_t = 8)]
    pub views: usize,
    /// Learning rate of the pretrained layers relative to --lr (finetune).
    #[arg(long, default_value_t = 0.1)]
    pub backbone_lr: f64,
    /// Epochs at the start that train only the new layer, the pretrained ones frozen (finetune).
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Dropout before the last layer (finetune, scratch).
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f32,
    /// Photo side for the from-scratch CNN (scratch).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Decode and inference threads when features must be computed [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Stop when validation top-1 has not improved for this many epochs (0: never).
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Do not weight classes by inverse frequency.
    #[arg(long)]
    pub no_class_weights: bool,
    /// Continue from a checkpoint (…/checkpoints/RUN/epoch-NNN.safetensors).
    #[arg(long, conflicts_with = "folds")]
    pub resume: Option<PathBuf>,
    /// Instead of one split, K-fold cross-validation (byte-identical photos share a fold); reports
    /// each fold's last epoch and writes the fold of every photo to DIR/cv/RUN/folds.csv.
    #[arg(long)]
    pub folds: Option<usize>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (shared with scan; embeddings already there are not recomputed).
    #[arg(long, short)]
    pub out: PathBuf,
    /// A model of models.toml (efficientnet-lite0, mobilenet-v2) or PATH.onnx with its input spec in
    /// PATH.onnx.toml.
    #[arg(long, short, default_value = "efficientnet-lite0")]
    pub model: String,
    /// Photos per inference batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Decode worker threads [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// ONNX Runtime intra-op threads [default: number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Args)]
pub struct ScanArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (created; re-running with the same folder resumes).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Worker threads [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Change a check's threshold, e.g. `--threshold blur=30 --threshold too_small=300`.
    /// Checks: blur, dark, overexposed, low_information, too_small, odd_aspect, grayscale, near_duplicate.
    #[arg(long = "threshold", value_name = "CHECK=VALUE")]
    pub thresholds: Vec<String>,
    /// Refuse to decode photos larger than this many megapixels.
    #[arg(long, default_value_t = 100.0)]
    pub max_megapixels: f64,
}

#[derive(Args)]
pub struct RunArgs {
    /// A folder, a manifest (CSV or Parquet with obs_uid,label,uri) or s3://bucket/prefix.
    pub src: String,
    /// Output folder (re-running with the same folder resumes: each stage keeps what it did).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Worker threads of the stages that have them [default: number of cores].
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Backbone for embeddings and the label audit (as `embed --model`).
    #[arg(long, short, default_value = "efficientnet-lite0")]
    pub model: String,
    /// Stages to leave out, e.g. `--skip audit,redact` (scan always runs).
    #[arg(long, value_delimiter = ',', value_parser = ["embed", "audit", "ocr", "pii", "redact", "report"])]
    pub skip: Vec<String>,
}
