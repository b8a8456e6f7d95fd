package worker

import (
	"context"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/rules"
)

// replicaHeads are HEADs of the replicas an event's key will be compared
// with, started beside the source's HEAD instead of after it. For a small
// object the round trips are most of an event's latency: overlapping two of
// them takes one off the path from PUT to replica.
type replicaHeads map[replicaKey]*replicaHead

type replicaKey struct{ dest, key string }

type replicaHead struct {
	done chan struct{}
	meta *object.Meta
	err  error
}

// headAhead starts the HEAD of each replica the key goes to, when the
// rules send it to the same places whatever its tags and encryption (the
// source's HEAD tells those). It returns nil otherwise, or when the key's
// destinations keep versions (compared by listing, not by HEAD).
func (w *Worker) headAhead(ctx context.Context, key string, owes func(string) bool) replicaHeads {
	if w.needTags {
		return nil
	}
	plain := w.cfg.Targets(rules.Object{Key: key})
	if !sameTargets(plain, w.cfg.Targets(rules.Object{Key: key, SSEKMS: true})) {
		return nil
	}
	heads := replicaHeads{}
	for _, t := range plain {
		d := w.dests[t.Dest]
		if (w.versioned && d.versioned) || (owes != nil && !owes(d.bucket.Name)) {
			continue
		}
		k := replicaKey{d.bucket.Name, t.Key}
		if heads[k] != nil {
			continue
		}
		h := &replicaHead{done: make(chan struct{})}
		heads[k] = h
		go func() {
			defer close(h.done)
			h.meta, h.err = d.bucket.Head(ctx, t.Key, "")
		}()
	}
	return heads
}

// head returns the replica's HEAD, started ahead or made now.
func (h replicaHeads) head(ctx context.Context, d *dest, key string) (*object.Meta, error) {
	if r := h[replicaKey{d.bucket.Name, key}]; r != nil {
		select {
		case <-r.done:
			return r.meta, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return d.bucket.Head(ctx, key, "")
}

func sameTargets(a, b []config.Target) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Rule != b[i].Rule || a[i].Dest != b[i].Dest || a[i].Key != b[i].Key {
			return false
		}
	}
	return true
}
