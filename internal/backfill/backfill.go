// Package backfill copies what already exists at a source to its
// destinations, at any bucket size: from the listings (the streaming merge
// of package reconcile) or from a manifest (a CSV of S3 Batch Operations or
// an S3 Inventory report, so that no LIST is needed at all).
//
// A job is resumable: its checkpoint (the last key, or manifest row, up to
// which everything is done) and its completion report live in a directory
// of their own. A run that is killed and started again goes on after the
// checkpoint; a run of a job that completed starts a new pass.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/reconcile"
)

// Job is one backfill and where it keeps its state.
type Job struct {
	// Dir holds the checkpoint, the lock and (by default) the report.
	Dir string
	// Fingerprint names what the job does; a checkpoint with another
	// fingerprint is not resumed (the caller derives it from the config,
	// inputs and filters).
	Fingerprint string
	Restart     bool   // ignore the checkpoint: start a new pass
	ReportPath  string // completion report CSV (default Dir/report.csv)
	Filter      Filter
	// Engine sets concurrency, dry run, versions and listing fan-out; its
	// Report, Mark and Filter are the job's own.
	Engine reconcile.Options
	// OnItem, if set, also sees every reported item (the CLI prints them).
	OnItem func(reconcile.Item)
	// Every is how often the checkpoint is written (default 1s).
	Every time.Duration
	Log   *slog.Logger
}

// Result describes a run.
type Result struct {
	Resumed    bool   // the run went on from a checkpoint
	From       string // where it went on from
	ReportPath string
	// Seen counts the objects this pass has gone through, over every run
	// of it; Estimate is the previous complete pass's total (0: unknown),
	// for an ETA.
	Seen, Estimate int64
}

// Estimate returns how many objects the job's last complete pass went
// through (0 if none), for an ETA before the run starts.
func (j *Job) Estimate() int64 {
	st, err := loadState(j.Dir)
	if err != nil {
		return 0
	}
	return st.estimate(j.Fingerprint)
}

// run is the state of one run while it goes.
type run struct {
	job   *Job
	st    state
	rep   *report
	mu    sync.Mutex // guards rep, st's marks and position
	stats *reconcile.Stats
	res   Result
	seen0 int64 // Seen at the start of this run
}

// start locks the job, loads or resets its checkpoint and opens its
// report. The caller must call finish.
func (j *Job) start(stats *reconcile.Stats) (*run, func(), error) {
	if j.Every <= 0 {
		j.Every = time.Second
	}
	if j.Log == nil {
		j.Log = slog.New(slog.DiscardHandler)
	}
	unlock, err := lockDir(j.Dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := loadState(j.Dir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	r := &run{job: j, stats: stats, res: Result{ReportPath: j.ReportPath}}
	if r.res.ReportPath == "" {
		r.res.ReportPath = filepath.Join(j.Dir, "report.csv")
	}
	resume := !j.Restart && !st.Complete && st.Fingerprint == j.Fingerprint && st.Runs > 0
	if resume {
		r.res.Resumed = true
	} else {
		st = state{Fingerprint: j.Fingerprint, Started: time.Now().UTC(), LastTotal: st.estimate(j.Fingerprint)}
	}
	st.Runs++
	r.st, r.seen0 = st, st.Seen
	r.res.Estimate = st.LastTotal
	if r.rep, err = openReport(r.res.ReportPath, st.ReportBytes); err != nil {
		unlock()
		return nil, nil, err
	}
	return r, unlock, nil
}

// checkpoints writes the checkpoint every j.Every until stop is closed.
func (r *run) checkpoints(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.job.Every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := r.save(false); err != nil {
					r.job.Log.Warn("backfill: checkpoint not written", "err", err)
				}
			}
		}
	}()
	return done
}

// save makes the report durable, then records the checkpoint that matches
// it.
func (r *run) save(complete bool) error {
	// Under the lock only what must match: the rows written so far and
	// the marks they account for. Every key's mark takes this lock, so
	// the slow part, fsync, is done after it is released.
	r.mu.Lock()
	n, err := r.rep.flush()
	if err != nil {
		r.mu.Unlock()
		return err
	}
	st := r.st
	st.Marks = append([]string(nil), r.st.Marks...)
	r.mu.Unlock()
	if err := r.rep.fsync(); err != nil {
		return err
	}
	st.ReportBytes = n
	st.Updated = time.Now().UTC()
	st.Seen = r.seen0 + r.stats.Listed.Load()
	st.Complete = complete
	return st.save(r.job.Dir)
}

// finish writes the last checkpoint (complete if err is nil) and closes
// the report.
func (r *run) finish(runErr error) (Result, error) {
	err := r.save(runErr == nil)
	if cerr := r.rep.close(); err == nil {
		err = cerr
	}
	r.res.Seen = r.seen0 + r.stats.Listed.Load()
	return r.res, errors.Join(runErr, err)
}

// item records one reported item: a report row, and the caller's hook.
// Called in order, one at a time (the in-order window releases them).
func (r *run) item(it reconcile.Item) {
	row := Row{Bucket: bucketName(it.Src), Key: it.Key, VersionID: it.VersionID, Dest: bucketName(it.Dst),
		DestKey: it.DstKey, Action: it.Action.String(), Status: "COMPLETED", Detail: it.Reason}
	switch {
	case it.Err != nil:
		f := failure.Classify(it.Err)
		row.Status, row.Reason, row.Detail = "FAILED", f.Reason, it.Err.Error()
	case r.job.Engine.DryRun:
		row.Status = "PLANNED"
	}
	r.mu.Lock()
	r.rep.add(row)
	r.mu.Unlock()
	if r.job.OnItem != nil {
		r.job.OnItem(it)
	}
}

func bucketName(s string) string { return strings.TrimPrefix(s, "s3://") }

// RunListing backfills every pair from the listings: the streaming merge of
// package reconcile, resumed after the checkpoint's key for each pair.
func (j *Job) RunListing(ctx context.Context, pairs []reconcile.Pair, stats *reconcile.Stats) (Result, error) {
	if err := j.Filter.Validate(); err != nil {
		return Result{}, err
	}
	var use []reconcile.Pair
	for _, p := range pairs {
		if np, ok := j.Filter.narrow(p); ok {
			use = append(use, np)
		}
	}
	if len(use) == 0 {
		return Result{}, fmt.Errorf("no rule covers prefix %q", j.Filter.Prefix)
	}
	r, unlock, err := j.start(stats)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if len(r.st.Marks) != len(use) {
		if r.res.Resumed {
			j.Log.Warn("backfill: checkpoint does not match the pairs; starting over")
			r.res.Resumed = false
		}
		r.st.Marks = make([]string, len(use))
	}
	var from []string
	for i := range use {
		use[i].StartAfter = r.st.Marks[i]
		if m := r.st.Marks[i]; m != "" {
			from = append(from, m)
		}
	}
	r.res.From = strings.Join(from, ", ")
	opt := j.Engine
	opt.Filter = j.Filter.forListing(use)
	opt.Report = r.item
	opt.Mark = func(i int, key string) {
		r.mu.Lock()
		r.st.Marks[i] = key
		r.mu.Unlock()
	}
	stop := make(chan struct{})
	done := r.checkpoints(stop)
	err = reconcile.Run(ctx, use, opt, stats)
	close(stop)
	<-done
	return r.finish(err)
}
