package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"lightcc-dashboard/db"
	"lightcc-dashboard/views/pages"
)

// SessionUserKey is the session value holding the signed-in user's id
// (the session store indexes it, to end a user's sessions at once).
const SessionUserKey = "uid"

const (
	userKey = SessionUserKey
	// Sign-in throttling: this many failures within the window make a user
	// name, or an address, wait for the rest of the window.
	maxFailuresPerUser = 5
	maxFailuresPerIP   = 20 // higher: a team behind one proxy shares an address
	failureWindow      = 5 * time.Minute
	minPassword        = 8
	maxPassword        = 72 // bcrypt reads no further
)

// loginLimiter counts recent sign-in failures per user name and per address.
type loginLimiter struct {
	now      func() time.Time
	mu       sync.Mutex
	failures map[string][]time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	if now == nil {
		now = time.Now
	}
	return &loginLimiter{now: now, failures: map[string][]time.Time{}}
}

// recent prunes and returns the failures of key within the window.
func (l *loginLimiter) recent(key string) []time.Time {
	cutoff := l.now().Add(-failureWindow)
	kept := l.failures[key][:0]
	for _, t := range l.failures[key] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = kept
	return kept
}

// wait says how long a sign-in for user from ip must wait; zero to go ahead.
func (l *loginLimiter) wait(user, ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	for _, k := range []struct {
		key string
		max int
	}{{"u:" + strings.ToLower(user), maxFailuresPerUser}, {"ip:" + ip, maxFailuresPerIP}} {
		if r := l.recent(k.key); len(r) >= k.max {
			if t := r[len(r)-k.max].Add(failureWindow); t.After(until) {
				until = t
			}
		}
	}
	if until.IsZero() {
		return 0
	}
	return until.Sub(l.now())
}

func (l *loginLimiter) fail(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range []string{"u:" + strings.ToLower(user), "ip:" + ip} {
		l.failures[k] = append(l.recent(k), now)
	}
}

func (l *loginLimiter) succeed(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, "u:"+strings.ToLower(user))
}

// remoteIP is the connection's own address. Forwarding headers are not
// trusted here: they would let anyone pick the address they are counted under.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// isLocal reports whether the request comes straight from this machine
// (no proxy in between), which is enough to create the first administrator.
func isLocal(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-Ip") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	ip := net.ParseIP(remoteIP(r))
	return ip != nil && ip.IsLoopback()
}

// withUser resolves the signed-in user of the session. Every page behind it
// needs one: a full load goes to the sign-in page (and comes back after), an
// htmx call gets HX-Redirect; before the first account exists, both go to
// the setup page. Nothing behind it runs, so nothing reaches the upstream.
func (h *Handlers) withUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rs := requestOf(c)
		ctx := c.Request().Context()
		if id, ok := rs.Session.Values[userKey].(int64); ok {
			u, err := h.Users.UserByID(ctx, id)
			switch {
			case err == nil && !u.Disabled:
				err := h.touch(c, rs)
				if err == nil {
					rs.User = &u
					return next(c)
				}
				if !errors.Is(err, db.ErrSessionEnded) {
					return err
				}
				// Ended elsewhere a moment ago (signed out, disabled): signed out here too.
			case err != nil && !errors.Is(err, db.ErrNotFound):
				return err
			}
		}
		target := "/login?next=" + url.QueryEscape(returnPath(c))
		if n, err := h.Users.CountUsers(ctx); err != nil {
			return err
		} else if n == 0 {
			target = "/setup"
		}
		return redirect(c, target, http.StatusUnauthorized)
	}
}

// touchEvery is how often use is written to a session: the session store
// counts idle time from its last save, so a session in use is saved now and
// then (not on every request) to keep it alive.
const touchEvery = 10 * time.Minute

const seenKey = "seen" // the session value holding the last recorded use

// touch records use of the session at most once per touchEvery. A session
// ended elsewhere meanwhile answers db.ErrSessionEnded.
func (h *Handlers) touch(c echo.Context, rs *RequestState) error {
	now := h.Now()
	if seen, ok := rs.Session.Values[seenKey].(int64); ok && now.Sub(time.Unix(seen, 0)) < touchEvery {
		return nil
	}
	rs.Session.Values[seenKey] = now.Unix()
	if err := rs.Session.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("touch session: %w", err) // ErrSessionEnded included: the caller signs out
	}
	return nil
}

