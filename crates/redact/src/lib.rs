//! Stage 8 of crowdsift: hiding regions of a photo so that what they showed cannot be recovered,
//! and writing release copies that carry no metadata.
//!
//! Every style first destroys information and only then makes the result look tidy:
//! - [`Style::Blur`]: the region is averaged in cells proportional to its height (many-to-one: no
//!   deconvolution brings the detail back — a plain Gaussian blur is invertible in principle), the
//!   cell means are interpolated smoothly back to full size, and seeded noise is added;
//! - [`Style::Pixelate`]: large cells (more than half a text line's height, a sixth of a face),
//!   each one flat colour plus noise, so that cell means cannot be matched against rendered text
//!   (the attack Depix uses on small, noise-free pixelation);
//! - [`Style::Fill`]: solid black.
//!
//! Regions are padded along their own axes before they are hidden (OCR boxes are tight and
//! character positions within a line are estimated), and only pixels inside the padded quad change.

pub mod encode;
pub mod meta;

use crowdsift_core::rng;
use image::{GrayImage, Luma, Rgb, RgbImage};
use imageproc::point::Point;
use serde::{Deserialize, Serialize};

pub use encode::{EncodeError, Encoded, OutputFormat, encode};
pub use meta::{Metadata, inspect};

/// Corners in photo pixels: top-left, top-right, bottom-right, bottom-left.
pub type Quad = [[f32; 2]; 4];

/// How regions are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Cells averaged, blurred and noised.
    #[default]
    Blur,
    /// Large flat cells with noise.
    Pixelate,
    /// Black.
    Fill,
}

impl Style {
    pub fn parse(s: &str) -> Option<Style> {
        Some(match s {
            "blur" => Style::Blur,
            "pixelate" => Style::Pixelate,
            "fill" => Style::Fill,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Style::Blur => "blur",
            Style::Pixelate => "pixelate",
            Style::Fill => "fill",
        }
    }
}

/// What a region holds, which sets its padding and cell size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A line of text or part of one: the quad's height is the text's height.
    Text,
    /// A box around an object: a face, a QR code, a barcode.
    Object,
}

/// A region to hide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub quad: Quad,
    pub shape: Shape,
}

/// Padding and cell size for a region of height `h` pixels.
fn geometry(shape: Shape, h: f32) -> (f32, f32) {
    match shape {
        // A quarter of the line height each side (at least 3 px); cells 0.6 h: about a character.
        Shape::Text => ((0.3 * h).max(3.0), (0.6 * h).max(6.0)),
        // Objects: 15 % each side (a face's hair line and chin, a code's quiet zone); six cells
        // across.
        Shape::Object => ((0.15 * h).max(3.0), (h / 6.0).max(6.0)),
    }
}

fn sub(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [a[0] - b[0], a[1] - b[1]]
}

fn len(v: [f32; 2]) -> f32 {
    v[0].hypot(v[1])
}

/// The quad's height (mean of its left and right edges).
pub fn height(q: &Quad) -> f32 {
    0.5 * (len(sub(q[3], q[0])) + len(sub(q[2], q[1])))
}

/// `q` grown by `pad` pixels on every side, along its own axes (axis-aligned for degenerate quads).
pub fn pad_quad(q: &Quad, pad: f32) -> Quad {
    let unit = |v: [f32; 2]| {
        let l = len(v);
        (l > 1e-3).then(|| [v[0] / l, v[1] / l])
    };
    let along = unit(sub(q[1], q[0])).or_else(|| unit(sub(q[2], q[3]))).unwrap_or([1.0, 0.0]);
    // Down is the along axis turned a quarter clockwise (image y grows downwards).
    let down = [-along[1], along[0]];
    let shift = |p: [f32; 2], a: f32, d: f32| {
        [p[0] + pad * (a * along[0] + d * down[0]), p[1] + pad * (a * along[1] + d * down[1])]
    };
    [shift(q[0], -1.0, -1.0), shift(q[1], 1.0, -1.0), shift(q[2], 1.0, 1.0), shift(q[3], -1.0, 1.0)]
}

/// Pixel bounds `[x0, y0, x1, y1)` of a quad grown by `margin`, clipped to a `w`×`h` image
/// (`None` when nothing of it is inside).
fn bounds(q: &Quad, margin: f32, w: u32, h: u32) -> Option<[u32; 4]> {
    let min = |i: usize| q.iter().map(|p| p[i]).fold(f32::MAX, f32::min) - margin;
    let max = |i: usize| q.iter().map(|p| p[i]).fold(f32::MIN, f32::max) + margin;
    let clip = |v: f32, hi: u32| v.floor().clamp(0.0, hi as f32) as u32;
    let clip_up = |v: f32, hi: u32| v.ceil().clamp(0.0, hi as f32) as u32;
    let b = [clip(min(0), w), clip(min(1), h), clip_up(max(0), w), clip_up(max(1), h)];
    (b[0] < b[2] && b[1] < b[3]).then_some(b)
}

