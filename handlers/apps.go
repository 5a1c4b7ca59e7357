package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

// appsPage is the console: the applications as cards, filtered by state.
// The list, the balance and the local notes are fetched in parallel; a
// failed list still renders the page, with the reason and the real status.
// An htmx request aimed at the list (a filter, the 30 s refresh) gets only
// the list.
func (h *Handlers) appsPage(c echo.Context) error {
	rs := requestOf(c)
	state := lightcc.RunningState(c.QueryParam("state"))
	if !state.Valid() {
		return &userError{status: http.StatusBadRequest, msgKey: "apps.bad_filter"}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()

	mine := c.QueryParam("mine") == "1"
	var (
		apps    []lightcc.Application
		listErr error
		metas   map[string]db.AppMeta
		owners  map[string]db.Owner
		balance components.BalanceProps
	)
	var g errgroup.Group
	g.Go(func() error { apps, listErr = h.Upstream.ListApplications(ctx, state); return nil })
	g.Go(func() error { balance = h.fetchBalance(ctx, rs.Loc); return nil })
	g.Go(func() error { metas = h.appMetas(ctx); return nil })
	g.Go(func() error { owners = h.owners(ctx); return nil })
	_ = g.Wait()

	shell := h.shell(c, rs.Loc.T("apps.title"), "apps", &balance)
	welcomed, _ := rs.Session.Values[welcomedKey].(bool)
	shell.Welcome = shell.Demo && !welcomed
	vm := pages.AppsPage{
		Shell:    shell,
		Tabs:     filterTabs(state, mine, rs.Loc),
		Scope:    scopeTabs(state, mine, rs.Loc),
		ListURL:  appsURL(state, mine),
		Filtered: state != lightcc.RunningAll || mine,
	}
	status := http.StatusOK
	now := h.Now()
	var stale *lightcc.StaleError
	switch {
	case errors.As(listErr, &stale):
		// LightCC failed, but the list from a moment ago is worth showing.
		vm.Stale = rs.Loc.T("apps.stale", map[string]any{"Minutes": int(now.Sub(stale.At).Minutes())})
		h.Logger.WarnContext(ctx, "application list: serving a stale copy", "err", listErr)
	case listErr != nil:
		status, vm.Error = explain(listErr, rs.Loc)
		h.Logger.WarnContext(ctx, "application list unavailable", "err", listErr)
	}
	fresh := c.QueryParam("new") // the application just launched, highlighted
	if mine {
		var own []lightcc.Application // a new slice: the cached list is shared by every viewer
		for _, a := range apps {
			if rs.User != nil && owners[a.ID].UserID == rs.User.ID {
				own = append(own, a)
			}
		}
		apps = own
	}
	vm.Cards = make([]templ.Component, len(apps))
	inParallel(len(apps), func(i int) {
		a := apps[i]
		vm.Cards[i] = h.renderedCard(ctx, a, metas[a.ID], owners[a.ID], rs.User, rs.Loc, now, fresh != "" && a.ID == fresh)
	})
	fragment := ""
	if rs.HX.Target == "app-list" {
		fragment = "app-list"
	}
	return h.render(c, status, pages.Apps(vm), fragment)
}

// appDialog is one of a card's dialogs (timed stop, note, destroy),
// fetched when its button is pressed.
func (h *Handlers) appDialog(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	kind := c.Param("kind")
	if kind != "stop" && kind != "note" && kind != "destroy" {
		return &userError{status: http.StatusNotFound, msgKey: "error.not_found"}
	}
	rs := requestOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	a, found, err := h.findApp(ctx, id)
	if err != nil {
		return err
	}
	if !found {
		return &userError{status: http.StatusNotFound, msgKey: "apps.not_found"}
	}
	p := h.oneCard(ctx, c, a)
	if kind == "stop" && !p.CanStop {
		return &userError{status: http.StatusConflict, msgKey: "action.refused", data: map[string]any{"Msg": rs.Loc.T(a.Status.LabelKey())}}
	}
	return h.renderPart(c, http.StatusOK, components.AppDialog(kind, p))
}

// welcomedKey marks a session whose person dismissed the demo welcome.
const welcomedKey = "welcomed"

// dismissWelcome hides the first-run welcome for this session.
func (h *Handlers) dismissWelcome(c echo.Context) error {
	rs := requestOf(c)
	rs.Session.Values[welcomedKey] = true
	if err := rs.Session.Save(c.Request(), c.Response()); err != nil && !errors.Is(err, db.ErrSessionEnded) {
		return err
	}
	return h.writeHTML(c, http.StatusOK, nil)
}

// appCardPart is one card, polled while its application is in a
// transitional state. An application that is gone yields an empty answer
// (htmx removes the card); an upstream failure yields 204 (htmx keeps the
// card and polls again).
func (h *Handlers) appCardPart(c echo.Context) error {
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	a, found, err := h.findApp(ctx, id)
	if err != nil {
		h.Logger.WarnContext(ctx, "card refresh failed", "app", id, "err", err)
		return c.NoContent(http.StatusNoContent)
	}
	if !found {
		return h.writeHTML(c, http.StatusOK, nil)
	}
	return h.renderPart(c, http.StatusOK, components.AppCard(h.oneCard(ctx, c, a)))
}

// appDetail shows one application with every documented field.
func (h *Handlers) appDetail(c echo.Context) error {
	rs := requestOf(c)
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	var (
		d       *lightcc.ApplicationDetails
		dErr    error
		balance components.BalanceProps
	)
	var g errgroup.Group
	g.Go(func() error { d, dErr = h.Upstream.ApplicationDetails(ctx, id); return nil })
	g.Go(func() error { balance = h.fetchBalance(ctx, rs.Loc); return nil })
	_ = g.Wait()
	if dErr != nil {
		return h.notFoundOr(ctx, id, dErr)
	}
	owner := h.ownerOf(ctx, id)
	card := h.cardProps(d.Application, h.appMetaOf(ctx, id), owner, rs.User, h.Now(), rs.Loc)
	vm := pages.AppDetailPage{
		Shell:  h.shell(c, card.Title+" · "+rs.Loc.T("details.title"), "apps", &balance),
		Card:   card,
		Fields: detailFields(d, rs.Loc),
		CSRF:   h.pageCSRF(c),
	}
	if rs.User != nil && rs.User.Role == db.RoleAdmin {
		users, err := h.Users.Users(ctx)
		if err != nil {
			return err
		}
		vm.Assign = append(vm.Assign, pages.Choice{Value: "0", Label: rs.Loc.T("owner.nobody"), Checked: owner.UserID == 0})
		for _, u := range users {
			vm.Assign = append(vm.Assign, pages.Choice{Value: strconv.FormatInt(u.ID, 10), Label: u.Username, Checked: u.ID == owner.UserID})
		}
	}
	return h.render(c, http.StatusOK, pages.AppDetail(vm))
}

// notFoundOr turns a failed details call into a 404 when the application is
// not in the account's list (the API answers an unknown id with a generic
// refusal, so the list is the reliable witness), and into the original
// error otherwise.
func (h *Handlers) notFoundOr(ctx context.Context, id string, err error) error {
	var ae *lightcc.APIError
	if errors.As(err, &ae) && !errors.Is(err, lightcc.ErrUnauthorized) {
		if _, found, lerr := h.findApp(ctx, id); lerr == nil && !found {
			return &userError{status: http.StatusNotFound, msgKey: "apps.not_found", err: err}
		}
	}
	return err
}

// findApp looks an application up in the account's list.
func (h *Handlers) findApp(ctx context.Context, id string) (lightcc.Application, bool, error) {
	apps, err := h.Upstream.ListApplications(ctx, lightcc.RunningAll)
	if err != nil {
		return lightcc.Application{}, false, err
	}
	for _, a := range apps {
		if a.ID == id {
			return a, true, nil
		}
	}
	return lightcc.Application{}, false, nil
}

// appMetas reads the local notes and scheduled stops; a failure only costs
// the notes, so it is logged rather than failing the page.
func (h *Handlers) appMetas(ctx context.Context) map[string]db.AppMeta {
	m, err := h.AppMeta.AppMetas(ctx)
	if err != nil {
		h.Logger.ErrorContext(ctx, "app notes unavailable", "err", err)
	}
	return m
}

func (h *Handlers) appMetaOf(ctx context.Context, id string) db.AppMeta {
	m, err := h.AppMeta.AppMetaOf(ctx, id)
	if err != nil {
		h.Logger.ErrorContext(ctx, "app note unavailable", "app", id, "err", err)
	}
	return m
}

// appIDParam is the :id path parameter, refused as not found unless it is
// an id the API could have issued (so nothing odd ever reaches a path).
func appIDParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !lightcc.ValidID(id) {
		return "", &userError{status: http.StatusNotFound, msgKey: "apps.not_found"}
	}
	return id, nil
}

