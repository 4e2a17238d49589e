//! Lines printed so close together that the detector joins them: photo 004 of the generated
//! personal-data set (scripts/make_pii_eval.py, seed 11, the first five photos per language), a
//! typed note turned by a few degrees on which a card number and "Phone: 0719 792622" are printed
//! tight under "Sugar 1 kg 150". The whole-photo search boxes the card number and the phone number
//! together and reads the pair as one run of digits; searched again on that box's own crop
//! ([`crowdsift_ocr::OcrParams::look_closer`]), the lines part and are read.

use crowdsift_models::Registry;
use crowdsift_ocr::PpOcr;

#[test]
fn lines_joined_by_the_detector_are_searched_again_and_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--seed", "11", "--notes", "0", "--per-language", "5"];
    crowdsift_ocr::eval::generate_set("make_pii_eval.py", dir.path(), &args).expect("the set is generated");
    let img = image::open(dir.path().join("images/004_pii.jpg")).expect("photo").to_rgb8();
    let reg = Registry::discover().expect("models.toml");
    let mut ocr = PpOcr::load(reg.verified_ocr("ppocrv5").expect("OCR models"), 2).expect("load");
    let mut read = |closer: bool| -> Vec<String> {
        ocr.params.look_closer = closer;
        ocr.read(&img).expect("read").into_iter().map(|l| l.text).collect()
    };
    let has = |lines: &[String], text: &str| lines.iter().any(|l| l.contains(text));
    let (card, phone) = ("4546 1113 9309 5599", "0719 792622");
    let before = read(false);
    assert!(
        !has(&before, card) && !has(&before, phone),
        "the detector no longer joins these lines, so this test no longer tests the search again: {before:?}"
    );
    let after = read(true);
    assert!(has(&after, card) && has(&after, &format!("Phone: {phone}")), "{after:?}");
    assert!(has(&after, "Sugar 1 kg 150"), "the line above read whole, not in pieces: {after:?}");
    assert_eq!(after.len(), 3, "no fragment of the lines found again is left beside them: {after:?}");
}
