package sim

import (
	"image/color"
	"slices"
	"time"
)

// gpuSpec is one GPU model of the pool: what openAvailableGpuConfig shows and
// what getGpuPrice charges.
type gpuSpec struct {
	Model         string
	MemoryGB      int
	MaxPerMachine int     // maxAvailable: cards one application may take
	Hourly        float64 // list price per card per hour
	HourlyOff     float64 // per-card discount on pay-as-you-go only
	DefaultStock  int     // cards in the pool unless SetStock says otherwise
}

// gpuCatalogue lists the documentation's six models in its order. Only three
// have stock by default so the console can show both available and sold-out
// cards, as the documentation's sample does.
var gpuCatalogue = []gpuSpec{
	{Model: "4090", MemoryGB: 24, MaxPerMachine: 8, Hourly: 1.98, DefaultStock: 16},
	{Model: "3090", MemoryGB: 24, MaxPerMachine: 10, Hourly: 1.38, DefaultStock: 20},
	{Model: "4070 Ti SUPER", MemoryGB: 16, MaxPerMachine: 8, Hourly: 1.28},
	// The 0.01 discount reproduces the documentation's price sample exactly.
	{Model: "3060", MemoryGB: 12, MaxPerMachine: 7, Hourly: 0.63, HourlyOff: 0.01, DefaultStock: 12},
	{Model: "2080 Ti", MemoryGB: 22, MaxPerMachine: 4, Hourly: 0.88},
	{Model: "A100", MemoryGB: 40, MaxPerMachine: 6, Hourly: 3.98},
}

// findGPU looks a model up by its exact name, as the backend would.
func findGPU(model string) (gpuSpec, bool) {
	for _, g := range gpuCatalogue {
		if g.Model == model {
			return g, true
		}
	}
	return gpuSpec{}, false
}

// billingPlan is one billingMethod/billingMode code.
type billingPlan struct {
	Hours    int     // length of one cycle; 1 for pay-as-you-go
	Discount float64 // package discount on the list price
	MaxCycle int     // longest package one may buy at once
}

// billingPlans is keyed by the documented string codes "0".."4".
var billingPlans = map[string]billingPlan{
	"0": {Hours: 1},
	"1": {Hours: 24, Discount: 0.15, MaxCycle: 30},
	"2": {Hours: 168, Discount: 0.25, MaxCycle: 52},
	"3": {Hours: 720, Discount: 0.35, MaxCycle: 36},
	"4": {Hours: 8760, Discount: 0.50, MaxCycle: 3},
}

// quote is a price as getGpuPrice reports it, already rounded to cents.
type quote struct {
	Actual, Discount, Original float64
}

// priceFor computes the price of count cards of g. Pay-as-you-go is per hour
// with the per-card discount; a package is the whole rental (hours × cycle)
// with the package discount on the list price, paid up front.
func priceFor(g gpuSpec, count int, mode string, cycle int) quote {
	plan := billingPlans[mode]
	var original, actual float64
	if mode == "0" {
		original = round2(g.Hourly * float64(count))
		actual = round2((g.Hourly - g.HourlyOff) * float64(count))
	} else {
		original = round2(g.Hourly * float64(count*plan.Hours*cycle))
		actual = round2(original * (1 - plan.Discount))
	}
	// The discount is derived from the rounded amounts so the three numbers
	// always add up on screen.
	return quote{Actual: actual, Discount: round2(original - actual), Original: original}
}

// imageType is an applicationImageType.
type imageType struct {
	ID   int
	Name string
}

// imageSpec is one application image of the catalogue.
type imageSpec struct {
	ID            int
	Type          imageType
	CoverImg      string
	NoCoverURL    bool // the list reports coverImgUrl null, to exercise the fallback to coverImg
	Title         string
	LikeNum       int
	Like          *int
	LikeTime      *time.Time
	Description   string
	Ports         string
	FileDirectory string
	SystemType    string
	ImageSize     *int64
	Price         float64
	CreateBy      string
	CreateTime    time.Time
	UpdateBy      string
	UpdateTime    time.Time
	GPUs          []string // models offered; nil means all of gpuCatalogue
	Palette       [3]color.RGBA
}

// offers reports whether the image can run on the GPU model.
func (im imageSpec) offers(model string) bool {
	return im.GPUs == nil || slices.Contains(im.GPUs, model)
}

// beijing is the zone the catalogue's fixed timestamps were written in; they
// are shown in the simulator's Location like every other time.
var beijing = time.FixedZone("CST", 8*3600)

func ptr[T any](v T) *T { return &v }

func at(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, beijing)
}

var (
	typeDev     = imageType{ID: 1, Name: "深度学习"}
	typePaint   = imageType{ID: 2, Name: "AI绘画"}
	typeDesktop = imageType{ID: 3, Name: "云桌面"}
	typeComfy   = imageType{ID: 4, Name: "ComfyUI"}
	typeTrain   = imageType{ID: 5, Name: "模型训练"}
)

