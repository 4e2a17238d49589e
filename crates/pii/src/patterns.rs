//! Personal data recognised by its form and, where it has one, its check digits.
//!
//! - e-mail addresses;
//! - phone numbers: digit runs that libphonenumber's metadata (crate `phonenumber`) accepts as a
//!   valid number of a kind a person has, international (`+…`) or national — for the photo's
//!   country, or, when it is not known or the number is not one of its own, for any of the
//!   survey's countries ([`Regions`]); a number written without its country is never taken for a
//!   phone when it has the shape of something else a price tag holds: a price (`1.250.000`), a
//!   date, a time, a product's barcode digits, a code after `SKU`/`No.`/`Ref`, an amount after a
//!   currency or before a unit;
//! - what OCR makes of a value it misread: a number written as an international one (`+` and three
//!   or more groups of digits) whatever its country code reads as; an e-mail address whose domain
//!   lost its dot; a whole date of a year long past (a date of birth); and, for the crate root to
//!   use on handwritten lines only, digits with letters recognisers put for some of them;
//! - payment card numbers: 15–19 digits passing the Luhn check (13-digit runs are left out: most
//!   are EAN-13 barcodes printed under the price);
//! - IBANs: country code, check digits, 11–30 letters or digits, ISO 7064 mod 97 = 1;
//! - national identity numbers: Brazil's CPF (11 digits, two check digits), India's Aadhaar
//!   (12 digits grouped 4-4-4, Verhoeff check digit, not starting 0 or 1), Indonesia's NIK
//!   (16 digits: province code 11–94, a birth date with women's day + 40).
//!
//! Each hit is a byte range of the line's text and the kind it is. The check-digit algorithms are
//! written here (a few lines each, from their standards) rather than taken from four small crates
//! of uneven upkeep; phone numbers, which need the per-country metadata, use `phonenumber`.

use std::sync::LazyLock;

use regex::Regex;

use crate::Kind;

/// A recognised span: byte range in the text, kind, what proved it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub evidence: &'static str,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").expect("regex")
});
/// An address OCR read without the dot of its domain (`ismpalsti47@gmilcom`): letters or digits
/// on both sides of an `@` inside one word. A price tag writes `@` between spaces ("3 @ 2.50"),
/// a social handle with nothing before it.
static EMAIL_MISREAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+\-]*[A-Za-z0-9]{2}@[A-Za-z][A-Za-z0-9\-.]{2,}").expect("regex"));
/// A whole date with a four-digit year: day-month-year or year-month-day, with `/`, `.` or `-`.
static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})|(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2}))$").expect("regex")
});

