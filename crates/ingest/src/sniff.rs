//! Format detection from magic bytes; file extensions are never trusted.

use image::ImageFormat;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// A format crowdsift decodes.
    Decodable(ImageFormat),
    /// Anything else, named as precisely as the signature allows (`heif`, `pdf`, `text`, …).
    Unsupported(String),
}

/// Formats decoded by the enabled `image` features (and libjpeg-turbo for JPEG).
const DECODABLE: [ImageFormat; 9] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::Gif,
    ImageFormat::WebP,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
    ImageFormat::Ico,
    ImageFormat::Pnm,
    ImageFormat::Qoi,
];

pub fn sniff(data: &[u8]) -> Sniffed {
    // infer knows the ISO-BMFF brands (HEIC, AVIF) and non-image containers; check it first for
    // those, since image's own table would call an AVIF decodable only with a feature we leave off.
    if let Some(kind) = infer::get(data) {
        let mime = kind.mime_type();
        if matches!(mime, "image/heif" | "image/heic" | "image/avif" | "image/heif-sequence")
            || kind.matcher_type() != infer::MatcherType::Image
        {
            return Sniffed::Unsupported(format!("{} ({mime})", kind.extension()));
        }
    }
    if let Ok(format) = image::guess_format(data) {
        if DECODABLE.contains(&format) {
            return Sniffed::Decodable(format);
        }
        let name = format.extensions_str().first().copied().unwrap_or("image");
        return Sniffed::Unsupported(format!("{name} ({format:?})"));
    }
    if let Some(kind) = infer::get(data) {
        return Sniffed::Unsupported(format!("{} ({})", kind.extension(), kind.mime_type()));
    }
    let head = &data[..data.len().min(512)];
    let texty =
        std::str::from_utf8(head).map(|s| s.chars().all(|c| !c.is_control() || c.is_whitespace())).unwrap_or(false);
    if texty {
        Sniffed::Unsupported("text".to_owned())
    } else {
        let hex: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Sniffed::Unsupported(format!("unknown (no image signature; starts {})", hex.join(" ")))
    }
}

/// Short lowercase name used in outputs, e.g. `jpeg`, `png`.
pub fn format_name(format: ImageFormat) -> &'static str {
    format.extensions_str().first().copied().unwrap_or("image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodable_by_signature_not_extension() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").clone(), Sniffed::Decodable(ImageFormat::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Sniffed::Decodable(ImageFormat::Jpeg));
        assert_eq!(sniff(b"GIF89a......"), Sniffed::Decodable(ImageFormat::Gif));
    }

    #[test]
    fn names_what_it_cannot_decode() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert!(matches!(sniff(heic), Sniffed::Unsupported(s) if s.starts_with("heif")));
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        assert!(matches!(sniff(avif), Sniffed::Unsupported(s) if s.starts_with("avif")));
        assert!(matches!(sniff(b"%PDF-1.7\n"), Sniffed::Unsupported(s) if s.starts_with("pdf")));
        assert_eq!(sniff(b"price: 10.00 EUR\n"), Sniffed::Unsupported("text".into()));
        assert!(matches!(sniff(&[0x01, 0x9c, 0xfe, 0x00, 0x07]), Sniffed::Unsupported(s) if s.starts_with("unknown")));
    }
}
