use crowdsift_models::InputSpec;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

/// Size after resizing the shortest side to `short` (the longer side truncated, as torchvision's
/// `Resize(int)` does).
pub fn resized_dimensions(w: u32, h: u32, short: u32) -> (u32, u32) {
    if w <= h {
        (short, ((u64::from(short) * u64::from(h)) / u64::from(w.max(1))) as u32)
    } else {
        (((u64::from(short) * u64::from(w)) / u64::from(h.max(1))) as u32, short)
    }
}

/// Python's `round` (half to even), which torchvision's centre crop uses.
fn round_half_even(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 { (r - x.signum()) as i64 } else { r as i64 }
}

/// Top-left corner of the centred `size`×`size` crop of a `w`×`h` image.
pub fn crop_box(w: u32, h: u32, size: u32) -> (u32, u32) {
    let off = |d: u32| round_half_even((f64::from(d) - f64::from(size)) / 2.0).max(0) as u32;
    (off(w), off(h))
}

/// Bicubic resize in the order Pillow uses: the horizontal pass, rounded to 8 bits, then the
/// vertical pass. fast_image_resize runs the vertical pass first for 8-bit images, which differs
/// from Pillow by up to 8 levels at strong edges; the models' reference preprocessing is Pillow's.
fn bicubic_like_pillow(img: &RgbImage, nw: u32, nh: u32) -> RgbImage {
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    let mut resizer = Resizer::new();
    let mut pass = |src: &RgbImage, w: u32, h: u32| {
        if src.dimensions() == (w, h) {
            return src.clone();
        }
        let mut dst = RgbImage::new(w, h);
        // Resizing an 8-bit RGB image into a buffer of the requested size cannot fail.
        let _ = resizer.resize(src, &mut dst, &opts);
        dst
    };
    let horizontal = pass(img, nw, img.height());
    pass(&horizontal, nw, nh)
}

/// Preprocesses an upright RGB photo for a model: resize the shortest side to
/// `spec.resize_short_side` with bicubic (Catmull–Rom, a = −0.5, antialiased like Pillow's
/// BICUBIC), centre-crop `spec.size`, then `(px − mean) / std` per channel, laid out CHW.
pub fn preprocess(img: &RgbImage, spec: &InputSpec) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let (nw, nh) = resized_dimensions(w, h, spec.resize_short_side);
    let resized;
    let src = if (nw, nh) == (w, h) {
        img
    } else {
        resized = bicubic_like_pillow(img, nw.max(1), nh.max(1));
        &resized
    };
    let s = spec.size;
    let (x0, y0) = crop_box(src.width(), src.height(), s);
    let plane = (s * s) as usize;
    let mut out = vec![0f32; 3 * plane];
    for y in 0..s.min(src.height()) {
        for x in 0..s.min(src.width()) {
            let p = src.get_pixel(x0 + x, y0 + y).0;
            let i = (y * s + x) as usize;
            for c in 0..3 {
                out[c * plane + i] = (f32::from(p[c]) - spec.mean[c]) / spec.std[c];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> InputSpec {
        InputSpec { name: "input".into(), size: 224, resize_short_side: 256, mean: [127.0; 3], std: [128.0; 3] }
    }

    #[test]
    fn torchvision_geometry() {
        assert_eq!(resized_dimensions(4000, 3000, 256), (341, 256));
        assert_eq!(resized_dimensions(307, 173, 256), (454, 256));
        assert_eq!(resized_dimensions(173, 307, 256), (256, 454));
        // (341 - 224) / 2 = 58.5 rounds to even (58), as Python's round does.
        assert_eq!(crop_box(341, 256, 224), (58, 16));
        assert_eq!(crop_box(455, 256, 224), (116, 16));
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
        assert_eq!(round_half_even(3.4), 3);
    }

    #[test]
    fn normalises_channels_in_chw_order() {
        let img = RgbImage::from_pixel(300, 256, image::Rgb([255, 127, 0]));
        let x = preprocess(&img, &spec());
        assert_eq!(x.len(), 3 * 224 * 224);
        let plane = 224 * 224;
        assert!((x[0] - 1.0).abs() < 1e-6);
        assert!(x[plane].abs() < 1e-6);
        assert!((x[2 * plane] + 127.0 / 128.0).abs() < 1e-6);
    }
}