/// The latest year a written date is taken for a date of birth without a leading word. Dates on
/// price tags and packs (best before, packed on, offer ends) are of the years photos are taken
/// in; a collector or customer whose birth date is on a note is an adult. A constant rather than
/// today's year less a margin, so that a run gives the same findings every year.
pub const BIRTH_YEAR_LATEST: u32 = 2010;
/// Digit runs with the separators people write numbers with.
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\+?\(?\d[\d ().\-/]{5,}\d").expect("regex"));
static IBAN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b").expect("regex"));

/// The countries whose national phone numbers are recognised without a country code when a
/// photo's own country is not known (or the number is not one of its own).
#[derive(Debug, Clone, PartialEq)]
pub struct Regions(Vec<phonenumber::country::Id>);

/// The survey's countries, by default: where the price-survey collections crowdsift serves come
/// from (East and West Africa, Latin America, France, South and South-East Asia, Saudi Arabia).
pub const SURVEY_REGIONS: [&str; 17] =
    ["KE", "TZ", "UG", "NG", "GH", "SN", "FR", "MX", "CO", "BR", "ID", "VN", "PH", "IN", "PK", "BD", "SA"];

impl Regions {
    /// ISO 3166 alpha-2 codes; an unknown code is an error naming it.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Regions, String> {
        codes
            .iter()
            .map(|c| {
                let c = c.as_ref().trim().to_ascii_uppercase();
                c.parse::<phonenumber::country::Id>().map_err(|_| format!("unknown country code {c:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Regions)
    }

    pub fn survey() -> Regions {
        Regions::parse(&SURVEY_REGIONS).unwrap_or(Regions(Vec::new()))
    }

    pub fn codes(&self) -> Vec<String> {
        self.0.iter().map(|r| format!("{r:?}")).collect()
    }
}

impl Default for Regions {
    fn default() -> Self {
        Regions::survey()
    }
}

/// Every pattern hit in `text`; `country` (ISO 3166 alpha-2) lets national phone numbers parse,
/// and `regions` are tried for a national number that is not `country`'s.
/// Digits of other scripts (Arabic-Indic, Bengali, Devanagari, Thai, …) count as digits. On a
/// right-to-left line (`rtl`) OCR may give the groups of a number in visual order, last group
/// first (`7689 995 051` for `051 995 7689`): a number that validates only reversed counts.
pub fn find(text: &str, country: Option<&str>, regions: &Regions, rtl: bool) -> Vec<Hit> {
    let (ascii, back) = ascii_digits(text);
    let mut hits = find_ascii(&ascii, country, regions, rtl);
    for h in &mut hits {
        (h.start, h.end) = (back[h.start], back[h.end]);
    }
    hits
}

/// The digit of a decimal digit character of any of the scripts photos are written in.
fn digit_value(c: char) -> Option<u32> {
    const ZEROS: [u32; 9] = [0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0E50, 0x0ED0, 0x17E0, 0xFF10];
    let u = c as u32;
    ZEROS.iter().find(|&&z| (z..z + 10).contains(&u)).map(|z| u - z)
}

/// `text` with digits of other scripts as ASCII digits, and for every byte offset of the result
/// (and its end) the byte offset in `text`.
fn ascii_digits(text: &str) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut back = Vec::new();
    for (i, c) in text.char_indices() {
        let c = digit_value(c).and_then(|d| char::from_digit(d, 10)).unwrap_or(c);
        back.extend(std::iter::repeat_n(i, c.len_utf8()));
        out.push(c);
    }
    back.push(text.len());
    (out, back)
}

fn find_ascii(text: &str, country: Option<&str>, regions: &Regions, rtl: bool) -> Vec<Hit> {
    let mut hits: Vec<Hit> = EMAIL
        .find_iter(text)
        .map(|m| Hit { start: m.start(), end: m.end(), kind: Kind::Email, evidence: "e-mail address" })
        .collect();
    for m in EMAIL_MISREAD.find_iter(text) {
        if !hits.iter().any(|h| h.start < m.end() && m.start() < h.end) {
            let evidence = "e-mail address (its domain misread)";
            hits.push(Hit { start: m.start(), end: m.end(), kind: Kind::Email, evidence });
        }
    }
    for m in IBAN.find_iter(text) {
        if iban_valid(m.as_str()) {
            hits.push(Hit { start: m.start(), end: m.end(), kind: Kind::Iban, evidence: "IBAN (mod 97)" });
        }
    }
    // A loyalty card's or an account's number, as printed under its barcode ("MEMBER 73273941"):
    // it names one customer, whose purchases it links.
    for c in MEMBER_NUMBER.captures_iter(text) {
        if let Some(m) = c.get(1) {
            hits.push(Hit { start: m.start(), end: m.end(), kind: Kind::IdNumber, evidence: MEMBER_EVIDENCE });
        }
    }
    for m in DIGITS.find_iter(text) {
        if hits.iter().any(|h| h.start < m.end() && m.start() < h.end) {
            continue;
        }
        let s = m.as_str();
        let reversed = || s.split(' ').rev().collect::<Vec<_>>().join(" ");
        let found = classify(s, country).or_else(|| {
            (rtl && s.contains(' ')).then(reversed).and_then(|r| classify(&r, country)).map(|(kind, _)| {
                let ev = match kind {
                    Kind::IdNumber => "national ID (groups read right to left)",
                    Kind::CardNumber => "card number (Luhn; groups read right to left)",
                    _ => "phone number (libphonenumber; groups read right to left)",
                };
                (kind, ev)
            })
        });
        let found = found
            .or_else(|| bare_phone(text, m.start(), m.end(), country, regions).map(|ev| (Kind::Phone, ev)))
            .or_else(|| international_shaped(s).then_some((Kind::Phone, INTERNATIONAL)))
            .or_else(|| old_date(s.trim()).then_some((Kind::DateOfBirth, OLD_DATE)));
        if let Some((kind, evidence)) = found {
            hits.push(Hit { start: m.start(), end: m.end(), kind, evidence });
        }
    }
    hits.sort_by_key(|h| h.start);
    hits
}

const INTERNATIONAL: &str = "written as an international phone number (+ and groups of digits), its code misread";
const OLD_DATE: &str = "a whole date of a year long past (a date of birth)";

/// Whether `s` is written as people write an international number — `+`, then 9 to 15 digits in
/// three or more groups of one to four — whatever libphonenumber says of it: OCR misreads a
/// handwritten digit of the country code (`+733 23 157 3488` for `+233 …`), and nothing on a
/// price tag starts with `+` and runs on in groups.
pub fn international_shaped(s: &str) -> bool {
    let s = s.trim();
    let Some(rest) = s.strip_prefix('+') else { return false };
    let groups: Vec<&str> = rest.split([' ', '-', '.', '(', ')']).filter(|g| !g.is_empty()).collect();
    let digits: usize = groups.iter().map(|g| g.len()).sum();
    groups.len() >= 3
        && (9..=15).contains(&digits)
        && groups.iter().all(|g| g.len() <= 4 && g.chars().all(|c| c.is_ascii_digit()))
}

/// Whether `s` is a whole date (day, month and four-digit year, or year, month and day) of a year
/// from 1900 to [`BIRTH_YEAR_LATEST`].
pub fn old_date(s: &str) -> bool {
    let Some(c) = FULL_DATE.captures(s) else { return false };
    let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (day, month, year) = match (n(1), n(2), n(3)) {
        (Some(d), Some(m), Some(y)) => (d, m, y),
        _ => match (n(6), n(5), n(4)) {
            (Some(d), Some(m), Some(y)) => (d, m, y),
            _ => return false,
        },
    };
    // Day and month either way round: a US-style `11/25/1971` is a date too.
    let valid = |d: u32, m: u32| (1..=31).contains(&d) && (1..=12).contains(&m);
    (1900..=BIRTH_YEAR_LATEST).contains(&year) && (valid(day, month) || valid(month, day))
}

/// Letters handwriting recognisers put for digits (`0557 bb1 50b0` for `0905 144 2550` is read
/// with `b` for 6; `|44` for 144; `7C` for 70).
fn confused_digit(c: char) -> Option<char> {
    Some(match c {
        'O' | 'o' | 'D' | 'Q' | 'C' | 'c' => '0',
        'I' | 'l' | '|' | 'i' | '!' => '1',
        'Z' | 'z' => '2',
        'S' | 's' => '5',
        'b' | 'G' => '6',
        'T' => '7',
        'B' => '8',
        'g' | 'q' => '9',
        _ => return None,
    })
}

/// A phone number in handwriting as OCR misread it: a run of words that are digits, or digits with
/// a few letters recognisers put for digits, holding 9 to 15 digits in groups of at most seven,
/// two in three of its characters true digits, and none of the shapes of a price tag's numbers.
/// Only for lines known to be handwritten (see the crate root): on print, such a run is a code.
/// Returns the run's byte range.
pub fn misread_phone(text: &str) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut run: Option<(usize, usize, String, usize)> = None; // start, end, digits as read, true digits
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for w in text.split(' ') {
        words.push((offset, w));
        offset += w.len() + 1;
    }
    let accept = |r: &(usize, usize, String, usize)| {
        let (start, end, mapped, real) = r;
        let n = mapped.chars().filter(char::is_ascii_digit).count();
        let groups_ok = mapped.split(|c: char| !c.is_ascii_digit()).all(|g| g.len() <= 7);
        (9..=15).contains(&n)
            && 3 * real >= 2 * n
            && groups_ok
            && benign_shape(mapped).is_none()
            && explain_number(text, *start, *end).is_none()
    };
    for (at, w) in words.into_iter().chain(std::iter::once((text.len(), ""))) {
        let core = w.trim_matches(|c: char| "()-.,".contains(c));
        let mapped: Option<String> = (!core.is_empty())
            .then(|| {
                core.char_indices()
                    .map(|(i, c)| match c {
                        '0'..='9' => Some(c),
                        '+' if i == 0 => Some('+'),
                        '-' | '.' => Some('-'),
                        _ => confused_digit(c),
                    })
                    .collect()
            })
            .flatten();
        match mapped {
            Some(m) if m.chars().any(|c| c.is_ascii_digit()) => {
                let real = core.chars().filter(char::is_ascii_digit).count();
                let lead = at + w.find(core).unwrap_or(0);
                let end = lead + core.len();
                run = Some(match run.take() {
                    Some((s, _, acc, r)) => (s, end, format!("{acc} {m}"), r + real),
                    None => (lead, end, m, real),
                });
            }
            _ => {
                if let Some(r) = run.take()
                    && best.is_none()
                    && accept(&r)
                {
                    best = Some((r.0, r.1));
                }
            }
        }
    }
    best
}

/// A national phone number written without its country code and not valid for the photo's own
/// country (or none is known): valid, of a kind a person has, for at least one of `regions`, and
/// written as people write phone numbers rather than as a price tag writes anything else.
fn bare_phone(text: &str, start: usize, end: usize, country: Option<&str>, regions: &Regions) -> Option<&'static str> {
    let s = text[start..end].trim();
    if s.starts_with('+') || s.starts_with("00") || !phone_shaped(s) || explain_number(text, start, end).is_some() {
        return None;
    }
    // Digits in one run without the trunk prefix most survey countries dial at home (0) are a code
    // or a misread barcode more often than a phone number ("89971059034", "40063831").
    if !s.contains(|c: char| !c.is_ascii_digit()) && !s.starts_with('0') {
        return None;
    }
    let own = country.and_then(|c| c.to_ascii_uppercase().parse::<phonenumber::country::Id>().ok());
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let accepted = regions.0.iter().filter(|r| Some(**r) != own && personal_valid(Some(**r), &digits)).count();
    match accepted {
        0 => None,
        1 => Some("phone number without country code, valid in one survey country (libphonenumber)"),
        _ => Some("phone number without country code, valid in several survey countries (libphonenumber)"),
    }
}

/// Whether a digit run is grouped as phone numbers are written: 8 to 13 digits, in groups joined
/// by single spaces, hyphens, dots or brackets, and none of the shapes of [`benign_shape`].
pub fn phone_shaped(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (8..=13).contains(&digits) && !s.contains("  ") && benign_shape(s).is_none()
}

/// What a run of digits is by its shape alone, when that says it is not personal: a date
/// (`12/05/2026`, `12.05.2026`), a number with thousands separators (`1.250.000`), a fraction or
/// anything with `/`, a barcode's digits (1-6-6 or 1-5-5-1 groups, or 12–13 digits with a valid
/// GS1 check digit).
pub fn benign_shape(s: &str) -> Option<&'static str> {
    let groups: Vec<&str> = s.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let digits: String = groups.concat();
    if s.contains('/') {
        return Some("a date or a fraction");
    }
    if matches!(lens.as_slice(), [1 | 2, 1 | 2, 2 | 4] | [4, 1 | 2, 1 | 2]) && !s.contains(' ') {
        return Some("a date");
    }
    if lens.len() >= 2 && lens[0] <= 3 && lens[1..].iter().all(|&l| l == 3) && !s.contains(' ') {
        return Some("an amount with thousands separators");
    }
    // A barcode's digits: the EAN-13/UPC-A groupings; 12–13 digits in two or three long groups,
    // as OCR reads them with a space lost or a digit missed (`8901030 865278`, `101030 865278`:
    // phone numbers come in groups of two to four, seven digits at most in a group); or 12–13
    // digits in one run with a valid GS1 check digit.
    let long_groups = lens.len() <= 3 && lens.iter().all(|l| *l == 1 || *l >= 5);
    let split_code = long_groups && lens.iter().filter(|l| **l >= 5).count() >= 2 && (12..=13).contains(&digits.len());
    if matches!(lens.as_slice(), [1, 6, 6] | [1, 5, 5, 1]) || split_code || long_groups && gtin_valid(&digits) {
        return Some("a product's barcode digits");
    }
    if TIME_RANGE.is_match(s.trim()) {
        return Some("opening hours");
    }
    None
}

