package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

// loadPlan is one run of `lightcc-dashboard load`: signed-in viewers
// reloading /apps against a simulator that answers every call after the
// injected latency, with the console in its own process so that its memory
// can be read.
type loadPlan struct {
	viewers  int
	duration time.Duration
	latency  time.Duration
	apps     int
	// console serves the console when run with no arguments: this program
	// itself, except under `go test`, where the running binary is the test.
	console string
}

// loadAdmin is the one account of the console under load.
const loadAdmin = "load"

var loadCSRFMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// runLoad loads a console started from this very binary and prints the
// figures on stdout.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p, err := parseLoadFlags(args, stderr)
	if err != nil {
		return err
	}
	if p.console, err = os.Executable(); err != nil {
		return fmt.Errorf("load: find this program: %w", err)
	}
	return p.run(ctx, stdout)
}

// parseLoadFlags reads the flags of `load`, refusing runs that would not end
// soon or could not mean anything.
func parseLoadFlags(args []string, stderr io.Writer) (loadPlan, error) {
	var p loadPlan
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&p.viewers, "viewers", 40, "concurrent signed-in viewers reloading /apps")
	fs.DurationVar(&p.duration, "duration", 20*time.Second, "how long the viewers reload (at most 5m)")
	fs.DurationVar(&p.latency, "latency", 100*time.Millisecond, "latency injected into every upstream call")
	fs.IntVar(&p.apps, "apps", 200, "applications in the simulated account")
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	switch {
	case fs.NArg() > 0:
		return p, fmt.Errorf("load: unexpected argument %q", fs.Arg(0))
	case p.viewers < 1 || p.viewers > 1000:
		return p, fmt.Errorf("load: -viewers %d is not between 1 and 1000", p.viewers)
	case p.duration <= 0 || p.duration > 5*time.Minute:
		return p, fmt.Errorf("load: -duration %s is not between 1ms and 5m", p.duration)
	case p.latency < 0 || p.latency > 5*time.Second:
		return p, fmt.Errorf("load: -latency %s is not between 0 and 5s", p.latency)
	case p.apps < 0 || p.apps > 10000:
		return p, fmt.Errorf("load: -apps %d is not between 0 and 10000", p.apps)
	}
	return p, nil
}

