"""crowdsift on Apache Spark: the Rust engine over the partitions of a DataFrame of manifest rows.

    from crowdsift import spark as cs
    manifest = spark.read.csv("s3://bucket/manifest.csv", header=True)   # obs_uid, label, uri
    findings = cs.scan(manifest)                      # quality and duplicates
    emb = cs.embed(manifest)                           # id, label, sha256, embedding
    head, _ = cs.train_head(emb, stem="heads/lr", backbone_sha256=...)
    preds = cs.predict(emb, head)                      # as `crowdsift predict`
    personal = cs.pii(manifest)                        # OCR, then personal data

Each task runs the engine (``mapInArrow``) on its partition's photos, read from the paths or
``s3://`` uris in the rows (give absolute paths: a relative one is taken from the executor's working
folder). What depends on the whole collection — duplicates — is computed on the driver from small
per-photo keys every task returns, with the same code as a single-machine run, so that the
DataFrame holds exactly the rows ``crowdsift.scan`` gives for the same manifest.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any, Iterator, Optional, Tuple, Union

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.sql import DataFrame

__all__ = ["scan", "embed", "train_head", "predict", "ocr", "pii"]

FINDINGS_DDL = (
    "id string, uri string, label string, stage string, check string, score double, "
    "threshold double, flagged boolean, reason string, detail string"
)
_FINDINGS_COLUMNS = ["id", "uri", "label", "stage", "check", "score", "threshold", "flagged", "reason", "detail"]
# A task's output: findings (kind "finding") and one row of duplicate keys per photo (kind "key").
_PART_DDL = FINDINGS_DDL + ", kind string, k_sha256 string, k_pixels long, k_pixel_sha256 string, k_phash long"
_U64 = 1 << 64


def _signed(h):
    """A 64-bit hash as Spark's signed long (and back with `_unsigned`)."""
    return None if h is None else (h - _U64 if h >= 1 << 63 else h)


def _unsigned(h):
    return None if h is None else (h + _U64 if h < 0 else h)


def _part_schema() -> pa.Schema:
    s, d = pa.string(), pa.float64()
    return pa.schema(
        [("id", s), ("uri", s), ("label", s), ("stage", s), ("check", s), ("score", d), ("threshold", d),
         ("flagged", pa.bool_()), ("reason", s), ("detail", s), ("kind", s), ("k_sha256", s),
         ("k_pixels", pa.int64()), ("k_pixel_sha256", s), ("k_phash", pa.int64())]
    )


