package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
)

// maxNoteRunes bounds a local note: it is a card title, not a document.
const maxNoteRunes = 40

// ownsApp guards the routes that change one application: admins may
// change any, members those they own, viewers none. A refused request
// sends nothing upstream.
func (h *Handlers) ownsApp(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := appIDParam(c)
		if err != nil {
			return err
		}
		rs := requestOf(c)
		if err := h.mayChange(c.Request().Context(), rs, id); err != nil {
			h.record(c.Request().Context(), rs, "denied", id, "refused", c.Request().Method+" "+c.Path(), nil, "")
			return err
		}
		return next(c)
	}
}

// startApp starts a stopped (or abnormal) application, within the user's
// budget.
func (h *Handlers) startApp(c echo.Context) error {
	rs := requestOf(c)
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	if a, found, err := h.findApp(ctx, id); err == nil && found {
		if err := h.budgetCheck(ctx, rs, a.GPUs, dailyCost(a.BillingMode, a.RentalPrice, "0"), a.ID); err != nil {
			h.record(ctx, rs, "start", id, "refused", "budget", nil, "")
			return h.actionRefused(ctx, c, id, err)
		}
	}
	return h.upstreamAction(c, "start", h.Upstream.RestartApplication, "action.started", nil)
}

// actionRefused answers a refusal of ours (not LightCC's) in the card.
func (h *Handlers) actionRefused(ctx context.Context, c echo.Context, id string, err error) error {
	status, msg := explain(err, requestOf(c).Loc)
	return h.cardAfter(ctx, c, id, status, fixed(msg), true)
}

// stopApp stops a running application; a stop scheduled through the
// console no longer applies after it.
func (h *Handlers) stopApp(c echo.Context) error {
	return h.upstreamAction(c, "stop", h.Upstream.StopApplication, "action.stopped", h.AppMeta.ClearScheduledStop)
}

// timedStopApp schedules a stop: the time is checked here (in the
// configured zone, in the future, within a year) before anything is sent.
func (h *Handlers) timedStopApp(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	loc := requestOf(c).Loc
	now := h.Now()
	at, bad := parseStopTime(c.FormValue("preset"), c.FormValue("stopTime"), now, loc.Loc)
	if bad != "" {
		return h.dialogError(c, "stop", id, loc.T(bad))
	}
	call := func(ctx context.Context, id string) error { return h.Upstream.TimedStopApplication(ctx, id, at) }
	remember := func(ctx context.Context, id string) error {
		if err := h.AppMeta.SetScheduledStop(ctx, id, at, now); err != nil {
			return err
		}
		return h.AppMeta.ClearAppAlert(ctx, id) // a stop is set now: the launch's failed one no longer matters
	}
	return h.upstreamAction(c, "timed_stop", call, "action.scheduled", remember, map[string]any{"Time": loc.Time(at)})
}

