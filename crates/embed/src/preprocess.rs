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
    let (x0, y0) = crop_box(src.width(), src.height(), spec.size);
    normalise(src, x0, y0, spec, false)
}

/// The `spec.size`² window at (`x0`, `y0`) of `src`, optionally mirrored, as `(px − mean) / std`,
/// CHW.
fn normalise(src: &RgbImage, x0: u32, y0: u32, spec: &InputSpec, flip: bool) -> Vec<f32> {
    let s = spec.size;
    let plane = (s * s) as usize;
    let mut out = vec![0f32; 3 * plane];
    for y in 0..s.min(src.height()) {
        for x in 0..s.min(src.width()) {
            let p = src.get_pixel(x0 + x, y0 + y).0;
            let i = (y * s + if flip { s - 1 - x } else { x }) as usize;
            for c in 0..3 {
                out[c * plane + i] = (f32::from(p[c]) - spec.mean[c]) / spec.std[c];
            }
        }
    }
    out
}

/// View `view` of a photo for training. View 0 is [`preprocess`]; the others are fixed random
/// augmentations drawn from `key` (the photo's SHA-256, so a view never changes):
/// a crop covering 35–100 % of the area with aspect ratio 3:4–4:3 (log-uniform), as torchvision's
/// `RandomResizedCrop`, resized to `spec.size`² (bicubic), mirrored with probability ½.
pub fn training_view(img: &RgbImage, spec: &InputSpec, key: &str, view: usize) -> Vec<f32> {
    if view == 0 {
        return preprocess(img, spec);
    }
    let mut state = crowdsift_core::rng::seed_for(key, view as u64);
    let unit = |s: &mut u64| crowdsift_core::rng::unit(s);
    let (w, h) = img.dimensions();
    let area = f64::from(w) * f64::from(h);
    // Up to ten tries for a crop that fits, as torchvision does; then the centred square.
    let mut window = None;
    for _ in 0..10 {
        let target = area * (0.35 + 0.65 * unit(&mut state));
        let ratio = ((3f64 / 4.0).ln() + unit(&mut state) * ((4f64 / 3.0).ln() - (3f64 / 4.0).ln())).exp();
        let cw = (target * ratio).sqrt().round() as u32;
        let ch = (target / ratio).sqrt().round() as u32;
        if (1..=w).contains(&cw) && (1..=h).contains(&ch) {
            let x = (unit(&mut state) * f64::from(w - cw + 1)) as u32;
            let y = (unit(&mut state) * f64::from(h - ch + 1)) as u32;
            window = Some((x.min(w - cw), y.min(h - ch), cw, ch));
            break;
        }
    }
    let (x, y, cw, ch) = window.unwrap_or_else(|| {
        let side = w.min(h);
        ((w - side) / 2, (h - side) / 2, side, side)
    });
    let flip = unit(&mut state) < 0.5;
    let crop = image::imageops::crop_imm(img, x, y, cw, ch).to_image();
    let resized = bicubic_like_pillow(&crop, spec.size, spec.size);
    normalise(&resized, 0, 0, spec, flip)
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

    #[test]
    fn training_views_are_fixed_crops_and_flips() {
        // Left half black, right half white: a mirrored view has the white half on the left.
        let img = RgbImage::from_fn(400, 300, |x, _| if x < 200 { image::Rgb([0; 3]) } else { image::Rgb([255; 3]) });
        let s = spec();
        assert_eq!(training_view(&img, &s, "k", 0), preprocess(&img, &s));
        let views: Vec<Vec<f32>> = (1..9).map(|v| training_view(&img, &s, "k", v)).collect();
        assert_eq!(views[0], training_view(&img, &s, "k", 1), "a view is a function of seed and index");
        let left_white = |x: &[f32]| x[112 * 224 + 5] > 0.5;
        let flipped = views.iter().filter(|v| left_white(v)).count();
        assert!((1..8).contains(&flipped), "{flipped} of 8 views mirrored");
        for v in &views {
            assert_eq!(v.len(), 3 * 224 * 224);
            assert_ne!(v, &preprocess(&img, &s));
        }
    }
}
