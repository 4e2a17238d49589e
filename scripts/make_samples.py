#!/usr/bin/env python3
"""Builds samples/: a small price-survey collection that looks like the job, from licensed real photos.

    pip download --no-deps -d /tmp/whl scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2
    bash bench/fetch_hires.sh /tmp/hires --include-lgpl
    python3 scripts/make_samples.py --wheels /tmp/whl --hires /tmp/hires --out samples

Committed for provenance (samples/LICENSES.md names every source); not run by the tests.

Six item types as a survey's crowd photographs them — figs, red wine, coffee, cut flowers,
disposable cups, a newspaper — each photo with a typed price tag or shelf label in one of the
survey languages (Spanish/Mexico, French/France, Portuguese/Brazil, English/Kenya), framed the way
different collectors frame the same item (other crop, zoom, side, a slight turn). One wine photo is
kept at its source's full size (2560x3837, 9.8 MP), as phones send them. Then what the pipeline is
for, one photo each:

- a handwritten note stuck beside the figs with a made-up name and Brazilian mobile number (pii);
- newspapers whose front pages carry a portrait (faces: pii);
- a badly blurred photo, a very dark one, a thumbnail too small to check (quality);
- a byte-identical copy sent twice (duplicate), and a copy sent under another label (label conflict);
- a photo of figs labelled as wine (label issue: the audit suggests figs);
- a file cut off after 60 % of its bytes (undecodable).

Needs Pillow with libraqm, numpy and fontTools (the OCR set's helpers), and the fonts of
scripts/setup.sh --test (Noto, DejaVu, Debian's handwriting fonts). Same sources and fonts -> same
files.
"""

import argparse
import csv
import glob
import io
import random
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_ocr_eval import font_path, placement, warp  # noqa: E402
from make_pii_eval import render  # noqa: E402

