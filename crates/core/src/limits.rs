use serde::{Deserialize, Serialize};

/// Resource limits applied to every untrusted photo before anything is allocated for it (options
/// of the stages that read photos, defaults those of [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct Limits {
    /// Refuse to decode photos with more pixels than this (width × height).
    #[arg(long, default_value_t = Limits::default().max_pixels)]
    pub max_pixels: u64,
    /// Largest single allocation a decoder may make, in bytes.
    #[arg(long, default_value_t = Limits::default().max_alloc)]
    pub max_alloc: u64,
    /// Refuse to read files larger than this many bytes.
    #[arg(long, default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_pixels: 100_000_000, max_alloc: 512 * 1024 * 1024, max_file_bytes: 512 * 1024 * 1024 }
    }
}

impl Limits {
    /// Whether `width × height` fits under [`Limits::max_pixels`].
    pub fn allows_dimensions(&self, width: u64, height: u64) -> bool {
        width.saturating_mul(height) <= self.max_pixels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_dimensions_are_refused() {
        let limits = Limits::default();
        assert!(limits.allows_dimensions(4000, 3000));
        assert!(limits.allows_dimensions(10_000, 10_000));
        assert!(!limits.allows_dimensions(50_000, 50_000));
        assert!(!limits.allows_dimensions(u64::MAX, 2));
    }
}
