package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

// Target is where a plan is applied.
type Target struct {
	Bucket *store.Bucket
	Copier *replicate.Copier // from the folder's store.Dir to Bucket
	// Settings apply to every upload (ACL, storage class, encryption).
	Settings    replicate.Settings
	Concurrency int // uploads at once (default 16)
}

// Apply carries out p: the assets, then the pages, then the deletes, each
// phase only if the one before succeeded entirely, so a failed deploy
// never leaves a page pointing at a missing asset, nor removes the files
// the old pages still use. report is called once per change, from one
// goroutine at a time.
func Apply(ctx context.Context, p Plan, t Target, report func(Change, error)) error {
	var mu sync.Mutex
	done := func(c Change, err error) {
		mu.Lock()
		defer mu.Unlock()
		report(c, err)
	}
	split := len(p.Uploads)
	for i, c := range p.Uploads {
		if isPage(c.File) {
			split = i
			break
		}
	}
	for _, phase := range [][]Change{p.Uploads[:split], p.Uploads[split:]} {
		if err := t.upload(ctx, phase, done); err != nil {
			return err
		}
	}
	return t.delete(ctx, p.Deletes, done)
}

func (t Target) upload(ctx context.Context, cs []Change, report func(Change, error)) error {
	var g errgroup.Group
	if t.Concurrency > 0 {
		g.SetLimit(t.Concurrency)
	} else {
		g.SetLimit(16)
	}
	var failed int
	var mu sync.Mutex
	for _, c := range cs {
		g.Go(func() error {
			s := t.Settings
			s.CacheControl = c.CacheControl
			s.Metadata = map[string]string{MD5Meta: c.MD5}
			_, err := t.Copier.Copy(ctx, replicate.Job{Src: object.Info{Key: c.File, Size: c.Size}, DstKey: c.Key, Settings: s})
			if err != nil {
				err = fmt.Errorf("upload %s: %w", c.File, err)
				mu.Lock()
				failed++
				mu.Unlock()
			}
			report(c, err)
			return nil // the other uploads go on; the next phase does not
		})
	}
	g.Wait()
	if failed > 0 {
		return fmt.Errorf("%d uploads failed; nothing after them was done", failed)
	}
	return ctx.Err()
}

// delete removes stale keys, 1,000 per request.
func (t Target) delete(ctx context.Context, cs []Change, report func(Change, error)) error {
	var errs []error
	for len(cs) > 0 {
		batch := cs[:min(len(cs), 1000)]
		cs = cs[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, c := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(c.Key)}
		}
		out, err := t.Bucket.EP.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(t.Bucket.Name),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			err = fmt.Errorf("delete from %s: %w", t.Bucket, err)
			for _, c := range batch {
				report(c, err)
			}
			errs = append(errs, err)
			continue
		}
		failed := map[string]error{}
		for _, e := range out.Errors {
			failed[aws.ToString(e.Key)] = fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		for _, c := range batch {
			report(c, failed[c.Key])
			if err := failed[c.Key]; err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
