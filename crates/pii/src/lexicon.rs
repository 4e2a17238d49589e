//! Leading words ("Name:", "Tél", "Alamat", …) by kind of personal data and language, from
//! `data/lexicon.toml` (built in) and any number of files of the same shape.

use std::collections::BTreeMap;
use std::path::Path;

use crate::names::Gazetteer;
use crate::patterns::Regions;
use crate::{Kind, PiiError};

const BUILTIN: &str = include_str!("../data/lexicon.toml");

#[derive(Debug, Clone)]
struct Entry {
    kind: Kind,
    lang: String,
    word: String,
    /// Lower case, Latin accents removed.
    norm: Vec<char>,
}

/// The leading words, longest first (so "nome completo" wins over "nome").
#[derive(Debug, Clone)]
pub struct Lexicon {
    entries: Vec<Entry>,
    /// Given and family names, for names without a leading word.
    pub names: Gazetteer,
    /// Countries whose national phone numbers are recognised when a photo's own is not known.
    pub regions: Regions,
}

/// A leading word at the start of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub kind: Kind,
    pub word: String,
    pub lang: String,
    /// Byte offset in the line where its value starts (after the word, separator and spaces).
    pub value_start: usize,
}

impl Lexicon {
    /// The built-in lexicon: ten languages (en, fr, es, pt, id, vi, sw, ar, bn, hi).
    pub fn builtin() -> Self {
        // The built-in file is part of the binary and checked by the tests.
        let mut lex = Lexicon::parse(BUILTIN, "built-in lexicon").unwrap_or(Lexicon {
            entries: Vec::new(),
            names: Gazetteer::default(),
            regions: Regions::survey(),
        });
        lex.names = Gazetteer::builtin();
        lex
    }

    /// The built-in lexicon plus the words of `path`.
    pub fn with_file(path: &Path) -> Result<Self, PiiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PiiError::Lexicon { path: path.display().to_string(), msg: e.to_string() })?;
        let mut lex = Lexicon::builtin();
        lex.entries.extend(Lexicon::parse(&text, &path.display().to_string())?.entries);
        lex.sort();
        Ok(lex)
    }

    fn parse(text: &str, origin: &str) -> Result<Self, PiiError> {
        let err = |msg: String| PiiError::Lexicon { path: origin.to_owned(), msg };
        let doc: BTreeMap<String, BTreeMap<String, Vec<String>>> =
            toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut entries = Vec::new();
        for (kind, langs) in doc {
            let k = Kind::parse(&kind).ok_or_else(|| err(format!("unknown kind [{kind}]")))?;
            for (lang, words) in langs {
                for word in words {
                    let norm = normalise(&word);
                    if norm.is_empty() {
                        return Err(err(format!("empty word in [{kind}].{lang}")));
                    }
                    entries.push(Entry { kind: k, lang: lang.clone(), word, norm });
                }
            }
        }
        let mut lex = Lexicon { entries, names: Gazetteer::default(), regions: Regions::survey() };
        lex.sort();
        Ok(lex)
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| b.norm.len().cmp(&a.norm.len()).then(a.word.cmp(&b.word)));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Languages with at least one word.
    pub fn languages(&self) -> Vec<String> {
        let mut l: Vec<String> = self.entries.iter().map(|e| e.lang.clone()).collect();
        l.sort();
        l.dedup();
        l
    }

    /// The leading word `line` starts with (after bullets and spaces), if its value follows it:
    /// after a separator (`:` `-` `.` `=` `#` `;` and their full-width forms), at the end of the line (the value is below),
    /// or — for phones, ID numbers and dates of birth — straight after a space when it starts
    /// with a digit or `+`.
    pub fn leading(&self, line: &str) -> Option<Lead> {
        let start = line.find(|c: char| c.is_alphanumeric())?;
        for e in &self.entries {
            let Some(after) = match_prefix(&line[start..], &e.norm).map(|n| start + n) else { continue };
            let rest = &line[after..];
            // The word must end there ("Name" is not the start of "Namecheap").
            if rest.chars().next().is_some_and(|c| c.is_alphanumeric()) {
                continue;
            }
            let trimmed = rest.trim_start();
            let skip_sep = trimmed.strip_prefix(SEPARATORS);
            let numeric = matches!(e.kind, Kind::Phone | Kind::IdNumber | Kind::DateOfBirth)
                && trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '+');
            let value = match skip_sep {
                Some(v) => v,
                None if trimmed.is_empty() || numeric => trimmed,
                None => continue,
            };
            let value = value.trim_start_matches([' ', ':', '.', '-']);
            return Some(Lead {
                kind: e.kind,
                word: e.word.clone(),
                lang: e.lang.clone(),
                value_start: line.len() - value.len(),
            });
        }
        self.misread(line, start)
    }

    /// A leading word OCR misread by a letter ("Endereso:", "Aamat:", "Nsày sinh:"): words of at
    /// least five letters within one edit (two from ten letters), only before a colon, and —
    /// for phones, IDs and dates — only with at least five digits after it.
    fn misread(&self, line: &str, start: usize) -> Option<Lead> {
        let sep = line[start..].find(COLONS)? + start;
        let head: String = normalise(line[start..sep].trim_end()).into_iter().collect();
        let value = line[sep..].trim_start_matches(COLONS).trim_start();
        let n = head.chars().count();
        if n < 5 {
            return None;
        }
        let digits = value.chars().filter(|c| c.is_numeric()).count();
        self.entries
            .iter()
            .filter(|e| e.norm.len() >= 5 && e.norm.len().abs_diff(n) <= 2)
            .filter(|e| !matches!(e.kind, Kind::Phone | Kind::IdNumber | Kind::DateOfBirth) || digits >= 5)
            .map(|e| (strsim::levenshtein(&head, &e.norm.iter().collect::<String>()), e))
            // Two letters lost from a longer word ("Adres:" for "Address:") are one misreading too.
            .filter(|(d, e)| {
                *d >= 1
                    && (*d <= if e.norm.len() >= 10 { 2 } else { 1 }
                        || *d == 2 && e.norm.len() >= 7 && subsequence(&head, &e.norm))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, e)| Lead {
                kind: e.kind,
                word: e.word.clone(),
                lang: e.lang.clone(),
                value_start: line.len() - value.len(),
            })
    }
}

