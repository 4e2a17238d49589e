//! The DB text detector: photo → probability map → boxes.

use crowdsift_models::{OcrSpec, OnnxNet};
use image::RgbImage;

use crate::OcrError;
use crate::db::{DbParams, Quad, boxes, reading_order};
use crate::lines::{resize_bilinear, shrink};
use crate::search;

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
/// The overview's longer side for a model whose own rule bounds the shorter side.
const OVERVIEW_SIDE: u32 = 960;

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
    /// exceeds 1.25 tiles is searched as [`crate::search`] says: the whole photo shrunk to the
    /// detector's size first, then windows of the photo (at most `tile` pixels at full resolution,
    /// two tiles at half) where that overview saw low lines or traces of text.
    pub fn search(&mut self, img: &RgbImage, params: &DbParams, tile: Option<u32>) -> Result<Vec<Quad>, OcrError> {
        let (w, h) = img.dimensions();
        let Some(tile) = tile.filter(|&t| t >= 64 && 4 * w.max(h) > 5 * t) else {
            return self.detect(img, params);
        };
        // The overview is shrunk by the longer side whatever the model's own rule (PP-OCRv6's
        // "shorter side at least 736" would run a 12 MP photo at 2000 px).
        let side = if self.limit_max { self.side } else { OVERVIEW_SIDE };
        let (iw, ih) = input_size(w, h, side, true);
        let small = shrink(img, iw, ih);
        let (prob, mw, mh) = self.prob_map(&small)?;
        let found = boxes(&prob, mw, mh, w, h, &self.own(params));
        let scale = w as f32 / mw as f32;
        let view = search::overview(found, &prob, mw, mh, scale, (w, h));
        let mut near = Vec::new();
        for window in search::windows(&view.looks, tile, w, h) {
            let [x0, y0, x1, y1] = window.rect;
            let part = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
            let (dx, dy) = (x0 as f32, y0 as f32);
            let found = self.detect_at(&part, params, window.side, true)?;
            near.extend(found.into_iter().filter(|q| !window.texture(q)).map(|q| q.map(|[x, y]| [x + dx, y + dy])));
        }
        let mut all = search::combine(view, near);
        reading_order(&mut all);
        Ok(all)
    }

    /// The detector's probability map of `img` (already at an input size, sides multiples of
    /// 32): the map, its width and height.
    fn prob_map(&mut self, img: &RgbImage) -> Result<(Vec<f32>, usize, usize), OcrError> {
        let (iw, ih) = img.dimensions();
        let plane = (iw * ih) as usize;
        let mut x = vec![0f32; 3 * plane];
        for (i, p) in img.pixels().enumerate() {
            for (c, &v) in [p.0[2], p.0[1], p.0[0]].iter().enumerate() {
                x[c * plane + i] = (f32::from(v) / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        let (shape, prob) = self.net.run(&[1, 3, ih as usize, iw as usize], &x)?;
        let [_, _, mh, mw] = shape[..] else {
            return Err(OcrError::Shape(format!("detector output has shape {shape:?}, expected [1, 1, H, W]")));
        };
        if prob.len() != mw * mh {
            return Err(OcrError::Shape(format!("detector output has {} values for {mw} × {mh}", prob.len())));
        }
        Ok((prob, mw, mh))
    }

    /// `params` with this model's own post-processing (PP-OCRv6 dilates its map).
    fn own(&self, params: &DbParams) -> DbParams {
        DbParams { dilate: self.dilate || params.dilate, ..*params }
    }

    /// Text boxes of `img` in reading order, in its pixels.
    pub fn detect(&mut self, img: &RgbImage, params: &DbParams) -> Result<Vec<Quad>, OcrError> {
        self.detect_at(img, params, self.side, self.limit_max)
    }

    /// As [`Detector::detect`], with the input sized by `side` under the rule `limit_max`.
    pub(crate) fn detect_at(
        &mut self,
        img: &RgbImage,
        params: &DbParams,
        side: u32,
        limit_max: bool,
    ) -> Result<Vec<Quad>, OcrError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let (iw, ih) = input_size(w, h, side, limit_max);
        let (prob, mw, mh) = self.prob_map(&resize_bilinear(img, iw, ih))?;
        let mut found = boxes(&prob, mw, mh, w, h, &self.own(params));
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
