package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/chromedp/chromedp"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestObserveOutageAndRevokedPermission is issue 5's promise. The daemon
// replicates under load from MinIO's webhook to a destination reached
// through a proxy the test can stop (the server is down) and make refuse
// writes (write permission revoked). Each case shows up in `ferry status`,
// /metrics, the replication notifications (webhook and SQS) and the status
// page; the outage heals by itself, the permission after `ferry retry`;
// and at every step completed + failed + pending = operations seen.
func TestObserveOutageAndRevokedPermission(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	addr, token := bed.Hook(t, 2)
	gate := newGate(t, bed.Server(t, testbed.B).URL)
	sink := newEventSink(t, "hook-secret")
	fake := testbed.NewSQS(t)
	q, err := fake.Client().CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("ferry-notify")})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b, endpoint_url: %q}]
replication:
  Rules:
    - {ID: to-dr, Status: Enabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
replication_time: {threshold: 3s}
notifications:
  targets:
    - webhook: {url: %q, token: hook-secret}
    - sqs: {queue_url: %q, endpoint_url: %q, region: us-east-1}
run:
  listen: %s
  data_dir: %s
  reconcile_interval: 0s
  workers: 8
`, src, dst, gate.URL(), dst, sink.URL, aws.ToString(q.QueueUrl), fake.URL, addr, filepath.Join(dir, "data"))), 0o644)
	env := append(bed.Env(), "FERRY_WEBHOOK_TOKEN="+token,
		"AWS_ACCESS_KEY_ID="+fake.AccessKey, "AWS_SECRET_ACCESS_KEY="+fake.SecretKey)
	p := startFerry(t, bin, env, "run", "--config", cfg)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		for _, s := range bed.Servers {
			if strings.Contains(p.log.String(), s.SecretKey) || strings.Contains(p.log.String(), "hook-secret") {
				t.Errorf("a secret appears in ferry's log")
			}
		}
		if t.Failed() {
			t.Logf("ferry's log:\n%s", tail(p.log.String(), 6000))
		}
	})
	base := "http://" + addr
	waitFor(t, 20*time.Second, func() bool { return get(base+"/readyz") == "ready\n" })
	bed.Notify(t, src, "hook2")

	ferryCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", cfg)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ferry %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	status := func(key string) keyStatus {
		t.Helper()
		var ks keyStatus
		out := ferryCmd("status", "s3://"+src+"/"+key, "--json")
		if err := json.Unmarshal([]byte(out), &ks); err != nil {
			t.Fatalf("status %s: %v\n%s", key, err, out)
		}
		return ks
	}
	seen := 0
	var last string // the last figures read, for a failure message
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last figures: %s", last)
		}
	})
	putAll := func(prefix string, n int) []string {
		var keys []string
		for i := range n {
			k := fmt.Sprintf("%s/%03d.bin", prefix, i)
			keys = append(keys, k)
			if _, err := a.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k),
				Body: strings.NewReader(strings.Repeat("x", 1000+i))}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // a steady load, not one burst
		}
		seen += n
		return keys
	}
	replicated := func(keys []string) func() bool {
		return func() bool {
			for _, k := range keys {
				if _, err := b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(k)}); err != nil {
					return false
				}
			}
			return true
		}
	}
	// The numbers add up: every operation seen is completed, FAILED or
	// pending, read from /metrics.
	// Once ferry has received every event and settled: scrapes race with
	// the work, so a scrape in the middle of a job may be off by it.
	addsUp := func(wantCompleted, wantFailed, wantPending int) func() bool {
		if wantCompleted+wantFailed+wantPending != seen {
			t.Fatalf("test bug: %d+%d+%d is not the %d operations seen", wantCompleted, wantFailed, wantPending, seen)
		}
		return func() bool {
			m := scrape(t, base+"/metrics")
			op := `{destination="` + dst + `",rule="to-dr"}`
			c, f, p := m["ferry_replication_operations_completed_total"+op], m["ferry_replication_operations_failed"+op],
				m["ferry_replication_operations_pending"+op]
			last = fmt.Sprintf("received %v events; completed %v + failed %v + pending %v", m[`ferry_events_received_total{intake="webhook"}`], c, f, p)
			return int(c) == wantCompleted && int(f) == wantFailed && int(p) == wantPending
		}
	}
	// 1. Steady load, all well.
	ok := putAll("ok", 40)
	waitFor(t, 30*time.Second, replicated(ok))
	waitFor(t, 10*time.Second, addsUp(40, 0, 0))
	if ks := status(ok[0]); ks.Status != "COMPLETED" || len(ks.Destinations) != 1 || ks.Destinations[0].Took <= 0 {
		t.Fatalf("status of a replicated object: %+v", ks)
	}

	// 2. The destination server is down: operations stay pending, retried
	// with backoff, and each one's missed threshold is told once.
	gate.Down()
	down := putAll("down", 20)
	waitFor(t, 20*time.Second, addsUp(40, 0, 20))
	waitFor(t, 60*time.Second, func() bool { // a first attempt failed (the SDK's own retries come first)
		return scrape(t, base+"/metrics")[`ferry_replication_retries_total{reason="Transient"}`] >= 1
	})
	var retried int
	for _, line := range strings.Split(strings.TrimSpace(ferryCmd("status", "--prefix", "down/", "--json")), "\n") {
		var ks keyStatus
		if err := json.Unmarshal([]byte(line), &ks); err != nil {
			t.Fatalf("status --prefix line %q: %v", line, err)
		}
		d := ks.Destinations[0]
		if ks.Status != "PENDING" || d.Status != "PENDING" || !strings.Contains(d.Why, "cannot read the destination") {
			t.Fatalf("status while the destination is down: %+v", ks)
		}
		if d.Attempts >= 1 {
			retried++
			if d.Reason != "Transient" || d.Since.IsZero() {
				t.Fatalf("status of a retried object: %+v", ks)
			}
		}
	}
	if retried == 0 {
		t.Fatalf("status shows no attempts while the metrics count retries")
	}
	waitFor(t, 30*time.Second, func() bool { return len(sink.keys("OperationMissedThreshold", "down/")) == len(down) })
	if n := len(sink.records("OperationMissedThreshold", "down/")); n != len(down) {
		t.Errorf("%d missed-threshold notifications for %d operations: each must be told once", n, len(down))
	}
	// Every late operation is counted once: the down ones, and any of the
	// first ones that a loaded machine made late (told on completion).
	late := sink.keys("OperationMissedThreshold", "")
	for k := range sink.keys("OperationReplicatedAfterThreshold", "") {
		late[k] = true
	}
	m := scrape(t, base+"/metrics")
	if got := m[`ferry_replication_operations_missed_threshold_total{destination="`+dst+`",rule="to-dr"}`]; int(got) != len(late) || got < 20 {
		t.Errorf("missed threshold counter = %v, want one per late operation (%d)", got, len(late))
	}

	// The server is back: automatic retries finish the job, each told as
	// replicated after the threshold.
	gate.Up()
	waitFor(t, 90*time.Second, replicated(down))
	waitFor(t, 10*time.Second, addsUp(60, 0, 0))
	waitFor(t, 10*time.Second, func() bool {
		last = fmt.Sprintf("replicated-after-threshold notifications for %d keys", len(sink.keys("OperationReplicatedAfterThreshold", "down/")))
		return len(sink.keys("OperationReplicatedAfterThreshold", "down/")) == len(down)
	})
	if ks := status(down[0]); ks.Status != "COMPLETED" {
		t.Fatalf("status after the outage: %+v", ks)
	}

	// 3. Write permission revoked: operations FAILED with S3's reason,
	// told at once, listed on the page, kept until `ferry retry`.
	gate.ReadOnly(true)
	denied := putAll("denied", 20)
	waitFor(t, 30*time.Second, addsUp(60, 20, 0))
	ks := status(denied[3])
	if d := ks.Destinations[0]; ks.Status != "FAILED" || d.Reason != "DstPutObjectNotPermitted" || d.Attempts != 1 ||
		!strings.Contains(d.Fix, "ferry retry") || d.Since.IsZero() {
		t.Fatalf("status of a denied object: %+v", ks)
	}
	waitFor(t, 10*time.Second, func() bool { return len(sink.keys("OperationFailedReplication", "")) == len(denied) })
	for _, r := range sink.records("OperationFailedReplication", "") {
		if r.ReplicationEventData.FailureReason != "DstPutObjectNotPermitted" || r.ReplicationEventData.ReplicationRuleID != "to-dr" ||
			!strings.HasSuffix(r.ReplicationEventData.DestinationBucket, dst) || r.EventVersion != "2.2" {
			t.Fatalf("failed-replication notification: %+v", r)
		}
	}
	// The SQS target got the same as the webhook: at least 20 missed, 20
	// late, 20 failed (more if the loaded machine made a first one late).
	waitFor(t, 10*time.Second, func() bool {
		n := len(fake.Messages("ferry-notify"))
		return n >= 60 && n == sink.total()
	})
	if got := scrape(t, base+"/metrics")[`ferry_replication_operations_failed_total{destination="`+dst+`",reason="DstPutObjectNotPermitted",rule="to-dr"}`]; got != 20 {
		t.Errorf("failed_total{DstPutObjectNotPermitted} = %v, want 20", got)
	}
	checkPage(t, base, denied)
	if out := ferryCmd("retry", "--dry-run"); !strings.Contains(out, "20 FAILED keys would be re-queued") {
		t.Fatalf("retry --dry-run: %s", out)
	}

	// The permission is back: `ferry retry` completes everything.
	gate.ReadOnly(false)
	if out := ferryCmd("retry", "--rule", "to-dr"); !strings.Contains(out, "re-queued 20 FAILED keys") {
		t.Fatalf("retry: %s", out)
	}
	waitFor(t, 30*time.Second, replicated(denied))
	waitFor(t, 10*time.Second, addsUp(80, 0, 0))
	if ks := status(denied[3]); ks.Status != "COMPLETED" {
		t.Fatalf("status after retry: %+v", ks)
	}
	t.Logf("operations seen %d; notifications: missed %d, after threshold %d, failed %d; SQS messages %d",
		seen, len(sink.keys("OperationMissedThreshold", "")), len(sink.keys("OperationReplicatedAfterThreshold", "")),
		len(sink.keys("OperationFailedReplication", "")), len(fake.Messages("ferry-notify")))
}

// checkPage opens the status page in headless Chromium: the denied keys
// are listed with their reason, and the screenshot shows them.
func checkPage(t *testing.T, base string, denied []string) {
	t.Helper()
	ctx := testbed.Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#failures"))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#failures .failure").length`))
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(denied) {
		t.Errorf("the page lists %d failures, want %d", rows, len(denied))
	}
	text := testbed.Text(ctx, t, "#failures")
	for _, want := range []string{denied[0], denied[len(denied)-1], "DstPutObjectNotPermitted"} {
		if !strings.Contains(text, want) {
			t.Errorf("the failures table does not show %q", want)
		}
	}
	if rules := testbed.Text(ctx, t, "#rules"); !strings.Contains(rules, "to-dr") {
		t.Errorf("the rules table does not show the rule: %q", rules)
	}
	png, path := testbed.Screenshot(ctx, t, "observe-failures")
	if len(png) < 10_000 {
		t.Errorf("screenshot %s is only %d bytes", path, len(png))
	}
}

