package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The structs in this file mirror the JSON of the LightCC documentation field
// for field and in the documented order, so that what the simulator sends can
// be compared with the documentation by eye. Nullable fields are pointers so
// they encode as null rather than disappearing.

// decimal is a money or price amount. It encodes rounded to two decimals and,
// like the Java backend's Double, always with a fractional part ("0.0", not
// "0"), because the documentation shows "price": 0.0.
type decimal float64

// round2 rounds to cents the way every amount on the wire is rounded.
func round2(x float64) float64 {
	r := math.Round(x*100) / 100
	if r == 0 {
		return 0 // avoid "-0.0"
	}
	return r
}

// MarshalJSON implements json.Marshaler.
func (d decimal) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(round2(float64(d)), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return []byte(s), nil
}

// envelope is the usual answer: msg first, as the documentation prints it.
// Data is omitted when nil because create, timed stop and errors have no data
// key at all.
type envelope struct {
	Msg  *string `json:"msg"`
	Code int     `json:"code"`
	Data any     `json:"data,omitempty"`
}

// codeFirstEnvelope is the envelope of the price quote and the balance, which
// the documentation prints with code first and, for the price, a null msg.
type codeFirstEnvelope struct {
	Code int     `json:"code"`
	Msg  *string `json:"msg"`
	Data any     `json:"data"`
}

// wireApp is one element of openApplication's data.
type wireApp struct {
	StartTime        *string `json:"startTime"`
	AID              string  `json:"aId"`
	AApplicationName *string `json:"aApplicationName"`
	AContainerID     string  `json:"aContainerId"`
	AStatus          string  `json:"aStatus"`
	ASystem          string  `json:"aSystem"`
	ABillingMode     string  `json:"aBillingMode"`
	SRentalPrice     decimal `json:"sRentalPrice"`
	SConsume         decimal `json:"sConsume"`
	AImageID         int     `json:"aImageId"`
	ImageTitle       string  `json:"imageTitle"`
	CPUModel         string  `json:"cpuModel"`
	AGpuNumbers      int     `json:"aGpuNumbers"`
	ASystemDisk      int64   `json:"aSystemDisk"`
	ADataDisk        int64   `json:"aDataDisk"`
	ASort            int     `json:"aSort"`
	GPUModel         string  `json:"gpuModel"`
	CPUCores         int     `json:"cpuCores"`
	GPUMemorySize    int64   `json:"gpuMemorySize"`
	MemorySize       int64   `json:"memorySize"`
	CreateTime       string  `json:"createTime"`
	StopTime         *string `json:"stopTime"`
}

// wireAppDetails is openApplicationDetails' data. The documentation's sample
// and field table both lack startTime and add appLink, so this does too.
type wireAppDetails struct {
	AppLink          string  `json:"appLink"`
	AID              string  `json:"aId"`
	AApplicationName *string `json:"aApplicationName"`
	AContainerID     string  `json:"aContainerId"`
	AStatus          string  `json:"aStatus"`
	ASystem          string  `json:"aSystem"`
	ABillingMode     string  `json:"aBillingMode"`
	SRentalPrice     decimal `json:"sRentalPrice"`
	SConsume         decimal `json:"sConsume"`
	AImageID         int     `json:"aImageId"`
	ImageTitle       string  `json:"imageTitle"`
	CPUModel         string  `json:"cpuModel"`
	AGpuNumbers      int     `json:"aGpuNumbers"`
	ASystemDisk      int64   `json:"aSystemDisk"`
	ADataDisk        int64   `json:"aDataDisk"`
	ASort            int     `json:"aSort"`
	GPUModel         string  `json:"gpuModel"`
	CPUCores         int     `json:"cpuCores"`
	GPUMemorySize    int64   `json:"gpuMemorySize"`
	MemorySize       int64   `json:"memorySize"`
	CreateTime       string  `json:"createTime"`
	StopTime         *string `json:"stopTime"`
}

// wireLinks is applicationLinks' data.
type wireLinks struct {
	DomainName string `json:"domainName"`
	DynamicURL string `json:"dynamicUrl"`
}

