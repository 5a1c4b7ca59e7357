package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

// cst is the platform's zone without depending on the host's tzdata.
var cst = time.FixedZone("CST", 8*3600)

// t0 is the manual clock's starting point in every test.
var t0 = time.Date(2025, 6, 1, 10, 0, 0, 0, cst)

const testKey = "test-key-123"

// env is a simulator behind a real HTTP server, driven by a manual clock.
type env struct {
	t     *testing.T
	sim   *sim.Simulator
	clock *sim.ManualClock
	srv   *httptest.Server
}

// newEnv starts a simulator; opts.Clock and opts.APIKey are filled in.
func newEnv(t *testing.T, opts sim.Options) *env {
	t.Helper()
	clock := sim.NewManualClock(t0)
	opts.Clock = clock
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, clock: clock, srv: srv}
}

// emptyEnv is newEnv with no applications.
func emptyEnv(t *testing.T) *env {
	return newEnv(t, sim.Options{Empty: true})
}

// response is one HTTP answer: status, headers, raw body and, when the body
// is a JSON object, its decoded form (numbers kept as json.Number so their
// literal text can be checked).
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// code returns the envelope's code as an int.
// A missing or malformed code reads as 0.
func (r response) code() int {
	num, _ := r.body["code"].(json.Number)
	n, _ := num.Int64()
	return int(n)
}

// msg returns the envelope's msg.
func (r response) msg() string {
	s, _ := r.body["msg"].(string)
	return s
}

// request sends one request with the given key ("" sends none) and decodes
// the answer.
func (e *env) request(key, method, path string, body any) response {
	e.t.Helper()
	r, err := e.tryRequest(key, method, path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// tryRequest is request for goroutines, which must not call Fatal.
func (e *env) tryRequest(key, method, path string, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			enc, err := json.Marshal(b)
			if err != nil {
				return response{}, fmt.Errorf("encode body: %w", err)
			}
			rd = bytes.NewReader(enc)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&out.body) // not every answer is JSON; callers check
	return out, nil
}

// call sends an authorised request.
func (e *env) call(method, path string, body any) response {
	e.t.Helper()
	return e.request(testKey, method, path, body)
}

// okCall sends an authorised request and insists on HTTP 200 with code 200.
func (e *env) okCall(method, path string, body any) response {
	e.t.Helper()
	r := e.call(method, path, body)
	if r.status != http.StatusOK || r.code() != 200 {
		e.t.Fatalf("%s %s: HTTP %d body %s", method, path, r.status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return r
}

// failCall sends an authorised request and insists on a business error
// (HTTP 200, code 500) whose msg contains want.
func (e *env) failCall(method, path string, body any, want string) {
	e.t.Helper()
	r := e.call(method, path, body)
	if r.status != http.StatusOK || r.code() != 500 || !strings.Contains(r.msg(), want) {
		e.t.Fatalf("%s %s: want code 500 msg containing %q, got HTTP %d body %s", method, path, want, r.status, r.raw)
	}
	if _, has := r.body["data"]; has {
		e.t.Fatalf("%s %s: business error has a data key: %s", method, path, r.raw)
	}
}

// Paths of the documented endpoints.
const (
	pList      = "/equipment/deviceServer/openApplication"
	pDetails   = "/equipment/deviceServer/openApplicationDetails/"
	pCreate    = "/equipment/deviceServer/openCreateApplication"
	pRestart   = "/equipment/deviceServer/openRestartApplication/"
	pStop      = "/equipment/deviceServer/openStopApplication/"
	pTimedStop = "/equipment/deviceServer/openTimedStopApplication/"
	pDestroy   = "/equipment/deviceServer/openDestructionApplication/"
	pLinks     = "/equipment/deviceServer/applicationLinks/"
	pImages    = "/system/applicationImage/openListByUser"
	pImageInfo = "/system/applicationImage/openGetInfoById/"
	pGPUConfig = "/equipment/deviceServer/openAvailableGpuConfig"
	pPrice     = "/recharge/charge/getGpuPrice"
	pBalance   = "/recharge/order-info/openSelectBalance"
)

// createBody is a valid create request, to be varied per test.
func createBody(imageID int, gpu string, n int, mode, cycle string) map[string]any {
	return map[string]any{
		"imageName":     "Stable Difussion WebUI 官方版",
		"imageId":       imageID,
		"gpuModel":      gpu,
		"numberOfGPUs":  n,
		"billingMethod": mode,
		"cycle":         cycle,
	}
}

// create makes an application and returns its id from msg.
func (e *env) create(imageID int, gpu string, n int, mode, cycle string) string {
	e.t.Helper()
	r := e.okCall(http.MethodPost, pCreate, createBody(imageID, gpu, n, mode, cycle))
	return r.msg()
}

// details returns the data of openApplicationDetails.
func (e *env) details(id string) map[string]any {
	e.t.Helper()
	return e.okCall(http.MethodGet, pDetails+id, nil).body["data"].(map[string]any)
}

// status returns the app's aStatus.
func (e *env) status(id string) string {
	e.t.Helper()
	return e.details(id)["aStatus"].(string)
}

// wantStatus checks the app's aStatus.
func (e *env) wantStatus(id, want string) {
	e.t.Helper()
	if got := e.status(id); got != want {
		e.t.Fatalf("app %s: aStatus %q, want %q", id, got, want)
	}
}

// listIDs returns the aIds the list answers with the given runningState.
func (e *env) listIDs(state string) []string {
	e.t.Helper()
	path := pList
	if state != "" {
		path += "?runningState=" + state
	}
	var ids []string
	for _, it := range e.okCall(http.MethodGet, path, nil).body["data"].([]any) {
		ids = append(ids, it.(map[string]any)["aId"].(string))
	}
	return ids
}

// balance returns the balance as the API reports it.
func (e *env) balance() string {
	e.t.Helper()
	data := e.okCall(http.MethodGet, pBalance, nil).body["data"].(map[string]any)
	return data["balance"].(json.Number).String()
}

// keysOf returns the sorted keys of m.
func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wantKeys checks that m has exactly the keys want.
func wantKeys(t *testing.T, what string, m map[string]any, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := keysOf(m); !slices.Equal(got, want) {
		t.Fatalf("%s keys:\n got %v\nwant %v", what, got, want)
	}
}

// num returns a json.Number field as its literal text.
func num(m map[string]any, key string) string {
	n, ok := m[key].(json.Number)
	if !ok {
		return "<not a number>"
	}
	return n.String()
}
