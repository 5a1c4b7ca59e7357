package lightcc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "test-secret-key-1234"

// recorded is one request as the server saw it.
type recorded struct {
	method, path, rawQuery, key, contentType string
	body                                     []byte
}

// recorder is an upstream that records every request and answers a fixed body.
type recorder struct {
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Api-Key"), r.Header.Get("Content-Type"), b})
	status, body := rc.status, rc.body
	rc.mu.Unlock()
	if status == 0 {
		status = 200
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(rc.reqs))
	}
	return rc.reqs[0]
}

func docSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/doc_" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newTestClient(t *testing.T, body string, opts ...Option) (*Client, *recorder) {
	t.Helper()
	rc := &recorder{body: body}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, rc
}

// TestRequestsMatchTheDoc checks that every method sends exactly the
// documented method, path, query and body, with the key header.
func TestRequestsMatchTheDoc(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 3, 12, 7, 15, 42, 0, time.UTC) // 15:15:42 in Shanghai
	tests := []struct {
		name, sample           string
		call                   func(*Client) error
		method, path, rawQuery string
		body                   string
	}{
		{"list all", "list", func(c *Client) error { _, err := c.ListApplications(ctx, RunningAll); return err },
			"GET", "/equipment/deviceServer/openApplication", "", ""},
		{"list expiring", "list", func(c *Client) error { _, err := c.ListApplications(ctx, RunningExpiring); return err },
			"GET", "/equipment/deviceServer/openApplication", "runningState=2", ""},
		{"details", "details", func(c *Client) error { _, err := c.ApplicationDetails(ctx, "1899720917190184960"); return err },
			"GET", "/equipment/deviceServer/openApplicationDetails/1899720917190184960", "", ""},
		{"create", "create", func(c *Client) error {
			_, err := c.CreateApplication(ctx, CreateRequest{ImageName: "Stable Difussion WebUI 官方版", ImageID: 5, GPUModel: "4090", NumberOfGPUs: 1, BillingMethod: BillingPayAsYouGo, Cycle: "0"})
			return err
		}, "POST", "/equipment/deviceServer/openCreateApplication", "", docSample(t, "create_request")},
		{"restart", "restart", func(c *Client) error { return c.RestartApplication(ctx, "42") },
			"POST", "/equipment/deviceServer/openRestartApplication/42", "", ""},
		{"stop", "stop", func(c *Client) error { return c.StopApplication(ctx, "42") },
			"POST", "/equipment/deviceServer/openStopApplication/42", "", ""},
		{"timed stop", "timed_stop", func(c *Client) error { return c.TimedStopApplication(ctx, "42", at) },
			"GET", "/equipment/deviceServer/openTimedStopApplication/42", "stopTime=2025-03-12+15%3A15%3A42", ""},
		{"destroy", "destroy", func(c *Client) error { return c.DestroyApplication(ctx, "42") },
			"POST", "/equipment/deviceServer/openDestructionApplication/42", "", ""},
		{"link sd", "links", func(c *Client) error { _, err := c.ApplicationLink(ctx, LinkSD, "42"); return err },
			"POST", "/equipment/deviceServer/applicationLinks/3/42", "", ""},
		{"link jupyter", "links", func(c *Client) error { _, err := c.ApplicationLink(ctx, LinkJupyter, "42"); return err },
			"POST", "/equipment/deviceServer/applicationLinks/1/42", "", ""},
		{"images", "images", func(c *Client) error { _, err := c.ListImages(ctx, ""); return err },
			"GET", "/system/applicationImage/openListByUser", "", ""},
		{"images by title", "images", func(c *Client) error { _, err := c.ListImages(ctx, "Comfy UI"); return err },
			"GET", "/system/applicationImage/openListByUser", "title=Comfy+UI", ""},
		{"image info", "image_info", func(c *Client) error { _, err := c.ImageInfo(ctx, 6); return err },
			"GET", "/system/applicationImage/openGetInfoById/6", "", ""},
		{"gpu config", "gpu_config", func(c *Client) error { _, err := c.AvailableGPUConfig(ctx, 5); return err },
			"GET", "/equipment/deviceServer/openAvailableGpuConfig", "imageId=5", ""},
		{"price", "price", func(c *Client) error {
			_, err := c.GPUPrice(ctx, PriceQuery{GPUModel: "3060", GPUCount: 1, BillingMode: BillingPayAsYouGo, Cycle: "0"})
			return err
		}, "GET", "/recharge/charge/getGpuPrice", "billingMode=0&cycle=0&gpuCount=1&gpuModel=3060", ""},
		{"balance", "balance", func(c *Client) error { _, err := c.Balance(ctx); return err },
			"GET", "/recharge/order-info/openSelectBalance", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rc := newTestClient(t, docSample(t, tt.sample))
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := rc.last(t)
			if got.method != tt.method || got.path != tt.path || got.rawQuery != tt.rawQuery {
				t.Errorf("sent %s %s?%s, want %s %s?%s", got.method, got.path, got.rawQuery, tt.method, tt.path, tt.rawQuery)
			}
			if got.key != testKey {
				t.Errorf("X-Api-Key = %q", got.key)
			}
			if tt.body == "" {
				if len(got.body) != 0 || got.contentType != "" {
					t.Errorf("unexpected body %q (Content-Type %q)", got.body, got.contentType)
				}
				return
			}
			if got.contentType != "application/json" {
				t.Errorf("Content-Type = %q", got.contentType)
			}
			var want, have map[string]any
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got.body, &have); err != nil {
				t.Fatalf("body %q: %v", got.body, err)
			}
			wb, _ := json.Marshal(want)
			hb, _ := json.Marshal(have)
			if string(wb) != string(hb) {
				t.Errorf("body = %s, want %s", hb, wb)
			}
		})
	}
}

