//! Person names without a leading word ("Brian Kirui" alone on a note, "… - Anna Schmidt" after a
//! stall's name): two to four words that look like a name, the first a known given name, from a
//! gazetteer (`data/names.tsv`, built by scripts/make_name_gazetteer.py from Faker's person
//! providers, MIT License: given and family names of twenty locales of the collections' countries).
//!
//! Evidence and score: a known given name followed by a known family name (or a known family name
//! followed by a known given name, as Vietnamese and Chinese names run) scores 0.75; a given name
//! OCR misread by one letter (five letters or more: "Beatrlz") before a known family name 0.7; a
//! known given name followed by capitalised words the gazetteer does not know scores 0.6. Names
//! stand at the end of their line (after its last `-`, `|` or `:`), alone there: a name inside a
//! product line ("Jasmine Rice 5 kg") is not one. A word OCR garbled before a proven name ("Bna
//! Beatriz Souza") is part of it.
//!
//! Names the gazetteer does not know at all are found by where they are written (see
//! [`name_like`] and the note rules in the crate root): alone on a line of a note that also holds a
//! phone number or an e-mail address, or on a handwritten line.

use std::collections::HashSet;

use crate::lexicon::normalise;

const BUILTIN: &str = include_str!("../data/names.tsv");

/// Words that join the parts of a name ("Juliette de la Leclercq", "Faisal bin Ali").
const CONNECTORS: [&str; 20] = [
    "de", "da", "do", "dos", "das", "del", "la", "le", "du", "di", "van", "von", "der", "bin", "binti", "al", "el",
    "بن", "آل", "ابن",
];

#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    given: HashSet<String>,
    family: HashSet<String>,
    /// Every given name with one letter deleted, for names OCR misread by one letter.
    given_deletes: HashSet<String>,
}

/// A name found in a line: byte range, score, what proved it.
#[derive(Debug, Clone, PartialEq)]
pub struct NameHit {
    pub start: usize,
    pub end: usize,
    pub score: f32,
    pub evidence: String,
}

fn key(word: &str) -> String {
    normalise(word).into_iter().collect()
}

/// `word` with each one of its letters left out.
fn deletes(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len()).map(|i| chars.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c).collect()).collect()
}

/// Whether the whole of `text` is written like a person's name: two to four words of letters
/// (with inner `'` `-` `.`), none of them a common word of a price tag, each capitalised or in
/// capitals — or in any case when `any_case` (a handwritten line, whose letter case OCR often
/// gets wrong). Returns the name's byte range.
pub fn name_like(text: &str, any_case: bool) -> Option<(usize, usize)> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || ",;.".contains(c));
    let start = text.find(trimmed)?;
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let parts = words.iter().filter(|w| !CONNECTORS.contains(&w.to_lowercase().as_str())).count();
    if !(2..=4).contains(&parts) || words.len() > 6 {
        return None;
    }
    let ok = words.iter().all(|w| {
        // A comma between the parts ("Juliana, Montenegro") is a pen's or the OCR's.
        let w = w.trim_end_matches([',', ';']);
        let lower = w.to_lowercase();
        if CONNECTORS.contains(&lower.as_str()) {
            return true;
        }
        let letters = w.chars().filter(|c| c.is_alphabetic()).count();
        let shaped = letters >= 2 && w.chars().all(|c| c.is_alphabetic() || "'-’.".contains(c) || is_mark(c));
        // Capitalised, in capitals, or with a capital OCR put inside ("CLosset"): not lower case.
        // Scripts without capitals (Arabic, Bengali, Devanagari) show nothing of the kind: the
        // gazetteer alone finds their names.
        let first = w.chars().next().unwrap_or(' ');
        let cased = (first.is_uppercase() || first.is_lowercase()) && (any_case || !first.is_lowercase());
        shaped && cased && !COMMON.contains(&lower.trim_end_matches('.'))
    });
    ok.then_some((start, start + trimmed.len()))
}

