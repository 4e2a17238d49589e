//! A fake [`Model`] for unit tests of stages that run models: deterministic, no model file.

use crate::Model;
use crate::error::ModelError;
use crate::spec::{InputSpec, ModelSpec, OutputSpec};

/// Embeds each image as the per-channel means of its input, repeated to `dim` values.
pub struct FakeModel {
    spec: ModelSpec,
}

impl FakeModel {
    pub fn new(size: u32, dim: usize) -> Self {
        Self {
            spec: ModelSpec {
                file: "fake.onnx".into(),
                sha256: "0".repeat(64),
                source: "test".into(),
                license: "none".into(),
                input: InputSpec {
                    name: "input".into(),
                    size,
                    resize_short_side: size + size / 7,
                    mean: [127.0; 3],
                    std: [128.0; 3],
                },
                output: OutputSpec { embedding: "embedding".into(), dim, logits: None },
                finetune: None,
                path: "fake.onnx".into(),
                name: "fake".into(),
            },
        }
    }
}

impl Model for FakeModel {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn embed(&mut self, input: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        let plane = (self.spec.input.size * self.spec.input.size) as usize;
        let mut out = Vec::new();
        for i in 0..n {
            let img = &input[i * 3 * plane..(i + 1) * 3 * plane];
            let means: Vec<f32> = img.chunks(plane).map(|c| c.iter().sum::<f32>() / plane as f32).collect();
            out.extend((0..self.spec.output.dim).map(|j| means[j % 3]));
        }
        Ok(out)
    }
}
