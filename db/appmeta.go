package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AppMeta is what the console keeps about an application beside the API:
// its local note and the stop time scheduled through the console.
type AppMeta struct {
	Note          string
	ScheduledStop time.Time // zero when none
	Alert         string    // a warning the card must show (e.g. the launch's automatic stop failed)
}

// AppMetas returns the notes, scheduled stops and alerts of every
// application that has one, by application id: three reads for a whole page
// of cards.
func (d *DB) AppMetas(ctx context.Context) (map[string]AppMeta, error) {
	out := map[string]AppMeta{}
	reads := []struct {
		what, query string
		set         func(m *AppMeta, v any)
	}{
		{"app notes", `SELECT app_id, note FROM app_notes`, func(m *AppMeta, v any) { m.Note = asString(v) }},
		{"scheduled stops", `SELECT app_id, stop_at FROM scheduled_stops`, func(m *AppMeta, v any) {
			if at, ok := v.(int64); ok {
				m.ScheduledStop = time.Unix(at, 0)
			}
		}},
		{"app alerts", `SELECT app_id, message FROM app_alerts`, func(m *AppMeta, v any) { m.Alert = asString(v) }},
	}
	for _, r := range reads {
		if err := d.eachAppRow(ctx, r.query, func(id string, v any) {
			m := out[id]
			r.set(&m, v)
			out[id] = m
		}); err != nil {
			return nil, fmt.Errorf("db: %s: %w", r.what, err)
		}
	}
	return out, nil
}

// asString reads a TEXT value, which the driver may hand over as bytes.
func asString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return string(t)
	default:
		return ""
	}
}

// eachAppRow runs a two-column query (app_id, value) and calls fn per row.
func (d *DB) eachAppRow(ctx context.Context, query string, fn func(id string, v any)) error {
	rows, err := d.sql.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	return eachRow(rows, func() error {
		var id string
		var v any
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		fn(id, v)
		return nil
	})
}

// AppMetaOf returns one application's note and scheduled stop (zero values when none).
func (d *DB) AppMetaOf(ctx context.Context, appID string) (AppMeta, error) {
	var m AppMeta
	err := d.sql.QueryRowContext(ctx, `SELECT note FROM app_notes WHERE app_id = ?`, appID).Scan(&m.Note)
	if err != nil && !isNoRows(err) {
		return m, fmt.Errorf("db: app note %s: %w", appID, err)
	}
	var at int64
	err = d.sql.QueryRowContext(ctx, `SELECT stop_at FROM scheduled_stops WHERE app_id = ?`, appID).Scan(&at)
	switch {
	case err == nil:
		m.ScheduledStop = time.Unix(at, 0)
	case !isNoRows(err):
		return m, fmt.Errorf("db: scheduled stop %s: %w", appID, err)
	}
	err = d.sql.QueryRowContext(ctx, `SELECT message FROM app_alerts WHERE app_id = ?`, appID).Scan(&m.Alert)
	if err != nil && !isNoRows(err) {
		return m, fmt.Errorf("db: app alert %s: %w", appID, err)
	}
	return m, nil
}

// SetAppNote sets an application's note; an empty note removes it.
func (d *DB) SetAppNote(ctx context.Context, appID, note string, now time.Time) error {
	var err error
	if note == "" {
		_, err = d.sql.ExecContext(ctx, `DELETE FROM app_notes WHERE app_id = ?`, appID)
	} else {
		_, err = d.sql.ExecContext(ctx, `INSERT INTO app_notes (app_id, note, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at`, appID, note, now.Unix())
	}
	if err != nil {
		return fmt.Errorf("db: set note of %s: %w", appID, err)
	}
	return nil
}

// SetScheduledStop records the stop time scheduled for an application.
func (d *DB) SetScheduledStop(ctx context.Context, appID string, at, now time.Time) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO scheduled_stops (app_id, stop_at, created_at) VALUES (?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET stop_at = excluded.stop_at, created_at = excluded.created_at`, appID, at.Unix(), now.Unix())
	if err != nil {
		return fmt.Errorf("db: schedule stop of %s: %w", appID, err)
	}
	return nil
}

// ClearScheduledStop forgets an application's scheduled stop (after a
// manual stop, or once it is destroyed).
func (d *DB) ClearScheduledStop(ctx context.Context, appID string) error {
	if _, err := d.sql.ExecContext(ctx, `DELETE FROM scheduled_stops WHERE app_id = ?`, appID); err != nil {
		return fmt.Errorf("db: clear scheduled stop of %s: %w", appID, err)
	}
	return nil
}

// ForgetApp removes everything kept about a destroyed application.
func (d *DB) ForgetApp(ctx context.Context, appID string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: forget %s: %w", appID, err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM app_notes WHERE app_id = ?`, `DELETE FROM scheduled_stops WHERE app_id = ?`, `DELETE FROM app_alerts WHERE app_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, appID); err != nil {
			return fmt.Errorf("db: forget %s: %w", appID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: forget %s: %w", appID, err)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// eachRow calls scan once per row of rows, stopping at its first error,
// and closes rows whatever happens; an iteration error is returned too.
func eachRow(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}