def _scan_partition(jobs: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import crowdsift
        from crowdsift import _native

        schema = _part_schema()
        # Each Arrow batch goes to the engine as it comes, in memory: no manifest, store or files.
        for batch in batches:
            if batch.num_rows == 0:
                continue
            part = _native.scan_part(*crowdsift._manifest_columns(batch), {"jobs": jobs})
            f = part["findings"]
            n = len(f["id"])
            cols = {c: pa.array(f[c], type=schema.field(c).type) for c in _FINDINGS_COLUMNS}
            cols["kind"] = pa.array(["finding"] * n, type=pa.string())
            for c in ("k_sha256", "k_pixels", "k_pixel_sha256", "k_phash"):
                cols[c] = pa.nulls(n, type=schema.field(c).type)
            yield pa.RecordBatch.from_pydict(cols, schema=schema)
            ids, shas, pixels, pixel_shas, phashes = part["keys"]
            k = len(ids)
            if k:
                yield pa.RecordBatch.from_pydict(
                    {
                        "id": ids, "uri": [None] * k, "label": [None] * k, "stage": [None] * k,
                        "check": [None] * k, "score": [None] * k, "threshold": [None] * k, "flagged": [None] * k,
                        "reason": [None] * k, "detail": [None] * k, "kind": ["key"] * k, "k_sha256": shas,
                        "k_pixels": pixels, "k_pixel_sha256": pixel_shas, "k_phash": [_signed(h) for h in phashes],
                    },
                    schema=schema,
                )
            for e in part["listing_errors"]:
                crowdsift.log.warning("spark scan: %s", e)

    return run


def scan(manifest: DataFrame, *, jobs: int = 1, max_hash_distance: Optional[int] = None) -> DataFrame:
    """Findings of ``crowdsift scan`` for a Spark DataFrame of manifest rows (``obs_uid``, ``uri``,
    optionally ``label`` and other string columns): one row per photo per check.

    ``jobs`` is the number of engine threads per task (Spark's tasks already use the cores).
    """
    from pyspark.sql import functions as F

    from . import _native

    spark = manifest.sparkSession
    parts = _manifest_strings(manifest).mapInArrow(_scan_partition(jobs), _PART_DDL).cache()
    per_photo = parts.where(F.col("kind") == "finding").select(*_FINDINGS_COLUMNS)
    keys = parts.where(F.col("kind") == "key").select("id", "k_sha256", "k_pixels", "k_pixel_sha256", "k_phash")
    collected = keys.toArrow() if hasattr(keys, "toArrow") else pa.Table.from_pandas(keys.toPandas())
    dups = _native.duplicates(
        collected["id"].to_pylist(),
        collected["k_sha256"].to_pylist(),
        collected["k_pixels"].to_pylist(),
        collected["k_pixel_sha256"].to_pylist(),
        [_unsigned(h) for h in collected["k_phash"].to_pylist()],
        max_hash_distance,
    )
    photos = manifest.select(
        F.col("obs_uid").cast("string").alias("id"),
        F.col("uri").cast("string").alias("uri"),
        (F.col("label").cast("string") if "label" in manifest.columns else F.lit(None).cast("string")).alias("label"),
    )
    dup_rows = spark.createDataFrame(
        dups, "id string, stage string, check string, score double, threshold double, flagged boolean, detail string"
    )
    dup_findings = dup_rows.join(photos, "id", "left").select(
        "id", "uri", "label", "stage", "check", "score", "threshold", "flagged",
        F.lit(None).cast("string").alias("reason"), "detail",
    )
    return per_photo.unionByName(dup_findings)


EMBEDDINGS_DDL = "id string, label string, sha256 string, embedding array<float>"


def _embed_partition(model: str, batch: int, threads: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numpy as np

        import crowdsift
        from crowdsift import _native

        options = {"model": model, "batch": batch, "jobs": 1, "threads": threads}
        for rows in batches:
            if rows.num_rows == 0:
                continue
            # In memory (the model stays loaded in this Python worker for the next tasks).
            ids, labels, shas, dim, data, failed, errors = _native.embed_part(*crowdsift._manifest_columns(rows), options)
            values = pa.array(np.frombuffer(data, dtype="<f4"), type=pa.float32())
            offsets = pa.array(np.arange(0, len(ids) + 1, dtype=np.int32) * dim, type=pa.int32())
            yield pa.RecordBatch.from_pydict(
                {"id": ids, "label": pa.array(labels, type=pa.string()), "sha256": shas,
                 "embedding": pa.ListArray.from_arrays(offsets, values)},
            )
            for photo, reason in failed:
                crowdsift.log.warning("spark embed: not used: %s: %s", photo, reason)
            for e in errors:
                crowdsift.log.warning("spark embed: %s", e)

    return run


def embed(manifest: DataFrame, *, model: str = "efficientnet-lite0", batch: int = 16, threads: int = 1) -> DataFrame:
    """Backbone embeddings (``crowdsift embed``) of a Spark DataFrame of manifest rows: ``id``,
    ``label``, ``sha256``, ``embedding`` (array<float>), one row per decodable photo.

    Executors find the models through ``CROWDSIFT_MODELS`` (set it with
    ``spark.executorEnv.CROWDSIFT_MODELS``) or a models.toml above their working folder.
    """
    return _manifest_strings(manifest).mapInArrow(_embed_partition(model, batch, threads), EMBEDDINGS_DDL)


def train_head(
    embeddings: DataFrame,
    *,
    stem: Union[str, os.PathLike],
    backbone: str = "efficientnet-lite0",
    backbone_sha256: str,
    reg_param: float = 1e-3,
    max_iter: int = 200,
) -> Tuple[str, LogisticRegressionModel]:
    """Trains the classification head on a DataFrame of embeddings (``embed``'s columns) with Spark
    MLlib's multinomial LogisticRegression, and saves it as a crowdsift head (``stem.safetensors``
    + ``stem.json``) that ``crowdsift predict DIR --head stem.safetensors``, ``evaluate`` and
    ``export`` use. Returns the safetensors path and the fitted MLlib model.

    ``backbone_sha256`` is the checksum of the backbone that computed the embeddings (``embed``'s
    table metadata, or models.toml), recorded so that the head is never used on other embeddings.
    """
    import json

    import numpy as np
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    from . import _native

    rows = embeddings.where(F.col("label").isNotNull()).withColumn("features", array_to_vector("embedding"))
    indexer = StringIndexer(inputCol="label", outputCol="y", stringOrderType="alphabetAsc").fit(rows)
    params = {"regParam": reg_param, "maxIter": max_iter, "family": "multinomial", "elasticNetParam": 0.0}
    model = LogisticRegression(featuresCol="features", labelCol="y", **params).fit(indexer.transform(rows))
    weight = np.asarray(model.coefficientMatrix.toArray(), dtype="<f4")
    bias = np.asarray(model.interceptVector.toArray(), dtype="<f4")
    path = _native.save_head(
        str(stem), list(indexer.labels), weight.shape[1], weight.tobytes(), bias.tobytes(), backbone,
        backbone_sha256, json.dumps({"trainer": "spark.ml LogisticRegression", **params}),
    )
    return path, model


PREDICTIONS_DDL = (
    "id string, label string, predicted string, confidence double, p_label double, "
    "top_k array<struct<label:string,p:double>>"
)


def _predict_partition(head: str, top_k: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numpy as np

        from . import _native

        for batch in batches:
            n = batch.num_rows
            if n == 0:
                continue
            vectors = batch.column("embedding")
            x = np.asarray(vectors.flatten().to_numpy(zero_copy_only=False), dtype="<f4")
            classes, data = _native.predict_embeddings(head, x.tobytes(), n)
            probs = np.frombuffer(data, dtype="<f4").reshape(n, len(classes))
            index = {c: i for i, c in enumerate(classes)}
            labels = batch.column("label").to_pylist()
            # As `crowdsift predict`: classes by falling probability, ties in class order.
            order = np.argsort(-probs, axis=1, kind="stable")
            rows = {"predicted": [], "confidence": [], "p_label": [], "top_k": []}
            for i in range(n):
                p, o = probs[i], order[i]
                given = index.get(labels[i])
                rows["predicted"].append(classes[o[0]])
                rows["confidence"].append(float(p[o[0]]))
                rows["p_label"].append(None if given is None else float(p[given]))
                rows["top_k"].append([{"label": classes[k], "p": float(p[k])} for k in o[: max(top_k, 1)]])
            kind = pa.list_(pa.struct([("label", pa.string()), ("p", pa.float64())]))
            yield pa.RecordBatch.from_arrays(
                [batch.column("id"), batch.column("label"), pa.array(rows["predicted"], pa.string()),
                 pa.array(rows["confidence"], pa.float64()), pa.array(rows["p_label"], pa.float64()),
                 pa.array(rows["top_k"], type=kind)],
                names=["id", "label", "predicted", "confidence", "p_label", "top_k"],
            )

    return run


def predict(embeddings: DataFrame, head: Union[str, os.PathLike], *, top_k: int = 5) -> DataFrame:
    """Predictions of a head trained on embeddings (``crowdsift train --mode transfer`` or
    ``train_head``) for a DataFrame with ``embed``'s columns: ``id``, ``label``, ``predicted``,
    ``confidence``, ``p_label`` and ``top_k`` — the columns of ``crowdsift predict``, unrounded.
    The head file must be readable at the same path on every executor (a shared filesystem, or
    ``SparkContext.addFile`` and ``SparkFiles.get``). Fine-tuned heads read the photos, not their
    embeddings, and are refused.
    """
    cols = ["id", "label", "embedding"]
    return embeddings.select(*cols).mapInArrow(_predict_partition(os.fspath(head), top_k), PREDICTIONS_DDL)


_QUAD_DDL = "array<array<double>>"
OCR_DDL = (
    "id string, uri string, sha256 string, line int, read boolean, text string, confidence double, "
    f"script string, engine string, turned boolean, handwriting double, quad {_QUAD_DDL}"
)
PII_DDL = (
    "id string, uri string, sha256 string, country string, kind string, line int, masked string, "
    f"evidence string, score double, quad {_QUAD_DDL}"
)


def _text_partition(stage: str, options: dict):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import crowdsift

        # An empty partition (more partitions than rows) hands over no batch at all, which
        # Table.from_batches cannot take.
        batches = list(batches)
        if not any(b.num_rows for b in batches):
            return
        rows = pa.Table.from_batches(batches)
        with tempfile.TemporaryDirectory(prefix="crowdsift-part-") as out:
            table = crowdsift.ocr(rows, out, jobs=1, **options.get("ocr", {}))
            if stage == "pii":
                table = crowdsift.pii(out, **options.get("pii", {}))
            quad = pa.list_(pa.list_(pa.float64()))
            table = table.set_column(table.column_names.index("quad"), "quad", table["quad"].cast(quad))
            yield from table.to_batches()

    return run


def _manifest_strings(manifest):
    from pyspark.sql import functions as F

    return manifest.select(*[F.col(c).cast("string").alias(c) for c in manifest.columns])


def ocr(manifest: DataFrame, **options: Any) -> DataFrame:
    """Text lines (``crowdsift ocr``) of a DataFrame of manifest rows: the columns of
    ``crowdsift.ocr``, one row per line. `options`: engine, lang, models, tile. Each task loads
    the OCR models once (0.3 s measured on 2 cores): partitions of hundreds of photos amortise it."""
    return _manifest_strings(manifest).mapInArrow(_text_partition("ocr", {"ocr": options}), OCR_DDL)


def pii(manifest: DataFrame, *, ocr_options: Optional[dict] = None, **options: Any) -> DataFrame:
    """Personal data (``crowdsift ocr`` then ``crowdsift pii``) in the photos of a DataFrame of
    manifest rows (its ``country`` column, if any, validates phone numbers): the columns of
    ``crowdsift.pii``, one row per finding. `options`: country, lexicon, faces, face_side."""
    parts = {"ocr": ocr_options or {}, "pii": options}
    return _manifest_strings(manifest).mapInArrow(_text_partition("pii", parts), PII_DDL)
