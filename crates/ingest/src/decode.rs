//! Safe decoding of untrusted photos: limits checked against the declared size before any pixel
//! buffer exists, EXIF orientation applied, JPEGs decoded DCT-downscaled by libjpeg-turbo when the
//! caller does not need full resolution, and every failure mapped to a [`Reason`].

use std::io::Cursor;

use crowdsift_core::{Limits, Reason};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage, metadata::Orientation};
use turbojpeg::{Colorspace, Decompressor, PixelFormat, ScalingFactor};

use crate::jpeg;
use crate::sniff::{Sniffed, format_name, sniff};

/// The size the caller wants the pixels in. Images are never upscaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Full resolution.
    Full,
    /// Longest side at most this many pixels.
    LongSide(u32),
    /// Shortest side at most this many pixels (as for CNN input: resize short side, then crop).
    ShortSide(u32),
    /// Only the free reduction: JPEGs are DCT-scaled as far as keeps the shortest side at least
    /// this long, nothing is resampled (the caller resizes once, with its own filter).
    AtLeastShortSide(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeParams {
    pub limits: Limits,
    pub fit: Fit,
}

impl Default for DecodeParams {
    fn default() -> Self {
        Self { limits: Limits::default(), fit: Fit::LongSide(512) }
    }
}

/// A decoded photo, oriented upright, as RGB pixels scaled to the requested [`Fit`].
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Format name from the file signature, e.g. `jpg`, `png`.
    pub format: &'static str,
    /// Full-resolution width and height after orientation.
    pub width: u32,
    pub height: u32,
    /// EXIF orientation tag that was applied (1 = none).
    pub orientation: u8,
    /// Colour type as stored in the file, e.g. `Rgb8`, `Rgba16`, `L8`, `cmyk`.
    pub color: String,
    pub has_alpha: bool,
    /// Upright pixels at the requested fit; transparent areas composited over white.
    pub image: RgbImage,
    /// Problems the decoder worked around (corrupt but recoverable data).
    pub warnings: Vec<String>,
}

/// Why a photo could not be decoded, with a sentence naming the evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct DecodeError {
    reason: Reason,
    detail: String,
}

impl DecodeError {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self { reason, detail: detail.into() }
    }
    pub fn reason(&self) -> Reason {
        self.reason
    }
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// Decodes `data` under `params.limits`. Never panics on hostile input and never allocates more
/// than the limits allow.
pub fn decode(data: &[u8], params: &DecodeParams) -> Result<Decoded, DecodeError> {
    if data.is_empty() {
        return Err(DecodeError::new(Reason::Empty, "file has 0 bytes"));
    }
    if data.len() as u64 > params.limits.max_file_bytes {
        return Err(DecodeError::new(
            Reason::TooLarge,
            format!("file has {} bytes, limit {}", data.len(), params.limits.max_file_bytes),
        ));
    }
    match sniff(data) {
        Sniffed::Unsupported(what) => {
            Err(DecodeError::new(Reason::UnsupportedFormat, format!("not a supported image: {what}")))
        }
        Sniffed::Decodable(ImageFormat::Jpeg) => decode_jpeg(data, params),
        Sniffed::Decodable(format) => decode_generic(data, format, params),
    }
}

fn check_dimensions(w: u64, h: u64, limits: &Limits) -> Result<(), DecodeError> {
    if w == 0 || h == 0 {
        return Err(DecodeError::new(Reason::BadHeader, format!("header declares {w}×{h} pixels")));
    }
    if !limits.allows_dimensions(w, h) {
        return Err(DecodeError::new(
            Reason::TooLarge,
            format!(
                "header declares {w}×{h} = {:.1} MP, limit {:.1} MP",
                (w * h) as f64 / 1e6,
                limits.max_pixels as f64 / 1e6
            ),
        ));
    }
    Ok(())
}

/// A zeroed pixel buffer of `len` bytes, refused above the allocation limit.
fn alloc_pixels(len: usize, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    if len as u64 > limits.max_alloc {
        return Err(DecodeError::new(
            Reason::TooLarge,
            format!("decoding needs {len} bytes, allocation limit {}", limits.max_alloc),
        ));
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|e| DecodeError::new(Reason::TooLarge, format!("cannot allocate {len} bytes: {e}")))?;
    v.resize(len, 0);
    Ok(v)
}

