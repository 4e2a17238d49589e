//! The DB text detector: photo → probability map → boxes.

use crowdsift_models::{OcrSpec, OnnxNet};
use image::RgbImage;

use crate::OcrError;
use crate::db::{DbParams, Quad, boxes, merge_overlapping, reading_order};
use crate::lines::resize_bilinear;

pub struct Detector {
    net: OnnxNet,
    mean: [f32; 3],
    std: [f32; 3],
    side: u32,
    limit_max: bool,
    dilate: bool,
}

/// Longest detector input side under the `min` rule.
const MAX_SIDE_MIN_RULE: f64 = 2000.0;

/// Network input size for a `w` × `h` photo: scaled so the longer side is at most `side` (or the
/// shorter at least `side`, the longer at most 2000), truncated, then each side rounded
/// half-to-even to a multiple of 32 (at least 32), as PaddleOCR's `DetResizeForTest`.
pub fn input_size(w: u32, h: u32, side: u32, limit_max: bool) -> (u32, u32) {
    let (wf, hf, s) = (f64::from(w), f64::from(h), f64::from(side));
    let ratio = if limit_max {
        if wf.max(hf) > s { s / wf.max(hf) } else { 1.0 }
    } else {
        // Shorter side at least `side`, longer side at most 2000 (rapidocr's bounds): a 12 MP photo
        // is not run at full size.
        let up = if wf.min(hf) < s { s / wf.min(hf) } else { 1.0 };
        up.min(MAX_SIDE_MIN_RULE / wf.max(hf))
    };
    let r32 = |v: f64| (((v * ratio).trunc() / 32.0).round_ties_even() * 32.0).max(32.0) as u32;
    (r32(wf), r32(hf))
}

impl Detector {
    pub fn load(spec: &OcrSpec, threads: usize) -> Result<Self, OcrError> {
        Ok(Detector {
            net: OnnxNet::load(&spec.det.path, threads)?,
            mean: spec.det_mean,
            std: spec.det_std,
            side: spec.det_side,
            limit_max: spec.det_limit != "min",
            dilate: spec.det_dilate,
        })
    }

    /// Text boxes of `img` in reading order, in its pixels. With `tile`, a photo whose longer side
    /// exceeds 1.25 tiles is also searched in overlapping `tile`-pixel windows (a quarter overlap),
    /// each scaled on its own, so that text too small for the whole-photo pass (a price tag on a
    /// 12 MP photo shrunk to 960 px) is still found; boxes found twice are merged.
    pub fn detect_tiled(
        &mut self,
        img: &RgbImage,
        params: &DbParams,
        tile: Option<u32>,
    ) -> Result<Vec<Quad>, OcrError> {
        let (w, h) = img.dimensions();
        let tile = tile.filter(|&t| t >= 64 && 4 * w.max(h) > 5 * t);
        let whole = DbParams { split_joined: params.split_joined && tile.is_none(), ..*params };
        let mut all = self.detect(img, &whole)?;
        if let Some(tile) = tile {
            let starts = |len: u32| -> Vec<u32> {
                let stride = tile * 3 / 4;
                let mut v: Vec<u32> = (0..len.saturating_sub(tile)).step_by(stride as usize).collect();
                v.push(len.saturating_sub(tile));
                v.dedup();
                v
            };
            for &y0 in &starts(h) {
                for &x0 in &starts(w) {
                    let view = image::imageops::crop_imm(img, x0, y0, tile.min(w - x0), tile.min(h - y0)).to_image();
                    let (dx, dy) = (x0 as f32, y0 as f32);
                    all.extend(self.detect(&view, params)?.into_iter().map(|q| q.map(|[x, y]| [x + dx, y + dy])));
                }
            }
            all = merge_overlapping(all);
        }
        reading_order(&mut all);
        Ok(all)
    }

    /// Text boxes of `img` in reading order, in its pixels.
    pub fn detect(&mut self, img: &RgbImage, params: &DbParams) -> Result<Vec<Quad>, OcrError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let (iw, ih) = input_size(w, h, self.side, self.limit_max);
        let small = resize_bilinear(img, iw, ih);
        let plane = (iw * ih) as usize;
        let mut x = vec![0f32; 3 * plane];
        for (i, p) in small.pixels().enumerate() {
            for (c, &v) in [p.0[2], p.0[1], p.0[0]].iter().enumerate() {
                x[c * plane + i] = (f32::from(v) / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        let (shape, prob) = self.net.run(&[1, 3, ih as usize, iw as usize], &x)?;
        let [_, _, mh, mw] = shape[..] else {
            return Err(OcrError::Shape(format!("detector output has shape {shape:?}, expected [1, 1, H, W]")));
        };
        let params = DbParams { dilate: self.dilate || params.dilate, ..*params };
        let mut found = boxes(&prob, mw, mh, w, h, &params);
        reading_order(&mut found);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sizes_follow_paddle_rounding() {
        assert_eq!(input_size(1920, 1080, 960, true), (960, 544));
        assert_eq!(input_size(640, 480, 960, true), (640, 480));
        assert_eq!(input_size(80, 48, 960, true), (64, 64)); // 80/32 = 2.5 → 2, 48/32 = 1.5 → 2
        assert_eq!(input_size(10, 10, 960, true), (32, 32));
        assert_eq!(input_size(368, 200, 736, false), (1344, 736));
        assert_eq!(input_size(4000, 3000, 736, false), (1984, 1504)); // 2000 × 1500, to /32 half-to-even
    }
}
