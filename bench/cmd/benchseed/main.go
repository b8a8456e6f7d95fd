// Command benchseed makes a large pair of in-sync buckets on the test bed
// fast, for the reconcile benchmark (bench/bench.sh, bench/scale.sh): the
// same N objects in BUCKET on MinIO a and on MinIO b, with the key layout
// of `tbseed fill` (p000/obj-00000000.dat ... in 1,000 folders).
//
//	benchseed [-bed DIR] [-n N] [-size B] [-c C] BUCKET
//
// PUTting N objects twice takes half an hour per million on a 2-core
// machine. Instead, benchseed creates the bucket on both servers and PUTs
// the first 1,000 objects (one per folder) to a through the S3 API; then,
// with both servers running, it writes the other objects straight into a's
// data directory as copies of the object stored in their folder (a
// single-drive MinIO keeps each object as KEY/xl.meta, which does not name
// the key), and writes all N into b's data directory the same way:
// 100,000 objects take about 10 s on 2 cores. Both servers then serve them
// like any other: same size and ETag on both sides (the ETags repeat every
// 1,000 objects), same modification time. It works on the beds of
// scripts/testbed.sh (DIR/a-data, DIR/b-data), with objects small enough
// to be stored inline (-size up to 128 KiB), and only before either bucket
// is listed: a server may cache a listing, and it does not know about
// files written behind its back. It checks the result with HEADs of a few
// keys on both servers. `tbseed fill -mirror` is the slow way through the
// API.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// folders is the number of folders of tbseed fill's key layout, and the
// number of objects PUT through the API.
const folders = 1000

// maxInline is MinIO's inline-data threshold: larger objects keep their
// data in a separate part file benchseed does not handle.
const maxInline = 128 << 10

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchseed:", err)
		os.Exit(1)
	}
}

// key is tbseed fill's key of object i.
func key(i int) string { return fmt.Sprintf("p%03d/obj-%08d.dat", i%folders, i) }

// body is tbseed fill's body of object i.
func body(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = 'a' + byte((i+j)%26)
	}
	copy(b, fmt.Sprintf("%012d", i))
	return b
}

func run(args []string) error {
	fl := flag.NewFlagSet("benchseed", flag.ContinueOnError)
	bedDir := fl.String("bed", os.Getenv("FERRY_TESTBED"), "test bed directory")
	n := fl.Int("n", 100000, "objects")
	size := fl.Int("size", 256, "bytes per object (at most 128 KiB)")
	conc := fl.Int("c", 32, "parallel PUTs and file writes")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return errors.New("usage: benchseed [-bed DIR] [-n N] [-size B] [-c C] BUCKET")
	}
	bucket := fl.Arg(0)
	switch {
	case *bedDir == "":
		return errors.New("no test bed: set FERRY_TESTBED or pass -bed DIR")
	case *n < 1 || *conc < 1:
		return errors.New("-n and -c must be at least 1")
	case *size < 0 || *size > maxInline:
		return fmt.Errorf("-size %d: at most %d (objects stored inline)", *size, maxInline)
	}
	bed, err := testbed.Load(*bedDir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	a, b := testbed.NewClient(bed.Servers[testbed.A]), testbed.NewClient(bed.Servers[testbed.B])
	for _, c := range []*s3.Client{a, b} {
		if err := makeBucket(ctx, c, bucket); err != nil {
			return err
		}
	}
	dirA := filepath.Join(bed.Dir, "a-data", bucket)
	dirB := filepath.Join(bed.Dir, "b-data", bucket)
	for _, d := range []string{dirA, dirB} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("%s is not a bucket directory of a single-drive MinIO (a bed of scripts/testbed.sh): %v", d, err)
		}
	}

	// The templates, through the API.
	t := min(*n, folders)
	if err := parallel(t, *conc, func(i int) error {
		_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key(i)),
			Body: bytes.NewReader(body(i, *size))})
		if err != nil {
			return fmt.Errorf("put %s: %w", key(i), err)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchseed: %d objects PUT to a/%s in %s\n", t, bucket, time.Since(start).Round(time.Millisecond))

	// Each template's files, as a's server wrote them.
	templates := make([]map[string][]byte, t)
	for i := range t {
		if templates[i], err = readTree(filepath.Join(dirA, key(i))); err != nil {
			return err
		}
		if _, ok := templates[i]["xl.meta"]; !ok || len(templates[i]) != 1 {
			return fmt.Errorf("%s: want one xl.meta, found %d files: not a single-drive MinIO object stored inline", filepath.Join(dirA, key(i)), len(templates[i]))
		}
	}

	// The clones on a (objects t..n-1), and all n on b.
	var written atomic.Int64
	clone := func(dir string, from int) func(int) error {
		return func(i int) error {
			i += from
			if err := writeTree(filepath.Join(dir, key(i)), templates[i%t]); err != nil {
				return err
			}
			written.Add(1)
			return nil
		}
	}
	if err := parallel(*n-t, *conc, clone(dirA, t)); err != nil {
		return err
	}
	if err := parallel(*n, *conc, clone(dirB, 0)); err != nil {
		return err
	}

	// Both servers serve what was written, with the template's ETag.
	for _, i := range uniq(0, t-1, t, *n/2, *n-1) {
		if i >= *n {
			continue
		}
		var etag string
		for s, c := range map[string]*s3.Client{"a": a, "b": b} {
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key(i))})
			if err != nil {
				return fmt.Errorf("check: head %s/%s/%s: %w", s, bucket, key(i), err)
			}
			if aws.ToInt64(h.ContentLength) != int64(*size) || (etag != "" && aws.ToString(h.ETag) != etag) {
				return fmt.Errorf("check: %s/%s/%s: size %d, ETag %s: not the template's", s, bucket, key(i), aws.ToInt64(h.ContentLength), aws.ToString(h.ETag))
			}
			etag = aws.ToString(h.ETag)
		}
	}
	fmt.Printf("seeded %d objects of %d bytes in sync in a/%s and b/%s (%d PUT, %d files written) in %s\n",
		*n, *size, bucket, bucket, t, written.Load(), time.Since(start).Round(time.Millisecond))
	return nil
}

func makeBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// parallel runs fn(0..n-1) on c goroutines and returns the first error.
func parallel(n, c int, fn func(int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(c, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; failed.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// readTree reads every file under dir: relative path -> content.
func readTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if files[rel], err = os.ReadFile(p); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}

// writeTree writes files under dir, creating it.
func writeTree(dir string, files map[string][]byte) error {
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func uniq(v ...int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range v {
		if x >= 0 && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
