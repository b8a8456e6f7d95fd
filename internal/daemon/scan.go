package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/reconcile"
)

// reconcileEvery scans the source against every destination at start and
// then every interval, and queues each key found out of sync, so the
// workers (not the scan) copy it, with the same rules and per-key order as
// for events.
func (d *Daemon) reconcileEvery(ctx context.Context, every time.Duration) {
	for {
		d.Scan(ctx)
		select {
		case <-time.After(every):
		case <-ctx.Done():
			return
		}
	}
}

// scanBatch is how many keys a scan queues per transaction.
const scanBatch = 500

// Scan compares the source's current objects with every destination and
// queues the keys that differ. It returns how many it queued.
func (d *Daemon) Scan(ctx context.Context) int {
	start := time.Now()
	var mu sync.Mutex
	var batch []event.Event
	queued := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := d.Queue.Add(ctx, batch); err != nil {
			d.Log.Error("reconcile: queueing failed", "err", err)
		} else {
			queued += len(batch)
		}
		batch = batch[:0]
	}
	opt := reconcile.Options{DryRun: true, Concurrency: 8, FanOut: 8, Report: func(it reconcile.Item) {
		if it.Action != plan.Copy {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		batch = append(batch, event.Event{Name: "ferry:Reconcile", Kind: event.Put, Bucket: d.Worker.Source().Name,
			Key: it.Key, Time: time.Now()})
		if len(batch) >= scanBatch {
			flush()
		}
	}}
	var st reconcile.Stats
	err := reconcile.Run(ctx, d.Worker.Pairs(), opt, &st)
	mu.Lock()
	flush()
	mu.Unlock()
	if err != nil {
		d.Log.Warn("reconcile scan stopped", "err", err)
	}
	d.Log.Info("reconcile scan done", "listed", st.Listed.Load(), "queued", queued, "took", time.Since(start).Round(time.Millisecond))
	return queued
}
