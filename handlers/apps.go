package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

// appsPage lists the account's applications. The list and the balance are
// fetched in parallel; a failed list still renders the page, with the
// reason in plain words and the real status.
func (h *Handlers) appsPage(c echo.Context) error {
	rs := requestOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()

	var (
		apps    []lightcc.Application
		listErr error
		balance components.BalanceProps
	)
	var g errgroup.Group
	g.Go(func() error { apps, listErr = h.Upstream.ListApplications(ctx, lightcc.RunningAll); return nil })
	g.Go(func() error { balance = h.fetchBalance(ctx, rs.Loc); return nil })
	_ = g.Wait()

	vm := pages.AppsPage{Shell: h.shell(c, rs.Loc.T("apps.title"), "apps", &balance)}
	status := http.StatusOK
	if listErr != nil {
		status, vm.Error = explain(listErr, rs.Loc)
		h.Logger.WarnContext(ctx, "application list unavailable", "err", listErr)
	}
	for _, a := range apps {
		vm.Rows = append(vm.Rows, appRow(a, rs.Loc))
	}
	return h.render(c, status, pages.Apps(vm))
}

// appRow shapes one application for the list.
func appRow(a lightcc.Application, loc *i18n.Localizer) pages.AppRow {
	r := pages.AppRow{
		ID:          a.ID,
		Name:        a.DisplayName(),
		StatusKey:   a.Status.Key(),
		StatusLabel: loc.T(a.Status.LabelKey()),
		GPU:         loc.T("apps.gpu", map[string]any{"Model": a.GPUModel, "Count": a.GPUs}),
		Billing:     loc.T(a.BillingMode.LabelKey()),
	}
	if r.Name != a.ImageTitle {
		r.ImageTitle = a.ImageTitle
	}
	if a.BillingMode == lightcc.BillingPayAsYouGo {
		r.Price = loc.T("price.per_hour", map[string]any{"Price": loc.Money(int64(a.RentalPrice))})
	} else {
		r.Price = loc.Money(int64(a.RentalPrice))
	}
	if t, ok := a.CreateTime.In(loc.Loc); ok {
		r.Created = loc.Time(t)
	} else if !a.CreateTime.IsZero() {
		r.Created = string(a.CreateTime)
	}
	return r
}
