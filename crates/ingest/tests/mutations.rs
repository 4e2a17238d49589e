//! No-panic test over thousands of corrupted files: real photos (re-encoded in several formats)
//! with seeded byte flips, inserted bytes and cuts. Every variant must decode or fail with a
//! reason code — never panic, never allocate past the limits. (cargo-fuzz needs a nightly
//! toolchain; this runs on stable in every test run.)

use std::io::Cursor;

use crowdsift_core::Limits;
use crowdsift_ingest::{DecodeParams, Fit, decode};
use image::ImageFormat;

/// splitmix64
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn bases() -> Vec<(String, Vec<u8>)> {
    let photos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/wheel_photos/photos");
    let jpeg = std::fs::read(photos.join("coffee.jpg")).expect("tests/data/wheel_photos/photos/coffee.jpg");
    let img = image::load_from_memory(&jpeg).expect("sample decodes").thumbnail(96, 96);
    let mut out = vec![("jpeg".to_owned(), jpeg)];
    for (name, fmt) in [
        ("png", ImageFormat::Png),
        ("gif", ImageFormat::Gif),
        ("webp", ImageFormat::WebP),
        ("bmp", ImageFormat::Bmp),
        ("tiff", ImageFormat::Tiff),
    ] {
        let mut buf = Cursor::new(Vec::new());
        let encoded = if fmt == ImageFormat::Gif || fmt == ImageFormat::WebP {
            image::DynamicImage::ImageRgba8(img.to_rgba8()).write_to(&mut buf, fmt)
        } else {
            img.write_to(&mut buf, fmt)
        };
        encoded.expect("encode base");
        out.push((name.to_owned(), buf.into_inner()));
    }
    out
}

#[test]
fn corrupted_files_never_panic() {
    let params = DecodeParams { limits: Limits { max_alloc: 64 << 20, ..Limits::default() }, fit: Fit::LongSide(128) };
    let mut seed = 2026;
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for (name, base) in bases() {
        for i in 0..600 {
            let mut data = base.clone();
            match i % 4 {
                // Flip a few bytes, often in the header where parsers branch.
                0 | 1 => {
                    let span = if i % 4 == 0 { data.len().min(512) } else { data.len() };
                    for _ in 0..1 + next(&mut seed) % 8 {
                        let at = (next(&mut seed) as usize) % span;
                        data[at] ^= 1 << (next(&mut seed) % 8);
                    }
                }
                // Cut anywhere.
                2 => data.truncate((next(&mut seed) as usize) % data.len()),
                // Insert random bytes.
                _ => {
                    let at = (next(&mut seed) as usize) % data.len();
                    let junk: Vec<u8> = (0..1 + next(&mut seed) % 64).map(|_| next(&mut seed) as u8).collect();
                    data.splice(at..at, junk);
                }
            }
            let key = match decode(&data, &params) {
                Ok(_) => format!("{name}:ok"),
                Err(e) => format!("{name}:{}", e.reason()),
            };
            *outcomes.entry(key).or_default() += 1;
        }
    }
    eprintln!("{outcomes:#?}");
    // Sanity: the mutations exercise failure paths of every format.
    for name in ["jpeg", "png", "gif", "webp", "bmp", "tiff"] {
        assert!(outcomes.iter().any(|(k, _)| k.starts_with(name) && !k.ends_with(":ok")), "{name} never failed");
    }
    assert!(outcomes.keys().any(|k| k.ends_with(":truncated")));
}
