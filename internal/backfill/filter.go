package backfill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/store"
)

// Filter narrows what a backfill considers.
type Filter struct {
	Prefix string // source keys under this prefix only
	// Created bounds: objects last modified strictly after After and
	// before Before (zero: no bound). S3 has no creation time apart from
	// the last write, which is what listings and inventories carry.
	After, Before time.Time
	// Status keeps objects whose source replication status
	// (x-amz-replication-status, set by S3's own replication) is this:
	// NONE (never replicated), PENDING, COMPLETED, FAILED or REPLICA.
	// Listings do not carry it: each listed object costs a HEAD.
	Status string
}

// Statuses are the values Filter.Status accepts.
var Statuses = []string{"NONE", "PENDING", "COMPLETED", "FAILED", "REPLICA"}

// Validate checks the filter's values.
func (f Filter) Validate() error {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return fmt.Errorf("replication status %q: want one of %s", f.Status, strings.Join(Statuses, ", "))
	}
	if !f.After.IsZero() && !f.Before.IsZero() && !f.After.Before(f.Before) {
		return fmt.Errorf("created-after %s is not before created-before %s", f.After.Format(time.RFC3339), f.Before.Format(time.RFC3339))
	}
	return nil
}

// keepTime applies the date bounds.
func (f Filter) keepTime(mtime time.Time) bool {
	if !f.After.IsZero() && !mtime.After(f.After) {
		return false
	}
	if !f.Before.IsZero() && !mtime.Before(f.Before) {
		return false
	}
	return true
}

// keepStatus compares a replication status ("" = never replicated).
func (f Filter) keepStatus(status string) bool {
	if f.Status == "" {
		return true
	}
	if status == "" {
		status = "NONE"
	}
	return strings.EqualFold(status, f.Status)
}

// narrow applies the prefix to a listing pair: the pair's source prefix
// becomes the longer of the two. ok is false if no key can match both.
func (f Filter) narrow(p reconcile.Pair) (reconcile.Pair, bool) {
	switch {
	case f.Prefix == "" || strings.HasPrefix(p.SrcPrefix, f.Prefix):
		return p, true
	case strings.HasPrefix(f.Prefix, p.SrcPrefix):
		rest := strings.TrimPrefix(f.Prefix, p.SrcPrefix)
		p.SrcPrefix += rest
		p.DstPrefix += rest
		return p, true
	}
	return p, false
}

// forListing returns the reconcile filter for listed objects (nil if none
// applies): the dates come with the listing, the status costs a HEAD of
// the source object.
func (f Filter) forListing(pairs []reconcile.Pair) func(context.Context, object.Info) (bool, error) {
	if f.After.IsZero() && f.Before.IsZero() && f.Status == "" {
		return nil
	}
	return func(ctx context.Context, o object.Info) (bool, error) {
		if !f.keepTime(o.LastModified) {
			return false, nil
		}
		if f.Status == "" {
			return true, nil
		}
		src, ok := sourceOf(pairs)
		if !ok {
			return false, fmt.Errorf("--replication-status needs a bucket as the source")
		}
		m, err := src.Head(ctx, o.Key, o.VersionID)
		if err != nil || m == nil {
			return false, err // gone since the listing: nothing to copy
		}
		return f.keepStatus(m.ReplicationStatus), nil
	}
}

// sourceOf returns the pairs' source bucket (all pairs share one source).
func sourceOf(pairs []reconcile.Pair) (*store.Bucket, bool) {
	if len(pairs) == 0 {
		return nil, false
	}
	b, ok := pairs[0].Src.(*store.Bucket)
	return b, ok
}