/// The evidence of a number found by [`MEMBER_NUMBER`].
pub const MEMBER_EVIDENCE: &str = "a membership or account number";

/// A number of six digits or more after "member", "account", "loyalty card" and the like (with
/// "no.", "#" or a colon between): not a price ("Member price 3.99" has a decimal point and too
/// few digits).
static MEMBER_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:member(?:ship)?|account|acct|loyalty(?: card)?|client|customer)\s*(?:no\.?|n[º°]|#|number|id)?\s*[:\-]?\s*(\d(?:[ \-]?\d){5,})\b",
    )
    .expect("regex")
});

/// Opening hours: `08.00 - 21.00`, `8:00-20:00`.
static TIME_RANGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,2}[.:h]\d{2}\s*[-–]\s*\d{1,2}[.:h]\d{2}$").expect("regex"));

/// What a number on a price tag is when it is not personal data: an amount after a currency or
/// before a unit, a product code after its label, a time. `None`: nothing explains it.
pub fn explain_number(text: &str, start: usize, end: usize) -> Option<&'static str> {
    let before: String = text[..start].chars().rev().take(12).collect::<String>().chars().rev().collect();
    let after: String = text[end..].chars().take(8).collect();
    let word_before = before.trim_end().rsplit(|c: char| c.is_whitespace()).next().unwrap_or("").to_lowercase();
    let word_after = after
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == '.' || c == ',')
        .next()
        .unwrap_or("")
        .to_lowercase();
    const CURRENCY: [&str; 24] = [
        "$", "€", "£", "₹", "৳", "₦", "₫", "rp", "rp.", "ksh", "tsh", "ush", "r$", "usd", "eur", "inr", "tk", "rs",
        "rs.", "cfa", "fcfa", "ghs", "sar", "php",
    ];
    const UNITS: [&str; 16] =
        ["g", "kg", "mg", "ml", "l", "cl", "lb", "oz", "pcs", "x", "đ", "€", "ريال", "টাকা", "रुपये", "baht"];
    const CODES: [&str; 24] = [
        "sku", "no", "no.", "nº", "n°", "#", "ref", "ref.", "art", "art.", "lot", "code", "plu", "batch", "member",
        "card", "account", "invoice", "receipt", "order", "ticket", "serial", "item", "ean",
    ];
    if CURRENCY.iter().any(|c| word_before == *c || word_before.ends_with(c) && c.len() > 1) {
        return Some("an amount after its currency");
    }
    if UNITS.contains(&word_after.as_str()) {
        return Some("an amount before its unit");
    }
    if CODES.contains(&word_before.trim_end_matches(':')) {
        return Some("a product code");
    }
    None
}

