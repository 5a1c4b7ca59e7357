package lightcc_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

// TestClientAgainstSimulator runs every client method against the
// simulator over real HTTP: the two are written from the doc separately, so
// agreement here checks both.
func TestClientAgainstSimulator(t *testing.T) {
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	clock := sim.NewManualClock(time.Date(2026, 12, 4, 10, 0, 0, 0, shanghai))
	s := sim.New(sim.Options{Clock: clock, Location: shanghai})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := lightcc.New(srv.URL, sim.DemoKey, lightcc.WithLocation(shanghai))
	if err != nil {
		t.Fatal(err)
	}

	apps, err := c.ListApplications(ctx, lightcc.RunningAll)
	if err != nil || len(apps) != 4 {
		t.Fatalf("list: %d apps, %v", len(apps), err)
	}
	running, err := c.ListApplications(ctx, lightcc.RunningActive)
	if err != nil || len(running) == 0 || len(running) >= len(apps) {
		t.Fatalf("running filter: %d of %d, %v", len(running), len(apps), err)
	}
	d, err := c.ApplicationDetails(ctx, "1899720917190184960")
	if err != nil || d.Status != lightcc.StatusRunning || d.AppLink == "" || d.GPUMemory.GiB() != 24 {
		t.Fatalf("details: %+v %v", d, err)
	}

	imgs, err := c.ListImages(ctx, "comfy")
	if err != nil || len(imgs) != 1 || imgs[0].ID != 6 {
		t.Fatalf("images: %+v %v", imgs, err)
	}
	info, err := c.ImageInfo(ctx, 6)
	if err != nil || info.Title != imgs[0].Title || info.ApplicationImageType == nil {
		t.Fatalf("image info: %+v %v", info, err)
	}
	cfg, err := c.AvailableGPUConfig(ctx, 6)
	if err != nil || len(cfg) == 0 {
		t.Fatalf("gpu config: %v %v", cfg, err)
	}
	q, err := c.GPUPrice(ctx, lightcc.PriceQuery{GPUModel: "3060", GPUCount: 1, BillingMode: lightcc.BillingPayAsYouGo, Cycle: "0"})
	if err != nil || q.Actual != 62 || q.Discount != 1 || q.Original != 63 {
		t.Fatalf("price: %+v %v", q, err)
	}
	daily, err := c.GPUPrice(ctx, lightcc.PriceQuery{GPUModel: "4090", GPUCount: 1, BillingMode: lightcc.BillingDaily, Cycle: "1"})
	if err != nil || daily.Actual <= q.Actual || daily.Actual+daily.Discount != daily.Original {
		t.Fatalf("daily price: %+v %v", daily, err)
	}
	before, err := c.Balance(ctx)
	if err != nil || before.Balance != 9999 {
		t.Fatalf("balance: %+v %v", before, err)
	}

	id, err := c.CreateApplication(ctx, lightcc.CreateRequest{ImageName: info.Title, ImageID: 6, GPUModel: "3090", NumberOfGPUs: 1, BillingMethod: lightcc.BillingPayAsYouGo, Cycle: "0"})
	if err != nil || !lightcc.ValidID(id) {
		t.Fatalf("create: %q %v", id, err)
	}
	status := func() lightcc.Status {
		t.Helper()
		d, err := c.ApplicationDetails(ctx, id)
		if err != nil {
			t.Fatalf("details %s: %v", id, err)
		}
		return d.Status
	}
	if st := status(); st != lightcc.StatusCreating {
		t.Fatalf("new app status %s", st)
	}
	clock.Advance(time.Minute)
	if st := status(); st != lightcc.StatusRunning {
		t.Fatalf("after a minute: %s", st)
	}
	for _, lt := range []lightcc.LinkType{lightcc.LinkJupyter, lightcc.LinkFilebrowser, lightcc.LinkSD} {
		l, err := c.ApplicationLink(ctx, lt, id)
		if err != nil {
			t.Fatalf("link %s: %v", lt, err)
		}
		if _, err := lightcc.ComposeLink(lightcc.DefaultLinkTemplate, l); err != nil {
			t.Fatalf("compose %+v: %v", l, err)
		}
	}
	if err := c.StopApplication(ctx, id); err != nil || status() != lightcc.StatusStopping {
		t.Fatalf("stop: %v", err)
	}
	clock.Advance(time.Minute)
	if err := c.RestartApplication(ctx, id); err != nil || status() != lightcc.StatusStarting {
		t.Fatalf("start: %v", err)
	}
	clock.Advance(time.Minute)
	if err := c.TimedStopApplication(ctx, id, clock.Now().Add(time.Hour)); err != nil {
		t.Fatalf("timed stop: %v", err)
	}
	clock.Advance(61 * time.Minute)
	if st := status(); st != lightcc.StatusStopping && st != lightcc.StatusStopped {
		t.Fatalf("timed stop did not fire: %s", st)
	}
	after, _ := c.Balance(ctx)
	if after.Balance >= before.Balance {
		t.Errorf("running cost nothing: %s → %s", before.Balance, after.Balance)
	}
	if err := c.TimedStopApplication(ctx, id, clock.Now().Add(-time.Minute)); err == nil {
		t.Error("a stop time in the past was accepted")
	}
	if err := c.DestroyApplication(ctx, id); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	var ae *lightcc.APIError
	if _, err := c.ApplicationDetails(ctx, id); !errors.As(err, &ae) {
		t.Fatalf("details after destroy: %v", err)
	}

	s.SetBalance(0.5)
	if _, err := c.CreateApplication(ctx, lightcc.CreateRequest{ImageName: info.Title, ImageID: 6, GPUModel: "3090", NumberOfGPUs: 1, BillingMethod: lightcc.BillingPayAsYouGo, Cycle: "0"}); !errors.As(err, &ae) || ae.Msg == "" {
		t.Fatalf("create without money: %v", err)
	}
	bad, _ := lightcc.New(srv.URL, "wrong-key")
	if _, err := bad.Balance(ctx); !errors.Is(err, lightcc.ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
}
