package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Application status codes, as the API sends them.
const (
	stCreating   = "0" // 创建中
	stRunning    = "1" // 运行中
	stStopped    = "2" // 关机
	stStarting   = "3" // 启动中
	stStopping   = "4" // 关机中
	stUnknown    = "5" // 未知
	stDestroyed  = "6" // 销毁
	stError      = "7" // 异常
	stRestarting = "8" // 重启中
)

// payAsYouGo is billing mode "0"; "1".."4" are packages paid up front.
const payAsYouGo = "0"

// wireTime is the layout of every application time on the wire.
const wireTime = "2006-01-02 15:04:05"

// app is one application and everything needed to move it along in time.
type app struct {
	id          string
	seq         int
	name        *string
	containerID string
	appLink     string
	links       map[string]string // link type → dynamicUrl, stable once handed out

	image  imageSpec
	gpu    gpuSpec
	gpus   int
	status string

	billing     string
	cycle       int
	rentalPrice float64 // per hour for pay-as-you-go, the package total otherwise
	consume     float64

	created   time.Time
	started   *time.Time
	stopped   *time.Time
	due       time.Time  // when the current transitional status ends
	timedStop *time.Time // requested by openTimedStopApplication
	expires   *time.Time // packages only
}

// holdsCards reports whether the app's GPUs are taken from the pool. A
// stopped or failed app gives its cards back, which is why starting it again
// can fail for lack of stock.
func (a *app) holdsCards() bool {
	switch a.status {
	case stCreating, stRunning, stStarting, stStopping, stRestarting:
		return true
	}
	return false
}

// eventKind is what happens to an app at its next event.
type eventKind int

const (
	evSettle    eventKind = iota // a transitional status ends
	evTimedStop                  // the requested stop time has come
	evExpire                     // the package has run out
)

// nextEvent returns the app's next scheduled event, never earlier than
// cursor (an overdue event happens as soon as it can).
func (a *app) nextEvent(cursor time.Time) (time.Time, eventKind, bool) {
	var at time.Time
	var kind eventKind
	found := false
	consider := func(t time.Time, k eventKind) {
		if !found || t.Before(at) {
			at, kind, found = t, k, true
		}
	}
	switch a.status {
	case stCreating, stStarting, stRestarting:
		consider(a.due, evSettle)
		if a.expires != nil {
			consider(*a.expires, evExpire)
		}
	case stStopping:
		consider(a.due, evSettle)
	case stRunning:
		// A timed stop that fell due while the app was still starting waits
		// for it to run, then fires at once.
		if a.timedStop != nil {
			consider(*a.timedStop, evTimedStop)
		}
		if a.expires != nil {
			consider(*a.expires, evExpire)
		}
	}
	if found && at.Before(cursor) {
		at = cursor
	}
	return at, kind, found
}

// beginStop moves the app to 关机中 at t.
func (s *Simulator) beginStop(a *app, t time.Time) {
	a.status = stStopping
	a.due = t.Add(s.delays.Stop)
	a.timedStop = nil
}

// fire applies the app's event at t.
func (s *Simulator) fire(a *app, kind eventKind, t time.Time) {
	switch kind {
	case evSettle:
		if a.status == stStopping {
			a.status = stStopped
			a.stopped = ptr(t)
			a.timedStop = nil
			return
		}
		a.status = stRunning
		a.started = ptr(t)
	case evTimedStop, evExpire:
		s.beginStop(a, t)
	}
}

// sortedApps returns the apps newest first, the order the list shows them in.
func (s *Simulator) sortedApps() []*app {
	out := make([]*app, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *app) int {
		if c := y.created.Compare(x.created); c != 0 {
			return c
		}
		return cmp.Compare(y.seq, x.seq)
	})
	return out
}

// burnRate is what the running pay-as-you-go apps cost per hour together.
func (s *Simulator) burnRate() float64 {
	var rate float64
	for _, a := range s.apps {
		if a.billing == payAsYouGo && a.status == stRunning {
			rate += a.rentalPrice
		}
	}
	return rate
}

// accrue bills the running pay-as-you-go apps from the cursor up to t.
func (s *Simulator) accrue(t time.Time) {
	if !t.After(s.cursor) {
		return
	}
	hours := t.Sub(s.cursor).Hours()
	for _, a := range s.apps {
		if a.billing == payAsYouGo && a.status == stRunning {
			cost := a.rentalPrice * hours
			a.consume += cost
			s.balance -= cost
		}
	}
	s.cursor = t
}

