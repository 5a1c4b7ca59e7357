package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

func TestFaultKinds(t *testing.T) {
	cases := []struct {
		name  string
		fault sim.Fault
		check func(t *testing.T, r response)
	}{
		{"gateway error", sim.Fault{HTTPStatus: http.StatusBadGateway}, func(t *testing.T, r response) {
			if r.status != 502 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.raw), "502 Bad Gateway") {
				t.Fatalf("HTTP %d %q %s", r.status, r.header.Get("Content-Type"), r.raw)
			}
		}},
		{"business error", sim.Fault{Code: 503, Msg: "系统维护中"}, func(t *testing.T, r response) {
			if r.status != 200 || r.code() != 503 || r.msg() != "系统维护中" {
				t.Fatalf("HTTP %d %s", r.status, r.raw)
			}
			if _, has := r.body["data"]; has {
				t.Fatalf("business error has data: %s", r.raw)
			}
		}},
		{"business error without msg", sim.Fault{Code: 500}, func(t *testing.T, r response) {
			if r.code() != 500 || r.msg() == "" {
				t.Fatalf("%s", r.raw)
			}
		}},
		{"malformed", sim.Fault{Malformed: true}, func(t *testing.T, r response) {
			if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=UTF-8" || json.Valid(r.raw) {
				t.Fatalf("HTTP %d %q valid=%v %s", r.status, r.header.Get("Content-Type"), json.Valid(r.raw), r.raw)
			}
		}},
		{"status wins over malformed and code", sim.Fault{HTTPStatus: 504, Malformed: true, Code: 500}, func(t *testing.T, r response) {
			if r.status != 504 {
				t.Fatalf("HTTP %d", r.status)
			}
		}},
		{"short latency only", sim.Fault{Latency: 30 * time.Millisecond}, func(t *testing.T, r response) {
			if r.status != 200 || r.code() != 200 {
				t.Fatalf("HTTP %d %s", r.status, r.raw)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := emptyEnv(t)
			e.t = t
			e.sim.SetFault(sim.EpBalance, c.fault)
			start := time.Now()
			c.check(t, e.call(http.MethodGet, pBalance, nil))
			if time.Since(start) < c.fault.Latency {
				t.Fatalf("answered before the latency of %v", c.fault.Latency)
			}
			// Other endpoints are unaffected.
			e.okCall(http.MethodGet, pImages, nil)
			if e.sim.Calls(sim.EpBalance) != 1 {
				t.Fatalf("faulted call not counted")
			}
			e.sim.ClearFaults()
			e.okCall(http.MethodGet, pBalance, nil)
		})
	}
}

func TestFaultTimes(t *testing.T) {
	e := emptyEnv(t)
	e.sim.SetFault(sim.EpList, sim.Fault{HTTPStatus: 500, Times: 2})
	for i, want := range []int{500, 500, 200, 200} {
		if r := e.call(http.MethodGet, pList, nil); r.status != want {
			t.Fatalf("request %d: HTTP %d, want %d", i+1, r.status, want)
		}
	}
	if e.sim.Calls(sim.EpList) != 4 {
		t.Fatalf("Calls = %d", e.sim.Calls(sim.EpList))
	}

	// Times 0 lasts until cleared.
	e.sim.SetFault(sim.EpList, sim.Fault{Code: 500, Msg: "x"})
	for range 5 {
		if r := e.call(http.MethodGet, pList, nil); r.code() != 500 {
			t.Fatalf("fault wore off: %s", r.raw)
		}
	}
	e.sim.ClearFaults()
	e.okCall(http.MethodGet, pList, nil)
}

func TestFaultSkipsUnauthorised(t *testing.T) {
	e := emptyEnv(t)
	e.sim.SetFault(sim.EpBalance, sim.Fault{HTTPStatus: 502, Times: 1})
	if r := e.request("bad", http.MethodGet, pBalance, nil); r.status != 200 || r.code() != 401 {
		t.Fatalf("unauthorised request: HTTP %d %s", r.status, r.raw)
	}
	if r := e.call(http.MethodGet, pBalance, nil); r.status != 502 {
		t.Fatalf("the fault was used up by an unauthorised request: HTTP %d", r.status)
	}
	if e.sim.Calls(sim.EpBalance) != 2 {
		t.Fatalf("Calls = %d", e.sim.Calls(sim.EpBalance))
	}
}

func TestFaultAfterApply(t *testing.T) {
	cases := []struct {
		name       string
		fault      sim.Fault
		wantCreate bool
	}{
		{"before apply", sim.Fault{HTTPStatus: 502, Times: 1}, false},
		{"after apply, gateway", sim.Fault{HTTPStatus: 502, AfterApply: true, Times: 1}, true},
		{"after apply, malformed", sim.Fault{Malformed: true, AfterApply: true, Times: 1}, true},
		{"after apply, business", sim.Fault{Code: 500, Msg: "超时", AfterApply: true, Times: 1}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := emptyEnv(t)
			e.t = t
			e.sim.SetFault(sim.EpCreate, c.fault)
			r := e.call(http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"))
			if r.status == 200 && r.code() == 200 {
				t.Fatalf("fault not applied: %s", r.raw)
			}
			if created := len(e.sim.Apps()) == 1; created != c.wantCreate {
				t.Fatalf("created = %v, want %v", created, c.wantCreate)
			}
		})
	}

	// A lost stop answer: the app is stopping although the client saw a 504.
	e := newEnv(t, sim.Options{})
	e.sim.SetFault(sim.EpStop, sim.Fault{HTTPStatus: 504, AfterApply: true})
	if r := e.call(http.MethodPost, pStop+"1899720917190184960", nil); r.status != 504 {
		t.Fatalf("HTTP %d", r.status)
	}
	e.wantStatus("1899720917190184960", "4")
}

func TestFaultLatencyHonoursContext(t *testing.T) {
	e := emptyEnv(t)
	e.sim.SetFault(sim.EpCreate, sim.Fault{Latency: 5 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	body := strings.NewReader(`{"imageName":"x","imageId":5,"gpuModel":"4090","numberOfGPUs":1,"billingMethod":"0","cycle":"0"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+pCreate, body)
	req.Header.Set("X-Api-Key", testKey)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	// The server side gave up too: the request never reached the handler, so
	// no app exists, and closing the server (Cleanup) does not wait 5s.
	deadline := time.Now().Add(time.Second)
	for e.sim.Calls(sim.EpCreate) != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if len(e.sim.Apps()) != 0 {
		t.Fatal("a request abandoned during its latency was applied")
	}
	e.srv.Close()
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("the handler slept through the cancellation: %v", elapsed)
	}
}
