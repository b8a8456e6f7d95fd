package daemon

import (
	"context"
	"time"

	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/page"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/shared"
	"github.com/ferry-s3/ferry/internal/worker"
)

// pageBackend gives the status page the daemon's figures.
type pageBackend struct{ d *Daemon }

// maxFailures is how many FAILED operations the page lists.
const maxFailures = 100

func (p pageBackend) Snapshot(ctx context.Context) (page.Snapshot, error) {
	d := p.d
	now := time.Now()
	s := page.Snapshot{Generated: now, Source: d.Worker.Source().String(), Workers: d.Run.Workers,
		Busy: d.Metrics.BusyNow(), BytesPerSecond: d.Metrics.Recent.BytesPerSecond(now)}
	b, err := d.backlog(ctx)
	if err != nil {
		return s, err
	}
	s.Queue = page.Queue{Pending: b.Jobs.Pending, Running: b.Jobs.Running, Failed: b.Jobs.Failed, OldestPending: b.Jobs.OldestPending}
	cfg := d.Worker.Config()
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() {
			continue
		}
		t := worker.Target{Rule: r.ID, Dest: r.Destination.BucketName()}
		st := d.Metrics.Recent.Op(t)
		s.Rules = append(s.Rules, page.Rule{ID: r.ID, Destination: t.Dest, Prefix: r.KeyPrefix(),
			Threshold: cfg.Threshold(r.ID), Pending: b.Pending[t], PendingBytes: b.PendingBytes[t], Failed: b.Failed[t],
			Completed: st.Completed, MissedThreshold: st.Missed, P50: st.P50, P99: st.P99})
	}
	for _, pt := range d.Metrics.Recent.Points(now) {
		s.Latency = append(s.Latency, page.Point{Time: pt.Time, Count: pt.Count, P50: pt.P50, P95: pt.P95, P99: pt.P99})
	}
	// Failed lists oldest first; keep the newest maxFailures.
	var fs []page.Failure
	err = d.failureLog().Failed(ctx, func(j queue.Job) error {
		for _, f := range j.Failures {
			fs = append(fs, page.Failure{Key: j.Event.Key, VersionID: f.VersionID, Rule: f.Rule, Destination: f.Dest,
				Reason: f.Reason, Detail: f.Detail, Fix: failure.Fix(f.Reason), Attempts: j.Attempts, Since: j.FirstFailed})
		}
		if len(fs) > 2*maxFailures {
			fs = fs[len(fs)-maxFailures:]
		}
		return nil
	})
	if len(fs) > maxFailures {
		fs = fs[len(fs)-maxFailures:]
	}
	for i := len(fs) - 1; i >= 0; i-- {
		s.Failures = append(s.Failures, fs[i])
	}
	return s, err
}

// Retry re-queues; the page's handler logs it.
func (p pageBackend) Retry(ctx context.Context, f page.Filter) (int, error) {
	return p.d.failureLog().Requeue(ctx, queue.Match{Rule: f.Rule, Prefix: f.Prefix, Key: f.Key}.Accepts)
}

// failureLog is where this daemon keeps its FAILED keys: the local queue,
// the state shared with the other processes on its JetStream consumer, or
// both when the webhook is on beside NATS.
func (d *Daemon) failureLog() shared.FailureLog {
	switch {
	case d.Shared == nil:
		return d.Queue
	case d.Run.Webhook.Disabled:
		return d.Shared
	}
	return shared.Join(d.Shared, d.Queue)
}
