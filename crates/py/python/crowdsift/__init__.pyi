# The type stub of crowdsift: written by scripts/make_stub.py from the functions themselves,
# checked by the test suite (--check, and mypy's stubtest against the package).
from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import pyarrow as pa

__version__: str
__all__ = ['run', 'scan', 'embed', 'findings', 'embeddings', 'train', 'cross_validate', 'predict', 'evaluate', 'export', 'audit', 'ocr', 'pii', 'held', 'redact', 'report', 'release', 'Training', 'CrossValidation', 'Evaluation', 'CrowdsiftError', 'SourceError', 'ModelError']

Source = Union[str, os.PathLike, pa.Table, Any]
PathLike = Union[str, os.PathLike]
MANIFEST_COLUMNS: tuple[str, ...]
last_summary: Dict[str, dict]


def run(
    source: Source,
    out: PathLike,
    *,
    jobs: Optional[int] = None,
    model: Optional[str] = None,
    skip: Optional[Sequence[str]] = None,
) -> pa.Table:
    """Every stage of the pipeline with its defaults, in order (``crowdsift run``): scan, embed,
    audit (when the photos have labels), ocr, pii, redact, report. Returns one row per stage:
    stage, status (done, skipped or failed), detail (why it was skipped or failed), flagged
    (it flagged photos or could not read some) and found (what a done stage found, in the words of
    ``crowdsift run``'s summary: counts per check or kind). A failed stage is reported, not raised (the stages
    that need it are skipped); only a scan that cannot run raises. `skip`: stages to leave out.

    Options (those of ``crowdsift run``; one left at None takes the default shown):

    jobs: Worker threads of the stages that have them [default: number of cores]
    model: Backbone for embeddings and the label audit (as `embed --model`). [default:
        efficientnet-lite0]
    skip: Stages to leave out, e.g. `--skip audit,redact` (scan always runs). One of: embed, audit,
        ocr, pii, redact, report.
    """
    ...


def scan(
    source: Source,
    out: PathLike,
    *,
    jobs: Optional[int] = None,
    min_sharpness: Optional[float] = None,
    max_dark_brightness: Optional[float] = None,
    min_overexposure: Optional[float] = None,
    min_clipped_share: Optional[float] = None,
    min_contrast_range: Optional[float] = None,
    min_side: Optional[int] = None,
    max_aspect: Optional[float] = None,
    min_colorfulness: Optional[float] = None,
    max_hash_distance: Optional[int] = None,
    max_pixels: Optional[int] = None,
    max_alloc: Optional[int] = None,
    max_file_bytes: Optional[int] = None,
) -> pa.Table:
    """Ingest, quality checks and duplicates (``crowdsift scan``); returns the findings table.
    The thresholds are named after the check they set (``min_sharpness`` for blur, ``min_side``
    for too_small, …).

    Options (those of ``crowdsift scan``; one left at None takes the default shown):

    jobs: Worker threads reading and decoding photos [default: number of cores]
    max_pixels: Refuse to decode photos with more pixels than this (width × height). [default:
        100000000]
    max_alloc: Largest single allocation a decoder may make, in bytes. [default: 536870912]
    max_file_bytes: Refuse to read files larger than this many bytes. [default: 536870912]
    min_sharpness: blur: flags a sharpness score below this. [default: 70]
    max_dark_brightness: dark: flags a 90th-percentile brightness (0–1) below this. [default: 0.22]
    min_overexposure: overexposed: flags when even the darkest 5% of the photo is at least this
        bright (0–1), the shadows washed out (a product on a white background keeps its shadows) …
        [default: 0.6]
    min_clipped_share: overexposed: … and at least this share of pixels is blown out (a flat pale
        wall is not overexposed). [default: 0.1]
    min_contrast_range: low_information: flags a 1st–99th percentile luminance range (0–1) below
        this. [default: 0.15]
    min_side: too_small: flags a shortest side (pixels) below this. [default: 224]
    max_aspect: odd_aspect: flags a long/short side ratio above this. [default: 3]
    min_colorfulness: grayscale: flags a colourfulness score below this. [default: 0.04]
    max_hash_distance: near_duplicate: groups photos whose perceptual hashes differ in at most this
        many bits. [default: 6]
    """
    ...


