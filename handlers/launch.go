package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

// maxCycle bounds a package's number of periods: a month of days, a year
// of weeks, three years of months or years. Kept in this one place.
var maxCycle = map[lightcc.BillingMode]int{
	lightcc.BillingDaily: 30, lightcc.BillingWeekly: 52, lightcc.BillingMonthly: 36, lightcc.BillingYearly: 3,
}

// autoStopHours are the automatic-stop choices offered at launch.
var autoStopHours = []int{0, 1, 2, 4, 8}

// selection is what the launch form says, as typed by the person.
type selection struct {
	GPU      string
	Count    string
	Billing  string
	Cycle    string
	AutoStop string
}

func defaultSelection() selection {
	return selection{Count: "1", Billing: string(lightcc.BillingPayAsYouGo), Cycle: "0", AutoStop: "2"}
}

// readSelection reads the picker's fields. The form posts the create
// call's names (numberOfGPUs, billingMethod); the price fragment is also
// documented with the price query's names (gpuCount, billingMode), so both
// are read.
func readSelection(get func(string) string) selection {
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(get(k)); v != "" {
				return v
			}
		}
		return ""
	}
	return selection{
		GPU:      first("gpuModel"),
		Count:    first("numberOfGPUs", "gpuCount"),
		Billing:  first("billingMethod", "billingMode"),
		Cycle:    first("cycle"),
		AutoStop: first("autoStop"),
	}
}

// launchPlan is a selection that passed validation.
type launchPlan struct {
	GPU      string
	Count    int
	Billing  lightcc.BillingMode
	Cycle    string
	AutoStop time.Duration
}

// validateLaunch checks a selection against the GPU configurations the
// upstream just gave for the image. It returns the plan, or the message
// key (and data) of the first problem.
func validateLaunch(sel selection, cfgs []lightcc.GPUConfig) (launchPlan, string, map[string]any) {
	var plan launchPlan
	if sel.GPU == "" {
		return plan, "launch.err.gpu", nil
	}
	var cfg *lightcc.GPUConfig
	for i := range cfgs {
		if cfgs[i].GPU == sel.GPU {
			cfg = &cfgs[i]
			break
		}
	}
	switch {
	case cfg == nil:
		return plan, "launch.err.gpu_unknown", nil
	case !cfg.Available || cfg.MaxAvailable < 1:
		return plan, "launch.err.gpu_sold_out", nil
	}
	n, err := strconv.Atoi(sel.Count)
	if err != nil || n < 1 || n > cfg.MaxAvailable {
		return plan, "launch.err.count", map[string]any{"Max": cfg.MaxAvailable}
	}
	mode := lightcc.BillingMode(sel.Billing)
	if !mode.Valid() {
		return plan, "launch.err.billing", nil
	}
	cycle := "0"
	if mode.IsPackage() {
		c, err := strconv.Atoi(sel.Cycle)
		if err != nil || c < 1 || c > maxCycle[mode] || strconv.Itoa(c) != sel.Cycle {
			return plan, "launch.err.cycle", map[string]any{"Max": maxCycle[mode]}
		}
		cycle = sel.Cycle
	} else if sel.Cycle != "" && sel.Cycle != "0" {
		return plan, "launch.err.cycle", map[string]any{"Max": 0}
	}
	hours, err := strconv.Atoi(sel.AutoStop)
	if sel.AutoStop == "" {
		hours, err = 0, nil
	}
	valid := false
	for _, h := range autoStopHours {
		valid = valid || (err == nil && h == hours)
	}
	if !valid {
		return plan, "launch.err.autostop", nil
	}
	return launchPlan{GPU: cfg.GPU, Count: n, Billing: mode, Cycle: cycle, AutoStop: time.Duration(hours) * time.Hour}, "", nil
}

