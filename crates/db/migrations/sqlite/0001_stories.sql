-- Photos are content-addressed originals; stories own ordered slides.
CREATE TABLE photos (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT    NOT NULL UNIQUE,
    media_type  TEXT    NOT NULL,
    width       INTEGER NOT NULL CHECK (width > 0),
    height      INTEGER NOT NULL CHECK (height > 0),
    byte_size   INTEGER NOT NULL CHECK (byte_size > 0),
    -- PhotoMetadata as JSON: what the file says, never edited by a story.
    metadata    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    headline     TEXT    NOT NULL,
    -- JSON array of paragraph strings.
    lead         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    published_at TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX stories_by_publication ON stories (status, published_at DESC);

CREATE TABLE slides (
    id        INTEGER PRIMARY KEY,
    story_id  INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position > 0),
    photo_id  INTEGER NOT NULL REFERENCES photos (id),
    caption   TEXT    NOT NULL,
    alt_text  TEXT    NOT NULL,
    credit    TEXT    NOT NULL,
    UNIQUE (story_id, position)
);

CREATE INDEX slides_by_photo ON slides (photo_id);