/// Target size for `(w, h)` under `fit`, never larger than the source.
pub fn fit_dimensions(w: u32, h: u32, fit: Fit) -> (u32, u32) {
    let (side, target) = match fit {
        Fit::Full => return (w, h),
        Fit::LongSide(t) => (w.max(h), t),
        Fit::ShortSide(t) | Fit::AtLeastShortSide(t) => (w.min(h), t),
    };
    if side <= target || side == 0 {
        return (w, h);
    }
    let s = f64::from(target) / f64::from(side);
    let scale = |d: u32| ((f64::from(d) * s).round() as u32).max(1);
    (scale(w), scale(h))
}

/// The strongest DCT reduction (1/8, 1/4 or 1/2) that keeps the decoded image at least as large as
/// the target. Only powers of two: they are what libjpeg's draft mode (Pillow's `draft`) uses, so
/// results match Python pipelines, and the odd n/8 IDCTs resample less cleanly.
fn dct_scaling(w: u32, h: u32, fit: Fit) -> ScalingFactor {
    let (tw, th) = fit_dimensions(w, h, fit);
    for f in [ScalingFactor::ONE_EIGHTH, ScalingFactor::ONE_QUARTER, ScalingFactor::ONE_HALF] {
        if f.scale(w as usize) >= tw as usize && f.scale(h as usize) >= th as usize {
            return f;
        }
    }
    ScalingFactor::ONE
}

fn is_warning(msg: &str) -> bool {
    // libjpeg-turbo finishes the decode after a warning but still reports it as an error.
    msg.starts_with("Corrupt JPEG data") || msg.contains("Warning") || msg.contains("warning")
}

fn decode_jpeg(data: &[u8], params: &DecodeParams) -> Result<Decoded, DecodeError> {
    let layout = jpeg::layout(data);
    let tj = |e: turbojpeg::Error| e.to_string();
    let mut dec = Decompressor::new().map_err(|e| DecodeError::new(Reason::DecodeError, tj(e)))?;
    let header = match dec.read_header(data) {
        Ok(h) => h,
        Err(e) => {
            let reason = if layout.ended_early { Reason::Truncated } else { Reason::BadHeader };
            return Err(DecodeError::new(reason, format!("JPEG header: {}", tj(e))));
        }
    };
    check_dimensions(header.width as u64, header.height as u64, &params.limits)?;
    if matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
        // libjpeg-turbo will not convert CMYK to RGB; image's decoder does (Adobe inversion included).
        return decode_generic(data, ImageFormat::Jpeg, params).map(|mut d| {
            d.color = "cmyk".to_owned();
            d
        });
    }
    let orientation =
        layout.exif.and_then(|(a, b)| Orientation::from_exif_chunk(&data[a..b])).unwrap_or(Orientation::NoTransforms);
    let (w, h) = (header.width as u32, header.height as u32);
    let scaling = if header.is_lossless { ScalingFactor::ONE } else { dct_scaling(w, h, params.fit) };
    dec.set_scaling_factor(scaling).map_err(|e| DecodeError::new(Reason::DecodeError, tj(e)))?;
    let scaled = header.scaled(scaling);
    let pitch = 3 * scaled.width;
    let pixels = alloc_pixels(pitch * scaled.height, &params.limits)?;
    let mut image =
        turbojpeg::Image { pixels, width: scaled.width, pitch, height: scaled.height, format: PixelFormat::RGB };
    let mut warnings = Vec::new();
    if let Err(e) = dec.decompress(data, image.as_deref_mut()) {
        let msg = tj(e);
        if msg.contains("Premature end of JPEG file") {
            return Err(DecodeError::new(
                Reason::Truncated,
                format!("JPEG data ends before the image is complete at {} bytes ({msg})", data.len()),
            ));
        }
        if !is_warning(&msg) {
            return Err(DecodeError::new(Reason::DecodeError, format!("JPEG: {msg}")));
        }
        warnings.push(msg);
    }
    match layout.scan_start {
        Some(s) if jpeg::has_eoi(data, s) => {}
        _ => {
            return Err(DecodeError::new(
                Reason::Truncated,
                format!("JPEG has no end-of-image marker: the file is cut off at {} bytes", data.len()),
            ));
        }
    }
    let rgb = RgbImage::from_raw(scaled.width as u32, scaled.height as u32, image.pixels)
        .ok_or_else(|| DecodeError::new(Reason::DecodeError, "decoded buffer size mismatch"))?;
    let mut img = DynamicImage::ImageRgb8(rgb);
    img.apply_orientation(orientation);
    let (fw, fh) = oriented(w, h, orientation);
    let color = match header.colorspace {
        Colorspace::Gray => "L8",
        _ => "Rgb8",
    };
    Ok(Decoded {
        format: "jpg",
        width: fw,
        height: fh,
        orientation: orientation.to_exif(),
        color: color.to_owned(),
        has_alpha: false,
        image: fit_rgb(img.into_rgb8(), fw, fh, params.fit)?,
        warnings,
    })
}