def embed(
    source: Source,
    out: PathLike,
    *,
    model: Optional[str] = None,
    batch: Optional[int] = None,
    jobs: Optional[int] = None,
    threads: Optional[int] = None,
) -> pa.Table:
    """Backbone embeddings of every photo (``crowdsift embed``), cached by photo and model checksum;
    `model`: a models.toml name (default efficientnet-lite0) or a PATH.onnx.

    Options (those of ``crowdsift embed``; one left at None takes the default shown):

    model: A model of models.toml (efficientnet-lite0, mobilenet-v2) or PATH.onnx with its input
        spec in PATH.onnx.toml. [default: efficientnet-lite0]
    batch: Photos per inference batch (at least 1). [default: 16]
    jobs: Decode worker threads [default: number of cores]
    threads: ONNX Runtime intra-op threads [default: number of cores]
    """
    ...


def findings(out: PathLike) -> pa.Table:
    """Every finding in the store of `out` (the rows of findings.parquet).
    """
    ...


def embeddings(out: PathLike, model_sha256: str) -> pa.Table:
    """The embeddings stored in `out` by the model with checksum `model_sha256`.
    """
    ...


def train(
    out: PathLike,
    *,
    mode: Optional[str] = None,
    model: Optional[str] = None,
    epochs: Optional[int] = None,
    val_split: Optional[float] = None,
    lr: Optional[float] = None,
    weight_decay: Optional[float] = None,
    hidden: Optional[int] = None,
    unfreeze: Optional[int] = None,
    views: Optional[int] = None,
    backbone_lr: Optional[float] = None,
    warmup: Optional[int] = None,
    dropout: Optional[float] = None,
    size: Optional[int] = None,
    jobs: Optional[int] = None,
    batch: Optional[int] = None,
    patience: Optional[int] = None,
    seed: Optional[int] = None,
    class_weights: bool = True,
    resume: Optional[PathLike] = None,
) -> Training:
    """Trains a classifier on the photos embedded in `out` (``crowdsift train``) and returns its
    best checkpoint, per-epoch history and TensorBoard folder.

    Options (those of ``crowdsift train``; one left at None takes the default shown):

    mode: transfer: a head on the cached embeddings; finetune: the backbone's last blocks and a new
        head; scratch: a small CNN from random weights. One of: transfer, finetune, scratch.
        [default: transfer]
    model: Backbone whose embeddings to train on (a models.toml name or PATH.onnx). [default:
        efficientnet-lite0]
    epochs: Passes over the training photos (fewer when --patience stops early). [default: 40]
    val_split: Share of each class held out for validation (stratified, fixed seed). [default: 0.2]
    lr: Learning rate (AdamW). [default: 0.001]
    weight_decay: Weight decay (AdamW). [default: 0.01]
    hidden: Width of one hidden layer (0: none). Transfer only. [default: 0]
    unfreeze: How many of the backbone's last blocks to fine-tune (finetune). [default: 1]
    views: Views per photo: the plain one and augmented crops/flips, computed once (finetune,
        scratch). [default: 8]
    backbone_lr: Learning rate of the pretrained layers relative to --lr (finetune). [default: 0.1]
    warmup: Epochs at the start that train only the new layer, the pretrained ones frozen
        (finetune). [default: 5]
    dropout: Dropout before the last layer (finetune, scratch). [default: 0.2]
    size: Photo side for the from-scratch CNN (scratch). [default: 64]
    jobs: Decode and inference threads when features must be computed [default: number of cores]
    batch: Photos per optimisation step. [default: 64]
    patience: Stop when validation top-1 has not improved for this many epochs (0: never). [default:
        10]
    seed: Seed of the validation split, the initial weights, the shuffling and the augmentation.
        [default: 42]
    class_weights: False: do not weight classes by inverse frequency. [default: True]
    resume: Continue from a checkpoint (…/checkpoints/RUN/epoch-NNN.safetensors).
    """
    ...