// run starts the simulator and the console, signs the viewers in, times a
// cold /apps, lets the viewers reload for the duration and reports.
func (p loadPlan) run(ctx context.Context, stdout io.Writer) (err error) {
	upstream, simURL, stopSim, err := startLoadSimulator(p.apps, p.latency)
	if err != nil {
		return err
	}
	defer stopSim()

	password := rand.Text()
	con, err := startLoadConsole(ctx, p.console, simURL, password)
	if err != nil {
		return err
	}
	defer func() {
		con.stop()
		if err != nil {
			err = fmt.Errorf("%w (the console's log: %s)", err, con.logPath)
		} else {
			os.Remove(con.logPath)
		}
	}()

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        p.viewers + 4,
		MaxIdleConnsPerHost: p.viewers + 4, // a connection per viewer, kept, as browsers do
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	viewers, err := signInViewers(ctx, tr, con.base, p.viewers, password)
	if err != nil {
		return err
	}

	// Signing in reaches no upstream, so the first /apps finds the cache
	// empty, in a process that has rendered nothing yet.
	var r loadResult
	r.listedBefore = upstream.Calls(sim.EpList)
	if r.first, err = loadColdPage(ctx, viewers[0], con.base+"/apps"); err != nil {
		return fmt.Errorf("load: first /apps: %w", err)
	}
	// The cold page of every day: the list's cache has just expired in a
	// console that has been running. Each must reach the upstream once.
	// Three rounds, the median reported: one round moves by milliseconds.
	direct, err := lightcc.New(simURL, sim.DemoKey)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var colds, directs []time.Duration
	for range loadColdRounds {
		select {
		case <-time.After(lightcc.DefaultTTLs.Apps + 500*time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("load: interrupted: %w", ctx.Err())
		}
		// What the upstream alone takes to answer the list, as the console
		// asks it: the injected latency plus the simulator's work.
		start := time.Now()
		if _, err := direct.ListApplications(ctx, lightcc.RunningAll); err != nil {
			return fmt.Errorf("load: list the applications directly: %w", err)
		}
		directs = append(directs, time.Since(start))
		listed := upstream.Calls(sim.EpList)
		cold, err := loadColdPage(ctx, viewers[0], con.base+"/apps")
		if err != nil {
			return fmt.Errorf("load: cold /apps: %w", err)
		}
		colds = append(colds, cold)
		r.coldLists = max(r.coldLists, upstream.Calls(sim.EpList)-listed)
	}
	r.cold = loadPercentile(slices.Sorted(slices.Values(colds)), 0.5)
	r.upstream = loadPercentile(slices.Sorted(slices.Values(directs)), 0.5)

	before := loadCallCounts(upstream)
	cpu0, cpuOK0 := loadCPU(con.pid)
	r.tally, r.elapsed = p.reload(ctx, viewers, con.base+"/apps")
	if cpu1, cpuOK1 := loadCPU(con.pid); cpuOK0 && cpuOK1 {
		r.cpu = cpu1 - cpu0
	}
	r.calls = loadCallCounts(upstream)
	for ep, n := range before {
		r.calls[ep] -= n
	}
	if ctx.Err() != nil {
		return fmt.Errorf("load: interrupted: %w", ctx.Err())
	}
	select {
	case <-con.exited:
		return errors.New("load: the console exited during the run")
	default:
	}
	r.rss, r.peak = loadRSS(con.pid)
	return p.report(stdout, r)
}

// loadColdRounds is how many cold pages are timed.
const loadColdRounds = 3

// loadColdPage times one view of u, which must succeed.
func loadColdPage(ctx context.Context, hc *http.Client, u string) (time.Duration, error) {
	start := time.Now()
	a, err := loadGet(ctx, hc, u)
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if a.status != http.StatusOK {
		return 0, fmt.Errorf("answered %d", a.status)
	}
	return took, nil
}

// loadResult is what a run measured.
type loadResult struct {
	first        time.Duration // the first /apps after the start
	cold         time.Duration // a later /apps whose list cache had expired
	coldLists    int           // most list calls a cold /apps made: 1, or it was not cold
	upstream     time.Duration // the median direct list call, made just before each cold /apps
	cpu          time.Duration // the console's CPU time during the reloading; 0 when unknown
	listedBefore int           // list calls before the first /apps: 0, or it was not cold
	tally        loadTally
	elapsed      time.Duration
	calls        map[sim.Endpoint]int // during the reloading
	rss, peak    string
}

// report writes one figure per line, aligned, ready for a README.
func (p loadPlan) report(out io.Writer, r loadResult) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	line := func(label, format string, a ...any) { fmt.Fprintf(w, "%s:\t%s\n", label, fmt.Sprintf(format, a...)) }
	line("injected upstream latency", "%s", p.latency)
	line("viewers", "%d", p.viewers)
	line("applications", "%d", p.apps)
	line("duration", "%s", p.duration)
	line("first /apps after start", "%s", loadMS(r.first))
	line("cold /apps", "%s (median of %d; list cache expired, console running)", loadMS(r.cold), loadColdRounds)
	if p.latency > 0 {
		line("cold /apps ÷ latency", "%.2f× (target ≤ 1.1×)", float64(r.cold)/float64(p.latency))
	} else {
		line("cold /apps ÷ latency", "n/a (no latency injected)")
	}
	line("upstream list answer", "%s (latency + the simulator's work; the console adds %s)", loadMS(r.upstream), loadMS(r.cold-r.upstream))
	if r.listedBefore > 0 {
		line("note", "the list was fetched %d times before the first /apps", r.listedBefore)
	}
	if r.coldLists != 1 {
		line("note", "a cold /apps fetched the list %d times, not once", r.coldLists)
	}
	lat := slices.Sorted(slices.Values(r.tally.latencies))
	for _, q := range []struct {
		label string
		q     float64
	}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}} {
		line("warm /apps "+q.label, "%s", loadMS(loadPercentile(lat, q.q)))
	}
	secs := r.elapsed.Seconds()
	line("pages", "%d", len(lat))
	line("pages/s", "%.1f", float64(len(lat))/secs)
	if r.cpu > 0 && len(lat) > 0 {
		per := r.cpu / time.Duration(len(lat))
		line("console CPU per page", "%.2f ms (%d cores: at most %.0f pages/s with the viewers elsewhere)",
			float64(per)/float64(time.Millisecond), runtime.NumCPU(), float64(runtime.NumCPU())/per.Seconds())
	}
	if len(lat) > 0 {
		line("pages sent compressed", "%.0f%%", 100*float64(r.tally.compressed)/float64(len(lat)))
		line("mean page on the wire", "%.1f KiB", float64(r.tally.bytes)/float64(len(lat))/1024)
	}
	fivexx := 0
	for _, code := range slices.Sorted(maps.Keys(r.tally.statuses)) {
		if code >= 500 {
			fivexx += r.tally.statuses[code]
		}
		if code != http.StatusOK {
			line(fmt.Sprintf("errors HTTP %d", code), "%d", r.tally.statuses[code])
		}
	}
	line("errors 5xx", "%d", fivexx)
	line("errors transport", "%d", r.tally.transport)
	total := 0
	for _, ep := range sim.Endpoints() {
		if n := r.calls[ep]; n > 0 {
			total += n
			line("upstream "+string(ep), "%d calls, %.2f/s", n, float64(n)/secs)
		}
	}
	line("upstream total", "%d calls, %.2f/s", total, float64(total)/secs)
	line("list calls per 2 s", "%.2f (target ≤ 2)", float64(r.calls[sim.EpList])/secs*2)
	line("console RSS at end", "%s", r.rss)
	line("console RSS peak", "%s", r.peak)
	return w.Flush()
}

