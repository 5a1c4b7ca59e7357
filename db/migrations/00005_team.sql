-- +goose Up
-- Console accounts. Times are unix seconds; a budget of 0 means no limit.
-- Usernames compare case-insensitively (ASCII only, as SQLite's NOCASE).
CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    disabled         INTEGER NOT NULL DEFAULT 0,
    max_gpus         INTEGER NOT NULL DEFAULT 0,
    daily_budget_fen INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Whose session a row is, so disabling a user or changing their password or
-- role can end every session they hold at once. NULL before sign-in.
ALTER TABLE sessions ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Who launched (or was given) each application.
CREATE TABLE app_owners (
    app_id      TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assigned_at INTEGER NOT NULL
);
CREATE INDEX app_owners_user_id_idx ON app_owners (user_id);

-- The audit trail. user_id has no foreign key and username is copied in, so
-- an entry keeps saying who acted whatever later happens to their account.
CREATE TABLE audit (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    user_id      INTEGER,
    username     TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    app_id       TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    upstream_msg TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at_idx ON audit (at);
CREATE INDEX audit_user_id_at_idx ON audit (user_id, at);
CREATE INDEX audit_action_at_idx ON audit (action, at);
CREATE INDEX audit_app_id_at_idx ON audit (app_id, at);

-- Console-wide settings. Secret values (the LightCC API key) are stored
-- sealed, never in clear.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP INDEX audit_app_id_at_idx;
DROP INDEX audit_action_at_idx;
DROP INDEX audit_user_id_at_idx;
DROP INDEX audit_at_idx;
DROP TABLE audit;
DROP INDEX app_owners_user_id_idx;
DROP TABLE app_owners;
DROP INDEX sessions_user_id_idx;
ALTER TABLE sessions DROP COLUMN user_id;
DROP TABLE users;