func appsURL(state lightcc.RunningState, mine bool) string {
	q := url.Values{}
	if state != lightcc.RunningAll {
		q.Set("state", string(state))
	}
	if mine {
		q.Set("mine", "1")
	}
	if len(q) == 0 {
		return "/apps"
	}
	return "/apps?" + q.Encode()
}

func filterTabs(current lightcc.RunningState, mine bool, loc *i18n.Localizer) []pages.FilterTab {
	states := []lightcc.RunningState{lightcc.RunningAll, lightcc.RunningActive, lightcc.RunningExpiring, lightcc.RunningUninstalling}
	tabs := make([]pages.FilterTab, 0, len(states))
	for _, s := range states {
		tabs = append(tabs, pages.FilterTab{Label: loc.T(s.LabelKey()), URL: appsURL(s, mine), Current: s == current})
	}
	return tabs
}

func scopeTabs(state lightcc.RunningState, mine bool, loc *i18n.Localizer) []pages.FilterTab {
	return []pages.FilterTab{
		{Label: loc.T("apps.scope.mine"), URL: appsURL(state, true), Current: mine},
		{Label: loc.T("apps.scope.all"), URL: appsURL(state, false), Current: !mine},
	}
}

// owners reads who owns which application; a failure only costs the names.
func (h *Handlers) owners(ctx context.Context) map[string]db.Owner {
	o, err := h.Owners.Owners(ctx)
	if err != nil {
		h.Logger.ErrorContext(ctx, "owners unavailable", "err", err)
	}
	return o
}