/// Whether a number on `text` is an amount, a product code or a time ([`explain_number`]): a
/// price line.
pub fn has_amount(text: &str) -> bool {
    static NUM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d[\d.,]*").expect("regex"));
    NUM.find_iter(text).any(|m| explain_number(text, m.start(), m.end()).is_some())
}

/// The GS1 check digit of a GTIN-12 (UPC-A) or GTIN-13 (EAN-13).
pub fn gtin_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if !matches!(d.len(), 12 | 13) {
        return false;
    }
    // From the right, the check digit has weight 1, the next 3, then 1, …
    d.iter().rev().enumerate().map(|(i, v)| if i % 2 == 1 { 3 * v } else { *v }).sum::<u32>() % 10 == 0
}

/// What a run of digits is, if anything: a national ID, a card, a phone number (in that order).
/// Thirteen digits in one run with a valid GS1 check digit are a product's EAN-13 (printed under
/// its barcode on packs and shelf labels), not a phone number.
fn classify(s: &str, country: Option<&str>) -> Option<(Kind, &'static str)> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 13 && s.trim().len() == 13 && ean13_valid(&digits) {
        return None;
    }
    if let Some(ev) = national_id(s, &digits) {
        Some((Kind::IdNumber, ev))
    } else if (15..=19).contains(&digits.len()) && luhn(&digits) {
        Some((Kind::CardNumber, "card number (Luhn)"))
    } else if phone_valid(s, country) {
        Some((Kind::Phone, "phone number (libphonenumber)"))
    } else {
        None
    }
}