def cross_validate(
    out: PathLike,
    folds: int = 5,
    *,
    mode: Optional[str] = None,
    model: Optional[str] = None,
    epochs: Optional[int] = None,
    lr: Optional[float] = None,
    weight_decay: Optional[float] = None,
    hidden: Optional[int] = None,
    unfreeze: Optional[int] = None,
    views: Optional[int] = None,
    backbone_lr: Optional[float] = None,
    warmup: Optional[int] = None,
    dropout: Optional[float] = None,
    size: Optional[int] = None,
    jobs: Optional[int] = None,
    batch: Optional[int] = None,
    patience: Optional[int] = None,
    seed: Optional[int] = None,
    class_weights: bool = True,
) -> CrossValidation:
    """K-fold cross-validation (``crowdsift train --folds K``; byte-identical photos share a fold):
    each fold is trained as ``train`` trains, on the other folds.

    Options (those of ``crowdsift train``; one left at None takes the default shown):

    mode: transfer: a head on the cached embeddings; finetune: the backbone's last blocks and a new
        head; scratch: a small CNN from random weights. One of: transfer, finetune, scratch.
        [default: transfer]
    model: Backbone whose embeddings to train on (a models.toml name or PATH.onnx). [default:
        efficientnet-lite0]
    epochs: Passes over the training photos (fewer when --patience stops early). [default: 40]
    lr: Learning rate (AdamW). [default: 0.001]
    weight_decay: Weight decay (AdamW). [default: 0.01]
    hidden: Width of one hidden layer (0: none). Transfer only. [default: 0]
    unfreeze: How many of the backbone's last blocks to fine-tune (finetune). [default: 1]
    views: Views per photo: the plain one and augmented crops/flips, computed once (finetune,
        scratch). [default: 8]
    backbone_lr: Learning rate of the pretrained layers relative to --lr (finetune). [default: 0.1]
    warmup: Epochs at the start that train only the new layer, the pretrained ones frozen
        (finetune). [default: 5]
    dropout: Dropout before the last layer (finetune, scratch). [default: 0.2]
    size: Photo side for the from-scratch CNN (scratch). [default: 64]
    jobs: Decode and inference threads when features must be computed [default: number of cores]
    batch: Photos per optimisation step. [default: 64]
    patience: Stop when validation top-1 has not improved for this many epochs (0: never). [default:
        10]
    seed: Seed of the validation split, the initial weights, the shuffling and the augmentation.
        [default: 42]
    class_weights: False: do not weight classes by inverse frequency. [default: True]
    """
    ...


def predict(out: PathLike, head: PathLike, *, top_k: Optional[int] = None) -> pa.Table:
    """Item types of every embedded photo of `out` by a trained head (``crowdsift predict``): id,
    label, predicted, confidence, p_label, and top_k as a list of (label, p).
    """
    ...


def evaluate(out: PathLike, head: PathLike, *, all: bool = False) -> Evaluation:
    """Accuracy, per-class precision/recall/F1, confusion and calibration of a head on its
    validation split (or, with ``all=True``, every labelled photo) (``crowdsift evaluate``).
    """
    ...


def export(head: PathLike, to: PathLike, *, model: Optional[str] = None) -> pathlib.Path:
    """The classifier (backbone + head) as one ONNX model at `to` (``crowdsift export``).
    """
    ...