// startLoadSimulator serves a simulator holding n applications of mixed
// statuses, GPUs and billing, each endpoint answering after latency.
func startLoadSimulator(n int, latency time.Duration) (*sim.Simulator, string, func(), error) {
	s := sim.New(sim.Options{Empty: true})
	s.SetBalance(100000) // nothing runs out of money during a run
	statuses := []string{"1", "1", "1", "2", "2", "1", "0", "3", "4", "7", "8", "5"}
	gpus := []string{"4090", "3090", "3060"}
	images := []int{5, 6, 7, 9, 11}
	billing := []string{"0", "0", "0", "1", "3"}
	now := time.Now()
	for i := range n {
		a := sim.NewApp{
			ImageID: images[i%len(images)], GPUModel: gpus[i%len(gpus)], GPUs: 1 + i%2,
			Status: statuses[i%len(statuses)], BillingMode: billing[i%len(billing)],
			Created: now.Add(-time.Duration(i+1) * time.Minute), Consume: float64(i%50) * 1.37,
		}
		if a.Status == "0" {
			a.Created = now // still creating during the run
		}
		if i%3 == 0 {
			name := fmt.Sprintf("load-%03d", i)
			a.Name = &name
		}
		s.AddApp(a)
	}
	for _, ep := range sim.Endpoints() {
		s.SetFault(ep, sim.Fault{Latency: latency})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("load: simulator: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return s, "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// loadConsole is the console under load, a child process.
type loadConsole struct {
	base    string
	pid     int
	logPath string
	exited  chan struct{} // closed when the process has ended
	stop    func()
}

// startLoadConsole runs the console binary on a free loopback port against
// the simulator, with a fresh database and one administrator, and waits
// until it answers /healthz. stop ends it (SIGTERM, SIGKILL 5 s later) and
// removes its database; the log stays, for the caller to remove when all
// went well.
func startLoadConsole(ctx context.Context, bin, simURL, password string) (*loadConsole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("load: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "lightcc-load-")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	logFile, err := os.CreateTemp("", "lightcc-load-*.log")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("load: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor

	// The console's own settings from this shell would change what is
	// measured (DASHBOARD_COOKIE_SECURE=1 would even stop the sign-in).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DASHBOARD_") && !strings.HasPrefix(kv, "LIGHTCC_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"LIGHTCC_BASE_URL="+simURL, "LIGHTCC_API_KEY="+sim.DemoKey,
		"DASHBOARD_ADDR="+addr, "DASHBOARD_DB="+filepath.Join(dir, "load.db"),
		"DASHBOARD_ADMIN_USER="+loadAdmin, "DASHBOARD_ADMIN_PASSWORD="+password,
		"DASHBOARD_LOG_LEVEL=warn")

	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		os.RemoveAll(dir)
		os.Remove(logFile.Name())
		return nil, fmt.Errorf("load: start the console %s: %w", bin, err)
	}
	c := &loadConsole{base: "http://" + addr, pid: cmd.Process.Pid, logPath: logFile.Name(), exited: make(chan struct{})}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(c.exited)
	}()
	var once sync.Once
	c.stop = func() {
		once.Do(func() {
			cancel()
			<-c.exited
			os.RemoveAll(dir)
		})
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Timeout: time.Second, Transport: tr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if a, err := loadGet(ctx, hc, c.base+"/healthz"); err == nil && a.status == http.StatusOK {
			return c, nil
		}
		var err error
		select {
		case <-c.exited:
			err = fmt.Errorf("load: the console exited at start (%v)", waitErr)
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				err = errors.New("load: the console did not answer /healthz within 30 s")
			}
		}
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("%w (the console's log: %s)", err, c.logPath)
		}
	}
}

