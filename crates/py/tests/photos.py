"""Photos the Python tests share: the small wheel photos of tests/data/wheel_photos and the text photos of ../shared/data."""

import pathlib

import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "tests" / "data" / "wheel_photos" / "manifest.csv"
OCR_DEV = ROOT.parent / "shared" / "data" / "ocr-dev"


def text_manifest() -> pd.DataFrame:
    """The four photos with price-tag and receipt text, and two portraits (faces)."""
    rows = [{"obs_uid": p.stem, "label": "text", "uri": str(p), "country": "DE"} for p in sorted(OCR_DEV.glob("*.jpg"))]
    for name in ("astronaut", "grace_hopper"):
        rows.append({"obs_uid": name, "label": "person", "uri": str(SAMPLES.parent / "photos" / f"{name}.jpg"), "country": "US"})
    return pd.DataFrame(rows)