def audit(
    out: PathLike,
    *,
    source: Optional[Source] = None,
    model: Optional[str] = None,
    folds: Optional[int] = None,
    epochs: Optional[int] = None,
    k: Optional[int] = None,
    knn_weight: Optional[float] = None,
    dup_similarity: Optional[float] = None,
    outlier_z: Optional[float] = None,
    off_topic_z: Optional[float] = None,
    issue_floor: Optional[float] = None,
    exact_limit: Optional[int] = None,
    probes: Optional[int] = None,
    seed: Optional[int] = None,
) -> pa.Table:
    """Label audit of the photos embedded in `out` (``crowdsift audit``; `source` is embedded
    first): one row per labelled photo with the suggested label, whether it is a label issue and
    its rank in the review queue, neighbours, outlier score, off-topic score (and whether the photo
    is no item at all), duplicate cluster.

    Options (those of ``crowdsift audit``; one left at None takes the default shown):

    model: The backbone whose embeddings are audited (a models.toml name or PATH.onnx, as `embed
        --model`). [default: efficientnet-lite0]
    folds: Folds for the out-of-sample probabilities (at least 2). [default: 5]
    epochs: Epochs of each fold's head. [default: 40]
    k: Neighbours per photo (label votes, outlier score). [default: 10]
    knn_weight: Weight of the neighbours' label vote against the out-of-sample head (0–1). [default:
        0.5]
    dup_similarity: Cosine similarity from which two photos are near duplicates. [default: 0.95]
    outlier_z: Robust z-score within the class above which a photo is an outlier. [default: 3.5]
    off_topic_z: Robust deviations from the collection's trimmed centre above which a photo is
        off-topic (no item at all: a screenshot, a document, a wall). [default: 3.5]
    issue_floor: A label is an issue only when its probability is below this share of chance
        (1/classes); at or above the number of classes: no floor, confident learning alone.
        [default: 0.5]
    exact_limit: Up to this many photos neighbours are exact; above, an inverted-file index finds
        them. [default: 200000]
    probes: Lists of the inverted-file index searched per photo (recall against time). [default: 16]
    seed: Seed of the folds, the heads and the index. [default: 42]
    """
    ...


def ocr(
    source: Source,
    out: PathLike,
    *,
    engine: Optional[str] = None,
    lang: Optional[Union[str, Sequence[str]]] = None,
    models: Optional[str] = None,
    tile: Optional[int] = None,
    retry_below: Optional[float] = None,
    min_confidence: Optional[float] = None,
    jobs: Optional[int] = None,
    debug_overlay: bool = False,
    debug_json: bool = False,
) -> pa.Table:
    """Reads the text of every photo of `source` (``crowdsift ocr``; photos already read are not
    read again) and returns the lines of every photo read into `out` (`out`/ocr_lines.parquet):
    one row per line with id, uri, sha256, line (its index, which personal-data findings refer to),
    read, text, confidence, script, engine, turned, handwriting (probability, when classified) and
    quad (four corners in pixels of the upright photo). Boxes the detector found but no recogniser
    read with enough confidence are rows with read false and no line index. Photos without text
    have no row.

    `lang`: Tesseract codes of the collection (``"ben,eng"`` or ``["ben", "eng"]``; default: one
    installed pack per script PP-OCR lacks).

    Options (those of ``crowdsift ocr``; one left at None takes the default shown):

    engine: Which engine reads the lines. One of: auto, ppocr, tesseract. [default: auto]
    lang: Tesseract language codes of the collection, e.g. `ben,eng` or `vie` [default: auto: one
        installed pack per script PP-OCR lacks]. A manifest's `lang` column narrows it per photo.
        `None` (or `auto`): every installed pack of a script PP-OCR cannot read (one per script), or
        `eng` for `--engine tesseract`. Listed Latin languages whose letters PP-OCR lacks
        (Vietnamese) are read by both: Tesseract's spelling replaces PP-OCR's when the two agree on
        the base letters.
    retry_below: PP-OCR lines read with less confidence than this are tried with Tesseract (engine
        auto). [default: 0.9]
    min_confidence: Lines read with less confidence than this are dropped. [default: 0.5]
    models: PP-OCR model set of models.toml: ppocrv5 (PP-OCRv5 mobile) or ppocrv6-small. [default:
        ppocrv5]
    tile: A photo larger than 1.25 windows of this many pixels is first seen whole, shrunk, then
        again at full resolution in windows (at most this size) where that overview saw small text
        or traces of it; 0 reads whole photos only. [default: 1280]
    debug_overlay: Also write DIR/ocr/overlay/<photo>.jpg with the text boxes drawn. [default:
        False]
    debug_json: Also write DIR/ocr/<photo>.json, one file per photo (the results are in the store
        and ocr_lines.parquet). [default: False]
    jobs: Worker threads, each with its own models [default: number of cores]
    """
    ...