// signInViewers signs n sessions in, each with its own cookie jar, a few at
// a time (each sign-in is a bcrypt comparison). No client follows redirects:
// a lost session shows as a 303, not as a sign-in page counted as a success.
func signInViewers(ctx context.Context, tr *http.Transport, base string, n int, password string) ([]*http.Client, error) {
	clients := make([]*http.Client, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.NumCPU())
	for i := range clients {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, err
		}
		clients[i] = &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		g.Go(func() error {
			if err := loadSignIn(gctx, clients[i], base, password); err != nil {
				return fmt.Errorf("load: sign-in of viewer %d failed: %w", i+1, err)
			}
			return nil
		})
	}
	return clients, g.Wait()
}

// loadSignIn signs in as a browser does: the form's CSRF token, then the
// POST, which redirects to /apps.
func loadSignIn(ctx context.Context, hc *http.Client, base, password string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	m := loadCSRFMeta.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET /login answered %d without a CSRF token", resp.StatusCode)
	}
	form := url.Values{"username": {loadAdmin}, "password": {password}, "_csrf": {string(m[1])}, "next": {"/apps"}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/apps" {
		return fmt.Errorf("POST /login answered %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	return nil
}

// loadGet fetches u and reads the whole body as it comes over the wire,
// offering the encodings a browser offers. Asking explicitly also stops Go's
// transport from decompressing: that is the browser's work, on its own
// machine, and would otherwise take the console's cores from it here.
func loadGet(ctx context.Context, hc *http.Client, u string) (loadAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return loadAnswer{}, err
	}
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	resp, err := hc.Do(req)
	if err != nil {
		return loadAnswer{}, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return loadAnswer{}, err
	}
	return loadAnswer{status: resp.StatusCode, bytes: n, compressed: resp.Header.Get("Content-Encoding") != ""}, nil
}

// loadAnswer is what one page view received.
type loadAnswer struct {
	status     int
	bytes      int64 // as sent
	compressed bool
}

// loadTally is what the viewers saw.
type loadTally struct {
	latencies  []time.Duration // of the 200 answers
	statuses   map[int]int
	transport  int   // requests that got no answer
	compressed int   // 200 answers sent compressed
	bytes      int64 // of the 200 answers, as sent
}

// reload has every viewer reload u with no pause until the duration ends,
// and returns what they saw and how long it took.
func (p loadPlan) reload(ctx context.Context, viewers []*http.Client, u string) (loadTally, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, p.duration)
	defer cancel()
	tallies := make([]loadTally, len(viewers))
	var wg sync.WaitGroup
	start := time.Now()
	for i, hc := range viewers {
		t := &tallies[i]
		t.statuses = map[int]int{}
		wg.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				a, err := loadGet(ctx, hc, u)
				took := time.Since(began)
				switch {
				case ctx.Err() != nil: // cut off by the end of the run
				case err != nil:
					t.transport++
					time.Sleep(50 * time.Millisecond) // no busy loop on a dead console
				default:
					t.statuses[a.status]++
					if a.status == http.StatusOK {
						t.latencies = append(t.latencies, took)
						t.bytes += a.bytes
						if a.compressed {
							t.compressed++
						}
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := loadTally{statuses: map[int]int{}}
	for _, t := range tallies {
		all.latencies = append(all.latencies, t.latencies...)
		for code, n := range t.statuses {
			all.statuses[code] += n
		}
		all.transport += t.transport
		all.compressed += t.compressed
		all.bytes += t.bytes
	}
	return all, elapsed
}

// loadCallCounts is how many calls each endpoint of s has received so far.
func loadCallCounts(s *sim.Simulator) map[sim.Endpoint]int {
	out := map[sim.Endpoint]int{}
	for _, ep := range sim.Endpoints() {
		out[ep] = s.Calls(ep)
	}
	return out
}

// loadPercentile is the nearest-rank q-quantile of sorted.
func loadPercentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// loadMS formats d in milliseconds, with a decimal below 10 ms.
func loadMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// loadRSS reads a process's resident memory now and at its peak from
// /proc, which only Linux has.
// loadCPU reads the CPU time a process has used, user and system, from
// /proc/<pid>/stat (in USER_HZ ticks, 100 a second on Linux).
func loadCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const userHZ = 100
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

func loadRSS(pid int) (now, peak string) {
	now, peak = "n/a", "n/a"
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return now, peak
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(val)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		mib := fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		switch key {
		case "VmRSS":
			now = mib
		case "VmHWM":
			peak = mib
		}
	}
	return now, peak
}
