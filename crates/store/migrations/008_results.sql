-- What the stages after `ocr` hand over, one row per photo, replaced when the stage runs again:
-- each stage reads the previous stage's table (not a folder of files), and each table is written
-- out as Parquet beside findings.parquet.

-- The reading of each photo by the last `ocr` run; the text itself is in `ocr` (by bytes and engine).
CREATE TABLE ocr_photos (
    image_id  TEXT PRIMARY KEY REFERENCES images(id),
    sha256    TEXT NOT NULL,
    engine    TEXT NOT NULL,
    run_id    INTEGER REFERENCES runs(id)
) WITHOUT ROWID;

-- Personal data found by the last `pii` run in each photo, and why a person must see it.
CREATE TABLE pii_photos (
    image_id  TEXT PRIMARY KEY REFERENCES images(id),
    sha256    TEXT NOT NULL,                 -- of the bytes `ocr` read
    country   TEXT,
    findings  TEXT NOT NULL,                 -- JSON array: kind, quad, evidence, score, masked, line
    held      TEXT NOT NULL,                 -- JSON array of {check, detail}
    run_id    INTEGER REFERENCES runs(id)
) WITHOUT ROWID;

-- The release copy `redact` made of each photo.
CREATE TABLE redactions (
    image_id       TEXT PRIMARY KEY REFERENCES images(id),
    source_sha256  TEXT NOT NULL,
    key            TEXT NOT NULL,            -- source bytes, findings and settings it was made from
    output         TEXT NOT NULL,            -- the copy's path, relative to the output folder
    output_sha256  TEXT NOT NULL,
    record         TEXT NOT NULL,            -- JSON: regions hidden, metadata removed, verification
    run_id         INTEGER REFERENCES runs(id)
) WITHOUT ROWID;
