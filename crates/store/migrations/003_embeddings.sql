-- Embeddings, keyed by the photo's file SHA-256 and the model file's SHA-256: never recomputed for
-- the same bytes and model, shared by every photo id with those bytes.
CREATE TABLE embeddings (
    sha256        TEXT NOT NULL,
    model_sha256  TEXT NOT NULL,
    model         TEXT NOT NULL,
    dim           INTEGER NOT NULL,
    vector        BLOB NOT NULL,              -- dim little-endian f32
    run_id        INTEGER REFERENCES runs(id),
    PRIMARY KEY (sha256, model_sha256)
) WITHOUT ROWID;
