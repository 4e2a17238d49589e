"""crowdsift: moderation of crowdsourced photo collections, from Python.

Each function runs one stage of the Rust engine exactly as the ``crowdsift`` command does, into an
output folder that the command line can continue (and the other way round), and returns its results
as a pyarrow table. A source is a folder, a manifest file (CSV or Parquet with ``obs_uid,label,uri``),
an ``s3://bucket/prefix``, or a pandas / pyarrow table of manifest rows.

    import crowdsift
    findings = crowdsift.scan("photos/", out="out")            # one row per photo per check
    emb = crowdsift.embed("photos/", out="out")                # id, label, sha256, embedding

Errors are :class:`CrowdsiftError` (:class:`SourceError` for sources and output folders,
:class:`ModelError` for models and ONNX Runtime). Models are loaded once per process.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from typing import Any, Iterator, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import _native
from ._native import CrowdsiftError, ModelError, SourceError

__version__ = _native.__version__
__all__ = ["scan", "embed", "findings", "embeddings", "release", "CrowdsiftError", "SourceError", "ModelError"]

Source = Union[str, os.PathLike, pa.Table, Any]

MANIFEST_COLUMNS = ("obs_uid", "label", "uri")


@contextlib.contextmanager
def _source_path(source: Source, out: pathlib.Path) -> Iterator[str]:
    """A path the engine can open: tables of manifest rows are written as a Parquet manifest in
    `out`, removed again when the stage is done."""
    if isinstance(source, (str, os.PathLike)):
        yield os.fspath(source)
        return
    table = source if isinstance(source, pa.Table) else pa.Table.from_pandas(source, preserve_index=False)
    missing = [c for c in ("obs_uid", "uri") if c not in table.column_names]
    if missing:
        raise SourceError(f"manifest table lacks column(s) {', '.join(missing)} (needs obs_uid, uri and optionally label)")
    table = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    # Relative paths are relative to the current folder (a manifest file's are to its own folder).
    uris = [u if u is None or "://" in u or os.path.isabs(u) else os.path.abspath(u) for u in table["uri"].to_pylist()]
    table = table.set_column(table.column_names.index("uri"), "uri", pa.array(uris, type=pa.string()))
    out.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="manifest-", suffix=".parquet", dir=out)
    os.close(fd)
    try:
        pq.write_table(table, path)
        yield path
    finally:
        pathlib.Path(path).unlink(missing_ok=True)


def findings(out: Union[str, os.PathLike]) -> pa.Table:
    """Every finding in the store of `out` (the rows of findings.parquet)."""
    return pq.read_table(_native.export_findings(pathlib.Path(out)))


def scan(source: Source, out: Union[str, os.PathLike], *, jobs: Optional[int] = None) -> pa.Table:
    """Ingest, quality checks and duplicates (``crowdsift scan``); returns the findings table."""
    out = pathlib.Path(out)
    with _source_path(source, out) as path:
        _native.scan(path, out, jobs)
    return findings(out)


def _scan_part(rows: pa.Table, out: Union[str, os.PathLike], jobs: Optional[int]) -> pa.Table:
    """Scans manifest rows that are one part of a collection (no duplicate search; see spark.py)."""
    out = pathlib.Path(out)
    with _source_path(rows, out) as path:
        _native.scan(path, out, jobs, False)
    return findings(out)


def embeddings(out: Union[str, os.PathLike], model_sha256: str) -> pa.Table:
    """The embeddings stored in `out` by the model with checksum `model_sha256`."""
    ids, labels, shas, dim, data = _native.embeddings(pathlib.Path(out), model_sha256)
    values = pa.array(np.frombuffer(data, dtype="<f4"), type=pa.float32())
    vectors = pa.FixedSizeListArray.from_arrays(values, dim) if dim else pa.array([], type=pa.list_(pa.float32(), 1))
    return pa.table({"id": ids, "label": pa.array(labels, type=pa.string()), "sha256": shas, "embedding": vectors})


def embed(
    source: Source,
    out: Union[str, os.PathLike],
    *,
    model: str = "efficientnet-lite0",
    batch: int = 16,
    jobs: Optional[int] = None,
    threads: Optional[int] = None,
) -> pa.Table:
    """Backbone embeddings of every photo (``crowdsift embed``), cached by photo and model checksum."""
    out = pathlib.Path(out)
    with _source_path(source, out) as path:
        summary = _native.embed(path, out, model, batch, jobs, threads)
    table = embeddings(out, summary["model_sha256"])
    return table.replace_schema_metadata({"model": summary["model"], "model_sha256": summary["model_sha256"]})


def release(out: Union[str, os.PathLike], to: Union[str, os.PathLike], *, quality: int = 90, jobs: Optional[int] = None) -> pa.Table:
    """The release (``crowdsift release``): approved photos, or photos nothing flagged for a person,
    written into `to`/images without metadata (redacted where personal data was found); returns
    the manifest's rows. What was left out and why: ``crowdsift.last_release``."""
    global last_release
    last_release = _native.release(pathlib.Path(out), pathlib.Path(to), quality, jobs)
    return pq.read_table(pathlib.Path(to) / "manifest.parquet")


last_release: dict = {}
