package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestScaleOutSurvivesFaults is issue 9's promise: three `ferry run`
// processes share one JetStream consumer on the bed's 3-node NATS cluster
// and replicate 20,000 objects that MinIO announces through its NATS
// target, while one of them is killed with SIGKILL and restarted and both
// S3 servers, behind fault proxies, suffer faults on 10% of the requests
// (latency, connection resets before and after the server answered, 503
// SlowDown, 500). 500 keys are written three times in quick succession to
// test per-key order (the newest version wins). In the end every object
// is exactly right, nothing extra is there, and no replica was written
// again after ferry had heard it was complete.
func TestScaleOutSurvivesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short skips it")
	}
	bed := testbed.Require(t)
	if len(bed.NATS.Cluster) < 3 || bed.NATS.ClusterTarget == "" {
		t.Skip("the bed's NATS is not a cluster: restart the bed (scripts/testbed.sh down DIR; up DIR)")
	}
	bin := testbed.FerryBinary(t)
	n, rewritten := 20000, 500
	if s := os.Getenv("FERRY_SCALE_OBJECTS"); s != "" {
		fmt.Sscan(s, &n)
		rewritten = min(rewritten, n/4)
	}
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	pa := testbed.NewFaultProxy(t, bed.Servers[testbed.A].URL, testbed.Faults{})
	pb := testbed.NewFaultProxy(t, bed.Servers[testbed.B].URL, testbed.Faults{})

	// The workers reach both servers through the proxies only.
	dir := t.TempDir()
	sa, sb := bed.Servers[testbed.A], bed.Servers[testbed.B]
	os.WriteFile(filepath.Join(dir, "aws-config"), []byte(fmt.Sprintf(
		"[profile fa]\nregion = us-east-1\nendpoint_url = %s\n\n[profile fb]\nregion = us-east-1\nendpoint_url = %s\n",
		pa.URL(), pb.URL())), 0o600)
	os.WriteFile(filepath.Join(dir, "aws-credentials"), []byte(fmt.Sprintf(
		"[fa]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[fb]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		sa.AccessKey, sa.SecretKey, sb.AccessKey, sb.SecretKey)), 0o600)
	env := append(bed.Env(), "AWS_CONFIG_FILE="+filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "aws-credentials"))

	// MinIO a publishes to the bed's cluster through its target "jsc"; the
	// stream there has 3 replicas.
	cluster := strings.Join(bed.NATS.Cluster, ",")
	js := clusterStream(t, cluster, bed.NATS.Stream, bed.NATS.Subject)
	durable := "scale-" + strings.ReplaceAll(src, ".", "-")
	t.Cleanup(func() {
		ctx := context.Background()
		js.DeleteConsumer(ctx, bed.NATS.Stream, durable)
		js.DeleteKeyValue(ctx, durable+"_locks")
		js.DeleteKeyValue(ctx, durable+"_failed")
	})
	bed.Notify(t, src, bed.NATS.ClusterTarget)

	workers := make([]*member, 3)
	for i := range workers {
		w := &member{name: fmt.Sprintf("w%d", i), addr: freeAddr(t), bin: bin, env: env}
		w.cfg = filepath.Join(dir, w.name+".yaml")
		os.WriteFile(w.cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: fa}
destinations: [{bucket: %s, profile: fb}]
replication:
  Rules:
    - {ID: all, Status: Enabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
run:
  listen: %s
  data_dir: %s
  reconcile_interval: 0s
  webhook: {disabled: true}
  nats: {url: %q, stream: %s, subject: %s, durable: %s, replicas: 3, ack_wait: 5s, workers: 16}
`, src, dst, dst, w.addr, filepath.Join(dir, w.name), cluster, bed.NATS.Stream, bed.NATS.Subject, durable)), 0o644)
		workers[i] = w
		w.start(t)
	}
	t.Cleanup(func() {
		for _, w := range workers {
			w.stop()
			for _, l := range w.logs {
				for _, s := range []string{sa.SecretKey, sb.SecretKey} {
					if strings.Contains(l, s) {
						t.Errorf("%s: a secret key appears in ferry's log", w.name)
					}
				}
				if strings.Contains(l, "panic") {
					t.Errorf("%s panicked:\n%s", w.name, tail(l, 3000))
				}
			}
			if t.Failed() {
				t.Logf("%s's last log:\n%s", w.name, tail(w.log.String(), 3000))
			}
		}
	})
	for _, w := range workers {
		w.waitReady(t)
	}

	faults := testbed.AllFaults(0.10, 200*time.Millisecond)
	pa.Set(faults)
	pb.Set(faults)
	t.Logf("faults on both servers: %s", faults)

	// The killer: once a quarter of the objects are replicated, SIGKILL
	// worker 1 mid-copy and start it again 3 s later.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	killed := make(chan time.Duration, 1)
	go func() {
		for ctx.Err() == nil && pb.Stats().Ops["PutObject"] < int64(n/4) {
			time.Sleep(50 * time.Millisecond)
		}
		if ctx.Err() != nil {
			return
		}
		w := workers[1]
		w.kill()
		time.Sleep(3 * time.Second)
		restarted := time.Now()
		w.start(t)
		w.waitReady(t)
		killed <- time.Since(restarted)
	}()

	key := func(i int) string { return fmt.Sprintf("obj/%02d/k %d+é.bin", i%97, i) }
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(16)
	put := func(i, gen int) error {
		body := bytes.Repeat([]byte{byte(i), byte(gen)}, 1+rand.IntN(2048))
		_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key(i)), Body: bytes.NewReader(body),
			ContentType: aws.String("application/x-test"), Metadata: map[string]string{"n": fmt.Sprint(i), "gen": fmt.Sprint(gen)}})
		return err
	}
	for i := range n {
		g.Go(func() error { return put(i, 1) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	// Per-key order: the same keys written twice more, back to back, so
	// their events reach different workers at nearly the same time.
	rewrites := map[string]bool{}
	for i := range rewritten {
		k := i * (n / rewritten)
		rewrites[dst+"/"+key(k)] = true
		g.Go(func() error {
			if err := put(k, 2); err != nil {
				return err
			}
			return put(k, 3)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PUT %d objects, %d of them rewritten twice, in %s", n, rewritten, time.Since(start).Round(time.Millisecond))

	want := etags(t, a, src)
	var got map[string]string
	deadline := time.Now().Add(6 * time.Minute)
	for {
		got = etags(t, b, dst)
		if diff := diffETags(want, got); diff == "" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after 6 minutes the destination still differs: %s", diff)
		}
		time.Sleep(2 * time.Second)
	}
	took := time.Since(start)
	var restartReady time.Duration
	select {
	case restartReady = <-killed:
	default:
		t.Fatal("worker 1 was never killed: the run ended before a quarter was replicated")
	}
	// Late duplicates would come from redelivered messages: give them
	// time (the ack wait) to show.
	time.Sleep(6 * time.Second)
	final := etags(t, b, dst)
	if diff := diffETags(want, final); diff != "" {
		t.Fatalf("the destination changed after it was complete: %s", diff)
	}
	lost, extra := 0, 0
	for k, e := range want {
		if final[k] != e {
			lost++
		}
	}
	for k := range final {
		if _, ok := want[k]; !ok {
			extra++
		}
	}

	// Exactly right: content (ETag is the MD5 of these single-part
	// objects), and metadata on a sample.
	for _, i := range rand.Perm(n)[:100] {
		k := key(i)
		hs, err1 := a.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(src), Key: aws.String(k)})
		hd, err2 := b.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(k)})
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if aws.ToString(hd.ContentType) != aws.ToString(hs.ContentType) || hd.Metadata["n"] != hs.Metadata["n"] ||
			hd.Metadata["gen"] != hs.Metadata["gen"] || aws.ToInt64(hd.ContentLength) != aws.ToInt64(hs.ContentLength) {
			t.Fatalf("%q: replica %s %v, source %s %v", k, aws.ToString(hd.ContentType), hd.Metadata, aws.ToString(hs.ContentType), hs.Metadata)
		}
	}
	var dups []string
	for _, k := range pb.WritesAfterDone() {
		if !rewrites[k] {
			dups = append(dups, k)
		}
	}

	// The figures.
	var retries, redelivered float64
	for _, w := range workers {
		m := scrape(t, "http://"+w.addr+"/metrics")
		for name, v := range m {
			if strings.HasPrefix(name, "ferry_replication_retries_total") {
				retries += v
			}
		}
		for _, l := range w.logs {
			redelivered += float64(strings.Count(l, "message will be delivered again"))
		}
	}
	sA, sB := pa.Stats(), pb.Stats()
	t.Logf("RESULT objects=%d (+%d rewritten x2) workers=3 killed=1 faults=%.0f%% time=%s lost=%d extra=%d duplicated_after_done=%d",
		n, rewritten, faults.Rate*100, took.Round(time.Second), lost, extra, len(dups))
	t.Logf("RESULT server a: %s", sA)
	t.Logf("RESULT server b: %s", sB)
	t.Logf("RESULT retries by ferry (counted by the 3 live processes since their start)=%.0f, messages handed back for redelivery=%.0f, killed worker ready again %s after restart",
		retries, redelivered, restartReady.Round(time.Millisecond))
	if len(dups) > 0 {
		t.Fatalf("%d keys written again after their replica was complete, e.g. %v", len(dups), dups[:min(5, len(dups))])
	}
	if sA.Injected() == 0 || sB.Injected() == 0 {
		t.Fatalf("no faults were injected: a %d, b %d", sA.Injected(), sB.Injected())
	}
	// Every worker took part.
	for _, w := range workers {
		if done := w.metric(t, "ferry_replication_operations_completed_total"); done == 0 {
			t.Errorf("%s completed nothing", w.name)
		}
	}
	// Status from any node: the shared state, not one worker's disk.
	cmd := exec.Command(bin, "status", "--config", workers[2].cfg, "--json", "s3://"+src+"/"+key(7))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"COMPLETED"`) {
		t.Fatalf("ferry status: %v\n%s", err, out)
	}
}

// member is one `ferry run` process of the test, restartable.
type member struct {
	name, addr, cfg, bin string
	env                  []string
	cmd                  *exec.Cmd
	log                  *bytes.Buffer
	logs                 []string // of runs that ended
	mu                   sync.Mutex
}

func (w *member) start(t *testing.T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = &bytes.Buffer{}
	w.cmd = exec.Command(w.bin, "run", "--config", w.cfg)
	w.cmd.Env = append(os.Environ(), w.env...)
	w.cmd.Stdout, w.cmd.Stderr = syncWriter{&w.mu, w.log}, syncWriter{&w.mu, w.log}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (w *member) kill() {
	w.cmd.Process.Signal(syscall.SIGKILL)
	w.cmd.Wait()
	w.mu.Lock()
	w.logs = append(w.logs, w.log.String())
	w.mu.Unlock()
}

func (w *member) stop() {
	w.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		w.cmd.Process.Kill()
		<-done
	}
	w.mu.Lock()
	w.logs = append(w.logs, w.log.String())
	w.mu.Unlock()
}

func (w *member) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for get("http://"+w.addr+"/readyz") != "ready\n" {
		if time.Now().After(deadline) {
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("%s not ready:\n%s", w.name, tail(w.log.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric sums a metric's series.
func (w *member) metric(t *testing.T, name string) float64 {
	var sum float64
	for k, v := range scrape(t, "http://"+w.addr+"/metrics") {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
		}
	}
	return sum
}

type syncWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clusterStream makes sure stream (subjects: subject) exists with 3
// replicas and returns the cluster's JetStream API.
func clusterStream(t *testing.T, url, stream, subject string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subject}, Replicas: 3, Storage: jetstream.FileStorage})
	case err == nil && s.CachedInfo().Config.Replicas < 3:
		cfg := s.CachedInfo().Config
		cfg.Replicas = 3
		_, err = js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		t.Fatalf("stream %s with 3 replicas: %v", stream, err)
	}
	// A stream just scaled up copies itself to the new nodes first.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s, err := js.Stream(ctx, stream)
		if err == nil {
			if c := s.CachedInfo().Cluster; c != nil && c.Leader != "" && len(c.Replicas) == 2 &&
				c.Replicas[0].Current && c.Replicas[1].Current {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: 3 current replicas not reached in 30s (%v)", stream, err)
		}
	}
	return js
}

// etags lists a bucket: key -> ETag.
func etags(t *testing.T, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out[*o.Key] = strings.Trim(*o.ETag, `"`)
		}
	}
	return out
}

func diffETags(want, got map[string]string) string {
	var missing, wrong, extra []string
	for k, w := range want {
		switch g, ok := got[k]; {
		case !ok:
			missing = append(missing, k)
		case g != w:
			wrong = append(wrong, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(wrong)+len(extra) == 0 {
		return ""
	}
	slices.Sort(missing)
	return fmt.Sprintf("%d missing (e.g. %v), %d with other content (e.g. %v), %d extra (e.g. %v)",
		len(missing), missing[:min(3, len(missing))], len(wrong), wrong[:min(3, len(wrong))], len(extra), extra[:min(3, len(extra))])
}