// keyStatus is `ferry status --json`'s output.
type keyStatus struct {
	Status       string
	Destinations []struct {
		Status, Reason, Fix, Why string
		Attempts                 int
		Took                     float64 `json:"took_seconds"`
		Since                    time.Time
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// scrape reads a Prometheus text exposition into "name{labels}" -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(get(url)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// gate is a proxy in front of an S3 server that the test can take down
// (connections refused, as with a stopped server) and make refuse writes
// with AccessDenied (as with a revoked permission).
type gate struct {
	t    *testing.T
	addr string
	h    *testbed.CountingProxy
	mu   sync.Mutex
	srv  *http.Server
}

func newGate(t *testing.T, target string) *gate {
	h, err := testbed.NewCountingHandler(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, h: h}
	g.Up()
	t.Cleanup(g.Down)
	return g
}

func (g *gate) URL() string { return "http://" + g.addr }

func (g *gate) Up() {
	g.mu.Lock()
	defer g.mu.Unlock()
	addr := g.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		g.t.Fatalf("gate up: %v", err)
	}
	g.addr = ln.Addr().String()
	g.srv = &http.Server{Handler: g.h}
	go g.srv.Serve(ln)
}

func (g *gate) Down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		g.srv.Close()
		g.srv = nil
	}
}

