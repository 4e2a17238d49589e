#!/usr/bin/env python3
"""Generates the 12 MP OCR set of issue 20: phone-size photos with text of known size and content.

    python3 scripts/make_ocr_12mp.py --out DIR [--seed 20] [--photos 50]

Each photo is a food photo of ../shared/data/ifct-dev, centre-cropped to 4:3 (every fourth or so to
3:4), upscaled (bicubic) to 4000x3000 or 3000x4000 and, after the text is pasted, given sensor-like
Gaussian noise (sigma 3-5) and saved as JPEG quality 90. Photo k's kind is the k-th of the cycle
tag, shelf, tag, note, free (so any first N photos keep the mix; each photo has its own seeded
generator, so `--photos 20` gives the first 20 photos of `--photos 50`):

- tag: 1-3 typed price tags (the labels of scripts/make_ocr_eval.py, clean, rotated 3-15 deg or in
  perspective), each of one size class: small (font 18-30 px at full resolution), medium (40-80 px)
  or large (100-250 px; a tag too big for the photo is scaled down, the truth's height follows);
- shelf: a wide shelf-edge strip holding 2-4 shelf labels side by side, each four lines of small
  text (18-30 px): item name, price, unit price and a product code (a run of 8-13 digits);
- note: a handwritten note (handwriting-style fonts, blue or black ink, rotated 3-10 deg, 50-120 px)
  with a person's name and a phone number (Latin languages but Vietnamese, which the fonts lack);
- free: no text at all (a fifth of the set).

Tags and shelf labels cycle through the ten languages of make_ocr_eval.LANGS (Latin: eng, fra,
spa, por, ind, vie; Bengali, Devanagari (hin), Thai, Arabic).

Writes DIR/images/NNN.jpg, DIR/truth.json: a list of {file, lang, script, kind, text_free, size,
condition, lines: [{text, quad, height_px}]}, quads in full-resolution photo pixels as
make_ocr_eval.py has them (the line's ink box with a margin, through the card's transform), height_px
the font's pixel size at full resolution (the height of a line with ascenders and descenders); and
DIR/manifest.csv (obs_uid = file, label = kind, uri relative to DIR, lang). Same seed + same fonts +
same Pillow/numpy -> same set.
"""

import csv
import json
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_ocr_eval import LANGS, apply, handwriting_fonts, label, overlaps, placement, start, warp  # noqa: E402

KINDS = ["tag", "shelf", "tag", "note", "free"]
TAG_LANGS = ["eng", "fra", "spa", "por", "ind", "vie", "ben", "hin", "tha", "ara"]
SIZES = {"small": (18, 30), "medium": (40, 80), "large": (100, 250)}
INKS = [(20, 40, 150), (30, 30, 110), (10, 70, 160), (25, 25, 25), (45, 45, 50)]
NAMES = {
    "eng": ["James Otieno", "Mary Wanjiku", "Peter Clarke", "Grace Achieng", "David Miller", "Sarah Brown"],
    "fra": ["Camille Dubois", "Julien Moreau", "Élodie Lefèvre", "Thomas Girard", "Chloé Bernard", "Hugo Lambert"],
    "spa": ["María García", "José Hernández", "Lucía Ramírez", "Andrés Gómez", "Sofía Morales", "Diego Castillo"],
    "por": ["João Silva", "Ana Souza", "Luís Pereira", "Mariana Costa", "Tiago Oliveira", "Beatriz Lima"],
    "ind": ["Budi Santoso", "Siti Rahayu", "Agus Wijaya", "Dewi Lestari", "Rina Kurniawan", "Joko Susilo"],
}
PHONE = {
    "eng": (["Tel", "Phone", ""], lambda d: f"07{d(2)} {d(3)} {d(3)}"),
    "fra": (["Tél", "Portable", ""], lambda d: f"06 {d(2)} {d(2)} {d(2)} {d(2)}"),
    "spa": (["Tel", "Móvil", ""], lambda d: f"+34 6{d(2)} {d(3)} {d(3)}"),
    "por": (["Tel", "Celular", ""], lambda d: f"(11) 9{d(4)}-{d(4)}"),
    "ind": (["HP", "Telp", ""], lambda d: f"0812-{d(4)}-{d(4)}"),
}
NOTE_LANGS = list(NAMES)


def background(r, backgrounds, size):
    """A food photo centre-cropped to the aspect of `size` and upscaled (bicubic) to it."""
    bg = Image.open(r.choice(backgrounds)).convert("RGB")
    w, h = bg.size
    aspect = size[0] / size[1]
    cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
    x, y = (w - cw) // 2, (h - ch) // 2
    return bg.crop((x, y, x + cw, y + ch)).resize(size, Image.BICUBIC)


def noisy(photo, r, sigma):
    a = np.asarray(photo, dtype=np.float32)
    a = a + sigma * np.random.default_rng(r.randrange(1 << 30)).standard_normal(a.shape, dtype=np.float32)
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))


def truth_lines(to_photo, size, card_lines):
    """[(text, quad in photo pixels, height_px)] of a card's lines: the font size scaled by how much the
    transform stretches the line box's left and right edges."""
    out = []
    for t, b in card_lines:
        q = apply(to_photo, [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]])
        edge = (np.hypot(*np.subtract(q[3], q[0])) + np.hypot(*np.subtract(q[2], q[1]))) / 2
        out.append((t, q, size * edge / (b[3] - b[1])))
    return out


