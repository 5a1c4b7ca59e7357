package db

import (
	"context"
	"fmt"
	"time"
)

// Owner is the user an application belongs to.
type Owner struct {
	AppID    string
	UserID   int64
	Username string
}

// SetOwner makes userID the owner of an application, replacing any previous
// owner (admins reassign). It returns ErrNotFound for an unknown user.
func (d *DB) SetOwner(ctx context.Context, appID string, userID int64, now time.Time) error {
	// Selecting from users makes an unknown user a zero-row insert
	// (ErrNotFound) rather than a foreign-key error to tell apart.
	res, err := d.sql.ExecContext(ctx, `INSERT INTO app_owners (app_id, user_id, assigned_at)
		SELECT ?, id, ? FROM users WHERE id = ?
		ON CONFLICT (app_id) DO UPDATE SET user_id = excluded.user_id, assigned_at = excluded.assigned_at`,
		appID, now.Unix(), userID)
	if err != nil {
		return fmt.Errorf("db: set owner of %s: %w", appID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("db: set owner of %s: %w", appID, err)
	}
	if n == 0 {
		return fmt.Errorf("db: set owner of %s: user %d: %w", appID, userID, ErrNotFound)
	}
	return nil
}

// ClearOwner forgets who owns an application (once it is destroyed).
func (d *DB) ClearOwner(ctx context.Context, appID string) error {
	if _, err := d.sql.ExecContext(ctx, `DELETE FROM app_owners WHERE app_id = ?`, appID); err != nil {
		return fmt.Errorf("db: clear owner of %s: %w", appID, err)
	}
	return nil
}

// Owners returns the owner of every owned application, by application id.
func (d *DB) Owners(ctx context.Context) (map[string]Owner, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT o.app_id, o.user_id, u.username
		FROM app_owners o JOIN users u ON u.id = o.user_id`)
	if err != nil {
		return nil, fmt.Errorf("db: app owners: %w", err)
	}
	out := map[string]Owner{}
	err = eachRow(rows, func() error {
		var o Owner
		err := rows.Scan(&o.AppID, &o.UserID, &o.Username)
		out[o.AppID] = o
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: app owners: %w", err)
	}
	return out, nil
}

// OwnerOf returns an application's owner, or ErrNotFound when nobody owns it.
func (d *DB) OwnerOf(ctx context.Context, appID string) (Owner, error) {
	o := Owner{AppID: appID}
	err := d.sql.QueryRowContext(ctx, `SELECT o.user_id, u.username
		FROM app_owners o JOIN users u ON u.id = o.user_id WHERE o.app_id = ?`, appID).Scan(&o.UserID, &o.Username)
	switch {
	case isNoRows(err):
		return Owner{}, fmt.Errorf("db: owner of %s: %w", appID, ErrNotFound)
	case err != nil:
		return Owner{}, fmt.Errorf("db: owner of %s: %w", appID, err)
	}
	return o, nil
}
