package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lightcc-dashboard/lightcc"
)

// Metrics are the console's Prometheus measurements: upstream calls by
// endpoint and outcome with their latency, what the cache saved, page
// latency by route, and live sessions.
type Metrics struct {
	reg       *prometheus.Registry
	upstream  *prometheus.CounterVec
	upLatency *prometheus.HistogramVec
	cache     *prometheus.CounterVec
	pages     *prometheus.HistogramVec
}

// NewMetrics registers the collectors; sessions counts live sessions.
func NewMetrics(sessions func(ctx context.Context) (int, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lightcc_upstream_requests_total", Help: "Calls to the LightCC API by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		upLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lightcc_upstream_request_duration_seconds", Help: "Latency of LightCC API calls (retries included).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashboard_upstream_reads_total", Help: "Upstream reads by how they were served: cached, coalesced (shared a call in flight) or sent.",
		}, []string{"endpoint", "how"}),
		pages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dashboard_http_request_duration_seconds", Help: "Time to answer a request, by route, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "method", "code"}),
	}
	m.reg.MustRegister(m.upstream, m.upLatency, m.cache, m.pages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dashboard_sessions_active", Help: "Sessions not expired."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := sessions(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	return m
}

// ObserveUpstream is the lightcc client's observer.
func (m *Metrics) ObserveUpstream(endpoint string, took time.Duration, err error) {
	m.upstream.WithLabelValues(endpoint, upstreamOutcome(err)).Inc()
	m.upLatency.WithLabelValues(endpoint).Observe(took.Seconds())
}

// ObserveRead is the cache's observer.
func (m *Metrics) ObserveRead(endpoint, how string) { m.cache.WithLabelValues(endpoint, how).Inc() }

func upstreamOutcome(err error) string {
	var ae *lightcc.APIError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, lightcc.ErrUnauthorized):
		return "unauthorized"
	case errors.As(err, &ae):
		return "refused"
	case errors.Is(err, lightcc.ErrTimeout):
		return "timeout"
	case errors.Is(err, lightcc.ErrStatus):
		return "http_error"
	case errors.Is(err, lightcc.ErrDecode):
		return "bad_answer"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	default:
		return "transport"
	}
}

// middleware times every request by its route pattern (never the raw
// path: ids would make the label set unbounded).
func (m *Metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status, _, _ = classify(err) // what the error handler is about to answer
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.pages.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// Handler serves the measurements in the Prometheus text format.
func (m *Metrics) Handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}
