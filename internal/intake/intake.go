// Package intake receives S3 event notifications and hands their events on:
// an HTTP webhook (MinIO, Ceph RGW, versitygw), an SQS queue (AWS) and a
// NATS JetStream consumer (MinIO, Ceph). SQS and JetStream are durable
// themselves: a message stays there until its Handler says the work is done.
package intake

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

// Handler does the work for the events of one message; nil means done (the
// message may be acked/deleted). An error means not done: the message is
// redelivered later.
type Handler func(ctx context.Context, evs []event.Event) error

// Backoff is the delay before a message whose handler failed is delivered
// again: Min after the first delivery, doubling with each delivery after
// that, at most Max. The zero value means 1s to 15 min.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the delay after the n-th delivery failed (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	lo, hi := b.bounds()
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (b Backoff) bounds() (lo, hi time.Duration) {
	lo, hi = b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 15 * time.Minute
	}
	return lo, max(lo, hi)
}

// logger returns l, or a logger that discards everything.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// heartbeat calls beat every interval until the returned stop is called
// (stop waits for a beat in progress), telling a queue that a slow message
// is still being worked on.
func heartbeat(ctx context.Context, every time.Duration, beat func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				beat(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}

// waitFree waits until one of sem's tokens is free, without taking it,
// and reports false if ctx ended first. Only the receive loop takes
// tokens, so a free one stays free until the messages arrive.
func waitFree(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		<-sem
	case <-ctx.Done():
	}
	return ctx.Err() == nil
}
