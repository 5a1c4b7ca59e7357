// Package sim is the stateful LightCC simulator: an http.Handler that speaks
// the 13 documented endpoints of the LightCC open API with the documented
// methods, paths, parameters and JSON, and keeps applications, GPU stock and
// the account balance in memory.
//
// The web console uses it in demo mode (no API key configured) with the real
// clock; tests drive it with a ManualClock. Transitions (creating → running,
// stopping → stopped, timed stops, package expiry, billing) are computed
// lazily from the clock on every request, with no goroutines, so a manual
// clock fully decides what the API reports. Faults can be injected per
// endpoint to exercise a client's error handling.
package sim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DemoKey is the API key the simulator accepts when Options.APIKey is empty.
const DemoKey = "demo-lightcc-key-0000"

// Delays are how long each transitional status lasts.
type Delays struct {
	Create  time.Duration // 创建中 → 运行中; default 20s
	Start   time.Duration // 启动中 → 运行中; default 10s
	Stop    time.Duration // 关机中 → 关机; default 6s
	Restart time.Duration // 重启中 → 运行中; default 10s
}

// Options configure a Simulator. The zero value is a demo simulator on the
// real clock.
type Options struct {
	APIKey   string         // key required in X-Api-Key; "" means DemoKey
	Clock    Clock          // nil means real time
	Location *time.Location // zone of every wire time; nil means Asia/Shanghai
	Delays   Delays         // zero fields take the defaults
	Empty    bool           // start with no applications instead of the demo ones
	Balance  *float64       // starting balance; nil means 99.99
}

// Simulator is a stateful fake of the LightCC API. It is safe for concurrent
// use.
type Simulator struct {
	key    string
	clock  Clock
	loc    *time.Location
	delays Delays

	mu       sync.Mutex // guards everything below
	apps     map[string]*app
	appSeq   int       // insertion counter, a stable tie-breaker
	cursor   time.Time // instant up to which transitions and billing are processed
	balance  float64
	voucher  float64
	hashrate int64
	stock    map[string]int
	lastID   int64
	rng      *rand.Rand
	faults   map[Endpoint]*Fault
	calls    map[Endpoint]int

	coversMu sync.Mutex // separate so PNG encoding never blocks the API
	covers   map[string][]byte
}

