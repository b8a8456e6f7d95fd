package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/testbed"
	"github.com/ferry-s3/ferry/internal/worker"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// newWorker builds a worker from a ferry.yaml with the bed's profiles.
func newWorker(t *testing.T, bed *testbed.Bed, yaml string) *worker.Worker {
	t.Helper()
	bed.Setenv(t)
	cfg, err := config.Parse([]byte(yaml), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		return endpoint.Open(ctx, o)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := worker.New(ctx(t), cfg, open, replicate.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func put(t *testing.T, c *s3.Client, bucket, key, body string, meta map[string]string) string {
	t.Helper()
	out, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// body returns the current body of key, or "<absent>".
func body(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") || strings.Contains(err.Error(), "404") {
			return "<absent>"
		}
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

func sync(t *testing.T, w *worker.Worker, ev event.Event) []worker.Outcome {
	t.Helper()
	outs := w.Sync(ctx(t), ev)
	for _, o := range outs {
		t.Logf("%s -> %s/%s: %s (%s) %v", o.Key, o.Dest, o.DstKey, o.Action, o.Reason, o.Err)
	}
	return outs
}

func actions(outs []worker.Outcome) string {
	var s []string
	for _, o := range outs {
		if o.Err != nil {
			s = append(s, "error:"+o.Failure.Reason)
			continue
		}
		s = append(s, string(o.Action))
	}
	return strings.Join(s, ",")
}

// TestUnversioned: an event is only a hint; a stale event copies the
// source's current body, a replica is never replicated again, and a delete
// is replicated only when configured, and only onto ferry's own replica.
func TestUnversioned(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	w := newWorker(t, bed, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations:
  - {bucket: %s, profile: tb-b, replicate_deletes: true, key_rewrite: {from: "in/", to: "out/"}}
`, src, dst))

	put(t, a, src, "in/k.txt", "one", nil)
	stale := event.Event{Kind: event.Put, Bucket: src, Key: "in/k.txt"}
	if got := actions(sync(t, w, stale)); got != "copy" {
		t.Fatalf("first event: %s, want copy", got)
	}
	if got := actions(sync(t, w, stale)); got != "skip" {
		t.Fatalf("duplicate event: %s, want skip", got)
	}
	put(t, a, src, "in/k.txt", "two", nil)
	// The event for "one" arrives again, late: the newest body still wins.
	sync(t, w, stale)
	if got := body(t, b, dst, "out/k.txt"); got != "two" {
		t.Fatalf("replica holds %q after a late event, want the newest %q", got, "two")
	}

	// A replica in the source (two-way replication) is never sent back.
	put(t, a, src, "in/replica.txt", "x", map[string]string{"ferry-origin-bucket": "elsewhere", "ferry-origin-etag": "abc"})
	if got := actions(sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "in/replica.txt"})); got != "replica" {
		t.Fatalf("replica at source: %s, want replica", got)
	}
	if got := body(t, b, dst, "out/replica.txt"); got != "<absent>" {
		t.Fatalf("a replica was replicated again")
	}

	// Deletes: the replica goes; an object ferry did not write stays.
	put(t, b, dst, "out/theirs.txt", "not a replica", nil)
	for _, k := range []string{"in/k.txt", "in/theirs.txt"} {
		a.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String(k)})
		sync(t, w, event.Event{Kind: event.Delete, Bucket: src, Key: k})
	}
	if got := body(t, b, dst, "out/k.txt"); got != "<absent>" {
		t.Fatalf("replica still there after a replicated delete: %q", got)
	}
	if got := body(t, b, dst, "out/theirs.txt"); got != "not a replica" {
		t.Fatalf("an object ferry did not write was touched: %q", got)
	}
}

// TestDeletesNotReplicatedByDefault: without replicate_deletes a delete at
// the source leaves the replica.
func TestDeletesNotReplicatedByDefault(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	w := newWorker(t, bed, fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b}]\n", src, dst))
	put(t, a, src, "k", "v", nil)
	sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "k"})
	a.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("k")})
	if got := actions(sync(t, w, event.Event{Kind: event.Delete, Bucket: src, Key: "k"})); got != "skip" {
		t.Fatalf("delete without replicate_deletes: %s, want skip", got)
	}
	if got := body(t, b, dst, "k"); got != "v" {
		t.Fatalf("replica was deleted without replicate_deletes")
	}
}

// TestVersioned: whatever event arrives, every version is replayed in
// order, and delete markers follow DeleteMarkerReplication.
func TestVersioned(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	w := newWorker(t, bed, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
replication:
  Rules:
    - {ID: all, Status: Enabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Enabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
`, src, dst, dst))
	v1 := put(t, a, src, "doc", "v1", nil)
	put(t, a, src, "doc", "v2", nil)
	put(t, a, src, "doc", "v3", nil)
	// Only the first version's event arrives (the others are late).
	sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "doc", VersionID: v1})
	var bodies []string
	vs, err := b.ListObjectVersions(ctx(t), &s3.ListObjectVersionsInput{Bucket: aws.String(dst), Prefix: aws.String("doc")})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(vs.Versions) - 1; i >= 0; i-- {
		out, err := b.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String("doc"), VersionId: vs.Versions[i].VersionId})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := io.ReadAll(out.Body)
		out.Body.Close()
		bodies = append(bodies, string(x))
	}
	if got := strings.Join(bodies, ","); got != "v1,v2,v3" {
		t.Fatalf("destination versions oldest first: %s, want v1,v2,v3", got)
	}
	// Replaying the late events changes nothing.
	for range 2 {
		if got := actions(sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "doc"})); got != "skip" {
			t.Fatalf("replay: %s, want skip", got)
		}
	}
	// A delete marker is replicated once, however often its event comes.
	a.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("doc")})
	for range 2 {
		sync(t, w, event.Event{Kind: event.DeleteMarker, Bucket: src, Key: "doc"})
	}
	vs, _ = b.ListObjectVersions(ctx(t), &s3.ListObjectVersionsInput{Bucket: aws.String(dst), Prefix: aws.String("doc")})
	if len(vs.DeleteMarkers) != 1 || len(vs.Versions) != 3 {
		t.Fatalf("destination has %d versions and %d delete markers, want 3 and 1", len(vs.Versions), len(vs.DeleteMarkers))
	}
}

