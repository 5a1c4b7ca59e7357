package sim_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

// docAppKeys are the keys of one openApplication element, from the doc.
var docAppKeys = []string{
	"startTime", "aId", "aApplicationName", "aContainerId", "aStatus", "aSystem", "aBillingMode",
	"sRentalPrice", "sConsume", "aImageId", "imageTitle", "cpuModel", "aGpuNumbers", "aSystemDisk",
	"aDataDisk", "aSort", "gpuModel", "cpuCores", "gpuMemorySize", "memorySize", "createTime", "stopTime",
}

// docDetailsKeys are the keys of openApplicationDetails' data: appLink added,
// and no startTime, exactly as the doc's sample and table.
var docDetailsKeys = append(slices.DeleteFunc(slices.Clone(docAppKeys), func(k string) bool { return k == "startTime" }), "appLink")

// docImageKeys are the keys of one openListByUser element.
var docImageKeys = []string{
	"createBy", "createTime", "updateBy", "updateTime", "remark", "id", "typeId", "authorId", "coverImg",
	"coverImgUrl", "title", "likeNum", "like", "likeTime", "description", "ports", "fileDirectory",
	"runningTime", "status", "systemType", "isAppOnly", "orderNum", "imageSize", "price",
}

// docImageInfoKeys are the keys of openGetInfoById's data.
var docImageInfoKeys = []string{
	"createBy", "createTime", "updateBy", "updateTime", "remark", "id", "typeId", "authorId", "coverImg",
	"title", "likeNum", "like", "likeTime", "description", "ports", "fileDirectory", "runningTime", "status",
	"systemType", "isAppOnly", "sysUser", "orderNum", "imageSize", "originalImageId", "fromContainerName",
	"applicationImageType", "price", "coverImgUrl", "applicationId", "originalImageName", "isShare", "typeIds",
	"contentOfFourses", "worksShow",
}

var id19 = regexp.MustCompile(`^[1-9][0-9]{18}$`)

func TestEndpoints(t *testing.T) {
	eps := sim.Endpoints()
	if len(eps) != 13 {
		t.Fatalf("Endpoints() has %d entries, want 13", len(eps))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(eps)))) != 13 {
		t.Fatalf("Endpoints() has duplicates: %v", eps)
	}
}

