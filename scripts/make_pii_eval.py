#!/usr/bin/env python3
"""Generates crowdsift's personal-data evaluation set: notes with planted personal data on real photos,
and the same photos with the same notes holding none.

    python3 scripts/make_pii_eval.py --out DIR [--seed 11] [--per-language 11]

Each photo is a food photo of ../shared/data/ifct-dev (upscaled to 960x720, as the OCR set) with a
note pasted on it: a shop line, then two or three lines of personal data of one country — a name with
its leading word ("Nom:", "Nama:", "নাম:") or alone (then with a family name the name gazetteer holds
out, see scripts/make_name_gazetteer.py), a phone number in the country's national or
international format with or without a leading word, an e-mail address, an address, a date of birth,
a national ID (Brazil CPF, India Aadhaar, Indonesia NIK, with valid check digits), a payment card
(Luhn), an IBAN (mod 97); every fourth photo also has a QR code beside the note holding a contact card
(vCard, made with `segno`), and every fourth a loyalty card's barcode (Code 128 member number or a
store-internal EAN-13), whose clean twin has a product's EAN-13 in its place (not personal data:
it must not be flagged). Ten languages/countries: English/Kenya, French/France, Spanish/Mexico,
Portuguese/Brazil, Indonesian/Indonesia, Vietnamese/Vietnam, Swahili/Tanzania, Arabic/Saudi Arabia,
Bengali/Bangladesh, Hindi/India. Typed (Noto/DejaVu) or in a handwriting-style font (Latin
languages but Vietnamese); clean, rotated or in perspective. Names and addresses come from Faker's
locales, phone numbers are random numbers libphonenumber (PyPI `phonenumbers`) accepts as valid
mobile numbers of the country.

For every photo `NNN_pii.jpg` there is `NNN_clean.jpg`: the same photo and note geometry, each line of
personal data replaced by ordinary price-label text of the same language (items, prices, weights,
product codes, opening hours, dates without a leading word) — what must not be flagged.

Then `--notes N` photos (default 48, `NNN_note.jpg`) as a survey's crowd sends them and as a new
user tried crowdsift on: a real food photo at phone size (1600x1200, every fourth 4000x3000, with
sensor-like noise) with a typed price tag, and on two in three a note carrying a collector's name,
phone number, sometimes an e-mail or an address, written bare (no leading word), mostly in
handwriting-style fonts in blue or black ink, slightly turned. Their manifest rows have no country
and no language: phone numbers must be recognised without knowing the country. Half the names are a
known given name with a family name the gazetteer holds out, half are wholly unknown to it (names of
other Faker locales than the gazetteer's); numbers are new random valid mobile numbers of fifteen
countries. Of the other third, half carry a handwritten note without personal data (a price, an
offer) and half only typed text: the clean photos that should be released without a person.

Writes DIR/images/*.jpg, DIR/manifest.csv (obs_uid,label,uri,lang,country: `lang` is the Tesseract
hint for the script) and DIR/truth.json: a list of {file, twin, lang, country, style, condition,
pii: [{kind, text, leading, quad}]}, where quad is the box of the value itself (not its leading
word) in photo pixels. Same seed + same fonts + same Pillow/Faker/phonenumbers -> same set.
"""

import csv
import io
import json
import random
import sys
from pathlib import Path

import numpy as np

import barcode
import phonenumbers
import segno
from faker import Faker
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_name_gazetteer import held_out  # noqa: E402
from make_ocr_eval import HANDWRITING, TYPED, apply, covers, font_path, placement, start, warp  # noqa: E402

GAZETTEER = Path(__file__).resolve().parent.parent / "crates" / "pii" / "data" / "names.tsv"

