package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

const (
	defaultIdleTimeout     = 12 * time.Hour
	defaultAbsoluteTimeout = 7 * 24 * time.Hour
	defaultSweepEvery      = 10 * time.Minute
	minHashKeyLen          = 32
	sessionIDBytes         = 32
)

var _ sessions.Store = (*SessionStore)(nil)

// ErrSessionEnded is returned by Save for a session whose row was deleted
// after it was loaded: signed out in another tab, or ended because its user
// was disabled or changed password or role. Save has then written nothing
// and expired the cookie; treat it as a sign-out, not a server error.
var ErrSessionEnded = errors.New("db: session ended")

// SessionStore is a gorilla/sessions Store that keeps session values in the
// sessions table. The cookie carries only a signed random id, so values never
// reach the browser and a session can be revoked by deleting its row.
//
// Configure the exported fields before first use. A SessionStore is safe for
// concurrent use.
type SessionStore struct {
	// Options are the cookie options given to new sessions. MaxAge starts at
	// AbsoluteTimeout in seconds; change both together.
	Options *sessions.Options
	// IdleTimeout expires a session that has not been saved for this long.
	// Zero or negative means the default of 12h.
	IdleTimeout time.Duration
	// AbsoluteTimeout expires a session this long after it was created,
	// however active it is. Zero or negative means the default of 7 days.
	AbsoluteTimeout time.Duration
	// Now is the clock; tests override it. Nil means time.Now.
	Now func() time.Time
	// UserIDKey, when non-nil, is the session value holding the signed-in
	// user's id. Save and Rotate copy it to the row's user_id when it is an
	// int64 (NULL otherwise) so DeleteUserSessions can find the row.
	UserIDKey any

	db      *sql.DB
	codecs  []securecookie.Codec
	keyErr  error
	decoded decodedValues
}

// NewSessionStore returns a SessionStore over d's sessions table. keyPairs
// are hash/block key pairs as for securecookie.CodecsFromPairs; older pairs
// after the first keep existing cookies valid during key rotation. Every hash
// key must be at least 32 bytes, or Get, New and Save return an error.
func (d *DB) NewSessionStore(keyPairs ...[]byte) *SessionStore {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		// The row, not the cookie's timestamp, decides expiry, so the
		// timeouts stay in one place and can be changed after construction.
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(0)
		}
	}
	var keyErr error
	if len(keyPairs) == 0 {
		keyErr = errors.New("db: session store: no keys")
	}
	for i := 0; i < len(keyPairs); i += 2 {
		if len(keyPairs[i]) < minHashKeyLen {
			keyErr = fmt.Errorf("db: session store: hash key %d is %d bytes, need at least %d",
				i/2, len(keyPairs[i]), minHashKeyLen)
			break
		}
	}
	return &SessionStore{
		Options: &sessions.Options{
			Path:     "/",
			MaxAge:   int(defaultAbsoluteTimeout / time.Second),
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		},
		IdleTimeout:     defaultIdleTimeout,
		AbsoluteTimeout: defaultAbsoluteTimeout,
		Now:             time.Now,
		db:              d.sql,
		codecs:          codecs,
		keyErr:          keyErr,
	}
}

// Get returns the named session for r, loading it at most once per request
// through the gorilla/sessions registry.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by r's cookie. A missing, tampered or expired
// cookie yields a fresh session (IsNew true, empty ID) and a nil error, since
// that is an ordinary visitor rather than a failure; only database errors are
// returned. The session is never nil because the registry dereferences it.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.cookieOptions()
	sess.IsNew = true
	if s.keyErr != nil {
		return sess, s.keyErr
	}
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.codecs...); err != nil {
		return sess, nil
	}
	values, err := s.load(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	sess.ID = id
	sess.Values = values
	sess.IsNew = false
	return sess, nil
}

// load returns the values of a live session, or ErrNotFound for a missing,
// expired or undecodable one. Dead rows are deleted on sight so a stolen
// cookie stops working even before the sweeper runs.
func (s *SessionStore) load(ctx context.Context, id string) (map[any]any, error) {
	var (
		data                 []byte
		createdAt, updatedAt int64
	)
	err := s.db.QueryRowContext(ctx,
		`SELECT data, created_at, updated_at FROM sessions WHERE id = ?`, id,
	).Scan(&data, &createdAt, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: load session: %w", err)
	}
	now := s.now().Unix()
	if updatedAt+seconds(s.idle()) < now || createdAt+seconds(s.absolute()) < now {
		return nil, s.discard(ctx, id)
	}
	values, err := s.decoded.decode(data)
	if err != nil {
		// Usually a value type that is no longer gob-registered after a
		// deploy; signing the user out beats failing every request.
		slog.WarnContext(ctx, "db: discarding undecodable session", "err", err)
		return nil, s.discard(ctx, id)
	}
	return values, nil
}

