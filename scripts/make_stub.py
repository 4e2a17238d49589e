"""Writes the type stubs of the Python package (crates/py/python/crowdsift/__init__.pyi and
spark.pyi) from the installed package itself: every public function's signature (parameter names, kinds, defaults and
type hints as written) and its docstring (which lists the engine's options with their defaults),
the result dataclasses and the exceptions.

    python3 scripts/make_stub.py          # rewrite the stub after changing a function
    python3 scripts/make_stub.py --check  # exit 1 when the committed stub is not what it would write

The test suite runs --check and mypy's stubtest (which compares the stub with the functions at run
time, independently of this script).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "crates" / "py" / "python" / "crowdsift"

FIRST = """\
# The type stub of {module}: written by scripts/make_stub.py from the functions themselves,
# checked by the test suite (--check, and mypy's stubtest against the package).
from __future__ import annotations
"""

HEADER = FIRST + '''
import dataclasses
import os
import pathlib
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import pyarrow as pa

__version__: str
__all__ = {all}

Source = Union[str, os.PathLike, pa.Table, Any]
PathLike = Union[str, os.PathLike]
MANIFEST_COLUMNS: tuple[str, ...]
last_summary: Dict[str, dict]
'''

SPARK_HEADER = FIRST + '''
import os
from typing import Any, Optional, Tuple, Union

from pyspark.ml.classification import LogisticRegressionModel
from pyspark.sql import DataFrame

__all__ = {all}

FINDINGS_DDL: str
EMBEDDINGS_DDL: str
PREDICTIONS_DDL: str
OCR_DDL: str
PII_DDL: str
'''

#: Each module with a stub: its file and the stub's opening (imports, aliases, constants).
STUBS = {"crowdsift": ("__init__.pyi", HEADER), "crowdsift.spark": ("spark.pyi", SPARK_HEADER)}


def docstring(obj: object, indent: str) -> str:
    doc = inspect.getdoc(obj)
    if not doc:
        return ""
    doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return textwrap.indent(f'"""{doc}\n"""', indent) + "\n"


def function(name: str, fn: object) -> str:
    sig = inspect.signature(fn)
    params = []
    star = False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        if p.annotation is not p.empty:
            text += f": {p.annotation}"
        if p.default is not p.empty:
            text += f" = {p.default!r}"
        params.append(text)
    ret = f" -> {sig.return_annotation}" if sig.return_annotation is not sig.empty else ""
    head = f"def {name}({', '.join(params)}){ret}:"
    if len(head) > 100:
        head = f"def {name}(\n" + "".join(f"    {p},\n" for p in params) + f"){ret}:"
    body = docstring(fn, "    ")
    return head + ("\n" + body + "    ...\n" if body else " ...\n")


def dataclass(name: str, cls: type) -> str:
    out = f"@dataclasses.dataclass\nclass {name}:\n" + docstring(cls, "    ")
    for f in dataclasses.fields(cls):
        out += f"    {f.name}: {f.type}\n"
    return out


def render(module_name: str) -> str:
    import importlib

    module = importlib.import_module(module_name)
    parts = [STUBS[module_name][1].format(module=module_name, all=module.__all__)]
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            base = obj.__bases__[0].__name__
            parts.append(f"class {name}({base}):\n{docstring(obj, '    ') or '    '}    ...\n")
        elif dataclasses.is_dataclass(obj):
            parts.append(dataclass(name, obj))
        elif callable(obj):
            parts.append(function(name, obj))
        else:
            sys.exit(f"make_stub: no stub for {name} ({type(obj).__name__})")
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed stub instead of writing it")
    args = ap.parse_args()
    for module, (file, _) in STUBS.items():
        stub, text = PACKAGE / file, render(module)
        if not args.check:
            stub.write_text(text)
            print(f"wrote {stub}")
        elif not stub.is_file() or stub.read_text() != text:
            sys.exit(f"{stub} is not what {module}'s functions say: run python3 scripts/make_stub.py")


if __name__ == "__main__":
    main()
