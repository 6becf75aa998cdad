-- Which process is making a photo's renditions, until when: instances that
-- share the database each take a photo only when no one else holds it, so
-- its renditions are made once. A lease that runs out (its process died)
-- is taken over.
CREATE TABLE photo_leases (
    photo_id   BIGINT      PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