func (s *SessionStore) discard(ctx context.Context, id string) error {
	if err := s.delete(ctx, s.db, id); err != nil {
		return err
	}
	return ErrNotFound
}

// Save writes sess to the table and sets its cookie. A negative MaxAge
// deletes the row and expires the cookie (sign-out). A session without an ID
// gets a fresh random one; an existing one keeps its created_at so the
// absolute timeout cannot be extended by activity.
//
// A session with an ID is only ever updated, never re-created: if its row
// was deleted since it was loaded, Save writes nothing, expires the cookie
// and returns ErrSessionEnded, so a concurrent request cannot bring a
// revoked session back to life.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if s.keyErr != nil {
		return s.keyErr
	}
	ctx := r.Context()
	opts := s.optionsOf(sess)
	if opts.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.delete(ctx, s.db, sess.ID); err != nil {
				return err
			}
		}
		// A later Save on this instance must not revive the deleted ID.
		sess.ID = ""
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", opts))
		return nil
	}
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	now := s.now().Unix()
	userID := s.userIDOf(sess)
	if sess.ID != "" {
		ok, err := s.update(ctx, sess.ID, data, userID, now)
		if err != nil {
			return err
		}
		if !ok {
			// The ID is kept so a later Save on this instance fails the
			// same way instead of inserting the old values under a new ID.
			expired := *opts
			expired.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &expired))
			return ErrSessionEnded
		}
		return s.setCookie(w, sess, opts)
	}
	id, err := newSessionID()
	if err != nil {
		return err
	}
	if err := s.insert(ctx, s.db, id, data, userID, now); err != nil {
		return err
	}
	sess.ID = id
	return s.setCookie(w, sess, opts)
}

// Rotate moves sess to a new ID, keeping its values, and deletes the old row
// in the same transaction. Call it at sign-in so an ID planted before
// authentication (session fixation) is worthless afterwards. The absolute
// timeout restarts from the rotation.
func (s *SessionStore) Rotate(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if s.keyErr != nil {
		return s.keyErr
	}
	opts := s.optionsOf(sess)
	if opts.MaxAge < 0 {
		return s.Save(r, w, sess)
	}
	ctx := r.Context()
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	id, err := newSessionID()
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: rotate session: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if sess.ID != "" {
		if err := s.delete(ctx, tx, sess.ID); err != nil {
			return err
		}
	}
	if err := s.insert(ctx, tx, id, data, s.userIDOf(sess), s.now().Unix()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: rotate session: %w", err)
	}
	sess.ID = id
	return s.setCookie(w, sess, opts)
}

// DeleteUserSessions ends every session of a user, wherever they are signed
// in, and returns how many it deleted. Only sessions saved with UserIDKey set
// carry a user id.
func (s *SessionStore) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	n, err := deleteUserSessions(ctx, s.db, userID)
	if err != nil {
		return 0, fmt.Errorf("db: delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// Sweep deletes expired sessions and returns how many it removed.
func (s *SessionStore) Sweep(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM sessions WHERE expires_at < ?`, s.now().Unix())
	if err != nil {
		return 0, fmt.Errorf("db: sweep sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("db: sweep sessions: %w", err)
	}
	return n, nil
}

// RunSweeper calls Sweep now and then every interval until ctx is done,
// logging failures. A non-positive interval means every 10 minutes. Run it in
// its own goroutine.
func (s *SessionStore) RunSweeper(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = defaultSweepEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			slog.ErrorContext(ctx, "db: sweep sessions failed", "err", err)
		case n > 0:
			slog.DebugContext(ctx, "db: swept expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Count returns the number of unexpired sessions, for metrics.
func (s *SessionStore) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sessions WHERE expires_at >= ?`, s.now().Unix(),
	).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count sessions: %w", err)
	}
	return n, nil
}