/// Hides `regions` of `img` in `style`. `seed` makes the noise reproducible (use the photo's
/// SHA-256 with [`rng::seed_for`]). Returns the padded quads that were changed, in the order
/// given (regions wholly outside the photo are returned as they were padded and change nothing).
pub fn redact(img: &mut RgbImage, regions: &[Region], style: Style, seed: u64) -> Vec<Quad> {
    let (w, h) = img.dimensions();
    let mut state = seed;
    let mut done = Vec::new();
    for r in regions {
        let (pad, cell) = geometry(r.shape, height(&r.quad));
        let q = pad_quad(&r.quad, pad);
        done.push(q);
        let Some(b) = bounds(&q, 0.0, w, h) else { continue };
        let mask = mask(&q, b);
        match style {
            Style::Fill => fill(img, b, &mask),
            Style::Pixelate => {
                pixelate(img, b, &mask, cell.round() as u32);
                noise(img, b, &mask, 6.0, &mut state);
            }
            Style::Blur => blur(img, b, &mask, cell.round() as u32, &mut state),
        }
    }
    done
}

/// The pixels of bounds `b` inside quad `q` (255), as an image the size of `b`.
fn mask(q: &Quad, b: [u32; 4]) -> GrayImage {
    let mut m = GrayImage::new(b[2] - b[0], b[3] - b[1]);
    let mut pts: Vec<Point<i32>> = q
        .iter()
        .map(|p| Point::new((p[0] - b[0] as f32).round() as i32, (p[1] - b[1] as f32).round() as i32))
        .collect();
    pts.dedup();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        // A quad flattened to a line or a point: hide its whole bounds.
        m.pixels_mut().for_each(|p| *p = Luma([255]));
    } else {
        imageproc::drawing::draw_polygon_mut(&mut m, &pts, Luma([255]));
    }
    m
}

fn inside(mask: &GrayImage, b: [u32; 4], x: u32, y: u32) -> bool {
    mask.get_pixel(x - b[0], y - b[1])[0] > 0
}

