#!/usr/bin/env python3
"""Builds the training and evaluation crops of crowdsift's handwriting classifier (models/ocr/
handwriting.safetensors, trained by `cargo run --release -p crowdsift-ocr --example train_handwriting`).

    python3 scripts/make_handwriting_set.py --out DIR [--seed 5] [--per-font 700]

Each sample is one text line as the OCR stage hands it over: rendered in a font on paper of some
colour in some ink, turned and skewed a little, blurred, noised and JPEG-compressed, cut out with the
margins a DB detector's box has, made grey, scaled to 32 pixels high and cut or padded (edge pixels)
to 128 wide; a third slanted either way (labels photographed at an angle, italic faces). Label 1:
a handwriting-style font; 0: a typed one, upright or italic.

Fonts. Training: handwriting and typed fonts of the npm packages @fontsource/* listed below (SIL Open
Font License or Apache-2.0; fetched with `npm pack` into DIR/fonts, only for training; the typed
Bengali and Devanagari faces also in their other weights) and Debian's Liberation fonts. Evaluation,
never trained on: the fonts crowdsift's generated OCR and personal-data sets use — Debian's
handwriting-style fonts (fonts-dkg-handwriting, -comic-neue, -femkeklaver, -kristi, -dancingscript,
-breip, -humor-sans, -rufscript) and its Noto (every face those sets draw with) and DejaVu typed
fonts — and one Devanagari handwriting-style face of npm (Dekko), so that the measured accuracy is
on fonts the classifier has not seen.

Texts: names, phone numbers, e-mails and addresses from Faker's locales, prices, weights, dates and
product lines in the survey languages, in Latin script and, where a font has the glyphs, Devanagari,
Bengali, Arabic and Thai.

Writes DIR/{train,eval}.bin (N x 32 x 128 bytes), DIR/{train,eval}.labels (N bytes),
DIR/{train,eval}.fonts (N font indices, u16 little-endian) and DIR/fonts.json (index -> font, label,
split). Same seed + same packages -> same set.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import random
import re
import subprocess
import tarfile
from pathlib import Path

import numpy as np
from faker import Faker
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

H, W = 32, 128

HANDWRITING_NPM = [
    "caveat", "indie-flower", "patrick-hand", "kalam", "shadows-into-light", "gloria-hallelujah", "architects-daughter",
    "homemade-apple", "reenie-beanie", "rock-salt", "just-another-hand", "covered-by-your-grace", "schoolbell",
    "handlee", "coming-soon", "nothing-you-could-do", "gochi-hand", "sue-ellen-francisco", "mali", "itim", "zeyada",
    "dawning-of-a-new-day", "over-the-rainbow", "cedarville-cursive", "loved-by-the-king", "annie-use-your-telescope",
    "waiting-for-the-sunrise", "the-girl-next-door", "short-stack", "neucha", "mansalva", "caveat-brush", "satisfy",
    "pacifico", "marck-script", "yellowtail", "allura", "great-vibes", "permanent-marker", "amatic-sc",
    "kaushan-script", "sacramento", "parisienne", "la-belle-aurore", "nanum-pen-script", "gaegu", "aref-ruqaa",
    "galada", "sriracha", "charm", "delius", "swanky-and-moo-moo", "crafty-girls", "walter-turncoat",
    "give-you-glory", "kranky", "just-me-again-down-here", "meddon", "mrs-saint-delafield", "oooh-baby",
    "aref-ruqaa-ink", "amita", "atma",
]
# Handwriting-style faces of a script other than Latin held out of training, to measure the
# classifier on a hand it never saw in a script it sees little of.
EVAL_HANDWRITING_NPM = ["dekko"]
TYPED_NPM = [
    "roboto", "open-sans", "lato", "montserrat", "oswald", "source-sans-3", "merriweather", "playfair-display",
    "raleway", "ubuntu", "pt-sans", "pt-serif", "roboto-condensed", "roboto-mono", "inter", "poppins", "nunito",
    "archivo-narrow", "bebas-neue", "fira-sans", "ibm-plex-sans", "ibm-plex-mono", "work-sans", "libre-baskerville",
    "lora", "barlow", "barlow-condensed", "anton", "titillium-web", "cabin", "arimo", "tinos", "cousine", "hind",
    "hind-siliguri", "mukta", "cairo", "tajawal", "amiri", "ibm-plex-sans-arabic", "baloo-da-2", "tiro-bangla",
    "sarabun", "kanit", "space-mono", "courier-prime", "archivo-black", "rubik", "karla", "dm-sans", "manrope",
    "josefin-sans", "quicksand", "varela-round", "exo-2", "teko", "russo-one", "crimson-text", "bitter", "arvo",
    "zilla-slab", "oxygen", "heebo", "assistant", "mulish", "lexend", "public-sans", "overpass", "saira",
    # Typed faces of the other scripts of the survey countries: Arabic, Bengali, Devanagari, Thai.
    "almarai", "lateef", "scheherazade-new", "harmattan", "changa", "el-messiri", "reem-kufi", "mada",
    "markazi-text", "readex-pro", "vazirmatn", "baloo-bhaijaan-2", "kufam", "mirza", "lemonada", "mina",
    "baloo-2", "martel", "karma", "sarala", "palanquin", "eczar", "khand", "rajdhani", "biryani", "glegoo",
    "tiro-devanagari-hindi", "anek-bangla", "anek-devanagari", "prompt", "mitr", "pridi", "taviraj", "trirong",
    "chakra-petch", "k2d", "bai-jamjuree", "niramit", "krub", "chonburi",
    "laila", "sahitya", "halant", "kadwa", "gotu", "jaldi", "pragati-narrow", "amiko", "rhodium-libre", "cambay",
    "vesper-libre", "arya", "akshar", "sumana", "tiro-devanagari-marathi", "kurale", "rozha-one", "sarpanch",
]
# Price tags are often bold: the typed faces of the scripts with the fewest faces (Bengali,
# Devanagari) are also drawn in their other weights, each weight a font of its own.
WEIGHTS_NPM = {
    "hind-siliguri": [300, 500, 600, 700], "baloo-da-2": [500, 600, 700, 800], "anek-bangla": [200, 300, 500, 600, 700, 800],
    "mina": [700], "hind": [300, 500, 600, 700], "mukta": [300, 500, 600, 700, 800], "anek-devanagari": [300, 500, 700],
    "martel": [300, 600, 800], "karma": [300, 500, 700], "palanquin": [300, 500, 700], "biryani": [300, 600, 800],
    "baloo-2": [600, 800], "poppins": [300, 600, 800], "khand": [300, 600], "rajdhani": [300, 600], "sarala": [700],
    "eczar": [600, 800], "laila": [300, 600], "jaldi": [700], "amiko": [600, 700], "kadwa": [700],
    "halant": [300, 600], "sahitya": [700],
}
LIBERATION = sorted(Path("/usr/share/fonts/truetype/liberation").glob("*.ttf"))
EVAL_HANDWRITING = [
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "/usr/share/fonts/truetype/kristi/Kristi.ttf",
    "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
    "/usr/share/fonts/truetype/breip/Breip.ttf",
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf",
]
NOTO = Path("/usr/share/fonts/truetype/noto")
EVAL_TYPED = [str(NOTO / f) for f in (
    "NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSerif-Regular.ttf", "NotoSansBengali-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf", "NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf",
    "NotoSansThai-Regular.ttf", "NotoSansBengali-Bold.ttf", "NotoSerifBengali-Regular.ttf",
    "NotoSansDevanagari-Bold.ttf", "NotoSerifDevanagari-Regular.ttf", "NotoSansArabic-Bold.ttf",
    "NotoSansThai-Bold.ttf", "NotoSerifThai-Regular.ttf")] + [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"]

LOCALES = ["en_KE", "sw", "pt_BR", "es_MX", "fr_FR", "id_ID", "en_IN", "en_NG", "vi_VN", "en_US", "de_DE", "it_IT"]
SCRIPTED = {
    "Devanagari": ["चावल ५ किलो", "कीमत ६० रुपये", "राहुल शर्मा", "मोबाइल 98765 43210", "दूध १ लीटर", "पता: गली नं ४"],
    "Bengali": ["চাল ৫ কেজি", "দাম ৬০ টাকা", "রহিম উদ্দিন", "মোবাইল ০১৭১২ ৩৪৫৬৭৮", "মসুর ডাল", "ঠিকানা ঢাকা"],
    "Arabic": ["حليب طازج", "السعر 12 ريال", "محمد العتيبي", "جوال 0551234567", "أرز بسمتي", "شارع الملك فهد"],
    "Thai": ["ข้าวสาร", "ราคา 45 บาท", "สมชาย ใจดี", "โทร 081 234 5678", "น้ำตาล", "นมสด"],
}
PRODUCTS = ["Fresh milk 500 ml", "Rice 5 kg KSh 650", "Prix au kilo 3,90 €", "Leite integral 1 L", "Beras premium 5 kg",
            "Harga per kg Rp 14.500", "Total $ 245.00", "Special offer", "Brown bread", "Tomatoes per kg 80",
            "Pain de campagne 2,10 €", "Feijão preto R$ 8,49", "Mkate TSh 2,500", "Best before 12/05/2026",
            "SKU 100245", "2 x 500 g", "Sữa tươi 1 lít", "Promo 2 x 1", "Bei kwa kilo TSh 3,000", "Open 8am - 6pm"]


def fetch_npm(name: str, cache: Path, style: str = "normal", weight: int = 400) -> list[Path]:
    """The latin (and script) subset files of @fontsource/<name>, converted to TTF, of one weight
    (regular: 400), upright (`normal`) or `italic` (none when the face has no italic or weight)."""
    d = cache / name
    wanted = {400, *WEIGHTS_NPM.get(name, [])}
    # (`.done`: the regular weight only, as earlier versions of this script fetched.)
    if not ((d / ".done-weights").is_file() or ((d / ".done").is_file() and wanted == {400})):
        d.mkdir(parents=True, exist_ok=True)
        tgz = subprocess.run(["npm", "pack", f"@fontsource/{name}", "--silent"], cwd=d, capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1]
        with tarfile.open(d / tgz) as t:
            for m in t.getnames():
                weight = re.search(r"-([1-9]00)-(normal|italic)\.woff$", m)
                if weight and int(weight[1]) in wanted and m.startswith("package/files/"):
                    font = TTFont(io.BytesIO(t.extractfile(m).read()))
                    font.flavor = None
                    font.save(d / (Path(m).stem + ".ttf"))
            lic = [m for m in t.getnames() if m.endswith("LICENSE")]
            if lic:
                (d / "LICENSE").write_bytes(t.extractfile(lic[0]).read())
        (d / tgz).unlink()
        (d / ".done-weights").touch()
    return sorted(d.glob(f"*-{weight}-{style}.ttf"))


class Font:
    """One typeface, possibly split into subset files (latin, devanagari, …): a character is drawn
    with the first file that has it."""

    def __init__(self, files, label, name):
        self.files = [str(f) for f in files]
        self.label = label
        self.name = name
        self.cmaps = [set(TTFont(f, fontNumber=0)["cmap"].getBestCmap()) for f in self.files]

    def file_for(self, text):
        need = {ord(c) for c in text if not c.isspace()}
        for f, cmap in zip(self.files, self.cmaps):
            if need <= cmap:
                return f
        return None


SCRIPT_LOCALES = {"Arabic": "ar_SA", "Bengali": "bn_BD", "Devanagari": "hi_IN", "Thai": "th_TH"}
SCRIPT_RANGES = {"Arabic": (0x0600, 0x06FF), "Bengali": (0x0980, 0x09FF), "Devanagari": (0x0900, 0x097F),
                 "Thai": (0x0E00, 0x0E7F)}


def script_text(r: random.Random, script: str, fakes: dict):
    """A line in `script`: a product line, a name, an address or a number in the script's digits."""
    fake = fakes[script]
    k = r.random()
    if k < 0.3:
        return r.choice(SCRIPTED[script])
    if k < 0.6:
        return f"{fake.first_name()} {fake.last_name()}"
    if k < 0.8:
        return fake.street_address().split("\n")[0]
    zero = {"Arabic": 0x0660, "Bengali": 0x09E6, "Devanagari": 0x0966, "Thai": 0x0E50}[script]
    digits = "".join(chr(zero + r.randint(0, 9)) for _ in range(r.randint(4, 10)))
    return f"{r.choice(SCRIPTED[script]).split()[0]} {digits}"


