package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
)

// Opener opens the endpoint (profile, region, endpoint URL) an SQS or SNS
// target is reached with; endpoint.Open, or a test's.
type Opener func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error)

const (
	// bufferSize bounds the events waiting to be sent. A destination that
	// is down makes every object fail at once; beyond this many, the
	// events are counted, not kept.
	bufferSize = 10000
	// workers is how many events are delivered at once (each to every
	// target in parallel).
	workers = 4
	// maxAttempts and firstBackoff: a webhook gets 4 tries over about
	// 3.5s (0.5s, 1s, 2s between them). SQS and SNS clients retry
	// transient errors themselves (the SDK's retryer).
	maxAttempts  = 4
	firstBackoff = 500 * time.Millisecond
)

// Stats counts deliveries, for metrics. Sent and Failed count one per
// event and target; Dropped counts events never attempted (buffer full,
// or still waiting when Close gave up).
type Stats struct {
	Sent, Failed, Dropped uint64
}

// Notifier sends replication events to the configured targets in the
// background. The zero of *Notifier (nil) is valid and sends nothing.
type Notifier struct {
	log     *slog.Logger
	kinds   map[Kind]bool
	targets []target
	secrets []string

	mu     sync.RWMutex // Send holds it for reading while it may write to queue
	closed bool
	queue  chan Event

	ctx    context.Context // of deliveries; canceled when Close gives up
	cancel context.CancelFunc
	done   chan struct{} // closed when the workers have returned

	sent, failed, dropped atomic.Uint64
	dropping              atomic.Bool   // in a burst of drops (logged once)
	burst                 atomic.Uint64 // drops in the current burst
}

// target is one place notifications go.
type target interface {
	// String names the target in logs; it never holds a secret.
	String() string
	// deliver sends one message. Errors retrying cannot fix are
	// permanent.
	deliver(ctx context.Context, body []byte) error
}

// permanentError marks a delivery error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// New returns a Notifier for cfg, opening the endpoints of its SQS and SNS
// targets with open (endpoint.Open if nil) and reading webhook tokens from
// the environment, so that a bad profile or a missing token fails here.
// With a nil cfg or no targets, the Notifier sends nothing.
func New(ctx context.Context, cfg *config.Notifications, open Opener, log *slog.Logger) (*Notifier, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{log: log, kinds: map[Kind]bool{}}
	if cfg == nil || len(cfg.Targets) == 0 {
		return n, nil
	}
	if open == nil {
		open = endpoint.Open
	}
	for i, tc := range cfg.Targets {
		t, err := newTarget(ctx, tc, open)
		if err != nil {
			return nil, fmt.Errorf("notifications.targets[%d]: %w", i, err)
		}
		if w, ok := t.(*webhook); ok && w.token != "" {
			n.secrets = append(n.secrets, w.token)
		}
		n.targets = append(n.targets, t)
	}
	for _, name := range cfg.EventNames() {
		n.kinds[Kind(name)] = true
	}
	n.queue = make(chan Event, bufferSize)
	// Deliveries outlive the caller's context (the daemon cancels it on
	// SIGTERM, and Close still drains); Close ends them.
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	n.done = make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(n.work)
	}
	go func() {
		wg.Wait()
		close(n.done)
	}()
	return n, nil
}

func newTarget(ctx context.Context, tc config.NotifyTarget, open Opener) (target, error) {
	switch {
	case tc.Webhook != nil:
		return newWebhook(tc.Webhook)
	case tc.SQS != nil:
		return newSQS(ctx, tc.SQS, open)
	case tc.SNS != nil:
		return newSNS(ctx, tc.SNS, open)
	}
	return nil, errors.New("empty target: give one of webhook, sqs or sns")
}

// Send queues e for every target, if its kind is one the configuration
// selects. It never blocks: when the buffer is full, e is dropped and
// counted. A zero e.Time is now.
func (n *Notifier) Send(e Event) {
	if n == nil || len(n.targets) == 0 || !n.kinds[e.Kind] {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		n.dropped.Add(1) // sent after Close: a caller's bug, not a full buffer
		return
	}
	select {
	case n.queue <- e:
		if n.dropping.Load() && n.dropping.CompareAndSwap(true, false) {
			n.log.Info("replication notifications are being queued again", "dropped", n.burst.Swap(0))
		}
	default:
		n.drop()
	}
}

// drop counts an event that will not be sent, and logs the first of a
// burst: a full buffer means thousands of them.
func (n *Notifier) drop() {
	n.dropped.Add(1)
	n.burst.Add(1)
	if n.dropping.CompareAndSwap(false, true) {
		n.log.Warn("replication notification buffer full: dropping notifications until it drains",
			"buffer", cap(n.queue))
	}
}

// Close stops accepting events and delivers those buffered, until ctx
// ends; then it cancels what is in flight and drops the rest. It returns
// an error if it had to.
func (n *Notifier) Close(ctx context.Context) error {
	if n == nil || len(n.targets) == 0 {
		return nil
	}
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	select {
	case <-n.done:
	case <-ctx.Done():
	}
	select {
	case <-n.done: // also when ctx ended as the last delivery did
		n.cancel()
		return nil
	default:
	}
	before := n.dropped.Load()
	n.cancel()
	<-n.done // every delivery and backoff watches n.ctx: this is quick
	err := fmt.Errorf("notify: stopped with notifications undelivered (%d dropped): %w", n.dropped.Load()-before, ctx.Err())
	n.log.Warn("replication notifications stopped before all were sent", "err", err)
	return err
}

// Stats returns the delivery counters.
func (n *Notifier) Stats() Stats {
	if n == nil {
		return Stats{}
	}
	return Stats{Sent: n.sent.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load()}
}

// Secrets returns the webhook tokens, for the caller's redactor.
func (n *Notifier) Secrets() []string {
	if n == nil {
		return nil
	}
	return append([]string(nil), n.secrets...)
}

func (n *Notifier) work() {
	for e := range n.queue {
		if n.ctx.Err() != nil {
			n.dropped.Add(1) // Close gave up: drain without sending
			continue
		}
		body, err := Record(e)
		if err != nil {
			n.failed.Add(uint64(len(n.targets)))
			n.log.Error("replication notification not sent", "err", err)
			continue
		}
		var wg sync.WaitGroup
		for _, t := range n.targets {
			wg.Go(func() { n.deliver(t, e, body) })
		}
		wg.Wait()
	}
}

// deliver sends body to t, retrying transient errors with backoff.
func (n *Notifier) deliver(t target, e Event, body []byte) {
	var err error
	attempt := 1
	for wait := firstBackoff; ; attempt, wait = attempt+1, wait*2 {
		err = t.deliver(n.ctx, body)
		if err == nil {
			n.sent.Add(1)
			return
		}
		var p *permanentError
		if errors.As(err, &p) || attempt == maxAttempts || n.ctx.Err() != nil {
			break
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-n.ctx.Done():
		}
		timer.Stop()
		if n.ctx.Err() != nil {
			break
		}
	}
	n.failed.Add(1)
	n.log.Error("replication notification not delivered", "target", t.String(), "event", string(e.Kind),
		"bucket", e.Bucket, "key", e.Key, "destination", e.DestBucket, "attempts", attempt, "err", err)
}
