-- Cached model inputs other than embeddings: activations at a fine-tuning cut point, or photos
-- downscaled for the from-scratch CNN. One row per photo bytes, feature kind and view (view 0 is
-- the plain one; others are fixed augmented crops and flips).
CREATE TABLE features (
    key     TEXT NOT NULL,              -- what: e.g. "<model sha256>:<cut tensor>" or "pixels:64"
    sha256  TEXT NOT NULL,
    view    INTEGER NOT NULL,
    data    BLOB NOT NULL,              -- little-endian f32
    PRIMARY KEY (key, sha256, view)
) WITHOUT ROWID;