// returnPath is where to come back to after signing in: the page itself,
// or for an htmx call the page it was made from.
func returnPath(c echo.Context) string {
	r := c.Request()
	if cur := requestOf(c).HX.CurrentURL; cur != "" {
		if u, err := url.Parse(cur); err == nil {
			return safeNext(u.RequestURI())
		}
	}
	if r.Method != http.MethodGet {
		return "/apps"
	}
	return safeNext(r.URL.RequestURI())
}

// safeNext keeps a return path on this site: a path, never a scheme, a
// host (//evil) or a backslash trick.
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") || len(p) > 512 {
		return "/apps"
	}
	return p
}

// allow lets only the given roles through; the rest get 403 and nothing
// runs behind it.
func (h *Handlers) allow(roles ...db.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			rs := requestOf(c)
			for _, r := range roles {
				if rs.User != nil && rs.User.Role == r {
					return next(c)
				}
			}
			return &userError{status: http.StatusForbidden, msgKey: "error.role"}
		}
	}
}

// mayChange reports whether the signed-in user may change application id:
// admins any, members those they own, viewers none.
func (h *Handlers) mayChange(ctx context.Context, rs *RequestState, id string) error {
	if rs.User == nil || (rs.User.Role != db.RoleAdmin && rs.User.Role != db.RoleMember) {
		return &userError{status: http.StatusForbidden, msgKey: "error.role"}
	}
	if rs.User.Role == db.RoleAdmin {
		return nil // no need to look the owner up
	}
	o, err := h.Owners.OwnerOf(ctx, id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if !canChange(rs.User, o) {
		return &userError{status: http.StatusForbidden, msgKey: "error.not_owner"}
	}
	return nil
}

// canChange is the one rule of who may change an application: admins any,
// members those they own (an unowned one is nobody's), viewers none. Cards
// use it to show actions; mayChange to allow them.
func canChange(u *db.User, owner db.Owner) bool {
	switch {
	case u == nil:
		return false
	case u.Role == db.RoleAdmin:
		return true
	default:
		return u.Role == db.RoleMember && owner.UserID != 0 && owner.UserID == u.ID
	}
}

// loginPage is the sign-in form.
func (h *Handlers) loginPage(c echo.Context) error {
	rs := requestOf(c)
	next := safeNext(c.QueryParam("next"))
	if id, ok := rs.Session.Values[userKey].(int64); ok {
		if u, err := h.Users.UserByID(c.Request().Context(), id); err == nil && !u.Disabled {
			return c.Redirect(http.StatusSeeOther, next) // already signed in
		}
	}
	if n, err := h.Users.CountUsers(c.Request().Context()); err == nil && n == 0 {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return h.render(c, http.StatusOK, pages.Login(pages.LoginPage{Shell: h.bareShell(c, rs.Loc.T("login.title")), Next: next}))
}

// login checks a user name and password. Unknown names and wrong passwords
// get the same answer (and take the same time); failures are throttled per
// name and per address. A successful sign-in gets a new session id and a
// new CSRF token (no fixation).
func (h *Handlers) login(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("username"))
	pass := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	ip := remoteIP(c.Request())
	again := func(status int, msg string) error {
		page := pages.LoginPage{Shell: h.bareShell(c, rs.Loc.T("login.title")), Next: next, Username: name, Error: msg}
		return h.render(c, status, pages.Login(page))
	}
	if wait := h.limiter.wait(name, ip); wait > 0 {
		h.record(ctx, rs, "login", "", "refused", "throttled", nil, name)
		return again(http.StatusTooManyRequests, rs.Loc.T("login.err.throttled", map[string]any{"Minutes": int(wait.Minutes()) + 1}))
	}
	u, err := h.Users.UserByName(ctx, name)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	hash := []byte(u.PasswordHash)
	if err != nil || u.Disabled {
		hash = dummyHash(h.PasswordCost) // the same work for a name that does not exist
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || err != nil || u.Disabled || utf8.RuneCountInString(name) == 0 {
		h.limiter.fail(name, ip)
		h.record(ctx, rs, "login", "", "refused", "bad credentials", nil, name)
		return again(http.StatusUnauthorized, rs.Loc.T("login.err.bad"))
	}
	h.limiter.succeed(name)
	token, err := randomToken()
	if err != nil {
		return err
	}
	rs.Session.Values[userKey] = u.ID
	rs.Session.Values[csrfKey] = token
	if err := h.Sessions.Rotate(c.Request(), c.Response(), rs.Session); err != nil {
		return err
	}
	rs.User = &u
	rs.setCSRF(token)
	h.record(ctx, rs, "login", "", "ok", "", nil, "")
	return redirect(c, next, http.StatusOK)
}

var dummyHashes sync.Map

// dummyHash is a hash of nothing anyone types, at the configured cost, so a
// failed look-up costs what a wrong password costs.
func dummyHash(cost int) []byte {
	if v, ok := dummyHashes.Load(cost); ok {
		return v.([]byte)
	}
	b, _ := bcrypt.GenerateFromPassword([]byte("\x00no such user\x00"), cost)
	dummyHashes.Store(cost, b)
	return b
}

// logout ends the session for good (the row is deleted, not just the cookie).
func (h *Handlers) logout(c echo.Context) error {
	rs := requestOf(c)
	h.record(c.Request().Context(), rs, "logout", "", "ok", "", nil, "")
	rs.Session.Options.MaxAge = -1
	if err := rs.Session.Save(c.Request(), c.Response()); err != nil && !errors.Is(err, db.ErrSessionEnded) {
		return err
	}
	return redirect(c, "/login", http.StatusOK)
}

// setupPage creates the first administrator. It exists only while there
// is no account, and only answers this machine, or whoever has the setup
// code printed in the log.
func (h *Handlers) setupPage(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	if n, err := h.Users.CountUsers(ctx); err != nil {
		return err
	} else if n > 0 {
		return &userError{status: http.StatusNotFound, msgKey: "error.not_found"}
	}
	page := pages.SetupPage{Shell: h.bareShell(c, rs.Loc.T("setup.title")), NeedCode: !isLocal(c.Request())}
	if c.Request().Method == http.MethodGet {
		return h.render(c, http.StatusOK, pages.Setup(page))
	}
	page.Username = strings.TrimSpace(c.FormValue("username"))
	refuse := func(status int, key string) error {
		page.Error = rs.Loc.T(key)
		return h.render(c, status, pages.Setup(page))
	}
	if page.NeedCode {
		code := strings.TrimSpace(c.FormValue("code"))
		if h.SetupCode == "" || subtle.ConstantTimeCompare([]byte(code), []byte(h.SetupCode)) != 1 {
			return refuse(http.StatusForbidden, "setup.err.code")
		}
	}
	pass := c.FormValue("password")
	if key := checkNewAccount(page.Username, pass, c.FormValue("confirm")); key != "" {
		return refuse(http.StatusUnprocessableEntity, key)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), h.PasswordCost)
	if err != nil {
		return err
	}
	u, err := h.Users.CreateUser(ctx, page.Username, string(hash), db.RoleAdmin, h.Now())
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	rs.Session.Values[userKey], rs.Session.Values[csrfKey] = u.ID, token
	if err := h.Sessions.Rotate(c.Request(), c.Response(), rs.Session); err != nil {
		return err
	}
	rs.User = &u
	rs.setCSRF(token)
	h.record(ctx, rs, "setup", "", "ok", "first administrator "+u.Username, nil, "")
	return redirect(c, "/apps", http.StatusOK)
}

// checkNewAccount validates a user name and password; it returns the
// message key of the first problem.
func checkNewAccount(name, pass, confirm string) string {
	switch {
	case name == "" || utf8.RuneCountInString(name) > 32 || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "account.err.username"
	case len(pass) < minPassword || len(pass) > maxPassword:
		return "account.err.password"
	case pass != confirm:
		return "account.err.confirm"
	}
	return ""
}
