package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/time/rate"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// streamCopy copies between two endpoints: GET from the source, PUT (or
// multipart) to the destination, part by part through bounded buffers.
func (c *Copier) streamCopy(ctx context.Context, src, dst *store.Bucket, j Job) (Result, error) {
	res, err := c.streamCopyLayout(ctx, src, dst, j, true)
	if errors.Is(err, errUneven) {
		return c.streamCopyLayout(ctx, src, dst, j, false)
	}
	return res, err
}

func (c *Copier) streamCopyLayout(ctx context.Context, src, dst *store.Bucket, j Job, keepLayout bool) (Result, error) {
	meta, b, err := c.openS3(ctx, src, j.Src, keepLayout)
	if err != nil {
		return Result{}, err
	}
	lock, err := c.lockEnabled(ctx, dst)
	if err != nil {
		b.free()
		return Result{}, err
	}
	in := putInput(dst.Name, j.DstKey, meta, originOf(src.Name, meta), j.Settings, lock)
	return c.write(ctx, dst, in, b)
}

// openS3 learns the source version's metadata with as few requests as
// possible and returns a body plan for it:
//   - small objects: one GET, whose response is also the metadata;
//   - multipart sources: a HEAD of part 1 tells the layout, which the copy
//     keeps, so the replica gets the same ETag and the bytes are verified
//     against the source's ETag;
//   - large single-part sources: ranged GETs in parts of PartSize.
func (c *Copier) openS3(ctx context.Context, src *store.Bucket, v object.Info, keepLayout bool) (*object.Meta, *body, error) {
	get := func(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		in.Bucket, in.Key = aws.String(src.Name), aws.String(v.Key)
		in.VersionId = nonEmpty(v.VersionID)
		in.IfMatch = etagCondition(v.ETag)
		out, err := src.EP.S3.GetObject(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", src, v.Key, err)
		}
		return out, nil
	}
	readRange := func(ctx context.Context, _ int, off int64, buf []byte) error {
		out, err := get(ctx, &s3.GetObjectInput{Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1))})
		if err != nil {
			return err
		}
		return c.readFull(ctx, out.Body, buf)
	}

	if object.IsMultipartETag(v.ETag) {
		// One HEAD of part 1 gives the metadata and the layout.
		meta, err := src.HeadPart(ctx, v.Key, v.VersionID, 1)
		if err != nil {
			return nil, nil, err
		}
		if meta == nil {
			return nil, nil, fmt.Errorf("get %s/%s: %w", src, v.Key, errGone)
		}
		firstPart := meta.Size
		meta.Size = v.Size
		if meta.Tags, err = src.Tags(ctx, v.Key, v.VersionID); err != nil {
			return nil, nil, err
		}
		if keepLayout {
			if b := c.sameLayout(v, meta, firstPart, get); b != nil {
				return meta, b, nil
			}
		}
		n, ps := partLayout(v.Size, c.opt.PartSize)
		return meta, &body{size: v.Size, parts: n, partSize: ps, read: readRange}, nil
	}

	n, ps := partLayout(v.Size, c.opt.PartSize)
	firstLen := min(v.Size, ps)
	first, release, err := c.acquire(ctx, firstLen)
	if err != nil {
		return nil, nil, err
	}
	in := &s3.GetObjectInput{}
	if n > 1 {
		in.Range = aws.String(fmt.Sprintf("bytes=0-%d", firstLen-1))
	}
	out, err := get(ctx, in)
	if err != nil {
		release()
		return nil, nil, err
	}
	if err := c.readFull(ctx, out.Body, first); err != nil {
		release()
		return nil, nil, fmt.Errorf("get %s/%s: %w", src, v.Key, err)
	}
	meta := store.MetaFromGet(v.Key, out, v.Size)
	if aws.ToInt32(out.TagCount) > 0 {
		if meta.Tags, err = src.Tags(ctx, v.Key, v.VersionID); err != nil {
			release()
			return nil, nil, err
		}
	}
	b := &body{size: v.Size, parts: n, partSize: ps, first: first, releaseFirst: release, read: readRange}
	if n == 1 && object.IsMD5ETag(v.ETag) && meta.SSE != "aws:kms" {
		b.wantETag = v.ETag
	}
	return meta, b, nil
}

// sameLayout returns a body that reads the source part by part (GET
// ?partNumber=N), when its parts are small enough to buffer, or nil.
func (c *Copier) sameLayout(v object.Info, meta *object.Meta, firstPart int64,
	get func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error)) *body {
	parts, ps := meta.PartsCount, firstPart
	limit := max(4*c.opt.PartSize, 64*mib)
	if parts < 1 || ps <= 0 || ps > limit || ps > c.opt.Memory ||
		int64(parts-1)*ps >= v.Size && parts > 1 || int64(parts)*ps < v.Size {
		return nil
	}
	b := &body{size: v.Size, parts: parts, partSize: ps, multipart: true}
	if meta.SSE != "aws:kms" {
		b.wantETag = v.ETag
	}
	b.read = func(ctx context.Context, i int, _ int64, buf []byte) error {
		out, err := get(ctx, &s3.GetObjectInput{PartNumber: aws.Int32(int32(i))})
		if err != nil {
			return err
		}
		if aws.ToInt64(out.ContentLength) != int64(len(buf)) {
			out.Body.Close()
			// Parts of uneven size: the copy cannot keep this layout.
			return fmt.Errorf("%w: source part %d has %d bytes, expected %d", errUneven, i, aws.ToInt64(out.ContentLength), len(buf))
		}
		return c.readFull(ctx, out.Body, buf)
	}
	return b
}

var (
	// errUneven: a multipart source whose parts differ in size; the copy
	// falls back to its own layout.
	errUneven = errors.New("uneven source parts")
	// errGone: the version disappeared while it was being copied.
	errGone = errors.New("source object no longer exists")
)

// free returns the budget of a body's first part when it will not be used.
func (b *body) free() {
	if b.releaseFirst != nil {
		b.releaseFirst()
	}
}

// readFull fills buf from r and closes it, failing if r is short or long.
// With a bandwidth limit, it reads no faster than the limit allows.
func (c *Copier) readFull(ctx context.Context, r io.ReadCloser, buf []byte) error {
	defer r.Close()
	var src io.Reader = r
	if c.limit != nil {
		src = &limitedReader{ctx: ctx, r: r, l: c.limit}
	}
	if _, err := io.ReadFull(src, buf); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return fmt.Errorf("read body: more bytes than expected")
	}
	return nil
}

// limitedReader paces reads with a token bucket shared by all the
// copier's copies.
type limitedReader struct {
	ctx context.Context
	r   io.Reader
	l   *rate.Limiter
}

func (lr *limitedReader) Read(p []byte) (int, error) {
	if b := lr.l.Burst(); len(p) > b {
		p = p[:b]
	}
	n, err := lr.r.Read(p)
	if n > 0 {
		if werr := lr.l.WaitN(lr.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
