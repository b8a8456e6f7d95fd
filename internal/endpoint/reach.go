package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// A server that is down (connection refused, no route, dial timeout) makes
// every request fail the same way, after the SDK's retries. reach notices
// it and stops sending: once an endpoint has not answered for downAfter,
// requests fail at once with an *UnreachableError (no network, no retries,
// no worker held), one request every probeEvery still goes out, and a
// prober asks the server every probeEvery whether it is back. The first
// answer of any kind (even an error status) ends the outage; OnRecovery
// callbacks then run, so that work waiting for this endpoint can be
// retried at once instead of at its next backoff.
const (
	downAfter    = 3 * time.Second
	probeEvery   = time.Second
	probeTimeout = 5 * time.Second
	// probeIdle stops the prober of an endpoint nobody has used for this
	// long (a finished `ferry sync`); the next request probes again.
	probeIdle = 10 * time.Minute
)

// UnreachableError is returned without sending anything while an endpoint
// has not answered for downAfter or more. It is not retried by the SDK;
// ferry classifies it as transient like the connection error it wraps.
type UnreachableError struct {
	Endpoint string    // the endpoint's URL, or the region for AWS
	Since    time.Time // the first connection error of the outage
	Err      error     // the last connection error
}

func (e *UnreachableError) Error() string {
	why := e.Err
	var op *net.OpError
	if errors.As(why, &op) {
		why = op // "dial tcp 10.0.0.1:443: connect: connection refused", without the SDK's wrapping
	}
	return fmt.Sprintf("%s has not answered since %s (%v); no requests are sent until it does",
		e.Endpoint, e.Since.Format(time.RFC3339), why)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// RetryableError tells the SDK not to retry: the endpoint is known down.
func (e *UnreachableError) RetryableError() bool { return false }

// reach is one endpoint's reachability.
type reach struct {
	name  string
	probe func(ctx context.Context) error // one request to the server; nil: no prober

	mu        sync.Mutex
	downSince time.Time // zero while the endpoint answers
	lastErr   error
	lastTry   time.Time // of a request let through during the outage
	lastUse   time.Time
	probing   bool
	callbacks map[int]func(down time.Duration)
	nextID    int
	outages   int64
}

func newReach(name string, probe func(context.Context) error) *reach {
	return &reach{name: name, probe: probe, callbacks: map[int]func(time.Duration){}}
}

// gate returns an *UnreachableError if the request must not be sent.
func (r *reach) gate() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.lastUse = now
	if r.downSince.IsZero() || now.Sub(r.downSince) < downAfter {
		return nil
	}
	if !r.probing && now.Sub(r.lastTry) >= probeEvery {
		r.lastTry = now // this one goes out: it is the probe
		return nil
	}
	return &UnreachableError{Endpoint: r.name, Since: r.downSince, Err: r.lastErr}
}

// observe records what an attempt got: an answer (err nil or an HTTP
// error) or a failure to connect.
func (r *reach) observe(err error) {
	switch {
	case err == nil || hasResponse(err):
		r.answered()
	case isDialError(err):
		r.failed(err)
	}
}

func (r *reach) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err
	if r.downSince.IsZero() {
		r.downSince = time.Now()
		r.outages++
	}
	if r.probe != nil && !r.probing {
		r.probing = true
		go r.probeLoop()
	}
}

func (r *reach) answered() {
	r.mu.Lock()
	if r.downSince.IsZero() {
		r.mu.Unlock()
		return
	}
	down := time.Since(r.downSince)
	r.downSince, r.lastErr = time.Time{}, nil
	cbs := make([]func(time.Duration), 0, len(r.callbacks))
	for _, cb := range r.callbacks {
		cbs = append(cbs, cb)
	}
	r.mu.Unlock()
	for _, cb := range cbs {
		go cb(down)
	}
}

// probeLoop asks the server every probeEvery until it answers, or nobody
// has used the endpoint for probeIdle.
func (r *reach) probeLoop() {
	defer func() {
		r.mu.Lock()
		r.probing = false
		r.mu.Unlock()
	}()
	for {
		time.Sleep(probeEvery)
		r.mu.Lock()
		down, idle := !r.downSince.IsZero(), time.Since(r.lastUse) > probeIdle
		r.mu.Unlock()
		if !down || idle {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		err := r.probe(ctx)
		cancel()
		if err == nil {
			r.answered()
			return
		}
	}
}

// onRecovery registers cb; see Endpoint.OnRecovery.
func (r *reach) onRecovery(cb func(time.Duration)) (cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextID
	r.nextID++
	r.callbacks[id] = cb
	return func() {
		r.mu.Lock()
		delete(r.callbacks, id)
		r.mu.Unlock()
	}
}

func (r *reach) state() (down bool, since time.Time, outages int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.downSince.IsZero(), r.downSince, r.outages
}

// middleware gates each attempt and observes its outcome.
func (r *reach) middleware() middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("ferryReachability",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := r.gate(); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if ctx.Err() == nil {
				r.observe(err)
			}
			return out, md, err
		})
}

// httpProbe is a prober that sends an unsigned HEAD to base with client:
// any HTTP answer, even 403, means the server is there.
func httpProbe(client aws.HTTPClient, base string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, strings.TrimRight(base, "/")+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}

// probeURL is where the prober of an endpoint knocks: its URL, or AWS S3's
// regional endpoint.
func probeURL(e *Endpoint) string {
	if e.URL != "" {
		return e.URL
	}
	if strings.HasPrefix(e.Region, "cn-") {
		return "https://s3." + e.Region + ".amazonaws.com.cn"
	}
	return "https://s3." + e.Region + ".amazonaws.com"
}

// OnRecovery calls cb, in a goroutine of its own, each time the endpoint
// answers again after an outage (connections failing for downAfter or
// more), with how long it was down. The daemon uses it to retry at once
// the work that waited for this endpoint. cancel unregisters cb.
func (e *Endpoint) OnRecovery(cb func(down time.Duration)) (cancel func()) {
	return e.reach.onRecovery(cb)
}

// Reachability tells whether the endpoint is in an outage (its last
// attempt could not connect), since when, and how many outages it has had.
func (e *Endpoint) Reachability() (down bool, since time.Time, outages int64) {
	return e.reach.state()
}

// Throttling returns the endpoint's adaptive window and its throttle counts.
func (e *Endpoint) Throttling() ThrottleStats { return e.window.snapshot() }

// IsUnreachable reports whether err is an *UnreachableError.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}
