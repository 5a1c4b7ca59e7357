package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

// userError is an error with the status and plain-language message a user
// should see; the wrapped error carries the detail for the log.
type userError struct {
	status int
	msgKey string
	data   map[string]any
	err    error
}

func (e *userError) Error() string {
	if e.err != nil {
		return e.msgKey + ": " + e.err.Error()
	}
	return e.msgKey
}

func (e *userError) Unwrap() error { return e.err }

// classify turns any error into a status and the message key (with its
// data) a user should read. Upstream failures become 502 (504 for
// timeouts) with a message saying what failed; the upstream's own msg is
// shown for refusals.
func classify(err error) (status int, key string, data map[string]any) {
	var ue *userError
	var he *echo.HTTPError
	var ae *lightcc.APIError
	switch {
	case errors.As(err, &ue):
		return ue.status, ue.msgKey, ue.data
	case errors.As(err, &he):
		return he.Code, httpMessageKey(he.Code), nil
	case errors.Is(err, lightcc.ErrUnauthorized):
		return http.StatusBadGateway, "error.upstream.unauthorized", nil
	case errors.As(err, &ae):
		return http.StatusBadGateway, "error.upstream.refused", map[string]any{"Msg": ae.Msg}
	case errors.Is(err, lightcc.ErrTimeout):
		return http.StatusGatewayTimeout, "error.upstream.timeout", nil
	case errors.Is(err, lightcc.ErrTransport), errors.Is(err, lightcc.ErrStatus):
		return http.StatusBadGateway, "error.upstream.unreachable", nil
	case errors.Is(err, lightcc.ErrDecode):
		return http.StatusBadGateway, "error.upstream.bad_answer", nil
	default:
		return http.StatusInternalServerError, "error.internal", nil
	}
}

// explain is classify in the user's language.
func explain(err error, loc *i18n.Localizer) (int, string) {
	status, key, data := classify(err)
	return status, loc.T(key, data)
}

// nextStepKey says what a person can do about an error.
func nextStepKey(status int) string {
	switch {
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return "error.next.not_found"
	case status == http.StatusForbidden:
		return "error.next.forbidden"
	case status >= 500:
		return "error.next.upstream"
	default:
		return "error.next.input"
	}
}

func httpMessageKey(status int) string {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "error.not_found"
	case http.StatusForbidden:
		return "error.forbidden"
	case http.StatusRequestEntityTooLarge:
		return "error.too_large"
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "error.bad_request"
	case http.StatusGatewayTimeout:
		return "error.upstream.timeout"
	default:
		if status >= 500 {
			return "error.internal"
		}
		return "error.bad_request"
	}
}

// handleError is the one HTTP error handler: it logs 5xx as errors and 4xx
// as warnings, and answers a full page with the real status, or a toast for
// htmx calls. It never shows the error's text, only the sentence above.
func (h *Handlers) handleError(err error, c echo.Context) {
	if c.Response().Committed || errors.Is(c.Request().Context().Err(), context.Canceled) {
		return
	}
	rs := requestOf(c)
	status, msg := explain(err, rs.Loc)
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	h.Logger.Log(c.Request().Context(), level, "request failed", "method", c.Request().Method,
		"path", c.Request().URL.Path, "status", status, "err", err,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))

	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	var werr error
	if rs.HX.Request && !rs.HX.Boosted && !rs.HX.HistoryRestore {
		HXResponse{Retarget: "#toasts", Reswap: "beforeend"}.Apply(c.Response())
		werr = h.renderPart(c, status, components.Toast(components.ToastError, msg))
	} else {
		ep := pages.ErrorPage{Shell: h.shell(c, rs.Loc.T("error.title"), "", nil), Status: status, Message: msg, Next: rs.Loc.T(nextStepKey(status))}
		if c.Request().Method == http.MethodGet && (status >= 500 || status == http.StatusTooManyRequests) {
			ep.Retry = safeNext(c.Request().URL.RequestURI())
		}
		page := pages.Error(ep)
		werr = h.render(c, status, page)
	}
	if werr != nil {
		h.Logger.Error("render error page", "err", werr)
	}
}