/// Whether `s` is a valid phone number of a kind a person has: international when it starts
/// with `+` or `00`, else national for `country`.
pub fn phone_valid(s: &str, country: Option<&str>) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return false;
    }
    let s = s.trim();
    let intl = s.starts_with('+') || s.starts_with("00");
    let region = country.and_then(|c| c.to_ascii_uppercase().parse::<phonenumber::country::Id>().ok());
    if !intl && region.is_none() {
        return false;
    }
    // Digits only: the crate's parser rejects some ways people group numbers (`+551190307-5736`).
    let number = match digits.strip_prefix("00").filter(|_| s.starts_with("00")) {
        Some(rest) => format!("+{rest}"),
        None if intl => format!("+{digits}"),
        None => digits,
    };
    personal_valid(if intl { None } else { region }, &number)
}

/// Whether `number` (digits, `+` first when international) parses for `region` as a valid number
/// of a kind a person has.
fn personal_valid(region: Option<phonenumber::country::Id>, number: &str) -> bool {
    phonenumber::parse(region, number).is_ok_and(|n| {
        use phonenumber::Type;
        // Numbers a person has; freephone, premium, shared-cost, company-wide (UAN), emergency and
        // voicemail numbers belong to businesses and services (Brazil's 4004-xxxx, 0800 lines).
        let personal = matches!(
            n.number_type(&phonenumber::metadata::DATABASE),
            Type::FixedLine | Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Voip | Type::Pager
        );
        personal && phonenumber::is_valid(&n)
    })
}

