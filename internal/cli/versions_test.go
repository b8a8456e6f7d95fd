package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// history lists a key's versions oldest first as their bodies, with "X" for
// a delete marker.
func history(t *testing.T, c *s3.Client, bucket, key string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		body string
		at   int64
	}
	var evs []ev
	for _, v := range out.Versions {
		if aws.ToString(v.Key) != key {
			continue
		}
		o, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: v.VersionId})
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		buf := make([]byte, 64)
		for {
			n, err := o.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		o.Body.Close()
		evs = append(evs, ev{sb.String(), aws.ToTime(v.LastModified).UnixNano()})
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			evs = append(evs, ev{"X", aws.ToTime(m.LastModified).UnixNano()})
		}
	}
	// Oldest first, by modification time.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at < evs[j-1].at; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	var h []string
	for _, e := range evs {
		h = append(h, e.body)
	}
	return h
}

// TestSyncVersions replays every version in order, delete markers only
// when asked, and a rerun after new versions copies only those.
func TestSyncVersions(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	for _, body := range []string{"v1", "v2", "v3"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("doc.txt"), Body: strings.NewReader(body)})
	}
	if _, err := a.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("doc.txt")}); err != nil {
		t.Fatal(err)
	}
	args := []string{"sync", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--versions", "--json"}

	r := ferry(t, bed, args...)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if got := strings.Join(history(t, b, dst, "doc.txt"), ","); got != "v1,v2,v3" {
		t.Fatalf("destination history %q, want v1,v2,v3 (no delete marker without --delete-markers)", got)
	}
	r = ferry(t, bed, append(args, "--delete-markers")...)
	if got := strings.Join(history(t, b, dst, "doc.txt"), ","); r.code != 0 || got != "v1,v2,v3,X" {
		t.Fatalf("exit %d, destination history %q, want v1,v2,v3,X", r.code, got)
	}
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("doc.txt"), Body: strings.NewReader("v4")})
	r = ferry(t, bed, append(args, "--delete-markers")...)
	_, sum := parseJSON(t, r.stdout)
	if got := strings.Join(history(t, b, dst, "doc.txt"), ","); r.code != 0 || got != "v1,v2,v3,X,v4" || sum.Copied != 1 {
		t.Fatalf("exit %d, copied %d, history %q; want only v4 added", r.code, sum.Copied, got)
	}

	unversioned := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	r = ferry(t, bed, "sync", "s3://"+src, "s3://"+unversioned, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--versions")
	if r.code != 2 || !strings.Contains(r.stderr, "versioning is not enabled") {
		t.Fatalf("unversioned destination: exit %d, stderr %q; want exit 2 explaining versioning", r.code, r.stderr)
	}
}