/// Whether the letters of `short` appear in `word` in order (`adres` in `address`).
fn subsequence(short: &str, word: &[char]) -> bool {
    let mut it = word.iter();
    short.chars().all(|c| it.any(|w| *w == c))
}

/// What may stand between a leading word and its value.
const SEPARATORS: [char; 8] = [':', '-', '.', '=', '#', '：', ';', '；'];
/// The separators that end a misread leading word (not `-` or `.`, which occur within words).
pub(crate) const COLONS: [char; 4] = [':', '：', ';', '；'];

/// Lower case with the accents of Latin letters removed (é → e, ç → c, ñ → n, đ → d).
pub fn normalise(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).map(base).collect()
}

fn base(c: char) -> char {
    match c {
        'ç' => 'c',
        'ñ' => 'n',
        'đ' => 'd',
        _ => crowdsift_ocr::script::base_letters(&c.to_string()).chars().next().unwrap_or(c),
    }
}

/// Bytes of `text` that spell `word` (normalised) from its start, if they do.
fn match_prefix(text: &str, word: &[char]) -> Option<usize> {
    let mut it = text.char_indices();
    let mut k = 0;
    while k < word.len() {
        let (_, c) = it.next()?;
        for lc in c.to_lowercase().map(base) {
            if word.get(k) != Some(&lc) {
                return None;
            }
            k += 1;
        }
    }
    Some(it.next().map_or(text.len(), |(i, _)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicon_has_ten_languages_and_every_kind_of_leading_word() {
        let lex = Lexicon::builtin();
        assert!(lex.len() > 250, "{} words", lex.len());
        assert_eq!(lex.languages(), ["ar", "bn", "en", "es", "fr", "hi", "id", "pt", "sw", "vi"]);
        for kind in ["person_name", "phone", "email", "address", "signature", "id_number", "date_of_birth"] {
            assert!(BUILTIN.contains(&format!("[{kind}]")), "{kind}");
        }
    }

    #[test]
    fn leading_words_match_across_case_accents_and_scripts() {
        let lex = Lexicon::builtin();
        let lead = |s: &str| lex.leading(s).map(|l| (l.kind, s[l.value_start..].to_owned()));
        assert_eq!(lead("Nom : Jean Dupont"), Some((Kind::PersonName, "Jean Dupont".into())));
        assert_eq!(lead("TELEFONO: 612 345 678"), Some((Kind::Phone, "612 345 678".into())));
        assert_eq!(lead("• Nome completo - Ana Souza"), Some((Kind::PersonName, "Ana Souza".into())));
        assert_eq!(lead("Tel 0812 3456 7890"), Some((Kind::Phone, "0812 3456 7890".into())));
        assert_eq!(lead("SĐT: 0912 345 678"), Some((Kind::Phone, "0912 345 678".into())));
        assert_eq!(lead("ফোন: ০১৭১২"), Some((Kind::Phone, "০১৭১২".into())));
        assert_eq!(lead("الاسم: محمد"), Some((Kind::PersonName, "محمد".into())));
        assert_eq!(lead("Alamat:"), Some((Kind::Address, String::new())));
        assert_eq!(lead("जन्म तिथि; १५/११/१९७१"), Some((Kind::DateOfBirth, "१५/११/१९७१".into())));
        // Misread by OCR by a letter, before a separator.
        assert_eq!(lead("Endereso: Rua Sete, 12"), Some((Kind::Address, "Rua Sete, 12".into())));
        assert_eq!(lead("Nsày sinh: 24/03/2000"), Some((Kind::DateOfBirth, "24/03/2000".into())));
        // Two letters lost from a long word: "Adres" is "Address" misread.
        assert_eq!(lead("Adres: 960 Njagi Plaza"), Some((Kind::Address, "960 Njagi Plaza".into())));
        assert_eq!(lead("Ades: 960"), None, "two letters from a short word are too many");
        assert_eq!(lead("Aamat: Gg. Asia 3"), Some((Kind::Address, "Gg. Asia 3".into())));
        // Short words and numbers' words without a number are not guessed at.
        assert_eq!(lead("Tol: 12"), None);
        assert_eq!(lead("Mobil: Toyota"), None);
        assert_eq!(lead("Promo: 2 for 1"), None);
        // Words that only start a longer word, or lack a separator before a name, do not count.
        assert_eq!(lead("Namecheap domains"), None);
        assert_eq!(lead("Name brand rice"), None);
        assert_eq!(lead("Telur ayam 10 butir"), None);
    }

    #[test]
    fn a_file_adds_words_and_bad_files_name_the_problem() {
        let dir = std::env::temp_dir().join(format!("crowdsift-lex-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let good = dir.join("more.toml");
        std::fs::write(&good, "[person_name]\nde = [\"Kunde\"]\n").ok();
        let lex = Lexicon::with_file(&good).expect("lexicon");
        assert_eq!(lex.leading("Kunde: Max").map(|l| l.lang), Some("de".into()));
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[shoe_size]\nen = [\"size\"]\n").ok();
        let e = Lexicon::with_file(&bad).expect_err("unknown kind").to_string();
        assert!(e.contains("bad.toml") && e.contains("shoe_size"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