// wireImage is one element of openListByUser's data.
type wireImage struct {
	CreateBy      string  `json:"createBy"`
	CreateTime    *string `json:"createTime"`
	UpdateBy      string  `json:"updateBy"`
	UpdateTime    *string `json:"updateTime"`
	Remark        *string `json:"remark"`
	ID            int     `json:"id"`
	TypeID        int     `json:"typeId"`
	AuthorID      int     `json:"authorId"`
	CoverImg      string  `json:"coverImg"`
	CoverImgURL   *string `json:"coverImgUrl"`
	Title         string  `json:"title"`
	LikeNum       int     `json:"likeNum"`
	Like          *int    `json:"like"`
	LikeTime      *string `json:"likeTime"`
	Description   string  `json:"description"`
	Ports         string  `json:"ports"`
	FileDirectory string  `json:"fileDirectory"`
	RunningTime   int     `json:"runningTime"`
	Status        string  `json:"status"`
	SystemType    string  `json:"systemType"`
	IsAppOnly     string  `json:"isAppOnly"`
	OrderNum      int     `json:"orderNum"`
	ImageSize     *int64  `json:"imageSize"`
	Price         decimal `json:"price"`
}

// wireImageType is the applicationImageType object inside the image details.
type wireImageType struct {
	CreateBy   *string `json:"createBy"`
	CreateTime *string `json:"createTime"`
	UpdateBy   *string `json:"updateBy"`
	UpdateTime *string `json:"updateTime"`
	Remark     *string `json:"remark"`
	ID         int     `json:"id"`
	Name       string  `json:"name"`
	ParentID   *int    `json:"parentId"`
	Children   *[]any  `json:"children"`
	OrderNum   *int    `json:"orderNum"`
	Status     *string `json:"status"`
}

// wireImageDetails is openGetInfoById's data.
type wireImageDetails struct {
	CreateBy             string        `json:"createBy"`
	CreateTime           *string       `json:"createTime"`
	UpdateBy             string        `json:"updateBy"`
	UpdateTime           *string       `json:"updateTime"`
	Remark               *string       `json:"remark"`
	ID                   int           `json:"id"`
	TypeID               int           `json:"typeId"`
	AuthorID             int           `json:"authorId"`
	CoverImg             string        `json:"coverImg"`
	Title                string        `json:"title"`
	LikeNum              int           `json:"likeNum"`
	Like                 *int          `json:"like"`
	LikeTime             *string       `json:"likeTime"`
	Description          string        `json:"description"`
	Ports                string        `json:"ports"`
	FileDirectory        string        `json:"fileDirectory"`
	RunningTime          int           `json:"runningTime"`
	Status               string        `json:"status"`
	SystemType           string        `json:"systemType"`
	IsAppOnly            string        `json:"isAppOnly"`
	SysUser              *string       `json:"sysUser"`
	OrderNum             int           `json:"orderNum"`
	ImageSize            *int64        `json:"imageSize"`
	OriginalImageID      *int          `json:"originalImageId"`
	FromContainerName    *string       `json:"fromContainerName"`
	ApplicationImageType wireImageType `json:"applicationImageType"`
	Price                decimal       `json:"price"`
	CoverImgURL          *string       `json:"coverImgUrl"`
	ApplicationID        *int64        `json:"applicationId"`
	OriginalImageName    *string       `json:"originalImageName"`
	IsShare              *int          `json:"isShare"`
	TypeIDs              []int         `json:"typeIds"`
	ContentOfFourses     *string       `json:"contentOfFourses"`
	WorksShow            *string       `json:"worksShow"`
}

// wireGPUConfig is one element of openAvailableGpuConfig's data.
type wireGPUConfig struct {
	GPUMemory    string `json:"gpuMemory"`
	Available    bool   `json:"available"`
	GPU          string `json:"gpu"`
	MaxAvailable int    `json:"maxAvailable"`
}

// wirePrice is getGpuPrice's data. The actual price sits under a key named
// after the GPU model, so it needs its own encoder to keep the documented
// key order.
type wirePrice struct {
	GPUModel      string
	Actual        decimal
	DiscountPrice decimal
	GPUModelPrice decimal
}

// MarshalJSON implements json.Marshaler.
func (p wirePrice) MarshalJSON() ([]byte, error) {
	key, err := json.Marshal(p.GPUModel)
	if err != nil {
		return nil, fmt.Errorf("sim: encode price key %q: %w", p.GPUModel, err)
	}
	actual, _ := p.Actual.MarshalJSON()
	discount, _ := p.DiscountPrice.MarshalJSON()
	original, _ := p.GPUModelPrice.MarshalJSON()
	return fmt.Appendf(nil, `{%s:%s,"discountPrice":%s,"gpuModelPrice":%s}`, key, actual, discount, original), nil
}

// wireBalance is openSelectBalance's data.
type wireBalance struct {
	Balance         decimal `json:"balance"`
	Voucher         decimal `json:"voucher"`
	HashrateBalance int64   `json:"hashrateBalance"`
}
