package handlers

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
)

// balancePart is the header's account summary, polled by htmx. A failure
// renders the widget's "unavailable" state: it is a status line, not a
// page, and must not raise a toast every 30 seconds.
func (h *Handlers) balancePart(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	props := h.fetchBalance(ctx, requestOf(c).Loc)
	return h.renderPart(c, http.StatusOK, components.Balance(props))
}

// fetchBalance asks the upstream for the balance and, in parallel, the
// applications (for the runway), and formats them; a failed balance is
// logged and shown as "unavailable", a failed list only costs the runway.
func (h *Handlers) fetchBalance(ctx context.Context, loc *i18n.Localizer) components.BalanceProps {
	var (
		b          lightcc.Balance
		bErr, aErr error
		apps       []lightcc.Application
	)
	var g errgroup.Group
	g.Go(func() error { b, bErr = h.Upstream.Balance(ctx); return nil })
	g.Go(func() error { apps, aErr = h.Upstream.ListApplications(ctx, lightcc.RunningAll); return nil })
	_ = g.Wait()
	if bErr != nil {
		h.Logger.WarnContext(ctx, "balance unavailable", "err", bErr)
		return components.BalanceProps{Loaded: true}
	}
	p := balanceProps(b, loc)
	if aErr == nil {
		h.addRunway(&p, b, apps, loc)
	}
	return p
}

// lowRunway is when the runway turns red.
const lowRunway = 2 * time.Hour

// addRunway says until when the money lasts at the current spend: balance
// plus vouchers over the hourly price of the running pay-as-you-go
// applications (packages are paid for already).
func (h *Handlers) addRunway(p *components.BalanceProps, b lightcc.Balance, apps []lightcc.Application, loc *i18n.Localizer) {
	var hourly lightcc.Money
	for _, a := range apps {
		if a.Status == lightcc.StatusRunning && a.BillingMode == lightcc.BillingPayAsYouGo {
			hourly += a.RentalPrice
		}
	}
	if hourly <= 0 {
		p.Runway = loc.T("runway.none")
		return
	}
	funds := max(b.Balance+b.Voucher, 0)
	left := time.Duration(float64(funds) / float64(hourly) * float64(time.Hour))
	now := h.Now()
	p.Runway = loc.T("runway.until", map[string]any{"When": loc.When(now.Add(left), now)})
	p.RunwayLow = left < lowRunway
}

func balanceProps(b lightcc.Balance, loc *i18n.Localizer) components.BalanceProps {
	return components.BalanceProps{
		Loaded:  true,
		OK:      true,
		Balance: loc.Money(int64(b.Balance)),
		Voucher: loc.Money(int64(b.Voucher)),
		Points:  loc.Number(int64(math.Round(b.HashrateBalance))),
	}
}
