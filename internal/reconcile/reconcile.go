// Package reconcile brings a destination in line with a source: it merges
// the two sorted listings in constant memory, decides per key with plan, and
// runs the copies and deletes on a pool of workers. `ferry sync` is built on
// it; backfill and the daemon's periodic reconcile will be too.
package reconcile

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/inorder"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

// Pair is one source prefix mapped onto one destination prefix: a source
// key SrcPrefix+rest is written as DstPrefix+rest. Replacing one prefix by
// another keeps key order, which is what lets the listings merge.
type Pair struct {
	Src       store.Store
	SrcPrefix string
	Dst       store.Store
	DstPrefix string
	Copier    *replicate.Copier
	Settings  replicate.Settings
	// StartAfter resumes a run: only source keys after it are considered
	// (a checkpoint from Options.Mark).
	StartAfter string
	// Select, if set, applies rule filters: it returns what the rules say
	// for a source object at this destination, or nil if no rule sends it
	// there. It may do I/O (tags), so workers call it.
	Select func(ctx context.Context, o object.Info) (*Target, error)
}

// Target is what the rules say for one object at a pair's destination.
type Target struct {
	Settings replicate.Settings
	// DeleteMarkers: the rule's DeleteMarkerReplication (with Versions,
	// delete markers are replayed per the rule, not per Options).
	DeleteMarkers bool
}

// Options control a run.
type Options struct {
	Concurrency int  // parallel operations (default 16)
	Delete      bool // delete destination keys absent at the source
	DryRun      bool // decide and report, change nothing
	// Versions replicates every version of each key, oldest first, onto a
	// versioned destination; DeleteMarkers also replays delete markers.
	Versions      bool
	DeleteMarkers bool
	// Filter, if set, keeps or drops a source object before anything else
	// is decided (backfill's date and status filters). It may do I/O.
	// Dropped objects are counted as Filtered. Not used with Versions.
	Filter func(ctx context.Context, o object.Info) (bool, error)
	// Report is called once per key acted on or failed (not for keys in
	// sync), in key order within a pair, one call at a time.
	Report func(Item)
	// Mark is called after Report each time every source key of pairs[i]
	// up to key is finished: a checkpoint to resume from (Pair.StartAfter).
	Mark func(pair int, key string)
	// FanOut is how many key ranges of a bucket are listed at once.
	FanOut int
}

// Item is the outcome for one key.
type Item struct {
	Src, Dst   string // store names
	Key        string // source key
	DstKey     string
	VersionID  string
	Action     plan.Action
	Reason     string
	Bytes      int64
	ServerSide bool
	Err        error
}

// Stats are the totals of a run; safe to read while it runs.
type Stats struct {
	Listed, Copied, Skipped, Deleted, Failed, Filtered atomic.Int64
	BytesCopied, BytesPlanned                          atomic.Int64
}

// Run reconciles every pair and returns when all work is done. The error is
// for the run as a whole (a listing failed); per-key failures are counted
// and reported.
func Run(ctx context.Context, pairs []Pair, opt Options, st *Stats) error {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.Report == nil {
		opt.Report = func(Item) {}
	}
	if opt.Mark == nil {
		opt.Mark = func(int, string) {}
	}
	work := make(chan task, opt.Concurrency*4)
	var wg sync.WaitGroup
	for range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				t.win.Done(t.seq, outcome{key: t.srcKey(), items: t.run(ctx, opt, st)})
			}
		}()
	}
	var err error
	for i := range pairs {
		p := &pairs[i]
		for _, s := range []store.Store{p.Src, p.Dst} {
			if b, ok := s.(*store.Bucket); ok && opt.FanOut > 0 {
				b.FanOut = opt.FanOut
			}
		}
		win := inorder.New(windowSize, func(o outcome) {
			for _, it := range o.items {
				opt.Report(it)
			}
			opt.Mark(i, o.key)
		})
		if opt.Versions {
			err = mergeVersions(ctx, p, opt, st, feed(ctx, win, work))
		} else {
			err = merge(ctx, p, opt, st, feed(ctx, win, work))
		}
		if err != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return err
}