// imageCatalogue holds the images every user sees. Ids 5 and 6 are the
// documentation's samples, typo in "Difussion" included.
var imageCatalogue = []imageSpec{
	{
		ID: 5, Type: typePaint, CoverImg: "00004.png",
		Title:   "Stable Difussion WebUI 官方版",
		LikeNum: 142, Like: ptr(1), LikeTime: ptr(at(2024, 10, 21, 10, 29, 25)),
		Description: "直观的图形界面,对新手用户友好。",
		Ports:       "22,8890,8888", FileDirectory: "official/xingshuai-webui:v6", SystemType: "0",
		CreateBy: "admin", CreateTime: at(2024, 4, 23, 17, 8, 12),
		UpdateBy: "18246275703", UpdateTime: at(2025, 5, 28, 11, 2, 37),
		Palette: [3]color.RGBA{{0x3b, 0x1f, 0x8f, 255}, {0xe0, 0x4f, 0x9f, 255}, {0xff, 0xd1, 0x66, 255}},
	},
	{
		ID: 6, Type: typeComfy, CoverImg: "000012.png",
		Title:       "ComfyUI 官方版",
		Description: "工作流式的Stable Diffusion图形用户界面",
		Ports:       "22,8890", FileDirectory: "official/xingshuai-comfyui:v6", SystemType: "0",
		CreateBy: "admin", CreateTime: at(2024, 4, 23, 17, 10, 46),
		UpdateBy: "18246275703", UpdateTime: at(2025, 6, 3, 18, 58, 54),
		Palette: [3]color.RGBA{{0x0b, 0x3d, 0x2e, 255}, {0x2f, 0xb5, 0x8a, 255}, {0xe8, 0xf7, 0xa1, 255}},
	},
	{
		ID: 7, Type: typePaint, CoverImg: "00007.png",
		Title:   "Fooocus 一键出图",
		LikeNum: 57, Like: ptr(0),
		Description: "专注提示词与画面质量的极简绘图工具,无需调参即可出图。",
		Ports:       "22,8890,7865", FileDirectory: "official/xingshuai-fooocus:v3", SystemType: "0",
		CreateBy: "admin", CreateTime: at(2024, 6, 12, 9, 41, 3),
		UpdateBy: "admin", UpdateTime: at(2025, 2, 17, 14, 20, 9),
		Palette: [3]color.RGBA{{0x7a, 0x1c, 0x12, 255}, {0xf2, 0x7b, 0x35, 255}, {0xff, 0xee, 0xc2, 255}},
	},
	{
		ID: 9, Type: typeDev, CoverImg: "00009.png",
		Title:   "Jupyter Lab · PyTorch 2.3",
		LikeNum: 89, Like: ptr(1), LikeTime: ptr(at(2025, 1, 8, 21, 3, 44)),
		Description: "预装 PyTorch 2.3、CUDA 12.1 与 JupyterLab,适合深度学习开发、调试与教学。",
		Ports:       "22,8888", FileDirectory: "official/jupyterlab-pytorch:2.3-cuda12.1", SystemType: "0",
		ImageSize: ptr(int64(9437184)),
		CreateBy:  "admin", CreateTime: at(2024, 7, 2, 16, 15, 0),
		UpdateBy: "admin", UpdateTime: at(2025, 4, 11, 10, 5, 31),
		Palette: [3]color.RGBA{{0x10, 0x24, 0x4a, 255}, {0x2a, 0x7d, 0xe1, 255}, {0xf5, 0x8a, 0x1f, 255}},
	},
	{
		ID: 11, Type: typeDesktop, CoverImg: "00011.png", NoCoverURL: true,
		Title:       "Windows 10 云桌面",
		LikeNum:     23,
		Description: "Windows 10 专业版桌面,支持远程桌面连接,可运行图形软件与游戏。",
		Ports:       "3389", FileDirectory: "official/windows10-desktop:v2", SystemType: "1",
		CreateBy: "admin", CreateTime: at(2024, 9, 5, 13, 30, 18),
		UpdateBy: "admin", UpdateTime: at(2025, 3, 1, 8, 45, 0),
		GPUs:    []string{"4090", "3090", "3060"},
		Palette: [3]color.RGBA{{0x00, 0x3e, 0x7e, 255}, {0x00, 0x78, 0xd7, 255}, {0xe6, 0xf2, 0xff, 255}},
	},
	{
		ID: 15, Type: typeTrain, CoverImg: "00015.png",
		Title:   "Kohya_ss LoRA 训练器",
		LikeNum: 36, Like: ptr(0),
		Description: "基于 kohya_ss 的 LoRA 与 DreamBooth 训练界面,内置常用训练参数模板。",
		Ports:       "22,8890,7860", FileDirectory: "official/kohya-ss:v24", SystemType: "0",
		Price:    0.5,
		CreateBy: "admin", CreateTime: at(2024, 11, 19, 20, 12, 55),
		UpdateBy: "admin", UpdateTime: at(2025, 5, 6, 17, 36, 22),
		Palette: [3]color.RGBA{{0x2b, 0x2b, 0x2b, 255}, {0x8e, 0x44, 0xad, 255}, {0x1a, 0xbc, 0x9c, 255}},
	},
}

// findImage looks an image up by id.
func findImage(id int) (imageSpec, bool) {
	for _, im := range imageCatalogue {
		if im.ID == id {
			return im, true
		}
	}
	return imageSpec{}, false
}

// findCover looks an image up by its cover file name.
func findCover(file string) (imageSpec, bool) {
	for _, im := range imageCatalogue {
		if im.CoverImg == file {
			return im, true
		}
	}
	return imageSpec{}, false
}

// Hardware every application gets, per GPU, matching the documentation's
// sample (one 4090: 16 cores, 61902684 kb of memory).
const (
	cpuModel       = "AMD EPYC 7542 32-Core Processor"
	cpuCoresPerGPU = 16
	memoryKBPerGPU = 61902684
	systemDiskKB   = 20971520
	dataDiskKB     = 52428800
	kbPerGB        = 1048576
)
