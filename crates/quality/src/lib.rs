//! Stage 2 of crowdsift: is a decoded photo usable?
//!
//! [`measure`] computes continuous scores on the working-size image; [`Params`] holds the
//! thresholds and [`assess`] turns scores into [`Finding`]s with a sentence of evidence each.
//! [`dups`] groups exact and near duplicates across a whole collection without comparing every pair.

pub mod dups;
mod metrics;

pub use metrics::{PerceptualHasher, Scores, measure, perceptual_hash};

use crowdsift_core::{Finding, Stage};
use serde::{Deserialize, Serialize};

/// Thresholds of the per-photo checks (options of `scan`, defaults those of [`Default`]). Scores
/// are continuous; these only decide what is flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct Params {
    /// blur: flags a sharpness score below this.
    #[arg(long, default_value_t = Params::default().min_sharpness)]
    pub min_sharpness: f64,
    /// dark: flags a 90th-percentile brightness (0–1) below this.
    #[arg(long, default_value_t = Params::default().max_dark_brightness)]
    pub max_dark_brightness: f64,
    /// overexposed: flags when even the darkest 5% of the photo is at least this bright (0–1), the
    /// shadows washed out (a product on a white background keeps its shadows) …
    #[arg(long, default_value_t = Params::default().min_overexposure)]
    pub min_overexposure: f64,
    /// overexposed: … and at least this share of pixels is blown out (a flat pale wall is not
    /// overexposed).
    #[arg(long, default_value_t = Params::default().min_clipped_share)]
    pub min_clipped_share: f64,
    /// low_information: flags a 1st–99th percentile luminance range (0–1) below this.
    #[arg(long, default_value_t = Params::default().min_contrast_range)]
    pub min_contrast_range: f64,
    /// too_small: flags a shortest side (pixels) below this.
    #[arg(long, default_value_t = Params::default().min_side)]
    pub min_side: u32,
    /// odd_aspect: flags a long/short side ratio above this.
    #[arg(long, default_value_t = Params::default().max_aspect)]
    pub max_aspect: f64,
    /// grayscale: flags a colourfulness score below this.
    #[arg(long, default_value_t = Params::default().min_colorfulness)]
    pub min_colorfulness: f64,
    /// near_duplicate: groups photos whose perceptual hashes differ in at most this many bits.
    #[arg(long, default_value_t = Params::default().max_hash_distance)]
    pub max_hash_distance: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_sharpness: 70.0,
            max_dark_brightness: 0.22,
            min_overexposure: 0.6,
            min_clipped_share: 0.1,
            min_contrast_range: 0.15,
            min_side: 224,
            max_aspect: 3.0,
            min_colorfulness: 0.04,
            max_hash_distance: 6,
        }
    }
}

/// Names of the per-photo checks, in output order.
pub const CHECKS: [&str; 7] =
    ["blur", "dark", "overexposed", "low_information", "too_small", "odd_aspect", "grayscale"];

/// Turns scores into one finding per check.
pub fn assess(image_id: &str, s: &Scores, p: &Params) -> Vec<Finding> {
    let f = |check: &str, score: f64, threshold: f64, flagged: bool, detail: String| Finding {
        image_id: image_id.to_owned(),
        stage: Stage::Quality,
        check: check.to_owned(),
        score: Some(score),
        threshold: Some(threshold),
        flagged,
        reason: None,
        detail,
    };
    let (short, long) = (s.width.min(s.height), s.width.max(s.height));
    let aspect = f64::from(long) / f64::from(short.max(1));
    vec![
        f(
            "blur",
            s.sharpness,
            p.min_sharpness,
            s.sharpness < p.min_sharpness,
            format!(
                "sharpest tenth of the photo scores {:.1} (threshold {:.0}); median region {:.1}",
                s.sharpness, p.min_sharpness, s.sharpness_median
            ),
        ),
        f(
            "dark",
            s.brightness_p90,
            p.max_dark_brightness,
            s.brightness_p90 < p.max_dark_brightness,
            format!("90% of pixels are darker than {:.0}% brightness", 100.0 * s.brightness_p90),
        ),
        f(
            "overexposed",
            s.brightness_p05,
            p.min_overexposure,
            s.brightness_p05 >= p.min_overexposure && s.clipped_share >= p.min_clipped_share,
            format!(
                "darkest 5% of the photo is brighter than {:.0}%; {:.0}% of pixels near white",
                100.0 * s.brightness_p05,
                100.0 * s.clipped_share
            ),
        ),
        f(
            "low_information",
            s.contrast_range,
            p.min_contrast_range,
            s.contrast_range < p.min_contrast_range,
            format!(
                "luminance spans {:.0}% of the range (1st–99th percentile); entropy {:.2} of 5 bits",
                100.0 * s.contrast_range,
                s.entropy
            ),
        ),
        f(
            "too_small",
            f64::from(short),
            f64::from(p.min_side),
            short < p.min_side,
            format!("{}×{} pixels, shortest side {short}", s.width, s.height),
        ),
        f(
            "odd_aspect",
            aspect,
            p.max_aspect,
            aspect > p.max_aspect,
            format!("{}×{} pixels, aspect ratio {aspect:.2}:1", s.width, s.height),
        ),
        Finding {
            score: s.colorfulness,
            ..f(
                "grayscale",
                0.0,
                p.min_colorfulness,
                s.colorfulness.is_some_and(|c| c < p.min_colorfulness),
                match s.colorfulness {
                    Some(c) => format!("colour saturation score {c:.3}"),
                    None => "too dark or too bright to judge colour".to_owned(),
                },
            )
        },
    ]
}
