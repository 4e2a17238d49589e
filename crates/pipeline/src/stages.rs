//! The order of the pipeline, written in one place. Each stage is a crate that owns its types;
//! the names here are the `stage` values in the store's `stage_progress` table.

/// Stages in run order, with the crate that implements each.
pub const ORDER: [(&str, &str); 3] = [
    // 1 ingest + 2 quality: read, decode, per-photo checks (crowdsift-ingest, crowdsift-quality).
    ("scan", "read, decode and check each photo"),
    // Collection-level: exact and near duplicates over everything scanned (crowdsift-quality::dups).
    ("duplicates", "group exact and near duplicates"),
    // 3 embed: backbone embeddings, cached by photo and model checksum (crowdsift-embed, -models).
    ("embed", "embed each photo with a pretrained backbone"),
];

/// Progress key of the per-photo scan stage.
pub const SCAN: &str = ORDER[0].0;

/// Progress key of the embedding stage.
pub const EMBED: &str = ORDER[2].0;
