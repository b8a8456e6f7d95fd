package daemon

import (
	"context"
	"slices"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/metrics"
	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/worker"
)

// An operation is one key (or version) to one destination through one
// rule. Every operation the daemon is given is, at any moment, in exactly
// one of three places: pending (the queue owes it), FAILED (kept for
// `ferry retry`), or counted done (completed or skipped). The backlog is
// read from the queue; account moves the counters when a job ends.

// end is how a job's attempt ended.
type end int

const (
	ended    end = iota // done, or failed for good: nothing more will be tried
	retrying            // failed, to be tried again
)

// result is what one attempt did for one operation.
type result struct {
	bytes   int64
	wrote   bool            // something was written (a copy, a delete marker, a delete)
	failure failure.Failure // the first failure; zero if none
}

// group folds outcomes (one per version, per destination) into one result
// per operation. A failure without a destination (the source could not be
// read) stands for every operation the job owes.
func (d *Daemon) group(key string, owes func(string) bool, outs []worker.Outcome) map[worker.Target]*result {
	rs := map[worker.Target]*result{}
	get := func(t worker.Target) *result {
		r := rs[t]
		if r == nil {
			r = &result{}
			rs[t] = r
		}
		return r
	}
	for _, o := range outs {
		ts := []worker.Target{{Rule: o.Rule, Dest: o.Dest}}
		if o.Dest == "" {
			if o.Err == nil {
				continue // a replica, or no rule: no operation
			}
			ts = d.owed(key, owes)
		}
		for _, t := range ts {
			r := get(t)
			r.bytes += o.Bytes
			switch {
			case o.Err != nil && r.failure.Reason == "":
				r.failure = o.Failure
			case o.Action == worker.Copied || o.Action == worker.DeleteMarker || o.Action == worker.Deleted:
				r.wrote = true
			}
		}
	}
	return rs
}

// owed are the operations the rules give key by name that owes accepts.
func (d *Daemon) owed(key string, owes func(string) bool) []worker.Target {
	var ts []worker.Target
	for _, t := range d.Worker.KeyTargets(key) {
		if owes == nil || owes(t.Dest) {
			ts = append(ts, t)
		}
	}
	return ts
}

// account counts the end of one attempt at ev's key and sends the
// notifications it calls for. notified are the operations already told
// they missed their threshold.
func (d *Daemon) account(ev event.Event, enqueued time.Time, owes func(string) bool, notified []string, outs []worker.Outcome, how end) {
	now := time.Now()
	start := ev.Time
	if start.IsZero() || start.After(now) {
		start = enqueued
	}
	rs := d.group(ev.Key, owes, outs)
	for t, r := range rs {
		threshold := d.Worker.Config().Threshold(t.Rule)
		if r.failure.Reason != "" {
			if how == retrying {
				d.Metrics.Retry(r.failure.Reason)
				continue
			}
			d.Metrics.Failed(t, r.failure.Reason)
			d.notify(notify.FailedReplication, ev, t, start, threshold, 0, r.failure.Reason)
			continue
		}
		var took time.Duration
		if r.wrote {
			took = now.Sub(start)
		}
		d.Metrics.Completed(t, r.bytes, took, now)
		if took > threshold {
			if !slices.Contains(notified, t.Dest) {
				d.Metrics.Missed(t)
			}
			d.notify(notify.ReplicatedAfterThreshold, ev, t, start, threshold, took, "")
		}
	}
	if how == retrying {
		return
	}
	// Operations the name promised but the object did not need: a
	// replica, or a tag filter that did not match.
	for _, t := range d.owed(ev.Key, owes) {
		if rs[t] == nil {
			d.Metrics.Skipped(t)
		}
	}
}

// superseded counts the operations of a FAILED job that a later success
// of the same key has made right.
func (d *Daemon) superseded(key string, fails []queue.Failure) {
	seen := map[worker.Target]bool{}
	for _, f := range fails {
		ts := []worker.Target{{Rule: f.Rule, Dest: f.Dest}}
		if f.Dest == "" {
			ts = d.owed(key, nil)
		}
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				d.Metrics.Completed(t, 0, 0, time.Now())
			}
		}
	}
}

func (d *Daemon) notify(kind notify.Kind, ev event.Event, t worker.Target, start time.Time, threshold, took time.Duration, reason string) {
	op := notify.OpObjectPut
	switch {
	case ev.Kind == event.Delete && d.Worker.Versioned():
		op = notify.OpDeleteMarkerPut
	case ev.Kind == event.Delete:
		op = notify.OpObjectDelete
	}
	d.Notify.Send(notify.Event{Kind: kind, Time: time.Now(), Region: ev.Region, Bucket: ev.Bucket, Key: ev.Key,
		VersionID: ev.VersionID, ETag: ev.ETag, Sequencer: ev.Sequencer, Size: ev.Size, RuleID: t.Rule,
		DestBucket: t.Dest, Operation: op, RequestTime: start, FailureReason: reason, Threshold: threshold,
		ReplicationTime: took})
}

// failures turns a failed attempt's outcomes into the queue's record.
func failures(outs []worker.Outcome) []queue.Failure {
	var fs []queue.Failure
	for _, o := range outs {
		if o.Err != nil {
			fs = append(fs, queue.Failure{Rule: o.Rule, Dest: o.Dest, DstKey: o.DstKey, VersionID: o.VersionID,
				Reason: o.Failure.Reason, Detail: o.Err.Error()})
		}
	}
	return fs
}

// backlog reads the operations pending and FAILED from the queue, plus
// those the SQS and NATS intakes are working on.
func (d *Daemon) backlog(ctx context.Context) (metrics.Backlog, error) {
	b := metrics.Backlog{Pending: map[worker.Target]int{}, PendingBytes: map[worker.Target]int64{},
		Failed: map[worker.Target]int{}}
	c, err := d.Queue.Counts(ctx)
	if err != nil {
		return b, err
	}
	b.Jobs = metrics.Jobs{Pending: c.Pending, Running: c.Running, Failed: c.Failed, OldestPending: c.OldestPending}
	pending := func(key string, size int64, owes func(string) bool) {
		for _, t := range d.owed(key, owes) {
			b.Pending[t]++
			b.PendingBytes[t] += size
		}
	}
	err = d.Queue.Jobs(ctx, func(j queue.Job) error {
		if j.State != queue.Failed {
			pending(j.Event.Key, j.Size, j.Owes)
			return nil
		}
		seen := map[worker.Target]bool{}
		for _, f := range j.Failures {
			ts := []worker.Target{{Rule: f.Rule, Dest: f.Dest}}
			if f.Dest == "" {
				ts = d.owed(j.Event.Key, j.Owes)
			}
			for _, t := range ts {
				if !seen[t] {
					seen[t] = true
					b.Failed[t]++
				}
			}
		}
		return nil
	})
	for _, ev := range d.inflight.list() {
		pending(ev.Key, ev.Size, nil)
	}
	return b, err
}
