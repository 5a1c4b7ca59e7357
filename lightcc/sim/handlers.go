package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// handleList answers openApplication, optionally filtered by runningState.
func (s *Simulator) handleList(r *http.Request) reply {
	state := r.URL.Query().Get("runningState")
	switch state {
	case "", "1", "2", "3":
	default:
		return badParam("runningState只能为1、2或3")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	data := []wireApp{} // an empty list is [], never null
	for _, a := range s.sortedApps() {
		if matchesRunningState(a, state, now) {
			data = append(data, s.toWire(a))
		}
	}
	return ok(data)
}

// matchesRunningState implements the list's filter: "1" 运行中 is every app
// that is not at rest, "2" 即将到期 a package ending within a day, "3" 即将卸载
// an app stopped for over a week.
func matchesRunningState(a *app, state string, now time.Time) bool {
	switch state {
	case "1":
		return a.holdsCards()
	case "2":
		return a.expires != nil && a.expires.After(now) && !a.expires.After(now.Add(24*time.Hour))
	case "3":
		return a.status == stStopped && a.stopped != nil && now.Sub(*a.stopped) > 7*24*time.Hour
	default:
		return true
	}
}

// handleDetails answers openApplicationDetails/{aId}.
func (s *Simulator) handleDetails(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	a, found := s.apps[id]
	if !found {
		return fail(msgNoApp)
	}
	return ok(s.toWireDetails(a))
}

// createRequest is openCreateApplication's body once validated.
type createRequest struct {
	ImageName     string
	ImageID       int
	GPUModel      string
	NumberOfGPUs  int
	BillingMethod string
	Cycle         int
}

// maxBody bounds request bodies; the create body is a few hundred bytes.
const maxBody = 1 << 20

// parseCreate reads the create body as strictly as Jackson would with type
// coercion off: every field present, strings as JSON strings, integers as
// JSON integers. It returns the problem, in Chinese, when there is one.
func parseCreate(r *http.Request) (createRequest, string) {
	var req createRequest
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return req, "Content-Type必须为application/json"
	}
	body, err := io.ReadAll(r.Body) // already bounded and buffered by ServeHTTP
	if err != nil {
		return req, "请求体读取失败"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return req, "请求体必须为JSON对象"
	}
	var problem string
	// Each reader stops at the first problem, so the reply names one field.
	str := func(key string) string {
		if problem != "" {
			return ""
		}
		raw, found := fields[key]
		if !found || string(raw) == "null" {
			problem = key + "不能为空"
			return ""
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			problem = key + "必须为字符串"
			return ""
		}
		if strings.TrimSpace(v) == "" {
			problem = key + "不能为空"
		}
		return v
	}
	integer := func(key string) int {
		if problem != "" {
			return 0
		}
		raw, found := fields[key]
		if !found || string(raw) == "null" {
			problem = key + "不能为空"
			return 0
		}
		// A JSON integer literal is exactly what Atoi accepts; strings,
		// fractions and exponents are refused.
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < -1<<31 || n > 1<<31-1 {
			problem = key + "必须为整数"
			return 0
		}
		return n
	}
	req.ImageName = str("imageName")
	req.ImageID = integer("imageId")
	req.GPUModel = str("gpuModel")
	req.NumberOfGPUs = integer("numberOfGPUs")
	req.BillingMethod = str("billingMethod")
	cycle := str("cycle")
	if problem != "" {
		return req, problem
	}
	if req.NumberOfGPUs < 1 {
		return req, "numberOfGPUs必须大于0"
	}
	if _, found := billingPlans[req.BillingMethod]; !found {
		return req, "billingMethod只能为0到4"
	}
	req.Cycle, problem = parseCycle(req.BillingMethod, cycle)
	return req, problem
}

// parseCycle checks a cycle against its billing mode: "0" for pay-as-you-go,
// a plain positive integer up to the plan's bound for a package.
func parseCycle(mode, raw string) (int, string) {
	if mode == payAsYouGo {
		if raw != "0" {
			return 0, "按量计费的cycle必须为0"
		}
		return 0, ""
	}
	plan := billingPlans[mode]
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > plan.MaxCycle || strconv.Itoa(n) != raw {
		return 0, fmt.Sprintf("cycle必须为1到%d的整数", plan.MaxCycle)
	}
	return n, ""
}

