package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"lightcc-dashboard/db"
	"lightcc-dashboard/views/i18n"
)

const (
	sessionName = "lcc_session"
	langCookie  = "lang"
	csrfKey     = "csrf"
)

// RequestState is the per-request data every handler and view may need,
// kept in one typed place on the request's context.
type RequestState struct {
	Session *sessions.Session // nil on routes without a session (/healthz, assets)
	CSRF    string            // the session's token masked for this page (csrf.go); empty without a session
	Loc     *i18n.Localizer
	HX      HXRequest
	User    *db.User // the signed-in user; nil before sign-in

	csrfToken   string // the session's token itself, to check against
	csrfUnsaved bool   // the token is new and its session not stored yet
}

// setCSRF makes token the request's CSRF token, masked for the page.
func (rs *RequestState) setCSRF(token string) {
	rs.csrfToken, rs.CSRF = token, maskCSRF(token)
}

type stateKey struct{}

// requestOf returns the request's state; a request that never passed the
// state middleware (it failed before routing) gets a Chinese default.
func requestOf(c echo.Context) *RequestState {
	if rs, ok := c.Request().Context().Value(stateKey{}).(*RequestState); ok {
		return rs
	}
	return &RequestState{Loc: i18n.From(c.Request().Context()), HX: parseHX(c.Request())}
}

// withState is the outermost middleware: it negotiates the language
// (?lang=, then the cookie, then Accept-Language) and parses the htmx
// headers, so even the error handler can answer in the user's language.
func (h *Handlers) withState(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		explicit := r.URL.Query().Get("lang")
		if l, ok := i18n.ParseLang(explicit); ok {
			c.SetCookie(&http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
		} else if ck, err := r.Cookie(langCookie); err == nil {
			explicit = ck.Value
		}
		loc := h.Catalog.For(h.Catalog.Negotiate(explicit, r.Header.Get("Accept-Language")), h.Location)
		rs := &RequestState{Loc: loc, HX: parseHX(r)}
		ctx := i18n.With(context.WithValue(r.Context(), stateKey{}, rs), loc)
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// withSession loads the visitor's server-side session and makes sure it
// holds a CSRF token; a new one is stored when a page first carries it.
func (h *Handlers) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		sess, err := h.Sessions.Get(r, sessionName)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		sess.Options.Secure = h.secure(r)
		token, _ := sess.Values[csrfKey].(string)
		rs := requestOf(c)
		if token == "" {
			if token, err = randomToken(); err != nil {
				return err
			}
			sess.Values[csrfKey] = token
			// Stored only when a page carries the token (pageCSRF): a
			// visitor who is merely redirected to sign in, a probe or a
			// scanner leaves no row behind.
			rs.csrfUnsaved = true
		}
		rs.Session = sess
		rs.setCSRF(token)
		return next(c)
	}
}

// checkCSRF refuses every unsafe request whose X-CSRF-Token header (htmx)
// or _csrf form field (plain forms) does not match the session's token.
// Echo's own CSRF middleware is not used: it lets requests with
// Sec-Fetch-Site: same-origin through without a token and answers 400 for
// a missing one, where we want a token on every unsafe request and 403.
func (h *Handlers) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if !validCSRF(requestOf(c).csrfToken, got) {
			return echo.NewHTTPError(http.StatusForbidden, "CSRF token missing or invalid")
		}
		return next(c)
	}
}

func (h *Handlers) secure(r *http.Request) bool { return r.TLS != nil || h.SecureCookies }

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// requestLogger logs one line per request with slog: method, path, status,
// latency and request id. Query strings are left out: they are not needed
// to follow a request and keep the log free of whatever users type.
func (h *Handlers) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			h.Logger.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency.Round(time.Microsecond)), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// Unsafe requests per user: a steady rate and a burst, enough for any
// person clicking, too few for a runaway script.
const (
	unsafeRate  = 5
	unsafeBurst = 20
)

// limitUnsafe rate-limits each signed-in user's unsafe requests; reads
// are not limited. A refused request does nothing and says so (429).
func (h *Handlers) limitUnsafe() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return true
			}
			return requestOf(c).User == nil
		},
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: unsafeRate, Burst: unsafeBurst, ExpiresIn: 5 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) {
			return fmt.Sprint(requestOf(c).User.ID), nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return &userError{status: http.StatusTooManyRequests, msgKey: "error.too_many"}
		},
	})
}