def pii(
    out: PathLike,
    *,
    country: Optional[str] = None,
    phone_regions: Optional[Sequence[str]] = None,
    lexicon: Optional[PathLike] = None,
    min_confidence: Optional[float] = None,
    handwriting: Optional[float] = None,
    unread_min_height: Optional[float] = None,
    unread_min_aspect: Optional[float] = None,
    unread_min_reading: Optional[float] = None,
    unread_line_aspect: Optional[float] = None,
    faces: bool = True,
    face_side: Optional[int] = None,
    jobs: Optional[int] = None,
    debug_json: bool = False,
) -> pa.Table:
    """Personal data in the photos `ocr` read into `out` (``crowdsift pii``; `out`/pii.parquet):
    one row per finding with id, uri, sha256, country, kind (face, phone, email, person_name, …),
    line (the OCR line, or None), masked value, evidence, score and quad. Photos without personal
    data have no row.
    Which photos a person must see before release, and why: ``crowdsift.held(out)``.

    `phone_regions`: the countries whose national numbers are recognised when written without a
    country code (default: the survey countries); `min_confidence`, `handwriting` and `unread_*`:
    the thresholds of the release rule for text (see the README).

    Options (those of ``crowdsift pii``; one left at None takes the default shown):

    country: Country of photos whose manifest row has no `country` column (ISO 3166 alpha-2, e.g.
        KE): phone numbers written without their country code are validated for it.
    lexicon: More leading words: a TOML file shaped like crates/pii/data/lexicon.toml.
    phone_regions: Countries whose national phone numbers are recognised when written without a
        country code and the photo's own country is not known (ISO 3166 alpha-2, comma-separated)
        [default: the survey countries KE,TZ,UG,NG,GH,SN,FR,MX,CO,BR,ID,VN,PH,IN,PK,BD,SA]
    handwriting: Release rule: a line at least this likely handwritten holds its photo for a person.
        [default: 0.5]
    min_confidence: Release rule: a line read with less confidence than this (and not hidden) holds
        its photo for a person. [default: 0.8]
    unread_min_height: Release rule: boxes lower than this (photo pixels), read or not, are not
        counted (specks, texture). [default: 10]
    unread_min_aspect: Release rule: an unread box holds its photo when at least this much longer
        than high and a recogniser made out a letter or digit in it with --unread-min-reading
        confidence or more … [default: 2]
    unread_min_reading: Release rule: the confidence with which a recogniser must make out a letter
        or digit in an unread box for --unread-min-aspect to apply. [default: 0.2]
    unread_line_aspect: Release rule: … or when at least this much longer than high, read or not
        (the shape of a line). [default: 4]
    faces: False: do not search the photos for faces (CenterFace). [default: True]
    face_side: Long side, in pixels, photos are searched for faces at (the detector finds faces down
        to about 10 px there; time grows with the square). [default: 960]
    jobs: Worker threads, each with its own face detector [default: number of cores]
    debug_json: Also write DIR/pii/<photo>.json, one file per photo (the results are in the store,
        pii.parquet and pii_held.parquet). [default: False]
    """
    ...


def held(out: PathLike) -> pa.Table:
    """The photos `crowdsift pii` holds for a person before release (the release rule for text): one
    row per reason with id, uri, check (``handwriting``, ``low_confidence_text``, ``unread_text``,
    ``unclassified_text``) and detail (what was seen, masked). A photo with no row needs nobody as
    far as its text goes (`out`/pii_held.parquet, written by ``crowdsift pii``).
    """
    ...


