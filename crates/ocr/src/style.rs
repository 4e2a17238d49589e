//! Handwritten or typed: the writing style of a text line, from its upright crop.
//!
//! A note in a collector's hand is where names and phone numbers are written, and where OCR and
//! the personal-data rules are least sure; the release holds photos with handwriting for a person
//! (see `crowdsift_pii::safety`). PP-OCR reads both styles with no word on which it saw, and no
//! model we can obtain offline tells them apart, so this is a small CNN trained here
//! (`scripts/train_handwriting.py` with PyTorch, on crops `scripts/make_handwriting_set.py` makes
//! from 63 handwriting-style and 264 typed faces, italics and bold weights among them; measured on
//! fonts it never saw:
//! bench/results/handwriting.md). candle runs it.
//!
//! Input: the crop in grey, scaled to [`HEIGHT`] pixels high keeping its aspect, edge-padded to at
//! least [`WIDTH`] wide, each crop standardised to zero mean and unit variance (ink colour and
//! paper do not matter). Net: four 3×3 convolutions (8, 16, 32, 32 channels) with ReLU, the first
//! three followed by a 2×2 max pool, global average pooling and one logit. About 15 k weights,
//! 0.2 ms a line on one core.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use image::RgbImage;

use crate::OcrError;

/// Crop height the net reads, in pixels.
pub const HEIGHT: usize = 32;
/// Crops narrower than this are padded (their edge pixels repeated) to this width.
pub const WIDTH: usize = 128;
/// Output channels of the convolutions.
pub const CHANNELS: [usize; 4] = [8, 16, 32, 32];
/// Crops are read at most this wide (longer lines are scaled down to it).
const MAX_WIDTH: usize = 1024;

/// The classifier's weights: per convolution `[out, in, 3, 3]` and `[out]`, then the logit's
/// `[1, 32]` and `[1]`.
pub struct StyleNet {
    convs: Vec<(Tensor, Tensor)>,
    fc: (Tensor, Tensor),
}

fn tensor_err(e: candle_core::Error) -> OcrError {
    OcrError::Shape(format!("handwriting classifier: {e}"))
}

impl StyleNet {
    /// Reads the weights (safetensors, as scripts/train_handwriting.py writes them).
    pub fn load(path: &Path) -> Result<Self, OcrError> {
        let bad = |msg: String| OcrError::Shape(format!("handwriting classifier {}: {msg}", path.display()));
        let mut map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| bad(e.to_string()))?;
        let mut take = |name: &str, dims: &[usize]| -> Result<Tensor, OcrError> {
            let t = map.remove(name).ok_or_else(|| bad(format!("no tensor {name}")))?;
            if t.dims() != dims {
                return Err(bad(format!("{name} is {:?}, not {dims:?}", t.dims())));
            }
            t.to_dtype(DType::F32).map_err(tensor_err)
        };
        let mut convs = Vec::new();
        let mut input = 1;
        for (i, &c) in CHANNELS.iter().enumerate() {
            convs.push((take(&format!("conv{i}.weight"), &[c, input, 3, 3])?, take(&format!("conv{i}.bias"), &[c])?));
            input = c;
        }
        let fc = (take("fc.weight", &[1, input])?, take("fc.bias", &[1])?);
        Ok(StyleNet { convs, fc })
    }

    /// Logits `[N]` of standardised crops `[N, 1, HEIGHT, W]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut t = x.clone();
        let last = self.convs.len() - 1;
        for (i, (w, b)) in self.convs.iter().enumerate() {
            t = t.conv2d(w, 1, 1, 1, 1)?;
            t = t.broadcast_add(&b.reshape((1, (), 1, 1))?)?.relu()?;
            if i < last {
                t = t.max_pool2d(2)?;
            }
        }
        let e = t.flatten_from(2)?.mean(2)?;
        e.matmul(&self.fc.0.t()?)?.broadcast_add(&self.fc.1)?.squeeze(1)
    }
}

