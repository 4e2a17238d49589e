"""The crowdsift-models wheel (scripts/models_wheel.py, installed by scripts/test.sh): with it
installed, the engine finds its models from any folder without CROWDSIFT_MODELS; without it (and
no models.toml nearby) the error says how to get them."""

import os
import pathlib
import subprocess
import sys

from photos import SAMPLES  # noqa: E402 (the tests' folder)


def run(code: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CROWDSIFT_MODELS"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


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
    assert pathlib.Path(models).is_file() and "site-packages" in models and "crowdsift_models" in models


def test_without_models_the_error_says_how_to_install_them(tmp_path):
    res = run(
        "import sys\n"
        "sys.modules['crowdsift_models'] = None  # as if not installed\n"
        "import crowdsift\n"
        "try:\n"
        f"    crowdsift.embed({str(SAMPLES)!r}, {str(tmp_path / 'out')!r})\n"
        "except crowdsift.ModelError as e:\n"
        "    print(e)\n",
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "models.toml not found" in res.stdout and "pip install crowdsift[models]" in res.stdout
