package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do in the console.
type Role string

// The roles, from most to least trusted.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleMember, RoleViewer:
		return true
	default:
		return false
	}
}

// User is a console account. A budget of 0 means no limit.
type User struct {
	ID             int64
	Username       string
	PasswordHash   string
	Role           Role
	Disabled       bool
	MaxGPUs        int
	DailyBudgetFen int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ErrDuplicate is returned when a row with the same unique key exists.
var ErrDuplicate = errors.New("db: already exists")

// ErrLastAdmin is returned by SetRole and SetDisabled when the change would
// leave no enabled admin. Callers should refuse earlier with a friendlier
// message; this check closes the race of two admins demoting each other.
var ErrLastAdmin = errors.New("db: would leave no active admin")

const userColumns = `id, username, password_hash, role, disabled, max_gpus, daily_budget_fen, created_at, updated_at`

// CreateUser adds a user with no budget limits. It returns ErrDuplicate when
// the name is taken, compared case-insensitively.
func (d *DB) CreateUser(ctx context.Context, username, passwordHash string, role Role, now time.Time) (User, error) {
	switch {
	case strings.TrimSpace(username) == "":
		return User{}, errors.New("db: create user: empty username")
	case passwordHash == "":
		return User{}, fmt.Errorf("db: create user %q: empty password hash", username)
	case !role.Valid():
		return User{}, fmt.Errorf("db: create user %q: invalid role %q", username, role)
	}
	// DO NOTHING plus RowsAffected tells a taken name apart without
	// inspecting the driver's error.
	res, err := d.sql.ExecContext(ctx,
		`INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (username) DO NOTHING`,
		username, passwordHash, string(role), now.Unix(), now.Unix())
	if err != nil {
		return User{}, fmt.Errorf("db: create user %q: %w", username, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return User{}, fmt.Errorf("db: create user %q: %w", username, err)
	}
	if n == 0 {
		return User{}, fmt.Errorf("db: create user %q: %w", username, ErrDuplicate)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return User{}, fmt.Errorf("db: create user %q: %w", username, err)
	}
	return User{
		ID: id, Username: username, PasswordHash: passwordHash, Role: role,
		CreatedAt: time.Unix(now.Unix(), 0), UpdatedAt: time.Unix(now.Unix(), 0),
	}, nil
}

// UserByID returns a user, or ErrNotFound.
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(d.sql.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	switch {
	case isNoRows(err):
		return User{}, fmt.Errorf("db: user %d: %w", id, ErrNotFound)
	case err != nil:
		return User{}, fmt.Errorf("db: user %d: %w", id, err)
	}
	return u, nil
}

// UserByName returns the user with that name, compared case-insensitively,
// or ErrNotFound.
func (d *DB) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(d.sql.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	switch {
	case isNoRows(err):
		return User{}, fmt.Errorf("db: user %q: %w", username, ErrNotFound)
	case err != nil:
		return User{}, fmt.Errorf("db: user %q: %w", username, err)
	}
	return u, nil
}

// Users returns every user, ordered by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	var out []User
	err = eachRow(rows, func() error {
		u, err := scanUser(rows)
		out = append(out, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	return out, nil
}

// CountUsers returns the number of users, disabled ones included; zero means
// the console still needs its first admin.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// CountActiveAdmins returns the number of admins who are not disabled.
func (d *DB) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count admins: %w", err)
	}
	return n, nil
}

// SetPassword replaces a user's password hash and ends all their sessions,
// in one transaction, so a leaked password stops working everywhere. The
// caller re-creates the session of a user who changed their own password.
func (d *DB) SetPassword(ctx context.Context, id int64, passwordHash string, now time.Time) error {
	if passwordHash == "" {
		return fmt.Errorf("db: set password of user %d: empty hash", id)
	}
	return d.updateUser(ctx, "set password of", id, true, func(tx *sql.Tx) (sql.Result, error) {
		return tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
			passwordHash, now.Unix(), id)
	})
}

// SetDisabled disables or re-enables a user. Disabling ends all their
// sessions in the same transaction, and returns ErrLastAdmin for the last
// enabled admin.
func (d *DB) SetDisabled(ctx context.Context, id int64, disabled bool, now time.Time) error {
	what := "enable"
	if disabled {
		what = "disable"
	}
	return d.updateUser(ctx, what, id, disabled, func(tx *sql.Tx) (sql.Result, error) {
		if disabled {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return nil, err
			}
		}
		return tx.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`,
			disabled, now.Unix(), id)
	})
}

// SetRole changes a user's role and ends their sessions so the change takes
// effect at once. Setting the role a user already has changes nothing and
// keeps them signed in. Demoting the last enabled admin returns ErrLastAdmin.
func (d *DB) SetRole(ctx context.Context, id int64, role Role, now time.Time) error {
	if !role.Valid() {
		return fmt.Errorf("db: set role of user %d: invalid role %q", id, role)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: set role of user %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	// The transaction holds the write lock (immediate), so reading first
	// cannot race another writer.
	var current string
	switch err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, id).Scan(&current); {
	case isNoRows(err):
		return fmt.Errorf("db: set role of user %d: %w", id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("db: set role of user %d: %w", id, err)
	case Role(current) == role:
		return nil
	}
	if role != RoleAdmin {
		if err := keepAnAdmin(ctx, tx, id); err != nil {
			return fmt.Errorf("db: set role of user %d: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`,
		string(role), now.Unix(), id); err != nil {
		return fmt.Errorf("db: set role of user %d: %w", id, err)
	}
	if _, err := deleteUserSessions(ctx, tx, id); err != nil {
		return fmt.Errorf("db: set role of user %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: set role of user %d: %w", id, err)
	}
	return nil
}

// SetBudget sets a user's limits; 0 means no limit and negative values are
// refused. Sessions are kept: budgets are read when they are spent.
func (d *DB) SetBudget(ctx context.Context, id int64, maxGPUs int, dailyBudgetFen int64, now time.Time) error {
	if maxGPUs < 0 || dailyBudgetFen < 0 {
		return fmt.Errorf("db: set budget of user %d: negative limit (%d GPUs, %d fen)", id, maxGPUs, dailyBudgetFen)
	}
	return d.updateUser(ctx, "set budget of", id, false, func(tx *sql.Tx) (sql.Result, error) {
		return tx.ExecContext(ctx, `UPDATE users SET max_gpus = ?, daily_budget_fen = ?, updated_at = ? WHERE id = ?`,
			maxGPUs, dailyBudgetFen, now.Unix(), id)
	})
}

// updateUser runs one UPDATE of a user row in a transaction, turning "no row
// changed" into ErrNotFound and, when endSessions is set, deleting the user's
// sessions before committing.
func (d *DB) updateUser(ctx context.Context, what string, id int64, endSessions bool, update func(*sql.Tx) (sql.Result, error)) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: %s user %d: %w", what, id, err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := update(tx)
	if err != nil {
		return fmt.Errorf("db: %s user %d: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("db: %s user %d: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("db: %s user %d: %w", what, id, ErrNotFound)
	}
	if endSessions {
		if _, err := deleteUserSessions(ctx, tx, id); err != nil {
			return fmt.Errorf("db: %s user %d: %w", what, id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: %s user %d: %w", what, id, err)
	}
	return nil
}

// keepAnAdmin returns ErrLastAdmin when user id is the only enabled admin.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var last bool
	err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM users WHERE id = ? AND role = 'admin' AND disabled = 0) AND
		NOT EXISTS (SELECT 1 FROM users WHERE id <> ? AND role = 'admin' AND disabled = 0)`, id, id).Scan(&last)
	if err != nil {
		return err
	}
	if last {
		return ErrLastAdmin
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanUser(s scanner) (User, error) {
	var (
		u                    User
		role                 string
		createdAt, updatedAt int64
	)
	if err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &role, &u.Disabled, &u.MaxGPUs,
		&u.DailyBudgetFen, &createdAt, &updatedAt); err != nil {
		return User{}, err
	}
	u.Role = Role(role)
	u.CreatedAt = time.Unix(createdAt, 0)
	u.UpdatedAt = time.Unix(updatedAt, 0)
	return u, nil
}
