package cover

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memStore is an in-memory Store with the same contract as the database one.
type memStore struct {
	mu          sync.Mutex
	covers      map[int64]Cover
	failures    map[int64]Failure
	failurePuts int
}

func newMemStore() *memStore {
	return &memStore{covers: map[int64]Cover{}, failures: map[int64]Failure{}}
}

func (m *memStore) Cover(_ context.Context, id int64) (Cover, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.covers[id]
	if !ok {
		return Cover{}, ErrNotCached
	}
	return c, nil
}

func (m *memStore) PutCover(_ context.Context, c Cover) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.covers[c.ImageID] = c
	delete(m.failures, c.ImageID)
	return nil
}

func (m *memStore) CoverFailure(_ context.Context, id int64) (Failure, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.failures[id]
	if !ok {
		return Failure{}, ErrNotCached
	}
	return f, nil
}

func (m *memStore) PutCoverFailure(_ context.Context, f Failure) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[f.ImageID] = f
	m.failurePuts++
	return nil
}

func (m *memStore) failure(t *testing.T, id int64) Failure {
	t.Helper()
	f, err := m.CoverFailure(context.Background(), id)
	if err != nil {
		t.Fatalf("no failure recorded for image %d: %v", id, err)
	}
	return f
}

func (m *memStore) puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failurePuts
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// imageHost is a stand-in for the LightCC image host that counts requests.
type imageHost struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	paths  []string
}

