package metrics

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/worker"
)

// Recent keeps the last hour of replication latencies and bytes, in memory
// and bounded, for the status page: a chart per minute, quantiles per
// operation, bytes per second.
type Recent struct {
	mu      sync.Mutex
	minutes [60]minute
	ops     map[worker.Target]*opRecent
	seconds [60]second
}

type minute struct {
	at      int64 // unix minute the bucket holds; a stale bucket is reset
	count   int
	samples []time.Duration // a uniform sample of at most maxSamples
}

type second struct {
	at    int64
	bytes int64
}

type opRecent struct {
	latencies []time.Duration // ring of the last maxSamples
	next      int
	missed    int64
	completed int64
}

const maxSamples = 1024

// NewRecent returns an empty Recent.
func NewRecent() *Recent { return &Recent{ops: map[worker.Target]*opRecent{}} }

// Observe records one completed operation.
func (r *Recent) Observe(t worker.Target, latency time.Duration, bytes int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.op(t)
	op.completed++
	if latency > 0 {
		if len(op.latencies) < maxSamples {
			op.latencies = append(op.latencies, latency)
		} else {
			op.latencies[op.next] = latency
			op.next = (op.next + 1) % maxSamples
		}
		m := &r.minutes[at.Unix()/60%60]
		if m.at != at.Unix()/60 {
			*m = minute{at: at.Unix() / 60, samples: m.samples[:0]}
		}
		m.count++
		// Reservoir sampling keeps every latency equally likely to be in
		// the sample, whatever the rate.
		if len(m.samples) < maxSamples {
			m.samples = append(m.samples, latency)
		} else if i := rand.IntN(m.count); i < maxSamples {
			m.samples[i] = latency
		}
	}
	s := &r.seconds[at.Unix()%60]
	if s.at != at.Unix() {
		*s = second{at: at.Unix()}
	}
	s.bytes += bytes
}

func (r *Recent) missed(t worker.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.op(t).missed++
}

func (r *Recent) op(t worker.Target) *opRecent {
	op := r.ops[t]
	if op == nil {
		op = &opRecent{}
		r.ops[t] = op
	}
	return op
}

// Point is one minute of the latency chart.
type Point struct {
	Time          time.Time
	Count         int
	P50, P95, P99 time.Duration
}

// Points are the minutes of the last hour that saw replications, oldest
// first.
func (r *Recent) Points(now time.Time) []Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ps []Point
	cur := now.Unix() / 60
	for at := cur - 59; at <= cur; at++ {
		m := r.minutes[at%60]
		if m.at != at || m.count == 0 {
			continue
		}
		q := quantiles(m.samples, 0.5, 0.95, 0.99)
		ps = append(ps, Point{Time: time.Unix(at*60, 0), Count: m.count, P50: q[0], P95: q[1], P99: q[2]})
	}
	return ps
}

// OpStats are one operation's figures since start.
type OpStats struct {
	Completed, Missed int64
	P50, P99          time.Duration // over its last 1024 replications
}

// Op returns t's figures.
func (r *Recent) Op(t worker.Target) OpStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.ops[t]
	if op == nil {
		return OpStats{}
	}
	q := quantiles(op.latencies, 0.5, 0.99)
	return OpStats{Completed: op.completed, Missed: op.missed, P50: q[0], P99: q[1]}
}

// BytesPerSecond is the replication throughput over the last minute.
func (r *Recent) BytesPerSecond(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total int64
	for _, s := range r.seconds {
		if s.at > now.Unix()-60 && s.at <= now.Unix() {
			total += s.bytes
		}
	}
	return float64(total) / 60
}

// quantiles returns the qs-quantiles of ds (nearest rank), zero if empty.
func quantiles(ds []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(ds) == 0 {
		return out
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	for i, q := range qs {
		out[i] = s[min(len(s)-1, int(q*float64(len(s))))]
	}
	return out
}
