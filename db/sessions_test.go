package db

import (
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

const cookieName = "lcc_session"

var (
	testHashKey  = []byte("0123456789abcdef0123456789abcdef")
	testBlockKey = []byte("fedcba9876543210fedcba9876543210")
)

// clock is a settable time source safe to read from many goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestStore(t *testing.T) (*SessionStore, *DB, *clock) {
	t.Helper()
	d := openTest(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := d.NewSessionStore(testHashKey, testBlockKey)
	s.Now = clk.Now
	return s, d, clk
}

// request builds a request carrying the given cookies, as a browser would
// send back what earlier responses set.
func request(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// saveNew saves a fresh session holding values and returns it with its cookie.
func saveNew(t *testing.T, s *SessionStore, values map[any]any) (*sessions.Session, *http.Cookie) {
	t.Helper()
	r := request()
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for k, v := range values {
		sess.Values[k] = v
	}
	return sess, save(t, s, r, sess)
}

func save(t *testing.T, s *SessionStore, r *http.Request, sess *sessions.Session) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := s.Save(r, w, sess); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return sessionCookie(t, w)
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatal("response set no session cookie")
	return nil
}

// load fetches the session a browser holding cookie would get.
func load(t *testing.T, s *SessionStore, cookie *http.Cookie) *sessions.Session {
	t.Helper()
	sess, err := s.Get(request(cookie), cookieName)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return sess
}

func sessionRows(t *testing.T, d *DB) int {
	t.Helper()
	return queryInt(t, d, `SELECT COUNT(*) FROM sessions`)
}

func TestSessionRoundTrip(t *testing.T) {
	s, d, _ := newTestStore(t)
	sess, cookie := saveNew(t, s, map[any]any{"user": "alice", "role": 3})

	if len(sess.ID) != 43 {
		t.Errorf("ID %q has length %d, want 43 (32 bytes base64url)", sess.ID, len(sess.ID))
	}
	// The cookie must decode to the ID and nothing else.
	var id string
	if err := securecookie.DecodeMulti(cookieName, cookie.Value,
		&id, securecookie.CodecsFromPairs(testHashKey, testBlockKey)...); err != nil {
		t.Fatalf("decode cookie: %v", err)
	}
	if id != sess.ID {
		t.Errorf("cookie holds %q, want the session ID %q", id, sess.ID)
	}
	if !cookie.HttpOnly || cookie.Path != "/" || cookie.SameSite != http.SameSiteLaxMode ||
		cookie.Secure || cookie.MaxAge != int((7*24*time.Hour)/time.Second) {
		t.Errorf("cookie attributes = %+v", cookie)
	}
	if n := sessionRows(t, d); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}

	got := load(t, s, cookie)
	if got.IsNew {
		t.Error("IsNew = true for a saved session")
	}
	if got.ID != sess.ID || got.Values["user"] != "alice" || got.Values["role"] != 3 {
		t.Errorf("loaded ID %q values %v, want %q and the saved values", got.ID, got.Values, sess.ID)
	}
}

func TestSessionGetReturnsOneInstancePerRequest(t *testing.T) {
	s, _, _ := newTestStore(t)
	r := request()
	a, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two Gets in one request returned different sessions")
	}
}

