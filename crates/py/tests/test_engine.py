"""The Python package against the command line on the bundled sample photos (and the text photos
of ../shared/data/ocr-dev): the same findings row for row, the same embeddings within 1e-5, the
same training curve, predictions, evaluation and audit, the text and personal data OCR and PII
find, redacted copies that hide it; typed errors.

Run by scripts/test.sh after the wheel is built with maturin and installed; needs the crowdsift
binary (target/debug/crowdsift) for the side-by-side runs.
"""

import json
import os
import pathlib
import sqlite3
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import crowdsift

from photos import OCR_DEV, ROOT, SAMPLES, text_manifest  # noqa: E402 (the tests' folder)

BINARY = ROOT / "target" / "debug" / "crowdsift"
KEY = ["id", "stage", "check"]
VALUES = ["id", "uri", "label", "stage", "check", "score", "threshold", "flagged", "reason", "detail"]


def cli(*args):
    assert BINARY.is_file(), f"build the binary first (cargo build -p crowdsift-cli): {BINARY}"
    res = subprocess.run([str(BINARY), *map(str, args), "-q"], capture_output=True, text=True)
    assert res.returncode in (0, 1), res.stderr
    return res


def rows(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()[VALUES].sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def by_cli(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    cli("scan", SAMPLES, "--out", out)
    cli("embed", SAMPLES, "--out", out)
    return out


def test_scan_gives_the_findings_of_the_command_line(by_cli, tmp_path):
    got = crowdsift.scan(SAMPLES, out=tmp_path / "py")
    want = crowdsift.findings(by_cli)
    assert got.num_rows == want.num_rows > 14
    pd.testing.assert_frame_equal(rows(got), rows(want))
    # The truncated sample is one of them, with its reason code.
    decode = rows(got).query("check == 'decode' and flagged")
    assert list(decode["reason"]) == ["truncated"]


def test_a_table_of_manifest_rows_is_a_source(by_cli, tmp_path):
    manifest = pd.read_csv(SAMPLES)
    manifest["uri"] = [str(SAMPLES.parent / u) for u in manifest["uri"]]
    got = rows(crowdsift.scan(manifest, out=tmp_path / "df"))
    want = rows(crowdsift.findings(by_cli))
    pd.testing.assert_frame_equal(got.drop(columns="uri"), want.drop(columns="uri"))
    assert not list((tmp_path / "df").glob("manifest-*.parquet")), "the temporary manifest is removed"
    # Relative uris are taken from the current folder.
    cwd = os.getcwd()
    try:
        os.chdir(SAMPLES.parent)
        rel = pa.Table.from_pandas(pd.read_csv(SAMPLES), preserve_index=False)
        got = rows(crowdsift.scan(rel, out=tmp_path / "rel"))
    finally:
        os.chdir(cwd)
    pd.testing.assert_frame_equal(got.drop(columns="uri"), want.drop(columns="uri"))


def test_embeddings_equal_the_command_line(by_cli, tmp_path):
    got = crowdsift.embed(SAMPLES, out=tmp_path / "emb")
    assert got.column_names == ["id", "label", "sha256", "embedding"]
    assert got.num_rows == 13, "every decodable sample"
    db = sqlite3.connect(by_cli / "crowdsift.db")
    want = {
        sha: np.frombuffer(v, dtype="<f4")
        for sha, v in db.execute("SELECT sha256, vector FROM embeddings")
    }
    vectors = np.stack(got["embedding"].to_numpy(zero_copy_only=False))
    assert vectors.shape == (13, 1280)
    for sha, v in zip(got["sha256"].to_pylist(), vectors):
        np.testing.assert_allclose(v, want[sha], atol=1e-5)
    # Embedding again is served from the store: the same table.
    again = crowdsift.embed(SAMPLES, out=tmp_path / "emb")
    assert again.equals(got)


def test_errors_are_typed():
    with pytest.raises(crowdsift.SourceError, match="nonexistent"):
        crowdsift.scan("/nonexistent/photos", out="/tmp/crowdsift-never")
    with pytest.raises(crowdsift.ModelError):
        crowdsift.embed(SAMPLES, out="/tmp/crowdsift-never", model="no-such-model")
    with pytest.raises(crowdsift.SourceError, match="uri"):
        crowdsift.scan(pd.DataFrame({"obs_uid": ["a"]}), out="/tmp/crowdsift-never")
    assert issubclass(crowdsift.ModelError, crowdsift.CrowdsiftError)


def test_stage_options_are_the_engines(tmp_path):
    """Keyword arguments reach the engine as typed values, checked against the stage's options
    (the same list the command line has), not as a command line."""
    with pytest.raises(TypeError, match=r"pii\(\): unknown option `handwritng`; its options are .*handwriting"):
        crowdsift._native.pii(tmp_path, {"handwritng": 0.6})
    with pytest.raises(TypeError, match=r"pii\(\): option `face_side`: 'str' object cannot be interpreted as an integer"):
        crowdsift._native.pii(tmp_path, {"face_side": "large"})
    with pytest.raises(ValueError, match="option `style`: unknown variant `smudge`"):
        crowdsift._native.redact(tmp_path, {"style": "smudge"})
    # Options left out take the engine's defaults, and a stage that cannot run says why.
    with pytest.raises(crowdsift.CrowdsiftError, match="no OCR results"):
        crowdsift.pii(tmp_path, handwriting=0.6, phone_regions=("KE", "TZ"))
    with pytest.raises(crowdsift.CrowdsiftError, match="no release folder"):
        crowdsift._native.release(tmp_path, {})


def test_release_writes_what_the_command_line_releases(by_cli, tmp_path):
    import hashlib

    crowdsift.scan(SAMPLES, out=tmp_path / "py")
    got = crowdsift.release(tmp_path / "py", tmp_path / "release").to_pandas()
    cli("release", by_cli, "--to", tmp_path / "cli-release")
    want = pd.read_parquet(tmp_path / "cli-release" / "manifest.parquet")
    assert sorted(got["obs_uid"]) == sorted(want["obs_uid"]) and len(got) > 0
    assert crowdsift.last_summary["release"]["unreadable"] == 1 and crowdsift.last_summary["release"]["pending"]
    for _, row in got.iterrows():
        data = (tmp_path / "release" / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    with pytest.raises(crowdsift.SourceError, match="not an earlier release"):
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / "x.txt").write_text("mine")
        crowdsift.release(tmp_path / "py", tmp_path / "busy")


def test_training_predictions_and_evaluation_equal_the_command_line(by_cli, tmp_path):
    py = tmp_path / "py"
    crowdsift.embed(SAMPLES, out=py)
    trained = crowdsift.train(py, epochs=8, seed=7)
    assert trained.head.is_file() and trained.head.with_suffix(".json").is_file()
    assert trained.history.column_names == ["epoch", "train_loss", "val_loss", "val_top1", "val_top5", "seconds"]
    assert trained.history.num_rows == 8 and trained.train_photos + trained.val_photos == 13
    assert list(trained.tensorboard.glob("events.out.tfevents.*")), "TensorBoard events written"
    # The command line on its own store: the same curve (same seed, same split, same code).
    res = cli("train", by_cli, "--epochs", "8", "--seed", "7")
    ckpt = pathlib.Path(res.stdout.split("checkpoints: ")[1].split()[0])
    losses = [float(line.split("train loss ")[1].split()[0]) for line in res.stdout.splitlines() if line.startswith("epoch")]
    np.testing.assert_allclose(trained.history["train_loss"].to_numpy(), losses, atol=1e-4)

    got = crowdsift.predict(py, trained.head, top_k=3).to_pandas().set_index("id")
    cli("predict", by_cli, "--head", ckpt / "best.safetensors", "--top-k", "3")
    want = pd.read_csv(by_cli / "predictions.csv", dtype={"id": str, "label": str}).set_index("id")
    assert sorted(got.index) == sorted(want.index) and len(got) == 13
    assert (got["predicted"] == want.loc[got.index, "predicted"]).all()
    np.testing.assert_allclose(got["confidence"], want.loc[got.index, "confidence"], atol=1e-6)
    first = got.iloc[0]["top_k"]
    assert len(first) == 3 and first[0]["label"] == got.iloc[0]["predicted"]
    assert first[0]["p"] >= first[1]["p"] >= first[2]["p"]

    ev = crowdsift.evaluate(py, trained.head, all=True)
    cli("evaluate", by_cli, "--head", ckpt / "best.safetensors", "--all")
    metrics = json.loads((by_cli / "eval" / ckpt.name / "metrics.json").read_text())
    assert ev.photos == metrics["photos"] == 13
    assert abs(ev.accuracy - metrics["accuracy"]) < 1e-9 and abs(ev.macro_f1 - metrics["macro_f1"]) < 1e-9
    # Accuracy is the confusion matrix's diagonal share.
    conf = ev.confusion.to_pandas().set_index("true")
    assert abs(np.trace(conf.to_numpy()) / conf.to_numpy().sum() - ev.accuracy) < 1e-12
    assert set(ev.per_class["class"].to_pylist()) == set(trained.classes)

    onnx = crowdsift.export(trained.head, tmp_path / "classifier.onnx")
    assert onnx.stat().st_size > 10_000_000, "backbone and head in one model"

    cv = crowdsift.cross_validate(py, 3, epochs=4)
    assert cv.folds.num_rows == 3 and cv.photos == 13 and 0.0 <= cv.mean_top1 <= 1.0
    with pytest.raises(TypeError, match="epoch"):
        crowdsift.train(py, epoch=3)
    with pytest.raises(ValueError, match="mode"):
        crowdsift.train(py, mode="sideways")


def test_audit_equals_the_command_line(by_cli, tmp_path):
    py = tmp_path / "py"
    got = crowdsift.audit(py, source=SAMPLES, epochs=10)
    cli("audit", by_cli, "--epochs", "10")
    want = pd.read_csv(by_cli / "audit" / "labels.csv", dtype={"id": str, "label": str, "suggested": str})
    got = got.to_pandas()
    assert len(got) == len(want) == 13
    pd.testing.assert_frame_equal(got[["id", "label", "suggested", "label_issue"]], want[["id", "label", "suggested", "label_issue"]])
    np.testing.assert_allclose(got["p_label"], want["p_label"], atol=1e-6)
    assert crowdsift.last_summary["audit"]["issues"] == int(want["label_issue"].sum())


def test_ocr_pii_and_redaction_of_text_photos(tmp_path):
    import hashlib

    from PIL import Image

    m = text_manifest()
    py = tmp_path / "py"
    lines = crowdsift.ocr(m, py)
    gt = json.loads((OCR_DEV / "gt.json").read_text())
    receipt = lines.to_pandas().query("id == 'receipt_cabbage' and read")
    assert "Tel +49 170 1234567" in set(receipt["text"]), receipt["text"].tolist()
    assert len(receipt) == len(gt["receipt_cabbage.jpg"])
    assert lines.schema.field("quad").type == pa.list_(pa.list_(pa.float64(), 2), 4)

    found = crowdsift.pii(py).to_pandas()
    on_receipt = found.query("id == 'receipt_cabbage'")
    assert set(on_receipt["kind"]) == {"person_name", "phone", "email"}
    assert on_receipt.query("kind == 'phone'")["masked"].iloc[0] == "+49 *** *****67"
    assert set(found.query("kind == 'face'")["id"]) >= {"astronaut", "grace_hopper"}
    # The typed receipt needs nobody as far as its text goes (its personal data is hidden).
    held = crowdsift.held(py).to_pandas()
    assert "receipt_cabbage" not in set(held["id"]), held
    assert set(held["check"]) <= {"handwriting", "low_confidence_text", "unread_text", "unclassified_text"}

    copies = crowdsift.redact(py).to_pandas().set_index("id")
    row = copies.loc["receipt_cabbage"]
    assert row["hidden"] == 3 and list(row["residual"]) == [] and row["verified"]
    data = pathlib.Path(row["copy"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == row["copy_sha256"]
    assert not Image.open(pathlib.Path(row["copy"])).getexif(), "no EXIF in a release copy"

    # The command line on the same photos finds the same text and personal data.
    manifest = tmp_path / "text.csv"
    m.to_csv(manifest, index=False)
    cli_out = tmp_path / "cli"
    cli("ocr", manifest, "--out", cli_out)
    cli("pii", cli_out)
    stages = ["id", "stage", "check", "score", "flagged", "detail"]
    def text_findings(out):
        f = crowdsift.findings(out).to_pandas()
        return f[f["stage"].isin(["ocr", "pii"])][stages].sort_values(stages[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(text_findings(py), text_findings(cli_out))


def test_run_equals_the_command_line(tmp_path):
    """`crowdsift.run` and `crowdsift run` walk the engine's one list of stages: the same stages,
    and the same findings, OCR lines, personal data and redactions."""
    got = crowdsift.run(SAMPLES, tmp_path / "py").to_pandas()
    assert list(got["stage"]) == ["scan", "embed", "audit", "ocr", "pii", "redact", "report"]
    assert set(got["status"]) == {"done"}, got
    assert got.set_index("stage").loc["scan", "flagged"], "the samples hold a truncated, a blurred, a dark photo"
    # What each stage found, as `crowdsift run`'s summary says it.
    assert got.set_index("stage").loc["scan", "found"].startswith("14 photos, 6 flagged (blur 2, dark 1, exact_duplicate 1,"), got
    assert "text lines on" in got.set_index("stage").loc["ocr", "found"], got
    cli("run", SAMPLES, "--out", tmp_path / "cli")
    pd.testing.assert_frame_equal(rows(crowdsift.findings(tmp_path / "py")), rows(crowdsift.findings(tmp_path / "cli")),
                                  check_exact=False, rtol=1e-5)
    for table in ["ocr_lines", "pii", "pii_held", "redactions"]:
        py_table, cli_table = (pq.read_table(tmp_path / face / f"{table}.parquet") for face in ("py", "cli"))
        assert py_table.num_rows or table == "pii_held", table
        assert py_table.equals(cli_table), table
    assert not (tmp_path / "py" / "ocr").exists(), "per-photo JSON only when asked for"
    with pytest.raises(crowdsift.CrowdsiftError, match="cannot skip `scan`"):
        crowdsift.run(SAMPLES, tmp_path / "py", skip=["scan"])
