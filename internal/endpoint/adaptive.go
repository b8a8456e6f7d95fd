package endpoint

import (
	"context"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// adaptive is a window on the requests in flight to one endpoint that
// shrinks when the server throttles and grows back while it does not:
// AIMD, as TCP does with its congestion window.
//
//   - It starts wide open (maxWindow): a server that never says SlowDown
//     never sees a limit.
//   - A throttled answer (SlowDown, 503, 429) cuts the window to 0.7 of the
//     requests then in flight, at least 1. Only a request sent after the
//     last cut can cut again: the answers to requests already under way
//     when the server complained say nothing new (TCP: once per round
//     trip). A burst of 16 SlowDowns is one cut, not 16.
//   - Every other answer widens it by 1/window: one more request in flight
//     per window of answers.
//
// A window, not a rate: requests/s = window / latency, so the same window
// suits a server 1 ms or 100 ms away, and a slow server (long requests)
// gets fewer requests by itself. With random throttles at a probability p
// the window settles near sqrt(1/(0.3 p)): about 12 at 2.5% SlowDowns.
// Each attempt of a request takes a place (the SDK retries through it).
type adaptive struct {
	mu       sync.Mutex
	window   float64
	inflight int
	sent     uint64        // requests sent so far; a request's number orders it against cuts
	cutAt    uint64        // the number of the last request sent before the last cut
	wake     chan struct{} // closed (and replaced) when a place frees or the window grows
	stats    ThrottleStats
}

const (
	maxWindow = 1024 // requests in flight before any throttle: no limit in practice
	cutFactor = 0.7  // the window after a throttle, times the requests in flight
)

// ThrottleStats tell how an endpoint's adaptive window has fared.
type ThrottleStats struct {
	Throttles int64   // throttled answers (SlowDown, 503, 429)
	Cuts      int64   // times the window was cut
	Waits     int64   // requests that waited for a place in the window
	Window    float64 // the window now (1024: never throttled)
	MinWindow float64 // the narrowest it has been
}

func newAdaptive() *adaptive {
	return &adaptive{window: maxWindow, wake: make(chan struct{}),
		stats: ThrottleStats{Window: maxWindow, MinWindow: maxWindow}}
}

// acquire waits for a place in the window and returns the request's number.
func (a *adaptive) acquire(ctx context.Context) (uint64, error) {
	waited := false
	for {
		a.mu.Lock()
		if float64(a.inflight+1) <= a.window {
			a.inflight++
			a.sent++
			n := a.sent
			if waited {
				a.stats.Waits++
			}
			a.mu.Unlock()
			return n, nil
		}
		wake := a.wake
		a.mu.Unlock()
		waited = true
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release gives request n's place back and adapts the window to its
// answer.
func (a *adaptive) release(n uint64, throttled bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	switch {
	case throttled:
		a.stats.Throttles++
		if n > a.cutAt {
			a.window = max(1, cutFactor*min(a.window, float64(a.inflight+1)))
			a.cutAt = a.sent
			a.stats.Cuts++
			a.stats.MinWindow = min(a.stats.MinWindow, a.window)
		}
	case a.window < maxWindow:
		a.window = min(maxWindow, a.window+1/a.window)
	}
	a.stats.Window = a.window
	close(a.wake)
	a.wake = make(chan struct{})
}

func (a *adaptive) snapshot() ThrottleStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// middleware runs each attempt inside the window.
func (a *adaptive) middleware() middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("ferryAdaptiveWindow",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			n, err := a.acquire(ctx)
			if err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			out, md, err := next.HandleFinalize(ctx, in)
			a.release(n, isThrottle(err))
			return out, md, err
		})
}
