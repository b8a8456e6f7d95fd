package replicate

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// readFunc fills buf with the bytes of part i (1-based) at offset off.
type readFunc func(ctx context.Context, i int, off int64, buf []byte) error

// body describes an object body to write: its layout and how to read it.
type body struct {
	size     int64
	parts    int   // number of parts; 1 with !multipart means a single PUT
	partSize int64 // size of every part but the last
	// multipart forces a multipart upload even for one part, to keep a
	// multipart source's layout (and so its ETag).
	multipart bool
	// first holds part 1 when the caller already read it (its GET also
	// told the metadata); releaseFirst returns its budget.
	first        []byte
	releaseFirst func()
	read         readFunc
	// wantETag, when set, is the ETag the bytes must hash to (the source's,
	// when it is an MD5 or a same-layout multipart ETag): the check that
	// what was read is what the source holds.
	wantETag string
}

func (b *body) partLen(i int) int64 {
	if i < b.parts {
		return b.partSize
	}
	return b.size - int64(b.parts-1)*b.partSize
}

// write stores the body at the destination with the request in, verifying
// each part with Content-MD5 and the whole against the destination's ETag.
func (c *Copier) write(ctx context.Context, dst *store.Bucket, in *s3.PutObjectInput, b *body) (Result, error) {
	if b.parts == 1 && !b.multipart {
		return c.putSingle(ctx, in, b)
	}
	return c.putMultipart(ctx, dst, in, b)
}

func (c *Copier) putSingle(ctx context.Context, in *s3.PutObjectInput, b *body) (Result, error) {
	buf, release := b.first, b.releaseFirst
	if buf == nil {
		var err error
		if buf, release, err = c.acquire(ctx, b.size); err != nil {
			return Result{}, err
		}
		if err := b.read(ctx, 1, 0, buf); err != nil {
			release()
			return Result{}, err
		}
	}
	defer release()
	sum := md5.Sum(buf)
	etag := hex.EncodeToString(sum[:])
	if b.wantETag != "" && b.wantETag != etag {
		return Result{}, fmt.Errorf("%w: read %s, source ETag is %s", ErrIntegrity, etag, b.wantETag)
	}
	in.Body = bytes.NewReader(buf)
	in.ContentLength = aws.Int64(b.size)
	in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	out, err := c.dstS3().PutObject(ctx, in, s3.WithAPIOptions(unsignedPayload))
	if err != nil {
		return Result{}, fmt.Errorf("put: %w", err)
	}
	res := Result{Bytes: b.size, ETag: object.TrimETag(aws.ToString(out.ETag)), VersionID: aws.ToString(out.VersionId)}
	return res, c.checkStored(ctx, in, res, etag, out.ServerSideEncryption)
}

func (c *Copier) putMultipart(ctx context.Context, dst *store.Bucket, in *s3.PutObjectInput, b *body) (res Result, err error) {
	cli := c.dstS3()
	created, err := cli.CreateMultipartUpload(ctx, createInput(in))
	if err != nil {
		if b.releaseFirst != nil {
			b.releaseFirst()
		}
		return Result{}, fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := created.UploadId
	defer func() {
		if err != nil {
			// An aborted upload leaves nothing visible: a failed or
			// interrupted copy never shows as a partial replica.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _ = cli.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: in.Bucket, Key: in.Key, UploadId: uploadID})
		}
	}()

	sums := make([][md5.Size]byte, b.parts)
	done := make([]types.CompletedPart, b.parts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opt.PartsInFlight)
	for i := 1; i <= b.parts; i++ {
		n := b.partLen(i)
		var buf []byte
		var release func()
		fresh := !(i == 1 && b.first != nil)
		if fresh {
			// The budget is taken in part order, before the goroutine, so
			// the lowest unfinished part always holds its buffer.
			if buf, release, err = c.acquire(gctx, n); err != nil {
				break
			}
		} else {
			buf, release = b.first, b.releaseFirst
		}
		g.Go(func() error {
			defer release()
			if fresh {
				if err := b.read(gctx, i, int64(i-1)*b.partSize, buf); err != nil {
					return err
				}
			}
			sums[i-1] = md5.Sum(buf)
			out, err := cli.UploadPart(gctx, &s3.UploadPartInput{
				Bucket: in.Bucket, Key: in.Key, UploadId: uploadID, PartNumber: aws.Int32(int32(i)),
				Body: bytes.NewReader(buf), ContentLength: aws.Int64(n),
				ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sums[i-1][:])),
			}, s3.WithAPIOptions(unsignedPayload))
			if err != nil {
				return fmt.Errorf("upload part %d: %w", i, err)
			}
			done[i-1] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i))}
			return nil
		})
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return Result{}, err
	}
	etag := multipartETag(sums)
	if b.wantETag != "" && b.wantETag != etag {
		return Result{}, fmt.Errorf("%w: read %s, source ETag is %s", ErrIntegrity, etag, b.wantETag)
	}
	out, err := cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: in.Bucket, Key: in.Key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return Result{}, fmt.Errorf("complete multipart upload: %w", err)
	}
	res = Result{Bytes: b.size, ETag: object.TrimETag(aws.ToString(out.ETag)), VersionID: aws.ToString(out.VersionId)}
	return res, c.checkStored(ctx, in, res, etag, out.ServerSideEncryption)
}

// multipartETag is S3's ETag of a multipart object: the MD5 of the parts'
// MD5s, a dash, and the part count.
func multipartETag(sums [][md5.Size]byte) string {
	h := md5.New()
	for _, s := range sums {
		h.Write(s[:])
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(sums))
}

// checkStored compares the destination's ETag with the MD5 ferry computed of
// what it sent. Encrypted objects' ETags are not MD5s of the plaintext; for
// those the per-request Content-MD5, checked by the server, is the proof.
// A replica that does not verify is deleted again: it must not stand,
// carrying origin metadata that says it is good.
func (c *Copier) checkStored(ctx context.Context, in *s3.PutObjectInput, res Result, want string, sse types.ServerSideEncryption) error {
	if sse != "" || in.ServerSideEncryption != "" || res.ETag == want {
		return nil
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, derr := c.dstS3().DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: in.Key, VersionId: nonEmpty(res.VersionID)})
	if derr != nil {
		return fmt.Errorf("%w: destination stored ETag %s, sent %s; removing the bad replica failed too: %v", ErrIntegrity, res.ETag, want, derr)
	}
	return fmt.Errorf("%w: destination stored ETag %s, sent %s (bad replica removed)", ErrIntegrity, res.ETag, want)
}

func (c *Copier) dstS3() *s3.Client { return c.dst.(*store.Bucket).EP.S3 }

// unsignedPayload signs a write's headers but not its body, for requests
// that carry Content-MD5: the server checks the body against that signed
// MD5, which it computes anyway for the ETag, so the SHA-256 of the body
// the SDK computes over plain HTTP (and the server verifies) is work twice
// over. Over HTTPS the SDK already leaves the body unsigned, and where it
// sends trailing checksums there is no hash to swap.
func unsignedPayload(s *middleware.Stack) error {
	if _, ok := s.Finalize.Get(computePayloadSHA256); !ok {
		return nil
	}
	return v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware(s)
}

// computePayloadSHA256 is the ID of the SDK's middleware that hashes the body.
const computePayloadSHA256 = "ComputePayloadHash"
