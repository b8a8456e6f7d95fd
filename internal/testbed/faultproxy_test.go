package testbed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// noRetry makes one SDK call a single attempt, so a test sees each fault.
func noRetry(o *s3.Options) { o.Retryer = aws.NopRetryer{} }

// echoServer stands in for S3 in the unit tests: it answers 200 with the
// request's method and path, and counts what reached it.
func echoServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		if r.URL.Query().Has("slow") {
			time.Sleep(2 * time.Second)
		}
		fmt.Fprintf(w, "%s %s host=%s", r.Method, r.URL.Path, r.Host)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// plainClient sends each request on a new connection, so a reset reaches
// the caller instead of being retried by the transport.
var plainClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func TestFaultProxyForwardsWithoutFaults(t *testing.T) {
	srv, n := echoServer(t)
	p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Resets: true, SlowDown: true, Errors: true, Latency: time.Second})
	for i := range 50 {
		resp, err := plainClient.Get(p.URL() + fmt.Sprintf("/b/k%d", i))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The client's Host header is what the server sees (SigV4 signs it).
		if want := fmt.Sprintf("GET /b/k%d host=%s", i, strings.TrimPrefix(p.URL(), "http://")); resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	}
	st := p.Stats()
	if n.Load() != 50 || st.Requests != 50 || st.Injected() != 0 || st.Ops["GetObject"] != 50 {
		t.Fatalf("server saw %d; stats %s", n.Load(), st)
	}
}

func TestFaultProxyKinds(t *testing.T) {
	srv, n := echoServer(t)
	get := func(p *testbed.FaultProxy) (int, string, error) {
		resp, err := plainClient.Get(p.URL() + "/bucket/key")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	t.Run("slowdown", func(t *testing.T) {
		p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Rate: 1, SlowDown: true})
		before := n.Load()
		status, body, err := get(p)
		if err != nil || status != 503 || !strings.Contains(body, "<Code>SlowDown</Code>") || !strings.Contains(body, "<RequestId>") {
			t.Fatalf("got %d %q %v", status, body, err)
		}
		if n.Load() != before {
			t.Fatal("a SlowDown was forwarded")
		}
	})
	t.Run("error", func(t *testing.T) {
		p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Rate: 1, Errors: true})
		status, body, err := get(p)
		if err != nil || status != 500 || !strings.Contains(body, "<Code>InternalError</Code>") {
			t.Fatalf("got %d %q %v", status, body, err)
		}
	})
	t.Run("latency", func(t *testing.T) {
		p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Rate: 1, Latency: 300 * time.Millisecond})
		start := time.Now()
		status, _, err := get(p)
		if took := time.Since(start); err != nil || status != 200 || took < 300*time.Millisecond {
			t.Fatalf("got %d %v after %v", status, err, took)
		}
	})
	t.Run("reset", func(t *testing.T) {
		p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Rate: 1, Resets: true, Seed: 7})
		before := n.Load()
		for i := range 20 {
			if status, body, err := get(p); err == nil {
				t.Fatalf("request %d: got %d %q, want a reset", i, status, body)
			}
		}
		st := p.Stats()
		// Those reset after the server answered reached the server.
		if st.Faults[testbed.FaultReset] != 20 || st.ResetsAfter == 0 || st.ResetsAfter == 20 || n.Load()-before != st.ResetsAfter {
			t.Fatalf("server saw %d of 20 reset requests; stats %s", n.Load()-before, st)
		}
	})
}

// TestFaultProxyRate: the rate is met and split evenly over the kinds, and
// a seed gives the same sequence again.
func TestFaultProxyRate(t *testing.T) {
	srv, _ := echoServer(t)
	run := func(seed uint64) []string {
		p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{Rate: 0.4, SlowDown: true, Errors: true, Latency: time.Microsecond, Seed: seed})
		var seq []string
		c := &http.Client{} // keep-alive: the stats count requests, not connections
		for range 2000 {
			resp, err := c.Get(p.URL() + "/b/k")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			seq = append(seq, resp.Status)
		}
		st := p.Stats()
		for _, k := range []string{testbed.FaultSlowDown, testbed.FaultError, testbed.FaultLatency} {
			// 2000 x 0.4 / 3 = 267 expected; 5 standard deviations is ~80.
			if got := st.Faults[k]; math.Abs(float64(got)-2000*0.4/3) > 80 {
				t.Errorf("%s: %d faults, want about 267 (%s)", k, got, st)
			}
		}
		if st.Faults[testbed.FaultReset] != 0 {
			t.Errorf("resets injected while off: %s", st)
		}
		return seq
	}
	a, b, c := run(42), run(42), run(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("the same seed gave another sequence of faults")
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("another seed gave the same sequence of faults")
	}
}

