"""crowdsift: moderation of crowdsourced photo collections, from Python.

Each function runs one stage of the Rust engine exactly as the ``crowdsift`` command does, into an
output folder that the command line can continue (and the other way round), and returns its results
as a pyarrow table. A source is a folder, a manifest file (CSV or Parquet with ``obs_uid,label,uri``),
an ``s3://bucket/prefix``, or a pandas / pyarrow table of manifest rows.

    import crowdsift
    findings = crowdsift.scan("photos/", out="out")            # one row per photo per check
    emb = crowdsift.embed("photos/", out="out")                # id, label, sha256, embedding
    trained = crowdsift.train("out", epochs=40)                # a head on the embeddings
    crowdsift.evaluate("out", trained.head).accuracy
    issues = crowdsift.audit("out")                            # label issues, suggested labels
    lines = crowdsift.ocr("photos/", out="out")                # text lines with their boxes
    personal = crowdsift.pii("out")                            # names, phones, faces, … found
    copies = crowdsift.redact("out")                           # release copies, data hidden
    released = crowdsift.release("out", "release/")            # what may be published

Keyword arguments are the engine's options for the stage, the command's flags under the same names
(``epochs=40`` is ``--epochs 40``); those left at None take the engine's defaults. Each function's
docstring (``help(crowdsift.ocr)``) lists its options with their help and default, taken from the
engine; the package ships type stubs. Counts and what could not be read are logged (logger
``crowdsift``) and kept in ``crowdsift.last_summary[stage]``.

Errors are :class:`CrowdsiftError` (:class:`SourceError` for sources and output folders,
:class:`ModelError` for models and ONNX Runtime). Models are loaded once per process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import pathlib
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

# Tesseract's OpenMP threads would spin against the engine's workers; libgomp reads the cap when
# the native module loads it (the command line sets the same).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# The models: CROWDSIFT_MODELS if set, else the models wheels installed (crowdsift-models-backbones,
# -ocr, -faces, each with its models.toml and the files it names; `pip install crowdsift[models]`
# installs all three), else the engine looks for a models.toml above the current folder.
if "CROWDSIFT_MODELS" not in os.environ:
    try:
        import crowdsift_models

        _found = crowdsift_models.paths()
    except ImportError:
        _found = []
    if _found:
        os.environ["CROWDSIFT_MODELS"] = os.pathsep.join(map(os.fspath, _found))

from . import _native  # noqa: E402
from ._native import CrowdsiftError, ModelError, SourceError  # noqa: E402

__version__ = _native.__version__
__all__ = [
    "run", "scan", "embed", "findings", "embeddings", "train", "cross_validate", "predict", "evaluate", "export",
    "audit", "ocr", "pii", "held", "redact", "report", "release", "Training", "CrossValidation", "Evaluation",
    "CrowdsiftError", "SourceError", "ModelError",
]

Source = Union[str, os.PathLike, pa.Table, Any]
PathLike = Union[str, os.PathLike]

log = logging.getLogger("crowdsift")

#: The counts of the last run of each stage in this process (``last_summary["ocr"]["failed"]``
#: lists the photos OCR could not read, with the reason).
last_summary: Dict[str, dict] = {}


def _options(**options: Any) -> Dict[str, Any]:
    """A stage's keyword arguments as the engine takes them: those left at None take the engine's
    default (the command line's), paths become strings, tuples lists. The engine checks every
    name against the stage's options and every value against its type."""
    def value(v: Any) -> Any:
        if isinstance(v, os.PathLike):
            return os.fspath(v)
        if isinstance(v, tuple):
            return [value(x) for x in v]
        return v
    return {k: value(v) for k, v in options.items() if v is not None}


def _done(stage: str, summary: dict) -> dict:
    """Keeps and logs a stage's summary; every photo it could not use is logged with the reason."""
    last_summary[stage] = summary
    counts = {k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    log.info("%s: %s", stage, ", ".join(f"{k} {v}" for k, v in counts.items()))
    for key in ("failed", "listing_errors"):
        for item in summary.get(key) or []:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                log.warning("%s: not used: %s: %s", stage, item[0], item[1])
            else:
                log.warning("%s: %s: %s", stage, key.replace("_", " "), item)
    return summary

MANIFEST_COLUMNS = ("obs_uid", "label", "uri")


def _manifest_table(source: Any) -> pa.Table:
    """Manifest rows (a pandas or pyarrow table, or a record batch) as a table of strings with
    absolute local paths: relative ones are relative to the current folder (a manifest file's are
    to its own folder)."""
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    table = source if isinstance(source, pa.Table) else pa.Table.from_pandas(source, preserve_index=False)
    missing = [c for c in ("obs_uid", "uri") if c not in table.column_names]
    if missing:
        raise SourceError(f"manifest table lacks column(s) {', '.join(missing)} (needs obs_uid, uri and optionally label)")
    table = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    uris = [u if u is None or "://" in u or os.path.isabs(u) else os.path.abspath(u) for u in table["uri"].to_pylist()]
    return table.set_column(table.column_names.index("uri"), "uri", pa.array(uris, type=pa.string()))


def _manifest_columns(source: Any) -> tuple:
    """Manifest rows as the engine's in-memory source takes them: ids, uris, labels (None when the
    rows have no label column)."""
    table = _manifest_table(source)
    labels = table["label"].to_pylist() if "label" in table.column_names else [None] * table.num_rows
    return table["obs_uid"].to_pylist(), table["uri"].to_pylist(), labels


@contextlib.contextmanager
def _source_path(source: Source, out: pathlib.Path) -> Iterator[str]:
    """A path the engine can open: tables of manifest rows are written as a Parquet manifest in
    `out`, removed again when the stage is done."""
    if isinstance(source, (str, os.PathLike)):
        yield os.fspath(source)
        return
    table = _manifest_table(source)
    out.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="manifest-", suffix=".parquet", dir=out)
    os.close(fd)
    try:
        pq.write_table(table, path)
        yield path
    finally:
        pathlib.Path(path).unlink(missing_ok=True)


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
    that need it are skipped); only a scan that cannot run raises. `skip`: stages to leave out."""
    out = pathlib.Path(out)
    options = _options(jobs=jobs, model=model, skip=list(skip) if skip else None)
    with _source_path(source, out) as path:
        rows = _native.run(path, out, options)
    table = pa.table({
        "stage": [r[0] for r in rows], "status": [r[1] for r in rows],
        "detail": [r[2] for r in rows], "flagged": [r[3] for r in rows], "found": [r[4] for r in rows],
    })
    last_summary["run"] = {r[0]: r[1] for r in rows}
    for stage, status, detail, *_ in rows:
        if status == "failed":
            log.warning("run: %s did not run: %s", stage, detail)
    return table


def findings(out: PathLike) -> pa.Table:
    """Every finding in the store of `out` (the rows of findings.parquet)."""
    return pq.read_table(_native.export_findings(pathlib.Path(out)))


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
    for too_small, …)."""
    out = pathlib.Path(out)
    options = _options(
        jobs=jobs, min_sharpness=min_sharpness, max_dark_brightness=max_dark_brightness,
        min_overexposure=min_overexposure, min_clipped_share=min_clipped_share,
        min_contrast_range=min_contrast_range, min_side=min_side, max_aspect=max_aspect,
        min_colorfulness=min_colorfulness, max_hash_distance=max_hash_distance, max_pixels=max_pixels,
        max_alloc=max_alloc, max_file_bytes=max_file_bytes)
    with _source_path(source, out) as path:
        _done("scan", _native.scan(path, out, options))
    return findings(out)


