// Package metrics counts what replication does, in the terms of S3's
// replication metrics (operations and bytes pending, operations failed,
// replication latency, operations that missed the replication time
// threshold) per rule and destination, for Prometheus (/metrics), the
// status page and, in Lambda, CloudWatch embedded-metric-format lines.
//
// Counters move when an operation ends; the backlog (pending and FAILED
// operations, queue depth) is read from the durable queue when scraped, so
// it is right after a restart and never drifts from what will be done.
package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ferry-s3/ferry/internal/worker"
)

// Backlog is the work not yet done, per operation.
type Backlog struct {
	Pending      map[worker.Target]int   // operations queued or running
	PendingBytes map[worker.Target]int64 // their sizes, per the events
	Failed       map[worker.Target]int   // operations FAILED, waiting for `ferry retry`
	Jobs         Jobs
}

// Jobs is the queue's depth, in keys.
type Jobs struct {
	Pending, Running, Failed int
	OldestPending            time.Time
}

// Metrics holds ferry's Prometheus metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	Registry *prometheus.Registry
	Recent   *Recent

	completed, bytes, missed, skipped *prometheus.CounterVec
	failures, retries                 *prometheus.CounterVec
	latency                           *prometheus.HistogramVec
	events                            *prometheus.CounterVec
	workers, busy                     prometheus.Gauge
	busyNow                           atomic.Int64
}

var opLabels = []string{"rule", "destination"}

// LatencyBuckets span a fast local copy to S3's 15-minute threshold and
// beyond, in seconds.
var LatencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600}

// New registers the metrics. backlog is called at most once per scrape,
// less often when it is slow.
func New(backlog func(context.Context) (Backlog, error)) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), Recent: NewRecent()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.Registry.MustRegister(c)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		m.Registry.MustRegister(g)
		return g
	}
	m.completed = counter("ferry_replication_operations_completed_total",
		"Operations (a key or version, to one destination) replicated, or found already replicated.", opLabels...)
	m.bytes = counter("ferry_replication_bytes_total", "Bytes replicated (rate() of it is bytes/s).", opLabels...)
	m.missed = counter("ferry_replication_operations_missed_threshold_total",
		"Operations that took longer than their rule's replication time threshold (S3: OperationsMissedThreshold).", opLabels...)
	m.skipped = counter("ferry_replication_operations_skipped_total",
		"Operations the rules named by key that needed nothing once the object was read (a replica, or a tag filter that did not match).", opLabels...)
	m.failures = counter("ferry_replication_operations_failed_total",
		"Operations that failed for good, by S3 failure reason (S3: OperationsFailedReplication).", "rule", "destination", "reason")
	m.retries = counter("ferry_replication_retries_total", "Failed attempts that will be retried (transient causes), by reason.", "reason")
	m.events = counter("ferry_events_received_total", "S3 event records accepted, by intake.", "intake")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ferry_replication_latency_seconds",
		Help:    "Time from the source operation (the event's time) to its replica being written (S3: ReplicationLatency).",
		Buckets: LatencyBuckets}, opLabels)
	m.Registry.MustRegister(m.latency)
	m.workers = gauge("ferry_workers", "Worker slots: keys replicated at once.")
	m.busy = gauge("ferry_workers_busy", "Workers replicating a key now (utilisation = busy / workers).")
	m.Registry.MustRegister(&backlogCollector{fetch: backlog},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Notifications exposes the notifier's counts of messages sent, failed
// (every retry spent) and dropped (buffer full).
func (m *Metrics) Notifications(stats func() (sent, failed, dropped uint64)) {
	for i, result := range []string{"sent", "failed", "dropped"} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ferry_notifications_total",
			Help:        "Replication notifications (S3's event format) by result: sent, failed after retries, dropped (buffer full).",
			ConstLabels: prometheus.Labels{"result": result}}, func() float64 {
			s, f, d := stats()
			return float64([]uint64{s, f, d}[i])
		}))
	}
}

// Workers sets the number of worker slots.
func (m *Metrics) Workers(n int) { m.workers.Set(float64(n)) }

// Busy counts a worker at work until the returned func is called.
func (m *Metrics) Busy() (done func()) {
	m.busy.Inc()
	m.busyNow.Add(1)
	return func() {
		m.busy.Dec()
		m.busyNow.Add(-1)
	}
}