// destroyApp destroys an application for good, only when the form's
// confirm field names it exactly; anything else is refused with 422 and
// nothing is sent upstream.
func (h *Handlers) destroyApp(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	rs := requestOf(c)
	loc := rs.Loc
	if c.FormValue("confirm") != id {
		h.record(c.Request().Context(), rs, "destroy", id, "refused", "confirmation does not match", nil, "")
		return h.dialogError(c, "destroy", id, loc.T("destroy.err.confirm"))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	name := h.appName(ctx, id)
	err = h.Upstream.DestroyApplication(ctx, id)
	h.record(ctx, rs, "destroy", id, outcomeOf(err), name, err, "")
	if err != nil {
		h.Logger.WarnContext(ctx, "destroy refused", "app", id, "err", err)
		return h.cardAfter(ctx, c, id, actionStatus(err), fixed(actionMessage(err, loc)), true)
	}
	if err := h.AppMeta.ForgetApp(ctx, id); err != nil {
		h.Logger.ErrorContext(ctx, "forget destroyed app", "app", id, "err", err)
	}
	if err := h.Owners.ClearOwner(ctx, id); err != nil {
		h.Logger.ErrorContext(ctx, "forget owner of destroyed app", "app", id, "err", err)
	}
	h.Logger.InfoContext(ctx, "application destroyed", "app", id)
	msg := loc.T("action.destroyed", map[string]any{"Name": name})
	if onPageOf(requestOf(c).HX.CurrentURL, id) {
		return redirect(c, "/apps", http.StatusOK)
	}
	// The card goes (an empty swap); the toast says what happened.
	return h.renderPart(c, http.StatusOK, components.ToastOOB(components.ToastInfo, msg))
}

// setAppNote keeps a short local label for an application.
func (h *Handlers) setAppNote(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	loc := requestOf(c).Loc
	note := strings.TrimSpace(c.FormValue("note"))
	switch {
	case !utf8.ValidString(note) || strings.ContainsFunc(note, unicode.IsControl):
		return h.dialogError(c, "note", id, loc.T("note.err.invalid"))
	case utf8.RuneCountInString(note) > maxNoteRunes:
		return h.dialogError(c, "note", id, loc.T("note.err.too_long"))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	if err := h.AppMeta.SetAppNote(ctx, id, note, h.Now()); err != nil {
		return err
	}
	h.record(ctx, requestOf(c), "note", id, "ok", note, nil, "")
	return h.cardAfter(ctx, c, id, http.StatusOK, fixed(loc.T("action.noted")), false)
}

// openLink asks the upstream for one of an application's links and
// redirects to it, so a launcher is a plain link that opens a new tab.
func (h *Handlers) openLink(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	kinds := map[string]lightcc.LinkType{"jupyter": lightcc.LinkJupyter, "filebrowser": lightcc.LinkFilebrowser, "sd": lightcc.LinkSD}
	kind, ok := kinds[c.Param("kind")]
	if !ok {
		return &userError{status: http.StatusNotFound, msgKey: "link.err.kind"}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	link, err := h.Upstream.ApplicationLink(ctx, kind, id)
	h.record(ctx, requestOf(c), "link", id, outcomeOf(err), c.Param("kind"), err, "")
	if err != nil {
		var ae *lightcc.APIError
		if errors.As(err, &ae) && !errors.Is(err, lightcc.ErrUnauthorized) {
			return &userError{status: http.StatusConflict, msgKey: "action.refused", data: map[string]any{"Msg": ae.Msg}, err: err}
		}
		return err
	}
	target, err := lightcc.ComposeLink(h.LinkTemplate, link)
	if err != nil {
		return &userError{status: http.StatusBadGateway, msgKey: "error.upstream.bad_answer", err: err}
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// upstreamAction runs one state-changing call for the :id application,
// then answers its fresh card with a toast; a refusal answers the card
// with the upstream's reason in it. after, when set, runs only on success.
func (h *Handlers) upstreamAction(c echo.Context, action string, call func(context.Context, string) error, doneKey string,
	after func(context.Context, string) error, data ...map[string]any) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	loc := requestOf(c).Loc
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	err = call(ctx, id)
	h.record(ctx, requestOf(c), action, id, outcomeOf(err), "", err, "")
	if err != nil {
		h.Logger.WarnContext(ctx, "action refused", "app", id, "path", c.Path(), "err", err)
		return h.cardAfter(ctx, c, id, actionStatus(err), fixed(actionMessage(err, loc)), true)
	}
	if after != nil {
		if err := after(ctx, id); err != nil {
			h.Logger.ErrorContext(ctx, "after action", "app", id, "err", err)
		}
	}
	done := func(name string) string {
		vals := map[string]any{}
		if len(data) > 0 {
			vals = data[0]
		}
		vals["Name"] = name
		return loc.T(doneKey, vals)
	}
	return h.cardAfter(ctx, c, id, http.StatusOK, done, false)
}

// fixed is a message that does not name the application.
func fixed(msg string) func(string) string { return func(string) string { return msg } }

// cardAfter answers an action with the application's fresh card, the
// message (built with the application's name) shown in it and as a toast.
// When the card cannot be fetched the answer is the toast alone and the
// card stays as it was.
func (h *Handlers) cardAfter(ctx context.Context, c echo.Context, id string, status int, message func(name string) string, bad bool) error {
	kind := components.ToastInfo
	if bad {
		kind = components.ToastError
	}
	meta := h.appMetaOf(ctx, id)
	a, found, err := h.findApp(ctx, id)
	name := id // the list cannot be read: the id is all there is
	if found || meta.Note != "" {
		name = appTitle(a, meta)
	}
	msg := message(name)
	if err != nil || !found {
		if err != nil {
			h.Logger.WarnContext(ctx, "card refresh after action failed", "app", id, "err", err)
			if !bad {
				msg = requestOf(c).Loc.T("action.card_unavailable")
			}
		}
		HXResponse{Reswap: "none"}.Apply(c.Response())
		return h.renderPart(c, status, components.ToastOOB(kind, msg))
	}
	props := h.cardProps(a, meta, h.ownerOf(ctx, id), requestOf(c).User, h.Now(), requestOf(c).Loc)
	props.Message, props.MessageBad = msg, bad
	return h.renderPart(c, status, templ.Join(components.AppCard(props), components.ToastOOB(kind, msg)))
}

// dialogError shows a refusal inside the dialog the form came from, which
// stays open with the person's input; nothing is sent upstream.
func (h *Handlers) dialogError(c echo.Context, dialog, id, msg string) error {
	HXResponse{Retarget: "#" + dialog + "-dialog-" + id + "-error", Reswap: "innerHTML"}.Apply(c.Response())
	return c.String(http.StatusUnprocessableEntity, msg)
}

// appName is what a toast calls an application (appTitle); the id when
// the list cannot be read.
func (h *Handlers) appName(ctx context.Context, id string) string {
	meta := h.appMetaOf(ctx, id)
	if a, found, err := h.findApp(ctx, id); (err == nil && found) || meta.Note != "" {
		return appTitle(a, meta)
	}
	return id
}

// actionStatus is the status of a refused action: 409 when LightCC said no,
// else what explain gives for the failure.
func actionStatus(err error) int {
	var ae *lightcc.APIError
	if errors.As(err, &ae) && !errors.Is(err, lightcc.ErrUnauthorized) {
		return http.StatusConflict
	}
	status, _, _ := classify(err)
	return status
}

func actionMessage(err error, loc *i18n.Localizer) string {
	_, msg := explain(err, loc)
	return msg
}

// onPageOf reports whether the htmx request came from the application's own
// details page (which must be left once the application is destroyed).
func onPageOf(currentURL, id string) bool {
	u, err := url.Parse(currentURL)
	return err == nil && u.Path == "/apps/"+id
}
