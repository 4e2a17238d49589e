//! Text-line tensors for the classifier and the recogniser: resized to the network height
//! (bilinear, as OpenCV's `resize`), `(px/255 − 0.5)/0.5` in B, G, R order, zero-padded on the right.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

/// Height of text-line inputs.
pub const LINE_H: usize = 48;

/// Bilinear resize without antialiasing (OpenCV's `INTER_LINEAR`, which PaddleOCR's
/// preprocessing uses), so shrinking matches the models' training input.
pub fn resize_bilinear(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    resize(img, w, h, ResizeAlg::Interpolation(FilterType::Bilinear))
}

/// `img` shrunk to `w` × `h` with antialiasing (each output pixel the mean of the input pixels it
/// covers, as a DCT-scaled JPEG decode shrinks), for large reductions where a bilinear sample
/// would skip most pixels and turn small print into noise.
pub fn shrink(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    resize(img, w, h, ResizeAlg::Convolution(FilterType::Box))
}

fn resize(img: &RgbImage, w: u32, h: u32, alg: ResizeAlg) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let mut dst = RgbImage::new(w.max(1), h.max(1));
    // Resizing an 8-bit RGB image into a buffer of the requested size cannot fail.
    let _ = Resizer::new().resize(img, &mut dst, &ResizeOptions::new().resize_alg(alg));
    dst
}

/// Width/height ratio of a crop.
pub fn ratio(img: &RgbImage) -> f32 {
    img.width() as f32 / img.height().max(1) as f32
}

/// Writes `img` as one `3 × LINE_H × width` slice of `out`: scaled to height 48 and to
/// `min(width, ceil(48 · w/h))` wide, the rest zeros.
pub fn write_line(img: &RgbImage, width: usize, out: &mut [f32]) {
    let rw = ((LINE_H as f32 * ratio(img)).ceil() as usize).clamp(1, width);
    let small = resize_bilinear(img, rw as u32, LINE_H as u32);
    let plane = LINE_H * width;
    for (x, y, p) in small.enumerate_pixels() {
        let i = y as usize * width + x as usize;
        for (c, &v) in [p.0[2], p.0[1], p.0[0]].iter().enumerate() {
            out[c * plane + i] = (f32::from(v) / 255.0 - 0.5) / 0.5;
        }
    }
}

/// A crop as the line models trained here read it (the style classifier, the digit reader): grey,
/// `height` high keeping its aspect (scaled as their training lines were, by an averaging bilinear
/// filter: PIL's `BILINEAR`, `image`'s `Triangle`), its width `height · w/h` rounded and held
/// within `widths`, then edge-padded on the right to `pad(width)`. One value (0–255) per pixel,
/// row by row; returns the values and the padded width.
pub fn grey_line(
    crop: &RgbImage,
    height: usize,
    (least, most): (usize, usize),
    pad: impl FnOnce(usize) -> usize,
) -> (Vec<f32>, usize) {
    let grey = image::imageops::grayscale(crop);
    let (w, h) = (grey.width().max(1) as usize, grey.height().max(1) as usize);
    let width = ((w * height) as f32 / h as f32).round().clamp(least as f32, most as f32) as usize;
    let small = image::imageops::resize(&grey, width as u32, height as u32, image::imageops::FilterType::Triangle);
    let out_w = pad(width);
    let mut v = Vec::new();
    for y in 0..height {
        for x in 0..out_w {
            v.push(f32::from(small.get_pixel(x.min(width - 1) as u32, y as u32).0[0]));
        }
    }
    (v, out_w)
}

/// Indices of `crops` ordered by width/height ratio (the batching order of PaddleOCR, so a batch
/// pads little).
pub fn by_ratio(crops: &[RgbImage]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..crops.len()).collect();
    idx.sort_by(|&a, &b| ratio(&crops[a]).total_cmp(&ratio(&crops[b])));
    idx
}
