package daemon

import (
	"context"
	"slices"
	"time"

	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/queue"
)

// watchThresholds tells, once per operation, when a pending operation has
// been waiting longer than its rule's replication time threshold: S3's
// OperationMissedThreshold. (An operation that completes late is told by
// account, as OperationReplicatedAfterThreshold.)
func (d *Daemon) watchThresholds(ctx context.Context) {
	shortest := d.shortestThreshold()
	// Checking a few times per threshold bounds how late the news is; the
	// cap keeps a large backlog from being read too often.
	every := min(max(shortest/4, time.Second), 30*time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		err := d.Queue.Overdue(ctx, now.Add(-shortest), func(j queue.Job) error {
			start := j.Event.Time
			if start.IsZero() || start.After(j.Enqueued) {
				start = j.Enqueued
			}
			for _, t := range d.owed(j.Event.Key, j.Owes) {
				threshold := d.Worker.Config().Threshold(t.Rule)
				if now.Sub(start) <= threshold || slices.Contains(j.Notified, t.Dest) {
					continue
				}
				marked, err := d.Queue.Notified(ctx, j.ID, t.Dest)
				if err != nil {
					return err
				}
				if !marked {
					return nil // claimed meanwhile: its worker tells
				}
				d.Metrics.Missed(t)
				d.notify(notify.MissedThreshold, j.Event, t, start, threshold, 0, j.Reason)
				d.Log.Warn("replication time threshold missed", "key", j.Event.Key, "rule", t.Rule, "dest", t.Dest,
					"threshold", threshold, "waiting", now.Sub(start).Round(time.Second), "last_failure", j.Reason)
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			d.Log.Error("threshold watch: reading the queue failed", "err", err)
		}
	}
}

func (d *Daemon) shortestThreshold() time.Duration {
	cfg := d.Worker.Config()
	shortest := cfg.Threshold("")
	for _, r := range cfg.Replication.Rules {
		shortest = min(shortest, cfg.Threshold(r.ID))
	}
	return shortest
}
