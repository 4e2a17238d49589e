//! The 0°/180° text-line classifier: lines read upside down are turned before recognition.

use crowdsift_models::{OcrSpec, OnnxNet};
use image::RgbImage;
use image::imageops::rotate180;

use crate::OcrError;
use crate::lines::{LINE_H, by_ratio, write_line};

const CLS_W: usize = 192;
const BATCH: usize = 6;

pub struct Classifier {
    net: OnnxNet,
}

impl Classifier {
    pub fn load(spec: &OcrSpec, threads: usize) -> Result<Self, OcrError> {
        Ok(Classifier { net: OnnxNet::load(&spec.cls.path, threads)? })
    }

    /// Turns the crops the classifier reads as upside down (probability above `thresh`) by 180°,
    /// in place; returns which it turned.
    pub fn orient(&mut self, crops: &mut [RgbImage], thresh: f32) -> Result<Vec<bool>, OcrError> {
        let mut turned = vec![false; crops.len()];
        let order = by_ratio(crops);
        for batch in order.chunks(BATCH) {
            let per = 3 * LINE_H * CLS_W;
            let mut x = vec![0f32; batch.len() * per];
            for (k, &i) in batch.iter().enumerate() {
                write_line(&crops[i], CLS_W, &mut x[k * per..(k + 1) * per]);
            }
            let (shape, p) = self.net.run(&[batch.len(), 3, LINE_H, CLS_W], &x)?;
            if shape != [batch.len(), 2] {
                return Err(OcrError::Shape(format!("line classifier output has shape {shape:?}, expected [N, 2]")));
            }
            for (k, &i) in batch.iter().enumerate() {
                if p[2 * k + 1] > p[2 * k] && p[2 * k + 1] > thresh {
                    crops[i] = rotate180(&crops[i]);
                    turned[i] = true;
                }
            }
        }
        Ok(turned)
    }
}