/// A crop as the net reads it: grey, [`HEIGHT`] high, at least [`WIDTH`] wide (edge-padded on the
/// right), standardised. Returns the values and the width.
pub fn prepare(crop: &RgbImage) -> (Vec<f32>, usize) {
    let (mut v, width) = crate::lines::grey_line(crop, HEIGHT, (4, MAX_WIDTH), |w| w.max(WIDTH));
    standardise(&mut v);
    (v, width)
}

/// Zero mean, unit variance (a flat crop stays flat).
pub fn standardise(v: &mut [f32]) {
    let n = v.len().max(1) as f32;
    let mean = v.iter().sum::<f32>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    let sd = var.sqrt().max(4.0);
    for x in v {
        *x = (*x - mean) / sd;
    }
}

/// The loaded classifier.
pub struct StyleClassifier {
    net: StyleNet,
}

impl StyleClassifier {
    /// Loads the weights at `path` (whose checksum the caller verified).
    pub fn load(path: &Path) -> Result<Self, OcrError> {
        Ok(StyleClassifier { net: StyleNet::load(path)? })
    }

    /// The probability that each crop is handwritten.
    pub fn handwriting(&self, crops: &[RgbImage]) -> Result<Vec<f32>, OcrError> {
        // One crop at a time: widths differ, and a batch padded to the widest would change what
        // the global average pool of the narrower ones sees.
        crops
            .iter()
            .map(|c| {
                let (v, w) = prepare(c);
                let x = Tensor::from_vec(v, (1, 1, HEIGHT, w), &Device::Cpu).map_err(tensor_err)?;
                let logit = self.net.forward(&x).and_then(|t| t.to_vec1::<f32>()).map_err(tensor_err)?;
                Ok(1.0 / (1.0 + (-logit[0]).exp()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_are_scaled_padded_and_standardised() {
        let crop = RgbImage::from_fn(40, 16, |x, _| if x < 20 { image::Rgb([0, 0, 0]) } else { image::Rgb([255; 3]) });
        let (v, w) = prepare(&crop);
        // 40×16 → 80×32, padded with its right edge (white) to 128.
        assert_eq!(w, WIDTH);
        assert_eq!(v.len(), HEIGHT * WIDTH);
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 1e-4, "{mean}");
        assert!(v[0] < 0.0 && v[WIDTH - 1] > 0.0, "dark left, white padding");
        let long = RgbImage::new(4000, 20);
        assert_eq!(prepare(&long).1, MAX_WIDTH);
    }

    /// The committed weights give what PyTorch gave at training time (the reference crops that
    /// scripts/train_handwriting.py wrote beside them), and tell the styles apart.
    #[test]
    fn candle_reads_the_weights_as_pytorch_trained_them() {
        use base64::Engine as _;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ocr");
        let net = StyleNet::load(&dir.join("handwriting.safetensors")).unwrap();
        let text = std::fs::read_to_string(dir.join("handwriting.reference.json")).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let crops = doc["crops"].as_array().unwrap();
        assert_eq!(crops.len(), 12);
        for c in crops {
            let grey = base64::engine::general_purpose::STANDARD.decode(c["grey"].as_str().unwrap()).unwrap();
            let mut v: Vec<f32> = grey.iter().map(|&p| f32::from(p)).collect();
            standardise(&mut v);
            let x = Tensor::from_vec(v, (1, 1, HEIGHT, WIDTH), &Device::Cpu).unwrap();
            let z = net.forward(&x).unwrap().to_vec1::<f32>().unwrap()[0];
            let p = 1.0 / (1.0 + (-z).exp());
            let want = c["p"].as_f64().unwrap() as f32;
            assert!((p - want).abs() < 1e-4, "candle {p}, PyTorch {want}");
        }
        let right = crops.iter().filter(|c| (c["p"].as_f64().unwrap() >= 0.5) == (c["label"] == 1)).count();
        assert!(right >= 10, "{right} of 12 held-out crops right");
    }
}
