package cli_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// faultObject is one object of the fault tests' source bucket.
type faultObject struct {
	key       string
	size      int
	multipart bool // uploaded in 5 MiB parts: ferry keeps the layout
	tags      string
	meta      map[string]string
	ctype     string
	cache     string
	md5       string
}

// seedFaultSource fills a new bucket on A (directly, not through a proxy)
// with n small objects of 0-64 KiB, large single-part objects that ferry
// splits into parts, and multipart objects, with varied Content-Type,
// Cache-Control, user metadata and tags.
func seedFaultSource(t *testing.T, bed *testbed.Bed, n, large, multipart int) (string, map[string]*faultObject) {
	t.Helper()
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	r := rand.New(rand.NewPCG(9, 9))
	var objs []*faultObject
	ctypes := []string{"application/octet-stream", "text/plain; charset=utf-8", "image/png", "application/json"}
	for i := range n {
		o := &faultObject{key: fmt.Sprintf("small/%02d/obj-%05d.bin", i%50, i), size: r.IntN(64 << 10), ctype: ctypes[i%len(ctypes)],
			meta: map[string]string{"index": fmt.Sprint(i)}}
		if i%7 == 0 {
			o.size = 0
		}
		if i%5 == 0 {
			o.cache = "max-age=60"
		}
		if i%10 == 0 {
			o.tags = fmt.Sprintf("n=%d&team=ops", i)
		}
		objs = append(objs, o)
	}
	for i := range large {
		objs = append(objs, &faultObject{key: fmt.Sprintf("large/obj-%d.bin", i), size: 6<<20 + r.IntN(8<<20),
			ctype: "application/x-tar", meta: map[string]string{"kind": "large"}, tags: "size=large"})
	}
	for i := range multipart {
		objs = append(objs, &faultObject{key: fmt.Sprintf("multipart/obj-%d.bin", i), size: 10<<20 + r.IntN(6<<20),
			multipart: true, ctype: "video/mp4", meta: map[string]string{"kind": "multipart"}, cache: "no-cache"})
	}
	ctx := context.Background()
	var g errgroup.Group
	g.SetLimit(16)
	for i, o := range objs {
		g.Go(func() error {
			body := randBytes(o.size, uint64(i)+1)
			o.md5 = md5hex(body)
			if o.multipart {
				return putMultipart(ctx, a, src, o, body)
			}
			_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(o.key), Body: bytes.NewReader(body),
				ContentType: aws.String(o.ctype), CacheControl: nonEmptyPtr(o.cache), Metadata: o.meta, Tagging: nonEmptyPtr(o.tags)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	want := map[string]*faultObject{}
	for _, o := range objs {
		want[o.key] = o
	}
	return src, want
}

func putMultipart(ctx context.Context, c *s3.Client, bucket string, o *faultObject, body []byte) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(o.key),
		ContentType: aws.String(o.ctype), CacheControl: nonEmptyPtr(o.cache), Metadata: o.meta, Tagging: nonEmptyPtr(o.tags)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for i, off := int32(1), 0; off < len(body); i, off = i+1, off+5<<20 {
		end := min(off+5<<20, len(body))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(o.key), UploadId: up.UploadId,
			PartNumber: aws.Int32(i), Body: bytes.NewReader(body[off:end])})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(i)})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(o.key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func nonEmptyPtr(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// checkFaultReplicas proves dst holds exactly want: the same keys, each
// body byte for byte (ETag where it is the MD5, else a GET), the same
// Content-Type, Cache-Control, user metadata and tags.
func checkFaultReplicas(t *testing.T, dstC *s3.Client, dst string, want map[string]*faultObject) {
	t.Helper()
	ctx := context.Background()
	keys := keysOf(t, dstC, dst)
	var extra []string
	for _, k := range keys {
		if want[k] == nil {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 || len(keys) != len(want) {
		t.Fatalf("destination has %d keys, want %d; not at the source: %v", len(keys), len(want), extra)
	}
	var mu sync.Mutex
	var bad []string
	fail := func(format string, args ...any) {
		mu.Lock()
		bad = append(bad, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var g errgroup.Group
	g.SetLimit(16)
	for _, o := range want {
		g.Go(func() error {
			h, err := dstC.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(o.key)})
			if err != nil {
				return fmt.Errorf("head %s: %w", o.key, err)
			}
			etag := strings.Trim(aws.ToString(h.ETag), `"`)
			if aws.ToInt64(h.ContentLength) != int64(o.size) {
				fail("%s: %d bytes, want %d", o.key, aws.ToInt64(h.ContentLength), o.size)
			}
			if strings.Contains(etag, "-") { // multipart: hash the body
				out, err := dstC.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(o.key)})
				if err != nil {
					return fmt.Errorf("get %s: %w", o.key, err)
				}
				h := md5.New()
				_, err = io.Copy(h, out.Body)
				out.Body.Close()
				if err != nil {
					return fmt.Errorf("get %s: %w", o.key, err)
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != o.md5 {
					fail("%s: body md5 %s, want %s", o.key, got, o.md5)
				}
			} else if etag != o.md5 {
				fail("%s: ETag %s, want the body's md5 %s", o.key, etag, o.md5)
			}
			if o.multipart && !strings.HasSuffix(etag, fmt.Sprintf("-%d", (o.size+5<<20-1)/(5<<20))) {
				fail("%s: ETag %s does not keep the source's part layout", o.key, etag)
			}
			meta := maps.Clone(h.Metadata)
			for k := range meta {
				if strings.HasPrefix(k, "ferry-origin-") {
					delete(meta, k)
				}
			}
			if aws.ToString(h.ContentType) != o.ctype || aws.ToString(h.CacheControl) != o.cache || !maps.Equal(meta, o.meta) {
				fail("%s: Content-Type %q Cache-Control %q metadata %v, want %q %q %v", o.key,
					aws.ToString(h.ContentType), aws.ToString(h.CacheControl), meta, o.ctype, o.cache, o.meta)
			}
			if o.tags != "" {
				out, err := dstC.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(dst), Key: aws.String(o.key)})
				if err != nil {
					return fmt.Errorf("tags of %s: %w", o.key, err)
				}
				var got []string
				for _, tag := range out.TagSet {
					got = append(got, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
				}
				wantTags := strings.Split(o.tags, "&")
				slices.Sort(got)
				slices.Sort(wantTags)
				if !slices.Equal(got, wantTags) {
					fail("%s: tags %v, want %v", o.key, got, wantTags)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%d objects differ, e.g.: %s", len(bad), strings.Join(bad[:min(5, len(bad))], "; "))
	}
}

// pendingUploads counts the multipart uploads left open in bucket.
func pendingUploads(t *testing.T, c *s3.Client, bucket string) int {
	t.Helper()
	n := 0
	p := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Uploads)
	}
	return n
}

// faultRun is one `ferry sync` through fault proxies and its figures.
type faultRun struct {
	took        time.Duration
	src, dst    testbed.FaultStats
	dupes       []string
	orphans     int
	copied      int64
	code        int
	stderr      string
	failedLines []string
}

// syncThrough runs `ferry sync src dst` with both endpoints behind fault
// proxies with faults f.
func syncThrough(t *testing.T, bed *testbed.Bed, server, profile, src, dst string, f testbed.Faults) faultRun {
	t.Helper()
	pa := testbed.NewFaultProxy(t, bed.Server(t, testbed.A).URL, f)
	pb := testbed.NewFaultProxy(t, bed.Server(t, server).URL, f)
	start := time.Now()
	r := ferry(t, bed, "sync", "s3://"+src, "s3://"+dst, "--src-profile", "tb-a", "--dst-profile", profile,
		"--src-endpoint-url", pa.URL(), "--dst-endpoint-url", pb.URL(), "--part-size", "5MiB", "--json")
	run := faultRun{took: time.Since(start), src: pa.Stats(), dst: pb.Stats(), dupes: pb.WritesAfterDone(), code: r.code, stderr: r.stderr}
	items, sum := parseJSON(t, r.stdout)
	run.copied = sum.Copied
	for _, it := range items {
		if it.Error != "" {
			run.failedLines = append(run.failedLines, it.Key+": "+it.Error)
		}
	}
	run.orphans = pendingUploads(t, bed.Client(t, server), dst)
	return run
}

// TestSyncThroughFaults is issue 9's fault injection for `ferry sync`:
// both servers behind proxies that fail 10% of the requests (latency,
// connection resets before and after the server answered, 503 SlowDown,
// 500 InternalError). One run copies everything, byte for byte with its
// metadata and tags, nothing extra, and no replica is written twice.
// The same sync without faults is the baseline for the figures.
func TestSyncThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short skips it")
	}
	bed := testbed.Require(t)
	src, want := seedFaultSource(t, bed, 3000, 6, 3)
	faultSync(t, bed, testbed.B, "tb-b", src, want)
}

// TestSyncThroughFaultsVersitygw: the same, smaller, to versitygw.
func TestSyncThroughFaultsVersitygw(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short skips it")
	}
	bed := testbed.Require(t)
	src, want := seedFaultSource(t, bed, 500, 2, 2)
	faultSync(t, bed, testbed.VGW, "tb-vgw", src, want)
}

func faultSync(t *testing.T, bed *testbed.Bed, server, profile, src string, want map[string]*faultObject) {
	var bytes int64
	for _, o := range want {
		bytes += int64(o.size)
	}
	dstC := bed.Client(t, server)

	clean := syncThrough(t, bed, server, profile, src, bed.NewBucket(t, server, testbed.BucketOpts{}), testbed.Faults{})
	if clean.code != 0 {
		t.Fatalf("sync without faults: exit %d: %s", clean.code, clean.stderr)
	}

	f := testbed.AllFaults(0.10, 200*time.Millisecond)
	f.Seed = 2026
	dst := bed.NewBucket(t, server, testbed.BucketOpts{})
	run := syncThrough(t, bed, server, profile, src, dst, f)
	report := func() {
		total, base := run.src.Requests+run.dst.Requests, clean.src.Requests+clean.dst.Requests
		faults := map[string]int64{}
		for _, s := range []testbed.FaultStats{run.src, run.dst} {
			for k, v := range s.Faults {
				faults[k] += v
			}
		}
		t.Logf("FAULTS %s: %d objects (%d MiB) to %s; %d requests (%d without faults: %d extra, i.e. retries); faults injected: latency %d, reset %d (%d after the server answered), slowdown %d, error %d; duplicates after done %d; orphaned multipart uploads %d; %s (%s without faults)",
			f, len(want), bytes>>20, server, total, base, total-base, faults[testbed.FaultLatency], faults[testbed.FaultReset],
			run.src.ResetsAfter+run.dst.ResetsAfter, faults[testbed.FaultSlowDown], faults[testbed.FaultError],
			len(run.dupes), run.orphans, run.took.Round(100*time.Millisecond), clean.took.Round(100*time.Millisecond))
		t.Logf("source proxy: %s", run.src)
		t.Logf("destination proxy: %s", run.dst)
	}
	report()
	if run.code != 0 {
		t.Fatalf("sync through faults: exit %d; %d failed, e.g. %v", run.code, len(run.failedLines), run.failedLines[:min(5, len(run.failedLines))])
	}
	if run.copied != int64(len(want)) {
		t.Errorf("copied %d, want %d", run.copied, len(want))
	}
	if len(run.dupes) > 0 {
		t.Errorf("replicas written again after a complete write: %v", run.dupes[:min(5, len(run.dupes))])
	}
	checkFaultReplicas(t, dstC, dst, want)
}

// TestSyncCompleteAnswerLost: the answer to CompleteMultipartUpload is lost
// (the connection is reset after the server completed the upload) half
// of the time. The SDK sends the request again and the server, whose
// upload is gone, says NoSuchUpload. The copy must still succeed, with
// one replica per object.
func TestSyncCompleteAnswerLost(t *testing.T) {
	bed := testbed.Require(t)
	src, want := seedFaultSource(t, bed, 0, 6, 0)
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	run := syncThrough(t, bed, testbed.B, "tb-b", src, dst, testbed.Faults{Rate: 0.5, Resets: true, ResetAfterOnly: true,
		Ops: []string{"CompleteMultipartUpload"}, Seed: 11})
	t.Logf("destination proxy: %s", run.dst)
	if run.code != 0 {
		t.Fatalf("exit %d; failed: %v", run.code, run.failedLines)
	}
	if run.dst.ResetsAfter == 0 {
		t.Fatal("no answer was lost: the test tests nothing")
	}
	if len(run.dupes) > 0 {
		t.Errorf("written again after complete: %v", run.dupes)
	}
	checkFaultReplicas(t, bed.Client(t, testbed.B), dst, want)
}
