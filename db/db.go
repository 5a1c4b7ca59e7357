// Package db owns the console's SQLite database: opening it with the settings
// the rest of the code relies on (WAL, foreign keys, a busy timeout), the
// embedded numbered migrations, and one file per table or concern.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	// The sqlite3 driver is registered here and nowhere else so that only
	// this package decides how the database file is opened.
	_ "github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
)

// maxConns bounds the connection pool.
const maxConns = 8

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("db: not found")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the application's handle on its SQLite database.
type DB struct {
	sql *sql.DB
}

// Open opens (creating if needed) the SQLite database at path, checks that it
// is writable and configured as expected, and applies pending migrations.
// Failing here rather than on the first write keeps a bad volume mount from
// looking like a healthy server.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("db: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("db: create directory for %s: %w", path, err)
	}
	sqlDB, err := sql.Open("sqlite3", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	// A handful of connections serves any number of requests: SQLite in WAL
	// mode reads concurrently but writes one at a time, and each connection
	// keeps its own page cache (about 2 MB), so an unbounded pool under a
	// hundred concurrent viewers held hundreds of megabytes for nothing.
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	d := &DB{sql: sqlDB}
	if err := d.prepare(ctx, path); err != nil {
		return nil, errors.Join(err, sqlDB.Close())
	}
	return d, nil
}

func (d *DB) prepare(ctx context.Context, path string) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := d.checkWritable(ctx); err != nil {
		return fmt.Errorf("db: %s is not writable: %w", path, err)
	}
	if err := d.checkPragmas(ctx); err != nil {
		return fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := d.migrate(ctx); err != nil {
		return fmt.Errorf("db: migrate %s: %w", path, err)
	}
	return nil
}

// dsn builds a SQLite URI. SQLite decodes percent escapes in file: URIs, so
// escaping the path keeps '?', '#' and '%' in directory names from being read
// as URI syntax. The path must be absolute: a relative one would be parsed as
// the URI authority.
func dsn(absPath string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	// Immediate transactions take the write lock up front, so two writers
	// wait on the busy timeout instead of one failing with SQLITE_BUSY when
	// it upgrades from a read lock.
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	// Every page runs the same few queries (its session, notes, owners);
	// preparing them anew took a tenth of the console's CPU under load.
	q.Set("_stmt_cache_size", "64")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(absPath), RawQuery: q.Encode()}
	return u.String()
}

// checkWritable tries a write and rolls it back: SQLite quietly falls back to
// read-only when it cannot write the file, which would surface only at the
// first sign-in.
func (d *DB) checkWritable(ctx context.Context) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, `CREATE TABLE db_write_probe (x INTEGER)`)
	return err
}

// checkPragmas confirms the DSN settings took effect; the driver ignores some
// failures (e.g. WAL on a file system that cannot hold the shared-memory file).
func (d *DB) checkPragmas(ctx context.Context) error {
	var mode string
	if err := d.sql.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want \"wal\"", mode)
	}
	var fk int
	if err := d.sql.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk != 1 {
		return errors.New("foreign_keys is off")
	}
	return nil
}

func (d *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	// Go migrations registered globally by other packages are not ours to
	// run. The provider is not closed: Close would close d.sql.
	provider, err := goose.NewProvider(goose.DialectSQLite3, d.sql, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// Close closes the database. Callers must stop using stores built on it first.
func (d *DB) Close() error {
	if err := d.sql.Close(); err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return nil
}

// Ping reports whether the database is reachable, for health checks.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// SQL returns the underlying *sql.DB. It is an escape hatch for tests in
// other packages that need to inspect or arrange rows; application code goes
// through this package's methods so the SQL stays here.
func (d *DB) SQL() *sql.DB {
	return d.sql
}