func (h *Handlers) ownerOf(ctx context.Context, id string) db.Owner {
	o, err := h.Owners.OwnerOf(ctx, id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		h.Logger.ErrorContext(ctx, "owner unavailable", "app", id, "err", err)
	}
	return o
}

// appTitle is what people call an application, on its card and in
// toasts: the team's local note, else its own name, else its image's title.
func appTitle(a lightcc.Application, meta db.AppMeta) string {
	if meta.Note != "" {
		return meta.Note
	}
	return a.DisplayName()
}

// oneCard shapes a single application for its card (a dialog, a refresh):
// its note and owner read here, for this request's person. A page of
// cards reads all notes and owners at once and calls cardProps.
func (h *Handlers) oneCard(ctx context.Context, c echo.Context, a lightcc.Application) components.AppCardProps {
	rs := requestOf(c)
	return h.cardProps(a, h.appMetaOf(ctx, a.ID), h.ownerOf(ctx, a.ID), rs.User, h.Now(), rs.Loc)
}

// cardProps shapes one application for its card.
func (h *Handlers) cardProps(a lightcc.Application, meta db.AppMeta, owner db.Owner, user *db.User, now time.Time, loc *i18n.Localizer) components.AppCardProps {
	// Actions show only to whoever may use them; the server checks again.
	mayChange := canChange(user, owner)
	p := components.AppCardProps{
		ID:          a.ID,
		Title:       appTitle(a, meta),
		Note:        meta.Note,
		StatusKey:   a.Status.Key(),
		StatusLabel: loc.T(a.Status.LabelKey()),
		StatusHint:  loc.T(a.Status.LabelKey() + ".hint"),
		Poll:        a.Status.Transitional(),
		CanChange:   mayChange,
		CanStart:    mayChange && (a.Status == lightcc.StatusStopped || a.Status == lightcc.StatusAbnormal),
		CanStop:     mayChange && a.Status == lightcc.StatusRunning,
		Zone:        loc.Loc.String(),
	}
	p.Owner = owner.Username
	if p.Owner == "" {
		p.Owner = loc.T("owner.nobody")
	}
	if meta.Alert != "" {
		p.Alert = loc.T("launch.autostop_failed", map[string]any{"Msg": meta.Alert})
	}
	if p.Title != a.ImageTitle {
		p.Subtitle = a.ImageTitle
	}
	p.Specs = cardSpecs(a, now, loc)
	if a.Status == lightcc.StatusRunning {
		p.Launchers = launchers(a, loc)
	}
	if p.CanStop {
		p.Presets = stopPresets(now, loc)
		p.StopMin = now.Add(time.Minute).In(loc.Loc).Format(datetimeLocal)
		p.StopMax = now.Add(maxStopAhead).In(loc.Loc).Format(datetimeLocal)
		p.StopDefault = now.Add(2 * time.Hour).In(loc.Loc).Format(datetimeLocal)
	}
	if at := meta.ScheduledStop; !at.IsZero() && at.After(now) && scheduleMatters(a.Status) {
		p.Scheduled = loc.Time(at)
		p.ScheduledAt = at.UTC().Format(time.RFC3339)
		p.Countdown = countdown(at.Sub(now), loc)
	}
	return p
}

