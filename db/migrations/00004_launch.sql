-- +goose Up
-- The image catalogue as last fetched (served stale when LightCC fails).
CREATE TABLE catalogue_cache (
    key        TEXT PRIMARY KEY,
    body       BLOB NOT NULL,
    fetched_at INTEGER NOT NULL
);

-- One-time tokens of the launch form: a double click, a re-sent form or a
-- browser retry with the same token creates at most one application.
-- state: new → pending → done | failed | unknown (the outcome could not be
-- learned: the request may or may not have created an application).
CREATE TABLE create_tokens (
    token      TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'pending', 'done', 'failed', 'unknown')),
    app_id     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX create_tokens_created_at_idx ON create_tokens (created_at);

-- A warning a card must show until it is dealt with (e.g. the automatic
-- stop chosen at launch could not be set).
CREATE TABLE app_alerts (
    app_id     TEXT PRIMARY KEY,
    message    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE app_alerts;
DROP TABLE create_tokens;
DROP TABLE catalogue_cache;
