package replicate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// serverCopy copies within one endpoint and account: the server moves the
// bytes (CopyObject, or UploadPartCopy above 5 GiB); none pass through
// ferry.
func (c *Copier) serverCopy(ctx context.Context, src, dst *store.Bucket, j Job) (Result, error) {
	meta, err := src.Head(ctx, j.Src.Key, j.Src.VersionID)
	if err != nil {
		return Result{}, err
	}
	if meta == nil {
		return Result{}, fmt.Errorf("head %s/%s: %w", src, j.Src.Key, errGone)
	}
	if j.Src.ETag != "" && meta.ETag != j.Src.ETag {
		return Result{}, fmt.Errorf("%s/%s changed while copying (ETag %s, listed %s)", src, j.Src.Key, meta.ETag, j.Src.ETag)
	}
	lock, err := c.lockEnabled(ctx, dst)
	if err != nil {
		return Result{}, err
	}
	in := putInput(dst.Name, j.DstKey, meta, originOf(src.Name, meta), j.Settings, lock)
	if meta.Size <= maxCopyObject {
		out, err := src.EP.S3.CopyObject(ctx, copyInput(in, src.Name, meta.Info))
		if err != nil {
			return Result{}, fmt.Errorf("copy object: %w", err)
		}
		r := Result{ServerSide: true, VersionID: aws.ToString(out.VersionId)}
		if out.CopyObjectResult != nil {
			r.ETag = object.TrimETag(aws.ToString(out.CopyObjectResult.ETag))
		}
		return r, nil
	}
	if meta.Tags, err = src.Tags(ctx, j.Src.Key, j.Src.VersionID); err != nil {
		return Result{}, err
	}
	in = putInput(dst.Name, j.DstKey, meta, originOf(src.Name, meta), j.Settings, lock)
	return c.serverMultipartCopy(ctx, src, in, meta)
}

// serverMultipartCopy copies an object over 5 GiB with UploadPartCopy.
func (c *Copier) serverMultipartCopy(ctx context.Context, src *store.Bucket, in *s3.PutObjectInput, meta *object.Meta) (res Result, err error) {
	cli := src.EP.S3
	created, err := cli.CreateMultipartUpload(ctx, createInput(in))
	if err != nil {
		return Result{}, fmt.Errorf("create multipart upload: %w", err)
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _ = cli.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId})
		}
	}()
	// Server-side parts cost no memory here, so they can be large.
	n, ps := partLayout(meta.Size, max(c.opt.PartSize, 512*mib))
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opt.PartsInFlight)
	for i := 1; i <= n; i++ {
		g.Go(func() error {
			first := int64(i-1) * ps
			last := min(first+ps, meta.Size) - 1
			out, err := cli.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
				Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId, PartNumber: aws.Int32(int32(i)),
				CopySource:        aws.String(copySource(src.Name, meta.Key, meta.VersionID)),
				CopySourceIfMatch: etagCondition(meta.ETag),
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
			})
			if err != nil {
				return fmt.Errorf("upload part copy %d: %w", i, err)
			}
			parts[i-1] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i))}
			return nil
		})
	}
	if err = g.Wait(); err != nil {
		return Result{}, err
	}
	out, err := cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return Result{}, fmt.Errorf("complete multipart upload: %w", err)
	}
	return Result{ServerSide: true, ETag: object.TrimETag(aws.ToString(out.ETag)), VersionID: aws.ToString(out.VersionId)}, nil
}
