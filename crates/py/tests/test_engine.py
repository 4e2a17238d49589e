"""The Python package against the command line on the bundled sample photos: the same findings row
for row, the same embeddings within 1e-5, typed errors.

Run by scripts/test.sh after the wheel is built with maturin and installed; needs the crowdsift
binary (target/debug/crowdsift) for the side-by-side runs.
"""

import os
import pathlib
import sqlite3
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import crowdsift

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples" / "manifest.csv"
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


def test_release_writes_what_the_command_line_releases(by_cli, tmp_path):
    import hashlib

    crowdsift.scan(SAMPLES, out=tmp_path / "py")
    got = crowdsift.release(tmp_path / "py", tmp_path / "release").to_pandas()
    cli("release", by_cli, "--to", tmp_path / "cli-release")
    want = pd.read_parquet(tmp_path / "cli-release" / "manifest.parquet")
    assert sorted(got["obs_uid"]) == sorted(want["obs_uid"]) and len(got) > 0
    assert crowdsift.last_release["unreadable"] == 1 and crowdsift.last_release["pending"]
    for _, row in got.iterrows():
        data = (tmp_path / "release" / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    with pytest.raises(crowdsift.SourceError, match="not an earlier release"):
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / "x.txt").write_text("mine")
        crowdsift.release(tmp_path / "py", tmp_path / "busy")
