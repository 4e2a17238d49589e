"""The models crowdsift runs, as one install: this package holds no file and depends on the models
wheels of each job (crowdsift-models-backbones, -ocr, -faces), each with its own ``models.toml``
and the files it names (checksums verified when loaded); each is installable alone. ``import
crowdsift`` points the engine at every one installed (``CROWDSIFT_MODELS``) unless that variable
is already set. Built by scripts/models_wheel.py."""

import importlib
import pathlib
import pkgutil
from typing import List

__version__ = "0.1.0"


def paths() -> List[pathlib.Path]:
    """The models.toml of every crowdsift models wheel installed (``crowdsift_models_*``)."""
    found = []
    for module in sorted(m.name for m in pkgutil.iter_modules() if m.name.startswith("crowdsift_models_")):
        found.append(importlib.import_module(module).path())
    return found