fn fill(img: &mut RgbImage, b: [u32; 4], mask: &GrayImage) {
    for y in b[1]..b[3] {
        for x in b[0]..b[2] {
            if inside(mask, b, x, y) {
                img.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
    }
}

/// The mean colour of each `cell`×`cell` square of bounds `b` (grid anchored at `b`'s corner;
/// the last row and column may be partial), as a small image.
fn cell_means(img: &RgbImage, b: [u32; 4], cell: u32) -> RgbImage {
    let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
    RgbImage::from_fn(bw.div_ceil(cell), bh.div_ceil(cell), |gx, gy| {
        let (cx, cy) = (b[0] + gx * cell, b[1] + gy * cell);
        let (ex, ey) = ((cx + cell).min(b[2]), (cy + cell).min(b[3]));
        let mut sum = [0u64; 3];
        for y in cy..ey {
            for x in cx..ex {
                let p = img.get_pixel(x, y).0;
                (0..3).for_each(|c| sum[c] += u64::from(p[c]));
            }
        }
        let n = u64::from((ex - cx) * (ey - cy)).max(1);
        Rgb(sum.map(|s| ((s + n / 2) / n) as u8))
    })
}

/// Each cell of the masked pixels becomes its mean colour.
fn pixelate(img: &mut RgbImage, b: [u32; 4], mask: &GrayImage, cell: u32) {
    let cell = cell.max(1);
    let grid = cell_means(img, b, cell);
    for y in b[1]..b[3] {
        for x in b[0]..b[2] {
            if inside(mask, b, x, y) {
                img.put_pixel(x, y, *grid.get_pixel((x - b[0]) / cell, (y - b[1]) / cell));
            }
        }
    }
}

/// Adds zero-mean Gaussian noise of `sigma` levels to the masked pixels.
fn noise(img: &mut RgbImage, b: [u32; 4], mask: &GrayImage, sigma: f64, state: &mut u64) {
    for y in b[1]..b[3] {
        for x in b[0]..b[2] {
            if inside(mask, b, x, y) {
                let p = img.get_pixel_mut(x, y);
                for c in 0..3 {
                    p.0[c] = (f64::from(p.0[c]) + sigma * rng::normal(state)).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// The cell means interpolated back up to full size (bilinear: a tent blur of the cell grid, in
/// time proportional to the region whatever its size — a Gaussian of a face-sized radius on a
/// 12 MP photo is not), written inside the mask, plus noise.
fn blur(img: &mut RgbImage, b: [u32; 4], mask: &GrayImage, cell: u32, state: &mut u64) {
    let cell = cell.max(1);
    let grid = cell_means(img, b, cell);
    let smooth = image::imageops::resize(
        &grid,
        grid.width() * cell,
        grid.height() * cell,
        image::imageops::FilterType::Triangle,
    );
    for y in b[1]..b[3] {
        for x in b[0]..b[2] {
            if inside(mask, b, x, y) {
                img.put_pixel(x, y, *smooth.get_pixel(x - b[0], y - b[1]));
            }
        }
    }
    noise(img, b, mask, 4.0, state);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo-like test card: smooth gradient with black stripes 2 px wide (fine detail).
    fn card(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            if x % 6 < 2 { Rgb([0, 0, 0]) } else { Rgb([(x * 255 / w) as u8, 200, (y * 255 / h) as u8]) }
        })
    }

    fn quad(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    /// Mean absolute horizontal difference of neighbouring pixels in a window: the stripes' detail.
    fn detail(img: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
        let mut s = 0.0;
        let mut n = 0.0;
        for y in y0..y1 {
            for x in x0..x1 - 1 {
                s += (f64::from(img.get_pixel(x, y)[1]) - f64::from(img.get_pixel(x + 1, y)[1])).abs();
                n += 1.0;
            }
        }
        s / n
    }

    #[test]
    fn padding_follows_the_quads_axes() {
        let q = quad(10.0, 10.0, 50.0, 20.0);
        assert_eq!(pad_quad(&q, 2.0), quad(8.0, 8.0, 52.0, 22.0));
        // Turned a quarter clockwise: along points down, so "down" points left.
        let turned = [[20.0, 10.0], [20.0, 50.0], [10.0, 50.0], [10.0, 10.0]];
        let p = pad_quad(&turned, 1.0);
        assert_eq!(p, [[21.0, 9.0], [21.0, 51.0], [9.0, 51.0], [9.0, 9.0]]);
        // A point: padded into a square.
        assert_eq!(pad_quad(&[[5.0, 5.0]; 4], 1.0), quad(4.0, 4.0, 6.0, 6.0));
    }

    #[test]
    fn every_style_removes_the_detail_inside_and_nothing_outside() {
        let original = card(200, 100);
        let region = Region { quad: quad(60.0, 40.0, 140.0, 60.0), shape: Shape::Text };
        for style in [Style::Blur, Style::Pixelate, Style::Fill] {
            let mut img = original.clone();
            let done = redact(&mut img, &[region], style, 7);
            // Padded by 0.3 × 20 = 6 px on each side.
            assert_eq!(done, [quad(54.0, 34.0, 146.0, 66.0)], "{style:?}");
            let before = detail(&original, 60, 40, 140, 60);
            let after = detail(&img, 60, 40, 140, 60);
            assert!(before > 50.0 && after < before / 5.0, "{style:?}: detail {before:.1} → {after:.1}");
            // Outside the padded region not one pixel changed.
            for (x, y, p) in img.enumerate_pixels() {
                let outside = !(54..146).contains(&x) || !(34..66).contains(&y);
                if outside {
                    assert_eq!(p, original.get_pixel(x, y), "{style:?} changed ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_pixels_and_another_seed_other_noise() {
        let region = Region { quad: quad(20.0, 20.0, 80.0, 50.0), shape: Shape::Object };
        let run = |seed| {
            let mut img = card(100, 80);
            redact(&mut img, &[region], Style::Blur, seed);
            img
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn regions_outside_or_across_the_border_are_clipped() {
        let mut img = card(50, 50);
        let regions = [
            Region { quad: quad(-30.0, -30.0, -10.0, -20.0), shape: Shape::Text },
            Region { quad: quad(40.0, 40.0, 90.0, 60.0), shape: Shape::Text },
            Region { quad: [[25.0, 25.0]; 4], shape: Shape::Object },
        ];
        for style in [Style::Blur, Style::Pixelate, Style::Fill] {
            assert_eq!(redact(&mut img, &regions, style, 3).len(), 3);
        }
        assert_eq!(*img.get_pixel(49, 49), Rgb([0, 0, 0]), "the corner inside the second region is filled");
    }
}