# lang -> (country, Faker locale, Tesseract hint, script, leading words by kind, ordinary lines)
LANGS = {
    "eng": ("KE", "en_KE", "eng", "Latin",
            {"person_name": ["Name", "Customer", "Served by"], "phone": ["Tel", "Phone", "Mobile"],
             "email": ["Email"], "address": ["Address"], "date_of_birth": ["Date of birth", "DOB"],
             "id_number": ["ID No"], "card_number": [], "iban": []},
            ["Fresh milk 500 ml", "Rice 5 kg KSh 650", "Open 8am - 6pm", "Brown bread KSh 60", "Sugar 1 kg 150",
             "Tomatoes per kg 80", "Qty 2 x 45.00", "Total KSh 1,250", "Best before 12/05/2026"]),
    "fra": ("FR", "fr_FR", "fra", "Latin",
            {"person_name": ["Nom", "Client", "Servi par"], "phone": ["Tél", "Téléphone", "Portable"],
             "email": ["Courriel", "E-mail"], "address": ["Adresse"], "date_of_birth": ["Né le", "Date de naissance"],
             "id_number": [], "card_number": [], "iban": ["IBAN"]},
            ["Lait entier 1 L", "Prix au kilo 3,90 €", "Ouvert 8h - 19h", "Pain de campagne 2,10 €",
             "Quantité 2 x 1,45", "Total 12,50 €", "À consommer avant 12/05/2026", "Pommes 1,99 € le kg"]),
    "spa": ("MX", "es_MX", "spa", "Latin",
            {"person_name": ["Nombre", "Cliente", "Atendido por"], "phone": ["Tel", "Teléfono", "Celular"],
             "email": ["Correo"], "address": ["Dirección"], "date_of_birth": ["Fecha de nacimiento"],
             "id_number": [], "card_number": [], "iban": []},
            ["Leche entera 1 L", "Precio por kilo $ 39.90", "Abierto 8:00 - 20:00", "Tortillas 1 kg $ 22",
             "Cantidad 3 x 12.50", "Total $ 245.00", "Caduca 12/05/2026", "Arroz blanco $ 31"]),
    "por": ("BR", "pt_BR", "por", "Latin",
            {"person_name": ["Nome", "Cliente", "Atendente"], "phone": ["Tel", "Telefone", "Celular"],
             "email": ["E-mail"], "address": ["Endereço"], "date_of_birth": ["Data de nascimento"],
             "id_number": ["CPF"], "card_number": [], "iban": ["IBAN"]},
            ["Leite integral 1 L", "Preço por quilo R$ 7,90", "Aberto 8h às 20h", "Pão francês R$ 0,90",
             "Quantidade 2 x 4,50", "Total R$ 32,40", "Validade 12/05/2026", "Feijão preto R$ 8,49"]),
    "ind": ("ID", "id_ID", "ind", "Latin",
            {"person_name": ["Nama", "Pelanggan", "Kasir"], "phone": ["Telp", "HP", "No HP"],
             "email": ["Email"], "address": ["Alamat"], "date_of_birth": ["Tanggal lahir"],
             "id_number": ["NIK"], "card_number": [], "iban": []},
            ["Beras premium 5 kg", "Harga per kg Rp 14.500", "Buka 08.00 - 21.00", "Minyak goreng Rp 17.000",
             "Jumlah 2 x 3.500", "Total Rp 52.000", "Kedaluwarsa 12/05/2026", "Gula pasir Rp 16.000"]),
    "vie": ("VN", "vi_VN", "vie", "Latin",
            {"person_name": ["Tên", "Họ tên", "Khách hàng"], "phone": ["ĐT", "SĐT", "Điện thoại"],
             "email": ["Email"], "address": ["Địa chỉ"], "date_of_birth": ["Ngày sinh"],
             "id_number": [], "card_number": [], "iban": []},
            ["Sữa tươi 1 lít", "Giá mỗi ký 25.000 đ", "Mở cửa 7h - 21h", "Bánh mì 15.000 đ",
             "Số lượng 2 x 12.000", "Tổng 150.000 đ", "Hạn dùng 12/05/2026", "Gạo thơm 20.000 đ"]),
    "swa": ("TZ", "sw", "eng", "Latin",
            {"person_name": ["Jina", "Mteja", "Muuzaji"], "phone": ["Simu", "Namba ya simu"],
             "email": ["Barua pepe"], "address": ["Anwani"], "date_of_birth": ["Tarehe ya kuzaliwa"],
             "id_number": [], "card_number": [], "iban": []},
            ["Maziwa lita 1", "Bei kwa kilo TSh 3,000", "Wazi saa 2 - 12", "Mkate TSh 2,500",
             "Idadi 2 x 1,500", "Jumla TSh 15,000", "Mchele kilo 5", "Sukari kilo 1 TSh 3,200"]),
    "ara": ("SA", "ar_SA", "ara", "Arabic",
            {"person_name": ["الاسم"], "phone": ["هاتف", "جوال"], "email": [], "address": ["العنوان"],
             "date_of_birth": ["تاريخ الميلاد"], "id_number": [], "card_number": [], "iban": ["IBAN"]},
            ["حليب طازج", "السعر 12 ريال", "أرز بسمتي", "سكر أبيض", "خبز عربي", "زيت نباتي", "شاي أسود"]),
    "ben": ("BD", "bn_BD", "ben", "Bengali",
            {"person_name": ["নাম"], "phone": ["ফোন", "মোবাইল"], "email": [], "address": ["ঠিকানা"],
             "date_of_birth": ["জন্ম তারিখ"], "id_number": [], "card_number": [], "iban": []},
            ["চাল ৫ কেজি", "দাম ৬০ টাকা", "মসুর ডাল", "চিনি ১ কেজি", "আলু প্রতি কেজি", "ডিম ১ ডজন"]),
    "hin": ("IN", "hi_IN", "hin", "Devanagari",
            {"person_name": ["नाम"], "phone": ["फोन", "मोबाइल"], "email": [], "address": ["पता"],
             "date_of_birth": ["जन्म तिथि"], "id_number": ["आधार"], "card_number": [], "iban": []},
            ["चावल ५ किलो", "कीमत ६० रुपये", "अरहर दाल", "चीनी १ किलो", "आलू प्रति किलो", "दूध १ लीटर"]),
}
# Extra ordinary lines with digits in every language: codes and sums that look like numbers.
NUMERIC = ["4006381333931", "8 901030 865278", "SKU 100245", "1,250.00", "12:30", "No. 004512", "2 x 500 g"]