// advance processes everything due up to the clock's now, in time order:
// status transitions, timed stops, package expiry, billing, and the stop of
// every pay-as-you-go app when the balance runs out. It runs at the start of
// every request so that the clock alone decides the state; s.mu must be held.
func (s *Simulator) advance() time.Time {
	now := s.clock.Now()
	if now.Before(s.cursor) {
		// The clock went backwards; processed history stays as it is.
		now = s.cursor
	}
	for {
		target := now

		var next *app
		var nextAt time.Time
		var nextKind eventKind
		for _, a := range s.sortedApps() {
			at, kind, found := a.nextEvent(s.cursor)
			if found && (next == nil || at.Before(nextAt) || (at.Equal(nextAt) && a.seq < next.seq)) {
				next, nextAt, nextKind = a, at, kind
			}
		}
		if next != nil && nextAt.Before(target) {
			target = nextAt
		}

		depleted := false
		// A balance lasting over a century cannot run out before now in any
		// sensible test, and the cut-off keeps time.Duration from overflowing.
		if rate := s.burnRate(); rate > 0 && s.balance/rate < 1e6 {
			hours := max(s.balance/rate, 0)
			runsOut := s.cursor.Add(time.Duration(hours * float64(time.Hour)))
			if !runsOut.After(target) {
				target, depleted = runsOut, true
			}
		}

		s.accrue(target)
		if depleted {
			s.balance = 0
			for _, a := range s.apps {
				if a.billing == payAsYouGo && a.status == stRunning {
					s.beginStop(a, target)
				}
			}
			continue
		}
		if next != nil && !nextAt.After(target) {
			s.fire(next, nextKind, target)
			continue
		}
		return now
	}
}

// freeCards is how many cards of model nobody holds.
func (s *Simulator) freeCards(model string) int {
	free := s.stock[model]
	for _, a := range s.apps {
		if a.gpu.Model == model && a.holdsCards() {
			free -= a.gpus
		}
	}
	return free
}

// snowflakeEpoch is the epoch of the backend's ids (MyBatis-Plus IdWorker):
// the documentation's sample id decodes to a March 2025 timestamp with it.
const snowflakeEpoch = 1288834974657

// newID returns a fresh 19-digit id in the backend's snowflake layout.
func (s *Simulator) newID(now time.Time) string {
	id := (now.UnixMilli()-snowflakeEpoch)<<22 | 1<<12 // worker 1, as in the sample
	const smallest19 = 1_000_000_000_000_000_000
	id = max(id, s.lastID+1, smallest19)
	for {
		if _, taken := s.apps[strconv.FormatInt(id, 10)]; !taken {
			break
		}
		id++
	}
	s.lastID = id
	return strconv.FormatInt(id, 10)
}

// randomString returns n characters drawn from alphabet.
func (s *Simulator) randomString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	hexDigits     = "0123456789abcdef"
	lowerAlphaNum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// newApp fills in everything an application gets at creation.
func (s *Simulator) newApp(id string, im imageSpec, g gpuSpec, gpus int, billing string, cycle int, created time.Time) *app {
	if id == "" {
		id = s.newID(created)
	}
	s.appSeq++
	a := &app{
		id:          id,
		seq:         s.appSeq,
		containerID: s.randomString(32, hexDigits),
		appLink:     "https://" + s.randomString(39, lowerAlphaNum) + ":online.lightcc.cloud",
		links:       make(map[string]string),
		image:       im,
		gpu:         g,
		gpus:        gpus,
		status:      stCreating,
		billing:     billing,
		cycle:       cycle,
		created:     created,
		due:         created.Add(s.delays.Create),
	}
	q := priceFor(g, gpus, billing, cycle)
	a.rentalPrice = q.Actual
	if billing != payAsYouGo {
		a.consume = q.Actual
		a.expires = ptr(created.Add(time.Duration(cycle*billingPlans[billing].Hours) * time.Hour))
	}
	s.apps[id] = a
	return a
}

// formatTime renders t for the wire in the simulator's zone.
func (s *Simulator) formatTime(t time.Time) string {
	return t.In(s.loc).Format(wireTime)
}

// formatTimePtr is formatTime for nullable times.
func (s *Simulator) formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return ptr(s.formatTime(*t))
}

// toWire renders the app as the list shows it.
func (s *Simulator) toWire(a *app) wireApp {
	return wireApp{
		StartTime:        s.formatTimePtr(a.started),
		AID:              a.id,
		AApplicationName: a.name,
		AContainerID:     a.containerID,
		AStatus:          a.status,
		ASystem:          a.image.SystemType,
		ABillingMode:     a.billing,
		SRentalPrice:     decimal(a.rentalPrice),
		SConsume:         decimal(a.consume),
		AImageID:         a.image.ID,
		ImageTitle:       a.image.Title,
		CPUModel:         cpuModel,
		AGpuNumbers:      a.gpus,
		ASystemDisk:      systemDiskKB,
		ADataDisk:        dataDiskKB,
		ASort:            0,
		GPUModel:         a.gpu.Model,
		CPUCores:         cpuCoresPerGPU * a.gpus,
		GPUMemorySize:    int64(a.gpu.MemoryGB) * kbPerGB,
		MemorySize:       memoryKBPerGPU * int64(a.gpus),
		CreateTime:       s.formatTime(a.created),
		StopTime:         s.formatTimePtr(a.stopped),
	}
}