// authCases is one request per endpoint, all otherwise valid.
var authCases = []struct {
	ep     sim.Endpoint
	method string
	path   string
	body   any
}{
	{sim.EpList, http.MethodGet, pList, nil},
	{sim.EpDetails, http.MethodGet, pDetails + "1899720917190184960", nil},
	{sim.EpCreate, http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0")},
	{sim.EpRestart, http.MethodPost, pRestart + "1899720917190184960", nil},
	{sim.EpStop, http.MethodPost, pStop + "1899720917190184960", nil},
	{sim.EpTimedStop, http.MethodGet, pTimedStop + "1899720917190184960?stopTime=2030-01-01%2000:00:00", nil},
	{sim.EpDestroy, http.MethodPost, pDestroy + "1899720917190184960", nil},
	{sim.EpLinks, http.MethodPost, pLinks + "1/1899720917190184960", nil},
	{sim.EpImages, http.MethodGet, pImages, nil},
	{sim.EpImageInfo, http.MethodGet, pImageInfo + "6", nil},
	{sim.EpGPUConfig, http.MethodGet, pGPUConfig + "?imageId=5", nil},
	{sim.EpPrice, http.MethodGet, pPrice + "?gpuModel=3060&gpuCount=1&billingMode=0&cycle=0", nil},
	{sim.EpBalance, http.MethodGet, pBalance, nil},
}

func TestAuth(t *testing.T) {
	e := newEnv(t, sim.Options{})
	before := e.sim.Apps()
	for _, key := range []string{"", "wrong-key", testKey + "x"} {
		for _, c := range authCases {
			t.Run(string(c.ep)+"/key="+key, func(t *testing.T) {
				calls := e.sim.Calls(c.ep)
				r := e.request(key, c.method, c.path, c.body)
				if r.status != http.StatusOK || r.code() != 401 || r.msg() != "认证失败，无法访问系统资源" {
					t.Fatalf("HTTP %d body %s", r.status, r.raw)
				}
				if _, has := r.body["data"]; has {
					t.Fatalf("401 answer has data: %s", r.raw)
				}
				if got := e.sim.Calls(c.ep); got != calls+1 {
					t.Fatalf("Calls(%s) = %d, want %d", c.ep, got, calls+1)
				}
			})
		}
	}
	if after := e.sim.Apps(); !slices.Equal(before, after) {
		t.Fatalf("unauthorised requests changed state:\n%v\n%v", before, after)
	}
	if got, want := e.sim.TotalCalls(), 3*len(authCases); got != want {
		t.Fatalf("TotalCalls = %d, want %d", got, want)
	}
	e.sim.ResetCalls()
	if e.sim.TotalCalls() != 0 || e.sim.Calls(sim.EpList) != 0 {
		t.Fatal("ResetCalls left counts")
	}
}

func TestDefaultKeyIsDemoKey(t *testing.T) {
	s := sim.New(sim.Options{Empty: true})
	r := httptestRequest(t, s, sim.DemoKey, pBalance)
	if !strings.Contains(r, `"code":200`) {
		t.Fatalf("DemoKey refused: %s", r)
	}
}

// httptestRequest runs one GET against h without a server and returns the body.
func httptestRequest(t *testing.T, h http.Handler, key, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://sim"+path, nil)
	req.Header.Set("X-Api-Key", key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}

func TestListShapeMatchesDocSample(t *testing.T) {
	e := newEnv(t, sim.Options{})
	data := e.okCall(http.MethodGet, pList, nil).body["data"].([]any)
	if len(data) != 4 {
		t.Fatalf("demo list has %d apps, want 4", len(data))
	}
	for _, it := range data {
		app := it.(map[string]any)
		wantKeys(t, "list element", app, docAppKeys)
		if !id19.MatchString(app["aId"].(string)) {
			t.Fatalf("aId %v is not a 19-digit string", app["aId"])
		}
		for _, k := range []string{"aStatus", "aSystem", "aBillingMode", "imageTitle", "createTime", "aContainerId"} {
			if _, isString := app[k].(string); !isString {
				t.Fatalf("%s = %#v, want a string", k, app[k])
			}
		}
		if app["aApplicationName"] != nil {
			t.Fatalf("aApplicationName = %v, want null", app["aApplicationName"])
		}
	}
	first := data[0].(map[string]any)
	want := map[string]string{
		"aId": "1899720917190184960", "aContainerId": "bbcbb3b2894040efb8c0de7356891d4d", "aStatus": "1",
		"aSystem": "0", "aBillingMode": "0", "imageTitle": "Stable Difussion WebUI 官方版",
		"cpuModel": "AMD EPYC 7542 32-Core Processor", "gpuModel": "4090",
		"createTime": "2025-06-01 09:58:00", "startTime": "2025-06-01 09:58:10",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	wantNums := map[string]string{
		"sRentalPrice": "1.98", "sConsume": "0.06", "aImageId": "5", "aGpuNumbers": "1", "aSystemDisk": "20971520",
		"aDataDisk": "52428800", "aSort": "0", "cpuCores": "16", "gpuMemorySize": "25165824", "memorySize": "61902684",
	}
	for k, v := range wantNums {
		if got := num(first, k); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if first["stopTime"] != nil {
		t.Errorf("stopTime = %v, want null", first["stopTime"])
	}
}

func TestDetailsShape(t *testing.T) {
	e := newEnv(t, sim.Options{})
	d := e.details("1899720917190184960")
	wantKeys(t, "details", d, docDetailsKeys)
	if d["appLink"] != "https://ayqcxbnn94uoqrg6xc2y06g0rhx2ri5qiyx1jaw:online.lightcc.cloud" {
		t.Fatalf("appLink = %v", d["appLink"])
	}
	id := e.create(6, "3090", 2, "0", "0")
	d = e.details(id)
	if !regexp.MustCompile(`^https://[a-z0-9]+:online\.lightcc\.cloud$`).MatchString(d["appLink"].(string)) {
		t.Fatalf("appLink %v not in the documented form", d["appLink"])
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(d["aContainerId"].(string)) {
		t.Fatalf("aContainerId %v", d["aContainerId"])
	}
	for k, v := range map[string]string{"aGpuNumbers": "2", "cpuCores": "32", "memorySize": "123805368", "gpuMemorySize": "25165824", "sRentalPrice": "2.76", "sConsume": "0.0"} {
		if got := num(d, k); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
}

func TestCreateAnswersIDInMsg(t *testing.T) {
	e := emptyEnv(t)
	r := e.okCall(http.MethodPost, pCreate, createBody(5, "4090", 1, "0", "0"))
	wantKeys(t, "create answer", r.body, []string{"msg", "code"})
	if !id19.MatchString(r.msg()) {
		t.Fatalf("msg %q is not a 19-digit id", r.msg())
	}
	if !strings.HasPrefix(string(r.raw), `{"msg":`) {
		t.Fatalf("create answer not in the documented order: %s", r.raw)
	}
	second := e.create(5, "4090", 1, "0", "0")
	if second == r.msg() {
		t.Fatal("two creates answered the same id")
	}
	if _, err := e.details(second)["aId"].(string); !err {
		t.Fatal("aId is not a string")
	}
}

func TestActionAnswers(t *testing.T) {
	e := emptyEnv(t)
	id := e.create(5, "4090", 1, "0", "0")
	e.clock.Advance(20 * time.Second)

	timed := e.okCall(http.MethodGet, pTimedStop+id+"?stopTime=2025-06-01+12:00:00", nil)
	wantKeys(t, "timed stop answer", timed.body, []string{"msg", "code"})

	links := e.okCall(http.MethodPost, pLinks+"1/"+id, nil).body["data"].(map[string]any)
	wantKeys(t, "links", links, []string{"domainName", "dynamicUrl"})
	if links["domainName"] != "ccksan.lightcc.cloud" || !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(links["dynamicUrl"].(string)) {
		t.Fatalf("links = %v", links)
	}
	again := e.okCall(http.MethodPost, pLinks+"1/"+id, nil).body["data"].(map[string]any)
	other := e.okCall(http.MethodPost, pLinks+"3/"+id, nil).body["data"].(map[string]any)
	if again["dynamicUrl"] != links["dynamicUrl"] || other["dynamicUrl"] == links["dynamicUrl"] {
		t.Fatalf("dynamicUrl not stable per (app, type): %v %v %v", links, again, other)
	}

	for _, path := range []string{pRestart + id, pStop + id, pDestroy + id} {
		r := e.okCall(http.MethodPost, path, nil)
		if num(r.body, "data") != "1" || r.msg() != "操作成功" {
			t.Fatalf("%s: %s", path, r.raw)
		}
		e.clock.Advance(time.Minute)
	}
}

func TestImagesShape(t *testing.T) {
	e := emptyEnv(t)
	data := e.okCall(http.MethodGet, pImages, nil).body["data"].([]any)
	if len(data) < 6 {
		t.Fatalf("catalogue has %d images, want at least 6", len(data))
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	nullCovers := 0
	for _, it := range data {
		im := it.(map[string]any)
		wantKeys(t, "image", im, docImageKeys)
		if im["createBy"] != "" || im["createTime"] != nil || im["remark"] != nil {
			t.Fatalf("list audit fields not as documented: %v", im)
		}
		url, isString := im["coverImgUrl"].(string)
		switch {
		case !isString && im["coverImgUrl"] == nil:
			nullCovers++
		case url != "http://"+host+"/img/"+im["coverImg"].(string):
			t.Fatalf("coverImgUrl %q", url)
		}
	}
	if nullCovers != 1 {
		t.Fatalf("%d images have a null coverImgUrl, want exactly 1", nullCovers)
	}
	sd := data[0].(map[string]any)
	for k, v := range map[string]any{"title": "Stable Difussion WebUI 官方版", "coverImg": "00004.png", "ports": "22,8890,8888",
		"fileDirectory": "official/xingshuai-webui:v6", "status": "1", "systemType": "0", "isAppOnly": "0",
		"likeTime": "2024-10-21T10:29:25.000+08:00", "description": "直观的图形界面,对新手用户友好。"} {
		if sd[k] != v {
			t.Errorf("%s = %v, want %v", k, sd[k], v)
		}
	}
	for k, v := range map[string]string{"id": "5", "typeId": "2", "likeNum": "142", "like": "1", "orderNum": "-1", "price": "0.0", "runningTime": "0"} {
		if got := num(sd, k); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}

	cases := []struct {
		title string
		want  int
	}{
		{"", len(data)},
		{"comfyui", 1},
		{"COMFY", 1},
		{"官方版", 2},
		{"nothing-like-this", 0},
	}
	for _, c := range cases {
		got := e.okCall(http.MethodGet, pImages+"?title="+url.QueryEscape(c.title), nil).body["data"].([]any)
		if len(got) != c.want {
			t.Errorf("title=%q: %d images, want %d", c.title, len(got), c.want)
		}
	}
}

func TestImageInfoShape(t *testing.T) {
	e := emptyEnv(t)
	d := e.okCall(http.MethodGet, pImageInfo+"6", nil).body["data"].(map[string]any)
	wantKeys(t, "image info", d, docImageInfoKeys)
	for k, v := range map[string]any{"createBy": "admin", "createTime": "2024-04-23 17:10:46", "updateBy": "18246275703",
		"updateTime": "2025-06-03 18:58:54", "coverImg": "000012.png", "title": "ComfyUI 官方版", "ports": "22,8890",
		"fileDirectory": "official/xingshuai-comfyui:v6", "description": "工作流式的Stable Diffusion图形用户界面"} {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	for _, k := range []string{"like", "likeTime", "sysUser", "imageSize", "originalImageId", "coverImgUrl", "applicationId", "isShare", "worksShow", "contentOfFourses"} {
		if d[k] != nil {
			t.Errorf("%s = %v, want null", k, d[k])
		}
	}
	if typeIDs, isList := d["typeIds"].([]any); !isList || len(typeIDs) != 0 {
		t.Errorf("typeIds = %#v, want []", d["typeIds"])
	}
	typ := d["applicationImageType"].(map[string]any)
	wantKeys(t, "applicationImageType", typ, []string{"createBy", "createTime", "updateBy", "updateTime", "remark", "id", "name", "parentId", "children", "orderNum", "status"})
	if typ["name"] != "ComfyUI" || num(typ, "id") != "4" || num(d, "price") != "0.0" {
		t.Errorf("applicationImageType = %v, price %v", typ, d["price"])
	}
}

func TestGPUConfig(t *testing.T) {
	e := newEnv(t, sim.Options{})
	data := e.okCall(http.MethodGet, pGPUConfig+"?imageId=5", nil).body["data"].([]any)
	want := []struct {
		mem, gpu, max string
		available     bool
	}{
		{"24", "4090", "8", true}, {"24", "3090", "10", true}, {"16", "4070 Ti SUPER", "8", false},
		{"12", "3060", "7", true}, {"22", "2080 Ti", "4", false}, {"40", "A100", "6", false},
	}
	if len(data) != len(want) {
		t.Fatalf("%d configs, want %d", len(data), len(want))
	}
	for i, w := range want {
		c := data[i].(map[string]any)
		wantKeys(t, "gpu config", c, []string{"gpuMemory", "available", "gpu", "maxAvailable"})
		if c["gpuMemory"] != w.mem || c["gpu"] != w.gpu || num(c, "maxAvailable") != w.max || c["available"] != w.available {
			t.Errorf("config %d = %v, want %+v", i, c, w)
		}
	}
	windows := e.okCall(http.MethodGet, pGPUConfig+"?imageId=11", nil).body["data"].([]any)
	if len(windows) == 0 || len(windows) >= len(want) {
		t.Fatalf("the Windows image offers %d GPU models, want a strict subset", len(windows))
	}

	// The demo's running 3060 holds one card: with a pool of one the model is sold out.
	e.sim.SetStock("3060", 1)
	for _, it := range e.okCall(http.MethodGet, pGPUConfig+"?imageId=5", nil).body["data"].([]any) {
		if c := it.(map[string]any); c["gpu"] == "3060" && c["available"] != false {
			t.Fatalf("3060 still available with every card held: %v", c)
		}
	}
}

func TestPrice(t *testing.T) {
	e := emptyEnv(t)
	r := e.okCall(http.MethodGet, pPrice+"?gpuModel=3060&gpuCount=1&billingMode=0&cycle=0", nil)
	if got, want := string(r.raw), `{"code":200,"msg":null,"data":{"3060":0.62,"discountPrice":0.01,"gpuModelPrice":0.63}}`; got != want {
		t.Fatalf("price answer\n got %s\nwant %s", got, want)
	}
	cases := []struct {
		query                       string
		key, actual, disc, original string
	}{
		{"gpuModel=4090&gpuCount=1&billingMode=0&cycle=0", "4090", "1.98", "0.0", "1.98"},
		{"gpuModel=4090&gpuCount=2&billingMode=0&cycle=0", "4090", "3.96", "0.0", "3.96"},
		{"gpuModel=3060&gpuCount=1&billingMode=1&cycle=1", "3060", "12.85", "2.27", "15.12"},
		{"gpuModel=4090&gpuCount=1&billingMode=2&cycle=1", "4090", "249.48", "83.16", "332.64"},
		{"gpuModel=3090&gpuCount=1&billingMode=3&cycle=2", "3090", "1291.68", "695.52", "1987.2"},
		{"gpuModel=A100&gpuCount=1&billingMode=4&cycle=1", "A100", "17432.4", "17432.4", "34864.8"},
		{"gpuModel=4070+Ti+SUPER&gpuCount=1&billingMode=0&cycle=0", "4070 Ti SUPER", "1.28", "0.0", "1.28"},
	}
	for _, c := range cases {
		d := e.okCall(http.MethodGet, pPrice+"?"+c.query, nil).body["data"].(map[string]any)
		wantKeys(t, c.query, d, []string{c.key, "discountPrice", "gpuModelPrice"})
		if num(d, c.key) != c.actual || num(d, "discountPrice") != c.disc || num(d, "gpuModelPrice") != c.original {
			t.Errorf("%s: %v, want %s/%s/%s", c.query, d, c.actual, c.disc, c.original)
		}
	}
}

func TestBalance(t *testing.T) {
	e := emptyEnv(t)
	r := e.okCall(http.MethodGet, pBalance, nil)
	if got, want := string(r.raw), `{"code":200,"msg":"查询成功","data":{"balance":99.99,"voucher":216.22,"hashrateBalance":237972}}`; got != want {
		t.Fatalf("balance answer\n got %s\nwant %s", got, want)
	}
	e.sim.SetBalance(5)
	if got := e.balance(); got != "5.0" {
		t.Fatalf("balance after SetBalance(5) = %s", got)
	}
	start := 12.5
	e2 := newEnv(t, sim.Options{Empty: true, Balance: &start})
	if got := e2.balance(); got != "12.5" {
		t.Fatalf("Options.Balance ignored: %s", got)
	}
}

func TestTimesInLocation(t *testing.T) {
	e := newEnv(t, sim.Options{Empty: true, Location: time.UTC})
	id := e.create(5, "4090", 1, "0", "0")
	if got := e.details(id)["createTime"]; got != "2025-06-01 02:00:00" {
		t.Fatalf("createTime in UTC = %v", got)
	}
	// stopTime is read in the same zone: 02:30 UTC is after now (02:00 UTC).
	e.clock.Advance(20 * time.Second)
	e.okCall(http.MethodGet, pTimedStop+id+"?stopTime=2025-06-01+02:30:00", nil)

	sh := emptyEnv(t)
	id = sh.create(5, "4090", 1, "0", "0")
	if got := sh.details(id)["createTime"]; got != "2025-06-01 10:00:00" {
		t.Fatalf("createTime in Asia/Shanghai = %v", got)
	}
}

func TestMethodAndPath(t *testing.T) {
	e := newEnv(t, sim.Options{})
	cases := []struct {
		method, path string
		status, code int
	}{
		{http.MethodPost, pList, 405, 405},
		{http.MethodGet, pCreate, 405, 405},
		{http.MethodGet, pStop + "1899720917190184960", 405, 405},
		{http.MethodPost, pTimedStop + "1899720917190184960", 405, 405},
		{http.MethodGet, pLinks + "1/1899720917190184960", 405, 405},
		{http.MethodPost, pBalance, 405, 405},
		{http.MethodGet, "/equipment/deviceServer/nothing", 404, 404},
		{http.MethodGet, pDetails, 404, 404},
		{http.MethodGet, pList + "/", 404, 404},
		{http.MethodPost, pLinks + "1899720917190184960", 404, 404},
		{http.MethodGet, pImageInfo + "6/7", 404, 404},
	}
	for _, c := range cases {
		r := e.call(c.method, c.path, nil)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s %s: HTTP %d body %s, want %d/%d", c.method, c.path, r.status, r.raw, c.status, c.code)
		}
		if c.status == 405 && r.msg() != "请求方式不支持" {
			t.Errorf("%s %s: msg %q", c.method, c.path, r.msg())
		}
	}
	if e.sim.Apps()[0].Status != "1" {
		t.Fatal("a refused request changed state")
	}
}
