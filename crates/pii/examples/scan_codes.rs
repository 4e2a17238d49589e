//! Prints the QR codes and personal barcodes `crowdsift pii` reads in photos (values masked):
//! `cargo run -p crowdsift-pii --example scan_codes -- PHOTO...`.
fn main() {
    for path in std::env::args().skip(1) {
        let Ok(img) = image::open(&path) else {
            eprintln!("{path}: not an image");
            continue;
        };
        let mut found = Vec::new();
        crowdsift_pii::add_codes(&mut found, &img.to_luma8(), 1.0);
        eprintln!("{path}: {} codes", found.len());
        for f in &found {
            eprintln!("  {} {:?} {:?}", f.evidence, f.masked, f.quad);
        }
    }
}
