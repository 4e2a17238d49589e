//! Addresses without a leading word: a line with a street word ("rue", "Calle", "Jl.", "Rua",
//! "Street", "đường", "শারণ সড়ক" …, `data/streets.toml`, in the survey languages) and a house or
//! building number ("216, rue Couturier", "Jl. Jamika No. 5", "Carrera 85 # 11-89",
//! "782 Asatira Course") — where the number is not an amount (after a currency, before a unit).
//!
//! The street words are words that name a way or a building part in an address (street types
//! of the survey countries, the US postal suffixes that English-speaking collectors use, and
//! apartment, building, flat); the line must hold a number besides, so "Rue du Marché" on a shop
//! sign alone is not an address.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use crate::lexicon::normalise;
use crate::patterns::explain_number;

const BUILTIN: &str = include_str!("../data/streets.toml");

static STREETS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let doc: BTreeMap<String, Vec<String>> = toml::from_str(BUILTIN).unwrap_or_default();
    doc.into_values().flatten().map(|w| normalise(&w).into_iter().collect()).collect()
});

/// An address found in a line: its byte range and the street word that proved it.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressHit {
    pub start: usize,
    pub end: usize,
    pub evidence: String,
}

/// The number of built-in street words (for the tests).
pub fn street_words() -> usize {
    STREETS.len()
}

/// The address `text` holds, if it is one: the line from its first word to its end.
pub fn find(text: &str) -> Option<AddressHit> {
    let mut street = None;
    let mut number = false;
    let mut offset = 0;
    for word in text.split(' ') {
        let start = offset;
        offset += word.len() + 1;
        let w = word.trim_matches(|c: char| ",;:()".contains(c));
        if w.is_empty() {
            continue;
        }
        let key: String = normalise(w.trim_end_matches('.')).into_iter().collect();
        if street.is_none() && STREETS.contains(&key) {
            street = Some(w.to_owned());
        }
        let has_digit = w.chars().any(|c| c.is_numeric());
        // A number after "No." or "#" is the house's; after a currency or before a unit, an amount.
        let amount = explain_number(text, start, start + word.len()).is_some_and(|why| why.starts_with("an amount"));
        if has_digit && !amount {
            number = true;
        }
    }
    let street = street?;
    if !number {
        return None;
    }
    let trimmed = text.trim();
    let start = text.find(trimmed)?;
    Some(AddressHit {
        start,
        end: start + trimmed.len(),
        evidence: format!("street word {street:?} and a house number"),
    })
}

/// An address written number first without a street word OCR could read ("216, kue Coutukiek"
/// for "216, rue Couturier"): a house number of one to five digits, then two to four words of
/// letters, one of them capitalised. Only for a line on a note that also holds a phone number or
/// an e-mail address (see the crate root): on a price tag, "3 Fresh Eggs" has the same shape.
pub fn number_first(text: &str) -> Option<AddressHit> {
    let trimmed = text.trim();
    let start = text.find(trimmed)?;
    let mut words = trimmed.split_whitespace();
    let number = words.next()?.trim_end_matches([',', '.']);
    if !(1..=5).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest: Vec<&str> = words.map(|w| w.trim_end_matches([',', '.'])).collect();
    let lettered =
        |w: &&str| w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && w.chars().all(char::is_alphabetic);
    let amount = explain_number(text, start, start + number.len()).is_some();
    if amount || !(2..=4).contains(&rest.len()) || !rest.iter().all(lettered) {
        return None;
    }
    rest.iter().any(|w| w.starts_with(char::is_uppercase)).then(|| AddressHit {
        start,
        end: start + trimmed.len(),
        evidence: "a house number before a street's name, on a note with contact details".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn street_words_with_numbers_are_addresses_and_price_lines_are_not() {
        assert!(street_words() > 150, "{}", street_words());
        for s in [
            "216, rue Couturier",
            "Calle 31 # 59-10 Sur",
            "Jl. Jamika No. 5",
            "Gg. Rungkut Industri No. 91",
            "782 Asatira Course",
            "825 Ondieki Circles",
            "Rua das Flores, 120",
            "Số 19 Đường Hoàng Diệu",
            "Building No. 89, Middle BijoyBazar Sorok",
            "Room 328 Jackson Residences 8, 527 Tabaypc street",
            "Mtaa wa Uhuru 14",
        ] {
            assert!(find(s).is_some(), "{s}");
        }
        let hit = find("  216, rue Couturier").unwrap();
        assert_eq!((hit.start, hit.end), (2, 20));
        for s in [
            "Rue du Marché",
            "Fresh milk 500 ml",
            "Prix au kilo 3,90 €",
            "Rice 5 kg KSh 650",
            "Total R$ 32,40",
            "Open 8am - 6pm",
            "Avenue 12 kg",
        ] {
            assert_eq!(find(s), None, "{s}");
        }
    }

    #[test]
    fn house_numbers_before_a_misread_street_are_addresses_of_a_contact_note() {
        assert!(number_first("216, kue Coutukiek").is_some());
        assert!(number_first("14 avenue Foch").is_some());
        for s in ["5 kg Rice", "2 × 1,500", "216 kue", "12 fresh eggs", "123456 Main Road", "Rice 5 kg"] {
            assert_eq!(number_first(s), None, "{s}");
        }
    }
}