// BusyNow is how many workers are at work.
func (m *Metrics) BusyNow() int { return int(m.busyNow.Load()) }

// Event counts n event records received by intake.
func (m *Metrics) Event(intake string, n int) { m.events.WithLabelValues(intake).Add(float64(n)) }

// Completed counts an operation done. latency is zero when nothing was
// written (already in sync): it is then not observed.
func (m *Metrics) Completed(t worker.Target, bytes int64, latency time.Duration, at time.Time) {
	m.completed.WithLabelValues(t.Rule, t.Dest).Inc()
	m.bytes.WithLabelValues(t.Rule, t.Dest).Add(float64(bytes))
	if latency > 0 {
		m.latency.WithLabelValues(t.Rule, t.Dest).Observe(latency.Seconds())
	}
	m.Recent.Observe(t, latency, bytes, at)
}

// Missed counts an operation that passed its replication time threshold.
func (m *Metrics) Missed(t worker.Target) {
	m.missed.WithLabelValues(t.Rule, t.Dest).Inc()
	m.Recent.missed(t)
}

// Skipped counts an operation that turned out to need nothing.
func (m *Metrics) Skipped(t worker.Target) { m.skipped.WithLabelValues(t.Rule, t.Dest).Inc() }

// Failed counts an operation that failed for good.
func (m *Metrics) Failed(t worker.Target, reason string) {
	m.failures.WithLabelValues(t.Rule, t.Dest, reason).Inc()
}

// Retry counts a failed attempt that will be retried.
func (m *Metrics) Retry(reason string) { m.retries.WithLabelValues(reason).Inc() }

// backlogCollector turns a Backlog into gauges at scrape time.
type backlogCollector struct {
	fetch func(context.Context) (Backlog, error)

	mu   sync.Mutex
	at   time.Time
	took time.Duration
	last Backlog
	err  error
}

var (
	pendingDesc = prometheus.NewDesc("ferry_replication_operations_pending",
		"Operations queued or running (S3: OperationsPendingReplication).", opLabels, nil)
	pendingBytesDesc = prometheus.NewDesc("ferry_replication_bytes_pending",
		"Bytes of the operations pending (S3: BytesPendingReplication).", opLabels, nil)
	failedDesc = prometheus.NewDesc("ferry_replication_operations_failed",
		"Operations FAILED now, waiting for their cause to be fixed and `ferry retry`.", opLabels, nil)
	jobsDesc   = prometheus.NewDesc("ferry_queue_jobs", "Keys in the durable queue, by state.", []string{"state"}, nil)
	oldestDesc = prometheus.NewDesc("ferry_queue_oldest_pending_seconds",
		"Age of the oldest pending key (0 when none).", nil, nil)
	backlogErrDesc = prometheus.NewDesc("ferry_backlog_read_errors", "1 when the queue could not be read for this scrape.", nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pendingDesc, pendingBytesDesc, failedDesc, jobsDesc, oldestDesc, backlogErrDesc} {
		ch <- d
	}
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	b, err := c.get()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if err != nil {
		gauge(backlogErrDesc, 1)
		return
	}
	gauge(backlogErrDesc, 0)
	for t, n := range b.Pending {
		gauge(pendingDesc, float64(n), t.Rule, t.Dest)
		gauge(pendingBytesDesc, float64(b.PendingBytes[t]), t.Rule, t.Dest)
	}
	for t, n := range b.Failed {
		gauge(failedDesc, float64(n), t.Rule, t.Dest)
	}
	gauge(jobsDesc, float64(b.Jobs.Pending), "pending")
	gauge(jobsDesc, float64(b.Jobs.Running), "running")
	gauge(jobsDesc, float64(b.Jobs.Failed), "failed")
	age := 0.0
	if !b.Jobs.OldestPending.IsZero() {
		age = time.Since(b.Jobs.OldestPending).Seconds()
	}
	gauge(oldestDesc, age)
}

// get returns the backlog. It is read afresh unless the last read was
// slow (a large backlog): then it is reused for ten times as long as the
// read took, so scrapes spend at most a tenth of the time reading it.
func (c *backlogCollector) get() (Backlog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 10*c.took {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c.last, c.err = c.fetch(ctx)
	c.at, c.took = time.Now(), time.Since(start)
	return c.last, c.err
}