def embeddings(out: PathLike, model_sha256: str) -> pa.Table:
    """The embeddings stored in `out` by the model with checksum `model_sha256`."""
    ids, labels, shas, dim, data = _native.embeddings(pathlib.Path(out), model_sha256)
    values = pa.array(np.frombuffer(data, dtype="<f4"), type=pa.float32())
    vectors = pa.FixedSizeListArray.from_arrays(values, dim) if dim else pa.array([], type=pa.list_(pa.float32(), 1))
    return pa.table({"id": ids, "label": pa.array(labels, type=pa.string()), "sha256": shas, "embedding": vectors})


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
    `model`: a models.toml name (default efficientnet-lite0) or a PATH.onnx."""
    out = pathlib.Path(out)
    with _source_path(source, out) as path:
        summary = _done("embed", _native.embed(path, out, _options(model=model, batch=batch, jobs=jobs, threads=threads)))
    table = embeddings(out, summary["model_sha256"])
    return table.replace_schema_metadata({"model": summary["model"], "model_sha256": summary["model_sha256"]})


@dataclasses.dataclass
class Training:
    """A trained classifier: `head` is the best epoch's checkpoint (for predict, evaluate, export)."""

    head: pathlib.Path
    checkpoints: pathlib.Path
    tensorboard: pathlib.Path
    classes: List[str]
    #: One row per epoch: epoch, train_loss, val_loss, val_top1, val_top5, seconds.
    history: pa.Table
    best: dict
    train_photos: int
    val_photos: int
    stopped_early: bool