func TestSessionOptionsAreCopied(t *testing.T) {
	s, _, _ := newTestStore(t)
	sess, err := s.New(request(), cookieName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Options.MaxAge = -1
	if s.Options.MaxAge < 0 {
		t.Error("changing one session's options changed the store's")
	}
}

func TestSessionBadCookieGivesNewSession(t *testing.T) {
	s, _, _ := newTestStore(t)
	_, cookie := saveNew(t, s, map[any]any{"user": "alice"})

	otherKeys := securecookie.CodecsFromPairs([]byte("another-hash-key-of-32-bytes!!!!"))
	forged, err := securecookie.EncodeMulti(cookieName, "some-id", otherKeys...)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(cookie.Value)
	tampered[len(tampered)/2] ^= 1
	tests := map[string]*http.Cookie{
		"tampered":     {Name: cookieName, Value: string(tampered)},
		"garbage":      {Name: cookieName, Value: "not-a-cookie"},
		"empty":        {Name: cookieName, Value: ""},
		"wrong key":    {Name: cookieName, Value: forged},
		"truncated":    {Name: cookieName, Value: cookie.Value[:len(cookie.Value)-4]},
		"other name":   {Name: "other", Value: cookie.Value},
		"signed for x": {Name: cookieName, Value: mustEncode(t, "x", "some-id")},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			sess, err := s.Get(request(c), cookieName)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !sess.IsNew || sess.ID != "" || len(sess.Values) != 0 {
				t.Errorf("got IsNew=%v ID=%q values=%v, want a fresh session", sess.IsNew, sess.ID, sess.Values)
			}
		})
	}
}

