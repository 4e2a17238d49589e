//! Scores one reader configuration on a generated evaluation set (scripts/make_ocr_eval.py).
//!
//!     cargo run --release -p crowdsift-ocr --example ocr_eval -- DIR [--models ppocrv5|ppocrv6-small]
//!         [--engine auto|ppocr|tesseract] [--lang eng,ben] [--tile 0] [--retry-below 0.9] [--out PRED.json]
//!         [--hint yes]   (each photo read with its own language as the hint, as from a manifest)
//!
//! Prints a Markdown table (per language, script, style and condition: CER, detection P/R/F1) and
//! photos per second on one thread; `--out` writes every photo's lines for inspection.

use std::path::PathBuf;
use std::time::Instant;

use crowdsift_models::Registry;
use crowdsift_ocr::eval::{Breakdown, load_set};
use crowdsift_ocr::{Engine, PpOcr, Reader, ReaderConfig};

#[allow(clippy::print_stdout)] // a measuring binary reports its table on stdout
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: ocr_eval DIR [options]")?);
    let (mut models, mut config, mut tile, mut out, mut hinted) =
        ("ppocrv5".to_owned(), ReaderConfig::default(), Some(1280), None, false);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--models" => models = value,
            "--engine" => config.engine = value.parse::<Engine>()?,
            "--lang" => config.langs = Some(value.split(',').map(str::to_owned).collect()),
            "--tile" => tile = value.parse::<u32>().ok().filter(|&t| t > 0),
            "--retry-below" => config.retry_below = value.parse()?,
            "--out" => out = Some(PathBuf::from(value)),
            "--hint" => hinted = value == "yes",
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    let set = load_set(&dir)?;
    let pp = if config.engine == Engine::Tesseract {
        None
    } else {
        let reg = Registry::discover()?;
        let mut pp = PpOcr::load(reg.verified_ocr(&models)?, 1)?;
        pp.params.tile = tile;
        Some(pp)
    };
    let key = config.key();
    let mut reader = Reader::new(pp, config)?;
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
