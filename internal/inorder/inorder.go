// Package inorder puts the results of work done in parallel back into the
// order the work was handed out, with a bound on how far ahead the hand-out
// may run. A backfill's checkpoint is the last result released in order:
// everything up to it is done, whatever finished first.
package inorder

import (
	"context"
	"sync"
)

// Window hands out sequence numbers and releases results in that order.
type Window[T any] struct {
	mu      sync.Mutex
	cond    *sync.Cond
	next    uint64 // the next sequence number to hand out
	low     uint64 // the oldest unfinished one
	held    map[uint64]T
	size    uint64
	release func(T)
}

// New returns a window that lets at most size items be out at once (held
// results count until released: one slow item stalls the hand-out after
// size others, which bounds memory) and calls release, one call at a time,
// for each result in order.
func New[T any](size int, release func(T)) *Window[T] {
	w := &Window[T]{held: map[uint64]T{}, size: uint64(max(size, 1)), release: release}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Take returns the next sequence number, waiting while the window is full.
// Every number taken must be finished with Done, or the window stalls.
func (w *Window[T]) Take(ctx context.Context) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.next-w.low >= w.size {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		w.cond.Wait() // Done broadcasts
	}
	seq := w.next
	w.next++
	return seq, nil
}

// Done records seq's result and releases every result now in order.
func (w *Window[T]) Done(seq uint64, r T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held[seq] = r
	for {
		r, ok := w.held[w.low]
		if !ok {
			break
		}
		delete(w.held, w.low)
		w.release(r)
		w.low++
	}
	w.cond.Broadcast()
}
