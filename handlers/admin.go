package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"lightcc-dashboard/db"
	"lightcc-dashboard/views/pages"
)

// usersPage lists the accounts with a form to add one and a form per account.
func (h *Handlers) usersPage(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, "", false)
}

func (h *Handlers) renderUsers(c echo.Context, status int, msg string, bad bool) error {
	rs := requestOf(c)
	users, err := h.Users.Users(c.Request().Context())
	if err != nil {
		return err
	}
	vm := pages.UsersPage{Shell: h.shell(c, rs.Loc.T("users.title"), "users", h.balanceFor(c)), Message: msg, Bad: bad}
	for _, u := range users {
		budget := ""
		if u.DailyBudgetFen > 0 {
			budget = strconv.FormatFloat(float64(u.DailyBudgetFen)/100, 'f', 2, 64)
		}
		vm.Users = append(vm.Users, pages.UserRow{
			ID: strconv.FormatInt(u.ID, 10), Username: u.Username, Role: string(u.Role), RoleLabel: rs.Loc.T("role." + string(u.Role)),
			Disabled: u.Disabled, MaxGPUs: strconv.Itoa(u.MaxGPUs), DailyBudget: budget, Self: rs.User != nil && rs.User.ID == u.ID,
		})
	}
	return h.render(c, status, pages.Users(vm))
}

// createUser adds an account.
func (h *Handlers) createUser(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("username"))
	pass := c.FormValue("password")
	role := db.Role(c.FormValue("role"))
	if key := checkNewAccount(name, pass, pass); key != "" {
		return h.renderUsers(c, http.StatusUnprocessableEntity, rs.Loc.T(key), true)
	}
	if !role.Valid() {
		return h.renderUsers(c, http.StatusUnprocessableEntity, rs.Loc.T("users.err.role"), true)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), h.PasswordCost)
	if err != nil {
		return err
	}
	u, err := h.Users.CreateUser(ctx, name, string(hash), role, h.Now())
	if errors.Is(err, db.ErrDuplicate) {
		return h.renderUsers(c, http.StatusUnprocessableEntity, rs.Loc.T("users.err.taken"), true)
	} else if err != nil {
		return err
	}
	h.record(ctx, rs, "user.create", "", "ok", u.Username+" ("+string(role)+")", nil, "")
	return h.renderUsers(c, http.StatusOK, rs.Loc.T("users.created", map[string]any{"Name": u.Username}), false)
}

// updateUser changes one account: role, disabled, password, budget. A
// change of password, role or state ends the account's sessions at once.
// The last active administrator cannot be demoted or disabled.
func (h *Handlers) updateUser(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return &userError{status: http.StatusNotFound, msgKey: "error.not_found"}
	}
	u, err := h.Users.UserByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return &userError{status: http.StatusNotFound, msgKey: "error.not_found"}
	} else if err != nil {
		return err
	}
	refuse := func(key string, data ...map[string]any) error {
		return h.renderUsers(c, http.StatusUnprocessableEntity, rs.Loc.T(key, data...), true)
	}
	role := db.Role(c.FormValue("role"))
	disabled := c.FormValue("disabled") == "1"
	pass := c.FormValue("password")
	maxGPUs, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("maxGPUs")))
	if strings.TrimSpace(c.FormValue("maxGPUs")) == "" {
		maxGPUs, err1 = 0, nil
	}
	dailyFen, err2 := parseYuan(c.FormValue("dailyBudget"))
	switch {
	case !role.Valid():
		return refuse("users.err.role")
	case err1 != nil || maxGPUs < 0 || maxGPUs > 1000:
		return refuse("users.err.max_gpus")
	case err2 != nil:
		return refuse("users.err.budget")
	case pass != "" && (len(pass) < minPassword || len(pass) > maxPassword):
		return refuse("account.err.password")
	case rs.User.ID == u.ID && (disabled || role != db.RoleAdmin):
		return refuse("users.err.self")
	}
	if u.Role == db.RoleAdmin && !u.Disabled && (role != db.RoleAdmin || disabled) {
		if n, err := h.Users.CountActiveAdmins(ctx); err != nil {
			return err
		} else if n <= 1 {
			return refuse("users.err.last_admin")
		}
	}
	now := h.Now()
	var changes []string
	if role != u.Role {
		if err := h.Users.SetRole(ctx, id, role, now); errors.Is(err, db.ErrLastAdmin) {
			return refuse("users.err.last_admin")
		} else if err != nil {
			return err
		}
		changes = append(changes, "role="+string(role))
	}
	if disabled != u.Disabled {
		if err := h.Users.SetDisabled(ctx, id, disabled, now); errors.Is(err, db.ErrLastAdmin) {
			return refuse("users.err.last_admin")
		} else if err != nil {
			return err
		}
		changes = append(changes, "disabled="+strconv.FormatBool(disabled))
	}
	if pass != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), h.PasswordCost)
		if err != nil {
			return err
		}
		if err := h.Users.SetPassword(ctx, id, string(hash), now); err != nil {
			return err
		}
		changes = append(changes, "password")
	}
	if maxGPUs != u.MaxGPUs || dailyFen != u.DailyBudgetFen {
		if err := h.Users.SetBudget(ctx, id, maxGPUs, dailyFen, now); err != nil {
			return err
		}
		changes = append(changes, "budget")
	}
	if len(changes) > 0 {
		h.record(ctx, rs, "user.update", "", "ok", u.Username+": "+strings.Join(changes, ", "), nil, "")
	}
	return h.renderUsers(c, http.StatusOK, rs.Loc.T("users.updated", map[string]any{"Name": u.Username}), false)
}