func newImageHost(t *testing.T) *imageHost {
	t.Helper()
	h := &imageHost{routes: map[string]http.HandlerFunc{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		h.mu.Lock()
		h.paths = append(h.paths, r.URL.EscapedPath())
		fn := h.routes[r.URL.Path]
		h.mu.Unlock()
		if fn == nil {
			http.NotFound(w, r)
			return
		}
		fn(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *imageHost) handle(path string, fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes[path] = fn
}

func (h *imageHost) serveBytes(path string, body []byte) {
	h.handle(path, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
}

func (h *imageHost) url(path string) string { return h.srv.URL + path }

func (h *imageHost) host() string {
	u, _ := url.Parse(h.srv.URL)
	return u.Host
}

func (h *imageHost) lastPath() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.paths) == 0 {
		return ""
	}
	return h.paths[len(h.paths)-1]
}

type fixture struct {
	svc   *Service
	store *memStore
	clock *testClock
	host  *imageHost
	logs  *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newFixture builds a Service whose only allowed host is a fresh imageHost;
// edit sets further options.
func newFixture(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	f := &fixture{
		store: newMemStore(),
		clock: &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		host:  newImageHost(t),
		logs:  &syncBuffer{},
	}
	opts := Options{
		AllowedHosts: []string{f.host.host()},
		ImageBase:    f.host.url("/img/"),
		Now:          f.clock.Now,
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	if edit != nil {
		edit(&opts)
	}
	f.svc = New(f.store, opts)
	return f
}

func (f *fixture) serve(method string, id int64, src Source, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/covers/"+strconv.FormatInt(id, 10), nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.svc.Serve(w, r, id, src)
	return w
}

func urlSource(u string) Source { return Source{URL: &u} }

func pngBytes(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	// Noise keeps PNG from compressing a large picture into a few bytes.
	rng := rand.New(rand.NewPCG(uint64(size), 1))
	for x := range size {
		for y := range size {
			img.Set(x, y, color.RGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 9))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// assertPlaceholder checks w is the placeholder picture, and that nothing
// the upstream said leaked into it.
func assertPlaceholder(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	h := w.Header()
	if got := h.Get("Content-Type"); got != "image/svg+xml" {
		t.Errorf("Content-Type = %q, want image/svg+xml", got)
	}
	if got := h.Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := h.Get("ETag"); got != `"`+hashOf([]byte(placeholderSVG))+`"` {
		t.Errorf("ETag = %q", got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if w.Body.String() != placeholderSVG {
		t.Errorf("body is not the placeholder: %.80q", w.Body.String())
	}
}

func TestGetFetchesOnceThenServesFromStore(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 8)
	f.host.serveBytes("/img/a.png", body)
	src := urlSource(f.host.url("/img/a.png"))

	c, err := f.svc.Get(t.Context(), 7, src)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if c.ImageID != 7 || c.SourceURL != f.host.url("/img/a.png") || c.ContentType != "image/png" ||
		!bytes.Equal(c.Body, body) || c.Hash != hashOf(body) || !c.FetchedAt.Equal(f.clock.Now()) {
		t.Fatalf("cover = %+v", c)
	}
	if _, err := f.store.Cover(t.Context(), 7); err != nil {
		t.Fatalf("cover not stored: %v", err)
	}
	for range 5 {
		if _, err := f.svc.Get(t.Context(), 7, src); err != nil {
			t.Fatalf("Get: %v", err)
		}
		if w := f.serve(http.MethodGet, 7, src); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), body) {
			t.Fatalf("Serve: %d", w.Code)
		}
	}
	if n := f.host.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times, want 1", n)
	}
}

func TestGetJPEG(t *testing.T) {
	f := newFixture(t, nil)
	body := jpegBytes(t)
	// The upstream's own Content-Type is not trusted; sniffing decides.
	f.host.handle("/img/p.jpg", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	})
	c, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/p.jpg")))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if c.ContentType != "image/jpeg" {
		t.Fatalf("ContentType = %q", c.ContentType)
	}
}

func TestServeCover(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 8)
	f.host.serveBytes("/img/a.png", body)
	src := urlSource(f.host.url("/img/a.png"))
	etag := `"` + hashOf(body) + `"`

	w := f.serve(http.MethodGet, 3, src)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	want := map[string]string{
		"Content-Type":           "image/png",
		"ETag":                   etag,
		"Cache-Control":          "public, max-age=604800",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         strconv.Itoa(len(body)),
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !bytes.Equal(w.Body.Bytes(), body) {
		t.Errorf("body differs")
	}

	for _, inm := range []string{etag, `"a", ` + etag, `"a",` + etag + `, "b"`, "*", "W/" + etag} {
		w := f.serve(http.MethodGet, 3, src, "If-None-Match", inm)
		if w.Code != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status = %d, want 304", inm, w.Code)
		}
		if w.Header().Get("ETag") != etag || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: ETag %q, %d body bytes", inm, w.Header().Get("ETag"), w.Body.Len())
		}
	}
	if w := f.serve(http.MethodGet, 3, src, "If-None-Match", `"other", "x"`); w.Code != http.StatusOK {
		t.Errorf("non-matching If-None-Match: status = %d", w.Code)
	}

	head := f.serve(http.MethodHead, 3, src)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("ETag") != etag ||
		head.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("HEAD: status %d, %d body bytes, headers %v", head.Code, head.Body.Len(), head.Header())
	}
	if w := f.serve(http.MethodHead, 3, src, "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("HEAD with If-None-Match: status = %d", w.Code)
	}

	post := f.serve(http.MethodPost, 3, src)
	if post.Code != http.StatusMethodNotAllowed || post.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q", post.Code, post.Header().Get("Allow"))
	}
	if n := f.host.hits.Load(); n != 1 {
		t.Errorf("upstream hit %d times, want 1", n)
	}
}

