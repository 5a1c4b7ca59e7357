package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// HXRequest is what htmx tells us about a request, parsed once.
type HXRequest struct {
	Request        bool   // HX-Request: sent by htmx
	Boosted        bool   // HX-Boosted: a boosted link or form, wants a whole page
	HistoryRestore bool   // HX-History-Restore-Request: needs the whole page
	Target         string // HX-Target: id of the target element
	Trigger        string // HX-Trigger: id of the triggering element
	CurrentURL     string // HX-Current-URL
}

// WantsFragment reports whether only the page's main fragment should be sent.
func (h HXRequest) WantsFragment() bool {
	return h.Request && !h.Boosted && !h.HistoryRestore
}

func parseHX(r *http.Request) HXRequest {
	return HXRequest{
		Request:        r.Header.Get("HX-Request") == "true",
		Boosted:        r.Header.Get("HX-Boosted") == "true",
		HistoryRestore: r.Header.Get("HX-History-Restore-Request") == "true",
		Target:         r.Header.Get("HX-Target"),
		Trigger:        r.Header.Get("HX-Trigger"),
		CurrentURL:     r.Header.Get("HX-Current-URL"),
	}
}

// HXResponse is what we tell htmx in response headers.
type HXResponse struct {
	Redirect string // HX-Redirect: a client-side redirect (a 3xx would be followed by XHR)
	Trigger  string // HX-Trigger: events to fire
	Retarget string // HX-Retarget: a CSS selector replacing hx-target
	Reswap   string // HX-Reswap: replacing hx-swap
	PushURL  string // HX-Push-Url
}

// Apply writes the non-empty headers.
func (x HXResponse) Apply(w http.ResponseWriter) {
	set := func(k, v string) {
		if v != "" {
			w.Header().Set(k, v)
		}
	}
	set("HX-Redirect", x.Redirect)
	set("HX-Trigger", x.Trigger)
	set("HX-Retarget", x.Retarget)
	set("HX-Reswap", x.Reswap)
	set("HX-Push-Url", x.PushURL)
}

// redirect sends the browser to target: a 303 for a full load, HX-Redirect
// (answered with hxStatus) for an htmx call, whose XHR would otherwise
// follow a 303 silently and swap the next page into the current one.
func redirect(c echo.Context, target string, hxStatus int) error {
	if requestOf(c).HX.Request {
		HXResponse{Redirect: target}.Apply(c.Response())
		return c.NoContent(hxStatus)
	}
	return c.Redirect(http.StatusSeeOther, target)
}
