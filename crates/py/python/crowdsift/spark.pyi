# The type stub of crowdsift.spark: written by scripts/make_stub.py from the functions themselves,
# checked by the test suite (--check, and mypy's stubtest against the package).
from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

from pyspark.ml.classification import LogisticRegressionModel
from pyspark.sql import DataFrame

__all__ = ['scan', 'embed', 'train_head', 'predict', 'ocr', 'pii']

FINDINGS_DDL: str
EMBEDDINGS_DDL: str
PREDICTIONS_DDL: str
OCR_DDL: str
PII_DDL: str


def scan(
    manifest: DataFrame,
    *,
    jobs: int = 1,
    max_hash_distance: Optional[int] = None,
) -> DataFrame:
    """Findings of ``crowdsift scan`` for a Spark DataFrame of manifest rows (``obs_uid``, ``uri``,
    optionally ``label`` and other string columns): one row per photo per check.

    ``jobs`` is the number of engine threads per task (Spark's tasks already use the cores).
    """
    ...


def embed(
    manifest: DataFrame,
    *,
    model: str = 'efficientnet-lite0',
    batch: int = 16,
    threads: int = 1,
) -> DataFrame:
    """Backbone embeddings (``crowdsift embed``) of a Spark DataFrame of manifest rows: ``id``,
    ``label``, ``sha256``, ``embedding`` (array<float>), one row per decodable photo.

    Executors find the models through ``CROWDSIFT_MODELS`` (set it with
    ``spark.executorEnv.CROWDSIFT_MODELS``) or a models.toml above their working folder.
    """
    ...


def train_head(
    embeddings: DataFrame,
    *,
    stem: Union[str, os.PathLike],
    backbone: str = 'efficientnet-lite0',
    backbone_sha256: str,
    reg_param: float = 0.001,
    max_iter: int = 200,
) -> Tuple[str, LogisticRegressionModel]:
    """Trains the classification head on a DataFrame of embeddings (``embed``'s columns) with Spark
    MLlib's multinomial LogisticRegression, and saves it as a crowdsift head (``stem.safetensors``
    + ``stem.json``) that ``crowdsift predict DIR --head stem.safetensors``, ``evaluate`` and
    ``export`` use. Returns the safetensors path and the fitted MLlib model.

    ``backbone_sha256`` is the checksum of the backbone that computed the embeddings (``embed``'s
    table metadata, or models.toml), recorded so that the head is never used on other embeddings.
    """
    ...


def predict(embeddings: DataFrame, head: Union[str, os.PathLike], *, top_k: int = 5) -> DataFrame:
    """Predictions of a head trained on embeddings (``crowdsift train --mode transfer`` or
    ``train_head``) for a DataFrame with ``embed``'s columns: ``id``, ``label``, ``predicted``,
    ``confidence``, ``p_label`` and ``top_k`` — the columns of ``crowdsift predict``, unrounded.
    The head file must be readable at the same path on every executor (a shared filesystem, or
    ``SparkContext.addFile`` and ``SparkFiles.get``). Fine-tuned heads read the photos, not their
    embeddings, and are refused.
    """
    ...


def ocr(manifest: DataFrame, **options: Any) -> DataFrame:
    """Text lines (``crowdsift ocr``) of a DataFrame of manifest rows: the columns of
    ``crowdsift.ocr``, one row per line. `options`: engine, lang, models, tile. Each task loads
    the OCR models once (0.3 s measured on 2 cores): partitions of hundreds of photos amortise it.
    """
    ...


def pii(manifest: DataFrame, *, ocr_options: Optional[dict] = None, **options: Any) -> DataFrame:
    """Personal data (``crowdsift ocr`` then ``crowdsift pii``) in the photos of a DataFrame of
    manifest rows (its ``country`` column, if any, validates phone numbers): the columns of
    ``crowdsift.pii``, one row per finding. `options`: country, lexicon, faces, face_side.
    """
    ...
