//! PP-OCR on ../shared/data/ocr-dev: every ground-truth line is found and read within a character
//! error rate floor measured on these photos (price tag, shelf label, French/Spanish sign, receipt
//! with a name, phone number and e-mail, composited with rotation, blur and JPEG artefacts).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crowdsift_models::Registry;
use crowdsift_ocr::{PpOcr, eval::match_lines};

fn ocr_dev() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ocr-dev")
}

/// Per engine: mean CER over all ground-truth lines, and the worst line.
fn score(engine: &str) -> (f64, f64, Vec<String>) {
    let reg = Registry::discover().expect("models.toml");
    let mut ocr = PpOcr::load(reg.verified_ocr(engine).expect("OCR models"), 2).expect("load");
    let gt: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(ocr_dev().join("gt.json")).expect("gt.json")).expect("json");
    let (mut sum, mut n, mut worst, mut report) = (0.0, 0usize, 0f64, Vec::new());
    for (file, truth) in &gt {
        let img = image::open(ocr_dev().join(file)).expect("photo").to_rgb8();
        let lines = ocr.read(&img).expect("read");
        let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
        for (t, (found, cer)) in truth.iter().zip(match_lines(&texts, truth)) {
            report.push(format!("{file}: {t:?} ← {:?} CER {cer:.3}", found.map(|i| &texts[i])));
            sum += cer;
            n += 1;
            worst = worst.max(cer);
        }
        for l in &lines {
            assert!(l.confidence >= 0.5 && l.confidence <= 1.0, "{l:?}");
            assert!(
                l.quad
                    .iter()
                    .all(|p| p[0] >= 0.0 && p[1] >= 0.0 && p[0] < img.width() as f32 && p[1] < img.height() as f32)
            );
        }
    }
    eprintln!("{engine}: mean CER {:.4}, worst line {worst:.3}\n{}", sum / n as f64, report.join("\n"));
    (sum / n as f64, worst, report)
}

#[test]
fn ppocr_v5_reads_every_line_of_ocr_dev() {
    let (mean, worst, report) = score("ppocrv5");
    let text = report.join("\n");
    assert!(mean <= 0.02, "mean CER {mean:.4}\n{text}");
    assert!(worst <= 0.11, "worst line CER {worst:.3}\n{text}");
}

#[test]
fn ppocr_v6_small_reads_every_line_of_ocr_dev() {
    let (mean, worst, report) = score("ppocrv6-small");
    let text = report.join("\n");
    assert!(mean <= 0.03, "mean CER {mean:.4}\n{text}");
    assert!(worst <= 0.15, "worst line CER {worst:.3}\n{text}");
}

/// Small text on a 12 MP photo: the receipt of ocr-dev at half size (lines ~15 px high) pasted
/// into a 4000 × 3000 photo. The whole-photo pass shrinks it to 960 px (text ~4 px) and misses
/// lines; the tiled pass reads them.
#[test]
fn small_text_on_a_12_mp_photo_is_found_by_tiles() {
    let reg = Registry::discover().expect("models.toml");
    let mut ocr = PpOcr::load(reg.verified_ocr("ppocrv5").expect("OCR models"), 2).expect("load");
    let receipt = image::open(ocr_dev().join("receipt_cabbage.jpg")).expect("photo").to_rgb8();
    let small = image::imageops::resize(
        &receipt,
        receipt.width() / 2,
        receipt.height() / 2,
        image::imageops::FilterType::Triangle,
    );
    let mut big =
        image::RgbImage::from_fn(4000, 3000, |x, y| image::Rgb([200 + ((x * 7 + y * 13) % 23) as u8, 190, 180]));
    image::imageops::overlay(&mut big, &small, 2300, 1700);
    let truth: Vec<String> = ["MARKET STALL 12 - Anna Schmidt", "Tel +49 170 1234567", "anna.schmidt@example.com"]
        .map(String::from)
        .to_vec();
    let cer_of = |ocr: &mut PpOcr| -> Vec<f64> {
        let texts: Vec<String> = ocr.read(&big).expect("read").into_iter().map(|l| l.text).collect();
        match_lines(&texts, &truth).into_iter().map(|(_, c)| c).collect()
    };
    ocr.params.tile = None;
    let whole = cer_of(&mut ocr);
    ocr.params.tile = Some(1280);
    let tiled = cer_of(&mut ocr);
    eprintln!("whole photo: {whole:?}; tiled: {tiled:?}");
    assert!(tiled.iter().all(|&c| c <= 0.1), "tiled CER {tiled:?}");
    assert!(whole.iter().any(|&c| c > 0.3), "the whole-photo pass alone already reads it: {whole:?}");
}