/// The GS1 check digit of an EAN-13: weights 1 and 3 alternating, total a multiple of 10.
pub fn ean13_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    d.len() == 13 && d.iter().enumerate().map(|(i, v)| if i % 2 == 1 { 3 * v } else { *v }).sum::<u32>() % 10 == 0
}

/// The Luhn check of a payment card number.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(d) = c.to_digit(10) else { return false };
        sum += if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d };
    }
    sum % 10 == 0
}

/// ISO 13616 IBAN check: moved country code and check digits, letters as 10–35, mod 97 = 1.
pub fn iban_valid(s: &str) -> bool {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    let mut rem: u64 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = c.to_digit(36).map(u64::from);
        let Some(v) = v else { return false };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// A national identity number by its format and check digits (see the module's list).
fn national_id(s: &str, digits: &str) -> Option<&'static str> {
    let groups: Vec<&str> = s.split([' ', '.', '-', '/']).filter(|g| !g.is_empty()).collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if digits.len() == 11 && (lens == [3, 3, 3, 2] || lens == [11]) && cpf_valid(digits) {
        return Some("Brazilian CPF (check digits)");
    }
    if digits.len() == 12 && lens == [4, 4, 4] && !digits.starts_with(['0', '1']) && verhoeff(digits) {
        return Some("Indian Aadhaar (Verhoeff)");
    }
    if digits.len() == 16 && lens == [16] && nik_plausible(digits) {
        return Some("Indonesian NIK (region and birth date)");
    }
    None
}

/// Brazil's CPF: two mod-11 check digits; numbers of one repeated digit are invalid.
pub fn cpf_valid(d: &str) -> bool {
    let v: Vec<u32> = d.chars().filter_map(|c| c.to_digit(10)).collect();
    if v.len() != 11 || v.iter().all(|&x| x == v[0]) {
        return false;
    }
    let check = |n: usize| {
        let s: u32 = (0..n).map(|i| v[i] * (n as u32 + 1 - i as u32)).sum();
        let r = (s * 10) % 11;
        if r == 10 { 0 } else { r }
    };
    check(9) == v[9] && check(10) == v[10]
}

/// The Verhoeff check (dihedral group D5), as Aadhaar numbers use it.
pub fn verhoeff(d: &str) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, ch) in d.chars().rev().enumerate() {
        let Some(x) = ch.to_digit(10) else { return false };
        c = MUL[c as usize][PERM[i % 8][x as usize] as usize];
    }
    c == 0
}

