//! Scores one reader configuration on a generated evaluation set (scripts/make_ocr_eval.py).
//!
//!     cargo run --release -p crowdsift-ocr --example ocr_eval -- DIR [--models ppocrv5|ppocrv6-small]
//!         [--engine auto|ppocr|tesseract] [--lang eng,ben] [--tile 0] [--retry-below 0.9] [--out PRED.json]
//!         [--hint yes]   (each photo read with its own language as the hint, as from a manifest)
//!         [--rec-models ppocrv6-small] [--second-rec ppocrv6-small]   (recognise with another set /
//!         also with another set, keeping the more confident reading)
//!         [--enhance contrast|binarise]   (line crops cleaned up before PP-OCR reads them)
//!
//! Prints a Markdown table (per language, script, style and condition: CER, detection P/R/F1) and
//! photos per second on one thread; `--out` writes every photo's lines for inspection.

use std::path::PathBuf;
use std::time::Instant;

use crowdsift_models::Registry;
use crowdsift_ocr::crop::Enhance;
use crowdsift_ocr::eval::{Breakdown, load_set};
use crowdsift_ocr::{Engine, ModelPlan, PpOcr, Reader, ReaderConfig};

#[allow(clippy::print_stdout)] // a measuring binary reports its table on stdout
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: ocr_eval DIR [options]")?);
    let (mut models, mut config, mut tile, mut out, mut hinted) =
        ("ppocrv5".to_owned(), ReaderConfig::default(), Some(1280), None, false);
    let (mut rec_models, mut second, mut enhance) = (None::<String>, None::<String>, Enhance::None);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--models" => models = value,
            "--rec-models" => rec_models = Some(value),
            "--second-rec" => second = Some(value),
            "--engine" => config.engine = value.parse::<Engine>()?,
            "--lang" => config.langs = Some(value.split(',').map(str::to_owned).collect()),
            "--tile" => tile = value.parse::<u32>().ok().filter(|&t| t > 0),
            "--retry-below" => config.retry_below = value.parse()?,
            "--out" => out = Some(PathBuf::from(value)),
            "--hint" => hinted = value == "yes",
            "--enhance" => {
                enhance = match value.as_str() {
                    "contrast" => Enhance::Contrast,
                    "binarise" => Enhance::Binarise,
                    _ => Enhance::None,
                }
            }
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    config.enhance = enhance;
    let set = load_set(&dir)?;
    let reg = Registry::discover()?;
    let plan = ModelPlan::new(&reg, &models, &config)?;
    let key = plan.key(tile, &config);
    let mut reader = if rec_models.is_none() && second.is_none() {
        plan.load(&config, tile, 1)?
    } else {
        let find = reg.verified_ocr(&models)?;
        let read = reg.verified_ocr(rec_models.as_deref().unwrap_or(&models))?;
        let second = second.as_deref().map(|s| reg.verified_ocr(s)).transpose()?;
        let mut pp = PpOcr::load_mixed(find, read, second, 1)?;
        pp.params.tile = tile;
        Reader::new(Some(pp), config)?
    };
    let mut b = Breakdown::default();
    let mut dump = Vec::new();
    let started = Instant::now();
    for photo in &set {
        let img = image::open(dir.join("images").join(&photo.file))?.to_rgb8();
        let lang = [photo.lang.clone()];
        let lines = reader.read_hinted(&img, hinted.then_some(&lang[..]))?;
        b.add(photo, &lines);
        dump.push(serde_json::json!({ "file": photo.file, "lines": lines }));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{models} {key}: {} photos in {secs:.1} s ({:.2} photos/s, one thread)",
        set.len(),
        set.len() as f64 / secs
    );
    print!("{}", b.table());
    if let Some(p) = out {
        std::fs::write(p, serde_json::to_string_pretty(&dump)?)?;
    }
    Ok(())
}