// execer lets Rotate reuse the single-statement helpers inside its transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *SessionStore) insert(ctx context.Context, ex execer, id string, data []byte, userID sql.NullInt64, now int64) error {
	expires := min(now+seconds(s.idle()), now+seconds(s.absolute()))
	_, err := ex.ExecContext(ctx,
		`INSERT INTO sessions (id, data, user_id, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, data, userID, now, now, expires)
	if err != nil {
		return fmt.Errorf("db: insert session: %w", err)
	}
	return nil
}

// update rewrites an existing row and reports whether there was one. The
// single UPDATE, rather than a read then a write, leaves no window in which
// a concurrent delete could be undone.
func (s *SessionStore) update(ctx context.Context, id string, data []byte, userID sql.NullInt64, now int64) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE sessions SET
			data = @data,
			user_id = @user_id,
			updated_at = @now,
			expires_at = MIN(@now + @idle, created_at + @absolute)
		WHERE id = @id`,
		sql.Named("id", id),
		sql.Named("data", data),
		sql.Named("user_id", userID),
		sql.Named("now", now),
		sql.Named("idle", seconds(s.idle())),
		sql.Named("absolute", seconds(s.absolute())))
	if err != nil {
		return false, fmt.Errorf("db: save session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("db: save session: %w", err)
	}
	return n > 0, nil
}

// deleteUserSessions is DeleteUserSessions for the user updates'
// transactions.
func deleteUserSessions(ctx context.Context, ex execer, userID int64) (int64, error) {
	res, err := ex.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// userIDOf returns the user id to store with sess: its UserIDKey value when
// that is an int64, NULL otherwise.
func (s *SessionStore) userIDOf(sess *sessions.Session) sql.NullInt64 {
	if s.UserIDKey == nil {
		return sql.NullInt64{}
	}
	id, ok := sess.Values[s.UserIDKey].(int64)
	return sql.NullInt64{Int64: id, Valid: ok}
}

func (s *SessionStore) delete(ctx context.Context, ex execer, id string) error {
	if _, err := ex.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

func (s *SessionStore) setCookie(w http.ResponseWriter, sess *sessions.Session, opts *sessions.Options) error {
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("db: encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, opts))
	return nil
}

// cookieOptions returns a copy of the store's options so a handler changing
// one session's MaxAge (sign-out) does not change every later session.
func (s *SessionStore) cookieOptions() *sessions.Options {
	if s.Options == nil {
		return &sessions.Options{
			Path:     "/",
			MaxAge:   int(s.absolute() / time.Second),
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		}
	}
	opts := *s.Options
	return &opts
}

func (s *SessionStore) optionsOf(sess *sessions.Session) *sessions.Options {
	if sess.Options == nil {
		sess.Options = s.cookieOptions()
	}
	return sess.Options
}

func (s *SessionStore) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *SessionStore) idle() time.Duration {
	if s.IdleTimeout <= 0 {
		return defaultIdleTimeout
	}
	return s.IdleTimeout
}

func (s *SessionStore) absolute() time.Duration {
	if s.AbsoluteTimeout <= 0 {
		return defaultAbsoluteTimeout
	}
	return s.AbsoluteTimeout
}

func seconds(d time.Duration) int64 {
	return int64(d / time.Second)
}

func newSessionID() (string, error) {
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("db: generate session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func encodeValues(values map[any]any) ([]byte, error) {
	if values == nil {
		values = map[any]any{}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return nil, fmt.Errorf("db: encode session values: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeValues(data []byte) (map[any]any, error) {
	values := make(map[any]any)
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		return nil, fmt.Errorf("db: decode session values: %w", err)
	}
	return values, nil
}

// decodedValues remembers decoded session values by their encoded bytes.
// gob compiles a decoder for every new stream, which made decoding the
// session the largest single cost of a small page, and a session's bytes
// only change when it is saved (sign-in, a setting, a touch every few
// minutes). Keyed by content, an entry can never be stale. Only values of
// immutable kinds are kept, and every caller gets its own copy of the map.
type decodedValues struct {
	mu sync.Mutex
	m  map[string]map[any]any
}

// maxDecodedValues bounds the cache; past it, it starts over.
const maxDecodedValues = 4096

func (d *decodedValues) decode(data []byte) (map[any]any, error) {
	d.mu.Lock()
	v, ok := d.m[string(data)]
	d.mu.Unlock()
	if ok {
		return maps.Clone(v), nil
	}
	values, err := decodeValues(data)
	if err != nil || !immutableValues(values) {
		return values, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxDecodedValues {
		d.m = make(map[string]map[any]any)
	}
	d.m[string(data)] = maps.Clone(values)
	return values, nil
}

// immutableValues reports whether a copy of the map shares nothing
// mutable with the original.
func immutableValues(values map[any]any) bool {
	for k, v := range values {
		for _, x := range [2]any{k, v} {
			switch x.(type) {
			case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, time.Time:
			default:
				return false
			}
		}
	}
	return true
}