// scheduleMatters: a scheduled stop is worth showing while the application
// is on or on its way up.
func scheduleMatters(s lightcc.Status) bool {
	switch s {
	case lightcc.StatusRunning, lightcc.StatusStarting, lightcc.StatusRestarting, lightcc.StatusCreating:
		return true
	default:
		return false
	}
}

func cardSpecs(a lightcc.Application, now time.Time, loc *i18n.Localizer) []components.Spec {
	specs := []components.Spec{
		{Label: loc.T("card.spec.gpu"), Value: loc.T("apps.gpu", map[string]any{"Model": a.GPUModel, "Count": a.GPUs})},
		{Label: loc.T("card.spec.gpu_memory"), Value: loc.GiB(int64(a.GPUMemory))},
		{Label: loc.T("card.spec.cpu"), Value: loc.T("card.spec.cpu_value", map[string]any{"Model": a.CPUModel, "Cores": a.CPUCores})},
		{Label: loc.T("card.spec.memory"), Value: loc.GiB(int64(a.Memory))},
		{Label: loc.T("card.spec.system_disk"), Value: loc.GiB(int64(a.SystemDisk))},
		{Label: loc.T("card.spec.data_disk"), Value: loc.GiB(int64(a.DataDisk))},
		{Label: loc.T("card.spec.billing"), Value: loc.T(a.BillingMode.LabelKey())},
		{Label: loc.T("card.spec.price"), Value: priceText(a, loc)},
		{Label: loc.T("card.spec.consume"), Value: loc.Money(int64(a.Consume))},
	}
	for _, t := range []struct {
		key string
		dt  lightcc.DateTime
	}{{"card.spec.started", a.StartTime}, {"card.spec.created", a.CreateTime}, {"card.spec.stopped", a.StopTime}} {
		if at, ok := t.dt.In(loc.Loc); ok {
			specs = append(specs, components.Spec{Label: loc.T(t.key), Value: loc.Time(at) + " · " + loc.Ago(at, now)})
		} else if v := dateText(t.dt, loc); v != "" {
			specs = append(specs, components.Spec{Label: loc.T(t.key), Value: v})
		}
	}
	return specs
}

