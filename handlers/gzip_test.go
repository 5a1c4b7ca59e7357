package handlers

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/static"
)

func TestBoundedGzip(t *testing.T) {
	e := echo.New()
	release := make(chan struct{})
	started := make(chan struct{}, 64)
	big := strings.Repeat("<p>LightCC</p>", 500)
	e.Use(boundedGzip()) // one set of slots for the whole server, as in Register
	e.GET("/slow", func(c echo.Context) error {
		started <- struct{}{}
		<-release
		return c.HTML(http.StatusOK, big)
	})
	e.GET("/fast", func(c echo.Context) error { return c.HTML(http.StatusOK, big) })
	get := func(path string) *httptest.ResponseRecorder { return getGzip(e, path) }
	if r := get("/fast"); r.Header().Get("Content-Encoding") != "gzip" || r.Body.Len() >= len(big) {
		t.Fatalf("an idle server does not compress: %q, %d bytes", r.Header().Get("Content-Encoding"), r.Body.Len())
	}
	// Fill every compression slot with a response in flight.
	slots := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range slots {
		wg.Go(func() { get("/slow") })
		<-started
	}
	r := get("/fast")
	close(release)
	wg.Wait()
	if r.Header().Get("Content-Encoding") != "" || r.Body.String() != big {
		t.Errorf("with every slot busy the response was still compressed (%q)", r.Header().Get("Content-Encoding"))
	}
	if r := get("/fast"); r.Header().Get("Content-Encoding") != "gzip" {
		t.Error("slots were not given back")
	}
}

// A handler's error is answered by the error handler, on the plain writer,
// and a redirect or a small answer passes through the compressor intact.
func TestBoundedGzipPassesErrorsAndRedirects(t *testing.T) {
	e := echo.New()
	e.Use(boundedGzip())
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		_ = c.String(http.StatusTeapot, strings.Repeat("refused: "+err.Error()+"\n", 200))
	}
	e.GET("/fail", func(c echo.Context) error { return echo.ErrForbidden })
	e.GET("/away", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/apps") })
	e.GET("/small", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	get := func(path string) *httptest.ResponseRecorder { return getGzip(e, path) }
	if r := get("/fail"); r.Code != http.StatusTeapot || r.Header().Get("Content-Encoding") != "" || !strings.HasPrefix(r.Body.String(), "refused: code=403") {
		t.Errorf("error: %d %q %.40q", r.Code, r.Header().Get("Content-Encoding"), r.Body.String())
	}
	if r := get("/away"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/apps" {
		t.Errorf("redirect: %d %q", r.Code, r.Header().Get("Location"))
	}
	if r := get("/small"); r.Code != http.StatusOK || r.Body.String() != "ok" || r.Header().Get("Content-Encoding") != "" {
		t.Errorf("small: %d %q %q", r.Code, r.Body.String(), r.Header().Get("Content-Encoding"))
	}
}

// Assets, fetched once per release, get the smallest output; pages the
// cheapest.
func TestBoundedGzipSqueezesAssetsHarder(t *testing.T) {
	var sb strings.Builder
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("htmx swap target trigger request response card status running stopped price GPU balance image")
	for range 4000 {
		sb.WriteString(words[r.IntN(len(words))])
		sb.WriteString(" ")
	}
	body := sb.String()
	e := echo.New()
	e.Use(boundedGzip())
	e.GET(static.Prefix+"*", func(c echo.Context) error { return c.Blob(http.StatusOK, "text/css", []byte(body)) })
	e.GET("/page", func(c echo.Context) error { return c.HTML(http.StatusOK, body) })
	size := func(path string) int {
		rec := getGzip(e, path)
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s was not compressed", path)
		}
		return rec.Body.Len()
	}
	asset, page := size(static.Prefix+"css/app.css"), size("/page")
	if asset >= page {
		t.Errorf("asset %d bytes, page %d bytes: the asset should be compressed harder", asset, page)
	}
}

// getGzip is a GET of path from a client that accepts gzip.
func getGzip(e *echo.Echo, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}
