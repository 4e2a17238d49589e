//! The photo decoder on arbitrary bytes, under the limits every stage uses: every format the
//! sniffer accepts (JPEG through libjpeg-turbo, PNG, GIF, WebP, TIFF, BMP through `image`), EXIF
//! orientation, DCT-scaled JPEG decoding and the resize to the working size. It must return a
//! photo or an error, never panic, and never allocate past the limits. The first byte picks how
//! the photo is fitted (whole; long side, short side, or DCT scaling only, to 64–512 px), so
//! every scaled path is fuzzed too.

use crowdsift_core::Limits;
use crowdsift_ingest::{DecodeParams, Fit, decode};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&pick, bytes)) = data.split_first() else { return };
        let side = 64 << (pick / 4 % 4);
        let fit = match pick % 4 {
            0 => Fit::Full,
            1 => Fit::LongSide(side),
            2 => Fit::ShortSide(side),
            _ => Fit::AtLeastShortSide(side),
        };
        // Small limits, so that a bomb is refused in microseconds rather than decoded for seconds:
        // 16 MP, 64 MiB of pixels, files up to 8 MiB.
        let limits = Limits { max_pixels: 16_000_000, max_alloc: 64 << 20, max_file_bytes: 8 << 20 };
        if let Ok(photo) = decode(bytes, &DecodeParams { limits, fit }) {
            let (w, h) = photo.image.dimensions();
            assert!(w > 0 && h > 0 && u64::from(photo.width) * u64::from(photo.height) <= limits.max_pixels);
        }
    });
}
