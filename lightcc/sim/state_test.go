package sim_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

func TestLifecycle(t *testing.T) {
	e := emptyEnv(t)
	id := e.create(5, "4090", 1, "0", "0")

	steps := []struct {
		name    string
		action  string // path prefix to POST, or "" to only let time pass
		advance time.Duration
		want    string
	}{
		{"created", "", 0, "0"},
		{"still creating before the delay", "", 19 * time.Second, "0"},
		{"running after 20s", "", time.Second, "1"},
		{"stop", pStop, 0, "4"},
		{"still stopping", "", 5 * time.Second, "4"},
		{"stopped after 6s", "", time.Second, "2"},
		{"start", pRestart, 0, "3"},
		{"running after 10s", "", 10 * time.Second, "1"},
		{"restart", pRestart, 0, "8"},
		{"still restarting", "", 9 * time.Second, "8"},
		{"running after 10s", "", time.Second, "1"},
	}
	for _, s := range steps {
		e.clock.Advance(s.advance)
		if s.action != "" {
			e.okCall(http.MethodPost, s.action+id, nil)
		}
		if got := e.status(id); got != s.want {
			t.Fatalf("%s: aStatus %q, want %q", s.name, got, s.want)
		}
	}

	d := e.details(id)
	if d["stopTime"] != nil {
		t.Fatalf("a running app has stopTime %v", d["stopTime"])
	}
	list := e.okCall(http.MethodGet, pList, nil).body["data"].([]any)[0].(map[string]any)
	if list["startTime"] != "2025-06-01 10:00:46" {
		t.Fatalf("startTime after restart = %v, want the restart's end", list["startTime"])
	}

	// Timed stop: nothing happens before the time, then 关机中 → 关机.
	e.okCall(http.MethodGet, pTimedStop+id+"?stopTime=2025-06-01+11:00:00", nil)
	e.clock.Set(time.Date(2025, 6, 1, 10, 59, 59, 0, cst))
	e.wantStatus(id, "1")
	e.clock.Advance(time.Second)
	e.wantStatus(id, "4")
	e.clock.Advance(6 * time.Second)
	e.wantStatus(id, "2")
	if got := e.details(id)["stopTime"]; got != "2025-06-01 11:00:06" {
		t.Fatalf("stopTime = %v, want when it stopped", got)
	}

	e.okCall(http.MethodPost, pDestroy+id, nil)
	e.failCall(http.MethodGet, pDetails+id, nil, "应用不存在")
	if ids := e.listIDs(""); len(ids) != 0 {
		t.Fatalf("destroyed app still listed: %v", ids)
	}
}

func TestLazyProcessingInTimeOrder(t *testing.T) {
	// One big jump must replay every transition in order: the timed stop
	// fires only once creation has finished, then the stop completes.
	e := emptyEnv(t)
	id := e.create(5, "4090", 1, "0", "0")
	e.okCall(http.MethodGet, pTimedStop+id+"?stopTime=2025-06-01+10:00:05", nil)
	e.clock.Advance(24 * time.Hour)
	apps := e.sim.Apps()
	if len(apps) != 1 || apps[0].Status != "2" {
		t.Fatalf("Apps() = %+v, want one stopped app", apps)
	}
	// Running from 10:00:20 (end of creation; the timed stop was overdue) to
	// 10:00:20 at once: nothing billed.
	if apps[0].Consume != 0 {
		t.Fatalf("Consume = %v, want 0", apps[0].Consume)
	}
	if got := e.details(id)["stopTime"]; got != "2025-06-01 10:00:26" {
		t.Fatalf("stopTime = %v", got)
	}
}