func (g *gate) ReadOnly(on bool) { g.h.SetReadOnly(on) }

// eventSink is a webhook notification target: it checks the bearer token
// and keeps the S3 replication event records it receives.
type eventSink struct {
	*httptest.Server
	mu   sync.Mutex
	recs []replicationRecord
}

type replicationRecord struct {
	EventVersion string `json:"eventVersion"`
	EventName    string `json:"eventName"`
	S3           struct {
		Object struct {
			Key string `json:"key"`
		} `json:"object"`
	} `json:"s3"`
	ReplicationEventData struct {
		ReplicationRuleID string `json:"replicationRuleId"`
		DestinationBucket string `json:"destinationBucket"`
		S3Operation       string `json:"s3Operation"`
		FailureReason     string `json:"failureReason"`
		Threshold         string `json:"threshold"`
		ReplicationTime   string `json:"replicationTime"`
	} `json:"replicationEventData"`
}

func newEventSink(t *testing.T, token string) *eventSink {
	s := &eventSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "bad token", http.StatusUnauthorized)
			t.Errorf("notification without the token")
			return
		}
		var body struct{ Records []replicationRecord }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("notification body: %v", err)
		}
		s.mu.Lock()
		s.recs = append(s.recs, body.Records...)
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

// records are the records of one event (name without "Replication:")
// whose key starts with prefix.
func (s *eventSink) records(name, prefix string) []replicationRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replicationRecord
	for _, r := range s.recs {
		if strings.TrimPrefix(r.EventName, "Replication:") == name && strings.HasPrefix(r.S3.Object.Key, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// total is how many records the sink received.
func (s *eventSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// keys are the distinct keys of those records.
func (s *eventSink) keys(name, prefix string) map[string]bool {
	ks := map[string]bool{}
	for _, r := range s.records(name, prefix) {
		ks[r.S3.Object.Key] = true
	}
	return ks
}
