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

from photos import ROOT, SAMPLES, text_manifest

KEY = ["id", "stage", "check"]
VALUES = ["id", "uri", "label", "stage", "check", "score", "threshold", "flagged", "reason", "detail"]


@pytest.fixture(scope="module")
def s3():
    """A local S3-compatible server (moto) holding the samples in bucket `photos`; its endpoint."""
    import socket
    import subprocess
    import time

    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
           "AWS_ALLOW_HTTP": "true", "AWS_ENDPOINT_URL": endpoint}
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "moto server did not start"
                time.sleep(0.2)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket="photos")
        for f in (SAMPLES.parent / "photos").iterdir():
            client.upload_file(str(f), "photos", f"samples/{f.name}")
        yield env
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(scope="module")
def spark(s3):
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.update(s3)
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("crowdsift-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
    )
    for k, v in s3.items():
        builder = builder.config(f"spark.executorEnv.{k}", v)
    session = builder.getOrCreate()
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


def test_a_head_trained_with_mllib_predicts_the_same_in_crowdsift(spark, tmp_path):
    import subprocess

    m = manifest()
    single = tmp_path / "single"
    table = crowdsift.embed(m, out=single)
    sha = table.schema.metadata[b"model_sha256"].decode()
    emb = cs.embed(spark.createDataFrame(m).repartition(2))
    path, model = cs.train_head(emb, stem=tmp_path / "heads" / "mllib", backbone_sha256=sha)
    assert pathlib.Path(path).is_file() and pathlib.Path(path).with_suffix(".json").is_file()

    # MLlib's probabilities, by photo and class.
    from pyspark.ml.functions import array_to_vector, vector_to_array

    scored = model.transform(emb.withColumn("features", array_to_vector("embedding")))
    mllib = {r["id"]: list(r["p"]) for r in scored.select("id", vector_to_array("probability").alias("p")).collect()}
    classes = sorted(set(m["label"]))

    binary = ROOT / "target" / "debug" / "crowdsift"
    res = subprocess.run([str(binary), "predict", str(single), "--head", str(path), "--top-k", "3"], capture_output=True, text=True)
    assert res.returncode in (0, 1), res.stderr
    predictions = pd.read_csv(single / "predictions.csv", dtype=str)
    assert len(predictions) == 13
    for _, row in predictions.iterrows():
        p = mllib[row["id"]]
        assert row["predicted"] == classes[max(range(len(p)), key=p.__getitem__)]
        for item in row["top_k"].split(";"):
            label, prob = item.rsplit(":", 1)
            assert abs(float(prob) - p[classes.index(label)]) < 1e-3, (row["id"], label, prob)
    # Exported with its backbone, the MLlib head runs anywhere ONNX does.
    onnx = crowdsift.export(path, tmp_path / "mllib.onnx")
    assert onnx.stat().st_size > 10_000_000


def test_photos_are_read_from_s3_by_the_executors(spark, tmp_path):
    m = manifest()
    local = ordered(crowdsift.scan(m, out=tmp_path / "local").to_pandas())
    remote = m.copy()
    remote["uri"] = [f"s3://photos/samples/{pathlib.Path(u).name}" for u in m["uri"]]
    got = ordered(cs.scan(spark.createDataFrame(remote).repartition(2)).toPandas())
    # The same findings; only where the photos came from differs.
    pd.testing.assert_frame_equal(got.drop(columns="uri"), local.drop(columns="uri"), check_dtype=False)
    assert set(got["uri"]) == set(remote["uri"])


def test_spark_predictions_equal_crowdsift_predict(spark, tmp_path):
    import numpy as np

    m = manifest()
    single = tmp_path / "single"
    crowdsift.embed(m, out=single)
    head = crowdsift.train(single, epochs=8).head
    want = crowdsift.predict(single, head, top_k=3).to_pandas().set_index("id")
    emb = cs.embed(spark.createDataFrame(m).repartition(2))
    got = cs.predict(emb, head, top_k=3).toPandas().set_index("id")
    assert sorted(got.index) == sorted(want.index) and len(got) == 13
    for pid, row in got.iterrows():
        w = want.loc[pid]
        assert row["predicted"] == w["predicted"] and row["label"] == w["label"]
        # predictions.csv holds four decimals.
        assert abs(row["confidence"] - w["confidence"]) < 1e-4 and abs(row["p_label"] - w["p_label"]) < 1e-4
        assert [e["label"] for e in row["top_k"]] == [e["label"] for e in w["top_k"]]
        np.testing.assert_allclose([e["p"] for e in row["top_k"]], [e["p"] for e in w["top_k"]], atol=1e-4)


def test_spark_ocr_and_pii_equal_the_single_machine_ones(spark, tmp_path):
    m = text_manifest()
    single = tmp_path / "single"
    want_lines = crowdsift.ocr(m, single).to_pandas()
    want_pii = crowdsift.pii(single).to_pandas()
    # More partitions than photos: some tasks get none.
    df = spark.createDataFrame(m).repartition(len(m) + 1)
    key = ["id", "line", "text", "confidence"]  # boxes not read have no line index
    got_lines = cs.ocr(df).toPandas().sort_values(key).reset_index(drop=True)
    want_lines = want_lines.sort_values(key).reset_index(drop=True)
    assert len(got_lines) == len(want_lines) >= 16
    pd.testing.assert_frame_equal(got_lines.drop(columns="quad"), want_lines.drop(columns="quad"), check_dtype=False)
    assert [list(map(list, q)) for q in got_lines["quad"]] == [list(map(list, q)) for q in want_lines["quad"]]

    cols = ["id", "kind", "line", "masked", "evidence", "score", "country"]
    got_pii = cs.pii(df).toPandas()[cols].sort_values(["id", "kind", "masked"]).reset_index(drop=True)
    want_pii = want_pii[cols].sort_values(["id", "kind", "masked"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got_pii, want_pii, check_dtype=False)
    assert {"phone", "email", "person_name", "face"} <= set(got_pii["kind"])