@dataclasses.dataclass
class CrossValidation:
    #: One row per fold: its last epoch's metrics.
    folds: pa.Table
    mean_top1: float
    sd_top1: float
    mean_top5: float
    seconds: float
    photos: int
    classes: int
    #: ``id,fold`` of every photo.
    folds_csv: pathlib.Path


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
    best checkpoint, per-epoch history and TensorBoard folder."""
    options = _options(**{k: v for k, v in locals().items() if k != "out"})
    s = _done("train", _native.train(pathlib.Path(out), options))
    ckpt = pathlib.Path(s["checkpoints"])
    return Training(
        head=ckpt / "best.safetensors",
        checkpoints=ckpt,
        tensorboard=pathlib.Path(s["tensorboard"]),
        classes=list(s["classes"]),
        history=pa.Table.from_pylist(s["epochs"]),
        best=s["best"],
        train_photos=s["train_photos"],
        val_photos=s["val_photos"],
        stopped_early=s["stopped_early"],
    )


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
    each fold is trained as ``train`` trains, on the other folds."""
    options = _options(**{k: v for k, v in locals().items() if k not in ("out", "folds")})
    s = _done("cross_validate", _native.train(pathlib.Path(out), options, folds))
    return CrossValidation(
        folds=pa.Table.from_pylist(s["folds"]),
        mean_top1=s["mean_top1"],
        sd_top1=s["sd_top1"],
        mean_top5=s["mean_top5"],
        seconds=s["seconds"],
        photos=s["photos"],
        classes=s["classes"],
        folds_csv=pathlib.Path(s["folds_csv"]),
    )


def _read_csv(path: PathLike, strings: List[str]) -> pa.Table:
    """A CSV the engine wrote, with the given columns read as text (labels and ids can look like
    numbers)."""
    opts = pcsv.ConvertOptions(column_types={c: pa.string() for c in strings}, strings_can_be_null=False)
    return pcsv.read_csv(path, convert_options=opts)


def predict(out: PathLike, head: PathLike, *, top_k: Optional[int] = None) -> pa.Table:
    """Item types of every embedded photo of `out` by a trained head (``crowdsift predict``): id,
    label, predicted, confidence, p_label, and top_k as a list of (label, p)."""
    s = _done("predict", _native.predict(pathlib.Path(out), pathlib.Path(head), **_options(top_k=top_k)))
    table = _read_csv(s["csv"], ["id", "label", "predicted", "top_k"])
    entries = [
        [{"label": l, "p": float(p)} for l, p in (e.rsplit(":", 1) for e in cell.split(";") if e)]
        for cell in table["top_k"].to_pylist()
    ]
    kind = pa.list_(pa.struct([("label", pa.string()), ("p", pa.float64())]))
    return table.set_column(table.column_names.index("top_k"), "top_k", pa.array(entries, type=kind))


@dataclasses.dataclass
class Evaluation:
    photos: int
    accuracy: float
    top5: float
    macro_f1: float
    #: Expected calibration error (10 bins).
    ece: float
    #: class, support, precision, recall, f1.
    per_class: pa.Table
    #: One row per true class, one column per predicted class.
    confusion: pa.Table
    #: metrics.json, per_class.csv, confusion.csv, confusion.svg.
    dir: pathlib.Path


def evaluate(out: PathLike, head: PathLike, *, all: bool = False) -> Evaluation:
    """Accuracy, per-class precision/recall/F1, confusion and calibration of a head on its
    validation split (or, with ``all=True``, every labelled photo) (``crowdsift evaluate``)."""
    text, folder = _native.evaluate(pathlib.Path(out), pathlib.Path(head), all)
    e = json.loads(text)
    _done("evaluate", {k: e[k] for k in ("photos", "accuracy", "top5", "macro_f1", "ece")})
    confusion = {"true": e["classes"]}
    for j, c in enumerate(e["classes"]):
        confusion[c] = [row[j] for row in e["confusion"]]
    return Evaluation(
        photos=e["photos"],
        accuracy=e["accuracy"],
        top5=e["top5"],
        macro_f1=e["macro_f1"],
        ece=e["ece"],
        per_class=pa.Table.from_pylist(e["per_class"]),
        confusion=pa.table(confusion),
        dir=pathlib.Path(folder),
    )