# Kinds planted, cycled per language; every photo gets two or three of them.
PLAN = [
    ["name_lead", "phone_lead"], ["phone_bare", "email"], ["name_bare", "address"], ["dob", "name_lead", "phone_bare"],
    ["id", "phone_lead"], ["card", "name_lead"], ["iban", "email"], ["name_lead", "phone_intl"],
    ["address", "phone_lead", "email"], ["name_bare", "phone_bare"], ["dob", "id"],
]
CONDITIONS = ["clean", "rotated", "perspective", "clean", "rotated", "clean", "perspective", "clean", "rotated",
              "clean", "perspective"]
DIGITS = {"ben": "০১২৩৪৫৬৭৮৯", "hin": "०१२३४५६७८९", "ara": "٠١٢٣٤٥٦٧٨٩"}


def phone(r, country, style):
    """A random valid mobile number of `country` in national or international format."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    nsn = str(example.national_number)
    for _ in range(1000):
        keep = r.randint(2, 3)
        cand = nsn[:keep] + "".join(str(r.randint(0, 9)) for _ in range(len(nsn) - keep))
        n = phonenumbers.parse("+" + str(example.country_code) + cand)
        mobile = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        if phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in mobile:
            fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL if style == "intl" else phonenumbers.PhoneNumberFormat.NATIONAL
            return phonenumbers.format_number(n, fmt)
    raise SystemExit(f"no valid mobile number for {country}")


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    for check in range(10):
        ds = digits + [check]
        total = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                d -= 9 if d > 9 else 0
            total += d
        if total % 10 == 0:
            return prefix + str(check)
    raise AssertionError


def card(r):
    number = luhn_complete("4" + "".join(str(r.randint(0, 9)) for _ in range(14)), 16)
    return " ".join(number[i:i + 4] for i in range(0, 16, 4))


def iban(r, country):
    digits = lambda n: "".join(str(r.randint(0, 9)) for _ in range(n))  # noqa: E731
    bban = {"FR": lambda: digits(23), "BR": lambda: digits(23) + "C1", "SA": lambda: digits(20)}[country]()
    rearranged = bban + country + "00"
    n = int("".join(str(int(c, 36)) for c in rearranged))
    code = f"{country}{98 - n % 97:02d}{bban}"
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def cpf(r):
    d = [r.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        s = sum(v * w for v, w in zip(d, range(n, 1, -1)))
        d.append((s * 10 % 11) % 10)
    s = "".join(map(str, d))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


VERHOEFF_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
              [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
              [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
              [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VERHOEFF_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
              [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
              [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar(r):
    d = [r.randint(2, 9)] + [r.randint(0, 9) for _ in range(10)]
    c = 0
    for i, v in enumerate(reversed(d)):
        c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][v]]
    s = "".join(map(str, d)) + str(VERHOEFF_INV[c])
    return f"{s[:4]} {s[4:8]} {s[8:]}"


def nik(r, fake):
    dob = fake.date_of_birth(minimum_age=18, maximum_age=80)
    day = dob.day + (40 if r.random() < 0.5 else 0)
    return f"{r.randint(11, 94)}{r.randint(1, 79):02d}{r.randint(1, 40):02d}{day:02d}{dob.month:02d}{dob.year % 100:02d}{r.randint(1, 9999):04d}"


def email(r, fake):
    user = fake.user_name() if r.random() < 0.5 else f"{fake.first_name()}.{fake.last_name()}{r.randint(1, 99)}"
    user = "".join(c for c in user.lower() if c.isascii() and (c.isalnum() or c in "._")) or f"user{r.randint(1, 999)}"
    return f"{user}@{r.choice(['gmail.com', 'yahoo.com', 'outlook.com', fake.free_email_domain()])}"


def native(lang, text, r):
    """A third of the numbers in Bengali, Hindi and Arabic notes are written in the script's digits."""
    if lang in DIGITS and r.random() < 0.33:
        return "".join(DIGITS[lang][int(c)] if c.isdigit() else c for c in text)
    return text