// handleCreate answers openCreateApplication: the new aId in msg, no data.
func (s *Simulator) handleCreate(r *http.Request) reply {
	req, problem := parseCreate(r)
	if problem != "" {
		return badParam(problem)
	}
	im, found := findImage(req.ImageID)
	if !found {
		return fail(msgNoImage)
	}
	g, found := findGPU(req.GPUModel)
	if !found {
		return badParam("GPU型号不存在")
	}
	if !im.offers(g.Model) || req.NumberOfGPUs > g.MaxPerMachine {
		return fail(msgNoStock)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	if s.freeCards(g.Model) < req.NumberOfGPUs {
		return fail(msgNoStock)
	}
	// Pay-as-you-go needs at least an hour's worth; a package is paid in full
	// up front.
	price := priceFor(g, req.NumberOfGPUs, req.BillingMethod, req.Cycle)
	if s.balance < price.Actual {
		return fail(msgNoBalance)
	}
	if req.BillingMethod != payAsYouGo {
		s.balance -= price.Actual
	}
	a := s.newApp("", im, g, req.NumberOfGPUs, req.BillingMethod, req.Cycle, now)
	return reply{http.StatusOK, envelope{Msg: ptr(a.id), Code: http.StatusOK}}
}

// handleRestart answers openRestartApplication/{aId}: it starts a stopped or
// failed app and restarts a running one.
func (s *Simulator) handleRestart(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	a, found := s.apps[id]
	if !found {
		return fail(msgNoApp)
	}
	switch a.status {
	case stStopped, stError:
		if a.expires != nil && !a.expires.After(now) {
			return fail(msgExpired)
		}
		if s.freeCards(a.gpu.Model) < a.gpus {
			return fail(msgNoStock)
		}
		if a.billing == payAsYouGo && s.balance < a.rentalPrice {
			return fail(msgNoBalance)
		}
		a.status = stStarting
		a.due = now.Add(s.delays.Start)
		a.stopped = nil
	case stRunning:
		a.status = stRestarting
		a.due = now.Add(s.delays.Restart)
	default:
		return fail(msgBadState)
	}
	return ok(1)
}

// handleStop answers openStopApplication/{aId}.
func (s *Simulator) handleStop(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	a, found := s.apps[id]
	if !found {
		return fail(msgNoApp)
	}
	switch a.status {
	case stRunning:
		s.beginStop(a, now)
	case stStopped:
		return fail(msgNotRunning)
	default:
		return fail(msgBadState)
	}
	return ok(1)
}

// stopTimePattern is yyyy-MM-dd HH:mm:ss with nothing around it; Go's parser
// alone would accept some things Java's SimpleDateFormat pattern would not.
var stopTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// handleTimedStop answers openTimedStopApplication/{aId}?stopTime=...: no data
// key. The stop happens when the clock passes stopTime.
func (s *Simulator) handleTimedStop(r *http.Request, id string) reply {
	raw := r.URL.Query().Get("stopTime")
	if raw == "" {
		return badParam("stopTime不能为空")
	}
	if !stopTimePattern.MatchString(raw) {
		return badParam("stopTime格式必须为yyyy-MM-dd HH:mm:ss")
	}
	t, err := time.ParseInLocation(wireTime, raw, s.loc)
	if err != nil {
		return badParam("stopTime格式必须为yyyy-MM-dd HH:mm:ss")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.advance()
	a, found := s.apps[id]
	if !found {
		return fail(msgNoApp)
	}
	switch a.status {
	case stRunning, stCreating, stStarting, stRestarting:
	case stStopped:
		return fail(msgNotRunning)
	default:
		return fail(msgBadState)
	}
	if !t.After(now) {
		return fail(msgPastStop)
	}
	a.timedStop = &t
	return ok(nil)
}

// handleDestroy answers openDestructionApplication/{aId}. The app and its
// cards are released whatever its status.
func (s *Simulator) handleDestroy(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if _, found := s.apps[id]; !found {
		return fail(msgNoApp)
	}
	delete(s.apps, id)
	return ok(1)
}

// linkDomain is the domainName of every link, as in the documentation.
const linkDomain = "ccksan.lightcc.cloud"

// handleLinks answers applicationLinks/{type}/{aId}.
func (s *Simulator) handleLinks(linkType, id string) reply {
	switch linkType {
	case "1", "2", "3": // Jupyter, Filebrowser, SD
	default:
		return badParam("type只能为1、2或3")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	a, found := s.apps[id]
	if !found {
		return fail(msgNoApp)
	}
	if a.status != stRunning {
		return fail(msgNotRunning)
	}
	prefix, found := a.links[linkType]
	if !found {
		prefix = s.randomString(13, lowerAlphaNum)
		a.links[linkType] = prefix
	}
	return ok(wireLinks{DomainName: linkDomain, DynamicURL: prefix})
}

// handleImages answers openListByUser, optionally filtered by a
// case-insensitive substring of the title.
func (s *Simulator) handleImages(r *http.Request) reply {
	title := strings.ToLower(r.URL.Query().Get("title"))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	data := []wireImage{}
	for _, im := range imageCatalogue {
		if !strings.Contains(strings.ToLower(im.Title), title) {
			continue
		}
		var coverURL *string
		if !im.NoCoverURL {
			// Point at this simulator's own object store so covers load in
			// demo mode without internet.
			coverURL = ptr(scheme + "://" + r.Host + coverPrefix + im.CoverImg)
		}
		data = append(data, wireImage{
			CreateBy:      "",
			UpdateBy:      "",
			ID:            im.ID,
			TypeID:        im.Type.ID,
			AuthorID:      1,
			CoverImg:      im.CoverImg,
			CoverImgURL:   coverURL,
			Title:         im.Title,
			LikeNum:       im.LikeNum,
			Like:          im.Like,
			LikeTime:      s.formatLikeTime(im.LikeTime),
			Description:   im.Description,
			Ports:         im.Ports,
			FileDirectory: im.FileDirectory,
			RunningTime:   0,
			Status:        "1",
			SystemType:    im.SystemType,
			IsAppOnly:     "0",
			OrderNum:      -1,
			ImageSize:     im.ImageSize,
			Price:         decimal(im.Price),
		})
	}
	return ok(data)
}

// formatLikeTime renders likeTime the way the documentation shows it: ISO
// 8601 with milliseconds and offset, unlike every other time.
func (s *Simulator) formatLikeTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return ptr(t.In(s.loc).Format("2006-01-02T15:04:05.000-07:00"))
}

// parseImageID reads an image id the way a Java Integer parameter would.
func parseImageID(raw string) (int, string) {
	if raw == "" {
		return 0, "imageId不能为空"
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < -1<<31 || n > 1<<31-1 {
		return 0, "imageId必须为整数"
	}
	return n, ""
}

// handleImageInfo answers openGetInfoById/{imageId}.
func (s *Simulator) handleImageInfo(raw string) reply {
	id, problem := parseImageID(raw)
	if problem != "" {
		return badParam(problem)
	}
	im, found := findImage(id)
	if !found {
		return fail(msgNoImage)
	}
	return ok(wireImageDetails{
		CreateBy:      im.CreateBy,
		CreateTime:    ptr(s.formatTime(im.CreateTime)),
		UpdateBy:      im.UpdateBy,
		UpdateTime:    ptr(s.formatTime(im.UpdateTime)),
		ID:            im.ID,
		TypeID:        im.Type.ID,
		AuthorID:      1,
		CoverImg:      im.CoverImg,
		Title:         im.Title,
		LikeNum:       im.LikeNum,
		Like:          im.Like,
		LikeTime:      s.formatLikeTime(im.LikeTime),
		Description:   im.Description,
		Ports:         im.Ports,
		FileDirectory: im.FileDirectory,
		RunningTime:   0,
		Status:        "1",
		SystemType:    im.SystemType,
		IsAppOnly:     "0",
		OrderNum:      -1,
		ImageSize:     im.ImageSize,
		ApplicationImageType: wireImageType{
			ID:   im.Type.ID,
			Name: im.Type.Name,
		},
		Price:   decimal(im.Price),
		TypeIDs: []int{},
	})
}

// handleGPUConfig answers openAvailableGpuConfig?imageId=N.
func (s *Simulator) handleGPUConfig(r *http.Request) reply {
	id, problem := parseImageID(r.URL.Query().Get("imageId"))
	if problem != "" {
		return badParam(problem)
	}
	im, found := findImage(id)
	if !found {
		return fail(msgNoImage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	data := []wireGPUConfig{}
	for _, g := range gpuCatalogue {
		if !im.offers(g.Model) {
			continue
		}
		data = append(data, wireGPUConfig{
			GPUMemory:    strconv.Itoa(g.MemoryGB),
			Available:    s.freeCards(g.Model) >= 1,
			GPU:          g.Model,
			MaxAvailable: g.MaxPerMachine,
		})
	}
	return ok(data)
}

// handlePrice answers getGpuPrice: msg null and the actual price under a key
// named after the model.
func (s *Simulator) handlePrice(r *http.Request) reply {
	q := r.URL.Query()
	for _, key := range []string{"gpuModel", "gpuCount", "billingMode", "cycle"} {
		if q.Get(key) == "" {
			return badParam(key + "不能为空")
		}
	}
	g, found := findGPU(q.Get("gpuModel"))
	if !found {
		return badParam("GPU型号不存在")
	}
	count, err := strconv.Atoi(q.Get("gpuCount"))
	if err != nil || count < 1 || count > g.MaxPerMachine {
		return badParam(fmt.Sprintf("gpuCount必须为1到%d的整数", g.MaxPerMachine))
	}
	mode := q.Get("billingMode")
	if _, found := billingPlans[mode]; !found {
		return badParam("billingMode只能为0到4")
	}
	cycle, problem := parseCycle(mode, q.Get("cycle"))
	if problem != "" {
		return badParam(problem)
	}
	p := priceFor(g, count, mode, cycle)
	return reply{http.StatusOK, codeFirstEnvelope{
		Code: http.StatusOK,
		Msg:  nil,
		Data: wirePrice{GPUModel: g.Model, Actual: decimal(p.Actual), DiscountPrice: decimal(p.Discount), GPUModelPrice: decimal(p.Original)},
	}}
}

// handleBalance answers openSelectBalance, after billing up to now.
func (s *Simulator) handleBalance() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	return reply{http.StatusOK, codeFirstEnvelope{
		Code: http.StatusOK,
		Msg:  ptr(msgQueryOK),
		Data: wireBalance{Balance: decimal(s.balance), Voucher: decimal(s.voucher), HashrateBalance: s.hashrate},
	}}
}
