#!/usr/bin/env python3
"""Generates crowdsift's OCR evaluation set: price labels with known text on real photos.

    python3 scripts/make_ocr_eval.py --out DIR [--seed 7] [--per-language 12]

Each photo is a food photo of ../shared/data/ifct-dev (the background, upscaled to 960x720) with one
or two price labels: 2-3 lines of text in one of ten languages, typed (Noto / DejaVu) or in a
handwriting-style font (Debian fonts-dkg-handwriting, -comic-neue, -femkeklaver,
-kristi, -dancingscript; Latin languages but Vietnamese, as only those glyphs exist). Every photo
has one condition, cycled so that each language meets each: clean, rotated (5-20 deg), perspective,
blur, small text (11-15 px), low contrast, or the whole photo turned 90/180/270 deg.

Writes DIR/images/NNN.jpg and DIR/truth.json: a list of {file, lang, script, style, condition,
lines: [{text, quad: [[x,y] x4]}]}, the quad being the text's ink box (with a margin) mapped
through the label's transform. Same seed + same fonts + same Pillow -> same set. Needs Pillow with libraqm (the PyPI
wheels have it) for Bengali, Devanagari, Thai and Arabic shaping, and fontTools to check glyphs.
"""

import argparse
import json
import random
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

HERE = Path(__file__).resolve().parent
PHOTOS = HERE.parent.parent / "shared" / "data" / "ifct-dev" / "photos"
NOTO = Path("/usr/share/fonts/truetype/noto")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

# (items, words for "price", currency formatter, script, typed fonts)
LANGS = {
    "eng": (["Rice 5 kg", "Fresh milk", "Brown bread", "Cooking oil", "White sugar", "Tomatoes", "Green apples",
             "Chicken breast", "Orange juice", "Black tea"], ["Price", "Special offer", "Unit price"],
            lambda r: f"${r.randint(1, 40)}.{r.randint(0, 99):02d}", "Latin"),
    "fra": (["Riz long grain", "Lait entier", "Pain de campagne", "Huile d'olive", "Sucre en poudre",
             "Pommes de terre", "Fromage râpé", "Crème fraîche", "Pâtes fraîches", "Bœuf haché"],
            ["Prix", "Promotion", "Prix au kilo"], lambda r: f"{r.randint(1, 40)},{r.randint(0, 99):02d} €", "Latin"),
    "spa": (["Arroz blanco", "Leche entera", "Pan integral", "Aceite de girasol", "Azúcar morena",
             "Jamón serrano", "Piña tropical", "Café molido", "Mantequilla", "Garbanzos"],
            ["Precio", "Oferta", "Precio por kilo"], lambda r: f"{r.randint(1, 40)},{r.randint(0, 99):02d} €", "Latin"),
    "por": (["Arroz agulhinha", "Feijão preto", "Leite integral", "Pão francês", "Açúcar cristal", "Maçã gala",
             "Café torrado", "Manteiga com sal", "Óleo de soja", "Limão tahiti"],
            ["Preço", "Promoção", "Preço por quilo"], lambda r: f"R$ {r.randint(1, 40)},{r.randint(0, 99):02d}", "Latin"),
    "vie": (["Gạo thơm", "Sữa tươi", "Bánh mì", "Dầu ăn", "Đường trắng", "Cà chua", "Thịt heo", "Nước mắm",
             "Trứng gà", "Rau muống"], ["Giá", "Khuyến mãi", "Giá mỗi ký"],
            lambda r: f"{r.randint(5, 250)}.000 đ", "Latin"),
    "ind": (["Beras premium", "Minyak goreng", "Gula pasir", "Telur ayam", "Susu kental", "Kopi bubuk",
             "Tepung terigu", "Bawang merah", "Cabai rawit", "Kecap manis"], ["Harga", "Promo", "Harga per kg"],
            lambda r: f"Rp {r.randint(2, 99)}.{r.randint(0, 9)}00", "Latin"),
    "ben": (["চাল", "ডাল", "চিনি", "আলু", "ডিম", "দুধ", "লবণ", "আটা", "তেল", "মাছ"], ["দাম", "মূল্য"],
            lambda r: f"{to_digits(r.randint(10, 990), '০১২৩৪৫৬৭৮৯')} টাকা", "Bengali"),
    "hin": (["चावल", "दाल", "चीनी", "आटा", "दूध", "अंडे", "नमक", "तेल", "आलू", "प्याज"], ["कीमत", "मूल्य"],
            lambda r: f"{to_digits(r.randint(10, 990), '०१२३४५६७८९')} रुपये", "Devanagari"),
    "tha": (["ข้าวสาร", "น้ำตาล", "น้ำมันพืช", "ไข่ไก่", "นมสด", "เกลือ", "แป้ง", "กาแฟ", "มะเขือเทศ", "ปลา"],
            ["ราคา", "ลดราคา"], lambda r: f"{r.randint(10, 990)} บาท", "Thai"),
    "ara": (["أرز", "سكر", "حليب", "زيت", "خبز", "شاي", "ملح", "بيض", "طماطم", "دقيق"], ["السعر", "عرض خاص"],
            lambda r: f"{r.randint(2, 99)} ريال", "Arabic"),
}

