//! Linear barcodes (crate `rxing`, the Rust port of ZXing's readers). Product codes — EAN-13,
//! EAN-8, UPC-A, UPC-E under a GS1 company prefix — name an item, not a person, and are left
//! alone (price-survey photos are full of them). Store-internal EAN/UPC (GS1 prefixes 20–29 and
//! UPC number system 2/4: loyalty cards, coupons, weighed items) and Code 128/39/93, ITF and
//! Codabar (membership and ID cards, receipts, parcels) are regions to hide.

use std::collections::HashSet;

use image::GrayImage;
use rxing::{BarcodeFormat, DecodeHints};

use crowdsift_ocr::Quad;

use crate::{Kind, PiiFinding, mask};

const LINEAR: [BarcodeFormat; 9] = [
    BarcodeFormat::EAN_13,
    BarcodeFormat::EAN_8,
    BarcodeFormat::UPC_A,
    BarcodeFormat::UPC_E,
    BarcodeFormat::CODE_128,
    BarcodeFormat::CODE_39,
    BarcodeFormat::CODE_93,
    BarcodeFormat::ITF,
    BarcodeFormat::CODABAR,
];

/// Why a decoded barcode may be personal, or `None` for a product code.
fn classify(format: &BarcodeFormat, text: &str) -> Option<(&'static str, f32)> {
    let gtin =
        matches!(format, BarcodeFormat::EAN_13 | BarcodeFormat::EAN_8 | BarcodeFormat::UPC_A | BarcodeFormat::UPC_E);
    if !gtin {
        return Some(("card, receipt or parcel code", 0.7));
    }
    // EAN-13 "2…" and UPC-A "2…"/"4…" (EAN-13 "02…"/"04…") are for use inside a store or company.
    let internal = match format {
        BarcodeFormat::EAN_13 => text.starts_with('2') || text.starts_with("02") || text.starts_with("04"),
        BarcodeFormat::UPC_A => text.starts_with('2') || text.starts_with('4'),
        BarcodeFormat::EAN_8 => text.starts_with('2'),
        _ => false,
    };
    internal.then_some(("store-internal number (loyalty card, coupon)", 0.8))
}

/// The region of a code read along the line from `a` to `b`: the line and a quarter of its
/// length each way across it (a barcode is about twice as wide as high), a tenth beyond each end
/// (the quiet zones).
fn region(a: &rxing::Point, b: &rxing::Point) -> Quad {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = dx.hypot(dy).max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let (nx, ny) = (-uy * 0.25 * len, ux * 0.25 * len);
    let (ex, ey) = (ux * 0.1 * len, uy * 0.1 * len);
    [
        [a.x - ex - nx, a.y - ey - ny],
        [b.x + ex - nx, b.y + ey - ny],
        [b.x + ex + nx, b.y + ey + ny],
        [a.x - ex + nx, a.y - ey + ny],
    ]
}

/// The linear barcodes in `img`, with regions in `img`'s pixels (the decoder gives the ends of
/// the line it read): the personal ones as findings, and the regions of the product codes, whose
/// bars and digits OCR may read as text that is neither personal nor a person's to check.
pub fn find(img: &GrayImage) -> (Vec<PiiFinding>, Vec<Quad>) {
    let (mut personal, mut products) = (Vec::new(), Vec::new());
    let (w, h) = img.dimensions();
    if w < 20 || h < 20 {
        return (personal, products);
    }
    let mut hints =
        DecodeHints { PossibleFormats: Some(HashSet::from(LINEAR)), TryHarder: Some(true), ..Default::default() };
    let Ok(found) = rxing::helpers::detect_multiple_in_luma_with_hints(img.as_raw().clone(), w, h, &mut hints) else {
        return (personal, products); // nothing found is an error for the reader
    };
    for r in &found {
        let pts = r.getPoints();
        let (Some(a), Some(b)) = (pts.first(), pts.last()) else { continue };
        match classify(r.getBarcodeFormat(), r.getText()) {
            None => products.push(region(a, b)),
            Some((what, score)) => personal.push(PiiFinding {
                kind: Kind::QrOrBarcode,
                quad: region(a, b),
                evidence: format!("barcode {} ({what})", r.getBarcodeFormat()),
                score,
                masked: mask(r.getText()),
                line: None,
            }),
        }
    }
    (personal, products)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_codes_are_not_personal_and_card_codes_are() {
        assert_eq!(classify(&BarcodeFormat::EAN_13, "4006381333931"), None);
        assert!(classify(&BarcodeFormat::EAN_13, "2912345678903").is_some());
        assert!(classify(&BarcodeFormat::UPC_A, "412345678905").is_some());
        assert!(classify(&BarcodeFormat::CODE_128, "MEMBER-00123").is_some());
    }
}
