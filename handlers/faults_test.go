package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

// plainWords are the sentences a person may read when LightCC fails; a
// page that fails must say one of them.
var plainWords = []string{
	"LightCC 拒绝了", "LightCC 响应超时", "暂时连不上 LightCC", "LightCC 返回了无法识别的内容",
	"无法确认应用是否已经创建", "暂时无法获取价格", "余额暂时无法获取", "没有获取到最新的 GPU 库存",
	"LightCC 暂时无法访问，显示的是", // a stale copy, with its age
}

// leaks are what must never reach a page: our error texts, raw upstream bodies.
var leaks = []string{"lightcc: ", "ErrTransport", "HTTP 500", "code 500", "<html><body>", "connection refused", "dial tcp", sim.DemoKey}

// TestUpstreamFaultMatrix runs every endpoint × every kind of failure
// through a route that uses it: the page answers within the timeout plus a
// second, says what failed in plain words, leaks nothing, and sends a
// write at most once.
func TestUpstreamFaultMatrix(t *testing.T) {
	type trigger struct {
		method, path string
		form         url.Values
		write        bool // the endpoint changes something: at most one call
	}
	triggers := map[sim.Endpoint]func(stopped string) trigger{
		sim.EpList:    func(stopped string) trigger { return trigger{"GET", "/apps", nil, false} },
		sim.EpDetails: func(stopped string) trigger { return trigger{"GET", "/apps/" + sdApp, nil, false} },
		sim.EpCreate:  func(stopped string) trigger { return trigger{"POST", "/apps", nil, true} }, // form filled with a fresh token
		sim.EpRestart: func(stopped string) trigger { return trigger{"POST", "/apps/" + stopped + "/start", nil, true} },
		sim.EpStop:    func(stopped string) trigger { return trigger{"POST", "/apps/" + sdApp + "/stop", nil, true} },
		sim.EpTimedStop: func(stopped string) trigger {
			return trigger{"POST", "/apps/" + sdApp + "/timed-stop", url.Values{"preset": {"1h"}}, true}
		},
		sim.EpDestroy: func(stopped string) trigger {
			return trigger{"POST", "/apps/" + stopped + "/destroy", url.Values{"confirm": {stopped}}, true}
		},
		sim.EpLinks:     func(stopped string) trigger { return trigger{"GET", "/apps/" + sdApp + "/links/sd", nil, true} },
		sim.EpImages:    func(stopped string) trigger { return trigger{"GET", "/images", nil, false} },
		sim.EpImageInfo: func(stopped string) trigger { return trigger{"GET", "/images/6", nil, false} },
		sim.EpGPUConfig: func(stopped string) trigger { return trigger{"GET", "/images/6", nil, false} },
		sim.EpPrice: func(stopped string) trigger {
			return trigger{"GET", "/images/6/price?gpuModel=4090&gpuCount=1&billingMode=0&cycle=0", nil, false}
		},
		sim.EpBalance: func(stopped string) trigger { return trigger{"GET", "/balance", nil, false} },
	}
	faults := map[string]sim.Fault{
		"http 500":  {HTTPStatus: 500},
		"refusal":   {Code: 500, Msg: "系统繁忙"},
		"malformed": {Malformed: true},
		"stall":     {Latency: 1500 * time.Millisecond},
		"refused":   {}, // connection refused: the upstream is gone
	}
	if len(triggers) != len(sim.Endpoints()) {
		t.Fatalf("%d endpoints have a trigger, the API has %d", len(triggers), len(sim.Endpoints()))
	}
	for _, ep := range sim.Endpoints() {
		for name, fault := range faults {
			t.Run(string(ep)+"/"+name, func(t *testing.T) {
				t.Parallel()
				env := newEnv(t, withSwitch)
				tr := triggers[ep](stoppedApp(t, env))
				b := env.browser()
				if ep == sim.EpImages {
					env.clock.Advance(catalogueTTL + time.Minute) // the sign-in's gallery visit filled the cache
				}
				form := url.Values{}
				for k, v := range tr.form {
					form[k] = v
				}
				if ep == sim.EpCreate {
					form = launchForm(pickerToken(t, b, "6"), map[string]string{"autoStop": "0"})
				}
				if name == "refused" {
					dead := httptest.NewServer(http.NotFoundHandler())
					dead.Close()
					c, _ := lightcc.New(dead.URL, sim.DemoKey, lightcc.WithTimeout(time.Second))
					env.sw.Set(c)
				} else {
					env.sim.SetFault(ep, fault)
				}
				env.sim.ResetCalls()
				start := time.Now()
				header := http.Header{"X-Csrf-Token": {b.csrf}}
				if tr.method == "POST" {
					header.Set("Hx-Request", "true")
				}
				r := b.do(tr.method, tr.path, form, header)
				took := time.Since(start)

				if limit := env.h.PageTimeout + time.Second; took > limit {
					t.Errorf("answered in %v, more than the timeout plus a second (%v)", took, limit)
				}
				body := r.Body.String()
				if r.Code == http.StatusSeeOther && ep == sim.EpLinks && name != "refused" && fault.Latency > 0 {
					t.Errorf("a stalled link still redirected")
				}
				said := false
				for _, w := range plainWords {
					said = said || strings.Contains(body, w)
				}
				if !said {
					t.Errorf("%d: the answer does not say what failed: %.300s", r.Code, body)
				}
				for _, l := range leaks {
					if strings.Contains(body, l) {
						t.Errorf("the answer leaks %q", l)
					}
				}
				if tr.write && env.sim.Calls(ep) > 1 {
					t.Errorf("a write was sent %d times", env.sim.Calls(ep))
				}
			})
		}
	}
}