func TestPlaceholder(t *testing.T) {
	f := newFixture(t, nil)
	w := f.serve(http.MethodGet, 1, Source{})
	assertPlaceholder(t, w)
	svg := w.Body.String()
	for _, banned := range []string{"<script", "<text", "href", "<foreignobject", "<style"} {
		if strings.Contains(strings.ToLower(svg), banned) {
			t.Errorf("placeholder contains %q", banned)
		}
	}
	if m := regexp.MustCompile(`(?i)\son\w+\s*=`).FindString(svg); m != "" {
		t.Errorf("placeholder has an event handler attribute %q", m)
	}
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("placeholder is not well-formed XML: %v", err)
	}
	if !strings.Contains(svg, `width="640" height="360"`) || !strings.Contains(svg, "linearGradient") {
		t.Errorf("placeholder is not the 640x360 gradient: %s", svg)
	}
	if w := f.serve(http.MethodGet, 1, Source{}, "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("placeholder If-None-Match: status = %d", w.Code)
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t, nil)
	base := f.host.url("/img/")
	blank := "  "
	good := []struct {
		name string
		src  Source
		want string
	}{
		{"url", urlSource(f.host.url("/x/a.png")), f.host.url("/x/a.png")},
		{"nil url", Source{File: "00004.png"}, base + "00004.png"},
		{"blank url", Source{URL: &blank, File: "00004.png"}, base + "00004.png"},
		{"escaped file", Source{File: "a b?#.png"}, base + "a%20b%3F%23.png"},
		{"host case", urlSource(strings.Replace(f.host.url("/a.png"), "http://", "HTTP://", 1)), f.host.url("/a.png")},
		{"fragment dropped", urlSource(f.host.url("/a.png#x")), f.host.url("/a.png")},
	}
	for _, tc := range good {
		got, err := f.svc.Resolve(tc.src)
		if err != nil || got != tc.want {
			t.Errorf("%s: Resolve = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	bad := []struct {
		name string
		src  Source
	}{
		{"nothing", Source{}},
		{"blank everything", Source{URL: &blank, File: " "}},
		{"slash in file", Source{File: "a/b.png"}},
		{"dot dot", Source{File: "..png.."}},
		{"parent", Source{File: ".."}},
		{"backslash", Source{File: `a\b.png`}},
		{"other host", urlSource("https://evil.example/a.png")},
		{"default host not allowed here", urlSource("https://minio.lightcc.cloud/img/a.png")},
		{"userinfo", urlSource("http://user:pw@" + f.host.host() + "/a.png")},
		{"ftp", urlSource("ftp://" + f.host.host() + "/a.png")},
		{"javascript", urlSource("javascript:alert(1)")},
		{"data", urlSource("data:image/png;base64,AAAA")},
		{"relative", urlSource("/img/a.png")},
		{"port differs", urlSource("http://" + strings.Split(f.host.host(), ":")[0] + ":1/a.png")},
	}
	for _, tc := range bad {
		if got, err := f.svc.Resolve(tc.src); err == nil {
			t.Errorf("%s: Resolve = %q, want an error", tc.name, got)
		}
	}
}

func TestDefaults(t *testing.T) {
	svc := New(newMemStore(), Options{})
	got, err := svc.Resolve(Source{File: "000012.png"})
	if err != nil || got != "https://minio.lightcc.cloud/img/000012.png" {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	u := "https://MINIO.lightcc.cloud/img/00004.png"
	if _, err := svc.Resolve(Source{URL: &u}); err != nil {
		t.Errorf("Resolve(%s): %v", u, err)
	}
	if svc.maxBytes != 5<<20 || svc.retryMin != time.Minute || svc.retryMax != time.Hour ||
		svc.client.Timeout != 10*time.Second {
		t.Errorf("defaults: max %d, retry %s..%s, timeout %s", svc.maxBytes, svc.retryMin, svc.retryMax, svc.client.Timeout)
	}
}

func TestGetFallsBackToImageBase(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 4)
	f.host.serveBytes("/img/00004 copy.png", body)
	blank := ""
	for i, src := range []Source{{File: "00004 copy.png"}, {URL: &blank, File: "00004 copy.png"}} {
		c, err := f.svc.Get(t.Context(), int64(10+i), src)
		if err != nil {
			t.Fatalf("Get %d: %v", i, err)
		}
		if c.SourceURL != f.host.url("/img/00004%20copy.png") || f.host.lastPath() != "/img/00004%20copy.png" {
			t.Errorf("fetched %q (%s)", f.host.lastPath(), c.SourceURL)
		}
	}
}

func TestOversizeBody(t *testing.T) {
	body := pngBytes(t, 64)
	const limit = 1000
	if len(body) <= limit {
		t.Fatalf("test picture is only %d bytes", len(body))
	}
	f := newFixture(t, func(o *Options) { o.MaxBytes = limit })
	f.host.handle("/img/declared.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	f.host.handle("/img/chunked.png", func(w http.ResponseWriter, _ *http.Request) {
		// Flushing before the end forces chunked encoding: no length.
		_, _ = w.Write(body[:100])
		w.(http.Flusher).Flush()
		_, _ = w.Write(body[100:])
	})
	small := pngBytes(t, 2)
	f.host.serveBytes("/img/small.png", small)

	cases := []struct {
		path   string
		reason string
	}{
		{"/img/declared.png", "declared length"},
		{"/img/chunked.png", "body exceeds"},
	}
	for i, tc := range cases {
		id := int64(i + 1)
		assertPlaceholder(t, f.serve(http.MethodGet, id, urlSource(f.host.url(tc.path))))
		fl := f.store.failure(t, id)
		if fl.Attempts != 1 || !strings.Contains(fl.Reason, tc.reason) || fl.SourceURL != f.host.url(tc.path) {
			t.Errorf("%s: failure = %+v", tc.path, fl)
		}
		if _, err := f.store.Cover(t.Context(), id); !errors.Is(err, ErrNotCached) {
			t.Errorf("%s: oversize cover was stored", tc.path)
		}
	}
	if _, err := f.svc.Get(t.Context(), 9, urlSource(f.host.url("/img/small.png"))); err != nil {
		t.Errorf("a picture within the limit: %v", err)
	}
}