// parseYuan reads a yuan amount typed by a person ("" is no limit).
func parseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) {
		return 0, errors.New("not an amount")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e7 || math.IsNaN(f) {
		return 0, errors.New("not an amount")
	}
	return int64(math.Round(f * 100)), nil
}

// settingsPage shows where the LightCC key comes from, never the key.
func (h *Handlers) settingsPage(c echo.Context) error {
	return h.renderSettings(c, http.StatusOK, "", false)
}

func (h *Handlers) renderSettings(c echo.Context, status int, msg string, bad bool) error {
	rs := requestOf(c)
	st := h.Keys.Status(c.Request().Context())
	vm := pages.SettingsPage{Shell: h.shell(c, rs.Loc.T("settings.title"), "settings", h.balanceFor(c)),
		FromEnv: st.FromEnv, Stored: st.Stored, Last4: st.Last4, Demo: st.Demo, Message: msg, Bad: bad}
	return h.render(c, status, pages.Settings(vm))
}

// setKey stores (or, empty, removes) the API key. The key is checked only
// for shape; "测试连接" checks it against LightCC.
func (h *Handlers) setKey(c echo.Context) error {
	rs := requestOf(c)
	ctx := c.Request().Context()
	if h.Keys.Status(ctx).FromEnv {
		return h.renderSettings(c, http.StatusConflict, rs.Loc.T("settings.err.env"), true)
	}
	key := strings.TrimSpace(c.FormValue("apiKey"))
	if len(key) > 256 || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return h.renderSettings(c, http.StatusUnprocessableEntity, rs.Loc.T("settings.err.shape"), true)
	}
	if err := h.Keys.SetKey(ctx, key); err != nil {
		return err
	}
	if key == "" {
		h.record(ctx, rs, "settings.key_remove", "", "ok", "", nil, "")
		return h.renderSettings(c, http.StatusOK, rs.Loc.T("settings.removed"), false)
	}
	h.record(ctx, rs, "settings.key_set", "", "ok", "", nil, "")
	return h.renderSettings(c, http.StatusOK, rs.Loc.T("settings.saved"), false)
}

// testKey asks LightCC for the balance with the key in use.
func (h *Handlers) testKey(c echo.Context) error {
	rs := requestOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	b, err := h.Upstream.Balance(ctx)
	h.record(ctx, rs, "settings.key_test", "", outcomeOf(err), "", err, "")
	if err != nil {
		_, msg := explain(err, rs.Loc)
		return h.renderSettings(c, http.StatusOK, rs.Loc.T("settings.test.failed", map[string]any{"Msg": msg}), true)
	}
	return h.renderSettings(c, http.StatusOK, rs.Loc.T("settings.test.ok", map[string]any{"Balance": rs.Loc.Money(int64(b.Balance))}), false)
}

// assignOwner gives an application to an account (admins only); "0" takes
// it away.
func (h *Handlers) assignOwner(c echo.Context) error {
	rs := requestOf(c)
	id, err := appIDParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	uid, err := strconv.ParseInt(c.FormValue("userId"), 10, 64)
	if err != nil || uid < 0 {
		return &userError{status: http.StatusUnprocessableEntity, msgKey: "error.bad_request"}
	}
	detail := "nobody"
	if uid == 0 {
		err = h.Owners.ClearOwner(ctx, id)
	} else {
		var u db.User
		if u, err = h.Users.UserByID(ctx, uid); err != nil {
			return &userError{status: http.StatusUnprocessableEntity, msgKey: "error.bad_request", err: err}
		}
		detail = u.Username
		err = h.Owners.SetOwner(ctx, id, uid, h.Now())
	}
	if err != nil {
		return err
	}
	h.record(ctx, rs, "owner.assign", id, "ok", detail, nil, "")
	return redirect(c, "/apps/"+id, http.StatusOK)
}
