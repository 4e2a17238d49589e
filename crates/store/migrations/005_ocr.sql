-- Text read in photos: one row per photo bytes and OCR engine (model set name and the SHA-256 of
-- its files), so a photo is never read twice by the same models.
CREATE TABLE ocr (
    sha256  TEXT NOT NULL,
    engine  TEXT NOT NULL,
    width   INTEGER NOT NULL,
    height  INTEGER NOT NULL,
    lines   TEXT NOT NULL,              -- JSON array of text lines (quad, text, confidence, turned, engine)
    PRIMARY KEY (sha256, engine)
) WITHOUT ROWID;