/// Indonesia's NIK: 2-digit province (11–94), regency, district, then DDMMYY (day + 40 for
/// women), then a 4-digit serial other than 0000.
fn nik_plausible(d: &str) -> bool {
    let n = |r: std::ops::Range<usize>| d.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(prov), Some(day), Some(month), Some(serial)) = (n(0..2), n(6..8), n(8..10), n(12..16)) else {
        return false;
    };
    let day = if day > 40 { day - 40 } else { day };
    (11..=94).contains(&prov) && (1..=31).contains(&day) && (1..=12).contains(&month) && serial > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, country: Option<&str>) -> Vec<(Kind, String)> {
        find(text, country, &Regions::survey(), false)
            .into_iter()
            .map(|h| (h.kind, text[h.start..h.end].to_owned()))
            .collect()
    }

    #[test]
    fn emails_phones_cards_and_ibans_are_found_and_validated() {
        assert_eq!(
            kinds("write to anna.schmidt@example.com today", None),
            [(Kind::Email, "anna.schmidt@example.com".into())]
        );
        assert_eq!(kinds("Tel +49 170 1234567", None), [(Kind::Phone, "+49 170 1234567".into())]);
        // National numbers need the country: Kenya 0712 345678, Bangladesh 01712-345678.
        assert_eq!(kinds("0712 345678", Some("KE")), [(Kind::Phone, "0712 345678".into())]);
        assert!(find("0712 345678", None, &Regions(Vec::new()), false).is_empty());
        assert_eq!(kinds("01712-345678", Some("bd")), [(Kind::Phone, "01712-345678".into())]);
        // Prices, weights and dates are not phone numbers.
        assert!(
            kinds("Rp 15.000 / 250 g  12/05/2026", Some("ID")).is_empty(),
            "{:?}",
            kinds("Rp 15.000 / 250 g  12/05/2026", Some("ID"))
        );
        assert_eq!(kinds("card 4111 1111 1111 1111", None), [(Kind::CardNumber, "4111 1111 1111 1111".into())]);
        assert!(kinds("card 4111 1111 1111 1112", None).iter().all(|k| k.0 != Kind::CardNumber));
        assert_eq!(
            kinds("IBAN DE89 3704 0044 0532 0130 00", None),
            [(Kind::Iban, "DE89 3704 0044 0532 0130 00".into())]
        );
        assert!(kinds("DE89 3704 0044 0532 0130 01", None).is_empty());
    }

    #[test]
    fn membership_numbers_are_personal_and_member_prices_are_not() {
        assert_eq!(kinds("MEMBER 73273941", None), [(Kind::IdNumber, "73273941".into())]);
        assert_eq!(kinds("Account no. 0012-345-678", None), [(Kind::IdNumber, "0012-345-678".into())]);
        assert_eq!(kinds("Loyalty card: 4006 3813", None), [(Kind::IdNumber, "4006 3813".into())]);
        for s in ["Member price 3.99", "MEMBER 12345", "members save 20%", "Customer service 8am-6pm"] {
            assert!(kinds(s, None).is_empty(), "{s}: {:?}", kinds(s, None));
        }
    }

    #[test]
    fn bare_national_numbers_are_phones_in_some_survey_country_and_price_tag_numbers_are_not() {
        // Nigeria, Ghana, Kenya, Colombia, Brazil, Indonesia: written without a country code,
        // on photos whose country is not known.
        for s in ["0806 446 5620", "023 172 4017", "0715 690817", "321 6310202", "(21) 98877-6655", "0815-138-305"] {
            let h = find(s, None, &Regions::survey(), false);
            assert_eq!(h.len(), 1, "{s}: {h:?}");
            assert_eq!((h[0].kind, h[0].start, h[0].end), (Kind::Phone, 0, s.len()), "{s}");
            assert!(h[0].evidence.contains("without country code"), "{:?}", h[0]);
        }
        // A Tanzanian number on a photo said to be from Kenya is still a phone number.
        assert_eq!(kinds("0621 095 328", Some("KE")).len(), 1);
        // Amounts, codes, dates and barcode digits of any shape are not.
        for s in [
            "Total Rp 1.250.000",
            "Harga Rp 12500000",
            "KSh 12 500 000",
            "No. 08064465",
            "SKU 0806446562",
            "8 901030 865278",
            "4006381333931",
            "Caduca 12/05/2026",
            "12.05.2026",
            "89971059034",
            "2 x 5000000 g",
            "Buka 08.00 - 21.00",
            "8901030 865278",
            "101030 865278",
        ] {
            assert!(kinds(s, None).is_empty(), "{s}: {:?}", kinds(s, None));
        }
        assert_eq!(Regions::parse(&["ke", "br"]).unwrap().codes(), ["KE", "BR"]);
        assert!(Regions::parse(&["XX"]).is_err());
        assert_eq!(Regions::survey().codes().len(), SURVEY_REGIONS.len());
    }

    /// What OCR makes of handwritten and small print: a country code's digit misread, an e-mail's
    /// dot lost, a date of birth whose leading word was garbled.
    #[test]
    fn misread_values_are_found_by_their_shape() {
        // `+733` is no country code; the number is written as an international one all the same.
        assert_eq!(kinds("+733 23 157 3488", None), [(Kind::Phone, "+733 23 157 3488".into())]);
        assert!(kinds("+ 2 for 1", None).is_empty() && kinds("+250 g free", None).is_empty());
        assert!(!international_shaped("+12 500") && !international_shaped("+1250000000"));
        assert_eq!(kinds("Emi: ismpalsti47@gmilcom", None), [(Kind::Email, "ismpalsti47@gmilcom".into())]);
        assert!(kinds("3 @ 2.50", None).is_empty() && kinds("follow @freshmart", None).is_empty());
        // Whole dates of years long past, either order, are dates of birth; this year's are not.
        for (s, v) in [("f: 25/11/1971", "25/11/1971"), ("1994-06-28", "1994-06-28"), ("٢١-٠٤-١٩٥٠", "٢١-٠٤-١٩٥٠")]
        {
            assert_eq!(kinds(s, None), [(Kind::DateOfBirth, v.into())], "{s}");
        }
        for s in ["Caduca 12/05/2026", "Exp 2027-01-31", "Since 1985", "31/13/1970", "12/05/1850"] {
            assert!(kinds(s, None).is_empty(), "{s}: {:?}", kinds(s, None));
        }
    }

    #[test]
    fn handwritten_digits_misread_as_letters_make_a_phone_number() {
        let run = |s: &str| misread_phone(s).map(|(a, b)| s[a..b].to_owned());
        assert_eq!(run("0557 bb1 50b0").as_deref(), Some("0557 bb1 50b0"));
        assert_eq!(run("+UU 7C |44 4C 87").as_deref(), Some("7C |44 4C 87"));
        assert_eq!(run("4255621 035 323").as_deref(), Some("4255621 035 323"));
        // Too few digits, too many letters, or a price tag's numbers: not a phone.
        for s in [
            "211C 1138",
            "Sukari kilo 1 Sh 3,200",
            "Total KSh 12 500 000",
            "SOS BOB",
            "8 901030 865278",
            "Idadi 2 × 1,500",
        ] {
            assert_eq!(run(s), None, "{s}");
        }
    }

    #[test]
    fn digits_of_other_scripts_are_digits() {
        // Bangladesh 01712-345678 in Bengali digits, Saudi 051 234 5678 in Arabic-Indic ones.
        let bengali = "ফোন: ০১৭১২-৩৪৫৬৭৮";
        assert_eq!(kinds(bengali, Some("BD")), [(Kind::Phone, "০১৭১২-৩৪৫৬৭৮".into())]);
        assert_eq!(kinds("هاتف ٠٥١ ٢٣٤ ٥٦٧٨", Some("SA")), [(Kind::Phone, "٠٥١ ٢٣٤ ٥٦٧٨".into())]);
        assert_eq!(digit_value('९'), Some(9));
        // Groups in visual order on a right-to-left line.
        let h = find("7689 995 051 :", Some("SA"), &Regions::survey(), true);
        assert_eq!(h.iter().map(|h| (h.kind, h.start, h.end)).collect::<Vec<_>>(), [(Kind::Phone, 0, 12)]);
        assert!(find("7689 995 051 :", Some("SA"), &Regions(Vec::new()), false).is_empty());
        // Brazil's mobile numbers with the ninth digit, written without spaces.
        assert_eq!(kinds("+551190307-5736", None), [(Kind::Phone, "+551190307-5736".into())]);
        assert_eq!(digit_value('a'), None);
    }

    #[test]
    fn national_ids_by_check_digits() {
        assert!(cpf_valid("52998224725") && !cpf_valid("52998224726") && !cpf_valid("11111111111"));
        assert_eq!(kinds("CPF 529.982.247-25", Some("BR")), [(Kind::IdNumber, "529.982.247-25".into())]);
        assert!(verhoeff("2363") && !verhoeff("2364"));
        let check = (0..10).find(|c| verhoeff(&format!("23456789012{c}"))).expect("a check digit");
        let aadhaar = format!("2345 6789 012{check}");
        assert_eq!(kinds(&aadhaar, Some("IN")), [(Kind::IdNumber, aadhaar.clone())]);
        assert!(nik_plausible("3174096112900001") && !nik_plausible("9974096112900001"));
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32") && !iban_valid("GB82 WEST 1234 5698 7654 33"));
        assert!(luhn("378282246310005") && !luhn("378282246310006"));
        // A product's EAN-13 on a shelf label is not a phone number, whatever the country.
        assert!(ean13_valid("4006381333931") && !ean13_valid("4006381333932"));
        assert!(kinds("4006381333931", Some("BR")).is_empty() && kinds("4006381333931", Some("DE")).is_empty());
        // Service numbers are not personal: Brazil's shared-cost 4006-3831, toll-free 0800.
        assert!(phone_valid("(11) 91723-9888", Some("BR")));
        assert!(!phone_valid("4006 3831", Some("BR")) && !phone_valid("0800 123 4567", Some("BR")));
    }
}
