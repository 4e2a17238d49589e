"""The Python API a person can discover: every engine option of a stage is a keyword argument of
its function, documented in its docstring with the engine's help and default (one definition:
the engine's parameter struct), and the type stubs (.pyi) are the functions as they are."""

import inspect
import pydoc
import subprocess
import sys

import pytest

import crowdsift
from crowdsift import _native
from photos import ROOT  # noqa: E402 (the tests' folder)

#: Engine options a function leaves out on purpose: cross-validation splits into folds and trains
#: each from scratch, so it has no validation share and nothing to resume.
LEFT_OUT = {crowdsift.cross_validate: {"val_split", "resume"}}


@pytest.mark.parametrize("fn", list(crowdsift._STAGE_OPTIONS), ids=lambda f: f.__name__)
def test_every_engine_option_is_a_documented_keyword(fn):
    stage = crowdsift._STAGE_OPTIONS[fn]
    params = inspect.signature(fn).parameters
    options = _native.options(stage)
    assert options, stage
    doc = inspect.getdoc(fn)
    for name, help, default, values in options:
        if name in LEFT_OUT.get(fn, set()):
            continue
        assert name in params, f"{fn.__name__}() lacks the engine's option {name}"
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY or name == "to", name
        assert help.strip(), f"option {name} of {stage} has no help"
        assert f"\n{name}: " in doc, f"{fn.__name__}'s docstring does not list {name}"
        text = entry(doc, name)
        if isinstance(params[name].default, bool):
            # A switch: its Python default is the engine's.
            assert str(params[name].default).lower() == default, (name, params[name].default, default)
            assert f"[default: {params[name].default}]" in text, text
        else:
            assert params[name].default is None or name == "to", f"{name}: the engine's default, not a second one"
            assert default is None or f"[default: {default}]" in text, (default, text)
        for v in values:
            assert v in text, (name, v, text)


def entry(doc: str, name: str) -> str:
    """The docstring's entry of option `name`: its line and the indented lines after it."""
    first, *rest = doc.split(f"\n{name}: ", 1)[1].split("\n")
    lines = [first]
    for line in rest:
        if not line.startswith("    "):
            break
        lines.append(line.strip())
    return " ".join(lines)


def test_help_shows_the_options_and_their_defaults():
    text = pydoc.render_doc(crowdsift.ocr, renderer=pydoc.plaintext)
    assert "tile: " in text and "[default: 1280]" in text, text
    text = pydoc.render_doc(crowdsift.pii, renderer=pydoc.plaintext)
    assert "faces: False: do not search the photos for faces" in text and "[default: True]" in text, text
    assert "face_side: Long side, in pixels" in text
    text = pydoc.render_doc(crowdsift.train, renderer=pydoc.plaintext)
    assert "mode: " in text and "One of: transfer, finetune, scratch." in text and "[default: transfer]" in text


def test_unknown_stages_have_no_options():
    with pytest.raises(ValueError, match="no stage `sideways`"):
        _native.options("sideways")


def test_the_stubs_are_the_functions(tmp_path):
    """The committed stubs are what scripts/make_stub.py writes from the functions, and mypy's
    stubtest (its own reading of the package at run time) finds nothing in them that differs."""
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_stub.py"), "--check"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nignore_missing_imports = True\n")
    test = subprocess.run([sys.executable, "-m", "mypy.stubtest", "crowdsift", "--mypy-config-file", str(config)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr
