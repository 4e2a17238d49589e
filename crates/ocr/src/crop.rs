//! Perspective crop of a text box into an upright strip (PaddleOCR's `get_rotate_crop_image`).

use image::RgbImage;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, rotate270, warp_into};

use crate::db::Quad;

/// The text in `q` (top-left, top-right, bottom-right, bottom-left) warped to a rectangle as wide
/// and as high as the quad's longer edges; strips at least 1.5 times taller than wide are turned
/// a quarter counter-clockwise (vertical text read top to bottom).
pub fn crop_quad(img: &RgbImage, q: &Quad) -> RgbImage {
    let q = &crate::db::walk_order(*q);
    let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let w = (d(q[0], q[1]).max(d(q[2], q[3])) as u32).max(1);
    let h = (d(q[0], q[3]).max(d(q[1], q[2])) as u32).max(1);
    let (wf, hf) = (w as f32, h as f32);
    let from = q.map(|[x, y]| (x, y));
    let mut out = RgbImage::new(w, h);
    match Projection::from_control_points(from, [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)]) {
        Some(p) => warp_into(img, p, Interpolation::Bicubic, Border::Replicate, &mut out),
        // Degenerate corners (collinear): the axis-aligned bounding box instead.
        None => {
            let x0 = q.iter().map(|p| p[0]).fold(f32::MAX, f32::min).max(0.0) as u32;
            let y0 = q.iter().map(|p| p[1]).fold(f32::MAX, f32::min).max(0.0) as u32;
            out = image::imageops::crop_imm(img, x0, y0, w, h).to_image();
        }
    }
    if hf / wf >= 1.5 { rotate270(&out) } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_quad_is_a_plain_crop_and_tall_strips_turn() {
        let img = RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 5, y as u8 * 5, 0]));
        let c = crop_quad(&img, &[[10.0, 5.0], [30.0, 5.0], [30.0, 15.0], [10.0, 15.0]]);
        assert_eq!(c.dimensions(), (20, 10));
        assert_eq!(c.get_pixel(0, 0).0, [50, 25, 0]);
        assert_eq!(c.get_pixel(19, 9).0, [145, 70, 0]);
        let tall = crop_quad(&img, &[[5.0, 0.0], [10.0, 0.0], [10.0, 20.0], [5.0, 20.0]]);
        assert_eq!(tall.dimensions(), (20, 5));
    }
}