TYPED = {
    "Latin": ["NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSerif-Regular.ttf", "DejaVuSans.ttf",
              "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"],
    "Bengali": ["NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf", "NotoSerifBengali-Regular.ttf"],
    "Devanagari": ["NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf", "NotoSerifDevanagari-Regular.ttf"],
    "Thai": ["NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf", "NotoSerifThai-Regular.ttf"],
    "Arabic": ["NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoNaskhArabic-Regular.ttf"],
}
HANDWRITING = [
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "/usr/share/fonts/truetype/kristi/Kristi.ttf",
    "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
]
CONDITIONS = ["clean", "rotated", "perspective", "blur", "small", "low_contrast", "turned90", "turned180",
              "turned270", "clean", "rotated", "perspective"]


def to_digits(n, digits):
    return "".join(digits[int(c)] for c in str(n))


def font_path(name):
    for d in (NOTO, DEJAVU):
        if (d / name).is_file():
            return str(d / name)
    raise SystemExit(f"font {name} not found: install fonts-noto-core and fonts-dejavu (Debian)")


_cmaps = {}


def covers(path, text):
    if path not in _cmaps:
        _cmaps[path] = set(TTFont(path, fontNumber=0)["cmap"].getBestCmap())
    return all(ord(c) in _cmaps[path] for c in text if not c.isspace())


def handwriting_fonts(lang):
    """The handwriting fonts that have every letter of the language's words (none for Vietnamese
    or the non-Latin scripts)."""
    items, words, _, _ = LANGS[lang]
    text = "".join(items + words)
    return [f for f in HANDWRITING if Path(f).is_file() and covers(f, "".join(c for c in text if c.isalpha()))]


def homography(src, dst):
    """3x3 matrix mapping the 4 points src onto dst."""
    a = []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(a, dtype=np.float64))
    h = vt[-1].reshape(3, 3)
    return h / h[2, 2]


def apply(h, pts):
    p = np.c_[np.asarray(pts, dtype=np.float64), np.ones(len(pts))] @ h.T
    return (p[:, :2] / p[:, 2:]).tolist()


def label(r, lang, style, condition, lines=None, size=None, ink=None):
    """The label card (RGBA) and its lines [(text, ink box in card pixels)]. `lines`, `size` (the
    font's pixel size) and `ink` (RGB) replace the random ones when given (scripts/make_ocr_12mp.py)."""
    items, words, price, script = LANGS[lang]
    if lines is None:
        lines = [r.choice(items), f"{r.choice(words)} {price(r)}"]
        if r.random() < 0.4:
            lines.append(r.choice(items))
    if style == "handwriting":
        fonts = [f for f in handwriting_fonts(lang) if all(covers(f, t) for t in lines)]
        path = r.choice(fonts or handwriting_fonts(lang))
        size = size or r.randint(34, 46)
    else:
        path = font_path(r.choice(TYPED[script]))
        size = size or (r.randint(11, 15) if condition == "small" else r.randint(26, 40))
    font = ImageFont.truetype(path, size)
    direction = "rtl" if script == "Arabic" else None
    boxes = [ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), t, font=font, direction=direction)
             for t in lines]
    margin = max(8, size // 2)
    gap = int(size * 0.7)
    width = max(b[2] - b[0] for b in boxes) + 2 * margin
    height = sum(b[3] - b[1] for b in boxes) + gap * (len(lines) - 1) + 2 * margin
    bg = r.choice([(250, 250, 245), (255, 246, 190), (255, 228, 228), (225, 240, 255), (245, 245, 245)])
    if ink is None:
        ink = (60, 60, 60) if condition != "low_contrast" else tuple(max(0, c - r.randint(55, 75)) for c in bg)
        if condition != "low_contrast" and r.random() < 0.3:
            ink = r.choice([(180, 20, 20), (20, 40, 150)])
    card = Image.new("RGBA", (width, height), bg + (255,))
    d = ImageDraw.Draw(card)
    out, y = [], margin
    for t, b in zip(lines, boxes):
        x = margin - b[0]
        d.text((x, y - b[1]), t, font=font, fill=ink, direction=direction)
        box = d.textbbox((x, y - b[1]), t, font=font, direction=direction)
        # The line's box: its ink with a margin of a fifth of the font size above and below and a
        # tenth at the ends, as text lines are annotated (and as DB detectors are trained to box).
        py, px = 0.2 * size, 0.1 * size
        out.append((t, (box[0] - px, box[1] - py, box[2] + px, box[3] + py)))
        y += b[3] - b[1] + gap
    return card, out


def placement(r, photo_size, card_size, condition, fill=(0.8, 0.45), angles=(5, 20), jitter=(0.12, 0.15)):
    """Where a card goes on a photo: the homography from card to photo pixels. The card is scaled to
    at most `fill` of the photo's width and height, turned by `angles` degrees either way when
    `rotated`, its corners moved by up to `jitter` of its size in `perspective`, and put anywhere it
    fits."""
    pw, ph = photo_size
    cw, ch = card_size
    scale = min(1.0, fill[0] * pw / cw, fill[1] * ph / ch)
    w, h = cw * scale, ch * scale
    angle = np.radians(r.uniform(*angles) * r.choice([-1, 1])) if condition == "rotated" else 0.0
    c, s = np.cos(angle), np.sin(angle)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ np.array([[c, s], [-s, c]])
    if condition == "perspective":
        corners += np.array([[r.uniform(-jitter[0], jitter[0]) * w, r.uniform(-jitter[1], jitter[1]) * h]
                             for _ in range(4)])
    lo, hi = corners.min(0), corners.max(0)
    cx = r.uniform(-lo[0] + 4, pw - hi[0] - 4) if pw - hi[0] - 4 > -lo[0] + 4 else pw / 2
    cy = r.uniform(-lo[1] + 4, ph - hi[1] - 4) if ph - hi[1] - 4 > -lo[1] + 4 else ph / 2
    return homography([[0, 0], [cw, 0], [cw, ch], [0, ch]], (corners + [cx, cy]).tolist())


def warp(card, size, to_photo):
    """The card warped by `to_photo` onto a transparent layer of `size`."""
    to_card = np.linalg.inv(to_photo)
    coeffs = (to_card / to_card[2, 2]).flatten()[:8]
    return card.transform(size, Image.PERSPECTIVE, coeffs.tolist(), Image.BICUBIC)


def place(r, photo, card, lines, condition):
    """The card warped onto a transparent layer of the photo's size with the condition's geometry,
    and the lines' quads in photo pixels."""
    to_photo = placement(r, photo.size, card.size, condition)
    return warp(card, photo.size, to_photo), [
        (t, apply(to_photo, [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]])) for t, b in lines]


