-- +goose Up
-- What the console knows about an application that the API cannot hold:
-- a local note (the API has no rename) and the stop time scheduled through
-- the console (the API cannot read it back).
CREATE TABLE app_notes (
    app_id     TEXT PRIMARY KEY,
    note       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE scheduled_stops (
    app_id     TEXT PRIMARY KEY,
    stop_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE scheduled_stops;
DROP TABLE app_notes;
