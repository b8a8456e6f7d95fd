// Package worker brings one source key up to date at every destination the
// rules send it to. It is what an event turns into: whatever the event
// said, the worker reads the source's current state and each replica's
// origin metadata and acts on those, so duplicate, late and reordered
// events are harmless and any worker can take any key.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/rules"
	"github.com/ferry-s3/ferry/internal/store"
)

// Opener opens an endpoint; the CLI's registers its secrets for redaction.
type Opener func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error)

// Worker replicates keys of one source bucket. It is safe for concurrent
// use; two calls for the same key run one after the other.
type Worker struct {
	cfg       *config.Config
	src       *store.Bucket
	versioned bool // the source keeps versions
	dests     map[*config.Destination]*dest
	order     []*dest
	needTags  bool
	locks     keyLocks
	log       *slog.Logger
}

// dest is one destination bucket, ready to write to.
type dest struct {
	cfg       *config.Destination
	bucket    *store.Bucket
	copier    *replicate.Copier
	versioned bool
	slots     chan struct{} // per-destination concurrency cap; nil: none
	err       error         // Inspect only: why the destination did not answer
}

// New opens the source and every destination of cfg and checks that the
// buckets answer.
func New(ctx context.Context, cfg *config.Config, open Opener, opt replicate.Options, log *slog.Logger) (*Worker, error) {
	return build(ctx, cfg, open, opt, log, true)
}

// Inspect opens the source and destinations of cfg for Status only. A
// destination that does not answer is no error here: Status reports it
// per destination, so one server down does not hide the others.
func Inspect(ctx context.Context, cfg *config.Config, open Opener, log *slog.Logger) (*Worker, error) {
	return build(ctx, cfg, open, replicate.Options{}, log, false)
}

func build(ctx context.Context, cfg *config.Config, open Opener, opt replicate.Options, log *slog.Logger, strict bool) (*Worker, error) {
	srcEP, err := open(ctx, cfg.Source.Options)
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, src: &store.Bucket{EP: srcEP, Name: cfg.Source.Bucket},
		dests: map[*config.Destination]*dest{}, log: log}
	if err := w.src.Check(ctx); err != nil {
		return nil, err
	}
	if w.versioned, err = w.src.Versioned(ctx); err != nil {
		return nil, err
	}
	if cfg.Source.TargetBucketTag {
		tags, err := w.src.BucketTags(ctx)
		if err != nil {
			return nil, err
		}
		if cfg, err = cfg.WithTagTargets(tags[config.TargetBucketTag]); err != nil {
			return nil, err
		}
		w.cfg = cfg
	}
	for _, d := range cfg.Destinations {
		ep, err := open(ctx, d.Options)
		if err != nil {
			return nil, err
		}
		b := &store.Bucket{EP: ep, Name: d.Bucket}
		dopt := opt
		dopt.BytesPerSecond, _ = config.ParseBytes(d.Bandwidth) // checked by config.Load
		c, err := replicate.New(w.src, b, dopt)
		if err != nil {
			return nil, err
		}
		dd := &dest{cfg: d, bucket: b, copier: c}
		err = b.Check(ctx)
		if err == nil {
			dd.versioned, err = b.Versioned(ctx)
		}
		if err != nil {
			if strict {
				return nil, err
			}
			dd.err = failure.Dst(err)
		}
		if d.Concurrency > 0 {
			dd.slots = make(chan struct{}, d.Concurrency)
		}
		w.dests[d] = dd
		w.order = append(w.order, dd)
		w.needTags = w.needTags || needsTags(cfg, d)
	}
	return w, nil
}

// Source is the source bucket.
func (w *Worker) Source() *store.Bucket { return w.src }

// Versioned reports whether the source bucket keeps versions.
func (w *Worker) Versioned() bool { return w.versioned }

// Pairs are the source/destination pairs for a full reconcile (sync
// --config, the daemon's periodic scan): one per destination, with the
// rules applied by Select.
func (w *Worker) Pairs() []reconcile.Pair {
	var pairs []reconcile.Pair
	for _, d := range w.order {
		srcPrefix := commonPrefix(w.cfg, d.cfg)
		dstPrefix := srcPrefix
		if rw := d.cfg.KeyRewrite; rw != nil {
			// Only keys under From can be merged in order with the
			// destination listing under To.
			srcPrefix, dstPrefix = rw.From, rw.To
		}
		pairs = append(pairs, reconcile.Pair{Src: w.src, SrcPrefix: srcPrefix, Dst: d.bucket, DstPrefix: dstPrefix,
			Copier: d.copier, Select: w.selector(d.cfg)})
	}
	return pairs
}

// selector returns the rule filter for one destination.
func (w *Worker) selector(d *config.Destination) func(context.Context, object.Info) (*reconcile.Target, error) {
	tags := needsTags(w.cfg, d)
	return func(ctx context.Context, o object.Info) (*reconcile.Target, error) {
		obj := rules.Object{Key: o.Key}
		if tags {
			var err error
			if obj.Tags, err = w.src.Tags(ctx, o.Key, o.VersionID); err != nil {
				return nil, err
			}
		}
		for _, t := range w.cfg.Targets(obj) {
			if t.Dest == d {
				return &reconcile.Target{Settings: settings(t), DeleteMarkers: t.DeleteMarkers}, nil
			}
		}
		return nil, nil
	}
}

func settings(t config.Target) replicate.Settings {
	s := replicate.Settings{ACL: t.ACL, StorageClass: t.StorageClass}
	if e := t.Encryption; e != nil && e.Type != config.EncryptionNone {
		s.SSE, s.KMSKeyID = e.Type, e.KMSKeyID
	}
	return s
}

// needsTags reports whether any enabled rule for d filters on tags.
func needsTags(cfg *config.Config, d *config.Destination) bool {
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() || r.Destination.BucketName() != d.Bucket || r.Filter == nil {
			continue
		}
		if r.Filter.Tag != nil || (r.Filter.And != nil && len(r.Filter.And.Tags) > 0) {
			return true
		}
	}
	return false
}

// commonPrefix is the longest prefix shared by the enabled rules sending to
// d, so a listing covers only what they can select.
func commonPrefix(cfg *config.Config, d *config.Destination) string {
	first, p := true, ""
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() || r.Destination.BucketName() != d.Bucket {
			continue
		}
		k := r.KeyPrefix()
		if first {
			p, first = k, false
			continue
		}
		for !strings.HasPrefix(k, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// keyLocks serialises work on one key: per key, order matters (the newest
// version must be written last), and two copies of one key at once would
// only race.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (l *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[key]
		if !busy {
			ch = make(chan struct{})
			l.held[key] = ch
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				close(ch)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Error is returned by Handle when some key could not be replicated.
type Error struct {
	Outcomes []Outcome // the failed ones
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, o := range e.Outcomes {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s -> %s/%s: %s (%v)", o.Key, o.Dest, o.DstKey, o.Failure.Reason, o.Err)
	}
	return b.String()
}

// Permanent reports whether every failure is permanent: retrying cannot
// help until someone fixes the cause.
func (e *Error) Permanent() bool {
	for _, o := range e.Outcomes {
		if !o.Failure.Permanent {
			return false
		}
	}
	return true
}

// Failed returns an *Error for the failed outcomes, or nil.
func Failed(outs []Outcome) error {
	var bad []Outcome
	for _, o := range outs {
		if o.Err != nil {
			bad = append(bad, o)
		}
	}
	if bad == nil {
		return nil
	}
	return &Error{bad}
}