func TestConsumptionAndBalance(t *testing.T) {
	start := 10.0
	e := newEnv(t, sim.Options{Empty: true, Balance: &start})
	id := e.create(5, "4090", 1, "0", "0") // 1.98 per hour
	e.clock.Advance(20 * time.Second)      // creating is free
	if got := e.balance(); got != "10.0" {
		t.Fatalf("balance while creating = %s", got)
	}
	e.clock.Advance(time.Hour)
	if got := num(e.details(id), "sConsume"); got != "1.98" {
		t.Fatalf("sConsume after an hour = %s", got)
	}
	if got := e.balance(); got != "8.02" {
		t.Fatalf("balance after an hour = %s", got)
	}

	// 10 / 1.98 h after it started running, the balance is gone and the app stops.
	e.clock.Advance(10 * time.Hour)
	d := e.details(id)
	if d["aStatus"] != "2" || num(d, "sConsume") != "10.0" {
		t.Fatalf("after the balance ran out: aStatus %v sConsume %v", d["aStatus"], d["sConsume"])
	}
	if got := e.balance(); got != "0.0" {
		t.Fatalf("balance = %s, want 0.0", got)
	}
	if got := e.sim.Balance(); got != 0 {
		t.Fatalf("Balance() = %v", got)
	}
	// It stopped 10/1.98 h = 5h03m01.8s after 10:00:20, plus the 6s of stopping.
	if got := d["stopTime"]; got != "2025-06-01 15:03:27" {
		t.Fatalf("stopTime = %v", got)
	}
	e.failCall(http.MethodPost, pRestart+id, nil, "余额不足")

	e.sim.SetBalance(100)
	e.okCall(http.MethodPost, pRestart+id, nil)

	// A package is charged in full up front and does not grow.
	pkg := e.create(9, "3060", 1, "1", "1")
	if got := e.balance(); got != "87.15" {
		t.Fatalf("balance after a 12.85 package = %s", got)
	}
	e.clock.Advance(10 * time.Second) // the start above completes
	before := e.sim.Balance()
	e.clock.Advance(2 * time.Hour)
	d = e.details(pkg)
	if num(d, "sRentalPrice") != "12.85" || num(d, "sConsume") != "12.85" || d["aBillingMode"] != "1" {
		t.Fatalf("package app: %v", d)
	}
	// Only the pay-as-you-go app was billed for the two hours.
	if got := round2(before - e.sim.Balance()); got != 3.96 {
		t.Fatalf("two hours cost %v, want 3.96", got)
	}
}

func TestBalanceRunsOutForSeveralApps(t *testing.T) {
	start := 5.0
	e := newEnv(t, sim.Options{Empty: true, Balance: &start})
	e.create(5, "4090", 1, "0", "0") // 1.98/h
	e.create(6, "3090", 1, "0", "0") // 1.38/h
	e.clock.Advance(3 * time.Hour)
	apps := e.sim.Apps()
	total := 0.0
	for _, x := range apps {
		if x.Status != "2" {
			t.Fatalf("%s still %q after the balance ran out", x.ID, x.Status)
		}
		total += x.Consume
	}
	if round2(total) != 5 || e.sim.Balance() != 0 {
		t.Fatalf("consumed %v, balance %v; want 5 and 0", total, e.sim.Balance())
	}
}

func round2(x float64) float64 {
	return float64(int64(x*100+0.5)) / 100
}

