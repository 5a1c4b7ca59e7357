package lightcc

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Status is an application's state as the API spells it: a one-digit string.
type Status string

// The documented application states.
const (
	StatusCreating   Status = "0" // 创建中
	StatusRunning    Status = "1" // 运行中
	StatusStopped    Status = "2" // 关机
	StatusStarting   Status = "3" // 启动中
	StatusStopping   Status = "4" // 关机中
	StatusUnknown    Status = "5" // 未知
	StatusDestroyed  Status = "6" // 销毁
	StatusAbnormal   Status = "7" // 异常
	StatusRestarting Status = "8" // 重启中
)

var statusKeys = map[Status]string{
	StatusCreating:   "creating",
	StatusRunning:    "running",
	StatusStopped:    "stopped",
	StatusStarting:   "starting",
	StatusStopping:   "stopping",
	StatusUnknown:    "unknown",
	StatusDestroyed:  "destroyed",
	StatusAbnormal:   "abnormal",
	StatusRestarting: "restarting",
}

// Valid reports whether s is one of the documented states.
func (s Status) Valid() bool { _, ok := statusKeys[s]; return ok }

// Key is a stable ASCII name for the state ("running"), used for message
// keys and CSS classes; an undocumented code maps to "unknown".
func (s Status) Key() string {
	if k, ok := statusKeys[s]; ok {
		return k
	}
	return "unknown"
}

// LabelKey is the message-catalogue key of the state's label.
func (s Status) LabelKey() string { return "status." + s.Key() }

// Transitional reports whether the state changes by itself soon, which is
// when a page should keep polling it.
func (s Status) Transitional() bool {
	switch s {
	case StatusCreating, StatusStarting, StatusStopping, StatusRestarting:
		return true
	default:
		return false
	}
}

// BillingMode is how an application is paid for: "0" pay-as-you-go, then
// daily, weekly, monthly and yearly packages.
type BillingMode string

// The documented billing modes.
const (
	BillingPayAsYouGo BillingMode = "0" // 按量计费
	BillingDaily      BillingMode = "1" // 包天
	BillingWeekly     BillingMode = "2" // 包周
	BillingMonthly    BillingMode = "3" // 包月
	BillingYearly     BillingMode = "4" // 包年
)

var billingKeys = map[BillingMode]string{
	BillingPayAsYouGo: "payg",
	BillingDaily:      "daily",
	BillingWeekly:     "weekly",
	BillingMonthly:    "monthly",
	BillingYearly:     "yearly",
}

// BillingModes lists the documented modes in their documented order.
func BillingModes() []BillingMode {
	return []BillingMode{BillingPayAsYouGo, BillingDaily, BillingWeekly, BillingMonthly, BillingYearly}
}

// Valid reports whether m is one of the documented modes.
func (m BillingMode) Valid() bool { _, ok := billingKeys[m]; return ok }

// IsPackage reports whether m is a prepaid package (every mode but pay-as-you-go).
func (m BillingMode) IsPackage() bool { return m.Valid() && m != BillingPayAsYouGo }

// LabelKey is the message-catalogue key of the mode's label.
func (m BillingMode) LabelKey() string {
	if k, ok := billingKeys[m]; ok {
		return "billing." + k
	}
	return "billing.unknown"
}

// System is the operating system of an image or application: "0" Linux, "1" Windows.
type System string

// The documented systems.
const (
	SystemLinux   System = "0"
	SystemWindows System = "1"
)

// LabelKey is the message-catalogue key of the system's label.
func (s System) LabelKey() string {
	switch s {
	case SystemLinux:
		return "system.linux"
	case SystemWindows:
		return "system.windows"
	default:
		return "system.unknown"
	}
}

// RunningState filters the application list: "" all, "1" running, "2" about
// to expire, "3" about to be uninstalled.
type RunningState string

// The documented list filters.
const (
	RunningAll          RunningState = ""
	RunningActive       RunningState = "1" // 运行中
	RunningExpiring     RunningState = "2" // 即将到期
	RunningUninstalling RunningState = "3" // 即将卸载
)

// Valid reports whether r is a documented filter (the empty filter included).
func (r RunningState) Valid() bool {
	switch r {
	case RunningAll, RunningActive, RunningExpiring, RunningUninstalling:
		return true
	default:
		return false
	}
}

// LabelKey is the message-catalogue key of the filter's label.
func (r RunningState) LabelKey() string {
	switch r {
	case RunningActive:
		return "filter.running"
	case RunningExpiring:
		return "filter.expiring"
	case RunningUninstalling:
		return "filter.uninstalling"
	default:
		return "filter.all"
	}
}