// pickerProps shapes the launch form for a selection: the GPU cards (sold
// out ones disabled), the count and cycle ranges of the chosen GPU and
// mode, and the live price against the balance. Values out of range are
// brought back into it for display; validateLaunch judges the submission.
func (h *Handlers) pickerProps(ctx context.Context, rs *RequestState, imageID int64, title string, cfgs []lightcc.GPUConfig, cfgErr error,
	sel selection, money *lightcc.Balance, token string) pages.PickerProps {
	loc := rs.Loc
	p := pages.PickerProps{ImageID: strconv.FormatInt(imageID, 10), Token: token, CSRF: rs.CSRF} // signed in: the session is stored
	var chosen *lightcc.GPUConfig
	for i, g := range cfgs {
		if g.GPU == sel.GPU && g.Available {
			chosen = &cfgs[i]
		}
	}
	if chosen == nil {
		for i, g := range cfgs {
			if g.Available && g.MaxAvailable > 0 {
				chosen = &cfgs[i]
				break
			}
		}
	}
	for _, g := range cfgs {
		mem, _ := g.MemoryGB()
		p.GPUs = append(p.GPUs, pages.Choice{
			Value: g.GPU, Label: g.GPU, Checked: chosen != nil && g.GPU == chosen.GPU, Disabled: !g.Available,
			Note: loc.T("picker.gpu.note", map[string]any{"Memory": mem, "Max": g.MaxAvailable}),
		})
	}
	p.NoGPU = chosen == nil

	count := 1
	if n, err := strconv.Atoi(sel.Count); err == nil && n >= 1 {
		count = n
	}
	maxCount := 1
	if chosen != nil {
		maxCount = max(chosen.MaxAvailable, 1)
	}
	count = min(count, maxCount)
	for n := 1; n <= maxCount; n++ {
		p.Counts = append(p.Counts, pages.Choice{Value: strconv.Itoa(n), Label: strconv.Itoa(n), Checked: n == count})
	}

	mode := lightcc.BillingMode(sel.Billing)
	if !mode.Valid() {
		mode = lightcc.BillingPayAsYouGo
	}
	for _, m := range lightcc.BillingModes() {
		p.Billing = append(p.Billing, pages.Choice{Value: string(m), Label: loc.T(m.LabelKey()), Checked: m == mode})
	}
	cycle := "0"
	if mode.IsPackage() {
		c, err := strconv.Atoi(sel.Cycle)
		if err != nil || c < 1 {
			c = 1
		}
		cycle = strconv.Itoa(min(c, maxCycle[mode]))
		p.ShowCycle, p.Cycle, p.CycleMax = true, cycle, maxCycle[mode]
		p.CycleLabel = loc.T("picker.cycle." + strings.TrimPrefix(mode.LabelKey(), "billing."))
	}
	auto := sel.AutoStop
	if auto == "" {
		auto = "0"
	}
	for _, hrs := range autoStopHours {
		v := strconv.Itoa(hrs)
		p.AutoStop = append(p.AutoStop, pages.Choice{Value: v, Label: autoStopLabel(hrs, loc), Checked: v == auto})
	}

	switch {
	case cfgErr != nil:
		_, msg := explain(cfgErr, loc)
		p.Price = components.PriceProps{Error: msg}
	case chosen == nil:
		p.Price = components.PriceProps{Error: loc.T("picker.no_gpu")}
	default:
		p.Price = h.priceProps(ctx, loc, title, lightcc.PriceQuery{GPUModel: chosen.GPU, GPUCount: count, BillingMode: mode, Cycle: cycle}, auto, money)
	}
	return p
}

func autoStopLabel(hours int, loc *i18n.Localizer) string {
	if hours == 0 {
		return loc.T("autostop.none")
	}
	return loc.T("autostop.hours", map[string]any{"N": hours})
}

// priceProps asks LightCC for the price of a choice and sets it against
// the balance. Without a price nothing can be launched.
func (h *Handlers) priceProps(ctx context.Context, loc *i18n.Localizer, title string, q lightcc.PriceQuery, autoStop string, money *lightcc.Balance) components.PriceProps {
	quote, err := h.Upstream.GPUPrice(ctx, q)
	if err != nil {
		h.Logger.WarnContext(ctx, "price unavailable", "gpu", q.GPUModel, "err", err)
		return components.PriceProps{Error: loc.T("price.unavailable")}
	}
	p := components.PriceProps{
		OK: true, CanLaunch: true,
		Actual: loc.Money(int64(quote.Actual)), Original: loc.Money(int64(quote.Original)),
		Discount: loc.Money(int64(quote.Discount)), Discounted: quote.Discounted(),
		Balance: loc.T("balance.unavailable"),
	}
	if q.BillingMode.IsPackage() {
		p.Unit = loc.T("price.unit."+strings.TrimPrefix(q.BillingMode.LabelKey(), "billing."), map[string]any{"N": q.Cycle})
	} else {
		p.Unit = loc.T("price.unit.hour")
	}
	if money != nil {
		p.Balance = loc.Money(int64(money.Balance))
		switch {
		case money.Balance < quote.Actual && q.BillingMode.IsPackage():
			p.Short = loc.T("price.short.package", map[string]any{"Price": p.Actual, "Balance": p.Balance})
		case money.Balance < quote.Actual:
			p.Short = loc.T("price.short.payg")
		case !q.BillingMode.IsPackage() && quote.Actual > 0:
			p.Runway = loc.T("price.runway", map[string]any{"Hours": int64(money.Balance / quote.Actual)})
		}
	}
	hours, _ := strconv.Atoi(autoStop)
	billing := loc.T(q.BillingMode.LabelKey())
	if q.BillingMode.IsPackage() {
		billing += " · " + p.Unit
	}
	p.Summary = []components.Spec{
		{Label: loc.T("summary.image"), Value: title},
		{Label: loc.T("summary.gpu"), Value: loc.T("apps.gpu", map[string]any{"Model": q.GPUModel, "Count": q.GPUCount})},
		{Label: loc.T("summary.billing"), Value: billing},
		{Label: loc.T("summary.autostop"), Value: autoStopLabel(hours, loc)},
	}
	return p
}

