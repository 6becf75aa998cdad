-- Fingerprints of each photo, and its web renditions.
ALTER TABLE photos ADD COLUMN placeholder TEXT;
ALTER TABLE photos ADD COLUMN perceptual_hash TEXT;
-- An earlier photo this one nearly duplicates (a burst frame, a re-crop).
ALTER TABLE photos ADD COLUMN near_duplicate_of BIGINT REFERENCES photos (id);

CREATE TABLE renditions (
    photo_id  BIGINT  NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    format    TEXT    NOT NULL CHECK (format IN ('avif', 'webp', 'jpeg')),
    width     BIGINT  NOT NULL CHECK (width > 0),
    height    BIGINT  NOT NULL CHECK (height > 0),
    quality   BIGINT  NOT NULL,
    byte_size BIGINT  NOT NULL CHECK (byte_size > 0),
    -- Blob-store key, derived from the original's hash and the spec.
    key       TEXT    NOT NULL,
    PRIMARY KEY (photo_id, format, width)
);