// LinkType selects which service of an application a link opens.
type LinkType string

// The documented link types.
const (
	LinkJupyter     LinkType = "1"
	LinkFilebrowser LinkType = "2"
	LinkSD          LinkType = "3"
)

// Valid reports whether t is a documented link type.
func (t LinkType) Valid() bool { return t == LinkJupyter || t == LinkFilebrowser || t == LinkSD }

// LabelKey is the message-catalogue key of the link's label.
func (t LinkType) LabelKey() string {
	switch t {
	case LinkJupyter:
		return "link.jupyter"
	case LinkFilebrowser:
		return "link.filebrowser"
	case LinkSD:
		return "link.webui"
	default:
		return "link.unknown"
	}
}

// KB is a size as the API gives it, in kilobytes (KiB).
type KB int64

// GiB converts the size to gibibytes.
func (k KB) GiB() float64 { return float64(k) / (1024 * 1024) }

// Money is an amount in fen (hundredths of a yuan), so sums stay exact. It
// decodes from the API's decimal numbers, rounding to the nearest fen.
type Money int64

// Yuan returns the amount in yuan.
func (m Money) Yuan() float64 { return float64(m) / 100 }

// MoneyFromYuan rounds a yuan amount to the nearest fen.
func MoneyFromYuan(y float64) Money { return Money(math.Round(y * 100)) }

// String renders the amount with two decimals and no currency sign.
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// UnmarshalJSON reads a JSON number (or null, as zero).
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*m = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return fmt.Errorf("lightcc: money %q is not a number", s)
	}
	*m = MoneyFromYuan(f)
	return nil
}

// MarshalJSON writes the amount as a decimal number of yuan.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// DateTimeLayout is the API's time format (yyyy-MM-dd HH:mm:ss, 24-hour).
const DateTimeLayout = "2006-01-02 15:04:05"

// DateTime is a wall-clock time as the API writes it, without a zone; null
// decodes to the zero value. The zone is the platform's (see Client.Location).
type DateTime string

// IsZero reports whether the API gave no time.
func (d DateTime) IsZero() bool { return d == "" }

// In parses the time as a wall clock in loc. ok is false when the API gave
// no time or one that does not parse.
func (d DateTime) In(loc *time.Location) (t time.Time, ok bool) {
	if d == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(DateTimeLayout, string(d), loc)
	return t, err == nil
}

// Application is one rented container, as the list endpoint describes it.
type Application struct {
	StartTime   DateTime    `json:"startTime"`
	ID          string      `json:"aId"`
	Name        *string     `json:"aApplicationName"`
	ContainerID string      `json:"aContainerId"`
	Status      Status      `json:"aStatus"`
	System      System      `json:"aSystem"`
	BillingMode BillingMode `json:"aBillingMode"`
	RentalPrice Money       `json:"sRentalPrice"`
	Consume     Money       `json:"sConsume"`
	ImageID     int64       `json:"aImageId"`
	ImageTitle  string      `json:"imageTitle"`
	CPUModel    string      `json:"cpuModel"`
	GPUs        int         `json:"aGpuNumbers"`
	SystemDisk  KB          `json:"aSystemDisk"`
	DataDisk    KB          `json:"aDataDisk"`
	Sort        int         `json:"aSort"`
	GPUModel    string      `json:"gpuModel"`
	CPUCores    int         `json:"cpuCores"`
	GPUMemory   KB          `json:"gpuMemorySize"`
	Memory      KB          `json:"memorySize"`
	CreateTime  DateTime    `json:"createTime"`
	StopTime    DateTime    `json:"stopTime"`
}

// DisplayName is the application's own name when it has one, else its image's title.
func (a Application) DisplayName() string {
	if a.Name != nil && strings.TrimSpace(*a.Name) != "" {
		return *a.Name
	}
	return a.ImageTitle
}

// ApplicationDetails is what the details endpoint adds to an Application.
type ApplicationDetails struct {
	Application
	AppLink string `json:"appLink"`
}