func priceText(a lightcc.Application, loc *i18n.Localizer) string {
	if a.BillingMode == lightcc.BillingPayAsYouGo {
		return loc.T("price.per_hour", map[string]any{"Price": loc.Money(int64(a.RentalPrice))})
	}
	return loc.Money(int64(a.RentalPrice))
}

// dateText formats an API time in the configured zone; a time that does
// not parse is shown as the API wrote it rather than hidden.
func dateText(d lightcc.DateTime, loc *i18n.Localizer) string {
	if t, ok := d.In(loc.Loc); ok {
		return loc.Time(t)
	}
	return string(d)
}

// launchers are the links of a running application: its web UI first,
// labelled by what the image is, then Jupyter and the file browser.
func launchers(a lightcc.Application, loc *i18n.Localizer) []components.Launcher {
	base := "/apps/" + a.ID + "/links/"
	return []components.Launcher{
		{Label: loc.T(webUILabelKey(a.ImageTitle)), URL: base + "sd", Primary: true, Kind: "sd"},
		{Label: loc.T("card.open.jupyter"), URL: base + "jupyter", Kind: "jupyter"},
		{Label: loc.T("card.open.files"), URL: base + "filebrowser", Kind: "filebrowser"},
	}
}

func webUILabelKey(imageTitle string) string {
	t := strings.ToLower(imageTitle)
	switch {
	case strings.Contains(t, "comfy"):
		return "card.open.comfy"
	case strings.Contains(t, "stable dif"), strings.Contains(t, "sd webui"), strings.Contains(t, "sd-webui"):
		return "card.open.sd"
	default:
		return "card.open.webui"
	}
}

// countdown says how long until a scheduled stop, to the minute.
func countdown(d time.Duration, loc *i18n.Localizer) string {
	mins := int(d.Round(time.Minute) / time.Minute)
	if mins <= 0 {
		return loc.T("card.countdown.due")
	}
	r := strings.NewReplacer("{h}", fmt.Sprint(mins/60), "{m}", fmt.Sprint(mins%60))
	if mins >= 60 {
		return r.Replace(loc.T("card.countdown.hm"))
	}
	return r.Replace(loc.T("card.countdown.m"))
}

func detailFields(d *lightcc.ApplicationDetails, loc *i18n.Localizer) []components.Spec {
	none := loc.T("field.none")
	or := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return none
		}
		return s
	}
	name := none
	if d.Name != nil && *d.Name != "" {
		name = *d.Name
	}
	f := func(key, v string) components.Spec { return components.Spec{Label: loc.T(key), Value: v} }
	return []components.Spec{
		f("field.id", d.ID),
		f("field.name", name),
		f("field.image_title", or(d.ImageTitle)),
		f("field.image_id", fmt.Sprint(d.ImageID)),
		f("field.status", loc.T(d.Status.LabelKey())),
		f("field.system", loc.T(d.System.LabelKey())),
		f("field.billing", loc.T(d.BillingMode.LabelKey())),
		f("field.price", priceText(d.Application, loc)),
		f("field.consume", loc.Money(int64(d.Consume))),
		f("field.gpu_model", or(d.GPUModel)),
		f("field.gpu_count", fmt.Sprint(d.GPUs)),
		f("field.gpu_memory", loc.GiB(int64(d.GPUMemory))),
		f("field.cpu_model", or(d.CPUModel)),
		f("field.cpu_cores", fmt.Sprint(d.CPUCores)),
		f("field.memory", loc.GiB(int64(d.Memory))),
		f("field.system_disk", loc.GiB(int64(d.SystemDisk))),
		f("field.data_disk", loc.GiB(int64(d.DataDisk))),
		f("field.container", or(d.ContainerID)),
		f("field.sort", fmt.Sprint(d.Sort)),
		f("field.created", or(dateText(d.CreateTime, loc))),
		f("field.stopped", or(dateText(d.StopTime, loc))),
		f("field.link", or(d.AppLink)),
	}
}
