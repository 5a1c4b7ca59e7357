package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// openTest opens a fresh database file in a temporary directory.
func openTest(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

func queryInt(t *testing.T, d *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenMigratesAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	// The parent directories do not exist yet: Open must create them.
	path := filepath.Join(t.TempDir(), "data", "nested", "app.db")

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		t.Fatalf("parent directory not created: %v", err)
	}
	if _, err := d.SQL().Exec(
		`INSERT INTO sessions (id, data, created_at, updated_at, expires_at) VALUES ('keep', x'00', 1, 1, 1)`,
	); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for i := range 2 {
		d, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM goose_db_version WHERE version_id = 1`); n != 1 {
			t.Errorf("reopen %d: migration 1 recorded %d times, want 1", i, n)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sessions'`); n != 1 {
			t.Errorf("reopen %d: %d sessions tables, want 1", i, n)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'sessions_expires_at_idx'`); n != 1 {
			t.Errorf("reopen %d: expires_at index missing", i)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM sessions WHERE id = 'keep'`); n != 1 {
			t.Errorf("reopen %d: row did not survive", i)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'db_write_probe'`); n != 0 {
			t.Errorf("reopen %d: write probe table left behind", i)
		}
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestOpenPragmasOnEveryConnection(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	// Hold several connections at once so the pool has to open new ones:
	// the DSN settings must apply to each, not just the first.
	const conns = 4
	var wg sync.WaitGroup
	hold := make(chan struct{})
	for i := range conns {
		wg.Go(func() {
			c, err := d.SQL().Conn(ctx)
			if err != nil {
				t.Errorf("conn %d: %v", i, err)
				return
			}
			defer c.Close()
			var mode string
			var fk, busy int
			if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Errorf("conn %d journal_mode: %v", i, err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
				t.Errorf("conn %d foreign_keys: %v", i, err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
				t.Errorf("conn %d busy_timeout: %v", i, err)
			}
			if mode != "wal" || fk != 1 || busy != 5000 {
				t.Errorf("conn %d: journal_mode=%q foreign_keys=%d busy_timeout=%d, want wal 1 5000", i, mode, fk, busy)
			}
			<-hold
		})
	}
	close(hold)
	wg.Wait()
}

func TestOpenOddCharactersInPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird #dir%20&x=y")
	path := filepath.Join(dir, "app db?.sqlite")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the literal path: %v", err)
	}
}

func TestOpenUnwritable(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "regular-file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"under a regular file": filepath.Join(file, "sub", "app.db"),
		"a directory":          t.TempDir(),
		"not a database":       file,
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Open(ctx, path)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded, want error")
			}
			t.Logf("Open: %v", err)
			if !strings.HasPrefix(err.Error(), "db: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestOpenReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	d, err = Open(ctx, path)
	if err == nil {
		d.Close()
		t.Fatal("Open of a read-only database succeeded, want error")
	}
	t.Logf("Open: %v", err)
}

func TestPing(t *testing.T) {
	d := openTest(t)
	if err := d.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
