package handlers

import (
	"context"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

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

// fetchBalance asks the upstream for the balance and formats it; a failure
// is logged and shown as "unavailable".
func (h *Handlers) fetchBalance(ctx context.Context, loc *i18n.Localizer) components.BalanceProps {
	b, err := h.Upstream.Balance(ctx)
	if err != nil {
		h.Logger.WarnContext(ctx, "balance unavailable", "err", err)
		return components.BalanceProps{Loaded: true}
	}
	return balanceProps(b, loc)
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