// newLaunchToken issues the one-time token of a launch form, bound to the
// session.
func (h *Handlers) newLaunchToken(ctx context.Context, rs *RequestState) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	if err := h.Launches.NewCreateToken(ctx, token, sessionID(rs), h.Now()); err != nil {
		return "", err
	}
	return token, nil
}

func sessionID(rs *RequestState) string {
	if rs.Session == nil {
		return ""
	}
	return rs.Session.ID
}

// createApp launches an application. One click, one application: the
// form's one-time token is claimed atomically before the upstream is
// called, so a double click, a re-sent form or a browser retry with the
// same token creates at most one application and answers the same result.
// A create is never retried.
func (h *Handlers) createApp(c echo.Context) error {
	rs := requestOf(c)
	loc := rs.Loc
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	imageID, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("imageId")), 10, 64)
	if err != nil || imageID <= 0 {
		return &userError{status: http.StatusUnprocessableEntity, msgKey: "launch.err.image"}
	}
	sel := readSelection(c.FormValue)
	refuse := func(status int, msg string) error { return h.launchRefused(ctx, c, imageID, sel, status, msg) }

	token := strings.TrimSpace(c.FormValue("token"))
	tok, err := h.Launches.CreateTokenOf(ctx, token)
	switch {
	case errors.Is(err, db.ErrNotFound) || (err == nil && tok.SessionID != sessionID(rs)):
		return refuse(http.StatusUnprocessableEntity, loc.T("launch.err.token"))
	case err != nil:
		return err
	case tok.State != db.TokenNew:
		return h.replayLaunch(ctx, c, imageID, sel, token)
	}

	cfgs, err := h.Upstream.AvailableGPUConfig(ctx, imageID)
	if err != nil {
		_, msg := explain(err, loc)
		return refuse(http.StatusServiceUnavailable, loc.T("launch.err.upstream", map[string]any{"Msg": msg}))
	}
	plan, bad, data := validateLaunch(sel, cfgs)
	if bad != "" {
		return refuse(http.StatusUnprocessableEntity, loc.T(bad, data))
	}
	info, _, err := h.imageInfo(ctx, imageID)
	if err != nil {
		return refuse(http.StatusUnprocessableEntity, loc.T("launch.err.image"))
	}
	if err := h.launchBudget(ctx, rs, imageID, plan); err != nil {
		h.record(ctx, rs, "create", "", "refused", "budget", nil, "")
		_, msg := explain(err, loc)
		return refuse(http.StatusUnprocessableEntity, msg)
	}

	if err := h.Launches.ClaimCreateToken(ctx, token, sessionID(rs), h.Now()); errors.Is(err, db.ErrTokenTaken) {
		return h.replayLaunch(ctx, c, imageID, sel, token)
	} else if err != nil {
		return err
	}
	req := lightcc.CreateRequest{ImageName: info.Title, ImageID: imageID, GPUModel: plan.GPU, NumberOfGPUs: plan.Count,
		BillingMethod: plan.Billing, Cycle: plan.Cycle}
	// The outcome is recorded even if the person's request goes away.
	rec := context.WithoutCancel(ctx)
	appID, err := h.Upstream.CreateApplication(ctx, req)
	h.record(ctx, rs, "create", appID, outcomeOf(err), info.Title+" · "+plan.GPU+" × "+strconv.Itoa(plan.Count), err, "")
	if err != nil {
		var ae *lightcc.APIError
		if errors.As(err, &ae) && !errors.Is(err, lightcc.ErrUnauthorized) {
			h.Logger.WarnContext(ctx, "create refused", "image", imageID, "gpu", plan.GPU, "err", err)
			h.finishToken(rec, token, db.TokenFailed, "", ae.Msg)
			return refuse(http.StatusConflict, loc.T("launch.refused", map[string]any{"Msg": ae.Msg}))
		}
		_, why := explain(err, loc)
		h.Logger.ErrorContext(ctx, "create outcome unknown", "image", imageID, "gpu", plan.GPU, "err", err)
		h.finishToken(rec, token, db.TokenUnknown, "", why)
		return refuse(http.StatusBadGateway, loc.T("launch.unknown", map[string]any{"Msg": why}))
	}
	h.Logger.InfoContext(ctx, "application created", "app", appID, "image", imageID, "gpu", plan.GPU, "count", plan.Count, "billing", plan.Billing)
	h.finishToken(rec, token, db.TokenDone, appID, "")
	if rs.User != nil {
		if err := h.Owners.SetOwner(rec, appID, rs.User.ID, h.Now()); err != nil {
			h.Logger.ErrorContext(ctx, "record owner", "app", appID, "err", err)
		}
	}
	if plan.AutoStop > 0 {
		h.setAutoStop(rec, appID, plan.AutoStop, loc)
	}
	return h.launched(c, appID)
}

