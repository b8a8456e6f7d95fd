package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// KeyVersions reconciles the versions of one source key of p, exactly as
// Run with Versions would, but lists only that key's versions: the
// daemon's worker calls it for every event on a versioned bucket, so each
// version is replayed in order whatever order the events came in.
func KeyVersions(ctx context.Context, p *Pair, srcKey, dstKey string, opt Options, st *Stats) error {
	src, sok := p.Src.(*store.Bucket)
	dst, dok := p.Dst.(*store.Bucket)
	if !sok || !dok {
		return fmt.Errorf("versions need buckets on both sides")
	}
	if opt.Report == nil {
		opt.Report = func(Item) {}
	}
	s, err := keyHistory(ctx, src, srcKey)
	if err != nil {
		return err
	}
	if len(s) == 0 {
		return nil // every version is gone; nothing to replay
	}
	d, err := keyHistory(ctx, dst, dstKey)
	if err != nil {
		return err
	}
	var out items
	task{p: p, key: dstKey, srcVersions: s, dstVersions: d}.runVersions(ctx, opt, st, &out)
	for _, it := range out {
		opt.Report(it)
	}
	return nil
}

var errNextKey = errors.New("next key")

// keyHistory lists the versions of exactly key, oldest first. Keys sharing
// the prefix sort after key itself, so the listing stops at the first one.
func keyHistory(ctx context.Context, b *store.Bucket, key string) (history, error) {
	var h history
	err := b.ListVersions(ctx, key, "", func(o object.Info) error {
		if o.Key != key {
			return errNextKey
		}
		h = append(h, o)
		return nil
	})
	if err != nil && !errors.Is(err, errNextKey) {
		return nil, err
	}
	slices.Reverse(h)
	return h, nil
}