fn oriented(w: u32, h: u32, o: Orientation) -> (u32, u32) {
    match o {
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH => {
            (h, w)
        }
        _ => (w, h),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Pixels,
}

fn classify(err: ImageError, phase: Phase, format: ImageFormat) -> DecodeError {
    let name = format_name(format);
    match err {
        ImageError::Limits(e) => DecodeError::new(Reason::TooLarge, format!("{name}: {e}")),
        ImageError::Unsupported(e) => {
            DecodeError::new(Reason::UnsupportedFormat, format!("{name} variant not supported: {e}"))
        }
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::new(Reason::Truncated, format!("{name} data ends early: {e}"))
        }
        other => {
            let msg = other.to_string();
            let lower = msg.to_lowercase();
            let cut = ["eof", "end of file", "unexpected end", "truncated", "not enough data", "no more data"]
                .iter()
                .any(|k| lower.contains(k));
            let reason = if cut {
                Reason::Truncated
            } else if phase == Phase::Header {
                Reason::BadHeader
            } else {
                Reason::DecodeError
            };
            DecodeError::new(reason, format!("{name}: {msg}"))
        }
    }
}

/// Container-level completeness checks for formats whose decoders may stop early without error.
fn check_complete(data: &[u8], format: ImageFormat) -> Result<(), DecodeError> {
    let cut = |what: &str| {
        Err(DecodeError::new(
            Reason::Truncated,
            format!("{} {what}: the file is cut off at {} bytes", format_name(format), data.len()),
        ))
    };
    match format {
        ImageFormat::Png if !data.windows(4).rev().any(|w| w == b"IEND") => cut("has no IEND chunk"),
        ImageFormat::Gif => {
            let end = data.iter().rposition(|&b| b != 0).unwrap_or(0);
            if data.get(end) == Some(&0x3B) { Ok(()) } else { cut("has no trailer byte") }
        }
        ImageFormat::WebP if data.len() >= 8 => {
            let declared = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
            if data.len() < declared.saturating_add(8) { cut("is shorter than its RIFF header says") } else { Ok(()) }
        }
        _ => Ok(()),
    }
}

fn decode_generic(data: &[u8], format: ImageFormat, params: &DecodeParams) -> Result<Decoded, DecodeError> {
    let limits = &params.limits;
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut lim = image::Limits::default();
    lim.max_alloc = Some(limits.max_alloc);
    reader.limits(lim);
    // A decoder that fails on a file its container says is cut short failed because of the cut.
    let fail = |e, phase| check_complete(data, format).err().unwrap_or_else(|| classify(e, phase, format));
    let mut decoder = reader.into_decoder().map_err(|e| fail(e, Phase::Header))?;
    let (w, h) = decoder.dimensions();
    check_dimensions(u64::from(w), u64::from(h), limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let color = decoder.original_color_type();
    let color_name = format!("{color:?}");
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| fail(e, Phase::Pixels))?;
    check_complete(data, format)?;
    img.apply_orientation(orientation);
    let has_alpha = img.color().has_alpha();
    let (fw, fh) = (img.width(), img.height());
    let rgb = if has_alpha { over_white(&img) } else { img.into_rgb8() };
    Ok(Decoded {
        format: format_name(format),
        width: fw,
        height: fh,
        orientation: orientation.to_exif(),
        color: color_name,
        has_alpha,
        image: fit_rgb(rgb, fw, fh, params.fit)?,
        warnings: Vec::new(),
    })
}

