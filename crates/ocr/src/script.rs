//! Writing systems: which script a piece of text is in, which script a Tesseract language pack
//! reads, and which scripts the PP-OCR models can read at all.
//!
//! Hand-written because the ranges we need are a short table; the Unicode script crates carry the
//! whole UCD for the same answer on these blocks.

/// Scripts the PP-OCR v5/v6 character lists cover (Latin with accents, Chinese, Japanese kana).
pub const PPOCR_SCRIPTS: &[&str] = &["Latin", "Han", "Japanese"];

/// Unicode blocks of the scripts a price-survey collection meets (ranges inclusive).
const BLOCKS: &[(u32, u32, &str)] = &[
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00C0, 0x024F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x1780, 0x17FF, "Khmer"),
    (0x19E0, 0x19FF, "Khmer"),
    (0x3040, 0x30FF, "Japanese"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xF900, 0xFAFF, "Han"),
];

/// The script of one character, `None` for digits, punctuation, spaces and symbols.
pub fn of_char(c: char) -> Option<&'static str> {
    let u = c as u32;
    BLOCKS.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&u)).map(|b| b.2)
}

/// The script most letters of `text` are in; `"Common"` when it has no letters (prices, dates).
pub fn of_text(text: &str) -> &'static str {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for s in text.chars().filter_map(of_char) {
        match counts.iter_mut().find(|(n, _)| *n == s) {
            Some((_, k)) => *k += 1,
            None => counts.push((s, 1)),
        }
    }
    // Ties go to the script seen first.
    let best = counts.iter().fold(None::<(&str, usize)>, |b, &(s, k)| match b {
        Some((_, bk)) if bk >= k => b,
        _ => Some((s, k)),
    });
    best.map_or("Common", |b| b.0)
}

/// The script a Tesseract language pack reads (ISO 639-2 codes as Tesseract names them);
/// `None` for packs that are not a language (`osd`, `equ`) or not in the table.
pub fn of_language(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "osd" | "equ" => return None,
        "ben" | "asm" => "Bengali",
        "hin" | "mar" | "nep" | "san" | "bih" => "Devanagari",
        "ara" | "fas" | "urd" | "pus" | "uig" | "snd" => "Arabic",
        "tha" => "Thai",
        "khm" => "Khmer",
        "lao" => "Lao",
        "mya" => "Myanmar",
        "tam" => "Tamil",
        "tel" => "Telugu",
        "kan" => "Kannada",
        "mal" => "Malayalam",
        "guj" => "Gujarati",
        "pan" => "Gurmukhi",
        "ori" => "Oriya",
        "sin" => "Sinhala",
        "bod" | "dzo" => "Tibetan",
        "amh" | "tir" => "Ethiopic",
        "heb" | "yid" => "Hebrew",
        "kat" | "kat_old" => "Georgian",
        "hye" => "Armenian",
        "ell" | "grc" => "Greek",
        "rus" | "ukr" | "bel" | "bul" | "mkd" | "srp" | "kaz" | "kir" | "tgk" | "mon" | "tat" | "bak" | "chv" => {
            "Cyrillic"
        }
        "kor" | "kor_vert" => "Hangul",
        "jpn" | "jpn_vert" => "Japanese",
        "chi_sim" | "chi_tra" | "chi_sim_vert" | "chi_tra_vert" => "Han",
        // Everything else Tesseract ships is written in Latin letters (eng, fra, spa, por, vie,
        // ind, msa, swa, deu, ita, tur, pol, …) — except the script packs, which name themselves.
        l if l.len() == 3 && l.chars().all(|c| c.is_ascii_lowercase()) => "Latin",
        l if l.starts_with("script/") => return None,
        _ => return None,
    })
}

/// Letters of Latin-script languages that a recogniser's character list may lack (PP-OCR v5 and
/// v6 have no Vietnamese tone-marked vowels such as ữ ắ ế ị ố ạ).
pub fn exemplar_letters(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "vie" => "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ",
        _ => return None,
    })
}

/// `text` without accents and tone marks (NFD marks dropped, đ → d): how a recogniser that
/// lacks those letters spells it.
pub fn base_letters(text: &str) -> String {
    // Precomposed Latin letters decompose to a base letter plus marks; the few we meet are
    // mapped through their first letter of the same family rather than a Unicode table.
    text.chars()
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            _ => base_of(c),
        })
        .collect()
}

fn base_of(c: char) -> char {
    const FAMILIES: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậä", 'a'),
        ("èéẻẽẹêềếểễệë", 'e'),
        ("ìíỉĩịîï", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợö", 'o'),
        ("ùúủũụưừứửữựûü", 'u'),
        ("ỳýỷỹỵÿ", 'y'),
        ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÄ", 'A'),
        ("ÈÉẺẼẸÊỀẾỂỄỆË", 'E'),
        ("ÌÍỈĨỊÎÏ", 'I'),
        ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÖ", 'O'),
        ("ÙÚỦŨỤƯỪỨỬỮỰÛÜ", 'U'),
        ("ỲÝỶỸỴ", 'Y'),
    ];
    FAMILIES.iter().find(|(f, _)| f.contains(c)).map_or(c, |f| f.1)
}

/// The PP-OCR model set that finds a script's lines best when the photo's language is known, where
/// it is not the default PP-OCRv5: measured on the generated evaluation set (bench/results/ocr_eval.md),
/// v6 small's detector finds Arabic lines with F1 0.84 against v5's 0.66 and Thai with 0.96 against
/// 0.86, while v5 finds Bengali (0.83 vs 0.76), Devanagari (0.92 vs 0.80) and rotated Latin lines
/// better and is 35 % faster.
pub fn preferred_models(script: &str) -> Option<&'static str> {
    match script {
        "Arabic" | "Thai" => Some("ppocrv6-small"),
        _ => None,
    }
}

/// True when PP-OCR's character list covers `script`.
pub fn ppocr_reads(script: &str) -> bool {
    PPOCR_SCRIPTS.contains(&script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_of_text_and_languages() {
        assert_eq!(of_text("Prix: 2,50 €"), "Latin");
        assert_eq!(of_text("Giá: 25.000đ"), "Latin");
        assert_eq!(of_text("দাম ১২০ টাকা"), "Bengali");
        assert_eq!(of_text("चावल की कीमत"), "Devanagari");
        assert_eq!(of_text("السعر ١٢٠"), "Arabic");
        assert_eq!(of_text("ราคา 120 บาท"), "Thai");
        assert_eq!(of_text("តម្លៃ"), "Khmer");
        assert_eq!(of_text("12.50"), "Common");
        assert_eq!(of_text("价格 Price"), "Latin");
        assert_eq!(of_language("ben"), Some("Bengali"));
        assert_eq!(of_language("vie"), Some("Latin"));
        assert_eq!(of_language("osd"), None);
        assert!(ppocr_reads("Latin") && !ppocr_reads("Bengali"));
        assert_eq!(base_letters("Sữa tươi, Đường"), "Sua tuoi, Duong");
    }
}
