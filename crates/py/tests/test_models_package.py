"""The models wheels (scripts/models_wheel.py, installed by scripts/test.sh: one per job, each under
the 100 MB file limit, and crowdsift-models depending on them): with them installed, the engine
finds its models from any folder without CROWDSIFT_MODELS; without them (and no models.toml
nearby) the error says how to get them."""

import os
import pathlib
import subprocess
import sys

from photos import SAMPLES  # noqa: E402 (the tests' folder)


def run(code: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CROWDSIFT_MODELS"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def embed_error(out: pathlib.Path) -> str:
    """Code that embeds the samples into `out` and prints the ModelError it raises."""
    return (
        "try:\n"
        f"    crowdsift.embed({str(SAMPLES)!r}, {str(out)!r})\n"
        "except crowdsift.ModelError as e:\n"
        "    print(e)\n"
    )


def test_models_are_found_through_the_installed_package(tmp_path):
    res = run(
        "import os, crowdsift\n"
        f"t = crowdsift.embed({str(SAMPLES)!r}, {str(tmp_path / 'out')!r})\n"
        "print(t.num_rows)\n"
        "print(os.environ['CROWDSIFT_MODELS'])\n",
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    rows, models = res.stdout.split()
    assert rows == "13"
    found = [pathlib.Path(p) for p in models.split(os.pathsep)]
    assert sorted(p.parent.name for p in found) == ["crowdsift_models_backbones", "crowdsift_models_faces",
                                                     "crowdsift_models_ocr"]
    assert all(p.is_file() and "site-packages" in str(p) for p in found)


def test_one_jobs_models_alone_are_enough_for_that_job(tmp_path):
    """With only the OCR models wheel on CROWDSIFT_MODELS, reading text works; embedding says which
    model it lacks."""
    import crowdsift_models_ocr

    env_code = f"import os\nos.environ['CROWDSIFT_MODELS'] = {str(crowdsift_models_ocr.path())!r}\nimport crowdsift\n"
    res = run(
        env_code
        + f"t = crowdsift.ocr({str(SAMPLES)!r}, {str(tmp_path / 'out')!r}, engine='ppocr')\n"
        + embed_error(tmp_path / "out"),
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "unknown model `efficientnet-lite0`" in res.stdout, res.stdout


def test_without_models_the_error_says_how_to_install_them(tmp_path):
    res = run(
        "import sys\n"
        "sys.modules['crowdsift_models'] = None  # as if not installed\n"
        "import crowdsift\n"
        + embed_error(tmp_path / "out"),
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "models.toml not found" in res.stdout and "pip install crowdsift[models]" in res.stdout
