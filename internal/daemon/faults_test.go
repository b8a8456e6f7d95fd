package daemon_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// faultConfig writes a `ferry run` config: src to dst, the destination
// reached through endpoint, the webhook on addr, no periodic reconcile.
func faultConfig(t *testing.T, src, dst, endpoint, addr string, workers int) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "ferry.yaml")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b, endpoint_url: %q}]
replication:
  Rules:
    - {ID: all, Status: Enabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
run:
  listen: %s
  data_dir: %s
  reconcile_interval: 0s
  workers: %d
`, src, dst, endpoint, dst, addr, filepath.Join(dir, "data"), workers)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// countKeys counts the objects under prefix.
func countKeys(t *testing.T, c *s3.Client, bucket, prefix string) int {
	t.Helper()
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Contents)
	}
	return n
}

// TestDestinationDownRecovers is issue 9's outage: `ferry run` receives
// MinIO's events while the destination is down for 60 s (connections
// refused; FERRY_TEST_OUTAGE sets another length), then comes back. No
// one does anything: every object written during the outage is
// replicated soon after, and none is written twice. It prints what the
// outage cost (attempts, busy workers) and the time to recover.
func TestDestinationDownRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("long (a 60 s outage): -short skips it")
	}
	outage := 60 * time.Second
	if v := os.Getenv("FERRY_TEST_OUTAGE"); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatalf("FERRY_TEST_OUTAGE: %v", err)
		}
	}
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	addr, token := bed.Hook(t, 3)
	pb := testbed.NewFaultProxy(t, bed.Server(t, testbed.B).URL, testbed.Faults{})
	cfg, _ := faultConfig(t, src, dst, pb.URL(), addr, 16)
	p := startFerry(t, bin, append(bed.Env(), "FERRY_WEBHOOK_TOKEN="+token), "run", "--config", cfg)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("ferry's log:\n%s", tail(p.log.String(), 6000))
		}
	})
	base := "http://" + addr
	waitFor(t, 20*time.Second, func() bool { return get(base+"/readyz") == "ready\n" })
	bed.Notify(t, src, "hook3")

	ctx := context.Background()
	put := func(key string) {
		if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key),
			Body: strings.NewReader("body of " + key)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		put(fmt.Sprintf("before/%03d", i))
	}
	waitFor(t, 60*time.Second, func() bool { return countKeys(t, b, dst, "before/") == 40 })

	// Down: events keep coming, 4 objects a second. The webhook queues
	// them; every attempt fails; ferry keeps trying, with backoff.
	retries0 := scrape(t, base+"/metrics")[`ferry_replication_retries_total{reason="Transient"}`]
	pb.Down(true)
	downAt := time.Now()
	during := 0
	var busySum, busyN float64
	for next := downAt; time.Since(downAt) < outage; next = next.Add(250 * time.Millisecond) {
		put(fmt.Sprintf("during/%04d", during))
		during++
		busySum += scrape(t, base+"/metrics")["ferry_workers_busy"]
		busyN++
		time.Sleep(time.Until(next.Add(250 * time.Millisecond)))
	}
	m := scrape(t, base+"/metrics")
	attempts := m[`ferry_replication_retries_total{reason="Transient"}`] - retries0
	if got := countKeys(t, b, dst, "during/"); got != 0 {
		t.Fatalf("%d objects replicated through a destination that was down", got)
	}

	// Up: no manual step.
	pb.Down(false)
	upAt := time.Now()
	var first time.Duration
	waitFor(t, 5*time.Minute, func() bool {
		n := countKeys(t, b, dst, "during/")
		if n > 0 && first == 0 {
			first = time.Since(upAt)
		}
		return n == during
	})
	recovered := time.Since(upAt)
	if d := pb.WritesAfterDone(); len(d) > 0 {
		t.Errorf("%d replicas written again after a complete write, e.g. %v", len(d), d[:min(3, len(d))])
	}
	t.Logf("OUTAGE %s: %d objects written while the destination was down; %.0f failed attempts during it (%.1f per object), %.1f workers busy on average (of 16); after it came back: first replica in %s, all %d in %s",
		outage, during, attempts, attempts/float64(during), busySum/busyN, first.Round(100*time.Millisecond), during, recovered.Round(100*time.Millisecond))
	t.Logf("destination proxy: %s", pb.Stats())
}

// TestKilledMidMultipartCopy: ferry is killed (SIGKILL) in the middle of a
// large multipart copy. No partial replica is ever visible: the
// destination has no object until a ferry started again on the same
// queue redoes the job from scratch and completes it, byte for byte. The
// dead process's upload stays open on the server (nothing can abort an
// upload whose id died with the process; a lifecycle rule
// AbortIncompleteMultipartUpload, or MinIO's stale-upload expiry,
// collects it) and is invisible to readers.
func TestKilledMidMultipartCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	addr, token := bed.Hook(t, 3)
	// Every request to the destination waits 400 ms: the copy of 8 parts,
	// 4 at a time, takes seconds, and the kill lands in its middle.
	pb := testbed.NewFaultProxy(t, bed.Server(t, testbed.B).URL, testbed.Faults{Rate: 1, Latency: 400 * time.Millisecond})
	cfg, _ := faultConfig(t, src, dst, pb.URL(), addr, 4)
	env := append(bed.Env(), "FERRY_WEBHOOK_TOKEN="+token)
	p := startFerry(t, bin, env, "run", "--config", cfg)
	procs := []*process{p}
	t.Cleanup(func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		if t.Failed() {
			for i, p := range procs {
				t.Logf("run %d's log:\n%s", i, tail(p.log.String(), 4000))
			}
		}
	})
	base := "http://" + addr
	waitFor(t, 20*time.Second, func() bool { return get(base+"/readyz") == "ready\n" })
	bed.Notify(t, src, "hook3")

	const key = "big/object.bin"
	body := make([]byte, 8*16<<20+12345) // 9 parts of ferry's default 16 MiB
	for i := range body {
		body[i] = byte(i*7 + i>>16)
	}
	sum := md5.Sum(body)
	ctx := context.Background()
	if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	// Kill once some parts are uploaded, before the upload is completed.
	waitFor(t, 60*time.Second, func() bool { return pb.Stats().Ops["UploadPart"] >= 3 })
	p.cmd.Process.Kill()
	p.cmd.Wait()
	st := pb.Stats()
	if st.Ops["CompleteMultipartUpload"] != 0 {
		t.Fatalf("the copy completed before the kill: %s", st)
	}
	t.Logf("killed after %d UploadPart requests", st.Ops["UploadPart"])
	headDst := func() error {
		_, err := b.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(key)})
		return err
	}
	if err := headDst(); err == nil {
		t.Fatal("a replica is visible after the kill")
	}
	open := uploads(t, b, dst)
	if len(open) != 1 {
		t.Fatalf("%d uploads open after the kill, want the dead process's 1", len(open))
	}
	// Nothing is visible while no ferry runs.
	time.Sleep(2 * time.Second)
	if err := headDst(); err == nil {
		t.Fatal("a replica appeared with no ferry running")
	}

	// Another ferry on the same queue picks the job up.
	pb.Set(testbed.Faults{})
	restart := time.Now()
	p2 := startFerry(t, bin, env, "run", "--config", cfg)
	procs = append(procs, p2)
	waitFor(t, 2*time.Minute, func() bool { return headDst() == nil })
	out, err := b.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	n, err := io.Copy(h, out.Body)
	out.Body.Close()
	if err != nil || n != int64(len(body)) || !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Fatalf("replica: %d bytes, md5 %s, err %v; want %d bytes, md5 %s", n, hex.EncodeToString(h.Sum(nil)), err, len(body), hex.EncodeToString(sum[:]))
	}
	if d := pb.WritesAfterDone(); len(d) > 0 {
		t.Errorf("written again after complete: %v", d)
	}
	left := uploads(t, b, dst)
	t.Logf("the restarted ferry completed the copy in %s; uploads still open: %d (the dead process's %v)",
		time.Since(restart).Round(100*time.Millisecond), len(left), left)
	if len(left) != 1 || left[0] != open[0] {
		t.Errorf("open uploads after the redo: %v, want only the dead process's %v", left, open)
	}
}

// uploads lists the ids of the multipart uploads open in bucket.
func uploads(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	var ids []string
	p := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Uploads {
			ids = append(ids, aws.ToString(u.UploadId))
		}
	}
	return ids
}
