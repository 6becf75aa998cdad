-- Login attempts per account and per client address in the current window,
-- shared by every instance, so the limits hold however many there are.
-- Keys are SHA-256 hashes: what a stranger types is not kept.
CREATE TABLE login_attempts (
    key          TEXT    PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    attempts     BIGINT  NOT NULL
);

CREATE INDEX login_attempts_by_window ON login_attempts (window_start);