/// Composites transparent pixels over white, as a viewer shows a product cut-out.
fn over_white(img: &DynamicImage) -> RgbImage {
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// Resizes `img` to the size `fit` asks for relative to the full-resolution `(full_w, full_h)`.
fn fit_rgb(img: RgbImage, full_w: u32, full_h: u32, fit: Fit) -> Result<RgbImage, DecodeError> {
    let (tw, th) = fit_dimensions(full_w, full_h, fit);
    if img.dimensions() == (tw, th) || matches!(fit, Fit::AtLeastShortSide(_)) {
        return Ok(img);
    }
    let mut dst = RgbImage::new(tw, th);
    Resizer::new()
        .resize(&img, &mut dst, &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)))
        .map_err(|e| DecodeError::new(Reason::DecodeError, format!("resize: {e}")))?;
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_of(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 128]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn fit_never_upscales_and_keeps_aspect() {
        assert_eq!(fit_dimensions(4000, 3000, Fit::LongSide(512)), (512, 384));
        assert_eq!(fit_dimensions(300, 200, Fit::LongSide(512)), (300, 200));
        assert_eq!(fit_dimensions(4000, 3000, Fit::ShortSide(256)), (341, 256));
        assert_eq!(fit_dimensions(4000, 3000, Fit::Full), (4000, 3000));
    }

    #[test]
    fn dct_scaling_stays_at_or_above_target() {
        let f = dct_scaling(4000, 3000, Fit::LongSide(512));
        assert_eq!((f.num(), f.denom()), (1, 4));
        assert!(f.scale(4000) >= 512);
        let f = dct_scaling(307, 173, Fit::LongSide(512));
        assert_eq!((f.num(), f.denom()), (1, 1));
    }

    #[test]
    fn jpeg_decodes_scaled_and_detects_cut() {
        let data = jpeg_of(1600, 1200);
        let d = decode(&data, &DecodeParams::default()).unwrap();
        assert_eq!((d.width, d.height), (1600, 1200));
        assert_eq!(d.image.dimensions(), (512, 384));
        let d = decode(&data, &DecodeParams { fit: Fit::AtLeastShortSide(256), ..Default::default() }).unwrap();
        assert_eq!(d.image.dimensions(), (400, 300), "DCT 1/4 only, no resampling");
        let cut = &data[..data.len() * 9 / 10];
        let e = decode(cut, &DecodeParams::default()).unwrap_err();
        assert_eq!(e.reason(), Reason::Truncated, "{e}");
        let e = decode(&data[..data.len() - 2], &DecodeParams::default()).unwrap_err();
        assert_eq!(e.reason(), Reason::Truncated, "{e}");
    }

    #[test]
    fn empty_and_unknown() {
        assert_eq!(decode(&[], &DecodeParams::default()).unwrap_err().reason(), Reason::Empty);
        let e = decode(b"hello world", &DecodeParams::default()).unwrap_err();
        assert_eq!(e.reason(), Reason::UnsupportedFormat);
        assert!(e.detail().contains("text"));
    }

    #[test]
    fn png_bomb_is_refused_before_allocation() {
        // IHDR declaring 50 000 × 50 000 with no data: must be too_large, not an allocation.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // A tiny IDAT (a zlib stream of a few zero bytes) and IEND, as a real bomb would carry.
        let idat = b"IDAT\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01";
        png.extend_from_slice(&((idat.len() - 4) as u32).to_be_bytes());
        png.extend_from_slice(idat);
        png.extend_from_slice(&crc32(idat).to_be_bytes());
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
        let e = decode(&png, &DecodeParams::default()).unwrap_err();
        assert_eq!(e.reason(), Reason::TooLarge, "{e}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
