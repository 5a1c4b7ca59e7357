-- +goose Up
-- Cover pictures fetched once from the LightCC image host, so browsers
-- without internet access still see them. Times are unix seconds.
CREATE TABLE covers (
    image_id     INTEGER PRIMARY KEY,
    source_url   TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    hash         TEXT NOT NULL,
    fetched_at   INTEGER NOT NULL
);

-- The last failed fetch per image, so a broken cover is retried with a
-- backoff instead of on every gallery view.
CREATE TABLE cover_failures (
    image_id   INTEGER PRIMARY KEY,
    source_url TEXT NOT NULL,
    reason     TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    retry_at   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE cover_failures;
DROP TABLE covers;