// mustEncode signs value with the test keys under another cookie name, which
// must not be accepted as the session cookie.
func mustEncode(t *testing.T, name, value string) string {
	t.Helper()
	v, err := securecookie.EncodeMulti(name, value, securecookie.CodecsFromPairs(testHashKey, testBlockKey)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSessionIdleExpiry(t *testing.T) {
	s, d, clk := newTestStore(t)
	s.IdleTimeout = time.Hour
	_, cookie := saveNew(t, s, map[any]any{"user": "alice"})

	clk.Advance(time.Hour)
	if sess := load(t, s, cookie); sess.IsNew {
		t.Fatal("session expired at exactly the idle timeout")
	}
	clk.Advance(time.Second)
	if sess := load(t, s, cookie); !sess.IsNew || sess.ID != "" {
		t.Fatalf("session still live after the idle timeout: IsNew=%v ID=%q", sess.IsNew, sess.ID)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("expired row kept: %d rows", n)
	}
}

func TestSessionActivityPostponesIdleExpiry(t *testing.T) {
	s, _, clk := newTestStore(t)
	s.IdleTimeout = time.Hour
	_, cookie := saveNew(t, s, map[any]any{"user": "alice"})
	for range 3 {
		clk.Advance(50 * time.Minute)
		r := request(cookie)
		sess, err := s.Get(r, cookieName)
		if err != nil || sess.IsNew {
			t.Fatalf("Get: IsNew=%v err=%v", sess.IsNew, err)
		}
		cookie = save(t, s, r, sess)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	s, d, clk := newTestStore(t)
	s.IdleTimeout = 12 * time.Hour
	s.AbsoluteTimeout = 24 * time.Hour
	sess, cookie := saveNew(t, s, map[any]any{"user": "alice"})
	created := clk.Now().Unix()

	// Keep the session busy so only the absolute timeout can end it.
	for range 2 {
		clk.Advance(11 * time.Hour)
		r := request(cookie)
		got, err := s.Get(r, cookieName)
		if err != nil || got.IsNew {
			t.Fatalf("Get: IsNew=%v err=%v", got.IsNew, err)
		}
		cookie = save(t, s, r, got)
	}
	var createdAt, updatedAt, expiresAt int64
	if err := d.SQL().QueryRow(`SELECT created_at, updated_at, expires_at FROM sessions WHERE id = ?`, sess.ID).
		Scan(&createdAt, &updatedAt, &expiresAt); err != nil {
		t.Fatal(err)
	}
	// Updated at 22h, so idle would allow 34h; the absolute limit caps it at 24h.
	if createdAt != created || updatedAt != created+22*3600 || expiresAt != created+24*3600 {
		t.Errorf("created/updated/expires = %d/%d/%d, want %d/%d/%d",
			createdAt, updatedAt, expiresAt, created, created+22*3600, created+24*3600)
	}

	clk.Advance(2*time.Hour + time.Second)
	if got := load(t, s, cookie); !got.IsNew {
		t.Fatal("session still live after the absolute timeout")
	}
}

func TestSessionMaxAgeNegativeDeletes(t *testing.T) {
	s, d, _ := newTestStore(t)
	_, cookie := saveNew(t, s, map[any]any{"user": "alice"})

	r := request(cookie)
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Options.MaxAge = -1
	w := httptest.NewRecorder()
	if err := s.Save(r, w, sess); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if c := sessionCookie(t, w); c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie = %+v, want an expiring empty cookie", c)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d rows after delete, want 0", n)
	}
	if got := load(t, s, cookie); !got.IsNew {
		t.Error("old cookie still loads a session after sign-out")
	}
}

func TestSessionRotate(t *testing.T) {
	s, d, _ := newTestStore(t)
	old, oldCookie := saveNew(t, s, map[any]any{"csrf": "token"})

	r := request(oldCookie)
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["user"] = "alice"
	w := httptest.NewRecorder()
	if err := s.Rotate(r, w, sess); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	newCookie := sessionCookie(t, w)
	if sess.ID == old.ID || sess.ID == "" {
		t.Fatalf("ID after rotate = %q, old %q", sess.ID, old.ID)
	}
	if n := sessionRows(t, d); n != 1 {
		t.Errorf("%d rows after rotate, want 1", n)
	}
	if got := load(t, s, oldCookie); !got.IsNew {
		t.Error("old cookie still valid after rotate")
	}
	got := load(t, s, newCookie)
	if got.IsNew || got.ID != sess.ID || got.Values["csrf"] != "token" || got.Values["user"] != "alice" {
		t.Errorf("after rotate: IsNew=%v ID=%q values=%v", got.IsNew, got.ID, got.Values)
	}
}

func TestSessionRotateFreshSession(t *testing.T) {
	s, d, _ := newTestStore(t)
	r := request()
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := s.Rotate(r, w, sess); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got := load(t, s, sessionCookie(t, w)); got.IsNew || got.ID != sess.ID {
		t.Errorf("rotated fresh session did not load: IsNew=%v", got.IsNew)
	}
	if n := sessionRows(t, d); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestSessionSweepAndCount(t *testing.T) {
	s, d, clk := newTestStore(t)
	s.IdleTimeout = 12 * time.Hour
	ctx := context.Background()

	_, expired := saveNew(t, s, map[any]any{"n": 1})
	clk.Advance(6 * time.Hour)
	_, mid := saveNew(t, s, map[any]any{"n": 2})
	clk.Advance(7 * time.Hour)
	_, fresh := saveNew(t, s, map[any]any{"n": 3})

	if n, err := s.Count(ctx); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2 live sessions", n, err)
	}
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if rows := sessionRows(t, d); rows != 2 {
		t.Errorf("%d rows after sweep, want 2", rows)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
	for name, c := range map[string]*http.Cookie{"mid": mid, "fresh": fresh} {
		if load(t, s, c).IsNew {
			t.Errorf("%s session swept", name)
		}
	}
	if !load(t, s, expired).IsNew {
		t.Error("expired session loaded")
	}
}

func TestSessionRunSweeper(t *testing.T) {
	s, d, clk := newTestStore(t)
	s.IdleTimeout = time.Hour
	saveNew(t, s, map[any]any{"n": 1})
	clk.Advance(2 * time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.RunSweeper(ctx, time.Hour)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for sessionRows(t, d) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("sweeper did not delete the expired row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunSweeper did not return after cancel")
	}
}

func TestSessionConcurrentSaves(t *testing.T) {
	s, _, _ := newTestStore(t)
	const workers = 20
	var wg sync.WaitGroup
	cookies := make([]*http.Cookie, workers)
	for i := range workers {
		wg.Go(func() {
			r := request()
			sess, err := s.Get(r, cookieName)
			if err != nil {
				t.Errorf("worker %d Get: %v", i, err)
				return
			}
			sess.Values["worker"] = i
			w := httptest.NewRecorder()
			if err := s.Save(r, w, sess); err != nil {
				t.Errorf("worker %d Save: %v", i, err)
				return
			}
			// A second write per worker keeps writers overlapping.
			sess.Values["again"] = true
			if err := s.Save(r, httptest.NewRecorder(), sess); err != nil {
				t.Errorf("worker %d second Save: %v", i, err)
				return
			}
			for _, c := range w.Result().Cookies() {
				cookies[i] = c
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n, err := s.Count(context.Background()); err != nil || n != workers {
		t.Fatalf("Count = %d, %v; want %d", n, err, workers)
	}
	for i, c := range cookies {
		if got := load(t, s, c); got.Values["worker"] != i || got.Values["again"] != true {
			t.Errorf("worker %d values = %v", i, got.Values)
		}
	}
}

func TestSessionStoreRejectsShortKey(t *testing.T) {
	d := openTest(t)
	s := d.NewSessionStore([]byte("short"))
	r := request()
	sess, err := s.New(r, cookieName)
	if err == nil || !strings.HasPrefix(err.Error(), "db: ") {
		t.Fatalf("New error = %v, want a db: key error", err)
	}
	if sess == nil {
		t.Fatal("New returned a nil session")
	}
	if err := s.Save(r, httptest.NewRecorder(), sess); err == nil {
		t.Error("Save with a short key succeeded")
	}
}

func TestSessionUndecodableRowIsDiscarded(t *testing.T) {
	s, d, _ := newTestStore(t)
	sess, cookie := saveNew(t, s, map[any]any{"user": "alice"})
	if _, err := d.SQL().Exec(`UPDATE sessions SET data = x'deadbeef' WHERE id = ?`, sess.ID); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s, cookie); !got.IsNew {
		t.Error("corrupt session loaded")
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d rows, want the corrupt one deleted", n)
	}
}

func TestSessionUserID(t *testing.T) {
	tests := []struct {
		name  string
		key   any
		value func(id int64) any // nil: no value under the key
		want  bool               // user_id set to the user's id, else NULL
	}{
		{"int64", "uid", func(id int64) any { return id }, true},
		{"int", "uid", func(id int64) any { return int(id) }, false},
		{"string", "uid", func(id int64) any { return "1" }, false},
		{"missing", "uid", nil, false},
		{"no key configured", nil, func(id int64) any { return id }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d, _ := newTestStore(t)
			s.UserIDKey = tt.key
			u := mustUser(t, d, "alice", RoleMember)
			values := map[any]any{"csrf": "x"}
			if tt.value != nil {
				values["uid"] = tt.value(u.ID)
			}
			sess, _ := saveNew(t, s, values)
			var want any
			if tt.want {
				want = u.ID
			}
			if got := sessionUserID(t, d, sess.ID); got != want {
				t.Errorf("user_id = %v, want %v", got, want)
			}
		})
	}
}

// sessionUserID returns a session row's user_id: an int64, or nil for NULL.
func sessionUserID(t *testing.T, d *DB, id string) any {
	t.Helper()
	var v any
	if err := d.SQL().QueryRow(`SELECT user_id FROM sessions WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSessionUserIDFollowsValues(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	u := mustUser(t, d, "alice", RoleMember)

	// Anonymous, then signed in by Rotate, then signed out by dropping the value.
	_, cookie := saveNew(t, s, map[any]any{"csrf": "x"})
	r := request(cookie)
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["uid"] = u.ID
	w := httptest.NewRecorder()
	if err := s.Rotate(r, w, sess); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got := sessionUserID(t, d, sess.ID); got != u.ID {
		t.Errorf("user_id after Rotate = %v, want %d", got, u.ID)
	}
	r = request(sessionCookie(t, w))
	sess, err = s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	delete(sess.Values, "uid")
	save(t, s, r, sess)
	if got := sessionUserID(t, d, sess.ID); got != nil {
		t.Errorf("user_id after the value was removed = %v, want NULL", got)
	}
}

func TestSessionUserIDMustExist(t *testing.T) {
	s, _, _ := newTestStore(t)
	s.UserIDKey = "uid"
	r := request()
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["uid"] = int64(12345)
	if err := s.Save(r, httptest.NewRecorder(), sess); err == nil {
		t.Error("Save for a user that does not exist succeeded")
	}
}

func TestSessionDeleteUserSessions(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	ctx := context.Background()
	alice := mustUser(t, d, "alice", RoleMember)
	bob := mustUser(t, d, "bob", RoleMember)
	_, a1 := saveNew(t, s, map[any]any{"uid": alice.ID})
	_, a2 := saveNew(t, s, map[any]any{"uid": alice.ID})
	_, b1 := saveNew(t, s, map[any]any{"uid": bob.ID})
	_, anon := saveNew(t, s, map[any]any{"csrf": "x"})

	n, err := s.DeleteUserSessions(ctx, alice.ID)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 2", n, err)
	}
	for name, c := range map[string]*http.Cookie{"alice 1": a1, "alice 2": a2} {
		if !load(t, s, c).IsNew {
			t.Errorf("%s still signed in", name)
		}
	}
	for name, c := range map[string]*http.Cookie{"bob": b1, "anonymous": anon} {
		if load(t, s, c).IsNew {
			t.Errorf("%s session lost", name)
		}
	}
	if n, err := s.DeleteUserSessions(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("second DeleteUserSessions = %d, %v; want 0", n, err)
	}
}

func TestSessionSaveAfterRowGone(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, s *SessionStore, d *DB, clk *clock, cookie *http.Cookie, userID int64)
	}{
		{"signed out in another tab", func(t *testing.T, s *SessionStore, _ *DB, _ *clock, cookie *http.Cookie, _ int64) {
			r := request(cookie)
			other, err := s.New(r, cookieName)
			if err != nil || other.IsNew {
				t.Fatalf("other tab New: IsNew=%v err=%v", other.IsNew, err)
			}
			other.Options.MaxAge = -1
			if err := s.Save(r, httptest.NewRecorder(), other); err != nil {
				t.Fatal(err)
			}
		}},
		{"user sessions deleted", func(t *testing.T, s *SessionStore, _ *DB, _ *clock, _ *http.Cookie, userID int64) {
			if _, err := s.DeleteUserSessions(context.Background(), userID); err != nil {
				t.Fatal(err)
			}
		}},
		{"user disabled", func(t *testing.T, _ *SessionStore, d *DB, _ *clock, _ *http.Cookie, userID int64) {
			if err := d.SetDisabled(context.Background(), userID, true, time.Unix(1_700_000_000, 0)); err != nil {
				t.Fatal(err)
			}
		}},
		{"expired and swept", func(t *testing.T, s *SessionStore, _ *DB, clk *clock, _ *http.Cookie, _ int64) {
			clk.Advance(s.IdleTimeout + time.Second)
			if n, err := s.Sweep(context.Background()); err != nil || n != 1 {
				t.Fatalf("Sweep = %d, %v", n, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d, clk := newTestStore(t)
			s.UserIDKey = "uid"
			u := mustUser(t, d, "bob", RoleMember)
			_, cookie := saveNew(t, s, map[any]any{"uid": u.ID})

			r := request(cookie)
			sess, err := s.Get(r, cookieName)
			if err != nil || sess.IsNew {
				t.Fatalf("Get: IsNew=%v err=%v", sess.IsNew, err)
			}
			id := sess.ID
			tt.end(t, s, d, clk, cookie, u.ID)

			sess.Values["touched"] = true
			for attempt := range 2 {
				w := httptest.NewRecorder()
				if err := s.Save(r, w, sess); !errors.Is(err, ErrSessionEnded) {
					t.Fatalf("Save %d: %v, want ErrSessionEnded", attempt, err)
				}
				if c := sessionCookie(t, w); c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("Save %d cookie = %+v, want an expiring empty cookie", attempt, c)
				}
				if n := sessionRows(t, d); n != 0 {
					t.Fatalf("Save %d revived the session: %d rows", attempt, n)
				}
			}
			if sess.ID != id {
				t.Errorf("ID changed to %q", sess.ID)
			}
			if !load(t, s, cookie).IsNew {
				t.Error("old cookie loads a session")
			}
			// A new visitor still gets a new row.
			saveNew(t, s, map[any]any{"csrf": "x"})
			if n := sessionRows(t, d); n != 1 {
				t.Errorf("%d rows after a fresh session, want 1", n)
			}
		})
	}
}

func TestSessionSaveOfNewSessionAfterRowGone(t *testing.T) {
	// A fresh session saved twice in one request keeps IsNew; its second
	// Save must not re-create a row deleted in between either.
	s, d, _ := newTestStore(t)
	r := request()
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	save(t, s, r, sess)
	if _, err := d.SQL().Exec(`DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(r, httptest.NewRecorder(), sess); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("Save: %v, want ErrSessionEnded", err)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d rows, want 0", n)
	}
}

func TestSessionConcurrentSavesAndRevocation(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	ctx := context.Background()
	u := mustUser(t, d, "bob", RoleMember)
	_, cookie := saveNew(t, s, map[any]any{"uid": u.ID})

	// Many requests of one browser keep saving while the user is revoked.
	const workers = 20
	var (
		wg      sync.WaitGroup
		revoked = make(chan struct{})
		ended   atomic.Int32
	)
	for i := range workers {
		r := request(cookie)
		sess, err := s.New(r, cookieName)
		if err != nil || sess.IsNew {
			t.Fatalf("worker %d New: IsNew=%v err=%v", i, sess.IsNew, err)
		}
		wg.Go(func() {
			for n := 0; ; n++ {
				// Checked before saving: a Save started after the delete
				// committed must fail.
				afterRevoke := false
				select {
				case <-revoked:
					afterRevoke = true
				default:
				}
				sess.Values["n"] = n
				err := s.Save(r, httptest.NewRecorder(), sess)
				switch {
				case errors.Is(err, ErrSessionEnded):
					ended.Add(1)
					return
				case err != nil:
					t.Errorf("worker %d Save: %v", i, err)
					return
				case afterRevoke:
					t.Errorf("worker %d saved a revoked session", i)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := s.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	close(revoked)
	wg.Wait()
	if ended.Load() != workers {
		t.Errorf("%d of %d workers saw ErrSessionEnded", ended.Load(), workers)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d rows after revocation, want 0: a Save revived the session", n)
	}
}

func TestDecodedValuesAreCopies(t *testing.T) {
	data, err := encodeValues(map[any]any{"uid": int64(7), "csrf": "tok", "welcomed": true})
	if err != nil {
		t.Fatal(err)
	}
	var d decodedValues
	for i := range 3 { // decoded, then served from the cache twice
		v, err := d.decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if v["uid"] != int64(7) || v["csrf"] != "tok" || v["welcomed"] != true {
			t.Fatalf("decode %d carried another request's changes: %v", i, v)
		}
		v["uid"] = int64(99) // a handler changing its session
		delete(v, "csrf")
	}
	if len(d.m) != 1 {
		t.Errorf("cache holds %d entries, want 1", len(d.m))
	}

	// A value a copy would share is decoded every time, never kept.
	gob.Register([]string(nil))
	shared, err := encodeValues(map[any]any{"list": []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.decode(shared)
	if err != nil || v["list"].([]string)[0] != "a" {
		t.Fatalf("decode: %v, %v", v, err)
	}
	if len(d.m) != 1 {
		t.Errorf("a map with a slice was cached")
	}

	if _, err := d.decode([]byte("not gob")); err == nil {
		t.Error("garbage decoded")
	}
}
