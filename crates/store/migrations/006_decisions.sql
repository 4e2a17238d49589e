-- What people decided in review, as an append-only log: nothing is updated or deleted. Each row
-- holds the photo's whole state after the decision, so a photo's current decision is its latest
-- row and undoing a decision appends the state from before it.
CREATE TABLE decisions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id  TEXT NOT NULL REFERENCES images(id),
    action    TEXT NOT NULL,              -- keep, reject, relabel, regions, undo
    verdict   TEXT CHECK (verdict IN ('keep', 'reject')),  -- NULL: not decided
    label     TEXT,                       -- the label after review when changed, else NULL
    regions   TEXT NOT NULL DEFAULT '[]', -- JSON [[x0, y0, x1, y1], …]: more to hide, as fractions of the picture
    queue     TEXT NOT NULL,              -- the review queue the decision was made in
    reviewer  TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX decisions_image ON decisions(image_id, seq);
