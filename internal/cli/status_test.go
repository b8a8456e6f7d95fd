package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestStatusKinds: what `ferry status` says without a daemon, from the
// buckets alone: a replicated object is COMPLETED with the time it took, a
// missing replica PENDING with why, a replica written by ferry REPLICA, a
// key no rule covers and a key that does not exist NONE; the queue being
// absent is a warning, not an error.
func TestStatusKinds(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
replication:
  Rules:
    - {ID: builds, Status: Enabled, Priority: 1, Filter: {Prefix: builds/}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
run: {data_dir: %s}
`, src, dst, dst, filepath.Join(dir, "no-daemon-here"))), 0o644)
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("builds/app.tar"), Body: strings.NewReader("app")})
	if r := ferry(t, bed, "sync", "--config", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d", r.code)
	}
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("builds/new.tar"), Body: strings.NewReader("new")})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("notes.txt"), Body: strings.NewReader("n")})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("builds/from-b.tar"), Body: strings.NewReader("b"),
		Metadata: map[string]string{"ferry-origin-bucket": "other", "ferry-origin-key": "from-b.tar", "ferry-origin-etag": "x"}})

	for _, tc := range []struct{ key, status, dest, detail string }{
		{"builds/app.tar", "COMPLETED", "COMPLETED", ""},
		{"builds/new.tar", "PENDING", "PENDING", "missing at destination"},
		{"builds/from-b.tar", "REPLICA", "", "s3://other/from-b.tar"},
		{"notes.txt", "NONE", "", "no enabled rule"},
		{"builds/gone.tar", "NONE", "", "no such object"},
	} {
		r := ferry(t, bed, "status", "--config", cfg, "s3://"+src+"/"+tc.key, "--json")
		if r.code != 0 {
			t.Fatalf("status %s: exit %d", tc.key, r.code)
		}
		var ks struct {
			Status, Note, Origin string
			Destinations         []struct {
				Status, Why string
				Took        *float64 `json:"took_seconds"`
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &ks); err != nil {
			t.Fatalf("status %s: %v", tc.key, err)
		}
		if ks.Status != tc.status || !strings.Contains(ks.Note+ks.Origin+fmt.Sprint(ks.Destinations), tc.detail) {
			t.Errorf("status %s = %+v, want %s mentioning %q", tc.key, ks, tc.status, tc.detail)
		}
		if tc.dest != "" && (len(ks.Destinations) != 1 || ks.Destinations[0].Status != tc.dest) {
			t.Errorf("status %s: destinations %+v, want one %s", tc.key, ks.Destinations, tc.dest)
		}
		if !strings.Contains(r.stderr, "attempts and failure reasons unknown") {
			t.Errorf("no warning that the daemon's queue is missing: %s", r.stderr)
		}
	}
	r := ferry(t, bed, "status", "--config", cfg, "--prefix", "builds/")
	if r.code != 0 || strings.Count(r.stdout, "\ns3://")+1 != 3 || !strings.Contains(r.stdout, "rule builds -> s3://"+dst+"/builds/app.tar  COMPLETED  (took ") {
		t.Errorf("status --prefix: exit %d\n%s", r.code, r.stdout)
	}
	if r := ferry(t, bed, "status", "--config", cfg, "s3://elsewhere/x"); r.code != 2 || !strings.Contains(r.stderr, "not the config's source bucket") {
		t.Errorf("status of another bucket: exit %d, %s", r.code, r.stderr)
	}
	if r := ferry(t, bed, "retry", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "data directory") {
		t.Errorf("retry without a queue: exit %d, %s", r.code, r.stderr)
	}
}
