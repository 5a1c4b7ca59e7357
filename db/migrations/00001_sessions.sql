-- +goose Up
-- Times are unix seconds. expires_at is derived from the idle and absolute
-- timeouts at save time so the sweeper can delete with one indexed range scan.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- +goose Down
DROP INDEX sessions_expires_at_idx;
DROP TABLE sessions;