/// Words of price tags, shelf labels and notes that two or three of together are no name
/// ("Fresh Today", "Special Price", "Ask Inside"), in the survey languages.
const COMMON: [&str; 95] = [
    "fresh",
    "today",
    "only",
    "new",
    "stock",
    "special",
    "price",
    "prices",
    "offer",
    "buy",
    "get",
    "half",
    "sold",
    "by",
    "kg",
    "ask",
    "inside",
    "last",
    "pieces",
    "total",
    "promo",
    "sale",
    "free",
    "open",
    "closed",
    "best",
    "before",
    "per",
    "kilo",
    "unit",
    "each",
    "pack",
    "bread",
    "milk",
    "rice",
    "sugar",
    "oil",
    "tea",
    "coffee",
    "salt",
    "flour",
    "beans",
    "eggs",
    "fruit",
    "meat",
    "fish",
    "chicken",
    "beef",
    "brown",
    "white",
    "green",
    "red",
    "black",
    "organic",
    "local",
    "imported",
    "large",
    "small",
    "medium",
    "prix",
    "promotion",
    "frais",
    "nouveau",
    "offre",
    "precio",
    "oferta",
    "nuevo",
    "fresco",
    "preço",
    "promoção",
    "novo",
    "oferta",
    "harga",
    "baru",
    "segar",
    "diskon",
    "bei",
    "mpya",
    "punguzo",
    "giá",
    "mới",
    "khuyến",
    "mãi",
    "market",
    "shop",
    "store",
    "stall",
    "supermarket",
    "mart",
    "discount",
    "quality",
    "premium",
    "pure",
    "natural",
    "original",
];

/// Whether the word is written like a name: letters (with inner `'` or `-`), at least two; in
/// scripts with capitals, a capital first and then small letters (all capitals only when known).
fn looks_like_name(word: &str, known: bool) -> bool {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 2 || !word.chars().all(|c| c.is_alphabetic() || "'-’".contains(c) || is_mark(c)) {
        return false;
    }
    let first = word.chars().next().unwrap_or(' ');
    let cased = first.is_uppercase() || first.is_lowercase();
    if !cased {
        return true; // Arabic, Bengali, Devanagari, Thai: no capitals to look at
    }
    let rest_lower = word.chars().skip(1).filter(|c| c.is_alphabetic()).all(char::is_lowercase);
    first.is_uppercase() && (rest_lower || known)
}

/// Combining marks (Bengali and Devanagari vowel signs, Arabic harakat): part of a letter.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0981..=0x0983 | 0x09BC..=0x09D7 | 0x0E31..=0x0E3A | 0x0E47..=0x0E4E)
}

impl Gazetteer {
    pub fn builtin() -> Self {
        Gazetteer::parse(BUILTIN)
    }