def turn(photo, lines, degrees):
    """Turns the photo counter-clockwise by 90/180/270 degrees, with its quads."""
    w, h = photo.size
    op = {90: Image.ROTATE_90, 180: Image.ROTATE_180, 270: Image.ROTATE_270}[degrees]
    f = {90: lambda x, y: (y, w - x), 180: lambda x, y: (w - x, h - y), 270: lambda x, y: (h - y, x)}[degrees]
    return photo.transpose(op), [(t, [list(f(x, y)) for x, y in q]) for t, q in lines]


def start(doc, seed, per_language, more=None):
    """The command line of a set generator (`--out`, `--seed`, `--per-language` unless
    `per_language` is None, and what `more` adds to the parser), its seeded generator and the
    background photos; checks Pillow can shape complex scripts."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=seed)
    if per_language is not None:
        ap.add_argument("--per-language", type=int, default=per_language)
    if more:
        more(ap)
    args = ap.parse_args()
    if not features.check("raqm"):
        raise SystemExit("Pillow lacks libraqm (complex-script shaping): install Pillow from PyPI")
    backgrounds = sorted(PHOTOS.glob("*.jpeg"))
    if not backgrounds:
        raise SystemExit(f"no photos in {PHOTOS}")
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    return args, random.Random(args.seed), backgrounds


def main():
    args, r, backgrounds = start(__doc__, seed=7, per_language=12)
    truth = []
    k = 0
    for lang, (_, _, _, script) in LANGS.items():
        for i in range(args.per_language):
            condition = CONDITIONS[i % len(CONDITIONS)]
            style = "handwriting" if i % 4 == 3 and handwriting_fonts(lang) else "typed"
            bg = Image.open(r.choice(backgrounds)).convert("RGB")
            photo = bg.resize((960, 720), Image.BICUBIC).convert("RGBA")
            lines = []
            for _ in range(1 if r.random() < 0.7 else 2):
                card, card_lines = label(r, lang, style, condition)
                layer, placed = place(r, photo, card, card_lines, condition)
                # A second label must not cover the first: then the photo keeps one.
                if lines and overlaps(lines, placed):
                    continue
                photo.alpha_composite(layer)
                lines += placed
            photo = photo.convert("RGB")
            if condition == "blur":
                photo = photo.filter(ImageFilter.GaussianBlur(r.uniform(1.2, 2.0)))
            if condition.startswith("turned"):
                photo, lines = turn(photo, lines, int(condition[6:]))
            name = f"{k:03d}.jpg"
            photo.save(args.out / "images" / name, quality=88)
            truth.append({"file": name, "lang": lang, "script": script, "style": style, "condition": condition,
                          "lines": [{"text": t, "quad": [[round(x, 1), round(y, 1)] for x, y in q]} for t, q in lines]})
            k += 1
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    print(f"{k} photos, {sum(len(t['lines']) for t in truth)} lines -> {args.out}")


def overlaps(a, b):
    box = lambda q: (min(p[0] for p in q), min(p[1] for p in q), max(p[0] for p in q), max(p[1] for p in q))
    for _, qa in a:
        for _, qb in b:
            x0, y0, x1, y1 = box(qa)
            u0, v0, u1, v1 = box(qb)
            if x0 < u1 + 10 and u0 < x1 + 10 and y0 < v1 + 10 and v0 < y1 + 10:
                return True
    return False


if __name__ == "__main__":
    main()
