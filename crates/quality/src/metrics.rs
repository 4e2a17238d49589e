use image::RgbImage;
use image_hasher::{HashAlg, Hasher, HasherConfig};
use serde::{Deserialize, Serialize};

/// Continuous quality scores of one photo, measured on its working-size image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Full-resolution size after orientation.
    pub width: u32,
    pub height: u32,
    /// Second-derivative energy of contrast-normalised luminance, averaged over the sharpest tenth
    /// of an 8×8 grid of regions (a sharp subject on a soft background is still sharp). Per region
    /// it is twice the smaller of the horizontal and vertical energies, so camera-shake blur along
    /// one direction counts as blur even where edges across it stay crisp.
    pub sharpness: f64,
    /// The same for the median region, reported as evidence.
    pub sharpness_median: f64,
    /// 5th, 50th and 90th percentiles of luminance, 0–1.
    pub brightness_p05: f64,
    pub brightness_p50: f64,
    pub brightness_p90: f64,
    /// Spread between the 1st and 99th percentiles of luminance, 0–1: near zero for a flat frame
    /// (lens cap, wall, blank page) even with sensor noise; a product cut-out on white is wide.
    pub contrast_range: f64,
    /// Share of pixels with luminance ≥ 250.
    pub clipped_share: f64,
    /// Shannon entropy (bits, 0–5) of a 32-bin luminance histogram: bins of 8 levels absorb sensor
    /// noise, so a flat frame (lens cap, wall, blank page) scores near zero and a scene 2.5–5.
    /// Not contrast-normalised: stretching a flat frame would turn its noise into "information".
    pub entropy: f64,
    /// 99th percentile of HSV saturation over pixels neither near black nor blown out, 0–1 (a
    /// coloured subject on a grey background is not grayscale);
    /// `None` when under 2% of the pixels are such (too dark or too bright to judge colour).
    pub colorfulness: Option<f64>,
}

fn percentile(hist: &[u64; 256], total: u64, q: f64) -> usize {
    let target = (q * total as f64).ceil().max(1.0) as u64;
    let mut acc = 0;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            return i;
        }
    }
    255
}

/// Measures `img` (the upright working image) of a photo whose full size is `width × height`.
pub fn measure(img: &RgbImage, width: u32, height: u32) -> Scores {
    let (w, h) = img.dimensions();
    let n = u64::from(w) * u64::from(h);
    let mut lum: Vec<u8> = Vec::new();
    lum.reserve_exact(n as usize);
    let mut hist = [0u64; 256];
    let mut sat_hist = [0u64; 256];
    let mut sat_n = 0u64;
    for p in img.pixels() {
        let [r, g, b] = p.0;
        let l = ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8;
        lum.push(l);
        hist[usize::from(l)] += 1;
        let (max, min) = (r.max(g).max(b), r.min(g).min(b));
        if (16..250).contains(&max) {
            sat_hist[usize::from(max - min) * 255 / usize::from(max)] += 1;
            sat_n += 1;
        }
    }
    if n == 0 {
        return Scores {
            width,
            height,
            sharpness: 0.0,
            sharpness_median: 0.0,
            brightness_p05: 0.0,
            brightness_p50: 0.0,
            brightness_p90: 0.0,
            contrast_range: 0.0,
            clipped_share: 0.0,
            entropy: 0.0,
            colorfulness: None,
        };
    }
    let mut bins = [0u64; 32];
    for (level, &c) in hist.iter().enumerate() {
        bins[level / 8] += c;
    }
    let entropy = bins
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum();
    let colorfulness = (sat_n * 50 >= n).then(|| percentile(&sat_hist, sat_n, 0.99) as f64 / 255.0);
    let gain = contrast_gain(&hist, n);
    let (sharpness, sharpness_median) = tile_sharpness(&lum, w as usize, h as usize, gain);
    Scores {
        width,
        height,
        sharpness,
        sharpness_median,
        brightness_p05: percentile(&hist, n, 0.05) as f64 / 255.0,
        brightness_p50: percentile(&hist, n, 0.50) as f64 / 255.0,
        brightness_p90: percentile(&hist, n, 0.90) as f64 / 255.0,
        contrast_range: (percentile(&hist, n, 0.99) as f64 - percentile(&hist, n, 0.01) as f64) / 255.0,
        clipped_share: hist[250..].iter().sum::<u64>() as f64 / n as f64,
        entropy,
        colorfulness,
    }
}

