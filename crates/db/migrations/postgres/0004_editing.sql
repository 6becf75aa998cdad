-- Editing: every save bumps the story's version (optimistic concurrency)
-- and keeps what was saved as a revision.
ALTER TABLE stories ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE revisions (
    story_id   BIGINT  NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    version    BIGINT  NOT NULL,
    -- Who saved it; the name stays readable if the account goes.
    user_name  TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    -- StoryContent as JSON: headline, lead, slides with their photo ids.
    content    TEXT    NOT NULL,
    PRIMARY KEY (story_id, version)
);

CREATE INDEX stories_scheduled ON stories (published_at) WHERE status = 'scheduled';