// TestPermanentFailure: a destination bucket that disappears is reported
// as S3 would (DstBucketNotFound), permanent, not retried forever.
func TestPermanentFailure(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	w := newWorker(t, bed, fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b}]\n", src, dst))
	put(t, a, src, "k", "v", nil)
	if _, err := b.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(dst)}); err != nil {
		t.Fatal(err)
	}
	outs := sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "k"})
	err := worker.Failed(outs)
	e, ok := err.(*worker.Error)
	if !ok || !e.Permanent() || e.Outcomes[0].Failure.Reason != "DstBucketNotFound" {
		t.Fatalf("got %v, want a permanent DstBucketNotFound", err)
	}
	b.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(dst)}) // for the cleanup
}

// TestTargetBucketTag: the aws-lambda-copy-s3-objects convention, a
// TargetBucket tag on the source bucket naming the destinations.
func TestTargetBucketTag(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	d1 := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	d2 := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	_, err := a.PutBucketTagging(ctx(t), &s3.PutBucketTaggingInput{Bucket: aws.String(src), Tagging: &types.Tagging{
		TagSet: []types.Tag{{Key: aws.String("TargetBucket"), Value: aws.String(d1 + " " + d2 + "@us-east-1")}}}})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, bed, fmt.Sprintf("source: {bucket: %s, profile: tb-a, target_bucket_tag: true}\n", src))
	put(t, a, src, "k", "v", nil)
	if got := actions(sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "k"})); got != "copy,copy" {
		t.Fatalf("got %s, want a copy to each tagged bucket", got)
	}
	for _, d := range []string{d1, d2} {
		if got := body(t, a, d, "k"); got != "v" {
			t.Fatalf("%s holds %q", d, got)
		}
	}
}

// TestBandwidth: a destination's bandwidth cap paces the bytes copied.
func TestBandwidth(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	w := newWorker(t, bed, fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b, bandwidth: 1MiB}]\n", src, dst))
	put(t, a, src, "big", strings.Repeat("x", 3<<20), nil)
	start := time.Now()
	if got := actions(sync(t, w, event.Event{Kind: event.Put, Bucket: src, Key: "big"})); got != "copy" {
		t.Fatalf("got %s", got)
	}
	// 3 MiB at 1 MiB/s, less the first burst: at least ~2.5 s.
	if took := time.Since(start); took < 2500*time.Millisecond || took > 10*time.Second {
		t.Fatalf("3 MiB at 1 MiB/s took %s", took)
	}
}
