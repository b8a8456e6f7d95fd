package backfill

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/inorder"
	"github.com/ferry-s3/ferry/internal/manifest"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/worker"
)

// RunManifest backfills the objects a manifest names, with the worker's
// rules (the same decisions as for an event: HEAD the source and each
// destination, then copy what is missing or different). No bucket is
// listed, so a billion-object bucket costs only the requests for the keys
// named. Entries are taken after the checkpoint's position.
func (j *Job) RunManifest(ctx context.Context, in *manifest.Input, w *worker.Worker, stats *reconcile.Stats) (Result, error) {
	if err := j.Filter.Validate(); err != nil {
		return Result{}, err
	}
	r, unlock, err := j.start(stats)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	after := r.st.Position
	if r.res.Resumed {
		r.res.From = in.String() + " after " + after.String()
	}
	src := w.Source().Name
	conc := max(j.Engine.Concurrency, 1)

	type result struct {
		pos   manifest.Position
		items []reconcile.Item
	}
	win := inorder.New(10000, func(res result) {
		for _, it := range res.items {
			r.item(it)
		}
		r.mu.Lock()
		r.st.Position = res.pos
		r.mu.Unlock()
	})
	type job struct {
		seq uint64
		e   manifest.Entry
	}
	work := make(chan job, conc*4)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range work {
				win.Done(jb.seq, result{jb.e.Pos, j.entry(ctx, w, jb.e, stats)})
			}
		}()
	}
	stop := make(chan struct{})
	done := r.checkpoints(stop)

	var last manifest.Entry // the previous entry: versions of one key come together
	err = in.Each(ctx, after, func(e manifest.Entry) error {
		if e.Key == last.Key && e.Bucket == last.Bucket && e.Pos.File == last.Pos.File {
			last = e
			return nil // the key is synced as a whole (every version)
		}
		last = e
		if !strings.HasPrefix(e.Key, j.Filter.Prefix) {
			return nil
		}
		seq, err := win.Take(ctx)
		if err != nil {
			return err
		}
		stats.Listed.Add(1)
		if e.Bucket != src {
			win.Done(seq, result{e.Pos, []reconcile.Item{failed(stats, e, fmt.Errorf(
				"the manifest names bucket %q, but the configured source is %q", e.Bucket, src))}})
			return nil
		}
		select {
		case work <- job{seq, e}:
			return nil
		case <-ctx.Done():
			return ctx.Err() // seq is never done: nothing after it is released
		}
	})
	close(work)
	wg.Wait()
	close(stop)
	<-done
	return r.finish(err)
}

// entry syncs one manifest entry and returns the items to report.
func (j *Job) entry(ctx context.Context, w *worker.Worker, e manifest.Entry, stats *reconcile.Stats) []reconcile.Item {
	keep, err := j.keepEntry(ctx, w, e)
	if err != nil {
		return []reconcile.Item{failed(stats, e, err)}
	}
	if !keep {
		stats.Filtered.Add(1)
		return nil
	}
	base := reconcile.Item{Src: "s3://" + e.Bucket, Key: e.Key, VersionID: e.VersionID}
	if j.Engine.DryRun {
		// The worker decides only by doing; a dry run says what the
		// manifest sends to it.
		it := base
		it.Action, it.Reason = plan.Copy, "named by the manifest (decided when run)"
		stats.Copied.Add(1)
		return []reconcile.Item{it}
	}
	outs := w.Sync(ctx, event.Event{Name: "ferry:Backfill", Kind: event.Put, Bucket: e.Bucket, Key: e.Key,
		VersionID: e.VersionID, Time: time.Now()})
	var items []reconcile.Item
	for _, o := range outs {
		it := base
		it.Dst, it.DstKey, it.Reason, it.Bytes, it.ServerSide, it.Err = "s3://"+o.Dest, o.DstKey, o.Reason, o.Bytes, o.ServerSide, o.Err
		if o.VersionID != "" {
			it.VersionID = o.VersionID
		}
		switch {
		case o.Err != nil:
			it.Action = plan.Copy
			stats.Failed.Add(1)
		case o.Action == worker.Copied:
			it.Action = plan.Copy
			stats.Copied.Add(1)
			stats.BytesCopied.Add(o.Bytes)
		case o.Action == worker.Deleted || o.Action == worker.DeleteMarker:
			it.Action = plan.Delete
			stats.Deleted.Add(1)
		default: // in sync, a replica, no rule: nothing done
			stats.Skipped.Add(1)
			continue
		}
		items = append(items, it)
	}
	return items
}

// keepEntry applies the date and status filters, from the inventory's
// columns when it has them, else from a HEAD of the source object.
func (j *Job) keepEntry(ctx context.Context, w *worker.Worker, e manifest.Entry) (bool, error) {
	f := j.Filter
	if f.After.IsZero() && f.Before.IsZero() && f.Status == "" {
		return true, nil
	}
	mtime, status := e.LastModified, e.ReplicationStatus
	if !e.HasFacts {
		m, err := w.Source().Head(ctx, e.Key, e.VersionID)
		if err != nil {
			return false, err
		}
		if m == nil {
			return false, nil // gone: nothing to backfill
		}
		mtime, status = m.LastModified, m.ReplicationStatus
	}
	return f.keepTime(mtime) && f.keepStatus(status), nil
}

func failed(stats *reconcile.Stats, e manifest.Entry, err error) reconcile.Item {
	stats.Failed.Add(1)
	return reconcile.Item{Src: "s3://" + e.Bucket, Key: e.Key, VersionID: e.VersionID, Action: plan.Copy, Err: err}
}