// feed returns the merge's way to hand a task to the workers: in window
// win's order, waiting while the window is full.
func feed(ctx context.Context, win *inorder.Window[outcome], work chan<- task) func(task) error {
	return func(t task) error {
		seq, err := win.Take(ctx)
		if err != nil {
			return err
		}
		t.win, t.seq = win, seq
		work <- t
		return nil
	}
}

// task is one key's work for a worker.
type task struct {
	win *inorder.Window[outcome]
	seq uint64
	p   *Pair
	src *object.Info // nil: destination-only key
	dst *object.Info // nil: absent at the destination
	key string       // destination key
	// With --versions: the key's whole history on each side.
	srcVersions, dstVersions history
}

// merge walks both listings in step. Each listing runs in its own goroutine
// feeding a small channel, so memory stays constant whatever the size.
func merge(ctx context.Context, p *Pair, opt Options, st *Stats, send func(task) error) error {
	dstAfter, done := p.dstStartAfter()
	if done {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcC, srcErr := listing(ctx, p.Src, p.SrcPrefix, p.StartAfter)
	dstC, dstErr := listing(ctx, p.Dst, p.DstPrefix, dstAfter)
	var s, d object.Info
	var sOK, dOK bool
	// nextSrc stops the merge when the source listing ends in an error: a
	// destination key after that point only looks absent at the source,
	// and --delete must never act on a listing that did not finish.
	nextSrc := func() error {
		if s, sOK = <-srcC; !sOK {
			return <-srcErr // sent before the channel is closed
		}
		return nil
	}
	if err := nextSrc(); err != nil {
		return err
	}
	d, dOK = <-dstC
	for sOK || dOK {
		var sKey string
		if sOK {
			sKey = p.DstPrefix + strings.TrimPrefix(s.Key, p.SrcPrefix)
		}
		switch {
		case sOK && (!dOK || sKey < d.Key):
			st.Listed.Add(1)
			if err := send(task{p: p, src: ptr(s), key: sKey}); err != nil {
				return err
			}
			if err := nextSrc(); err != nil {
				return err
			}
		case sOK && sKey == d.Key:
			st.Listed.Add(1)
			if err := send(task{p: p, src: ptr(s), dst: ptr(d), key: sKey}); err != nil {
				return err
			}
			if err := nextSrc(); err != nil {
				return err
			}
			d, dOK = <-dstC
		default: // destination-only key
			if opt.Delete {
				if err := send(task{p: p, dst: ptr(d), key: d.Key}); err != nil {
					return err
				}
			}
			d, dOK = <-dstC
		}
	}
	return <-dstErr
}

// dstStartAfter maps StartAfter, a source key, onto the destination's
// listing. done: every key of the pair sorts before StartAfter.
func (p *Pair) dstStartAfter() (after string, done bool) {
	switch {
	case p.StartAfter == "":
		return "", false
	case strings.HasPrefix(p.StartAfter, p.SrcPrefix):
		return p.DstPrefix + strings.TrimPrefix(p.StartAfter, p.SrcPrefix), false
	case p.StartAfter < p.SrcPrefix:
		return "", false
	}
	return "", true
}

// srcKey is the source key a task covers, in the source's key space (a
// destination-only key is mapped back), for checkpoints.
func (t task) srcKey() string {
	switch {
	case t.src != nil:
		return t.src.Key
	case len(t.srcVersions) > 0:
		return t.srcVersions[0].Key
	}
	return t.p.SrcPrefix + strings.TrimPrefix(t.key, t.p.DstPrefix)
}

// outcome is what a finished task leaves: its items to report, and the
// source key it covered (the pair's checkpoint once it is released).
type outcome struct {
	key   string
	items []Item
}

// windowSize bounds how far the merge runs ahead of the oldest task still
// running; the outcomes held meanwhile are small (keys in sync have none).
const windowSize = 10000

// ptr copies o, so a worker's view is not overwritten by the next receive.
func ptr(o object.Info) *object.Info { return &o }

func listing(ctx context.Context, s store.Store, prefix, startAfter string) (<-chan object.Info, <-chan error) {
	out := make(chan object.Info, 1000)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- s.List(ctx, prefix, startAfter, func(o object.Info) error {
			select {
			case out <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return out, errc
}

// run does one task and returns the items to report.
func (t task) run(ctx context.Context, opt Options, st *Stats) []Item {
	var out items
	if t.srcVersions != nil {
		t.runVersions(ctx, opt, st, &out)
		return out
	}
	it := Item{Src: t.p.Src.String(), Dst: t.p.Dst.String(), DstKey: t.key}
	if t.src == nil {
		it.Key, it.Action, it.Reason = t.key, plan.Delete, "absent at source"
		if !opt.DryRun {
			it.Err = deleteKey(ctx, t.p.Dst, t.key)
		}
		out.add(it, st)
		return out
	}
	it.Key, it.VersionID, it.Bytes = t.src.Key, t.src.VersionID, t.src.Size
	if opt.Filter != nil {
		keep, err := opt.Filter(ctx, *t.src)
		if err != nil {
			it.Action, it.Err = plan.Copy, err
			out.add(it, st)
			return out
		}
		if !keep {
			st.Filtered.Add(1)
			return nil
		}
	}
	settings := t.p.Settings
	if t.p.Select != nil {
		target, err := t.p.Select(ctx, *t.src)
		if err != nil || target == nil {
			it.Action, it.Reason, it.Err = plan.Skip, "no rule applies", err
			out.add(it, st)
			return out
		}
		settings = target.Settings
	}
	d := plan.Decide(kindOf(t.p), *t.src, t.dst)
	if d.Action == plan.CheckHead {
		meta, err := t.p.Dst.(*store.Bucket).Head(ctx, t.key, "")
		if err != nil {
			it.Action, it.Err = plan.Copy, err
			out.add(it, st)
			return out
		}
		d = plan.DecideByOrigin(*t.src, meta)
	}
	it.Action, it.Reason = d.Action, d.Reason
	if d.Action == plan.Copy && !opt.DryRun {
		res, err := t.p.Copier.Copy(ctx, replicate.Job{Src: *t.src, DstKey: t.key, Settings: settings})
		it.Err, it.ServerSide = err, res.ServerSide
		if err == nil {
			st.BytesCopied.Add(res.Bytes)
		}
	}
	out.add(it, st)
	return out
}

// items collects a task's outcomes: every one is counted, and those acted
// on or failed are kept for the report.
type items []Item

func (out *items) add(it Item, st *Stats) {
	switch {
	case it.Err != nil:
		st.Failed.Add(1)
	case it.Action == plan.Skip:
		st.Skipped.Add(1)
		return // keys in sync are not reported one by one
	case it.Action == plan.Copy:
		st.Copied.Add(1)
		st.BytesPlanned.Add(it.Bytes)
	case it.Action == plan.Delete:
		st.Deleted.Add(1)
	}
	*out = append(*out, it)
}

func kindOf(p *Pair) plan.Kind {
	if _, ok := p.Src.(*store.Dir); ok {
		return plan.DirToBucket
	}
	if _, ok := p.Dst.(*store.Dir); ok {
		return plan.BucketToDir
	}
	return plan.BucketToBucket
}

func deleteKey(ctx context.Context, s store.Store, key string) error {
	switch d := s.(type) {
	case *store.Bucket:
		_, err := d.EP.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Name), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("delete %s/%s: %w", d, key, err)
		}
		return nil
	case *store.Dir:
		return os.Remove(d.Path(key))
	}
	return fmt.Errorf("cannot delete from %T", s)
}
