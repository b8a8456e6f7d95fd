package worker

import (
	"context"
	"errors"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/rules"
	"github.com/ferry-s3/ferry/internal/store"
)

// Target is one operation a key gives rise to: a rule sending it to a
// destination bucket.
type Target struct{ Rule, Dest string }

// KeyTargets are the operations the rules give key by its name alone.
// Rules that filter on tags are left out: their answer needs the object's
// tags, which only a request can tell.
func (w *Worker) KeyTargets(key string) []Target {
	var ts []Target
	for _, t := range w.cfg.Targets(rules.Object{Key: key}) {
		ts = append(ts, Target{Rule: t.Rule.ID, Dest: t.Dest.Bucket})
	}
	return ts
}

// Config is the configuration the worker runs, with destinations from the
// source's tags added.
func (w *Worker) Config() *config.Config { return w.cfg }

// KeyStatus is what the buckets say about one source object version.
type KeyStatus struct {
	Key, VersionID string
	Size           int64
	LastModified   time.Time
	Exists         bool           // false: no such key (or version) at the source
	Origin         *object.Origin // set when the object is itself a replica
	Dests          []DestStatus   // one per destination the rules send it to
}

// DestStatus says whether one destination holds a replica of the version.
type DestStatus struct {
	Rule, Dest, DstKey string
	InSync             bool
	Why                string        // the decision's reason ("missing at destination", ...)
	Took               time.Duration // for a replica: its write time minus the source's
	Err                error         // the destination could not be read: InSync is unknown
}

// Status reads, without changing anything, whether each destination the
// rules send key to holds a replica of its version versionID (the current
// version if empty).
func (w *Worker) Status(ctx context.Context, key, versionID string) (KeyStatus, error) {
	ks := KeyStatus{Key: key}
	cur, err := w.src.Head(ctx, key, versionID)
	if err != nil {
		return ks, failure.Src(err)
	}
	if cur == nil || cur.DeleteMarker {
		return ks, nil
	}
	ks.Exists, ks.VersionID, ks.Size, ks.LastModified = true, cur.VersionID, cur.Size, cur.LastModified
	if o, ok := object.ParseOrigin(cur.UserMeta); ok {
		ks.Origin = &o
		return ks, nil
	}
	if cur.ReplicationStatus == "REPLICA" {
		ks.Origin = &object.Origin{}
		return ks, nil
	}
	obj := rules.Object{Key: key, SSEKMS: cur.SSE == "aws:kms"}
	if w.needTags {
		if obj.Tags, err = w.src.Tags(ctx, key, cur.VersionID); err != nil {
			return ks, failure.Src(err)
		}
	}
	for _, t := range w.cfg.Targets(obj) {
		d := w.dests[t.Dest]
		ds := DestStatus{Rule: t.Rule.ID, Dest: d.bucket.Name, DstKey: t.Key, Err: d.err}
		if ds.Err == nil {
			ds.Err = w.destStatus(ctx, d, t, cur, versionID != "", &ds)
		}
		ks.Dests = append(ks.Dests, ds)
	}
	return ks, nil
}

func (w *Worker) destStatus(ctx context.Context, d *dest, t config.Target, cur *object.Meta, pinned bool, ds *DestStatus) error {
	if pinned && w.versioned && d.versioned {
		// An older version's replica is found in the destination's
		// history: ask the version replay what it would still copy.
		ds.InSync, ds.Why = true, "replica of this version"
		p := reconcile.Pair{Src: w.src, Dst: d.bucket, Copier: d.copier, Settings: settings(t)}
		opt := reconcile.Options{Versions: true, DryRun: true, Report: func(it reconcile.Item) {
			if it.VersionID == cur.VersionID && it.Action == plan.Copy {
				ds.InSync, ds.Why = false, it.Reason
			}
		}}
		var st reconcile.Stats
		return reconcile.KeyVersions(ctx, &p, cur.Key, t.Key, opt, &st)
	}
	dst, err := d.bucket.Head(ctx, t.Key, "")
	if err != nil {
		return failure.Dst(err)
	}
	dec := plan.DecideByOrigin(cur.Info, dst)
	ds.InSync, ds.Why = dec.Action != plan.Copy, dec.Reason
	if ds.InSync {
		// A HEAD's Last-Modified has whole seconds; listings have
		// milliseconds, enough to tell how long a copy took.
		from, to := listedTime(ctx, w.src, cur.Key, cur.LastModified), listedTime(ctx, d.bucket, t.Key, dst.LastModified)
		ds.Took = max(to.Sub(from), 0)
	}
	return nil
}

var errFound = errors.New("found")

// listedTime is key's modification time as a listing gives it, or def.
func listedTime(ctx context.Context, b *store.Bucket, key string, def time.Time) time.Time {
	t := def
	b.List(ctx, key, "", func(o object.Info) error {
		if o.Key == key {
			t = o.LastModified
		}
		return errFound // the key sorts first under its own name
	})
	return t
}