def pii_line(r, lang, item, fake):
    """(kind, leading word or None, value) for one planted item."""
    country, _, _, _, leads, _ = LANGS[lang]

    def lead(kind):
        return r.choice(leads[kind]) if leads[kind] else None

    if item == "name_lead":
        return "person_name", lead("person_name"), fake.name() if lang != "eng" else f"{fake.first_name()} {fake.last_name()}"
    if item == "name_bare":
        # Family names the gazetteer holds out: recall on names it does not know.
        family = next((n for n in (fake.last_name() for _ in range(200)) if held_out(n)), fake.last_name())
        return "person_name", None, f"{fake.first_name()} {family}"
    if item == "phone_lead":
        return "phone", lead("phone"), native(lang, phone(r, country, "national"), r)
    if item == "phone_bare":
        return "phone", None, native(lang, phone(r, country, "national" if r.random() < 0.5 else "intl"), r)
    if item == "phone_intl":
        return "phone", lead("phone") if r.random() < 0.5 else None, phone(r, country, "intl")
    if item == "email":
        return "email", lead("email") if r.random() < 0.6 else None, email(r, fake)
    if item == "address":
        return "address", lead("address"), fake.street_address().split("\n")[0]
    if item == "dob":
        d = fake.date_of_birth(minimum_age=18, maximum_age=80)
        sep = "-" if lang == "ara" else "/"  # Noto's Arabic fonts have no '/'
        return "date_of_birth", lead("date_of_birth"), native(lang, f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}", r)
    if item in ("id", "card", "iban"):
        # A national ID where the country has a checkable one here, else an IBAN where the country
        # has IBANs, else a payment card.
        if country in ID_NUMBERS and item != "iban" or country in ID_NUMBERS and country not in IBANS:
            return "id_number", lead("id_number"), ID_NUMBERS[country](r, fake)
        if country in IBANS and (item != "card" or country not in ID_NUMBERS):
            return "iban", lead("iban"), iban(r, country)
        return "card_number", None, card(r)
    raise AssertionError(item)


ID_NUMBERS = {"BR": lambda r, fake: cpf(r), "IN": lambda r, fake: aadhaar(r), "ID": nik}
IBANS = ("FR", "BR", "SA")


def note_font(r, lang, style, texts):
    script = LANGS[lang][3]
    if style == "handwriting":
        fonts = [f for f in HANDWRITING if Path(f).is_file() and all(covers(f, t) for t in texts)]
        if fonts:
            return r.choice(fonts), r.randint(34, 44)
    letters = ["".join(c for c in t if c.isalpha()) for t in texts]
    names = [n for n in TYPED[script] if all(covers(font_path(n), t) for t in letters)] or TYPED[script]
    return font_path(r.choice(names)), r.randint(24, 34)


