package replicate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// upload pushes a local file to a bucket. Pushed files are originals, not
// replicas, so they carry no origin metadata.
func (c *Copier) upload(ctx context.Context, src *store.Dir, dst *store.Bucket, j Job) (Result, error) {
	f, err := os.Open(src.Path(j.Src.Key))
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	meta := &object.Meta{Info: object.Info{Key: j.Src.Key, Size: fi.Size(), LastModified: fi.ModTime()}, ContentType: store.ContentType(j.Src.Key)}
	n, ps := partLayout(meta.Size, c.opt.PartSize)
	b := &body{size: meta.Size, parts: n, partSize: ps, read: func(_ context.Context, _ int, off int64, buf []byte) error {
		_, err := f.ReadAt(buf, off)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s shrank while uploading", f.Name())
		}
		return err
	}}
	in := putInput(dst.Name, j.DstKey, meta, nil, j.Settings, false)
	return c.write(ctx, dst, in, b)
}

// download writes a version to a local file: into a temporary file next to
// the target, verified, then renamed, so a crash never leaves a partial file
// under the real name. The file's mtime is set to the object's, which is how
// the next run knows it is in sync.
func (c *Copier) download(ctx context.Context, src *store.Bucket, dst *store.Dir, j Job) (res Result, err error) {
	rel := filepath.FromSlash(j.DstKey)
	if !filepath.IsLocal(strings.TrimSuffix(rel, string(filepath.Separator))) {
		return Result{}, fmt.Errorf("key %q would be written outside %s", j.DstKey, dst.Root)
	}
	target := dst.Path(j.DstKey)
	if strings.HasSuffix(j.DstKey, "/") { // a "folder" marker object
		return Result{}, os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return Result{}, err
	}
	f, err := os.CreateTemp(filepath.Dir(target), store.TempPrefix+"*")
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	v := j.Src
	var sse string // written by part 1 only, read after Wait
	get := func(ctx context.Context, i int, rng string) (io.ReadCloser, error) {
		out, err := src.EP.S3.GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(src.Name), Key: aws.String(v.Key), VersionId: nonEmpty(v.VersionID),
			IfMatch: etagCondition(v.ETag), Range: nonEmpty(rng),
		})
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", src, v.Key, err)
		}
		if i == 1 {
			sse = string(out.ServerSideEncryption)
		}
		return out.Body, nil
	}
	n, ps := partLayout(v.Size, c.opt.PartSize)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opt.PartsInFlight)
	for i := 1; i <= n; i++ {
		g.Go(func() error {
			off := int64(i-1) * ps
			want := min(ps, v.Size-off)
			rng := ""
			if n > 1 {
				rng = fmt.Sprintf("bytes=%d-%d", off, off+want-1)
			}
			body, err := get(gctx, i, rng)
			if err != nil {
				return err
			}
			defer body.Close()
			got, err := io.Copy(io.NewOffsetWriter(f, off), body)
			if err != nil {
				return fmt.Errorf("get %s/%s: %w", src, v.Key, err)
			}
			if got != want {
				return fmt.Errorf("%w: part %d has %d bytes, expected %d", ErrIntegrity, i, got, want)
			}
			return nil
		})
	}
	if err = g.Wait(); err != nil {
		return Result{}, err
	}
	if object.IsMD5ETag(v.ETag) && sse != "aws:kms" {
		// Hashing after the parallel write costs one sequential read of
		// a file the page cache still holds.
		sum, err := fileMD5(f)
		if err != nil {
			return Result{}, err
		}
		if sum != v.ETag {
			return Result{}, fmt.Errorf("%w: downloaded MD5 %s, source ETag %s", ErrIntegrity, sum, v.ETag)
		}
	}
	if err = f.Close(); err != nil {
		return Result{}, err
	}
	if err = os.Chtimes(f.Name(), v.LastModified, v.LastModified); err != nil {
		return Result{}, err
	}
	if err = os.Rename(f.Name(), target); err != nil {
		return Result{}, err
	}
	return Result{Bytes: v.Size, ETag: v.ETag}, nil
}

func fileMD5(f *os.File) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
