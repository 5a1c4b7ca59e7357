package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLoadReportsFigures runs a short load against a console built from
// this package: the test binary itself cannot serve the console.
func TestLoadReportsFigures(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "console")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the console: %v\n%s", err, out)
	}
	p, err := parseLoadFlags([]string{"-viewers", "3", "-duration", "2s", "-latency", "20ms", "-apps", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p.console = bin
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := p.run(ctx, &out); err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
	report := out.String()
	t.Logf("\n%s", report)
	figure := func(label string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `:\s+(\S+)`).FindStringSubmatch(report)
		if m == nil {
			t.Errorf("no %q line in:\n%s", label, report)
			return ""
		}
		return m[1]
	}
	figure("warm /apps p99")
	figure("first /apps after start")
	figure("cold /apps")
	figure("upstream list answer")
	figure("pages sent compressed")
	figure("console CPU per page")
	if strings.Contains(report, "note:") {
		t.Errorf("the cold pages were not cold:\n%s", report)
	}
	if v, err := strconv.ParseFloat(figure("pages/s"), 64); err != nil || v <= 0 {
		t.Errorf("pages/s = %v (%v)\n%s", v, err, report)
	}
	if v := figure("errors 5xx"); v != "0" {
		t.Errorf("errors 5xx = %s\n%s", v, report)
	}
	// The list is cached for 2 s: a run as long as the TTL may see no fetch
	// after the cold one, but never more than the target.
	if v, err := strconv.ParseFloat(figure("list calls per 2 s"), 64); err != nil || v > 2 {
		t.Errorf("list calls per 2 s = %v (%v), want ≤ 2\n%s", v, err, report)
	}
}

func TestLoadRefusesUnboundedRuns(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "6m"},
		{"-duration", "0s"},
		{"-viewers", "0"},
		{"-latency", "-1ms"},
		{"-apps", "-1"},
		{"extra"},
	} {
		if _, err := parseLoadFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if p, err := parseLoadFlags(nil, io.Discard); err != nil || p.viewers != 40 || p.duration != 20*time.Second || p.latency != 100*time.Millisecond || p.apps != 200 {
		t.Errorf("defaults: %+v, %v", p, err)
	}
}
