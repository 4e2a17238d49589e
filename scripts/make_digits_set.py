#!/usr/bin/env python3
"""Builds the training and evaluation lines of crowdsift's Arabic-Indic digit reader
(models/ocr/arabic_digits.onnx, crates/ocr/src/digits.rs), trained by scripts/train_digits.py.

    python3 scripts/make_digits_set.py --out DIR [--seed 3] [--per-font 500]

Why a reader of our own: neither PP-OCR model set has the Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩) or
the Persian ones (۰۱۲۳۴۵۶۷۸۹) in its character list, and Tesseract's Arabic pack (Debian's, and
tessdata's best) reads phone numbers and dates written in them as noise (`٠٥١ ٧٢٦ ٧٦١٧` came out as
`VV 01:` from PP-OCR and `1/10` from Tesseract). On an Arabic note these are the phone numbers and
dates of birth, so they were never read and never found.

Each sample is one text line as the OCR stage hands it over (the crop of a DB detector's box):
rendered in a font with libraqm (the Unicode bidirectional algorithm orders it as a reader sees it),
turned and slanted a little, blurred, noised and JPEG-compressed, made grey and scaled to 32 pixels
high. Its target is what is seen from left to right (python-bidi's display order, the one libraqm
draws), one class per character: the Arabic-Indic digits (a Persian digit is read as its
Arabic-Indic twin), the Latin digits, separators, and one class `X` for any letter (Arabic or Latin): the reader reads
numbers and says where words are, it does not spell them.

Lines: phone numbers, dates, prices and plain numbers in Arabic-Indic, Persian and Latin digits,
alone or after an Arabic leading word (`جوال: …`), Arabic product lines and names, Latin words and
e-mails — so that Latin digits and letters are not taken for Arabic-Indic ones.

Fonts. Training: the Arabic faces of @fontsource (npm, SIL OFL; fetched with `npm pack` into
DIR/fonts, only for training), Latin faces of @fontsource and Debian's Liberation. Evaluation,
never trained on: the fonts crowdsift's generated OCR and personal-data sets draw with (Debian's
Noto Sans/Naskh/Kufi Arabic, Noto Sans, DejaVu Sans), so the measured accuracy is on fonts the
reader has not seen.

Writes DIR/{train,eval}.npz: `images` (N x 32 x WIDTH bytes, edge-padded), `widths` (the ink's
width before padding), `targets` (N x MAX_TARGET class indices, 0-padded), `lengths`, `fonts`; and
DIR/fonts.json. Same seed + same packages -> same set. (The set the shipped model was trained on
was not quite that: its Latin word pairs on Arabic faces, about 1 line in 30, came from a Faker
that was not seeded.)
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
from bidi.algorithm import get_display
from faker import Faker
from fontTools.merge import Merger
from PIL import features

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_handwriting_set import LIBERATION, Font, Look, fetch_npm, line_crop  # noqa: E402

H, WIDTH = 32, 320
MAX_TARGET = 48
# Class 0 is CTC's blank. Must match crates/ocr/src/digits.rs.
ALPHABET = "٠١٢٣٤٥٦٧٨٩" + "0123456789" + " -.:+/,()" + "X"
CLASS = {c: i + 1 for i, c in enumerate(ALPHABET)}
# Characters read as one class: a Persian digit is its Arabic-Indic twin (same value; 4, 5 and 6
# are drawn differently in some faces, alike in others); the Arabic decimal and thousands
# separators and comma look like a comma.
SAME = {**{chr(0x06F0 + d): chr(0x0660 + d) for d in range(10)}, "٫": ",", "٬": ",", "،": ","}

ARABIC_NPM = [
    "cairo", "tajawal", "amiri", "ibm-plex-sans-arabic", "almarai", "lateef", "scheherazade-new", "harmattan",
    "changa", "el-messiri", "reem-kufi", "mada", "markazi-text", "readex-pro", "vazirmatn", "baloo-bhaijaan-2",
    "kufam", "mirza", "lemonada", "aref-ruqaa", "rakkas", "lalezar", "alexandria", "noto-sans-arabic-ui",
    "marhey", "qahiri", "gulzar", "rubik", "zain", "blaka", "jomhuria", "katibeh", "ruwudu", "beiruti",
]
LATIN_NPM = ["roboto", "open-sans", "lato", "montserrat", "oswald", "merriweather", "pt-sans", "inter", "poppins",
             "barlow-condensed", "bebas-neue", "roboto-mono", "caveat", "patrick-hand", "indie-flower"]
NOTO = Path("/usr/share/fonts/truetype/noto")
EVAL = [str(NOTO / f) for f in (
    "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoNaskhArabic-Regular.ttf",
    "NotoNaskhArabic-Bold.ttf", "NotoKufiArabic-Regular.ttf", "NotoSans-Regular.ttf")] + [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]

LEADS = ["جوال", "هاتف", "رقم الجوال", "تاريخ الميلاد", "السعر", "الهاتف", "موبايل", "رقم", "الكمية", "المجموع",
         "ت", "تلفون", "الوزن", "تاريخ", "شماره", "تلفن", "قیمت", "فون"]
WORDS = ["حليب طازج", "أرز بسمتي", "سكر أبيض", "خبز عربي", "زيت نباتي", "شاي أسود", "ريال", "جنيه", "درهم",
         "كيلو", "لتر", "عرض خاص", "محمد العتيبي", "شارع الملك فهد", "فاطمة الزهراء", "نان", "برنج", "تومان"]


def merged(files: list[Path]) -> list[Path]:
    """One file with every subset of a face (arabic, latin, latin-ext), so that a line mixing
    Arabic words with Latin punctuation or digits is drawn in one face, as a shop's sign is; the
    subsets as they are when fontTools cannot merge them (a layout table overflows)."""
    out = files[0].parent / "merged.ttf"
    if not out.is_file():
        try:
            Merger().merge([str(f) for f in files]).save(out)
        except Exception as e:  # noqa: BLE001 - fontTools raises many kinds; the subsets still work
            print(f"{files[0].parent.name}: subsets not merged ({type(e).__name__})")
            return files
    return [out]


def number(r: random.Random) -> str:
    """A phone number, date, price, time or count in Latin digits (spaces and separators as written)."""
    k = r.random()
    d = lambda n: "".join(str(r.randint(0, 9)) for _ in range(n))  # noqa: E731
    if k < 0.4:
        groups = r.choice([[3, 3, 4], [4, 3, 3], [3, 4, 4], [2, 3, 4], [4, 4], [3, 3, 2, 2], [10], [11], [2, 4, 4]])
        sep = r.choice([" ", " ", "-", ""])
        s = sep.join(d(g) for g in groups)
        if r.random() < 0.25:
            s = f"+{r.choice(['966', '20', '971', '212', '98', '92', '964'])} {s.lstrip('0')}"
        elif r.random() < 0.3:
            s = "0" + s[1:]
        return s
    if k < 0.6:
        sep = r.choice(["-", "/", ".", "-"])
        return f"{r.randint(1, 28):02d}{sep}{r.randint(1, 12):02d}{sep}{r.randint(1940, 2030)}"
    if k < 0.8:
        v = r.choice([f"{r.randint(1, 999)}", f"{r.randint(1, 999)}.{d(2)}", f"{r.randint(1, 99)},{d(3)}",
                      f"{r.randint(1, 9999)}"])
        return v
    if k < 0.9:
        return f"{r.randint(0, 23):02d}:{d(2)}"
    return d(r.randint(2, 8))


def in_digits(text: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


def line(r: random.Random, fake: Faker, latin: Faker, latin_only: bool) -> str:
    """One line of text (names from `fake`, Latin words from `latin`); only Latin letters and
    digits for a Latin face."""
    if latin_only:
        k = r.random()
        if k < 0.5:
            return number(r)
        if k < 0.7:
            return f"{r.choice(['Tel', 'Phone', 'Prix', 'Total', 'Mob', 'SKU'])}: {number(r)}"
        if k < 0.85:
            return fake.email()
        return " ".join(fake.words(r.randint(1, 3)))
    k = r.random()
    zero = 0x06F0 if r.random() < 0.2 else 0x0660
    if k < 0.40:
        return in_digits(number(r), zero)
    if k < 0.58:
        return f"{r.choice(LEADS)}{r.choice([': ', ' ', ':'])}{in_digits(number(r), zero)}"
    if k < 0.68:
        return f"{r.choice(LEADS)}: {number(r)}"
    if k < 0.76:
        return number(r)
    if k < 0.88:
        return r.choice(WORDS) if r.random() < 0.5 else f"{fake.first_name()} {fake.last_name()}"
    if k < 0.94:
        return f"{r.choice(WORDS)} {in_digits(str(r.randint(1, 500)), zero)}"
    return fake.email() if r.random() < 0.5 else " ".join(latin.words(2))


def target(text: str) -> list[int] | None:
    """The classes of `text` as drawn, left to right; None when a character has no class."""
    out = []
    for c in get_display(text):
        c = SAME.get(c, c)
        if unicodedata.category(c) == "Mn" or c in "\u200e\u200f":
            continue
        if c in CLASS:
            out.append(CLASS[c])
        elif c.isalpha() or c in "@_":
            out.append(CLASS["X"])
        else:
            return None
    return out


# Lines of a shelf tag or a note in a shop, as make_handwriting_set draws them; lighter paper, less
# slant and a narrower range of text heights than its set.
LOOK = Look(paper=190, slant=(0.3, 0.3), margin=0.5, heights=(14, 70), blur=1.1)


def render(r: random.Random, font: Font, text: str) -> np.ndarray | None:
    # libraqm orders the line by the bidirectional algorithm, as python-bidi does for the target.
    img = line_crop(r, font, text, LOOK, max_width=WIDTH)
    return None if img is None else np.asarray(img, dtype=np.uint8)


def render_font(job):
    fid, font, latin_only, seed, per_font = job
    r = random.Random(seed * 100003 + fid)
    fake = Faker("ar_SA")
    fake.seed_instance(seed + fid)
    latin = Faker("en_US")
    latin.seed_instance(seed + fid)
    out = []
    for _ in range(per_font * 4):
        if len(out) >= per_font:
            break
        text = line(r, latin if latin_only else fake, latin, latin_only)
        t = target(text)
        if not t or len(t) > MAX_TARGET:
            continue
        crop = render(r, font, text)
        # CTC needs a time step per class, and two for a repeated one: the reader's steps are
        # 4 pixels wide.
        if crop is None or crop.shape[1] // 4 < len(t) + sum(a == b for a, b in zip(t, t[1:])):
            continue
        out.append((crop, t))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--per-font", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if not features.check("raqm"):
        raise SystemExit("Pillow lacks libraqm (bidirectional text): install Pillow from PyPI")
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "fonts"
    fonts = {"train": [], "eval": []}
    for name in ARABIC_NPM:
        try:
            files = fetch_npm(name, cache)
        except subprocess.CalledProcessError:
            print(f"@fontsource/{name}: not on npm, skipped")
            continue
        if files:
            fonts["train"].append((Font(merged(files), 0, f"npm:{name}"), False))
    for name in LATIN_NPM:
        fonts["train"].append((Font(fetch_npm(name, cache), 0, f"npm:{name}"), True))
    fonts["train"] += [(Font([p], 0, f"debian:{p.name}"), True) for p in LIBERATION if "Mono" not in p.name][:4]
    for p in EVAL:
        if Path(p).is_file():
            fonts["eval"].append((Font([p], 0, f"debian:{Path(p).name}"), "NotoSans-" in p))
    index, jobs = [], []
    for split, fs in fonts.items():
        for font, latin_only in fs:
            n = args.per_font // (3 if latin_only else 1)
            jobs.append((len(index), font, latin_only, args.seed + (0 if split == "train" else 1000), n))
            index.append({"font": font.name, "split": split, "latin_only": latin_only})
    with multiprocessing.Pool(args.jobs) as pool:
        made = pool.map(render_font, jobs)
    for split in fonts:
        samples = [(s, fid) for (fid, *_), got in zip(jobs, made) if index[fid]["split"] == split for s in got]
        random.Random(args.seed).shuffle(samples)
        n = len(samples)
        images = np.zeros((n, H, WIDTH), np.uint8)
        widths = np.zeros(n, np.int32)
        targets = np.zeros((n, MAX_TARGET), np.int32)
        lengths = np.zeros(n, np.int32)
        for i, ((crop, t), _) in enumerate(samples):
            w = crop.shape[1]
            images[i] = np.pad(crop, ((0, 0), (0, WIDTH - w)), mode="edge")
            widths[i], lengths[i] = w, len(t)
            targets[i, :len(t)] = t
        np.savez_compressed(args.out / f"{split}.npz", images=images, widths=widths, targets=targets,
                            lengths=lengths, fonts=np.array([f for _, f in samples], np.int32))
        print(split, n)
    (args.out / "fonts.json").write_text(json.dumps(index, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
