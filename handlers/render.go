package handlers

import (
	"bytes"
	"net/url"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"lightcc-dashboard/db"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/layouts"
)

// render writes a page with the real status. An htmx request that is
// neither boosted nor a history restore gets only one fragment of the page:
// the one named (when the page has finer fragments), else "main";
// everything else gets the whole page. The output is buffered so a failing
// component never leaves half a page behind a 200.
func (h *Handlers) render(c echo.Context, status int, page templ.Component, fragment ...string) error {
	buf := getBuffer()
	defer putBuffer(buf)
	ctx := c.Request().Context()
	var err error
	if requestOf(c).HX.WantsFragment() {
		id := "main"
		if len(fragment) > 0 && fragment[0] != "" {
			id = fragment[0]
		}
		err = templ.RenderFragments(ctx, buf, page, id)
	} else {
		err = page.Render(ctx, buf)
	}
	if err != nil {
		return err
	}
	return h.writeHTML(c, status, buf.Bytes())
}

// renderPart writes a component that is a fragment by design (a widget
// polled by htmx), whatever the request.
func (h *Handlers) renderPart(c echo.Context, status int, part templ.Component) error {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := part.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return h.writeHTML(c, status, buf.Bytes())
}

// Render buffers are reused: a page of many cards is hundreds of
// kilobytes, and growing a fresh buffer for each one dominated its cost.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return // an outlier: let it go rather than hold 4 MB forever
	}
	b.Reset()
	buffers.Put(b)
}

func (h *Handlers) writeHTML(c echo.Context, status int, b []byte) error {
	hd := c.Response().Header()
	// Pages show money and differ for htmx: no shared or stale copies.
	hd.Set("Cache-Control", "no-store")
	hd.Add("Vary", "HX-Request")
	return c.HTMLBlob(status, b)
}

// shell builds the page frame. balance is nil when the page did not fetch
// it; the header then loads it by itself.
func (h *Handlers) shell(c echo.Context, title, nav string, balance *components.BalanceProps) layouts.Shell {
	rs := requestOf(c)
	s := layouts.Shell{
		Title:     title,
		CSRF:      h.pageCSRF(c),
		Demo:      h.demo(c.Request().Context()),
		Nav:       nav,
		SwitchURL: switchLangURL(c, rs.Loc.Lang),
	}
	if rs.User == nil {
		// Nobody signed in (an error before sign-in): no account data at all.
		s.Bare = true
		return s
	}
	s.Username, s.Role, s.Admin = rs.User.Username, rs.Loc.T("role."+string(rs.User.Role)), rs.User.Role == db.RoleAdmin
	if balance != nil {
		s.Balance = *balance
	}
	return s
}

// bareShell is the frame of the sign-in and setup pages: no account data,
// no navigation, nothing fetched from the upstream.
func (h *Handlers) bareShell(c echo.Context, title string) layouts.Shell {
	rs := requestOf(c)
	return layouts.Shell{Title: title, CSRF: h.pageCSRF(c), Demo: h.demo(c.Request().Context()), Bare: true, SwitchURL: switchLangURL(c, rs.Loc.Lang)}
}

// pageCSRF is the CSRF token to put in a page (masked), storing the
// visitor's new session first so the token is known when it comes back.
// A session that cannot be stored is logged: the page still renders, and
// its form will be refused with a plain message.
func (h *Handlers) pageCSRF(c echo.Context) string {
	rs := requestOf(c)
	if rs.csrfUnsaved && rs.Session != nil {
		if err := rs.Session.Save(c.Request(), c.Response()); err != nil {
			h.Logger.ErrorContext(c.Request().Context(), "save a new session", "err", err)
		} else {
			rs.csrfUnsaved = false
		}
	}
	return rs.CSRF
}

// switchLangURL is the current page with ?lang= set to the other language.
func switchLangURL(c echo.Context, current i18n.Lang) string {
	other := i18n.English
	if current == i18n.English {
		other = i18n.Chinese
	}
	u := *c.Request().URL
	q := u.Query()
	q.Set("lang", string(other))
	return (&url.URL{Path: u.Path, RawQuery: q.Encode()}).String()
}
