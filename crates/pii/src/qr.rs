//! QR codes (crate `rqrr`): a QR code on a loyalty card, a business card or a payment sticker
//! carries a person's contact or account. Every code found is a region to hide; what it decodes
//! to sets the score and the evidence (never the content itself).

use image::GrayImage;

use crate::{Kind, PiiFinding, mask};

/// What a decoded payload is.
fn classify(content: &str) -> (&'static str, f32) {
    let lower = content.trim_start().to_ascii_lowercase();
    let has = |p: &str| lower.starts_with(p);
    if has("begin:vcard") || has("mecard:") {
        ("contact card", 0.95)
    } else if has("tel:") || has("sms:") || has("smsto:") || has("mailto:") || has("matmsg:") {
        ("phone or e-mail", 0.95)
    } else if has("upi://") || has("bitcoin:") || content.starts_with("000201") || has("bank:") {
        ("payment account", 0.9) // UPI, Bitcoin, EMVCo merchant codes (Pix, PromptPay, QRIS…)
    } else if has("wifi:") {
        ("Wi-Fi credentials", 0.8)
    } else if has("http://") || has("https://") {
        ("web address", 0.7)
    } else {
        ("text", 0.7)
    }
}

/// The QR codes in `img`, as findings with their corners in `img`'s pixels.
pub fn find(img: &GrayImage) -> Vec<PiiFinding> {
    let (w, h) = img.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32)[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| {
            let quad = g.bounds.map(|p| [p.x as f32, p.y as f32]);
            let (evidence, score, masked) = match g.decode() {
                Ok((_, content)) => {
                    let (what, score) = classify(&content);
                    (format!("QR code ({what})"), score, mask(&content.chars().take(40).collect::<String>()))
                }
                Err(_) => ("QR code (not decodable)".to_owned(), 0.6, String::new()),
            };
            PiiFinding { kind: Kind::QrOrBarcode, quad, evidence, score, masked, line: None }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_told_apart() {
        assert_eq!(classify("BEGIN:VCARD\nVERSION:3.0\nFN:Ana").0, "contact card");
        assert_eq!(classify("tel:+254712345678").0, "phone or e-mail");
        assert_eq!(classify("00020101021126580014br.gov.bcb.pix").0, "payment account");
        assert_eq!(classify("https://example.com/p/123").0, "web address");
    }
}