// launchBudget checks a launch against the user's budget: its GPUs, and
// its price per day from a fresh quote.
func (h *Handlers) launchBudget(ctx context.Context, rs *RequestState, imageID int64, plan launchPlan) error {
	if rs.User == nil || (rs.User.MaxGPUs == 0 && rs.User.DailyBudgetFen == 0) {
		return nil
	}
	q, err := h.Upstream.GPUPrice(ctx, lightcc.PriceQuery{GPUModel: plan.GPU, GPUCount: plan.Count, BillingMode: plan.Billing, Cycle: plan.Cycle})
	if err != nil {
		return err
	}
	return h.budgetCheck(ctx, rs, plan.Count, dailyCost(plan.Billing, q.Actual, plan.Cycle), "")
}

// setAutoStop schedules the stop chosen at launch, as soon as the upstream
// accepted the create. A failure is recorded on the card, loudly: the
// person believes the application will stop by itself.
func (h *Handlers) setAutoStop(ctx context.Context, appID string, after time.Duration, loc *i18n.Localizer) {
	now := h.Now()
	at := now.Add(after)
	if err := h.Upstream.TimedStopApplication(ctx, appID, at); err != nil {
		h.Logger.ErrorContext(ctx, "automatic stop not set", "app", appID, "err", err)
		reason := ""
		var ae *lightcc.APIError
		if errors.As(err, &ae) {
			reason = ae.Msg
		} else {
			_, reason = explain(err, loc)
		}
		if aerr := h.AppMeta.SetAppAlert(ctx, appID, reason, now); aerr != nil {
			h.Logger.ErrorContext(ctx, "record automatic stop failure", "app", appID, "err", aerr)
		}
		return
	}
	if err := h.AppMeta.SetScheduledStop(ctx, appID, at, now); err != nil {
		h.Logger.ErrorContext(ctx, "remember automatic stop", "app", appID, "err", err)
	}
}

func (h *Handlers) finishToken(ctx context.Context, token, state, appID, msg string) {
	if err := h.Launches.FinishCreateToken(ctx, token, state, appID, msg, h.Now()); err != nil {
		h.Logger.ErrorContext(ctx, "record create outcome", "state", state, "app", appID, "err", err)
	}
}

// replayLaunch answers a token that was already used with the result of
// its first use, waiting a little for one still in flight.
func (h *Handlers) replayLaunch(ctx context.Context, c echo.Context, imageID int64, sel selection, token string) error {
	loc := requestOf(c).Loc
	for {
		tok, err := h.Launches.CreateTokenOf(ctx, token)
		if err != nil {
			return err
		}
		switch tok.State {
		case db.TokenDone:
			return h.launched(c, tok.AppID)
		case db.TokenFailed:
			return h.launchRefused(ctx, c, imageID, sel, http.StatusConflict, loc.T("launch.refused", map[string]any{"Msg": tok.Message}))
		case db.TokenUnknown:
			return h.launchRefused(ctx, c, imageID, sel, http.StatusBadGateway, loc.T("launch.unknown", map[string]any{"Msg": tok.Message}))
		}
		select {
		case <-ctx.Done():
			return h.launchRefusedWithToken(context.WithoutCancel(ctx), c, imageID, sel, http.StatusAccepted, loc.T("launch.pending"), token)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// launched sends the person to the console with the new card highlighted.
func (h *Handlers) launched(c echo.Context, appID string) error {
	return redirect(c, "/apps?new="+appID, http.StatusOK)
}

// launchRefused re-renders the picker with the person's choices, the
// reason, and a fresh token.
func (h *Handlers) launchRefused(ctx context.Context, c echo.Context, imageID int64, sel selection, status int, msg string) error {
	return h.launchRefusedWithToken(ctx, c, imageID, sel, status, msg, "")
}

// launchRefusedWithToken is launchRefused keeping a given token (one still
// in flight must not be replaced, or a resubmission could launch twice).
func (h *Handlers) launchRefusedWithToken(ctx context.Context, c echo.Context, imageID int64, sel selection, status int, msg, token string) error {
	page, err := h.imageDetailPage(ctx, c, imageID, sel, msg, token)
	if err != nil {
		return err
	}
	return h.render(c, status, pages.ImageDetail(page), "picker")
}