def export(head: PathLike, to: PathLike, *, model: Optional[str] = None) -> pathlib.Path:
    """The classifier (backbone + head) as one ONNX model at `to` (``crowdsift export``)."""
    return pathlib.Path(_native.export(pathlib.Path(head), pathlib.Path(to), model))


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
    is no item at all), duplicate cluster."""
    if source is not None:
        embed(source, out, model=model)
    options = _options(model=model, folds=folds, epochs=epochs, k=k, knn_weight=knn_weight,
                       dup_similarity=dup_similarity, outlier_z=outlier_z, off_topic_z=off_topic_z,
                       issue_floor=issue_floor,
                       exact_limit=exact_limit,
                       probes=probes, seed=seed)
    s = _done("audit", _native.audit(pathlib.Path(out), options))
    return _read_csv(pathlib.Path(s["dir"]) / "labels.csv", ["id", "label", "suggested", "nearest"])


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
    installed pack per script PP-OCR lacks)."""
    out = pathlib.Path(out)
    if isinstance(lang, str):
        lang = [x.strip() for x in lang.replace("+", ",").split(",") if x.strip()]
    options = _options(engine=engine, lang=list(lang) if lang else None, models=models, tile=tile,
                       retry_below=retry_below, min_confidence=min_confidence, jobs=jobs,
                       debug_overlay=debug_overlay, debug_json=debug_json)
    with _source_path(source, out) as path:
        s = _done("ocr", _native.ocr(path, out, options))
    return pq.read_table(s["table"])


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
    the thresholds of the release rule for text (see the README)."""
    s = _done("pii", _native.pii(pathlib.Path(out), _options(
        country=country, phone_regions=list(phone_regions) if phone_regions else None, lexicon=lexicon,
        min_confidence=min_confidence, handwriting=handwriting, unread_min_height=unread_min_height,
        unread_min_aspect=unread_min_aspect, unread_min_reading=unread_min_reading,
        unread_line_aspect=unread_line_aspect, faces=faces, face_side=face_side, jobs=jobs, debug_json=debug_json)))
    return pq.read_table(s["table"])


def held(out: PathLike) -> pa.Table:
    """The photos `crowdsift pii` holds for a person before release (the release rule for text): one
    row per reason with id, uri, check (``handwriting``, ``low_confidence_text``, ``unread_text``,
    ``unclassified_text``) and detail (what was seen, masked). A photo with no row needs nobody as
    far as its text goes (`out`/pii_held.parquet, written by ``crowdsift pii``)."""
    path = pathlib.Path(out) / "pii_held.parquet"
    if not path.is_file():
        raise CrowdsiftError(f"{path} does not exist: run crowdsift.pii({str(out)!r}) first")
    return pq.read_table(path)


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
    again). In `out`/redactions.parquet the copy's path is relative to `out`."""
    out = pathlib.Path(out)
    s = _done("redact", _native.redact(out, _options(style=style, quality=quality, verify=verify, models=models,
                                                      jobs=jobs, debug_json=debug_json)))
    table = pq.read_table(s["table"])
    copies = pa.array([str(out / c) for c in table["copy"].to_pylist()], pa.string())
    return table.set_column(table.column_names.index("copy"), "copy", copies)


def report(out: PathLike) -> pathlib.Path:
    """Writes `out`/report.html (``crowdsift report``) and returns its path."""
    return pathlib.Path(_native.report(pathlib.Path(out)))


def release(out: PathLike, to: PathLike, *, quality: Optional[int] = None, jobs: Optional[int] = None) -> pa.Table:
    """The release (``crowdsift release``): approved photos, or photos nothing flagged for a person,
    written into `to`/images without metadata (redacted where personal data was found); returns
    the manifest's rows. What was left out and why: ``last_summary["release"]["pending"]``."""
    _done("release", _native.release(pathlib.Path(out), _options(to=to, quality=quality, jobs=jobs)))
    return pq.read_table(pathlib.Path(to) / "manifest.parquet")


def _document(fn: Any, stage: str) -> None:
    """Appends to `fn`'s docstring every engine option of `stage` it takes, with the engine's help
    and default (the parameter struct the command line is derived from: the one definition)."""
    import inspect
    import textwrap

    params = inspect.signature(fn).parameters
    lines = [f"Options (those of ``crowdsift {stage}``; one left at None takes the default shown):", ""]
    for name, help, default, values in _native.options(stage):
        if name not in params:
            continue
        text = " ".join(help.split())
        if text and not text.endswith((".", "…", "]")):
            text += "."
        flag = isinstance(params[name].default, bool)
        if flag and text.startswith("Do not "):
            # A command-line switch that turns something off (`--no-faces`): here True/False.
            text = f"False: {text[0].lower()}{text[1:]}"
        if values:
            text += f" One of: {', '.join(values)}."
        if default is not None:
            text += f" [default: {default.capitalize() if flag else default}]"
        lines.append(textwrap.fill(text, 96, initial_indent=f"{name}: ", subsequent_indent="    ",
                                   break_on_hyphens=False, break_long_words=False))
    fn.__doc__ = inspect.cleandoc(fn.__doc__ or "") + "\n\n" + "\n".join(lines)


#: The engine stage whose parameters each function takes as keyword arguments.
_STAGE_OPTIONS = {
    run: "run", scan: "scan", embed: "embed", train: "train", cross_validate: "train", audit: "audit",
    ocr: "ocr", pii: "pii", redact: "redact", release: "release",
}
for _fn, _stage in _STAGE_OPTIONS.items():
    _document(_fn, _stage)
del _fn, _stage