def put(r, photo, card, size, card_lines, condition, placed, **how):
    """Pastes the card where it covers no line already placed (up to 12 tries); its lines or None."""
    for _ in range(12):
        to_photo = placement(r, photo.size, card.size, condition, **how)
        lines = truth_lines(to_photo, size, card_lines)
        if not overlaps([(t, q) for t, q, _ in placed], [(t, q) for t, q, _ in lines]):
            photo.alpha_composite(warp(card, photo.size, to_photo))
            return lines
    return None


def price_tags(r, photo, lang):
    placed = []
    classes = r.sample(list(SIZES), r.choice([1, 2, 2, 3, 3]))
    for c in classes:
        size = r.randint(*SIZES[c])
        condition = r.choice(["clean", "rotated", "perspective"])
        card, card_lines = label(r, lang, "typed", condition, size=size)
        placed += put(r, photo, card, size, card_lines, condition, placed, angles=(3, 15), jitter=(0.08, 0.1)) or []
    return placed, "+".join(classes)


def shelf_strip(r, photo, lang):
    items, words, price, _ = LANGS[lang]
    size = r.randint(*SIZES["small"])
    cards = []
    for _ in range(r.randint(2, 4)):
        text = [r.choice(items), price(r), f"{words[-1]} {price(r)}",
                "".join(str(r.randint(0, 9)) for _ in range(r.randint(8, 13)))]
        cards.append(label(r, lang, "typed", "clean", lines=text, size=size, ink=(25, 25, 25)))
    pad = size
    strip = Image.new("RGBA", (sum(c.size[0] for c, _ in cards) + pad * (len(cards) + 1),
                               max(c.size[1] for c, _ in cards) + 2 * pad), (236, 236, 232, 255))
    lines, x = [], pad
    for card, card_lines in cards:
        strip.paste(card, (x, pad))
        lines += [(t, (b[0] + x, b[1] + pad, b[2] + x, b[3] + pad)) for t, b in card_lines]
        x += card.size[0] + pad
    condition = r.choice(["clean", "rotated", "perspective"])
    placed = put(r, photo, strip, size, lines, condition, [], fill=(0.95, 0.5), angles=(1, 5),
                 jitter=(0.04, 0.08))
    return placed, condition


def note(r, photo, lang):
    words, number = PHONE[lang]
    digits = lambda n: "".join(str(r.randint(0, 9)) for _ in range(n))  # noqa: E731
    word = r.choice(words)
    text = [r.choice(NAMES[lang]), f"{word} {number(digits)}" if word else number(digits)]
    size = r.randint(50, 120)
    card, card_lines = label(r, lang, "handwriting", "rotated", lines=text, size=size, ink=r.choice(INKS))
    return put(r, photo, card, size, card_lines, "rotated", [], fill=(0.7, 0.5), angles=(3, 10)), "rotated"


def main():
    # Each photo has its own generator (below), so the first N photos are the same whatever --photos.
    args, _, backgrounds = start(__doc__, seed=20, per_language=None,
                                 more=lambda ap: ap.add_argument("--photos", type=int, default=50))
    assert all(handwriting_fonts(lang) for lang in NOTE_LANGS), "handwriting fonts missing: scripts/setup.sh --test"
    truth = []
    for k in range(args.photos):
        r = random.Random(args.seed * 1_000_003 + k)
        kind, cycle = KINDS[k % len(KINDS)], k // len(KINDS)
        size = (3000, 4000) if r.random() < 0.25 else (4000, 3000)
        photo = background(r, backgrounds, size).convert("RGBA")
        if kind == "tag":
            lang = TAG_LANGS[(2 * cycle + (k % len(KINDS) == 2)) % len(TAG_LANGS)]
            lines, condition = price_tags(r, photo, lang)
        elif kind == "shelf":
            lang = TAG_LANGS[(cycle + 3) % len(TAG_LANGS)]
            lines, condition = shelf_strip(r, photo, lang)
        elif kind == "note":
            lang = NOTE_LANGS[cycle % len(NOTE_LANGS)]
            lines, condition = note(r, photo, lang)
        else:
            lang, lines, condition = TAG_LANGS[cycle % len(TAG_LANGS)], [], "none"
        photo = noisy(photo.convert("RGB"), r, r.uniform(3.0, 5.0))
        name = f"{k:03d}.jpg"
        photo.save(args.out / "images" / name, quality=90)
        truth.append({"file": name, "lang": lang, "script": LANGS[lang][3], "kind": kind, "text_free": not lines,
                      "size": f"{size[0]}x{size[1]}", "condition": condition,
                      "lines": [{"text": t, "quad": [[round(x, 1), round(y, 1)] for x, y in q],
                                 "height_px": round(h, 1)} for t, q, h in lines or []]})
        print(f"{name} {kind} {lang} {len(lines or [])} lines", file=sys.stderr)
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    with (args.out / "manifest.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["obs_uid", "label", "uri", "lang"])
        for p in truth:
            w.writerow([p["file"], p["kind"], f"images/{p['file']}", p["lang"]])
    print(f"{len(truth)} photos ({sum(p['text_free'] for p in truth)} text-free), "
          f"{sum(len(p['lines']) for p in truth)} lines -> {args.out}")


if __name__ == "__main__":
    main()
