package handlers

import (
	"strconv"
	"testing"
	"unicode/utf8"

	"lightcc-dashboard/lightcc"
)

// FuzzLaunchForm feeds arbitrary form values through the launch form's
// reader and validator: it must never panic, and whatever it accepts must
// be a plan the upstream can take.
func FuzzLaunchForm(f *testing.F) {
	cfgs := []lightcc.GPUConfig{
		{GPU: "4090", GPUMemory: "24", Available: true, MaxAvailable: 8},
		{GPU: "A100", GPUMemory: "40", Available: false, MaxAvailable: 6},
	}
	f.Add("4090", "1", "0", "0", "2")
	f.Add("4090", "8", "1", "30", "0")
	f.Add("A100", "1", "4", "3", "8")
	f.Add("", "-1", "9", "1e3", "x")
	f.Add("4090", "08", "2", "052", "")
	f.Fuzz(func(t *testing.T, gpu, count, billing, cycle, auto string) {
		form := map[string]string{"gpuModel": gpu, "numberOfGPUs": count, "billingMethod": billing, "cycle": cycle, "autoStop": auto}
		sel := readSelection(func(k string) string { return form[k] })
		plan, bad, _ := validateLaunch(sel, cfgs)
		if bad != "" {
			return
		}
		mode := plan.Billing
		switch {
		case plan.GPU != "4090":
			t.Fatalf("accepted GPU %q", plan.GPU)
		case plan.Count < 1 || plan.Count > 8:
			t.Fatalf("accepted %d GPUs", plan.Count)
		case !mode.Valid():
			t.Fatalf("accepted billing %q", mode)
		case mode == lightcc.BillingPayAsYouGo && plan.Cycle != "0":
			t.Fatalf("pay-as-you-go with cycle %q", plan.Cycle)
		case mode.IsPackage():
			n, err := strconv.Atoi(plan.Cycle)
			if err != nil || n < 1 || n > maxCycle[mode] {
				t.Fatalf("package cycle %q", plan.Cycle)
			}
		}
		if plan.AutoStop < 0 || plan.AutoStop > 8*3600e9 {
			t.Fatalf("auto stop %v", plan.AutoStop)
		}
	})
}

// FuzzParseYuan: an amount an admin types is refused or a sane fen value.
func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"", "50", "49.90", "0.005", "-1", "1e3", "NaN", "9999999.99", "１２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fen, err := parseYuan(s)
		if err == nil && (fen < 0 || fen > 1e9) {
			t.Fatalf("parseYuan(%q) = %d", s, fen)
		}
	})
}

// FuzzNewAccount: user names and passwords that pass are within bounds.
func FuzzNewAccount(f *testing.F) {
	f.Add("alice", "correct horse", "correct horse")
	f.Add("a b", "12345678", "12345678")
	f.Add("", "x", "y")
	f.Fuzz(func(t *testing.T, name, pass, confirm string) {
		if checkNewAccount(name, pass, confirm) != "" {
			return
		}
		if name == "" || utf8.RuneCountInString(name) > 32 || len(pass) < minPassword || len(pass) > maxPassword || pass != confirm {
			t.Fatalf("accepted %q / %d-byte password", name, len(pass))
		}
	})
}
