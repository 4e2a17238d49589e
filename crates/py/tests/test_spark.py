"""crowdsift.spark in PySpark local[2] (Java 17, PyPI pyspark): the findings of a DataFrame of
manifest rows spread over several partitions equal, row for row, those of one single-machine scan —
duplicates included, although the copies sit in different partitions.
"""

import os
import pathlib
import sys

import pandas as pd
import pytest
from pyspark.sql import SparkSession

import crowdsift
from crowdsift import spark as cs

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples" / "manifest.csv"
KEY = ["id", "stage", "check"]
VALUES = ["id", "uri", "label", "stage", "check", "score", "threshold", "flagged", "reason", "detail"]


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crowdsift-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def manifest() -> pd.DataFrame:
    m = pd.read_csv(SAMPLES, dtype=str)
    m["uri"] = [str(SAMPLES.parent / u) for u in m["uri"]]
    return m


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    return df[VALUES].sort_values(KEY).reset_index(drop=True)


def test_spark_scan_equals_the_single_machine_scan(spark, tmp_path):
    m = manifest()
    want = ordered(crowdsift.scan(m, out=tmp_path / "single").to_pandas())
    df = spark.createDataFrame(m).repartition(3)
    assert df.rdd.getNumPartitions() == 3
    got = ordered(cs.scan(df).toPandas())
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    flagged = got[got["flagged"] & (got["stage"] == "duplicates")]
    # The samples' exact copy and near copies, found across partitions.
    assert sorted(flagged["check"]) == ["exact_duplicate", "near_duplicate", "near_duplicate"]


def test_spark_embeddings_equal_the_single_machine_ones(spark, tmp_path):
    import numpy as np

    m = manifest()
    want = crowdsift.embed(m, out=tmp_path / "single").to_pandas().set_index("id")
    got = cs.embed(spark.createDataFrame(m).repartition(2)).toPandas().set_index("id")
    assert sorted(got.index) == sorted(want.index) and len(got) == 13
    for pid, row in got.iterrows():
        assert row["sha256"] == want.loc[pid, "sha256"] and row["label"] == want.loc[pid, "label"]
        np.testing.assert_allclose(np.asarray(row["embedding"]), np.asarray(want.loc[pid, "embedding"]), atol=1e-5)