// TestDocSamplesDecode checks that every documented sample decodes into the
// types with the documented values.
func TestDocSamplesDecode(t *testing.T) {
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")

	t.Run("list", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "list"))
		apps, err := c.ListApplications(ctx, RunningAll)
		if err != nil || len(apps) != 1 {
			t.Fatalf("apps=%v err=%v", apps, err)
		}
		a := apps[0]
		checks := []struct {
			name      string
			got, want any
		}{
			{"id", a.ID, "1899720917190184960"},
			{"name nil", a.Name == nil, true},
			{"display name", a.DisplayName(), "Stable Difussion WebUI 官方版"},
			{"container", a.ContainerID, "bbcbb3b2894040efb8c0de7356891d4d"},
			{"status", a.Status, StatusRunning},
			{"status label", a.Status.LabelKey(), "status.running"},
			{"system", a.System, SystemLinux},
			{"billing", a.BillingMode, BillingPayAsYouGo},
			{"rental", a.RentalPrice, Money(198)},
			{"consume", a.Consume, Money(6)},
			{"image id", a.ImageID, int64(5)},
			{"cpu", a.CPUModel, "AMD EPYC 7542 32-Core Processor"},
			{"gpus", a.GPUs, 1},
			{"system disk GiB", a.SystemDisk.GiB(), 20.0},
			{"data disk GiB", a.DataDisk.GiB(), 50.0},
			{"gpu", a.GPUModel, "4090"},
			{"cores", a.CPUCores, 16},
			{"gpu mem GiB", a.GPUMemory.GiB(), 24.0},
			{"mem GiB rounded", int(a.Memory.GiB() + 0.5), 59},
			{"create", a.CreateTime, DateTime("2025-03-12 15:15:37")},
			{"stop zero", a.StopTime.IsZero(), true},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
			}
		}
		st, ok := a.StartTime.In(shanghai)
		if !ok || !st.Equal(time.Date(2025, 3, 12, 7, 15, 42, 0, time.UTC)) {
			t.Errorf("start = %v %v", st, ok)
		}
	})
	t.Run("details", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "details"))
		d, err := c.ApplicationDetails(ctx, "1899720917190184960")
		if err != nil {
			t.Fatal(err)
		}
		if d.AppLink != "https://ayqcxbnn94uoqrg6xc2y06g0rhx2ri5qiyx1jaw:online.lightcc.cloud" || d.ID != "1899720917190184960" || d.GPUModel != "4090" {
			t.Errorf("details = %+v", d)
		}
	})
	t.Run("create id from msg", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "create"))
		id, err := c.CreateApplication(ctx, CreateRequest{})
		if err != nil || id != "1933362172036460544" {
			t.Errorf("id=%q err=%v", id, err)
		}
	})
	t.Run("link", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "links"))
		l, err := c.ApplicationLink(ctx, LinkSD, "1")
		if err != nil || l.DomainName != "ccksan.lightcc.cloud" || l.DynamicURL != "xs90djahsosad" {
			t.Fatalf("link=%+v err=%v", l, err)
		}
		u, err := ComposeLink(DefaultLinkTemplate, l)
		if err != nil || u != "https://xs90djahsosad.ccksan.lightcc.cloud" {
			t.Errorf("url=%q err=%v", u, err)
		}
	})
	t.Run("images", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "images"))
		imgs, err := c.ListImages(ctx, "")
		if err != nil || len(imgs) != 1 {
			t.Fatalf("imgs=%v err=%v", imgs, err)
		}
		im := imgs[0]
		if im.ID != 5 || im.Title != "Stable Difussion WebUI 官方版" || im.CoverImg != "00004.png" ||
			im.CoverImgURL == nil || *im.CoverImgURL != "https://minio.lightcc.cloud/img/00004.png" ||
			im.LikeNum != 142 || im.Like == nil || *im.Like != 1 || im.SystemType != SystemLinux ||
			im.Ports != "22,8890,8888" || im.ImageSize != nil || im.Price != 0 || im.Remark != nil || !im.CreateTime.IsZero() {
			t.Errorf("image = %+v", im)
		}
	})
	t.Run("image info", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "image_info"))
		d, err := c.ImageInfo(ctx, 6)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != 6 || d.Title != "ComfyUI 官方版" || d.CoverImgURL != nil || d.CoverImg != "000012.png" ||
			d.ApplicationImageType == nil || d.ApplicationImageType.Name != "ComfyUI" || d.Like != nil ||
			d.CreateTime != "2024-04-23 17:10:46" || d.TypeIDs == nil || len(d.TypeIDs) != 0 {
			t.Errorf("image info = %+v", d)
		}
	})
	t.Run("gpu config", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "gpu_config"))
		cfg, err := c.AvailableGPUConfig(ctx, 5)
		if err != nil || len(cfg) != 6 {
			t.Fatalf("cfg=%v err=%v", cfg, err)
		}
		if gb, ok := cfg[0].MemoryGB(); cfg[0].GPU != "4090" || !cfg[0].Available || cfg[0].MaxAvailable != 8 || gb != 24 || !ok {
			t.Errorf("cfg[0] = %+v", cfg[0])
		}
		if cfg[2].GPU != "4070 Ti SUPER" || cfg[2].Available {
			t.Errorf("cfg[2] = %+v", cfg[2])
		}
	})
	t.Run("price", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "price"))
		q, err := c.GPUPrice(ctx, PriceQuery{GPUModel: "3060", GPUCount: 1, BillingMode: BillingPayAsYouGo, Cycle: "0"})
		if err != nil || q.Actual != 62 || q.Discount != 1 || q.Original != 63 || !q.Discounted() {
			t.Errorf("quote=%+v err=%v", q, err)
		}
		// The actual price is keyed by the model asked for: another model's quote is an error, not a zero price.
		if _, err := c.GPUPrice(ctx, PriceQuery{GPUModel: "4090", GPUCount: 1, BillingMode: BillingPayAsYouGo, Cycle: "0"}); !errors.Is(err, ErrDecode) {
			t.Errorf("mismatched model: err=%v, want ErrDecode", err)
		}
	})
	t.Run("balance", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "balance"))
		b, err := c.Balance(ctx)
		if err != nil || b.Balance != 9999 || b.Voucher != 21622 || b.HashrateBalance != 237972 {
			t.Errorf("balance=%+v err=%v", b, err)
		}
	})
	t.Run("actions", func(t *testing.T) {
		for _, s := range []string{"restart", "stop", "destroy", "timed_stop"} {
			c, _ := newTestClient(t, docSample(t, s))
			if err := c.StopApplication(ctx, "1"); err != nil {
				t.Errorf("%s sample: %v", s, err)
			}
		}
	})
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"unauthorized", 200, `{"code":401,"msg":"认证失败，无法访问系统资源"}`, func(err error) bool {
			var ae *APIError
			return errors.Is(err, ErrUnauthorized) && errors.As(err, &ae) && ae.Code == 401
		}},
		{"business refusal", 200, `{"code":500,"msg":"余额不足"}`, func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.Code == 500 && ae.Msg == "余额不足" && !errors.Is(err, ErrUnauthorized)
		}},
		{"http 502", 502, `<html>bad gateway</html>`, func(err error) bool {
			var se *StatusError
			return errors.Is(err, ErrStatus) && errors.As(err, &se) && se.StatusCode == 502
		}},
		{"not json", 200, `<html>`, func(err error) bool { return errors.Is(err, ErrDecode) }},
		{"truncated", 200, `{"code":200,"msg":"ok","data":{"balance":`, func(err error) bool { return errors.Is(err, ErrDecode) }},
		{"no envelope", 200, `{"balance":1}`, func(err error) bool { return errors.Is(err, ErrDecode) }},
		{"no data", 200, `{"code":200,"msg":"ok"}`, func(err error) bool { return errors.Is(err, ErrDecode) }},
		{"wrong type", 200, `{"code":200,"msg":"ok","data":{"balance":"lots"}}`, func(err error) bool { return errors.Is(err, ErrDecode) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rc := newTestClient(t, tt.body)
			rc.status = tt.status
			_, err := c.Balance(ctx)
			if err == nil || !tt.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	t.Run("create without id in msg", func(t *testing.T) {
		c, _ := newTestClient(t, `{"code":200,"msg":"操作成功"}`)
		if _, err := c.CreateApplication(ctx, CreateRequest{}); !errors.Is(err, ErrDecode) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		c, _ := New(srv.URL, testKey, WithTimeout(50*time.Millisecond))
		if _, err := c.Balance(ctx); !errors.Is(err, ErrTimeout) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		c, _ := New(addr, testKey)
		_, err := c.Balance(ctx)
		if !errors.Is(err, ErrTransport) || strings.Contains(err.Error(), testKey) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("caller cancelled", func(t *testing.T) {
		c, _ := newTestClient(t, docSample(t, "balance"))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Balance(cctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTransport) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad base url", func(t *testing.T) {
		for _, u := range []string{"", "api.lightcc.cloud", "ftp://x", "http://"} {
			if _, err := New(u, testKey); err == nil {
				t.Errorf("New(%q) accepted", u)
			}
		}
	})
}

func TestComposeLink(t *testing.T) {
	tests := []struct {
		tmpl, prefix, domain, want string
		ok                         bool
	}{
		{DefaultLinkTemplate, "xs90djahsosad", "ccksan.lightcc.cloud", "https://xs90djahsosad.ccksan.lightcc.cloud", true},
		{"https://{domain}/{prefix}/", "abc", "ccksan.lightcc.cloud", "https://ccksan.lightcc.cloud/abc/", true},
		{"http://{domain}", "", "127.0.0.1", "http://127.0.0.1", true},
		{DefaultLinkTemplate, "evil.com/x", "ccksan.lightcc.cloud", "", false},
		{DefaultLinkTemplate, "abc", "evil.com@x", "", false},
		{DefaultLinkTemplate, "", "ccksan.lightcc.cloud", "", false},
		{DefaultLinkTemplate, "abc", "", "", false},
		{"javascript:{prefix}.{domain}", "abc", "x.y", "", false},
	}
	for _, tt := range tests {
		got, err := ComposeLink(tt.tmpl, Link{DomainName: tt.domain, DynamicURL: tt.prefix})
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ComposeLink(%q, %q, %q) = %q, %v", tt.tmpl, tt.prefix, tt.domain, got, err)
		}
	}
	for tmpl, ok := range map[string]bool{DefaultLinkTemplate: true, "https://{prefix}": false, "{prefix}.{domain}": false, "https://{domain}": true} {
		if err := ValidateLinkTemplate(tmpl); (err == nil) != ok {
			t.Errorf("ValidateLinkTemplate(%q) = %v", tmpl, err)
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		str  string
		ok   bool
	}{
		{"1.98", 198, "1.98", true},
		{"0.06", 6, "0.06", true},
		{"99.99", 9999, "99.99", true},
		{"0.0", 0, "0.00", true},
		{"null", 0, "0.00", true},
		{"-3.5", -350, "-3.50", true},
		{"1e3", 100000, "1000.00", true},
		{"0.005", 1, "0.01", true},
		{`"1"`, 0, "", false},
		{"1e300", 0, "", false},
	}
	for _, tt := range tests {
		var m Money
		err := json.Unmarshal([]byte(tt.in), &m)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.in, err)
			continue
		}
		if tt.ok && (m != tt.want || m.String() != tt.str) {
			t.Errorf("%s = %d (%s), want %d (%s)", tt.in, m, m, tt.want, tt.str)
		}
	}
}

func TestCodes(t *testing.T) {
	for s, key := range map[Status]string{"0": "status.creating", "1": "status.running", "2": "status.stopped", "3": "status.starting",
		"4": "status.stopping", "5": "status.unknown", "6": "status.destroyed", "7": "status.abnormal", "8": "status.restarting", "9": "status.unknown"} {
		if s.LabelKey() != key {
			t.Errorf("Status(%s).LabelKey() = %s", s, s.LabelKey())
		}
	}
	for s, tr := range map[Status]bool{"0": true, "1": false, "2": false, "3": true, "4": true, "8": true, "7": false} {
		if s.Transitional() != tr {
			t.Errorf("Status(%s).Transitional() = %v", s, !tr)
		}
	}
	if !BillingDaily.IsPackage() || BillingPayAsYouGo.IsPackage() || BillingMode("5").Valid() || BillingMode("5").IsPackage() {
		t.Error("billing mode predicates")
	}
	if !RunningState("").Valid() || RunningState("4").Valid() || LinkType("4").Valid() || !LinkSD.Valid() {
		t.Error("state/link predicates")
	}
	for id, ok := range map[string]bool{"1899720917190184960": true, "": false, "../x": false, "1 2": false, strings.Repeat("1", 65): false} {
		if ValidID(id) != ok {
			t.Errorf("ValidID(%q) = %v", id, !ok)
		}
	}
}

// FuzzDecodeEnvelope feeds arbitrary upstream bodies through the decoder:
// it must never panic and must classify every failure.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{"list", "balance", "price", "create", "images", "gpu_config"} {
		b, _ := os.ReadFile("testdata/doc_" + s + ".json")
		f.Add(b)
	}
	f.Add([]byte(`{"code":401,"msg":null}`))
	f.Add([]byte(`{"code":200,"data":{"3060":"x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			var ae *APIError
			if err != nil && !errors.As(err, &ae) && !errors.Is(err, ErrDecode) {
				t.Fatalf("unclassified error %v", err)
			}
		}
		var apps []Application
		check(decodeEnvelope(call{op: "list", out: &apps, nullOK: true}, body))
		var b Balance
		check(decodeEnvelope(call{op: "balance", out: &b}, body))
		var msg string
		check(decodeEnvelope(call{op: "create", msgOut: &msg}, body))
		var raw json.RawMessage
		if decodeEnvelope(call{op: "price", out: &raw}, body) == nil {
			_, _ = decodePriceQuote(raw, "3060")
		}
	})
}

// flaky answers failStatus to the first failures requests, then body.
type flaky struct {
	mu         sync.Mutex
	n          int
	failures   int
	failStatus int
	body       string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	fail := f.n <= f.failures
	f.mu.Unlock()
	if fail {
		w.WriteHeader(f.failStatus)
		return
	}
	io.WriteString(w, f.body)
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		failures  int
		status    int
		call      func(*Client) error
		wantCalls int
		wantErr   bool
	}{
		{"GET recovers after two 502s", 2, 502, func(c *Client) error { _, err := c.Balance(ctx); return err }, 3, false},
		{"GET gives up after three tries", 5, 503, func(c *Client) error { _, err := c.Balance(ctx); return err }, 3, true},
		{"GET does not retry a 404", 5, 404, func(c *Client) error { _, err := c.Balance(ctx); return err }, 1, true},
		{"POST is never retried", 1, 502, func(c *Client) error { return c.StopApplication(ctx, "1") }, 1, true},
		{"the timed stop, a write by GET, is never retried", 1, 502, func(c *Client) error { return c.TimedStopApplication(ctx, "1", time.Now()) }, 1, true},
		{"create is never retried", 1, 500, func(c *Client) error { _, err := c.CreateApplication(ctx, CreateRequest{}); return err }, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{failures: tt.failures, failStatus: tt.status, body: docSample(t, "balance")}
			srv := httptest.NewServer(f)
			defer srv.Close()
			c, _ := New(srv.URL, testKey)
			err := tt.call(c)
			if (err != nil) != tt.wantErr || f.count() != tt.wantCalls {
				t.Errorf("err %v, %d requests; want error %v, %d requests", err, f.count(), tt.wantErr, tt.wantCalls)
			}
		})
	}
	t.Run("a business refusal is an answer, not retried", func(t *testing.T) {
		c, rc := newTestClient(t, `{"code":500,"msg":"余额不足"}`)
		if _, err := c.Balance(ctx); err == nil || len(rc.reqs) != 1 {
			t.Errorf("err %v, %d requests", err, len(rc.reqs))
		}
	})
	t.Run("connection refused is retried within the deadline", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		c, _ := New(addr, testKey)
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := c.Balance(cctx); !errors.Is(err, ErrTransport) {
			t.Errorf("err %v", err)
		}
		if took := time.Since(start); took < 150*time.Millisecond || took > 3*time.Second {
			t.Errorf("two backoffs took %v", took)
		}
	})
	t.Run("no retry past the caller's deadline", func(t *testing.T) {
		f := &flaky{failures: 5, failStatus: 502, body: docSample(t, "balance")}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c, _ := New(srv.URL, testKey)
		cctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		defer cancel()
		start := time.Now()
		c.Balance(cctx)
		if took := time.Since(start); took > 300*time.Millisecond || f.count() > 2 {
			t.Errorf("took %v with %d requests past a 250 ms deadline", took, f.count())
		}
	})
	t.Run("a timeout is not retried", func(t *testing.T) {
		release := make(chan struct{})
		var n int
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			mu.Unlock()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		c, _ := New(srv.URL, testKey, WithTimeout(50*time.Millisecond))
		if _, err := c.Balance(ctx); !errors.Is(err, ErrTimeout) {
			t.Errorf("err %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if n != 1 {
			t.Errorf("%d requests after a timeout", n)
		}
	})
}
