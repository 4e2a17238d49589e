//! The generated personal-data set (scripts/make_pii_eval.py, seed 11): 110 photos with notes
//! holding names, phone numbers in ten countries' formats, e-mails, addresses, dates of birth,
//! national IDs, cards and IBANs — typed and handwriting-style, in ten languages — some with a QR
//! code holding a contact card or a loyalty card's barcode, and the same 110
//! photos with ordinary price-label text in their place. Each photo is read by OCR with its
//! script's language (the manifest's `lang`) and searched with its country (the manifest's
//! `country`). Floors: the figures measured on this set (bench/results/pii_eval.md) with a margin.

use std::path::Path;

use crowdsift_models::Registry;
use crowdsift_ocr::eval::quad_iou;
use crowdsift_ocr::{ModelPlan, ReaderConfig, TextLine};
use crowdsift_pii::eval::{Breakdown, EvalPhoto, MIN_IOU, load_set};
use crowdsift_pii::{Kind, Lexicon, PiiFinding};

const LANGS: [&str; 8] = ["eng", "fra", "spa", "por", "vie", "ind", "ben", "hin"];

fn generate(dir: &Path) -> Vec<EvalPhoto> {
    crowdsift_ocr::eval::generate_set("make_pii_eval.py", dir, &["--seed", "11", "--notes", "0"])
        .expect("the set is generated");
    load_set(dir).expect("truth.json")
}

/// Reads every photo with two workers (each its own models) and finds its personal data: in the
/// text with the photo's country, and QR codes and barcodes in its pixels.
fn read_set(dir: &Path, set: &[EvalPhoto]) -> Vec<(Vec<TextLine>, Vec<PiiFinding>)> {
    let reg = Registry::discover().expect("models.toml");
    let lexicon = Lexicon::builtin();
    let mut langs = LANGS.map(String::from).to_vec();
    langs.push("ara".into());
    let config = ReaderConfig { langs: Some(langs), ..Default::default() };
    let plan = ModelPlan::new(&reg, "ppocrv5", &config).expect("OCR models");
    type Read = (usize, (Vec<TextLine>, Vec<PiiFinding>));
    let halves: Vec<Vec<Read>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (config, plan, lexicon) = (config.clone(), &plan, &lexicon);
                s.spawn(move || {
                    let mut reader = plan.load(&config, Some(1280), 1).expect("reader");
                    (w..set.len())
                        .step_by(2)
                        .map(|i| {
                            let img = image::open(dir.join("images").join(&set[i].file)).expect("photo");
                            let hint = [set[i].hint.clone()];
                            let lines = reader.read_hinted(&img.to_rgb8(), Some(&hint)).expect("read");
                            let mut found = crowdsift_pii::find(&lines, lexicon, Some(&set[i].country));
                            crowdsift_pii::add_codes(&mut found, &img.to_luma8(), 1.0);
                            (i, (lines, found))
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).collect()
    });
    let mut found: Vec<Read> = halves.into_iter().flatten().collect();
    found.sort_by_key(|f| f.0);
    found.into_iter().map(|f| f.1).collect()
}

#[test]
fn planted_personal_data_is_found_and_ordinary_text_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = generate(dir.path());
    assert_eq!(set.len(), 220);
    assert_eq!(set.iter().filter(|p| p.pii.is_empty()).count(), 110, "one twin without personal data each");
    let read = read_set(dir.path(), &set);
    let mut b = Breakdown::default();
    let mut clean_flagged = 0;
    // Values written in Arabic-Indic digits (phone numbers and dates of birth on Arabic notes),
    // and how many of them were found: the digit reader's (crowdsift_ocr::digits).
    let (mut arabic_digits, mut arabic_digits_found) = (0, 0);
    for (photo, (lines, found)) in set.iter().zip(&read) {
        if photo.pii.is_empty() && !found.is_empty() {
            clean_flagged += 1;
            let read: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            eprintln!(
                "{}: {:?}; read {read:?}",
                photo.file,
                found.iter().map(|f| (f.kind, &f.masked, &f.evidence)).collect::<Vec<_>>()
            );
        }
        b.add(photo, found);
        for f in found.iter().filter(|f| f.kind != Kind::Face) {
            if !photo.pii.iter().any(|p| p.kind == f.kind && quad_iou(&f.quad, &p.quad) >= MIN_IOU) {
                let line = f.line.and_then(|i| lines.get(i)).map_or("", |l| l.text.as_str());
                eprintln!("extra {} {:?} {:?} ({}) on {line:?}", photo.file, f.kind, f.masked, f.evidence);
            }
        }
        for p in &photo.pii {
            let hit = found.iter().any(|f| quad_iou(&f.quad, &p.quad) >= MIN_IOU);
            if p.text.chars().any(|c| matches!(c, '\u{0660}'..='\u{0669}')) {
                arabic_digits += 1;
                arabic_digits_found += usize::from(hit);
            }
            if !hit {
                let read: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
                eprintln!(
                    "missed {} {:?} {:?} ({}, {}); read {read:?}",
                    photo.file, p.kind, p.text, photo.style, photo.condition
                );
            }
        }
    }
    eprintln!(
        "{}\nphotos without personal data flagged: {clean_flagged} of 110; values in Arabic-Indic digits found: \
         {arabic_digits_found} of {arabic_digits}",
        b.table()
    );
    // (kind, precision floor, recall floor). Measured: precision 1.00 for every kind but phone
    // (0.98: a piece of a Bengali number also valid as a phone) and ID (0.92: a member number
    // read under a barcode the reader could not decode is found as that caption alone, whose box
    // is not the barcode's); recall name 0.98 (without a leading word their family names are held
    // out of the gazetteer), phone 0.89 (national numbers without a leading word also found for
    // the survey's other countries), e-mail 0.83 (handwritten ones misread), ID 1.00, card 0.95,
    // IBAN 1.00, address 0.75, date of birth 0.95 (whole dates of years long past), QR codes and
    // loyalty barcodes 0.98; any kind 0.93 at precision 0.99 (handwritten lines read as nonsense
    // beside personal data are hidden as illegible text); no clean twin flagged (their product
    // barcodes and EAN numbers included).
    let floors = [
        (Kind::PersonName, 0.95, 0.93),
        (Kind::Phone, 0.95, 0.84),
        (Kind::Email, 0.95, 0.72),
        (Kind::IdNumber, 0.9, 0.9),
        (Kind::CardNumber, 0.95, 0.8),
        (Kind::Iban, 0.95, 0.85),
        (Kind::Address, 0.95, 0.65),
        (Kind::DateOfBirth, 0.95, 0.85),
        (Kind::QrOrBarcode, 0.95, 0.9),
    ];
    assert!(b.any.precision() >= 0.98 && b.any.recall() >= 0.91, "{:?}", b.any);
    assert!(clean_flagged <= 2, "{clean_flagged} photos without personal data flagged");
    // Measured: 5 of 5; 1 before the digit reader, 3 before OCR rules 11 (078_pii: a phone number
    // boxed with the lines above and below it, then turned upside down by the line classifier).
    assert_eq!(arabic_digits, 5, "values in Arabic-Indic digits planted");
    assert!(arabic_digits_found >= 5, "{arabic_digits_found} of {arabic_digits} values in Arabic-Indic digits found");
    for (kind, precision, recall) in floors {
        let c = b.kind(kind);
        assert!(c.precision() >= precision, "{kind:?} precision {:.3} < {precision}", c.precision());
        assert!(c.recall() >= recall, "{kind:?} recall {:.3} < {recall}", c.recall());
    }
}