// New returns a Simulator configured by opts.
func New(opts Options) *Simulator {
	s := &Simulator{
		key:      opts.APIKey,
		clock:    opts.Clock,
		loc:      opts.Location,
		delays:   opts.Delays,
		apps:     make(map[string]*app),
		balance:  99.99,
		voucher:  216.22,
		hashrate: 237972,
		stock:    make(map[string]int),
		faults:   make(map[Endpoint]*Fault),
		calls:    make(map[Endpoint]int),
		covers:   make(map[string][]byte),
	}
	if s.key == "" {
		s.key = DemoKey
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.loc == nil {
		s.loc = shanghai()
	}
	if s.delays.Create <= 0 {
		s.delays.Create = 20 * time.Second
	}
	if s.delays.Start <= 0 {
		s.delays.Start = 10 * time.Second
	}
	if s.delays.Stop <= 0 {
		s.delays.Stop = 6 * time.Second
	}
	if s.delays.Restart <= 0 {
		s.delays.Restart = 10 * time.Second
	}
	if opts.Balance != nil {
		s.balance = *opts.Balance
	}
	for _, g := range gpuCatalogue {
		s.stock[g.Model] = g.DefaultStock
	}
	now := s.clock.Now()
	s.cursor = now
	seed := uint64(now.UnixNano())
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if !opts.Empty {
		s.seedDemo(now)
	}
	return s
}

// shanghai loads the platform's zone, falling back to a fixed +08:00 when the
// host has no tzdata (China has had no DST since 1991, so nothing is lost).
func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Endpoint names one documented endpoint by the last static segment of its
// path.
type Endpoint string

// The 13 documented endpoints.
const (
	EpList      Endpoint = "openApplication"
	EpDetails   Endpoint = "openApplicationDetails"
	EpCreate    Endpoint = "openCreateApplication"
	EpRestart   Endpoint = "openRestartApplication"
	EpStop      Endpoint = "openStopApplication"
	EpTimedStop Endpoint = "openTimedStopApplication"
	EpDestroy   Endpoint = "openDestructionApplication"
	EpLinks     Endpoint = "applicationLinks"
	EpImages    Endpoint = "openListByUser"
	EpImageInfo Endpoint = "openGetInfoById"
	EpGPUConfig Endpoint = "openAvailableGpuConfig"
	EpPrice     Endpoint = "getGpuPrice"
	EpBalance   Endpoint = "openSelectBalance"
)

// route is one documented endpoint: its method, the static part of its path
// and how many path parameters follow it.
type route struct {
	ep      Endpoint
	method  string
	base    string
	nParams int
}

// routes is the simulator's route table, in the documentation's order.
var routes = []route{
	{EpList, http.MethodGet, "/equipment/deviceServer/openApplication", 0},
	{EpDetails, http.MethodGet, "/equipment/deviceServer/openApplicationDetails", 1},
	{EpCreate, http.MethodPost, "/equipment/deviceServer/openCreateApplication", 0},
	{EpRestart, http.MethodPost, "/equipment/deviceServer/openRestartApplication", 1},
	{EpStop, http.MethodPost, "/equipment/deviceServer/openStopApplication", 1},
	{EpTimedStop, http.MethodGet, "/equipment/deviceServer/openTimedStopApplication", 1},
	{EpDestroy, http.MethodPost, "/equipment/deviceServer/openDestructionApplication", 1},
	{EpLinks, http.MethodPost, "/equipment/deviceServer/applicationLinks", 2},
	{EpImages, http.MethodGet, "/system/applicationImage/openListByUser", 0},
	{EpImageInfo, http.MethodGet, "/system/applicationImage/openGetInfoById", 1},
	{EpGPUConfig, http.MethodGet, "/equipment/deviceServer/openAvailableGpuConfig", 0},
	{EpPrice, http.MethodGet, "/recharge/charge/getGpuPrice", 0},
	{EpBalance, http.MethodGet, "/recharge/order-info/openSelectBalance", 0},
}

// Endpoints returns the 13 documented endpoints in the documentation's order.
func Endpoints() []Endpoint {
	eps := make([]Endpoint, len(routes))
	for i, rt := range routes {
		eps[i] = rt.ep
	}
	return eps
}

// matchRoute finds the route of path and its path parameters. Like the Spring
// backend, it wants every parameter present and non-empty, and no trailing
// slash.
func matchRoute(path string) (route, []string, bool) {
	for _, rt := range routes {
		if rt.nParams == 0 {
			if path == rt.base {
				return rt, nil, true
			}
			continue
		}
		rest, ok := strings.CutPrefix(path, rt.base+"/")
		if !ok {
			continue
		}
		params := strings.Split(rest, "/")
		if len(params) != rt.nParams || slices.Contains(params, "") {
			continue
		}
		return rt, params, true
	}
	return route{}, nil, false
}

// Messages the backend answers with.
const (
	msgOK          = "操作成功"
	msgQueryOK     = "查询成功"
	msgUnauth      = "认证失败，无法访问系统资源"
	msgBadMethod   = "请求方式不支持"
	msgNotFound    = "请求地址不存在"
	msgNoBalance   = "余额不足，请充值后再试"
	msgNoStock     = "库存不足"
	msgNoApp       = "应用不存在"
	msgNotRunning  = "应用未运行"
	msgBadState    = "应用当前状态不允许该操作"
	msgNoImage     = "镜像不存在"
	msgPastStop    = "停止时间必须晚于当前时间"
	msgExpired     = "套餐已到期，无法启动"
	msgParamPrefix = "参数错误："
)

// reply is a response not yet written, so that a fault with AfterApply can
// compute it (changing state) and then throw it away.
type reply struct {
	status int
	body   any
}

// ok answers code 200 with data; a nil data leaves the data key out.
func ok(data any) reply {
	return reply{http.StatusOK, envelope{Msg: ptr(msgOK), Code: http.StatusOK, Data: data}}
}

// fail answers a business error: HTTP 200, code 500, the reason in msg.
func fail(msg string) reply {
	return reply{http.StatusOK, envelope{Msg: ptr(msg), Code: http.StatusInternalServerError}}
}

// badParam is a fail for a malformed request parameter.
func badParam(detail string) reply {
	return fail(msgParamPrefix + detail)
}

// write sends rp as JSON with the backend's content type.
func (rp reply) write(w http.ResponseWriter) {
	body, err := json.Marshal(rp.body)
	if err != nil {
		// Only the simulator's own structs are encoded, so this is a bug.
		http.Error(w, "sim: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(rp.status)
	w.Write(body)
}

const jsonContentType = "application/json;charset=UTF-8"

// ServeHTTP answers the 13 documented endpoints and GET /img/{file}.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, coverPrefix) {
		s.serveCover(w, r)
		return
	}
	rt, params, found := matchRoute(r.URL.Path)
	if !found {
		reply{http.StatusNotFound, envelope{Msg: ptr(msgNotFound), Code: http.StatusNotFound}}.write(w)
		return
	}

	s.mu.Lock()
	s.calls[rt.ep]++
	s.mu.Unlock()

	// Constant-time like any secret comparison, even in a fake, since code
	// tends to be copied from here.
	got := r.Header.Get("X-Api-Key")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.key)) != 1 {
		reply{http.StatusOK, envelope{Msg: ptr(msgUnauth), Code: http.StatusUnauthorized}}.write(w)
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		reply{http.StatusMethodNotAllowed, envelope{Msg: ptr(msgBadMethod), Code: http.StatusMethodNotAllowed}}.write(w)
		return
	}

	// Read the body now, as a gateway would before forwarding: net/http only
	// notices a client hanging up once the body is consumed, and Latency must
	// end early when it does.
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			badParam("请求体读取失败").write(w)
			return
		}
		r = r.WithContext(r.Context()) // a shallow copy: handlers must not modify their request
		r.Body = io.NopCloser(bytes.NewReader(body))
	}

	fault, faulted := s.takeFault(rt.ep)
	if faulted && fault.Latency > 0 {
		t := time.NewTimer(fault.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client has gone; nobody reads an answer
		}
	}
	if faulted && fault.fails() && !fault.AfterApply {
		fault.write(w)
		return
	}
	rp := s.handle(rt.ep, r, params)
	if faulted && fault.fails() {
		fault.write(w)
		return
	}
	rp.write(w)
}

// handle dispatches to the endpoint's handler.
func (s *Simulator) handle(ep Endpoint, r *http.Request, params []string) reply {
	switch ep {
	case EpList:
		return s.handleList(r)
	case EpDetails:
		return s.handleDetails(params[0])
	case EpCreate:
		return s.handleCreate(r)
	case EpRestart:
		return s.handleRestart(params[0])
	case EpStop:
		return s.handleStop(params[0])
	case EpTimedStop:
		return s.handleTimedStop(r, params[0])
	case EpDestroy:
		return s.handleDestroy(params[0])
	case EpLinks:
		return s.handleLinks(params[0], params[1])
	case EpImages:
		return s.handleImages(r)
	case EpImageInfo:
		return s.handleImageInfo(params[0])
	case EpGPUConfig:
		return s.handleGPUConfig(r)
	case EpPrice:
		return s.handlePrice(r)
	case EpBalance:
		return s.handleBalance()
	default:
		// Unreachable while routes and this switch agree.
		return reply{http.StatusNotFound, envelope{Msg: ptr(msgNotFound), Code: http.StatusNotFound}}
	}
}