// TestFaultProxyDown: down refuses connections and cuts those open; up
// serves again on the same port.
func TestFaultProxyDown(t *testing.T) {
	srv, _ := echoServer(t)
	p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{})
	url := p.URL()
	c := &http.Client{}
	if resp, err := c.Get(url + "/b/k"); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A request in flight when the proxy goes down is cut.
	cut := make(chan error, 1)
	go func() {
		resp, err := c.Get(url + "/b/k?slow")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cut <- err
	}()
	time.Sleep(300 * time.Millisecond)
	p.Down(true)
	if err := <-cut; err == nil {
		t.Fatal("a request in flight survived Down")
	}
	if !p.IsDown() {
		t.Fatal("IsDown is false after Down(true)")
	}
	_, err := c.Get(url + "/b/k")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("while down: %v, want connection refused", err)
	}
	p.Down(true) // no-op
	p.Down(false)
	if p.URL() != url {
		t.Fatalf("URL changed from %s to %s", url, p.URL())
	}
	resp, err := c.Get(url + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || p.Stats().Cut == 0 {
		t.Fatalf("after up: %s; stats %s", resp.Status, p.Stats())
	}
}

// TestFaultProxyControl: the HTTP control path of cmd/s3fault.
func TestFaultProxyControl(t *testing.T) {
	srv, _ := echoServer(t)
	p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{})
	req, _ := http.NewRequest(http.MethodPut, p.URL()+testbed.FaultsPath,
		strings.NewReader(`{"Rate": 0.5, "Latency": "20ms", "SlowDown": true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := p.Faults(); resp.StatusCode != 204 || f.Rate != 0.5 || f.Latency != 20*time.Millisecond || !f.SlowDown || f.Errors {
		t.Fatalf("PUT: %s, faults now %+v", resp.Status, f)
	}
	resp, err = http.Get(p.URL() + testbed.FaultsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st testbed.FaultStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Requests != 0 {
		t.Fatalf("GET: %+v %v", st, err)
	}
}

// TestFaultProxyS3 runs the SDK against a real server through the proxy:
// signatures stay valid, each fault is what the SDK expects of S3 (SlowDown
// a throttle, 500 retryable), and writes are tracked.
func TestFaultProxyS3(t *testing.T) {
	bed := testbed.Require(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	ctx := context.Background()
	srv := bed.Server(t, testbed.B)
	p := testbed.NewFaultProxy(t, srv.URL, testbed.Faults{})
	via := srv
	via.URL = p.URL()
	c := testbed.NewClient(via)
	put := func(key string, opt ...func(*s3.Options)) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader([]byte("body of " + key))}, opt...)
		return err
	}
	if err := put("a"); err != nil {
		t.Fatal(err)
	}
	if err := put("a"); err != nil { // the same key again: a duplicate
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}

	check := func(f testbed.Faults, code string, status int) {
		t.Helper()
		p.Set(f)
		err := put("x", noRetry)
		var ae smithy.APIError
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &ae) || ae.ErrorCode() != code || !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Fatalf("%v: got %v, want %s (%d)", f, err, code, status)
		}
		std := retry.NewStandard()
		if !std.IsErrorRetryable(err) {
			t.Errorf("%s: the SDK does not retry it", code)
		}
		throttle := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
		if throttle != (code == "SlowDown") {
			t.Errorf("%s: the SDK counts it as throttle: %v", code, throttle)
		}
	}
	check(testbed.Faults{Rate: 1, SlowDown: true}, "SlowDown", 503)
	check(testbed.Faults{Rate: 1, Errors: true}, "InternalError", 500)
	// HEAD errors have no body; the status tells.
	p.Set(testbed.Faults{Rate: 1, SlowDown: true})
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a")}, noRetry); err == nil {
		t.Fatal("HEAD got through a SlowDown")
	}

	// A reset after the server answered: the write happened, the client
	// did not hear of it; its retry is not a duplicate.
	p.Set(testbed.Faults{Rate: 1, Resets: true, Seed: 3})
	var lost int
	for i := 0; lost == 0 && i < 50; i++ {
		before := p.Stats().ResetsAfter
		if err := put("lost", noRetry); err == nil {
			t.Fatal("a write got through a reset")
		}
		if p.Stats().ResetsAfter > before {
			lost++
		}
	}
	if lost == 0 {
		t.Fatal("no reset after the server answered in 50 tries")
	}
	p.Set(testbed.Faults{})
	if err := put("lost"); err != nil {
		t.Fatal(err)
	}
	if got := p.WritesAfterDone(); len(got) != 1 || got[0] != bucket+"/a" {
		t.Fatalf("WritesAfterDone = %v, want only %s/a", got, bucket)
	}
	if w := p.Written(); w[bucket+"/a"] != 2 || w[bucket+"/lost"] != 1 || w[bucket+"/x"] != 0 {
		t.Fatalf("Written = %v", w)
	}

	// With every kind at 30%, the SDK's own retries get a burst of writes
	// through.
	p.Set(testbed.AllFaults(0.3, 50*time.Millisecond))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := put(fmt.Sprintf("burst/%d", i), func(o *s3.Options) { o.RetryMaxAttempts = 10 }); err != nil {
				failed.Add(1)
				t.Logf("put %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of 40 writes failed through 30%% faults with 10 attempts", failed.Load())
	}
	t.Logf("proxy: %s", p.Stats())
}