    fn parse(text: &str) -> Self {
        let mut g = Gazetteer::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            match line.split_once('\t') {
                Some(("given", n)) => g.given.insert(key(n)),
                Some(("family", n)) => g.family.insert(key(n)),
                _ => false,
            };
        }
        g.given_deletes = g.given.iter().flat_map(|n| deletes(n)).collect();
        g
    }

    /// Whether `word` is a given name but for one letter (substituted, added or dropped), as OCR
    /// misreads a handwritten or small name: "Beatrlz", "Michat". Only words of five letters or
    /// more: shorter ones are one letter from too many names.
    pub fn near_given(&self, word: &str) -> bool {
        let k = key(word);
        if k.chars().count() < 5 {
            return false;
        }
        self.given.contains(&k)
            || self.given_deletes.contains(&k)
            || deletes(&k).iter().any(|d| self.given.contains(d) || self.given_deletes.contains(d))
    }

    pub fn is_given(&self, word: &str) -> bool {
        self.given.contains(&key(word))
    }

    pub fn is_family(&self, word: &str) -> bool {
        self.family.contains(&key(word))
    }

    pub fn len(&self) -> usize {
        self.given.len() + self.family.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name that ends `text`, if its last part is one.
    pub fn find(&self, text: &str) -> Option<NameHit> {
        // After the line's last separator (a dash between spaces: "Jean-Pierre" is one name).
        let seg_start = [" - ", " – ", " — ", "|", ":"]
            .iter()
            .filter_map(|sep| text.rfind(sep).map(|i| i + sep.len()))
            .max()
            .unwrap_or(0);
        let segment = &text[seg_start..];
        let mut words: Vec<(usize, &str)> = Vec::new();
        let mut offset = seg_start;
        for w in segment.split(' ') {
            // A comma between the parts ("Juliana, Montenegro") is a pen's or the OCR's.
            let word = w.trim_end_matches([',', ';']);
            if !word.is_empty() {
                words.push((offset, word));
            }
            offset += w.len() + 1;
        }
        let parts: Vec<&(usize, &str)> =
            words.iter().filter(|(_, w)| !CONNECTORS.contains(&w.to_lowercase().as_str())).collect();
        if !(2..=4).contains(&parts.len()) || words.len() > 6 {
            return None;
        }
        // A hyphenated name is known by its whole or by its first part ("Jean-Pierre").
        let is = |set: &HashSet<String>, w: &str| {
            set.contains(&key(w)) || w.split('-').next().is_some_and(|p| set.contains(&key(p)))
        };
        let known = |w: &str| is(&self.given, w) || is(&self.family, w) || self.near_given(w);
        if !parts.iter().all(|(_, w)| looks_like_name(w, known(w))) {
            return None;
        }
        let (first, last) = (parts[0].1, parts[parts.len() - 1].1);
        let given_first = is(&self.given, first);
        let family_rest = parts[1..].iter().any(|(_, w)| is(&self.family, w));
        let family_first = is(&self.family, first) && is(&self.given, last);
        // A known given name straight followed by a known family name, after a first word OCR
        // garbled ("Bna Beatriz Souza").
        let pair_inside = parts.windows(2).skip(1).any(|p| is(&self.given, p[0].1) && is(&self.family, p[1].1));
        let (score, evidence) = if given_first && family_rest {
            (0.75, format!("given name {first:?} and family name (gazetteer)"))
        } else if family_first {
            (0.75, format!("family name {first:?} and given name {last:?} (gazetteer)"))
        } else if pair_inside {
            (0.7, "given and family name (gazetteer) after a misread word".to_owned())
        } else if self.near_given(first) && family_rest {
            (0.7, format!("given name {first:?} misread by one letter, and family name (gazetteer)"))
        } else if given_first {
            (0.6, format!("given name {first:?} (gazetteer) and name-like words"))
        } else {
            return None;
        };
        let start = words[0].0;
        let end = words[words.len() - 1].0 + words[words.len() - 1].1.len();
        Some(NameHit { start, end, score, evidence })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_written_like_names() {
        fn like(s: &str, any: bool) -> Option<&str> {
            name_like(s, any).map(|(a, b)| &s[a..b])
        }
        assert_eq!(like("DAUDI SAYYID", false), Some("DAUDI SAYYID"));
        assert_eq!(like(" Amine CLosset ", false), Some("Amine CLosset"));
        assert_eq!(like("Mélanie Massin Frère", false), Some("Mélanie Massin Frère"));
        assert_eq!(like("Faisal bin Ali", false), Some("Faisal bin Ali"));
        assert_eq!(like("zakhele goala", false), None);
        assert_eq!(like("zakhele goala", true), Some("zakhele goala"));
        assert_eq!(like("سكر أبيض", true), None, "no capitals to tell a name by");
        for s in ["Fresh Today", "ASK INSIDE", "Special Price", "Rice 5 kg", "Anna", "Total KSh 1,250", "a b c d e f g"]
        {
            assert_eq!(like(s, true), None, "{s}");
        }
    }

    #[test]
    fn names_alone_or_ending_a_line_are_found_and_product_lines_are_not() {
        let g = Gazetteer::builtin();
        assert!(g.len() > 9000, "{}", g.len());
        let name = |s: &str| g.find(s).map(|h| (s[h.start..h.end].to_owned(), h.score));
        assert_eq!(name("Brian Kirui"), Some(("Brian Kirui".into(), 0.75)));
        assert_eq!(name("MARKET STALL 12 - Anna Schmidt"), Some(("Anna Schmidt".into(), 0.75)));
        assert_eq!(name("Juliette de la Leclercq"), Some(("Juliette de la Leclercq".into(), 0.75)));
        assert_eq!(name("Jean-Pierre Dupont").map(|n| n.0), Some("Jean-Pierre Dupont".into()));
        // A given name and a word the gazetteer does not know.
        assert_eq!(name("Brian Xqorvath"), Some(("Brian Xqorvath".into(), 0.6)));
        // Misread by OCR: a garbled word before a known pair, a given name one letter off.
        assert_eq!(name("Bna Beatriz Souza"), Some(("Bna Beatriz Souza".into(), 0.7)));
        assert_eq!(name("Beatrlz Souza"), Some(("Beatrlz Souza".into(), 0.7)));
        assert!(g.near_given("Beatrlz") && g.near_given("Beatriiz") && !g.near_given("Bna"));
        // Not names: product lines, prices, lower-case words, one word, sentences.
        for s in [
            "Rice 5 kg",
            "Fresh milk",
            "Brown Bread",
            "Jasmine rice 5 kg",
            "Total KSh 1,250",
            "Anna",
            "Open 8am - 6pm",
            "Prix au kilo 3,90 €",
            "Best before 12/05/2026",
        ] {
            assert_eq!(name(s), None, "{s}");
        }
    }
}