// toWireDetails renders the app as the details endpoint shows it.
func (s *Simulator) toWireDetails(a *app) wireAppDetails {
	w := s.toWire(a)
	return wireAppDetails{
		AppLink:          a.appLink,
		AID:              w.AID,
		AApplicationName: w.AApplicationName,
		AContainerID:     w.AContainerID,
		AStatus:          w.AStatus,
		ASystem:          w.ASystem,
		ABillingMode:     w.ABillingMode,
		SRentalPrice:     w.SRentalPrice,
		SConsume:         w.SConsume,
		AImageID:         w.AImageID,
		ImageTitle:       w.ImageTitle,
		CPUModel:         w.CPUModel,
		AGpuNumbers:      w.AGpuNumbers,
		ASystemDisk:      w.ASystemDisk,
		ADataDisk:        w.ADataDisk,
		ASort:            w.ASort,
		GPUModel:         w.GPUModel,
		CPUCores:         w.CPUCores,
		GPUMemorySize:    w.GPUMemorySize,
		MemorySize:       w.MemorySize,
		CreateTime:       w.CreateTime,
		StopTime:         w.StopTime,
	}
}

// AppState is a snapshot of one application, for tests.
type AppState struct {
	ID          string
	ImageTitle  string
	GPUModel    string
	GPUs        int
	Status      string // "0".."8" as on the wire
	BillingMode string // "0".."4" as on the wire
	Consume     float64
}

// Apps returns every application, newest first, after processing everything
// due up to the clock's now.
func (s *Simulator) Apps() []AppState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var out []AppState
	for _, a := range s.sortedApps() {
		out = append(out, AppState{
			ID:          a.id,
			ImageTitle:  a.image.Title,
			GPUModel:    a.gpu.Model,
			GPUs:        a.gpus,
			Status:      a.status,
			BillingMode: a.billing,
			Consume:     round2(a.consume),
		})
	}
	return out
}

// NewApp describes an application for AddApp. Zero fields take defaults.
type NewApp struct {
	ID          string     // "" generates a fresh 19-digit id
	ImageID     int        // 0 means 5 (Stable Difussion WebUI)
	GPUModel    string     // "" means "4090"
	GPUs        int        // 0 means 1
	Status      string     // "" means running ("1")
	BillingMode string     // "" means pay-as-you-go ("0")
	Cycle       int        // packages only; 0 means 1
	Name        *string    // aApplicationName
	Created     time.Time  // zero means now; a creating app finishes at Created + Delays.Create
	Started     *time.Time // startTime of a running app; nil means Created
	Stopped     *time.Time // stopTime of a stopped app; nil means now
	Consume     float64    // sConsume so far; ignored for packages, which consume their total
}

// AddApp inserts an application directly in the given status, bypassing
// stock and balance checks, and returns its aId. Transitional statuses
// ("3", "4", "8") end after their delay counted from now. It panics if
// ImageID or GPUModel is not in the catalogue, since that is a broken test.
func (s *Simulator) AddApp(n NewApp) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()

	n.ImageID = cmp.Or(n.ImageID, 5)
	n.GPUModel = cmp.Or(n.GPUModel, "4090")
	n.GPUs = cmp.Or(n.GPUs, 1)
	n.Status = cmp.Or(n.Status, stRunning)
	n.BillingMode = cmp.Or(n.BillingMode, payAsYouGo)
	if n.BillingMode != payAsYouGo {
		n.Cycle = cmp.Or(n.Cycle, 1)
	} else {
		n.Cycle = 0
	}
	if n.Created.IsZero() {
		n.Created = now
	}
	im, found := findImage(n.ImageID)
	if !found {
		panic(fmt.Sprintf("sim: AddApp: no image %d in the catalogue", n.ImageID))
	}
	g, found := findGPU(n.GPUModel)
	if !found {
		panic(fmt.Sprintf("sim: AddApp: no GPU %q in the catalogue", n.GPUModel))
	}
	if _, found := billingPlans[n.BillingMode]; !found {
		panic(fmt.Sprintf("sim: AddApp: no billing mode %q", n.BillingMode))
	}

	a := s.newApp(n.ID, im, g, n.GPUs, n.BillingMode, n.Cycle, n.Created)
	a.name = n.Name
	if n.BillingMode == payAsYouGo {
		a.consume = n.Consume
	}
	a.status = n.Status
	switch n.Status {
	case stCreating:
		// due stays Created + Delays.Create.
	case stStarting:
		a.due = now.Add(s.delays.Start)
	case stStopping:
		a.due = now.Add(s.delays.Stop)
	case stRestarting:
		a.due = now.Add(s.delays.Restart)
	}
	if n.Status != stCreating {
		a.started = ptr(cmp.Or(ptrValue(n.Started), n.Created))
	}
	if n.Status == stStopped {
		a.stopped = ptr(cmp.Or(ptrValue(n.Stopped), now))
	}
	return a.id
}

// ptrValue dereferences p, giving the zero value for nil.
func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Balance returns the account balance after billing up to the clock's now.
func (s *Simulator) Balance() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	return s.balance
}

// SetBalance sets the account balance. Usage up to now is billed first, so it
// is charged against the old balance.
func (s *Simulator) SetBalance(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.balance = v
}

// SetStock sets how many cards of the GPU model the pool has in total,
// including those held by applications.
func (s *Simulator) SetStock(gpu string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.stock[gpu] = n
}