def render(lines, path, size, rtl, bg, ink, width=None, height=None):
    """The note (RGBA) with `lines` [(leading, value)], and per line the ink boxes of the whole
    line and of the value, in note pixels. `width`/`height` fix the note size (for the twin)."""
    # Directions are left to the bidi algorithm (a phone number on an Arabic note runs left to
    # right); lines are right-aligned on right-to-left notes.
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    texts = [(f"{l}: {v}" if l else v) for l, v in lines]
    # A line the note's font lacks glyphs for (an e-mail on a Bengali note: no '@') is written in
    # Noto Sans, as a person would switch to Latin letters; a line neither has every glyph of (an
    # Arabic line with a '+' or Latin words: Noto's Arabic faces lack those, Noto Sans the Arabic
    # letters and digits) in DejaVu Sans, which has both. Until 2026-12 such lines were drawn
    # with empty boxes for the missing glyphs, which no real note has.
    fallbacks = [path, font_path("NotoSans-Regular.ttf"), font_path("DejaVuSans.ttf")]
    fonts = [ImageFont.truetype(next((f for f in fallbacks if covers(f, t)), path), size) for t in texts]
    boxes = [probe.textbbox((0, 0), t, font=f) for t, f in zip(texts, fonts)]
    margin, gap = max(10, size // 2), int(size * 0.8)
    w = width or max(b[2] - b[0] for b in boxes) + 2 * margin
    h = height or sum(b[3] - b[1] for b in boxes) + gap * (len(texts) - 1) + 2 * margin
    card = Image.new("RGBA", (w, h), bg + (255,))
    d = ImageDraw.Draw(card)
    out, y = [], margin
    for (lead, value), t, b, font in zip(lines, texts, boxes, fonts):
        x = (w - margin - (b[2] - b[0])) - b[0] if rtl else margin - b[0]
        d.text((x, y - b[1]), t, font=font, fill=ink)
        line = d.textbbox((x, y - b[1]), t, font=font)
        vw = d.textlength(value, font=font)
        # The value ends the line: its right part after a left-to-right leading word, its left
        # part after a right-to-left one.
        vx0, vx1 = (line[0], line[0] + vw) if lead and is_rtl(lead) else (line[2] - vw, line[2])
        py, px = 0.2 * size, 0.1 * size
        out.append(((line[0] - px, line[1] - py, line[2] + px, line[3] + py), (vx0 - px, line[1] - py, vx1 + px, line[3] + py)))
        y += b[3] - b[1] + gap
    return card, out


def is_rtl(text):
    return any("\u0590" <= c <= "\u08ff" for c in text)


def paste(photo, card, to_photo):
    out = photo.copy()
    out.alpha_composite(warp(card, photo.size, to_photo))
    return out.convert("RGB")


def quad(to_photo, b):
    return [[round(x, 1), round(y, 1)] for x, y in apply(to_photo, [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]])]


def qr_sticker(r, photo, planted, to_photo, card_size):
    """Pastes a QR code holding a contact card (vCard with the note's name or phone) beside the note;
    returns its planted value."""
    values = [v for _, _, v in planted]
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:" + values[0] + "\nTEL:" + values[-1] + "\nEND:VCARD"
    code = segno.make(vcard, error="m")
    buf = io.BytesIO()
    scale = r.randint(3, 4)
    code.save(buf, kind="png", scale=scale, border=2)
    sticker = Image.open(buf).convert("RGB")
    w, h = sticker.size
    x, y = free_spot(r, photo.size, (w, h), to_photo, card_size)
    photo.paste(sticker, (x, y))
    b = 2 * scale  # the quiet zone around the modules
    box = [[x + b, y + b], [x + w - b, y + b], [x + w - b, y + h - b], [x + b, y + h - b]]
    return {"kind": "qr_or_barcode", "text": "vcard", "leading": None, "quad": box}


def ean13(first12):
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def loyalty_and_product_codes(r):
    """A store-internal code (Code 128 member number, or EAN-13 with GS1 prefix 2x) and a product
    EAN-13 (GS1 company prefix of Germany, Poland, Indonesia, India, Kenya, Brazil)."""
    if r.random() < 0.5:
        member = ("code128", f"MEMBER {r.randint(0, 99999999):08d}")
    else:
        member = ("ean13", ean13("2" + "".join(str(r.randint(0, 9)) for _ in range(11))))
    prefix = r.choice(["400", "590", "899", "890", "616", "789"])
    product = ("ean13", ean13(prefix + "".join(str(r.randint(0, 9)) for _ in range(9))))
    return member, product


