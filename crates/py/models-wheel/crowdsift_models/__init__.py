"""The models crowdsift runs: ``models.toml`` and the files it names (checksums verified when
loaded). ``import crowdsift`` points the engine at them (``CROWDSIFT_MODELS``) unless that variable
is already set."""

import pathlib

__version__ = "0.1.0"


def path() -> pathlib.Path:
    """The packaged models.toml."""
    return pathlib.Path(__file__).resolve().parent / "models.toml"