def texts(r: random.Random, fakes):
    fake = r.choice(fakes)
    kind = r.random()
    if kind < 0.22:
        t = f"{fake.first_name()} {fake.last_name()}"
    elif kind < 0.4:
        t = fake.phone_number()
    elif kind < 0.5:
        t = fake.email()
    elif kind < 0.6:
        t = fake.street_address().split("\n")[0]
    elif kind < 0.85:
        t = r.choice(PRODUCTS)
    elif kind < 0.93:
        t = " ".join(fake.words(r.randint(1, 4)))
    else:
        t = f"{r.randint(1, 99)},{r.randint(0, 99):02d}"
    if r.random() < 0.15:
        t = t.upper()
    return t


class Look:
    """How a line is drawn and photographed: the lightest paper (of 255), the share slanted and how
    far, the largest top/bottom margin of the box (in text heights), the text height range in the
    photo (pixels), the strongest blur (sigma)."""

    def __init__(self, paper=200, slant=(0.35, 0.35), margin=0.6, heights=(12, 80), blur=1.2):
        self.paper, self.slant, self.margin, self.heights, self.blur = paper, slant, margin, heights, blur


def line_crop(r: random.Random, font: Font, text: str, look: Look = Look(), direction=None,
              max_width: int | None = None) -> Image.Image | None:
    """One text line as the OCR stage hands it over, in grey and `H` pixels high: drawn in `font`
    (libraqm orders and shapes it; `direction` as Pillow takes it) on paper of some colour in some
    ink, turned and slanted a little, cut out with the margins a DB detector's box has, scaled to a
    text height of a photo, blurred, noised and JPEG-compressed; squeezed to `max_width` if wider.
    None when the face lacks a glyph."""
    path = font.file_for(text)
    if path is None:
        return None
    size = r.randint(28, 64)
    f = ImageFont.truetype(path, size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    try:
        x0, y0, x1, y1 = probe.textbbox((0, 0), text, font=f, direction=direction)
    except (OSError, ValueError):
        return None
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    pad = size
    paper = tuple(r.randint(look.paper, 255) for _ in range(3)) if r.random() < 0.85 else tuple(
        r.randint(0, 90) for _ in range(3))
    dark = sum(paper) > 380
    ink = (tuple(r.randint(0, 70) for _ in range(2)) + (r.randint(0, 170),)) if dark else tuple(
        r.randint(200, 255) for _ in range(3))
    img = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), paper)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=f, fill=ink, direction=direction)
    angle = r.uniform(-3, 3)
    img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=paper)
    # A slant (a label photographed at an angle, an italic face) is no sign of a hand.
    share, most = look.slant
    if r.random() < share:
        k = r.uniform(-most, most)
        img = img.transform(img.size, Image.AFFINE, (1, k, -k * img.height / 2, 0, 1, 0), Image.BICUBIC,
                            fillcolor=paper)
    # The box a DB detector gives: the ink with a margin around it, down to none at all above a
    # Devanagari or Bengali headline.
    th = y1 - y0
    mx, my = r.uniform(0.05, 0.5) * th, r.uniform(0.0, look.margin) * th
    box = (int(pad - mx), int(pad - my), int(pad + x1 - x0 + mx), int(pad + th + my))
    img = img.crop(box)
    # Resolution: the text as small or as large as it is in photos.
    scale = r.uniform(*look.heights) / th
    img = img.resize((max(4, int(img.width * scale)), max(4, int(img.height * scale))), Image.BILINEAR)
    if r.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(r.uniform(0.2, look.blur)))
    a = np.asarray(img, dtype=np.float32) + np.random.default_rng(r.randrange(1 << 30)).normal(
        0, r.uniform(0, 8), (img.height, img.width, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=r.randint(45, 95))
    g = Image.open(buf).convert("L")
    w = max(8, round(g.width * H / g.height))
    return g.resize((min(w, max_width or w), H), Image.BILINEAR)


def render(r: random.Random, font: Font, text: str) -> np.ndarray | None:
    """A line crop cut or padded (edge pixels) to `W` wide."""
    direction = "rtl" if any("\u0590" <= c <= "\u08ff" for c in text) else None
    img = line_crop(r, font, text, direction=direction)
    if img is None:
        return None
    g, w = np.asarray(img, dtype=np.uint8), img.width
    if w >= W:
        x = r.randint(0, w - W)
        return g[:, x:x + W]
    left = r.randint(0, W - w)
    return np.pad(g, ((0, 0), (left, W - w - left)), mode="edge")


def render_font(job):
    """`per_font` crops of one font."""
    fid, font, seed, per_font = job
    r = random.Random(seed * 100003 + fid)
    fakes = []
    for loc in LOCALES:
        f = Faker(loc)
        f.seed_instance(seed + fid)
        fakes.append(f)
    script_fakes = {}
    for script, loc in SCRIPT_LOCALES.items():
        f = Faker(loc)
        f.seed_instance(seed + fid)
        script_fakes[script] = f
    out = []
    # The scripts the face has besides Latin: its lines are mostly in them.
    own = [sc for sc, (lo, hi) in SCRIPT_RANGES.items() if any(lo <= c <= hi for cm in font.cmaps for c in cm)]
    for _ in range(per_font * 6):
        if len(out) >= per_font:
            break
        script = r.choice(own) if own and r.random() < 0.7 else next((s for s in SCRIPTED if r.random() < 0.05), None)
        text = script_text(r, script, script_fakes) if script else texts(r, fakes)
        crop = render(r, font, text)
        if crop is not None:
            out.append(crop)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--per-font", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=2, help="processes rendering fonts")
    ap.add_argument("--splits", default="train,eval", help="which splits to write (eval alone: to measure again)")
    args = ap.parse_args()
    if not features.check("raqm"):
        raise SystemExit("Pillow lacks libraqm (complex-script shaping): install Pillow from PyPI")
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "fonts"
    fonts = {"train": [], "eval": []}
    for name in HANDWRITING_NPM:
        fonts["train"].append(Font(fetch_npm(name, cache), 1, f"npm:{name}"))
    for name in TYPED_NPM:
        fonts["train"].append(Font(fetch_npm(name, cache), 0, f"npm:{name}"))
        italic = fetch_npm(name, cache, "italic")
        if italic:
            fonts["train"].append(Font(italic, 0, f"npm:{name}:italic"))
        for weight in WEIGHTS_NPM.get(name, []):
            files = fetch_npm(name, cache, weight=weight)
            if files:
                fonts["train"].append(Font(files, 0, f"npm:{name}:{weight}"))
    fonts["train"] += [Font([p], 0, f"debian:{p.name}") for p in LIBERATION]
    fonts["eval"] += [Font([p], 1, f"debian:{Path(p).name}") for p in EVAL_HANDWRITING if Path(p).is_file()]
    fonts["eval"] += [Font(fetch_npm(name, cache), 1, f"npm:{name}") for name in EVAL_HANDWRITING_NPM]
    fonts["eval"] += [Font([p], 0, f"debian:{Path(p).name}") for p in EVAL_TYPED if Path(p).is_file()]
    index = []
    jobs = []
    wanted = args.splits.split(",")
    for split, fs in fonts.items():
        for font in fs:
            if split in wanted:
                jobs.append((len(index), font, args.seed, args.per_font))
            index.append({"font": font.name, "label": font.label, "split": split})
    # One generator per font (seeded by the set's seed and the font's index): the same set
    # whatever the number of processes.
    with multiprocessing.Pool(args.jobs) as pool:
        made = pool.map(render_font, jobs)
    for split in wanted:
        crops, labels, ids = [], [], []
        for (fid, font, _, _), samples in zip(jobs, made):
            if index[fid]["split"] != split:
                continue
            crops += samples
            labels += [font.label] * len(samples)
            ids += [fid] * len(samples)
            print(f"{split} {font.name}: {len(samples)}")
        r = random.Random(args.seed)
        order = list(range(len(crops)))
        r.shuffle(order)
        (args.out / f"{split}.bin").write_bytes(np.stack([crops[i] for i in order]).astype(np.uint8).tobytes())
        (args.out / f"{split}.labels").write_bytes(bytes(labels[i] for i in order))
        (args.out / f"{split}.fonts").write_bytes(np.array([ids[i] for i in order], dtype="<u2").tobytes())
    (args.out / "fonts.json").write_text(json.dumps(index, indent=1))
    print({s: len(f) for s, f in fonts.items()})


if __name__ == "__main__":
    main()