def free_spot(r, size, box, to_photo, card_size):
    """A place for a box of `box` pixels beside the note."""
    note = quad(to_photo, (0, 0, card_size[0], card_size[1]))
    nx0, ny0 = min(p[0] for p in note), min(p[1] for p in note)
    nx1, ny1 = max(p[0] for p in note), max(p[1] for p in note)
    w, h = box
    for _ in range(200):
        x, y = r.randint(4, size[0] - w - 4), r.randint(4, size[1] - h - 4)
        if x + w < nx0 or x > nx1 or y + h < ny0 or y > ny1:
            break
    return x, y


def render_barcode(code):
    """(value, image) of a barcode drawn by python-barcode's image writer."""
    kind, value = code
    buf = io.BytesIO()
    options = {"module_width": 0.25, "module_height": 9, "font_size": 6, "text_distance": 3, "quiet_zone": 3,
               "dpi": 150, "write_text": True}
    barcode.get(kind, value if kind != "ean13" else value[:12], writer=ImageWriter()).write(buf, options=options)
    return value, Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def paste_barcode(photo, code, spot):
    """Pastes a rendered barcode at `spot`; returns its planted value."""
    value, sticker = code
    x, y = spot
    photo.paste(sticker, (x, y))
    w, h = sticker.size
    return {"kind": "qr_or_barcode", "text": value, "leading": None,
            "quad": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]}


# The notes: the countries whose numbers are written (national format, or international for one in
# four), the Faker locales their collectors' names come from (Latin script: the handwriting fonts
# have no other), and the languages of the typed price tag beside them.
NOTE_COUNTRIES = {
    "KE": ["en_KE", "sw"], "TZ": ["sw", "en_KE"], "UG": ["en_KE", "sw"], "NG": ["en_NG", "yo_NG", "ig_NG", "ha_NG"],
    "GH": ["tw_GH", "en_GB"], "BR": ["pt_BR"], "MX": ["es_MX"], "CO": ["es_CO"], "FR": ["fr_FR"],
    "SN": ["fr_FR", "fr_BE"], "ID": ["id_ID"], "IN": ["en_IN"], "BD": ["en_BD"], "PH": ["fil_PH", "en_PH"],
    "PK": ["en_PK"],
}
# Locales whose names the gazetteer does not hold (it is built from other ones).
UNSEEN_LOCALES = ["yo_NG", "ig_NG", "ha_NG", "tw_GH", "fil_PH", "en_PK", "zu_ZA", "it_IT", "pl_PL", "tr_TR", "de_DE",
                  "nl_NL", "ro_RO", "es_AR", "es_CL", "fr_BE"]
TAG_LANGS = ["eng", "fra", "spa", "por", "ind", "swa"]
INKS = [(20, 40, 150), (30, 30, 110), (25, 25, 25), (50, 50, 60), (10, 70, 160)]
PAPERS = [(252, 252, 248), (255, 242, 150), (250, 246, 232), (235, 245, 255)]
OFFERS = ["Promo 2 x 1", "Today only", "New stock", "Special price", "Buy 2 get 1", "Fresh today", "Half price",
          "Sold by kg", "Ask inside", "Last pieces"]


def gazetteer():
    names = {"given": set(), "family": set()}
    for line in GAZETTEER.read_text().splitlines():
        kind, _, name = line.partition("\t")
        if kind in names:
            names[kind].add(name.lower())
    return names


def note_name(r, country, known, unseen):
    """A collector's name: a known given name and a family name the gazetteer lacks (`unseen` false),
    or both parts unknown to it, from a locale it was not built from; sometimes three words."""
    for _ in range(400):
        loc = r.choice(UNSEEN_LOCALES if unseen else NOTE_COUNTRIES[country])
        fake = Faker(loc)
        fake.seed_instance(r.randrange(1 << 30))
        given, family = fake.first_name(), fake.last_name()
        if " " in given or " " in family or not given.isalpha() or not family.replace("-", "").isalpha():
            continue
        g_known, f_known = given.lower() in known["given"], family.lower() in known["family"] | known["given"]
        if (not unseen and g_known and not f_known) or (unseen and not g_known and not f_known
                                                        and given.lower() not in known["family"]):
            if r.random() < 0.2:
                extra = Faker(loc)
                extra.seed_instance(r.randrange(1 << 30))
                middle = extra.last_name()
                if middle.isalpha() and middle.lower() not in known["family"] | known["given"]:
                    return f"{given} {middle} {family}"
            return f"{given} {family}"
    raise SystemExit(f"no name for {country}")


