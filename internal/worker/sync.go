package worker

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/rules"
)

// Action is what the worker did for one destination.
type Action string

const (
	Copied       Action = "copy"
	DeleteMarker Action = "delete-marker" // a delete marker replayed
	Deleted      Action = "delete"        // an unversioned replica deleted (replicate_deletes)
	Skipped      Action = "skip"          // already in sync, or nothing to do
	ReplicaSkip  Action = "replica"       // the source object is itself a replica: never replicated again
	NoRule       Action = "no-rule"       // no rule sends the key anywhere
)

// Outcome is what happened to one key (or version) at one destination.
type Outcome struct {
	Rule       string
	Dest       string // destination bucket
	Key        string // source key
	DstKey     string
	VersionID  string
	Action     Action
	Reason     string
	Bytes      int64
	ServerSide bool
	Err        error
	Failure    failure.Failure
}

// Handle replicates the keys of a batch of events and returns an *Error if
// any failed. Events of other buckets are ignored (logged): a notification
// target shared with other buckets must not stop the intake.
func (w *Worker) Handle(ctx context.Context, evs []event.Event) error {
	var all []Outcome
	for _, ev := range evs {
		if ev.Bucket != w.src.Name {
			w.log.Warn("event for a bucket that is not the source, ignored", "bucket", ev.Bucket, "key", ev.Key)
			continue
		}
		all = append(all, w.Sync(ctx, ev)...)
	}
	return Failed(all)
}

// Sync brings ev's key up to date at every destination. The event only
// names the key; what is done comes from the buckets' current state.
func (w *Worker) Sync(ctx context.Context, ev event.Event) []Outcome {
	return w.SyncOwed(ctx, ev, nil)
}

// SyncOwed is Sync for only the destinations owes accepts (all if nil): a
// retry redoes only what failed.
func (w *Worker) SyncOwed(ctx context.Context, ev event.Event, owes func(dest string) bool) []Outcome {
	unlock, err := w.locks.lock(ctx, ev.Key)
	if err != nil {
		return []Outcome{w.fail(Outcome{Key: ev.Key}, err)}
	}
	defer unlock()
	outs := w.sync(ctx, ev, owes)
	for _, o := range outs {
		w.logOutcome(o)
	}
	return outs
}

func (w *Worker) sync(ctx context.Context, ev event.Event, owes func(string) bool) []Outcome {
	key := ev.Key
	heads := w.headAhead(ctx, key, owes)
	cur, err := w.src.Head(ctx, key, "")
	if err != nil {
		return []Outcome{w.fail(Outcome{Key: key}, failure.Src(err))}
	}
	obj := rules.Object{Key: key}
	if cur != nil {
		if isReplica(cur) {
			return []Outcome{{Key: key, VersionID: cur.VersionID, Action: ReplicaSkip,
				Reason: "the source object is a replica; replicas are not replicated again"}}
		}
		obj.SSEKMS = cur.SSE == "aws:kms"
		if w.needTags {
			if obj.Tags, err = w.src.Tags(ctx, key, cur.VersionID); err != nil {
				return []Outcome{w.fail(Outcome{Key: key}, failure.Src(err))}
			}
		}
	}
	targets := w.cfg.Targets(obj)
	if len(targets) == 0 {
		return []Outcome{{Key: key, Action: NoRule, Reason: "no enabled rule matches"}}
	}
	var outs []Outcome
	for _, t := range targets {
		d := w.dests[t.Dest]
		if owes != nil && !owes(d.bucket.Name) {
			continue
		}
		base := Outcome{Rule: t.Rule.ID, Dest: d.bucket.Name, Key: key, DstKey: t.Key}
		release, err := d.acquire(ctx)
		if err != nil {
			outs = append(outs, w.fail(base, err))
			continue
		}
		switch {
		case w.versioned && d.versioned:
			outs = append(outs, w.syncVersions(ctx, d, t, base)...)
		case cur == nil:
			outs = append(outs, w.syncDelete(ctx, d, t, base))
		default:
			outs = append(outs, w.syncCurrent(ctx, d, t, cur, heads, base))
		}
		release()
	}
	return outs
}

// syncCurrent makes the destination hold the source's current version.
func (w *Worker) syncCurrent(ctx context.Context, d *dest, t config.Target, cur *object.Meta, heads replicaHeads, o Outcome) Outcome {
	o.VersionID = cur.VersionID
	dst, err := heads.head(ctx, d, t.Key)
	if err != nil {
		return w.fail(o, failure.Dst(err))
	}
	dec := plan.DecideByOrigin(cur.Info, dst)
	o.Reason = dec.Reason
	if dec.Action != plan.Copy {
		o.Action = Skipped
		return o
	}
	o.Action = Copied
	res, err := d.copier.Copy(ctx, jobFor(cur.Info, t))
	if err != nil {
		return w.fail(o, err)
	}
	o.Bytes, o.ServerSide = res.Bytes, res.ServerSide
	return o
}