func TestRefusals(t *testing.T) {
	low := 1.0
	poor := newEnv(t, sim.Options{Empty: true, Balance: &low})
	poor.failCall(http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"), "余额不足")
	poor.failCall(http.MethodPost, pCreate, createBody(5, "3060", 1, "1", "1"), "余额不足")
	if len(poor.sim.Apps()) != 0 || poor.balance() != "1.0" {
		t.Fatal("a refused create changed state")
	}
	// 0.62 per hour fits in 1.0.
	poor.create(5, "3060", 1, "0", "0")

	e := newEnv(t, sim.Options{})
	e.clock.Advance(time.Minute)
	sd := "1899720917190184960"
	stopped := e.sim.AddApp(sim.NewApp{ImageID: 6, GPUModel: "3090", Status: "2"})
	creating := e.sim.AddApp(sim.NewApp{Status: "0"})

	cases := []struct {
		name, method, path string
		body               any
		want               string
	}{
		{"unknown app details", http.MethodGet, pDetails + "1234567890123456789", nil, "应用不存在"},
		{"unknown app stop", http.MethodPost, pStop + "1234567890123456789", nil, "应用不存在"},
		{"unknown app start", http.MethodPost, pRestart + "1234567890123456789", nil, "应用不存在"},
		{"unknown app destroy", http.MethodPost, pDestroy + "1234567890123456789", nil, "应用不存在"},
		{"unknown app timed stop", http.MethodGet, pTimedStop + "1234567890123456789?stopTime=2030-01-01+00:00:00", nil, "应用不存在"},
		{"unknown app links", http.MethodPost, pLinks + "1/1234567890123456789", nil, "应用不存在"},
		{"stop a stopped app", http.MethodPost, pStop + stopped, nil, "应用未运行"},
		{"stop a creating app", http.MethodPost, pStop + creating, nil, "应用当前状态不允许该操作"},
		{"start a creating app", http.MethodPost, pRestart + creating, nil, "应用当前状态不允许该操作"},
		{"links of a stopped app", http.MethodPost, pLinks + "1/" + stopped, nil, "应用未运行"},
		{"links bad type", http.MethodPost, pLinks + "4/" + sd, nil, "参数错误"},
		{"timed stop of a stopped app", http.MethodGet, pTimedStop + stopped + "?stopTime=2030-01-01+00:00:00", nil, "应用未运行"},
		{"stopTime in the past", http.MethodGet, pTimedStop + sd + "?stopTime=2025-06-01+09:00:00", nil, "停止时间必须晚于当前时间"},
		{"stopTime now", http.MethodGet, pTimedStop + sd + "?stopTime=2025-06-01+10:01:00", nil, "停止时间必须晚于当前时间"},
		{"stopTime missing", http.MethodGet, pTimedStop + sd, nil, "参数错误"},
		{"stopTime ISO", http.MethodGet, pTimedStop + sd + "?stopTime=2030-01-01T00:00:00", nil, "参数错误"},
		{"stopTime unpadded", http.MethodGet, pTimedStop + sd + "?stopTime=2030-1-1+00:00:00", nil, "参数错误"},
		{"stopTime no seconds", http.MethodGet, pTimedStop + sd + "?stopTime=2030-01-01+00:00", nil, "参数错误"},
		{"stopTime month 13", http.MethodGet, pTimedStop + sd + "?stopTime=2030-13-01+00:00:00", nil, "参数错误"},
		{"stopTime 12-hour", http.MethodGet, pTimedStop + sd + "?stopTime=2030-01-01+01:00:00+PM", nil, "参数错误"},
		{"stopTime with zone", http.MethodGet, pTimedStop + sd + "?stopTime=2030-01-01+00:00:00%2B08:00", nil, "参数错误"},
		{"list bad runningState", http.MethodGet, pList + "?runningState=4", nil, "参数错误"},
		{"image info not a number", http.MethodGet, pImageInfo + "abc", nil, "参数错误"},
		{"image info unknown", http.MethodGet, pImageInfo + "999", nil, "镜像不存在"},
		{"gpu config missing imageId", http.MethodGet, pGPUConfig, nil, "参数错误"},
		{"gpu config bad imageId", http.MethodGet, pGPUConfig + "?imageId=5.0", nil, "参数错误"},
		{"gpu config unknown image", http.MethodGet, pGPUConfig + "?imageId=999", nil, "镜像不存在"},
		{"price unknown model", http.MethodGet, pPrice + "?gpuModel=H100&gpuCount=1&billingMode=0&cycle=0", nil, "参数错误"},
		{"price zero cards", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=0&billingMode=0&cycle=0", nil, "参数错误"},
		{"price too many cards", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=9&billingMode=0&cycle=0", nil, "参数错误"},
		{"price count not a number", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=x&billingMode=0&cycle=0", nil, "参数错误"},
		{"price bad mode", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=1&billingMode=5&cycle=0", nil, "参数错误"},
		{"price cycle for pay-as-you-go", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=1&billingMode=0&cycle=2", nil, "参数错误"},
		{"price zero cycle for a package", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=1&billingMode=1&cycle=0", nil, "参数错误"},
		{"price huge cycle", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=1&billingMode=4&cycle=100", nil, "参数错误"},
		{"price missing cycle", http.MethodGet, pPrice + "?gpuModel=4090&gpuCount=1&billingMode=0", nil, "参数错误"},
		{"create unknown image", http.MethodPost, pCreate, createBody(999, "4090", 1, "0", "0"), "镜像不存在"},
		{"create unknown gpu", http.MethodPost, pCreate, createBody(5, "H100", 1, "0", "0"), "参数错误"},
		{"create sold-out gpu", http.MethodPost, pCreate, createBody(5, "A100", 1, "0", "0"), "库存不足"},
		{"create over the per-machine max", http.MethodPost, pCreate, createBody(5, "4090", 9, "0", "0"), "库存不足"},
		{"create gpu not offered for the image", http.MethodPost, pCreate, createBody(11, "2080 Ti", 1, "0", "0"), "库存不足"},
		{"create zero cards", http.MethodPost, pCreate, createBody(5, "4090", 0, "0", "0"), "参数错误"},
		{"create bad mode", http.MethodPost, pCreate, createBody(5, "4090", 1, "5", "0"), "参数错误"},
		{"create cycle for pay-as-you-go", http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "1"), "参数错误"},
		{"create package without cycle", http.MethodPost, pCreate, createBody(5, "4090", 1, "2", "0"), "参数错误"},
		{"create not JSON", http.MethodPost, pCreate, `imageId=5`, "参数错误"},
		{"create JSON array", http.MethodPost, pCreate, `[1,2]`, "参数错误"},
		{"create trailing garbage", http.MethodPost, pCreate, `{"imageId":5}}`, "参数错误"},
	}
	for field, bad := range map[string]any{
		"imageId": "5", "numberOfGPUs": 1.5, "billingMethod": 0, "cycle": 0, "gpuModel": 4090, "imageName": nil,
	} {
		body := createBody(5, "4090", 1, "0", "0")
		body[field] = bad
		cases = append(cases, struct {
			name, method, path string
			body               any
			want               string
		}{fmt.Sprintf("create %s=%#v", field, bad), http.MethodPost, pCreate, body, "参数错误：" + field})
	}
	for _, field := range []string{"imageName", "imageId", "gpuModel", "numberOfGPUs", "billingMethod", "cycle"} {
		body := createBody(5, "4090", 1, "0", "0")
		delete(body, field)
		cases = append(cases, struct {
			name, method, path string
			body               any
			want               string
		}{"create without " + field, http.MethodPost, pCreate, body, "参数错误：" + field})
	}

	before := e.sim.Apps()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.failCall(c.method, c.path, c.body, c.want)
		})
	}
	e.t = t
	if after := e.sim.Apps(); !slices.Equal(before, after) {
		t.Fatalf("refused requests changed state:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestCreateNeedsJSONContentType(t *testing.T) {
	e := emptyEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+pCreate, nil)
	req.Header.Set("X-Api-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(e.sim.Apps()) != 0 {
		t.Fatal("created an app without a JSON body")
	}
	// With a charset parameter the body is accepted.
	r := e.request(testKey, http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"))
	if r.code() != 200 {
		t.Fatalf("create refused: %s", r.raw)
	}
}

func TestStock(t *testing.T) {
	e := emptyEnv(t)
	e.sim.SetStock("4090", 3)
	a := e.create(5, "4090", 2, "0", "0")
	e.failCall(http.MethodPost, pCreate, createBody(5, "4090", 2, "0", "0"), "库存不足")
	e.create(5, "4090", 1, "0", "0")
	e.failCall(http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"), "库存不足")

	// Stopping gives the cards back; someone else takes them; starting again fails.
	e.clock.Advance(20 * time.Second)
	e.okCall(http.MethodPost, pStop+a, nil)
	e.failCall(http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"), "库存不足") // still held while stopping
	e.clock.Advance(6 * time.Second)
	c := e.create(6, "4090", 1, "0", "0")
	e.failCall(http.MethodPost, pRestart+a, nil, "库存不足")

	// Destroying releases cards too.
	e.okCall(http.MethodPost, pDestroy+c, nil)
	e.okCall(http.MethodPost, pRestart+a, nil)
	e.wantStatus(a, "3")
}

func TestRunningStateFilters(t *testing.T) {
	e := newEnv(t, sim.Options{})
	all := e.sim.Apps()
	byTitle := map[string]string{}
	for _, a := range all {
		byTitle[a.ImageTitle] = a.ID
	}
	sd, comfy := byTitle["Stable Difussion WebUI 官方版"], byTitle["ComfyUI 官方版"]
	jupyter, fooocus := byTitle["Jupyter Lab · PyTorch 2.3"], byTitle["Fooocus 一键出图"]
	if len(all) != 4 || sd == "" || comfy == "" || jupyter == "" || fooocus == "" {
		t.Fatalf("demo apps: %+v", all)
	}

	cases := []struct {
		state string
		want  []string
	}{
		{"", []string{sd, jupyter, comfy, fooocus}},
		{"1", []string{sd, jupyter}},
		{"2", []string{jupyter}},
		{"3", []string{fooocus}},
	}
	for _, c := range cases {
		if got := e.listIDs(c.state); !slices.Equal(got, c.want) {
			t.Errorf("runningState=%q: %v, want %v", c.state, got, c.want)
		}
	}

	// A creating app counts as not stopped.
	fresh := e.create(6, "3090", 1, "0", "0")
	if got := e.listIDs("1"); !slices.Contains(got, fresh) {
		t.Fatalf("creating app missing from runningState=1: %v", got)
	}

	// The one-day package ends 5 hours from the start: it stops and leaves "2".
	e.clock.Advance(5*time.Hour + 10*time.Second)
	e.wantStatus(jupyter, "2")
	if got := e.listIDs("2"); len(got) != 0 {
		t.Fatalf("runningState=2 after expiry: %v", got)
	}
	e.failCall(http.MethodPost, pRestart+jupyter, nil, "套餐已到期")

	// A week after ComfyUI stopped (2 hours before the start) it is about to be removed.
	e.clock.Set(t0.Add(7*24*time.Hour - 2*time.Hour - time.Minute))
	if got := e.listIDs("3"); slices.Contains(got, comfy) {
		t.Fatalf("runningState=3 lists ComfyUI before a week: %v", got)
	}
	e.clock.Advance(2 * time.Minute)
	if got := e.listIDs("3"); !slices.Contains(got, comfy) || !slices.Contains(got, fooocus) {
		t.Fatalf("runningState=3 after a week: %v", got)
	}
}

func TestPackageWithinADay(t *testing.T) {
	e := emptyEnv(t)
	weekly := e.create(5, "3060", 1, "2", "1") // 79.38
	e.clock.Advance(20 * time.Second)
	if got := e.listIDs("2"); len(got) != 0 {
		t.Fatalf("a fresh weekly package is about to expire: %v", got)
	}
	e.clock.Advance(6*24*time.Hour + time.Hour)
	if got := e.listIDs("2"); !slices.Equal(got, []string{weekly}) {
		t.Fatalf("runningState=2 on the last day: %v", got)
	}
	e.wantStatus(weekly, "1")
	e.clock.Advance(24 * time.Hour)
	e.wantStatus(weekly, "2")
}

func TestAddApp(t *testing.T) {
	e := emptyEnv(t)
	name := "我的应用"
	cases := []struct {
		in       sim.NewApp
		status   string
		settled  string
		billing  string
		gpuModel string
	}{
		{sim.NewApp{}, "1", "1", "0", "4090"},
		{sim.NewApp{Status: "0", Created: t0.Add(-10 * time.Second)}, "0", "1", "0", "4090"},
		{sim.NewApp{Status: "3", GPUModel: "3090", GPUs: 2}, "3", "1", "0", "3090"},
		{sim.NewApp{Status: "4"}, "4", "2", "0", "4090"},
		{sim.NewApp{Status: "8", BillingMode: "3"}, "8", "1", "3", "4090"},
		{sim.NewApp{Status: "7", ImageID: 11, GPUModel: "3060", Name: &name}, "7", "7", "0", "3060"},
		{sim.NewApp{Status: "5"}, "5", "5", "0", "4090"},
	}
	var ids []string
	for _, c := range cases {
		id := e.sim.AddApp(c.in)
		if !id19.MatchString(id) {
			t.Fatalf("AddApp id %q", id)
		}
		ids = append(ids, id)
		if got := e.status(id); got != c.status {
			t.Errorf("AddApp(%+v): status %q, want %q", c.in, got, c.status)
		}
	}
	e.clock.Advance(15 * time.Second)
	for i, c := range cases {
		d := e.details(ids[i])
		if d["aStatus"] != c.settled || d["aBillingMode"] != c.billing || d["gpuModel"] != c.gpuModel {
			t.Errorf("AddApp(%+v) after the delays: %v/%v/%v", c.in, d["aStatus"], d["aBillingMode"], d["gpuModel"])
		}
	}
	if d := e.details(ids[5]); d["aApplicationName"] != name || d["aSystem"] != "1" {
		t.Errorf("name/system not kept: %v %v", d["aApplicationName"], d["aSystem"])
	}
	// An abnormal app can be started.
	e.okCall(http.MethodPost, pRestart+ids[5], nil)
	e.wantStatus(ids[5], "3")
}

func TestManualClock(t *testing.T) {
	c := sim.NewManualClock(t0)
	c.Advance(time.Hour)
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("Advance: %v", c.Now())
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Set: %v", c.Now())
	}
}

func TestClockGoingBackwardsChangesNothing(t *testing.T) {
	e := emptyEnv(t)
	id := e.create(5, "4090", 1, "0", "0")
	e.clock.Advance(time.Hour)
	consumed := e.sim.Apps()[0].Consume
	e.clock.Set(t0)
	e.wantStatus(id, "1")
	if got := e.sim.Apps()[0].Consume; got != consumed {
		t.Fatalf("Consume went from %v to %v", consumed, got)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, sim.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				r, err := e.tryRequest(testKey, http.MethodPost, pCreate, createBody(6, "3090", 1, "0", "0"))
				if err != nil {
					t.Error(err)
					return
				}
				if r.code() == 200 {
					_, err = e.tryRequest(testKey, http.MethodPost, pStop+r.msg(), nil)
				}
				if err == nil {
					_, err = e.tryRequest(testKey, http.MethodGet, pList, nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i == 0 {
					e.clock.Advance(time.Second)
				}
				_ = e.sim.Apps()
			}
		})
	}
	wg.Wait()
	if got := e.sim.Calls(sim.EpCreate); got != 80 {
		t.Fatalf("Calls(create) = %d, want 80", got)
	}
}
