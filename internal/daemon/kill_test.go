package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// process is one `ferry run` child.
type process struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func startFerry(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{log: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKilledDaemonLosesNothing is the daemon's promise: MinIO sends its
// notifications to `ferry run`'s webhook; 5,000 objects are PUT and 500 of
// them deleted (delete markers replicated) while ferry is killed with
// SIGKILL at random moments and restarted. In the end the destination
// holds exactly the source's versions, in order, and nothing else. No
// periodic reconcile runs: only the events (and MinIO's redelivery of
// what ferry did not acknowledge) get the objects there.
func TestKilledDaemonLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short skips it")
	}
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	addr, token := bed.Hook(t, 1)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
replication:
  Rules:
    - {ID: all, Status: Enabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Enabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
run:
  listen: %s
  data_dir: %s
  reconcile_interval: 0s
  workers: 32
`, src, dst, dst, addr, filepath.Join(dir, "data"))), 0o644)
	env := append(bed.Env(), "FERRY_WEBHOOK_TOKEN="+token)
	args := []string{"run", "--config", cfg}

	var mu sync.Mutex
	var procs []*process
	cur := startFerry(t, bin, env, args...)
	procs = append(procs, cur)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		cur.cmd.Process.Kill()
		cur.cmd.Wait()
		for i, p := range procs {
			for _, s := range bed.Servers {
				if strings.Contains(p.log.String(), s.SecretKey) || strings.Contains(p.log.String(), token) {
					t.Errorf("run %d: a secret appears in ferry's log", i)
				}
			}
			if strings.Contains(p.log.String(), "panic") {
				t.Errorf("run %d panicked:\n%s", i, p.log.String())
			}
		}
		if t.Failed() {
			t.Logf("last run's log:\n%s", tail(cur.log.String(), 4000))
		}
	})
	bed.Notify(t, src, "hook1")

	// The killer: at random moments while objects are written, SIGKILL
	// ferry and start it again.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var kills atomic.Int32
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for ctx.Err() == nil {
			select {
			case <-time.After(time.Duration(1500+rand.IntN(3000)) * time.Millisecond):
			case <-ctx.Done():
				return
			}
			mu.Lock()
			cur.cmd.Process.Kill() // SIGKILL
			cur.cmd.Wait()
			kills.Add(1)
			time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
			cur = startFerry(t, bin, env, args...)
			procs = append(procs, cur)
			mu.Unlock()
		}
	}()

	const n, deleted = 5000, 500
	key := func(i int) string { return fmt.Sprintf("obj/%02d/k %d+é.bin", i%97, i) }
	var g errgroup.Group
	g.SetLimit(16)
	start := time.Now()
	for i := range n {
		g.Go(func() error {
			body := bytes.Repeat([]byte{byte(i)}, rand.IntN(2048))
			_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key(i)), Body: bytes.NewReader(body)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i := range deleted {
		g.Go(func() error {
			_, err := a.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String(key(i * (n / deleted)))})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PUT %d objects and deleted %d in %s", n, deleted, time.Since(start).Round(time.Millisecond))
	for kills.Load() < 3 { // at least three kills, whatever the timing
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-killerDone
	t.Logf("ferry was killed %d times", kills.Load())

	want := versions(t, a, src)
	var got map[string][]string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got = versions(t, b, dst)
		if diff := compare(want, got); diff == "" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes the destination still differs from the source: %s", diff)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("destination converged %s after the last write: %d keys, every version in order", time.Since(start).Round(time.Second), len(got))
}

// versions returns, per key, its history oldest first: each version's
// ETag, or "marker" for a delete marker.
func versions(t *testing.T, c *s3.Client, bucket string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	type entry struct {
		what string
		at   time.Time
	}
	hist := map[string][]entry{}
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			hist[*v.Key] = append(hist[*v.Key], entry{strings.Trim(*v.ETag, `"`), *v.LastModified})
		}
		for _, m := range page.DeleteMarkers {
			hist[*m.Key] = append(hist[*m.Key], entry{"marker", *m.LastModified})
		}
	}
	for k, es := range hist {
		// Oldest first; equal times (same millisecond) keep list order,
		// which is newest first, so reverse before a stable sort.
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
		sortStable(es, func(x, y entry) bool { return x.at.Before(y.at) })
		for _, e := range es {
			out[k] = append(out[k], e.what)
		}
	}
	return out
}

func compare(want, got map[string][]string) string {
	var diffs []string
	for k, w := range want {
		if g := got[k]; strings.Join(g, ",") != strings.Join(w, ",") {
			diffs = append(diffs, fmt.Sprintf("%q: source %v, destination %v", k, w, g))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%q: only at the destination: %v", k, g))
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	if len(diffs) > 5 {
		return fmt.Sprintf("%d keys differ, e.g. %s", len(diffs), strings.Join(diffs[:5], "; "))
	}
	return strings.Join(diffs, "; ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
