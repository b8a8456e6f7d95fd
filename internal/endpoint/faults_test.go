package endpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func responseErr(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err: errors.New("x")}
}

func TestBackoffByKind(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name    string
		err     error
		attempt int
		limit   time.Duration
	}{
		{"500, first retry", responseErr(500), 1, 50 * time.Millisecond},
		{"500, third retry", responseErr(500), 3, 200 * time.Millisecond},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, 1, 50 * time.Millisecond},
		{"503 SlowDown", responseErr(503), 1, time.Second},
		{"503, fourth retry", responseErr(503), 4, 8 * time.Second},
		{"429", responseErr(429), 1, time.Second},
		{"refused", dial, 1, 200 * time.Millisecond},
		{"refused, fifth retry", dial, 5, maxDial},
		{"cap", responseErr(503), 30, maxBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var largest time.Duration
			for range 500 {
				d, err := backoff(tc.attempt, tc.err)
				if err != nil || d <= 0 || d > tc.limit+time.Millisecond {
					t.Fatalf("backoff = %v, %v; want in (0, %v]", d, err, tc.limit)
				}
				largest = max(largest, d)
			}
			if largest < tc.limit/2 {
				t.Errorf("never above %v in 500 draws, limit %v: no jitter range", largest, tc.limit)
			}
		})
	}
}

