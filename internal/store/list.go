package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/object"
)

// List lists the current objects under prefix after startAfter
// (ListObjectsV2), FanOut key ranges at a time.
func (b *Bucket) List(ctx context.Context, prefix, startAfter string, fn func(object.Info) error) error {
	return b.list(ctx, prefix, startAfter, false, fn)
}

// ListVersions lists every version and delete marker under prefix of the
// keys after startAfter, by key and, within a key, newest first (the order
// S3 returns).
func (b *Bucket) ListVersions(ctx context.Context, prefix, startAfter string, fn func(object.Info) error) error {
	return b.list(ctx, prefix, startAfter, true, fn)
}

func (b *Bucket) list(ctx context.Context, prefix, startAfter string, versions bool, fn func(object.Info) error) error {
	if b.FanOut <= 1 {
		return b.pages(ctx, prefix, startAfter, "", versions, func(p page) error { return p.each(fn) })
	}
	return b.fanOut(ctx, prefix, startAfter, versions, fn)
}

// delimiter splits the key space for fan-out: the "folders" of a bucket.
const delimiter = "/"

// page is one response of a listing: objects (or versions) in key order,
// and, for a delimited listing, the common prefixes ("folders") below.
type page struct {
	objects  []object.Info
	prefixes []string
}

func (p page) each(fn func(object.Info) error) error {
	for _, o := range p.objects {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// pages lists prefix after startAfter one page at a time; with a delimiter,
// keys below the next delimiter are rolled up into common prefixes.
func (b *Bucket) pages(ctx context.Context, prefix, startAfter, delim string, versions bool, fn func(page) error) error {
	if startAfter != "" && !strings.HasPrefix(startAfter, prefix) {
		// MinIO refuses a marker outside the prefix (501 NotImplemented).
		if startAfter > prefix {
			return nil // every key under prefix sorts before startAfter
		}
		startAfter = ""
	}
	if startAfter != "" {
		// versitygw starts a version listing at KeyMarker itself, not
		// after it; drop what a server repeats.
		next := fn
		fn = func(p page) error {
			i := 0
			for i < len(p.objects) && p.objects[i].Key <= startAfter {
				i++
			}
			p.objects = p.objects[i:]
			return next(p)
		}
	}
	if versions {
		p := s3.NewListObjectVersionsPaginator(b.EP.S3, &s3.ListObjectVersionsInput{
			Bucket: aws.String(b.Name), Prefix: optional(prefix), KeyMarker: optional(startAfter), Delimiter: optional(delim),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list versions %s/%s: %w", b, prefix, err)
			}
			if err := fn(page{objects: versionsOf(out), prefixes: prefixesOf(out.CommonPrefixes)}); err != nil {
				return err
			}
		}
		return nil
	}
	p := s3.NewListObjectsV2Paginator(b.EP.S3, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.Name), Prefix: optional(prefix), StartAfter: optional(startAfter), Delimiter: optional(delim),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s/%s: %w", b, prefix, err)
		}
		objs := make([]object.Info, len(out.Contents))
		for i, o := range out.Contents {
			objs[i] = object.Info{
				Key:          aws.ToString(o.Key),
				ETag:         object.TrimETag(aws.ToString(o.ETag)),
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
				StorageClass: string(o.StorageClass),
				IsLatest:     true,
			}
		}
		if err := fn(page{objects: objs, prefixes: prefixesOf(out.CommonPrefixes)}); err != nil {
			return err
		}
	}
	return nil
}

func prefixesOf(cps []types.CommonPrefix) []string {
	out := make([]string, len(cps))
	for i, cp := range cps {
		out[i] = aws.ToString(cp.Prefix)
	}
	return out
}

// versionsOf merges a page's versions and delete markers, which S3 returns
// in two lists, back into key order, newest first.
func versionsOf(page *s3.ListObjectVersionsOutput) []object.Info {
	vs, ms := page.Versions, page.DeleteMarkers
	out := make([]object.Info, 0, len(vs)+len(ms))
	for len(vs) > 0 || len(ms) > 0 {
		if len(ms) == 0 || (len(vs) > 0 && versionFirst(vs[0], ms[0])) {
			v := vs[0]
			vs = vs[1:]
			out = append(out, object.Info{
				Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId),
				ETag: object.TrimETag(aws.ToString(v.ETag)), Size: aws.ToInt64(v.Size),
				LastModified: aws.ToTime(v.LastModified), StorageClass: string(v.StorageClass),
				IsLatest: aws.ToBool(v.IsLatest),
			})
			continue
		}
		m := ms[0]
		ms = ms[1:]
		out = append(out, object.Info{
			Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId),
			LastModified: aws.ToTime(m.LastModified), IsLatest: aws.ToBool(m.IsLatest),
			DeleteMarker: true,
		})
	}
	return out
}

func versionFirst(v types.ObjectVersion, m types.DeleteMarkerEntry) bool {
	vk, mk := aws.ToString(v.Key), aws.ToString(m.Key)
	if vk != mk {
		return vk < mk
	}
	return !aws.ToTime(v.LastModified).Before(aws.ToTime(m.LastModified))
}

// segment is one key range of a fanned-out listing: either objects already
// read (those directly under the listed prefix) or a range of common
// prefixes being listed by its own goroutine into a bounded channel.
type segment struct {
	objects []object.Info
	items   chan object.Info
	errc    chan error
}

// segmentBuffer is how many objects a range may read ahead of the merge:
// one page, so each range in flight holds about one page in memory.
const segmentBuffer = 1000

