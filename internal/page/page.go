// Package page is the status page of `ferry run`: one server-rendered HTML
// page (backlog, rules, a latency chart, recent failures with Retry buttons),
// the same data as JSON, and an endpoint that re-queues FAILED operations.
//
// The daemon supplies the data through Backend; this package only presents
// it. There is no front-end build: the templates, the stylesheet and a small
// script are embedded in the binary, and the page loads nothing else.
package page

import (
	"context"
	"time"
)

// Snapshot is everything the page shows, read at one moment.
//
// In JSON (GET /api/status) durations are integer nanoseconds, in fields
// whose names end in _ns, and times are RFC 3339.
type Snapshot struct {
	Generated      time.Time `json:"generated"`
	Source         string    `json:"source"` // "s3://bucket" of the source
	Workers        int       `json:"workers"`
	Busy           int       `json:"busy"`             // worker slots in use
	BytesPerSecond float64   `json:"bytes_per_second"` // recent copy throughput
	Queue          Queue     `json:"queue"`
	Rules          []Rule    `json:"rules"`
	Latency        []Point   `json:"latency"`  // one per minute, oldest first, last hour
	Failures       []Failure `json:"failures"` // most recent first, at most ~100
}

// Queue is the backlog of the durable queue.
type Queue struct {
	Pending       int       `json:"pending"`
	Running       int       `json:"running"`
	Failed        int       `json:"failed"`
	OldestPending time.Time `json:"oldest_pending,omitzero"`
}

// Rule is one replication rule towards one destination.
type Rule struct {
	ID              string        `json:"id"`
	Destination     string        `json:"destination"`
	Prefix          string        `json:"prefix"`
	Threshold       time.Duration `json:"threshold_ns"`
	Pending         int           `json:"pending"` // operations pending
	PendingBytes    int64         `json:"pending_bytes"`
	Failed          int           `json:"failed"`           // operations FAILED now
	Completed       int64         `json:"completed"`        // since start
	MissedThreshold int64         `json:"missed_threshold"` // since start
	P50             time.Duration `json:"p50_ns"`           // replication latency, recent
	P99             time.Duration `json:"p99_ns"`
}

// Point is the replication latency of the operations completed in one
// minute. Count is zero for a minute without any.
type Point struct {
	Time  time.Time     `json:"time"`
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
}

// Failure is one operation in state FAILED.
type Failure struct {
	Key         string    `json:"key"`
	VersionID   string    `json:"version_id"`
	Rule        string    `json:"rule"`
	Destination string    `json:"destination"`
	Reason      string    `json:"reason"` // S3 vocabulary, e.g. DstPutObjectNotPermitted
	Detail      string    `json:"detail"` // the error text
	Fix         string    `json:"fix"`    // one sentence: what to do about it
	Attempts    int       `json:"attempts"`
	Since       time.Time `json:"since"` // first failure
}

// Filter selects FAILED operations to retry. Every set field must match;
// all empty selects every FAILED operation.
type Filter struct {
	Rule   string `json:"rule,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Key    string `json:"key,omitempty"`
}

// Backend is what the daemon provides to the page.
type Backend interface {
	Snapshot(ctx context.Context) (Snapshot, error)
	// Retry re-queues the FAILED operations f selects and returns how many.
	Retry(ctx context.Context, f Filter) (int, error)
}