# Where each item's photos come from: (wheel glob or hires file, member inside the wheel).
SOURCES = {
    "figs": ("hires", "lomiri_Picture_0B_by_freespace.jpg"),
    "wine": ("hires", "lomiri_Wine_by_Jakkub_Mede.jpg"),
    "cups": ("hires", "plasma_ColorfulCups.jpg"),
    "coffee": ("scikit_image-*.whl", "skimage/data/coffee.png"),
    "flowers": ("scikit_learn-*.whl", "sklearn/datasets/images/flower.jpg"),
    "hopper": ("matplotlib-*.whl", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    "astronaut": ("scikit_image-*.whl", "skimage/data/astronaut.png"),
}

# Price tags: (language's country, lines). Made-up shops and prices.
TAGS = {
    "figs_mx": ("MX", ["Higos frescos", "Precio por kilo $ 89.00"]),
    "figs_fr": ("FR", ["Figues fraîches", "Prix au kilo 6,90 €"]),
    "figs_br": ("BR", ["Figo roxo bandeja 500 g", "R$ 14,90"]),
    "figs_ke": ("KE", ["Fresh figs 250 g", "KSh 320"]),
    "wine_fr": ("FR", ["Vin rouge Bordeaux 75 cl", "Prix 5,95 €"]),
    "wine_br": ("BR", ["Vinho tinto seco 750 ml", "R$ 39,90"]),
    "wine_mx": ("MX", ["Vino tinto 750 ml", "$ 189.00"]),
    "wine_ke": ("KE", ["Red wine 750 ml", "KSh 1,450"]),
    "coffee_mx": ("MX", ["Café americano", "$ 35.00"]),
    "coffee_fr": ("FR", ["Café crème", "2,80 €"]),
    "flowers_fr": ("FR", ["Bouquet de fleurs", "12,90 €"]),
    "flowers_mx": ("MX", ["Ramo de flores", "$ 120.00"]),
    "cups_mx": ("MX", ["Vasos desechables 50 pzas", "$ 45.00"]),
    "cups_ke": ("KE", ["Plastic cups 50 pcs", "KSh 250"]),
}
NOTE = ["Ana Beatriz Souza", "(21) 98877-6655"]
NOTE_FONT = "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf"
# The front pages' article (made up), wrapped into their columns.
ARTICLE = ("Sur le marché couvert, les producteurs de la région ont vendu cette semaine les premières figues"
           " de la saison. Les prix restent stables malgré la pluie du mois dernier, selon le conseil"
           " municipal, qui publiera jeudi son relevé mensuel des prix. Le pain, le lait et le café n'ont"
           " pas changé depuis janvier; les fleurs coupées sont un peu plus chères avant la fête des mères."
           " Les commerçants du quartier du port demandent de nouveaux horaires d'ouverture le dimanche.")
PAPERS = [(252, 252, 248), (255, 242, 150), (250, 246, 232), (235, 245, 255)]


def source(args, key):
    where, member = SOURCES[key]
    if where == "hires":
        return Image.open(args.hires / member).convert("RGB")
    wheels = sorted(glob.glob(str(args.wheels / where)))
    if not wheels:
        raise SystemExit(f"no wheel matching {where} in {args.wheels}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        return Image.open(io.BytesIO(zf.read(member))).convert("RGB")


def frame(photo, box, size, mirror=False, turn=0.0):
    """A collector's framing: the crop `box` (fractions of the photo: x0, y0, x1, y1), turned by
    `turn` degrees, mirrored, scaled to `size`."""
    w, h = photo.size
    x0, y0, x1, y1 = (round(v * s) for v, s in zip(box, (w, h, w, h)))
    out = photo.crop((x0, y0, x1, y1))
    if turn:
        out = out.rotate(turn, Image.BICUBIC, expand=False)
        # The corners the turn left empty are cut away.
        m = int(np.ceil(np.tan(np.radians(abs(turn))) * max(out.size)))
        out = out.crop((m, m, out.width - m, out.height - m))
    if mirror:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    return out.resize(size, Image.LANCZOS)


def tag(r, photo, key, where=(0.5, 1.0), fill=(0.32, 0.22)):
    """The price tag `key` on the photo in one of the typed fonts, turned a little, in the part of
    the photo `where` says (the centre of the tag as fractions of width and height)."""
    _, lines = TAGS[key]
    size = max(22, photo.height // 22)
    font = font_path(r.choice(["NotoSans-Bold.ttf", "NotoSans-Regular.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"]))
    card, _ = render([(None, t) for t in lines], font, size, False, r.choice(PAPERS), (30, 30, 30))
    return stick(r, photo, card, where, fill)


def stick(r, photo, card, where, fill, angles=(2, 6)):
    to_photo = placement(r, photo.size, card.size, "rotated", fill=fill, angles=angles, jitter=(0, 0))
    # placement puts the card anywhere it fits: move its centre to `where`.
    cx, cy = (to_photo @ np.array([card.width / 2, card.height / 2, 1.0]))[:2]
    tx = np.clip(where[0] * photo.width, 0, photo.width) - cx
    ty = np.clip(where[1] * photo.height, 0, photo.height) - cy
    corners = np.array([[0, 0, 1], [card.width, 0, 1], [card.width, card.height, 1], [0, card.height, 1]], float)
    placed = (to_photo @ corners.T).T[:, :2] + [tx, ty]
    # Kept wholly inside the photo.
    tx -= min(0, placed[:, 0].min() - 4) + max(0, placed[:, 0].max() - photo.width + 4)
    ty -= min(0, placed[:, 1].min() - 4) + max(0, placed[:, 1].max() - photo.height + 4)
    to_photo = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]) @ to_photo
    out = photo.convert("RGBA")
    out.alpha_composite(warp(card, photo.size, to_photo))
    return out.convert("RGB")


def note(r, photo, where):
    """The collector's handwritten note: a made-up name and phone number in blue ink."""
    size = max(40, photo.height // 16)
    card, _ = render([(None, t) for t in NOTE], NOTE_FONT, size, False, (255, 242, 150), (20, 40, 150))
    return stick(r, photo, card, where, fill=(0.5, 0.35), angles=(3, 7))


def newspaper(r, portrait, title, headline, price, size=(1200, 1600)):
    """A newspaper's front page on a grey table: masthead, headline, a portrait, columns of text,
    the cover price."""
    page = Image.new("RGB", (900, 1250), (243, 240, 232))
    d = ImageDraw.Draw(page)
    serif = ImageFont.truetype(font_path("DejaVuSerif-Bold.ttf"), 88)
    d.text((450, 40), title, font=serif, fill=(20, 20, 20), anchor="mt")
    d.line((40, 150, 860, 150), fill=(20, 20, 20), width=4)
    small = ImageFont.truetype(font_path("DejaVuSerif.ttf"), 26)
    d.text((40, 162), "Édition du matin", font=small, fill=(40, 40, 40))
    d.text((860, 162), price, font=small, fill=(40, 40, 40), anchor="ra")
    head = ImageFont.truetype(font_path("DejaVuSerif-Bold.ttf"), 52)
    for i, line in enumerate(headline):
        d.text((40, 215 + i * 62), line, font=head, fill=(20, 20, 20))
    top = 215 + len(headline) * 62 + 20
    pw = 430
    ph = round(portrait.height * pw / portrait.width)
    page.paste(portrait.resize((pw, ph), Image.LANCZOS), (40, top))
    body = ImageFont.truetype(font_path("DejaVuSerif.ttf"), 22)
    words = ARTICLE.split()
    for col, (x0, y0, x1, y1) in enumerate([(500, top, 860, top + ph), (40, top + ph + 30, 440, 1210),
                                            (500, top + ph + 30, 860, 1210)]):
        y = y0
        while words and y + 26 <= y1:
            line = words.pop(0)
            while words and d.textlength(f"{line} {words[0]}", font=body) <= x1 - x0:
                line += " " + words.pop(0)
            d.text((x0, y), line, font=body, fill=(70, 70, 70))
            y += 30
        words = words or ARTICLE.split()
    table = Image.new("RGB", size, (118, 116, 112))
    table = Image.fromarray(np.clip(np.asarray(table, np.float32)
                                    + np.random.default_rng(3).normal(0, 3, (size[1], size[0], 3)), 0, 255)
                            .astype(np.uint8))
    card = page.convert("RGBA")
    return stick(r, table, card, (0.5, 0.5), fill=(0.9, 0.92), angles=(2, 4))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheels", required=True, type=Path)
    ap.add_argument("--hires", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    photos = args.out / "photos"
    if photos.exists():
        shutil.rmtree(photos)
    photos.mkdir(parents=True)
    r = random.Random(22)
    rows = []

    def save(name, im, label, tag_key=None, quality=88, country=None):
        im.save(photos / name, "JPEG", quality=quality, optimize=True)
        rows.append((name, label, country or TAGS[tag_key][0]))

    figs, wine, cups = source(args, "figs"), source(args, "wine"), source(args, "cups")
    coffee, flowers = source(args, "coffee"), source(args, "flowers")
    hopper, astronaut = source(args, "hopper"), source(args, "astronaut")

    # Figs: four collectors, one of whom left a note with her name and number in the picture.
    save("figs_1.jpg", tag(r, frame(figs, (0.05, 0.0, 0.95, 1.0), (1600, 1200)), "figs_mx", (0.3, 0.85)), "figs",
         "figs_mx")
    im = frame(figs, (0.25, 0.1, 0.85, 0.9), (1600, 1200), turn=4)
    im = tag(r, im, "figs_fr", (0.72, 0.85))
    save("figs_2_note.jpg", note(r, im, (0.28, 0.16)), "figs", "figs_fr")
    save("figs_3.jpg", tag(r, frame(figs, (0.3, 0.0, 0.9, 1.0), (1200, 1600), mirror=True), "figs_br", (0.5, 0.88)),
         "figs", "figs_br")
    save("figs_4.jpg", tag(r, frame(figs, (0.0, 0.2, 0.7, 0.95), (1600, 1200), turn=-3), "figs_ke", (0.75, 0.15)),
         "figs", "figs_ke")
    # The same figs, sent as wine: the label audit's case.
    save("figs_as_wine.jpg", tag(r, frame(figs, (0.0, 0.0, 0.6, 1.0), (1200, 1600), turn=2),
                                 "wine_mx", (0.5, 0.12)), "wine", "wine_mx")
    # Figs shaken: badly blurred.
    im = tag(r, frame(figs, (0.1, 0.0, 0.75, 1.0), (1600, 1200), turn=-5), "figs_mx", (0.65, 0.85))
    save("figs_blurred.jpg", im.filter(ImageFilter.GaussianBlur(9)), "figs", "figs_mx")

    # Wine: one photo at the phone's full size, two closer ones, one sent twice.
    save("wine_1_full_size.jpg", tag(r, wine, "wine_fr", (0.5, 0.62), fill=(0.3, 0.2)), "wine", "wine_fr", quality=85)
    save("wine_2.jpg", tag(r, frame(wine, (0.05, 0.0, 0.75, 0.7), (1200, 1600)), "wine_br", (0.5, 0.85)), "wine",
         "wine_br")
    save("wine_3.jpg", tag(r, frame(wine, (0.15, 0.05, 0.95, 0.6), (1200, 1600), mirror=True, turn=3), "wine_mx",
                           (0.45, 0.8)), "wine", "wine_mx")
    save("wine_4.jpg", tag(r, frame(wine, (0.0, 0.15, 0.8, 0.75), (1600, 1200), turn=-2), "wine_ke", (0.7, 0.85)),
         "wine", "wine_ke")
    shutil.copyfile(photos / "wine_2.jpg", photos / "wine_2_sent_again.jpg")
    rows.append(("wine_2_sent_again.jpg", "wine", "BR"))

    # Coffee (a 600x400 photo: kept at its size rather than enlarged), one in a dark café.
    save("coffee_1.jpg", tag(r, coffee, "coffee_mx", (0.78, 0.85), fill=(0.4, 0.3)), "coffee", "coffee_mx")
    im = tag(r, frame(coffee, (0.1, 0.0, 1.0, 1.0), (540, 400), mirror=True), "coffee_fr", (0.2, 0.85),
             fill=(0.4, 0.3))
    save("coffee_2.jpg", im, "coffee", "coffee_fr")
    dark = np.asarray(tag(r, frame(coffee, (0.0, 0.05, 0.9, 1.0), (570, 400)), "coffee_mx", (0.75, 0.2),
                          fill=(0.4, 0.3)), np.float32) * 0.08
    save("coffee_dark.jpg", Image.fromarray(np.clip(np.rint(dark), 0, 255).astype(np.uint8)), "coffee", "coffee_mx")

    # Cut flowers (a 640x427 photo), one of them cut off in transfer.
    save("flowers_1.jpg", tag(r, flowers, "flowers_fr", (0.75, 0.85), fill=(0.4, 0.3)), "cut flowers", "flowers_fr")
    save("flowers_2.jpg", tag(r, frame(flowers, (0.1, 0.0, 0.9, 1.0), (512, 427), mirror=True), "flowers_mx",
                              (0.3, 0.15), fill=(0.45, 0.3)), "cut flowers", "flowers_mx")
    im = tag(r, frame(flowers, (0.0, 0.1, 0.85, 1.0), (544, 384), turn=3), "flowers_fr", (0.7, 0.2), fill=(0.45, 0.3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=88)
    (photos / "flowers_cut_off.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) * 60 // 100])
    rows.append(("flowers_cut_off.jpg", "cut flowers", "FR"))

    # Disposable cups; one sent again under another label, one as a thumbnail.
    save("cups_1.jpg", tag(r, frame(cups, (0.0, 0.0, 0.75, 1.0), (1600, 1200)), "cups_mx", (0.5, 0.5)), "cups",
         "cups_mx")
    save("cups_2.jpg", tag(r, frame(cups, (0.3, 0.1, 1.0, 1.0), (1600, 1200), turn=-4), "cups_ke", (0.3, 0.8)),
         "cups", "cups_ke")
    shutil.copyfile(photos / "cups_2.jpg", photos / "cups_2_as_coffee.jpg")
    rows.append(("cups_2_as_coffee.jpg", "coffee", "KE"))
    thumb = tag(r, frame(cups, (0.2, 0.0, 0.9, 1.0), (1600, 1200), mirror=True), "cups_mx", (0.5, 0.8))
    save("cups_thumbnail.jpg", thumb.resize((200, 150), Image.LANCZOS), "cups", "cups_mx")

    # Newspapers with a portrait on the front page: faces to hide.
    save("newspaper_1.jpg", newspaper(r, hopper, "LE QUOTIDIEN", ["Une pionnière", "de l'informatique"], "1,80 €"),
         "newspaper", country="FR")
    save("newspaper_2.jpg", newspaper(r, astronaut, "LA GAZETTE", ["Retour sur Terre", "après dix jours"], "2,00 €",
                                      size=(1600, 1200)), "newspaper", country="FR")

    with open(args.out / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["obs_uid", "label", "uri", "country"])
        for i, (name, label, country) in enumerate(rows, 1):
            w.writerow([f"P{i:03d}", label, f"photos/{name}", country])
    print(f"{len(rows)} photos -> {args.out}")


if __name__ == "__main__":
    main()
