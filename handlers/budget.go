package handlers

import (
	"context"
	"net/http"
	"strconv"

	"lightcc-dashboard/lightcc"
)

// budgetCheck refuses a launch or start that would take the user past the
// budget an administrator set: GPUs running at once, and ¥ per day
// estimated from the prices of the running applications they own. It
// runs before anything is sent upstream.
func (h *Handlers) budgetCheck(ctx context.Context, rs *RequestState, addGPUs int, addDailyFen int64, except string) error {
	u := rs.User
	if u == nil || (u.MaxGPUs == 0 && u.DailyBudgetFen == 0) {
		return nil
	}
	apps, err := h.Upstream.ListApplications(ctx, lightcc.RunningAll)
	if err != nil {
		return err
	}
	owners, err := h.Owners.Owners(ctx)
	if err != nil {
		return err
	}
	gpus, daily := addGPUs, addDailyFen
	for _, a := range apps {
		if a.ID == except || owners[a.ID].UserID != u.ID || a.Status == lightcc.StatusStopped || a.Status == lightcc.StatusDestroyed {
			continue
		}
		gpus += a.GPUs
		daily += dailyCost(a.BillingMode, a.RentalPrice, "0")
	}
	loc := rs.Loc
	switch {
	case u.MaxGPUs > 0 && gpus > u.MaxGPUs:
		return &userError{status: http.StatusUnprocessableEntity, msgKey: "budget.gpus", data: map[string]any{"Max": u.MaxGPUs, "Would": gpus}}
	case u.DailyBudgetFen > 0 && daily > u.DailyBudgetFen:
		return &userError{status: http.StatusUnprocessableEntity, msgKey: "budget.daily",
			data: map[string]any{"Max": loc.Money(u.DailyBudgetFen), "Would": loc.Money(daily)}}
	}
	return nil
}

// dailyCost estimates what an application costs per day: 24 hours of its
// hourly price, or its package price spread over the package's days.
func dailyCost(mode lightcc.BillingMode, price lightcc.Money, cycle string) int64 {
	days := map[lightcc.BillingMode]int64{lightcc.BillingDaily: 1, lightcc.BillingWeekly: 7, lightcc.BillingMonthly: 30, lightcc.BillingYearly: 365}
	if !mode.IsPackage() {
		return int64(price) * 24
	}
	n, err := strconv.ParseInt(cycle, 10, 64)
	if err != nil || n < 1 {
		n = 1
	}
	return int64(price) / (days[mode] * n)
}