// TestAdaptiveWindow: a throttle cuts the window to 0.7 of the requests in
// flight, once per window; answers widen it again; a full window makes
// requests wait.
func TestAdaptiveWindow(t *testing.T) {
	a := newAdaptive()
	ctx := context.Background()
	var ns []uint64
	for range 16 {
		n, _ := a.acquire(ctx)
		ns = append(ns, n)
	}
	a.release(ns[0], true) // SlowDown with 16 in flight
	if s := a.snapshot(); math.Abs(s.Window-11.2) > 1e-9 || s.Cuts != 1 {
		t.Fatalf("after one throttle: %+v, want window 11.2", s)
	}
	for _, n := range ns[1:8] { // the same burst: no further cut
		a.release(n, true)
	}
	if s := a.snapshot(); s.Cuts != 1 || s.Throttles != 8 {
		t.Fatalf("a burst of answers sent before the cut cut again: %+v", s)
	}
	// 8 in flight, window 11.2: three more fit, the twelfth waits.
	for range 3 {
		n, _ := a.acquire(ctx)
		ns = append(ns, n)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := a.acquire(wctx); err == nil {
		t.Fatal("acquired beyond the window")
	}
	cancel()
	got := make(chan uint64)
	go func() { n, _ := a.acquire(ctx); got <- n }()
	time.Sleep(20 * time.Millisecond)
	a.release(ns[8], false) // an answer frees a place and widens the window
	n := <-got
	if s := a.snapshot(); math.Abs(s.Window-(11.2+1/11.2)) > 1e-9 || s.Waits != 1 {
		t.Fatalf("after an answer: %+v", s)
	}
	// A request sent after the cut may cut again: 0.7 x its in-flight 11.
	a.release(n, true)
	if s := a.snapshot(); s.Cuts != 2 || math.Abs(s.Window-0.7*11) > 1e-9 {
		t.Fatalf("second cut: %+v, want window 7.7", s)
	}
}

// TestAdaptiveWindowSettles: 16 workers, 2.5% of answers throttled at
// random (what a fault proxy at 10% over four kinds gives): the window
// settles near sqrt(1/(0.3 p)) = 11.5, not at 1.
func TestAdaptiveWindowSettles(t *testing.T) {
	a := newAdaptive()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var sum float64
	var samples int
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				n, _ := a.acquire(ctx)
				mu.Lock()
				throttled := r.Float64() < 0.025
				mu.Unlock()
				time.Sleep(10 * time.Microsecond)
				a.release(n, throttled)
				if w == 0 && i > 500 {
					mu.Lock()
					sum += a.snapshot().Window
					samples++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	mean := sum / float64(samples)
	t.Logf("mean window %.1f; %+v", mean, a.snapshot())
	if mean < 5 || mean > 17 {
		t.Errorf("mean window %.1f, want near 11.5", mean)
	}
}

// s3Stub answers every request 200 with an empty body: enough for
// HeadBucket.
func s3Stub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOutageFailsFastAndRecovers: a server that refuses connections costs
// the SDK's retries for a few seconds, then requests fail at once, without
// network, and the prober sees the server back with no request made.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	writeProfiles(t, "")
	p := testbed.NewFaultProxy(t, s3Stub(t).URL, testbed.Faults{})
	ep, err := Open(context.Background(), Options{Profile: "p", EndpointURL: p.URL()})
	if err != nil {
		t.Fatal(err)
	}
	head := func() (time.Duration, error) {
		start := time.Now()
		_, err := ep.S3.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("b")})
		return time.Since(start), err
	}
	if _, err := head(); err != nil {
		t.Fatal(err)
	}
	recovered := make(chan time.Duration, 1)
	defer ep.OnRecovery(func(d time.Duration) { recovered <- d })()

	p.Down(true)
	downAt := time.Now()
	took, err := head()
	if !isDialError(err) {
		t.Fatalf("first request to a down server: %v", err)
	}
	// The SDK retries a refused connection (a server restarting) until
	// the endpoint has been down for downAfter, then gives up.
	t.Logf("first request: %v after %s", err, took.Round(time.Millisecond))
	if took > downAfter+maxDial+500*time.Millisecond {
		t.Errorf("first request took %s: the SDK's retries of a refused connection must stay short", took)
	}
	if down, _, n := ep.Reachability(); !down || n != 1 {
		t.Fatalf("Reachability after a refused connection: down %v outages %d", down, n)
	}
	time.Sleep(time.Until(downAt.Add(downAfter + 100*time.Millisecond)))
	var fast int
	for range 20 {
		took, err = head()
		if IsUnreachable(err) && took < 50*time.Millisecond {
			fast++
		}
	}
	if fast < 19 {
		t.Fatalf("%d of 20 requests failed fast while down; last: %v after %s", fast, err, took)
	}

	p.Down(false)
	upAt := time.Now()
	select {
	case d := <-recovered:
		t.Logf("recovery seen %s after the server came back, no request made; outage %s", time.Since(upAt).Round(time.Millisecond), d.Round(time.Millisecond))
	case <-time.After(3 * probeEvery):
		t.Fatal("OnRecovery not called within 3 probe intervals")
	}
	if _, err := head(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestAdaptiveThroughFaultProxy sends 16 concurrent writers through a
// proxy in front of a real MinIO that fails 20% of the requests
// (SlowDown, resets, 500s): every write succeeds, and the window narrows.
func TestAdaptiveThroughFaultProxy(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	p := testbed.NewFaultProxy(t, bed.Server(t, testbed.B).URL,
		testbed.Faults{Rate: 0.2, SlowDown: true, Resets: true, Errors: true, Seed: 5})
	ep, err := Open(context.Background(), Options{Profile: "tb-b", EndpointURL: p.URL()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				_, err := ep.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(fmt.Sprintf("w%d/%d", w, i)), Body: bytes.NewReader([]byte("x"))})
				if err != nil {
					failed.Add(1)
					t.Logf("put: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	st := ep.Throttling()
	t.Logf("640 PUTs in %s through 20%% faults; window: %+v; proxy: %s", time.Since(start).Round(time.Millisecond), st, p.Stats())
	if failed.Load() > 0 {
		t.Errorf("%d of 640 PUTs failed", failed.Load())
	}
	if st.Cuts == 0 || st.MinWindow >= 16 {
		t.Errorf("the window never narrowed: %+v", st)
	}
	if down, _, _ := ep.Reachability(); down {
		t.Error("resets of established connections counted as an outage")
	}
}

// TestRetryPolicyComparison measures, back to back on the same server and
// the same faults, the retry policy ferry had (the SDK's standard retryer
// with 5 attempts), the SDK's adaptive mode, and ferry's (8 attempts,
// backoff by error kind, the adaptive window). It is a measurement, not a
// check: set FERRY_COMPARE_RETRY=1 to run it (docs/reliability.md quotes
// it).
func TestRetryPolicyComparison(t *testing.T) {
	if os.Getenv("FERRY_COMPARE_RETRY") == "" {
		t.Skip("a measurement: FERRY_COMPARE_RETRY=1 runs it")
	}
	bed := testbed.Require(t)
	bed.Setenv(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	body := bytes.Repeat([]byte("f"), 8<<10)
	policies := []struct {
		name string
		opt  func(*s3.Options)
	}{
		{"SDK standard, 5 attempts (ferry before)", func(o *s3.Options) {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
		}},
		{"SDK adaptive mode, 5 attempts", func(o *s3.Options) {
			o.Retryer = retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
				ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
			})
		}},
		{"ferry: 8 attempts, backoff by kind, adaptive window", nil},
	}
	for _, faults := range []testbed.Faults{{}, testbed.AllFaults(0.1, 200*time.Millisecond), {Rate: 0.1, SlowDown: true}} {
		for _, pol := range policies {
			faults.Seed = 77
			p := testbed.NewFaultProxy(t, bed.Server(t, testbed.B).URL, faults)
			ep, err := Open(context.Background(), Options{Profile: "tb-b", EndpointURL: p.URL()})
			if err != nil {
				t.Fatal(err)
			}
			c := ep.S3
			if pol.opt != nil { // a plain client, as before: no window, no outage gate
				c = s3.NewFromConfig(ep.Config, func(o *s3.Options) {
					o.UsePathStyle = true
					o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
					o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
				}, pol.opt)
			}
			var wg sync.WaitGroup
			var failed atomic.Int64
			start := time.Now()
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
							Key: aws.String(fmt.Sprintf("w%d/%d", w, i)), Body: bytes.NewReader(body)})
						if err != nil {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			st := p.Stats()
			t.Logf("COMPARE %-28s | %-52s | 800 PUTs in %6s | failed %d | requests %d", faults, pol.name,
				time.Since(start).Round(10*time.Millisecond), failed.Load(), st.Requests)
		}
	}
}