func TestRejectsNonRasterContent(t *testing.T) {
	f := newFixture(t, nil)
	bodies := map[string]string{
		"/img/page.png":  "<!DOCTYPE html><html><body>SECRET-BODY-MARKER</body></html>",
		"/img/pic.svg":   `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"/img/bare.svg":  `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`,
		"/img/note.png":  "just some text",
		"/img/empty.png": "",
	}
	id := int64(0)
	for path, body := range bodies {
		id++
		f.host.handle(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte(body))
		})
		w := f.serve(http.MethodGet, id, urlSource(f.host.url(path)))
		assertPlaceholder(t, w)
		if fl := f.store.failure(t, id); !strings.Contains(fl.Reason, "not a raster image") {
			t.Errorf("%s: failure = %+v", path, fl)
		}
	}
	logs := f.logs.String()
	if strings.Contains(logs, "SECRET-BODY-MARKER") || strings.Contains(logs, "alert(1)") {
		t.Errorf("the log carries upstream bodies:\n%s", logs)
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "host="+f.host.host()) {
		t.Errorf("no warning naming the host:\n%s", logs)
	}
}

func TestDisallowedHostIsNeverContacted(t *testing.T) {
	f := newFixture(t, nil)
	other := newImageHost(t)
	other.serveBytes("/a.png", pngBytes(t, 4))
	src := urlSource(other.url("/a.png"))

	assertPlaceholder(t, f.serve(http.MethodGet, 5, src))
	fl := f.store.failure(t, 5)
	if fl.SourceURL != other.url("/a.png") || fl.Attempts != 1 || !fl.RetryAt.Equal(f.clock.Now().Add(time.Minute)) {
		t.Errorf("failure = %+v", fl)
	}
	// Within the backoff the source is not even evaluated again.
	_, err := f.svc.Get(t.Context(), 5, src)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get = %v, want ErrUnavailable", err)
	}
	if n := f.store.puts(); n != 1 {
		t.Errorf("failure written %d times, want 1", n)
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.svc.Get(t.Context(), 5, src); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get after backoff = %v, want ErrUnavailable", err)
	}
	if fl := f.store.failure(t, 5); fl.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", fl.Attempts)
	}
	if n := other.hits.Load() + f.host.hits.Load(); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestUnresolvableSourceIsRecorded(t *testing.T) {
	f := newFixture(t, nil)
	for i, src := range []Source{{}, {File: "../etc/passwd"}} {
		id := int64(i + 1)
		_, err := f.svc.Get(t.Context(), id, src)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("Get(%+v) = %v, want ErrUnavailable", src, err)
		}
		f.store.failure(t, id)
	}
	if n := f.host.hits.Load(); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestUpstreamDownThenBack(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 4)
	var up atomic.Bool
	f.host.handle("/img/a.png", func(w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			http.Error(w, "internal detail xyz", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(body)
	})
	src := urlSource(f.host.url("/img/a.png"))

	w := f.serve(http.MethodGet, 1, src)
	assertPlaceholder(t, w)
	if strings.Contains(w.Body.String(), "xyz") {
		t.Error("upstream error text reached the browser")
	}
	fl := f.store.failure(t, 1)
	if fl.Attempts != 1 || !fl.RetryAt.Equal(f.clock.Now().Add(time.Minute)) || !strings.Contains(fl.Reason, "500") {
		t.Errorf("failure = %+v", fl)
	}

	up.Store(true)
	f.clock.Advance(59 * time.Second)
	assertPlaceholder(t, f.serve(http.MethodGet, 1, src))
	if _, err := f.svc.Get(t.Context(), 1, src); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get before RetryAt = %v, want ErrUnavailable", err)
	}
	if n := f.host.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times before RetryAt, want 1", n)
	}

	f.clock.Advance(time.Second)
	w = f.serve(http.MethodGet, 1, src)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || !bytes.Equal(w.Body.Bytes(), body) {
		t.Fatalf("after RetryAt: status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if _, err := f.store.CoverFailure(t.Context(), 1); !errors.Is(err, ErrNotCached) {
		t.Errorf("failure not cleared: %v", err)
	}
	if n := f.host.hits.Load(); n != 2 {
		t.Errorf("upstream hit %d times, want 2", n)
	}
}

func TestUpstreamClosed(t *testing.T) {
	f := newFixture(t, nil)
	closed := newImageHost(t)
	closedURL := closed.url("/a.png")
	closed.srv.Close()
	f.svc = New(f.store, Options{
		AllowedHosts: []string{closed.host()},
		Now:          f.clock.Now,
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
	})

	assertPlaceholder(t, f.serve(http.MethodGet, 1, urlSource(closedURL)))
	fl := f.store.failure(t, 1)
	if fl.Attempts != 1 || !strings.Contains(fl.Reason, "request failed") {
		t.Errorf("failure = %+v", fl)
	}
	if _, err := f.svc.Get(t.Context(), 1, urlSource(closedURL)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get = %v", err)
	}
	if n := f.store.puts(); n != 1 {
		t.Errorf("failure written %d times, want 1 (no second attempt)", n)
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.RetryMin = time.Minute
		o.RetryMax = 5 * time.Minute
	})
	f.host.handle("/img/a.png", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	src := urlSource(f.host.url("/img/a.png"))
	for i, want := range []time.Duration{1, 2, 4, 5, 5, 5} {
		if _, err := f.svc.Get(t.Context(), 1, src); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		fl := f.store.failure(t, 1)
		if fl.Attempts != i+1 || fl.RetryAt.Sub(f.clock.Now()) != want*time.Minute {
			t.Fatalf("attempt %d: attempts %d, wait %s, want %s", i+1, fl.Attempts, fl.RetryAt.Sub(f.clock.Now()), want*time.Minute)
		}
		if n := f.host.hits.Load(); n != int64(i+1) {
			t.Fatalf("attempt %d: %d upstream hits", i+1, n)
		}
		f.clock.Advance(want * time.Minute)
	}
	long := New(newMemStore(), Options{})
	if got := long.backoff(1000); got != time.Hour {
		t.Errorf("backoff(1000) = %s, want 1h", got)
	}
}

func TestRedirects(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 4)
	other := newImageHost(t)
	other.serveBytes("/a.png", body)
	f.host.serveBytes("/img/a.png", body)
	f.host.handle("/moved.png", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img/a.png", http.StatusFound)
	})
	f.host.handle("/away.png", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.url("/a.png"), http.StatusFound)
	})
	f.host.handle("/loop.png", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop.png", http.StatusFound)
	})

	if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/moved.png"))); err != nil {
		t.Errorf("redirect within the allowed host: %v", err)
	}
	assertPlaceholder(t, f.serve(http.MethodGet, 2, urlSource(f.host.url("/away.png"))))
	if fl := f.store.failure(t, 2); !strings.Contains(fl.Reason, "redirect refused") {
		t.Errorf("failure = %+v", fl)
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("disallowed host hit %d times", n)
	}
	before := f.host.hits.Load()
	assertPlaceholder(t, f.serve(http.MethodGet, 3, urlSource(f.host.url("/loop.png"))))
	if n := f.host.hits.Load() - before; n != 4 {
		t.Errorf("redirect loop made %d requests, want 4 (the first and 3 redirects)", n)
	}
}

func TestCallerClientKeepsRedirectGuard(t *testing.T) {
	var theirs atomic.Int64
	f := newFixture(t, func(o *Options) {
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			theirs.Add(1)
			return nil
		}}
	})
	other := newImageHost(t)
	other.serveBytes("/a.png", pngBytes(t, 4))
	f.host.handle("/away.png", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.url("/a.png"), http.StatusFound)
	})
	f.host.serveBytes("/img/a.png", pngBytes(t, 4))
	f.host.handle("/moved.png", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img/a.png", http.StatusFound)
	})
	if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/away.png"))); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get = %v", err)
	}
	if other.hits.Load() != 0 || theirs.Load() != 0 {
		t.Errorf("redirect followed: %d hits, caller's policy asked %d times", other.hits.Load(), theirs.Load())
	}
	if _, err := f.svc.Get(t.Context(), 2, urlSource(f.host.url("/moved.png"))); err != nil || theirs.Load() != 1 {
		t.Errorf("allowed redirect: %v, caller's policy asked %d times", err, theirs.Load())
	}
}

func TestConcurrentGetsFetchOnce(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 8)
	entered := make(chan struct{}, 100)
	release := make(chan struct{})
	f.host.handle("/img/a.png", func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		_, _ = w.Write(body)
	})
	src := urlSource(f.host.url("/img/a.png"))

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			c, err := f.svc.Get(t.Context(), 1, src)
			if err == nil && c.Hash != hashOf(body) {
				err = errors.New("wrong cover")
			}
			errs <- err
		})
	}
	close(start)
	<-entered
	// Give the other goroutines time to queue behind the flight; any that
	// come later find the stored cover instead.
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := f.host.hits.Load(); got != 1 {
		t.Errorf("upstream hit %d times, want 1", got)
	}
}

func TestCancelledCallerDoesNotFailTheFetch(t *testing.T) {
	f := newFixture(t, nil)
	body := pngBytes(t, 4)
	entered := make(chan struct{})
	release := make(chan struct{})
	f.host.handle("/img/a.png", func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = w.Write(body)
	})
	src := urlSource(f.host.url("/img/a.png"))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := f.svc.Get(ctx, 1, src)
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Get = %v", err)
	}
	close(release)
	// The fetch finishes on its own and is stored, with no failure.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := f.store.Cover(t.Context(), 1); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cover never stored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f.store.puts() != 0 {
		t.Error("a failure was recorded for a cancelled caller")
	}
	if _, err := f.svc.Get(t.Context(), 1, src); err != nil || f.host.hits.Load() != 1 {
		t.Errorf("Get = %v, %d hits", err, f.host.hits.Load())
	}
}

func TestChangedSourceRefetches(t *testing.T) {
	f := newFixture(t, nil)
	a, b := pngBytes(t, 4), pngBytes(t, 6)
	f.host.serveBytes("/img/a.png", a)
	f.host.serveBytes("/img/b.png", b)

	if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/a.png"))); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/b.png")))
	if err != nil || c.Hash != hashOf(b) {
		t.Fatalf("Get b = %v, %v", c.Hash, err)
	}
	for range 3 {
		if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/b.png"))); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.host.hits.Load(); n != 2 {
		t.Errorf("upstream hit %d times, want 2", n)
	}
	stored, _ := f.store.Cover(t.Context(), 1)
	if stored.SourceURL != f.host.url("/img/b.png") {
		t.Errorf("stored source = %q", stored.SourceURL)
	}

	// A failure for an old source does not hold back a new one.
	f.host.handle("/img/c.png", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/c.png"))); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get c = %v", err)
	}
	if _, err := f.svc.Get(t.Context(), 1, urlSource(f.host.url("/img/a.png"))); err != nil {
		t.Errorf("Get a after c failed: %v", err)
	}
}