/// Contrast normalisation for the blur score: the gain that maps the 1st–99th percentile range of
/// luminance to the full range, capped so that a flat, noisy frame is not blown up into texture.
/// A dim but sharp photo is then not blurry; darkness is the `dark` check's business.
fn contrast_gain(hist: &[u64; 256], n: u64) -> f64 {
    const MAX_GAIN: f64 = 4.0;
    let lo = percentile(hist, n, 0.01) as f64;
    let hi = percentile(hist, n, 0.99) as f64;
    (255.0 / (hi - lo).max(1.0)).min(MAX_GAIN)
}

/// Directional second-derivative energy per region of an 8×8 grid; returns (mean of the sharpest
/// tenth of regions, median region).
fn tile_sharpness(lum: &[u8], w: usize, h: usize, gain: f64) -> (f64, f64) {
    if w < 3 || h < 3 {
        return (0.0, 0.0);
    }
    let (nx, ny) = ((w / 8).clamp(1, 8), (h / 8).clamp(1, 8));
    // Per region: sum and sum of squares of d²/dx² and d²/dy², and the pixel count.
    let mut acc = vec![[0f64; 4]; nx * ny];
    let mut count = vec![0u32; nx * ny];
    for y in 1..h - 1 {
        let ty = (y * ny / h).min(ny - 1);
        let row = &lum[y * w..(y + 1) * w];
        let up = &lum[(y - 1) * w..y * w];
        let down = &lum[(y + 1) * w..(y + 2) * w];
        for x in 1..w - 1 {
            let c = 2 * i32::from(row[x]);
            let dxx = f64::from(c - i32::from(row[x - 1]) - i32::from(row[x + 1]));
            let dyy = f64::from(c - i32::from(up[x]) - i32::from(down[x]));
            let t = ty * nx + (x * nx / w).min(nx - 1);
            let a = &mut acc[t];
            a[0] += dxx;
            a[1] += dxx * dxx;
            a[2] += dyy;
            a[3] += dyy * dyy;
            count[t] += 1;
        }
    }
    let mut energies: Vec<f64> = (0..nx * ny)
        .filter(|&t| count[t] > 0)
        .map(|t| {
            let c = f64::from(count[t]);
            let [sx, sxx, sy, syy] = acc[t];
            let vx = (sxx / c - (sx / c).powi(2)).max(0.0);
            let vy = (syy / c - (sy / c).powi(2)).max(0.0);
            2.0 * vx.min(vy) * gain * gain
        })
        .collect();
    if energies.is_empty() {
        return (0.0, 0.0);
    }
    energies.sort_by(|a, b| b.total_cmp(a));
    let top = energies.len().div_ceil(10);
    let sharp = energies[..top].iter().sum::<f64>() / top as f64;
    (sharp, energies[energies.len() / 2])
}

/// 64-bit DCT perceptual hash (pHash: low-frequency DCT coefficients against their median; the
/// mean would be dominated by the DC term and set almost no bits), reusable across photos.
pub struct PerceptualHasher(Hasher);

impl Default for PerceptualHasher {
    fn default() -> Self {
        Self(HasherConfig::new().hash_size(8, 8).hash_alg(HashAlg::Median).preproc_dct().to_hasher())
    }
}

impl PerceptualHasher {
    pub fn hash(&self, img: &RgbImage) -> u64 {
        let h = self.0.hash_image(img);
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(h.as_bytes()) {
            *d = *s;
        }
        u64::from_be_bytes(b)
    }
}