def redact(
    out: PathLike,
    *,
    style: Optional[str] = None,
    quality: Optional[int] = None,
    verify: bool = True,
    models: Optional[str] = None,
    jobs: Optional[int] = None,
    debug_json: bool = False,
) -> pa.Table:
    """Release copies with the personal data `pii` found hidden (``crowdsift redact``): one row per
    copy with id, uri, source_sha256, copy (its path), copy_sha256, style, format, width, height,
    orientation (EXIF orientation baked into the pixels), hidden (regions), kinds hidden,
    metadata_removed, verified, lines_read and residual (kinds still found when the copy was read
    again). In `out`/redactions.parquet the copy's path is relative to `out`.

    Options (those of ``crowdsift redact``; one left at None takes the default shown):

    style: How regions are hidden. One of: blur, pixelate, fill. [default: blur]
    quality: JPEG quality of the copies of JPEG photos (other formats are written as lossless PNG).
        [default: 90]
    verify: False: do not read the copies again to check that nothing hidden can be found in them.
        [default: True]
    models: PP-OCR model set of models.toml the copies are read with (as `ocr --models`). [default:
        ppocrv5]
    jobs: Worker threads, each with its own models [default: number of cores]
    debug_json: Also write DIR/redact/<photo>.json, one record per copy (the records are in the
        store and redactions.parquet). [default: False]
    """
    ...


def report(out: PathLike) -> pathlib.Path:
    """Writes `out`/report.html (``crowdsift report``) and returns its path.
    """
    ...


def release(
    out: PathLike,
    to: PathLike,
    *,
    quality: Optional[int] = None,
    jobs: Optional[int] = None,
) -> pa.Table:
    """The release (``crowdsift release``): approved photos, or photos nothing flagged for a person,
    written into `to`/images without metadata (redacted where personal data was found); returns
    the manifest's rows. What was left out and why: ``last_summary["release"]["pending"]``.

    Options (those of ``crowdsift release``; one left at None takes the default shown):

    to: Release folder (empty, or an earlier release that is brought up to date): `images/`,
        `manifest.csv`, `manifest.parquet`.
    quality: JPEG quality of photos re-encoded for the release (copies `redact` made are taken as
        they are). [default: 90]
    jobs: Worker threads [default: number of cores]
    """
    ...


@dataclasses.dataclass
class Training:
    """A trained classifier: `head` is the best epoch's checkpoint (for predict, evaluate, export).
    """
    head: pathlib.Path
    checkpoints: pathlib.Path
    tensorboard: pathlib.Path
    classes: List[str]
    history: pa.Table
    best: dict
    train_photos: int
    val_photos: int
    stopped_early: bool


@dataclasses.dataclass
class CrossValidation:
    """CrossValidation(folds: 'pa.Table', mean_top1: 'float', sd_top1: 'float', mean_top5: 'float', seconds: 'float', photos: 'int', classes: 'int', folds_csv: 'pathlib.Path')
    """
    folds: pa.Table
    mean_top1: float
    sd_top1: float
    mean_top5: float
    seconds: float
    photos: int
    classes: int
    folds_csv: pathlib.Path


@dataclasses.dataclass
class Evaluation:
    """Evaluation(photos: 'int', accuracy: 'float', top5: 'float', macro_f1: 'float', ece: 'float', per_class: 'pa.Table', confusion: 'pa.Table', dir: 'pathlib.Path')
    """
    photos: int
    accuracy: float
    top5: float
    macro_f1: float
    ece: float
    per_class: pa.Table
    confusion: pa.Table
    dir: pathlib.Path


class CrowdsiftError(Exception):
    """Any failure of the crowdsift engine.
    """
    ...


class SourceError(CrowdsiftError):
    """The source (folder, manifest, S3 prefix) or the output folder cannot be used.
    """
    ...


class ModelError(CrowdsiftError):
    """A model or ONNX Runtime is missing, or a model file does not match its checksum.
    """
    ...