// syncDelete handles a key the source no longer has. A destination
// replica is removed only when configured (delete markers for a versioned
// source, replicate_deletes for an unversioned one), and only if ferry
// wrote it from this very key: nothing else at a destination is touched.
func (w *Worker) syncDelete(ctx context.Context, d *dest, t config.Target, o Outcome) Outcome {
	o.Action = Skipped
	enabled, what := t.DeleteMarkers, DeleteMarker
	if !w.versioned {
		enabled, what = d.cfg.ReplicateDeletes, Deleted
	}
	if !enabled {
		o.Reason = "deleted at the source; delete replication is not enabled for this destination"
		return o
	}
	dst, err := d.bucket.Head(ctx, t.Key, "")
	if err != nil {
		return w.fail(o, failure.Dst(err))
	}
	if dst == nil {
		o.Reason = "already absent at the destination"
		return o
	}
	if org, ok := object.ParseOrigin(dst.UserMeta); !ok || org.Bucket != w.src.Name || (org.Key != "" && org.Key != o.Key) {
		o.Reason = "destination object is not a replica of this key; left in place"
		return o
	}
	o.Action, o.Reason = what, "deleted at the source"
	_, err = d.bucket.EP.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.bucket.Name), Key: aws.String(t.Key)})
	if err != nil {
		return w.fail(o, failure.Dst(fmt.Errorf("delete %s/%s: %w", d.bucket, t.Key, err)))
	}
	return o
}

// syncVersions replays, in order, the source versions (and, when the rule
// says so, delete markers) the destination lacks.
func (w *Worker) syncVersions(ctx context.Context, d *dest, t config.Target, base Outcome) []Outcome {
	var outs []Outcome
	p := reconcile.Pair{Src: w.src, Dst: d.bucket, Copier: d.copier, Settings: settings(t)}
	opt := reconcile.Options{Versions: true, DeleteMarkers: t.DeleteMarkers, Report: func(it reconcile.Item) {
		o := base
		o.VersionID, o.Reason, o.Bytes, o.ServerSide = it.VersionID, it.Reason, it.Bytes, it.ServerSide
		switch it.Action {
		case plan.Copy:
			o.Action = Copied
		case plan.Delete:
			o.Action = DeleteMarker
		default:
			o.Action = Skipped
		}
		if it.Err != nil {
			o = w.fail(o, it.Err)
		}
		outs = append(outs, o)
	}}
	var st reconcile.Stats
	if err := reconcile.KeyVersions(ctx, &p, base.Key, t.Key, opt, &st); err != nil {
		return append(outs, w.fail(base, err))
	}
	if len(outs) == 0 {
		base.Action, base.Reason = Skipped, "every version already replicated"
		outs = append(outs, base)
	}
	return outs
}

func (w *Worker) fail(o Outcome, err error) Outcome {
	o.Err = err
	o.Failure = failure.Classify(err)
	return o
}

func (w *Worker) logOutcome(o Outcome) {
	switch {
	case o.Err != nil:
		w.log.Warn("replication failed", "key", o.Key, "dest", o.Dest, "dst_key", o.DstKey, "version", o.VersionID,
			"reason", o.Failure.Reason, "permanent", o.Failure.Permanent, "err", o.Err)
	case o.Action == Skipped || o.Action == NoRule || o.Action == ReplicaSkip:
		w.log.Debug("nothing to do", "key", o.Key, "dest", o.Dest, "action", string(o.Action), "why", o.Reason)
	default:
		w.log.Info("replicated", "key", o.Key, "dest", o.Dest, "dst_key", o.DstKey, "version", o.VersionID,
			"action", string(o.Action), "bytes", o.Bytes, "server_side", o.ServerSide)
	}
}

func jobFor(src object.Info, t config.Target) replicate.Job {
	return replicate.Job{Src: src, DstKey: t.Key, Settings: settings(t)}
}

// isReplica reports whether an object was written by replication: ferry's
// origin record, or S3's own replication status.
func isReplica(m *object.Meta) bool {
	if _, ok := object.ParseOrigin(m.UserMeta); ok {
		return true
	}
	return m.ReplicationStatus == "REPLICA"
}

func (d *dest) acquire(ctx context.Context) (func(), error) {
	if d.slots == nil {
		return func() {}, nil
	}
	select {
	case d.slots <- struct{}{}:
		return func() { <-d.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
