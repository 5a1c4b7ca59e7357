package lightcc_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

func cachedOnSim(t *testing.T) (*lightcc.Cached, *sim.Simulator, *sim.ManualClock) {
	t.Helper()
	zone, _ := time.LoadLocation("Asia/Shanghai")
	clock := sim.NewManualClock(time.Date(2026, 12, 4, 10, 0, 0, 0, zone))
	s := sim.New(sim.Options{Clock: clock, Location: zone})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := lightcc.New(srv.URL, sim.DemoKey, lightcc.WithLocation(zone))
	if err != nil {
		t.Fatal(err)
	}
	return lightcc.NewCached(c, lightcc.TTLs{}, clock.Now), s, clock
}

func TestCachedCoalescesConcurrentReads(t *testing.T) {
	c, s, _ := cachedOnSim(t)
	s.SetFault(sim.EpList, sim.Fault{Latency: 100 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			apps, err := c.ListApplications(context.Background(), lightcc.RunningAll)
			if err == nil && len(apps) != 4 {
				err = errors.New("wrong list")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Calls(sim.EpList); n != 1 {
		t.Errorf("40 concurrent viewers made %d upstream list calls", n)
	}
}

func TestCachedTTLsAndInvalidation(t *testing.T) {
	c, s, clock := cachedOnSim(t)
	ctx := context.Background()
	c.ListApplications(ctx, lightcc.RunningAll)
	c.Balance(ctx)
	c.Balance(ctx)
	clock.Advance(time.Second)
	c.ListApplications(ctx, lightcc.RunningAll)
	if s.Calls(sim.EpList) != 1 || s.Calls(sim.EpBalance) != 1 {
		t.Fatalf("within the TTLs: list %d, balance %d", s.Calls(sim.EpList), s.Calls(sim.EpBalance))
	}
	clock.Advance(1500 * time.Millisecond)
	c.ListApplications(ctx, lightcc.RunningAll)
	c.Balance(ctx)
	if s.Calls(sim.EpList) != 2 || s.Calls(sim.EpBalance) != 1 {
		t.Errorf("after 2.5 s: list %d (TTL 2 s), balance %d (TTL 10 s)", s.Calls(sim.EpList), s.Calls(sim.EpBalance))
	}
	// Our own write: the next read sees its result, not the cached list.
	if err := c.StopApplication(ctx, "1899720917190184960"); err != nil {
		t.Fatal(err)
	}
	apps, _ := c.ListApplications(ctx, lightcc.RunningAll)
	for _, a := range apps {
		if a.ID == "1899720917190184960" && a.Status != lightcc.StatusStopping {
			t.Errorf("after our stop the list says %s", a.Status)
		}
	}
	c.Balance(ctx)
	if s.Calls(sim.EpList) != 3 || s.Calls(sim.EpBalance) != 2 {
		t.Errorf("after a write: list %d, balance %d", s.Calls(sim.EpList), s.Calls(sim.EpBalance))
	}
	// GPU configs and prices live 30 s, per question.
	q := lightcc.PriceQuery{GPUModel: "4090", GPUCount: 1, BillingMode: lightcc.BillingPayAsYouGo, Cycle: "0"}
	c.GPUPrice(ctx, q)
	c.GPUPrice(ctx, q)
	q.GPUCount = 2
	c.GPUPrice(ctx, q)
	c.AvailableGPUConfig(ctx, 6)
	clock.Advance(29 * time.Second)
	c.AvailableGPUConfig(ctx, 6)
	if s.Calls(sim.EpPrice) != 2 || s.Calls(sim.EpGPUConfig) != 1 {
		t.Errorf("price %d, gpu config %d", s.Calls(sim.EpPrice), s.Calls(sim.EpGPUConfig))
	}
}

func TestCachedServesAStaleListWhenLightCCFails(t *testing.T) {
	c, s, clock := cachedOnSim(t)
	ctx := context.Background()
	if _, err := c.ListApplications(ctx, lightcc.RunningAll); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	s.SetFault(sim.EpList, sim.Fault{HTTPStatus: 502})
	apps, err := c.ListApplications(ctx, lightcc.RunningAll)
	var stale *lightcc.StaleError
	if !errors.As(err, &stale) || len(apps) != 4 || clock.Now().Sub(stale.At) != time.Minute || !errors.Is(err, lightcc.ErrStatus) {
		t.Fatalf("apps %d, err %v", len(apps), err)
	}
	// A refusal is LightCC's answer, not an outage: no stale copy hides it.
	s.SetFault(sim.EpList, sim.Fault{Code: 500, Msg: "系统维护中"})
	if apps, err := c.ListApplications(ctx, lightcc.RunningAll); apps != nil || errors.As(err, &stale) {
		t.Errorf("refusal: %d apps, %v", len(apps), err)
	}
	// Another filter has no copy of its own.
	if _, err := c.ListApplications(ctx, lightcc.RunningActive); errors.As(err, &stale) {
		t.Error("a stale copy of another filter")
	}
}

func TestCachedCallerMayLeaveWithoutSpoilingTheFetch(t *testing.T) {
	c, s, _ := cachedOnSim(t)
	s.SetFault(sim.EpBalance, sim.Fault{Latency: 150 * time.Millisecond, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Balance(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: %v", err)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := c.Balance(context.Background()); err != nil || s.Calls(sim.EpBalance) != 1 {
		t.Errorf("the fetch was spoiled: %v, %d calls", err, s.Calls(sim.EpBalance))
	}
}