// Image is one entry of the image catalogue, as the list endpoint gives it.
type Image struct {
	CreateBy      string   `json:"createBy"`
	CreateTime    DateTime `json:"createTime"`
	UpdateBy      string   `json:"updateBy"`
	UpdateTime    DateTime `json:"updateTime"`
	Remark        *string  `json:"remark"`
	ID            int64    `json:"id"`
	TypeID        int64    `json:"typeId"`
	AuthorID      int64    `json:"authorId"`
	CoverImg      string   `json:"coverImg"`
	CoverImgURL   *string  `json:"coverImgUrl"`
	Title         string   `json:"title"`
	LikeNum       int64    `json:"likeNum"`
	Like          *int     `json:"like"`
	LikeTime      *string  `json:"likeTime"`
	Description   string   `json:"description"`
	Ports         string   `json:"ports"`
	FileDirectory string   `json:"fileDirectory"`
	RunningTime   int64    `json:"runningTime"`
	Status        string   `json:"status"`
	SystemType    System   `json:"systemType"`
	IsAppOnly     string   `json:"isAppOnly"`
	OrderNum      int64    `json:"orderNum"`
	ImageSize     *int64   `json:"imageSize"`
	Price         Money    `json:"price"`
}

// ImageType is the category object the image details carry.
type ImageType struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	ParentID *int64  `json:"parentId"`
	OrderNum *int64  `json:"orderNum"`
	Status   *string `json:"status"`
}

// ImageDetails is the fuller description from the image-info endpoint.
type ImageDetails struct {
	Image
	SysUser              *string    `json:"sysUser"`
	OriginalImageID      *int64     `json:"originalImageId"`
	FromContainerName    *string    `json:"fromContainerName"`
	ApplicationImageType *ImageType `json:"applicationImageType"`
	ApplicationID        *int64     `json:"applicationId"`
	OriginalImageName    *string    `json:"originalImageName"`
	IsShare              *int       `json:"isShare"`
	TypeIDs              []int64    `json:"typeIds"`
	ContentOfFourses     *string    `json:"contentOfFourses"`
	WorksShow            *string    `json:"worksShow"`
}

// GPUConfig is one GPU model an image can run on.
type GPUConfig struct {
	GPUMemory    string `json:"gpuMemory"` // GB, as a decimal string
	Available    bool   `json:"available"`
	GPU          string `json:"gpu"`
	MaxAvailable int    `json:"maxAvailable"`
}

// MemoryGB parses the card's memory; ok is false when the API sent something
// that is not a whole number.
func (g GPUConfig) MemoryGB() (gb int, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(g.GPUMemory))
	return n, err == nil && n >= 0
}

// CreateRequest is the body of a create call, with the documented field names.
type CreateRequest struct {
	ImageName     string      `json:"imageName"`
	ImageID       int64       `json:"imageId"`
	GPUModel      string      `json:"gpuModel"`
	NumberOfGPUs  int         `json:"numberOfGPUs"`
	BillingMethod BillingMode `json:"billingMethod"`
	Cycle         string      `json:"cycle"`
}

// PriceQuery asks for the price of a GPU choice.
type PriceQuery struct {
	GPUModel    string
	GPUCount    int
	BillingMode BillingMode
	Cycle       string // "0" for pay-as-you-go, else the number of periods
}

// PriceQuote is a price as the API quotes it. Actual is what will be charged
// (per hour for pay-as-you-go, the whole package otherwise); Original is the
// list price and Discount the difference.
type PriceQuote struct {
	GPUModel string
	Actual   Money
	Discount Money
	Original Money
}

// Discounted reports whether the quote is below the list price.
func (q PriceQuote) Discounted() bool { return q.Discount > 0 && q.Original > q.Actual }

// decodePriceQuote reads the quote's odd shape: the actual price sits under a
// key named after the GPU model, beside discountPrice and gpuModelPrice.
func decodePriceQuote(data []byte, model string) (PriceQuote, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return PriceQuote{}, err
	}
	q := PriceQuote{GPUModel: model}
	fields := []struct {
		key string
		dst *Money
	}{{model, &q.Actual}, {"discountPrice", &q.Discount}, {"gpuModelPrice", &q.Original}}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok {
			return PriceQuote{}, fmt.Errorf("price quote has no %q", f.key)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return PriceQuote{}, fmt.Errorf("price quote %q: %w", f.key, err)
		}
	}
	return q, nil
}

// Balance is the account's money.
type Balance struct {
	Balance         Money   `json:"balance"`
	Voucher         Money   `json:"voucher"`
	HashrateBalance float64 `json:"hashrateBalance"`
}

// Link is where a service of an application can be reached, in the API's two parts.
type Link struct {
	DomainName string `json:"domainName"`
	DynamicURL string `json:"dynamicUrl"`
}
