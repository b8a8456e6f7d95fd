package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

// history is every version of one key, oldest first.
type history []object.Info

// mergeVersions is merge for --versions: both listings are read as
// per-key histories (only one key's versions are held at a time) and each
// key becomes one task that replays the missing versions in order.
func mergeVersions(ctx context.Context, p *Pair, opt Options, st *Stats, send func(task) error) error {
	src, sok := p.Src.(*store.Bucket)
	dst, dok := p.Dst.(*store.Bucket)
	if !sok || !dok {
		return fmt.Errorf("--versions needs buckets on both sides")
	}
	dstAfter, done := p.dstStartAfter()
	if done {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcC, srcErr := histories(ctx, src, p.SrcPrefix, p.StartAfter)
	dstC, dstErr := histories(ctx, dst, p.DstPrefix, dstAfter)
	s, sOK := <-srcC
	d, dOK := <-dstC
	for sOK {
		key := p.DstPrefix + strings.TrimPrefix(s[0].Key, p.SrcPrefix)
		for dOK && d[0].Key < key {
			d, dOK = <-dstC
		}
		t := task{p: p, key: key, srcVersions: s}
		if dOK && d[0].Key == key {
			t.dstVersions = d
		}
		st.Listed.Add(int64(len(s)))
		if err := send(t); err != nil {
			return err
		}
		s, sOK = <-srcC
	}
	for range dstC { // drain, so the lister can finish
	}
	return errors.Join(<-srcErr, <-dstErr)
}

func histories(ctx context.Context, b *store.Bucket, prefix, startAfter string) (<-chan history, <-chan error) {
	out := make(chan history, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		var cur history
		flush := func() error {
			if len(cur) == 0 {
				return nil
			}
			slices.Reverse(cur) // S3 lists newest first
			select {
			case out <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = nil
			return nil
		}
		err := b.ListVersions(ctx, prefix, startAfter, func(o object.Info) error {
			if len(cur) > 0 && cur[0].Key != o.Key {
				if err := flush(); err != nil {
					return err
				}
			}
			cur = append(cur, o)
			return nil
		})
		if err == nil {
			err = flush()
		}
		errc <- err
	}()
	return out, errc
}

// runVersions replays, in order, the source versions that come after the
// last one already replicated. Where the destination stands is read from
// the origin metadata of its newest replica; delete markers (which carry
// no metadata) after it are counted against the source's.
func (t task) runVersions(ctx context.Context, opt Options, st *Stats, out *items) {
	dst := t.p.Dst.(*store.Bucket)
	base := Item{Src: t.p.Src.String(), Dst: t.p.Dst.String(), DstKey: t.key}
	settings, markers := t.p.Settings, opt.DeleteMarkers
	if t.p.Select != nil {
		// The rules decide from the key's newest version that has a body
		// (its tags; a delete marker has none).
		newest := t.srcVersions[len(t.srcVersions)-1]
		for i := len(t.srcVersions) - 1; i >= 0 && newest.DeleteMarker; i-- {
			newest = t.srcVersions[i]
		}
		target, err := t.p.Select(ctx, newest)
		if err != nil || target == nil {
			it := base
			it.Key, it.Action, it.Reason, it.Err = newest.Key, plan.Skip, "no rule applies", err
			out.add(it, st)
			return
		}
		settings, markers = target.Settings, target.DeleteMarkers
	}
	next, markersDone, err := position(ctx, dst, t.srcVersions, t.dstVersions)
	if err != nil {
		it := base
		it.Key, it.Action, it.Err = t.srcVersions[0].Key, plan.Copy, err
		out.add(it, st)
		return
	}
	for i, v := range t.srcVersions {
		it := base
		it.Key, it.VersionID, it.Bytes = v.Key, v.VersionID, v.Size
		switch {
		case i < next:
			it.Action, it.Reason = plan.Skip, "version already replicated"
		case v.DeleteMarker && markersDone > 0:
			markersDone--
			it.Action, it.Reason = plan.Skip, "delete marker already replicated"
		case v.DeleteMarker && !markers:
			it.Action, it.Reason = plan.Skip, "delete markers are not replicated (--delete-markers, or the rule's DeleteMarkerReplication)"
		case v.DeleteMarker:
			it.Action, it.Reason, it.Bytes = plan.Delete, "delete marker", 0
			if !opt.DryRun {
				_, err := dst.EP.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(dst.Name), Key: aws.String(t.key)})
				if err != nil {
					it.Err = fmt.Errorf("put delete marker %s/%s: %w", dst, t.key, err)
				}
			}
		default:
			it.Action, it.Reason = plan.Copy, "version missing at destination"
			if !opt.DryRun {
				res, err := t.p.Copier.Copy(ctx, replicate.Job{Src: v, DstKey: t.key, Settings: settings})
				it.Err, it.ServerSide = err, res.ServerSide
				if err == nil {
					st.BytesCopied.Add(res.Bytes)
				}
			}
		}
		out.add(it, st)
		if it.Err != nil {
			return // later versions must not overtake a failed one
		}
	}
}

// position returns the index of the first source version not yet at the
// destination, and how many delete markers after it are already there.
func position(ctx context.Context, dst *store.Bucket, src, dstVersions history) (next, markers int, err error) {
	for i := len(dstVersions) - 1; i >= 0; i-- {
		d := dstVersions[i]
		if d.DeleteMarker {
			markers++
			continue
		}
		meta, err := dst.Head(ctx, d.Key, d.VersionID)
		if err != nil {
			return 0, 0, err
		}
		if meta == nil {
			continue
		}
		o, ok := object.ParseOrigin(meta.UserMeta)
		if !ok {
			return 0, 0, nil // not ferry's: replay everything on top
		}
		for j, s := range src {
			if !s.DeleteMarker && s.VersionID == o.VersionID && s.ETag == o.ETag {
				return j + 1, markers, nil
			}
		}
		return 0, 0, nil
	}
	return 0, markers, nil
}
