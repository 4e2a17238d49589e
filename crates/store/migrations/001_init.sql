-- Runs of any command against this output folder. A run killed mid-way stays 'running'.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     TEXT NOT NULL,
    config      TEXT NOT NULL,              -- JSON of every parameter that shaped the results
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended_at    TEXT,
    status      TEXT NOT NULL DEFAULT 'running'
);

-- One row per photo of the source; written once the photo has been read (and decoded if possible).
CREATE TABLE images (
    id            TEXT PRIMARY KEY,
    uri           TEXT NOT NULL,
    label         TEXT,
    meta          TEXT NOT NULL DEFAULT '{}', -- JSON object of extra manifest columns
    sha256        TEXT,                       -- of the file bytes; NULL if unreadable
    bytes_len     INTEGER,
    format        TEXT,
    width         INTEGER,                    -- full size after EXIF orientation
    height        INTEGER,
    orientation   INTEGER,
    color         TEXT,
    pixel_sha256  TEXT,                       -- of the decoded working-size pixels
    phash         INTEGER,                    -- 64-bit perceptual hash, as a signed integer
    usable        INTEGER NOT NULL,           -- 1 if decoded
    run_id        INTEGER REFERENCES runs(id)
) WITHOUT ROWID;
CREATE INDEX images_sha256 ON images(sha256);

-- One row per photo per check.
CREATE TABLE findings (
    image_id    TEXT NOT NULL REFERENCES images(id),
    stage       TEXT NOT NULL,
    check_name  TEXT NOT NULL,
    score       REAL,
    threshold   REAL,
    flagged     INTEGER NOT NULL,
    reason      TEXT,
    detail      TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs(id),
    PRIMARY KEY (image_id, stage, check_name)
) WITHOUT ROWID;
CREATE INDEX findings_check ON findings(check_name, flagged);

-- Which photo has finished which stage: the resume point.
CREATE TABLE stage_progress (
    image_id  TEXT NOT NULL,
    stage     TEXT NOT NULL,
    run_id    INTEGER REFERENCES runs(id),
    done_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (image_id, stage)
) WITHOUT ROWID;