/// Convenience for one-off hashing; prefer a reused [`PerceptualHasher`] in loops.
pub fn perceptual_hash(img: &RgbImage) -> u64 {
    PerceptualHasher::default().hash(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, imageops};

    /// A textured colour test card: edges at many scales, like a photo.
    fn card(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let checker = ((x / 8 + y / 8) % 2) as u8 * 120;
            let ring = (((x as f32 - w as f32 / 2.0).hypot(y as f32 - h as f32 / 2.0) / 6.0).sin() * 60.0 + 60.0) as u8;
            Rgb([checker.saturating_add(ring), (x * 255 / w) as u8, (y * 255 / h) as u8])
        })
    }

    #[test]
    fn blur_lowers_sharpness_monotonically() {
        let img = card(400, 300);
        let s0 = measure(&img, 400, 300).sharpness;
        let s2 = measure(&imageops::blur(&img, 2.0), 400, 300).sharpness;
        let s6 = measure(&imageops::blur(&img, 6.0), 400, 300).sharpness;
        assert!(s0 > 10.0 * s2 && s2 > 2.0 * s6, "{s0} {s2} {s6}");
    }

    #[test]
    fn sharp_subject_on_soft_background_is_sharp() {
        let sharp = card(400, 300);
        let mut img = imageops::blur(&sharp, 8.0);
        // Paste a sharp 25% region: the photo is not blurry.
        imageops::replace(&mut img, &imageops::crop_imm(&sharp, 0, 0, 200, 150).to_image(), 100, 75);
        let mixed = measure(&img, 400, 300);
        let full = measure(&sharp, 400, 300);
        assert!(mixed.sharpness > 0.5 * full.sharpness, "{mixed:?} vs {full:?}");
        assert!(mixed.sharpness_median < 0.2 * full.sharpness);
    }

    #[test]
    fn exposure_entropy_and_colour() {
        let img = card(200, 200);
        let dark = RgbImage::from_fn(200, 200, |x, y| {
            let p = img.get_pixel(x, y).0;
            Rgb(p.map(|c| (f32::from(c) * 0.1) as u8))
        });
        let white = RgbImage::from_pixel(200, 200, Rgb([253, 253, 253]));
        let gray = RgbImage::from_fn(200, 200, |x, y| {
            let l = img.get_pixel(x, y).0[0];
            Rgb([l, l, l])
        });
        let s = measure(&img, 200, 200);
        assert!(s.brightness_p90 > 0.5 && s.entropy > 3.0 && s.colorfulness > Some(0.3), "{s:?}");
        assert!(measure(&dark, 200, 200).brightness_p90 < 0.1);
        let w = measure(&white, 200, 200);
        assert!(w.clipped_share > 0.99 && w.entropy < 0.01 && w.contrast_range < 0.01);
        assert!(s.contrast_range > 0.5);
        assert!(measure(&gray, 200, 200).colorfulness < Some(0.01));
        // Darkening keeps the colour (saturation is a ratio)...
        assert!(measure(&dark, 200, 200).colorfulness > Some(0.3));
        // ...until nothing is left to judge it by.
        assert_eq!(measure(&RgbImage::new(50, 50), 50, 50).colorfulness, None);
        assert_eq!(w.colorfulness, None);
    }

    #[test]
    fn phash_is_stable_under_resize_and_differs_between_photos() {
        let a = card(400, 300);
        let a_small = imageops::resize(&a, 320, 240, imageops::FilterType::Triangle);
        let b = RgbImage::from_fn(400, 300, |x, y| {
            let v = if x < 200 { (y * 255 / 300) as u8 } else { 255 - (x * 255 / 400) as u8 };
            Rgb([v, v / 2, 255 - v])
        });
        let h = PerceptualHasher::default();
        let (ha, hs, hb) = (h.hash(&a), h.hash(&a_small), h.hash(&b));
        assert!((ha ^ hs).count_ones() <= 4, "{}", (ha ^ hs).count_ones());
        assert!((ha ^ hb).count_ones() > 12, "{}", (ha ^ hb).count_ones());
    }

    #[test]
    fn tiny_and_empty_images_do_not_panic() {
        for (w, h) in [(1, 1), (2, 5), (3, 3), (0, 0)] {
            let s = measure(&RgbImage::new(w, h), w, h);
            assert!(s.sharpness.is_finite());
        }
    }
}