def noisy(photo, r, sigma):
    a = np.asarray(photo, dtype=np.float32)
    noise = np.random.default_rng(r.randrange(1 << 30)).normal(0.0, sigma, a.shape)
    return Image.fromarray(np.clip(a + noise, 0, 255).astype(np.uint8))


def handwriting_for(r, texts):
    fonts = [f for f in HANDWRITING + EXTRA_HANDWRITING if Path(f).is_file() and all(covers(f, t) for t in texts)]
    return r.choice(fonts) if fonts else None


# More handwriting-style fonts for the notes when Debian's packages are installed
# (fonts-breip, fonts-humor-sans, fonts-rufscript: scripts/setup.sh --test).
EXTRA_HANDWRITING = [
    "/usr/share/fonts/truetype/breip/Breip.ttf",
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "/usr/share/fonts/opentype/rufscript/Rufscript010.otf",
    "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf",
]


def make_notes(args, backgrounds, truth, rows):
    """The `--notes` photos (see the module's doc), appended to `truth` and `rows`."""
    r = random.Random(args.seed * 1000 + 17)
    known = gazetteer()
    countries = list(NOTE_COUNTRIES)
    for i in range(args.notes):
        big = i % 4 == 3
        size = (4000, 3000) if big else (1600, 1200)
        k = size[1] / 1200
        photo = Image.open(r.choice(backgrounds)).convert("RGB").resize(size, Image.BICUBIC)
        photo = noisy(photo, r, r.uniform(2.0, 5.0)).convert("RGBA")
        lang = r.choice(TAG_LANGS)
        ordinary = LANGS[lang][5]
        tag = [r.choice(ordinary), r.choice(ordinary + NUMERIC[1:])]
        tag_font = font_path(r.choice(TYPED["Latin"]))
        tag_card, _ = render([(None, t) for t in tag], tag_font, int(r.randint(30, 40) * k),
                             False, r.choice(PAPERS), (30, 30, 30))
        kind = ["pii", "pii", "clean"][i % 3]
        country = countries[i % len(countries)]
        # Where the note goes: the upper or lower half, the tag in the other.
        top = r.random() < 0.5
        half = (size[0], size[1] // 2)
        condition = "rotated" if r.random() < 0.7 else "clean"

        def put(card, upper, fill):
            to_half = placement(r, half, card.size, condition, fill=fill, angles=(2, 9), jitter=(0.05, 0.05))
            shift = np.array([[1, 0, 0], [0, 1, 0 if upper else size[1] // 2], [0, 0, 1]], dtype=float)
            return shift @ to_half

        to_tag = put(tag_card, not top, (0.5, 0.8))
        photo.alpha_composite(warp(tag_card, size, to_tag))
        pii, style = [], "typed"
        if kind == "pii" or i % 6 == 2:
            fake = Faker(r.choice(NOTE_COUNTRIES[country]))
            fake.seed_instance(r.randrange(1 << 30))
            if kind == "pii":
                items = [("person_name", note_name(r, country, known, unseen=i % 2 == 1)),
                         ("phone", phone(r, country, "intl" if r.random() < 0.25 else "national"))]
                if r.random() < 0.4:
                    items.append(("email", email(r, fake)))
                elif r.random() < 0.3:
                    items.append(("address", fake.street_address().split("\n")[0]))
                r.shuffle(items)
            else:
                items = [(None, r.choice(OFFERS)), (None, r.choice(ordinary))]
            texts = [v for _, v in items]
            hand = handwriting_for(r, texts) if r.random() < 0.8 or kind != "pii" else None
            style = "handwriting" if hand else "typed"
            path = hand or font_path(r.choice(TYPED["Latin"]))
            note_size = int((r.randint(40, 54) if hand else r.randint(32, 40)) * k)
            card, boxes = render([(None, v) for _, v in items], path, note_size, False, r.choice(PAPERS),
                                 r.choice(INKS))
            to_note = put(card, top, (0.6, 0.85))
            photo.alpha_composite(warp(card, size, to_note))
            pii = [{"kind": kd, "text": v, "leading": None, "quad": quad(to_note, vb)}
                   for (kd, v), (_, vb) in zip(items, boxes) if kd]
        name = f"{i:03d}_note.jpg"
        photo.convert("RGB").save(args.out / "images" / name, quality=90)
        truth.append({"file": name, "twin": None, "lang": lang, "hint": "", "country": country, "style": style,
                      "condition": condition, "group": "notes", "size": f"{size[0]}x{size[1]}", "pii": pii})
        rows.append({"obs_uid": name[:-4], "label": "pii" if pii else "clean", "uri": f"images/{name}",
                     "lang": "", "country": ""})


def main():
    args, r, backgrounds = start(__doc__, seed=11, per_language=11,
                                 more=lambda ap: ap.add_argument("--notes", type=int, default=48))
    truth, rows, k = [], [], 0
    for li, (lang, (country, locale, hint, script, _, ordinary)) in enumerate(LANGS.items()):
        fake = Faker(locale)
        fake.seed_instance(args.seed * 100 + li)
        for i in range(args.per_language):
            condition = CONDITIONS[i % len(CONDITIONS)]
            style = "handwriting" if i % 3 == 2 and script == "Latin" and lang != "vie" else "typed"
            planted = [pii_line(r, lang, item, fake) for item in PLAN[i % len(PLAN)]]
            shop = r.choice(ordinary)
            plain = [r.choice(ordinary + NUMERIC) for _ in planted]
            texts = [shop] + [(f"{l}: {v}" if l else v) for _, l, v in planted] + plain
            path, size = note_font(r, lang, style, texts)
            rtl = script == "Arabic"
            bg = r.choice([(250, 250, 245), (255, 246, 190), (245, 245, 245), (225, 240, 255)])
            ink = r.choice([(40, 40, 40), (20, 40, 150), (60, 60, 60)])
            card, boxes = render([(None, shop)] + [(l, v) for _, l, v in planted], path, size, rtl, bg, ink)
            twin, _ = render([(None, shop)] + [(None, t) for t in plain], path, size, rtl, bg, ink, *card.size)
            photo = Image.open(r.choice(backgrounds)).convert("RGB").resize((960, 720), Image.BICUBIC).convert("RGBA")
            # Larger, less turned and less skewed than the OCR set's labels: notes, not price tags.
            to_photo = placement(r, photo.size, card.size, condition, fill=(0.85, 0.6), angles=(4, 12),
                                 jitter=(0.08, 0.1))
            name = f"{k:03d}"
            with_pii = paste(photo, card, to_photo)
            pii = [{"kind": kind, "text": v, "leading": l, "quad": quad(to_photo, vb)}
                   for (kind, l, v), (_, vb) in zip(planted, boxes[1:])]
            clean = paste(photo, twin, to_photo)
            if i % 4 == 1:
                pii.append(qr_sticker(r, with_pii, planted, to_photo, card.size))
            if i % 4 == 3:
                # A loyalty card's barcode; the clean twin has a product's barcode in its place.
                member, product = (render_barcode(c) for c in loyalty_and_product_codes(r))
                size = (max(member[1].width, product[1].width), max(member[1].height, product[1].height))
                spot = free_spot(r, with_pii.size, size, to_photo, card.size)
                pii.append(paste_barcode(with_pii, member, spot))
                paste_barcode(clean, product, spot)
            with_pii.save(args.out / "images" / f"{name}_pii.jpg", quality=90)
            clean.save(args.out / "images" / f"{name}_clean.jpg", quality=90)
            for variant, items in (("pii", pii), ("clean", [])):
                file = f"{name}_{variant}.jpg"
                truth.append({"file": file, "twin": f"{name}_{'clean' if variant == 'pii' else 'pii'}.jpg", "lang": lang,
                              "hint": hint, "country": country, "style": style, "condition": condition, "pii": items})
                rows.append({"obs_uid": f"{name}_{variant}", "label": variant, "uri": f"images/{file}", "lang": hint,
                             "country": country})
            k += 1
    make_notes(args, backgrounds, truth, rows)
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    with open(args.out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["obs_uid", "label", "uri", "lang", "country"])
        w.writeheader()
        w.writerows(rows)
    n = sum(len(t["pii"]) for t in truth)
    print(f"{2 * k} photos ({k} with personal data, {k} without) and {args.notes} notes, {n} planted values"
          f" -> {args.out}")


if __name__ == "__main__":
    main()