// fanOut lists prefix by its "folders": a delimited listing yields the
// objects directly under prefix and the common prefixes below it; ranges of
// common prefixes are listed in parallel, FanOut at a time, and handed to fn
// in key order. Memory is about FanOut pages, whatever the bucket's size.
func (b *Bucket) fanOut(ctx context.Context, prefix, startAfter string, versions bool, fn func(object.Info) error) error {
	prefix, err := b.descend(ctx, prefix, startAfter, versions)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	segs := make(chan *segment, b.FanOut-1)
	var listErr error
	go func() {
		defer close(segs)
		listErr = b.splitRanges(ctx, prefix, startAfter, versions, segs)
	}()
	for seg := range segs {
		for _, o := range seg.objects {
			if err := fn(o); err != nil {
				return err
			}
		}
		if seg.items == nil {
			continue
		}
		for o := range seg.items {
			if err := fn(o); err != nil {
				return err
			}
		}
		if err := <-seg.errc; err != nil {
			return err
		}
	}
	return listErr // written before segs was closed
}

// descend skips down through levels that hold one common prefix and
// nothing else (logs/2026/...), so fan-out starts where the keys spread.
func (b *Bucket) descend(ctx context.Context, prefix, startAfter string, versions bool) (string, error) {
	errSeen := errors.New("seen")
	for depth := 0; depth < 8; depth++ {
		var only string
		err := b.pages(ctx, prefix, levelStart(prefix, startAfter), delimiter, versions, func(p page) error {
			if len(p.objects) == 0 && len(p.prefixes) == 1 {
				only = p.prefixes[0]
			}
			return errSeen // the first page tells
		})
		if err != nil && !errors.Is(err, errSeen) {
			return "", err
		}
		if only == "" || (startAfter != "" && !strings.HasPrefix(startAfter, only) && only < startAfter) {
			return prefix, nil
		}
		prefix = only
	}
	return prefix, nil
}

// splitRanges reads prefix's level and sends its segments in key order.
// Common prefixes are grouped so a segment holds about one page of keys (a
// group grows when earlier ones turned out small), which keeps the number
// of goroutines and buffers down; each prefix is still listed on its own.
func (b *Bucket) splitRanges(ctx context.Context, prefix, startAfter string, versions bool, segs chan<- *segment) error {
	var listed, prefixes atomic.Int64 // keys listed by finished ranges, and the prefixes they held
	send := func(s *segment) error {
		select {
		case segs <- s:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var group []string
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		seg := &segment{items: make(chan object.Info, segmentBuffer), errc: make(chan error, 1)}
		if err := send(seg); err != nil {
			return err
		}
		g := group
		group = nil
		go func() {
			defer close(seg.items)
			n, err := b.listRange(ctx, g, startAfter, versions, seg.items)
			listed.Add(n)
			prefixes.Add(int64(len(g)))
			seg.errc <- err
		}()
		return nil
	}
	groupSize := func() int {
		n := prefixes.Load()
		if n == 0 {
			return 1
		}
		perPrefix := max(1, listed.Load()/n)
		return int(min(max(segmentBuffer/perPrefix, 1), segmentBuffer))
	}
	err := b.pages(ctx, prefix, levelStart(prefix, startAfter), delimiter, versions, func(p page) error {
		// Within a page, objects and prefixes interleave in key order.
		objs, cps := p.objects, p.prefixes
		var run []object.Info
		for len(objs) > 0 || len(cps) > 0 {
			if len(cps) == 0 || (len(objs) > 0 && objs[0].Key < cps[0]) {
				if objs[0].Key > startAfter {
					run = append(run, objs[0])
				}
				objs = objs[1:]
				continue
			}
			cp := cps[0]
			cps = cps[1:]
			if cp < startAfter && !strings.HasPrefix(startAfter, cp) {
				continue // every key below cp is done
			}
			if len(run) > 0 {
				if err := flush(); err != nil {
					return err
				}
				if err := send(&segment{objects: run}); err != nil {
					return err
				}
				run = nil
			}
			group = append(group, cp)
			if len(group) >= groupSize() {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if len(run) > 0 {
			if err := flush(); err != nil {
				return err
			}
			return send(&segment{objects: run})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// listRange lists the keys under each common prefix of a group, in order,
// after startAfter, into out, and returns how many it listed. Each prefix
// is its own listing: a listing that spans several prefixes needs a
// StartAfter outside any of them, and MinIO answers that by walking the
// bucket from its start (measured: 10x slower, and it slows later listings).
func (b *Bucket) listRange(ctx context.Context, group []string, startAfter string, versions bool, out chan<- object.Info) (int64, error) {
	var n int64
	for _, cp := range group {
		after := ""
		if strings.HasPrefix(startAfter, cp) {
			after = startAfter
		}
		err := b.pages(ctx, cp, after, "", versions, func(p page) error {
			for _, o := range p.objects {
				select {
				case out <- o:
					n++
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// levelStart is where a delimited listing of prefix starts for startAfter.
// If startAfter lies below a common prefix (a/x under a/), the level must
// still return that prefix: start after "a", which sorts just before "a/"
// and after every key before startAfter's folder that is not already done.
func levelStart(prefix, startAfter string) string {
	if !strings.HasPrefix(startAfter, prefix) {
		if startAfter < prefix {
			return ""
		}
		return startAfter
	}
	rest := startAfter[len(prefix):]
	if i := strings.Index(rest, delimiter); i >= 0 {
		return prefix + rest[:i]
	}
	return startAfter
}
