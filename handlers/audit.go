package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

const auditPageSize = 50

// record writes one line of the audit trail: who, what, which application,
// the outcome and, for upstream failures, LightCC's own message. name is
// the user name typed at a failed sign-in (there is no user then). A trail
// that cannot be written is logged, not shown: the action itself happened.
func (h *Handlers) record(ctx context.Context, rs *RequestState, action, appID, outcome, detail string, err error, name string) {
	if h.Audit == nil {
		return
	}
	e := db.AuditEntry{At: h.Now(), Action: action, AppID: appID, Outcome: outcome, Detail: detail, Username: name}
	if rs != nil && rs.User != nil {
		e.UserID, e.Username = rs.User.ID, rs.User.Username
	}
	var ae *lightcc.APIError
	if errors.As(err, &ae) {
		e.UpstreamMsg = ae.Msg
	} else if err != nil && e.Detail == "" {
		// The sentence a person read, not a message key an admin cannot.
		_, e.Detail = explain(err, i18n.From(ctx))
	}
	if werr := h.Audit.RecordAudit(context.WithoutCancel(ctx), e); werr != nil {
		h.Logger.ErrorContext(ctx, "audit trail not written", "action", action, "app", appID, "err", werr)
	}
}

// outcomeOf names the outcome of an upstream call for the trail.
func outcomeOf(err error) string {
	var ae *lightcc.APIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ae):
		return "refused"
	default:
		return "failed"
	}
}

// auditPage lists the trail, newest first, filtered by user, action and
// application, a page at a time.
func (h *Handlers) auditPage(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	f := db.AuditFilter{
		Username: strings.TrimSpace(c.QueryParam("user")),
		Action:   strings.TrimSpace(c.QueryParam("action")),
		AppID:    strings.TrimSpace(c.QueryParam("app")),
	}
	pageNo, err := strconv.Atoi(c.QueryParam("page"))
	if c.QueryParam("page") == "" {
		pageNo, err = 1, nil
	}
	if err != nil || pageNo < 1 || pageNo > 100000 || len(f.Username) > 64 || len(f.Action) > 64 || len(f.AppID) > 64 {
		return &userError{status: http.StatusBadRequest, msgKey: "error.bad_request"}
	}
	entries, total, err := h.Audit.AuditEntries(ctx, f, auditPageSize, (pageNo-1)*auditPageSize)
	if err != nil {
		return err
	}
	codes, err := h.Audit.AuditActions(ctx)
	if err != nil {
		return err
	}
	var actions []pages.Choice
	for _, a := range codes {
		actions = append(actions, pages.Choice{Value: a, Label: rs.Loc.T("audit.act." + a), Checked: a == f.Action})
	}
	vm := pages.AuditPage{
		Shell: h.shell(c, rs.Loc.T("audit.title"), "audit", h.balanceFor(c)),
		User:  f.Username, Action: f.Action, App: f.AppID, Actions: actions, Total: total,
	}
	for _, e := range entries {
		who := e.Username
		if who == "" {
			who = "—"
		}
		vm.Rows = append(vm.Rows, pages.AuditRow{
			At: rs.Loc.Time(e.At), User: who, ActionKey: e.Action, Action: rs.Loc.T("audit.act." + e.Action), App: e.AppID,
			Outcome: rs.Loc.T("audit.out." + e.Outcome), OutcomeKey: e.Outcome, Detail: e.Detail, Upstream: e.UpstreamMsg,
		})
	}
	link := func(p int) string {
		q := url.Values{}
		for k, v := range map[string]string{"user": f.Username, "action": f.Action, "app": f.AppID} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("page", strconv.Itoa(p))
		return "/audit?" + q.Encode()
	}
	if pageNo > 1 {
		vm.PrevURL = link(pageNo - 1)
	}
	if pageNo*auditPageSize < total {
		vm.NextURL = link(pageNo + 1)
	}
	return h.render(c, http.StatusOK, pages.Audit(vm))
}

// balanceFor fetches the header's balance for pages that have nothing
// else to ask the upstream.
func (h *Handlers) balanceFor(c echo.Context) *components.BalanceProps {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	b := h.fetchBalance(ctx, requestOf(c).Loc)
	return &b
}
