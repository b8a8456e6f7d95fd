package reconcile

import (
	"context"
	"sync"
)

// window puts the outcomes of tasks that finish out of order (workers run
// in parallel) back into listing order: items are reported, and the pair's
// mark advanced, only once every earlier task is finished too. A mark is
// then a safe checkpoint: every source key up to it is done.
//
// The merge may run at most size tasks ahead of the oldest unfinished one,
// which bounds the outcomes held here when one task is slow (a large copy).
type window struct {
	mu     sync.Mutex
	cond   *sync.Cond
	next   uint64 // sequence number of the next task
	low    uint64 // the oldest unfinished task
	held   map[uint64]outcome
	size   uint64
	report func(Item)
	mark   func(key string)
}

// outcome is what a finished task leaves: its items to report and the
// source key it covered.
type outcome struct {
	key   string
	items []Item
}

// windowSize bounds how far the merge runs ahead of the oldest task still
// running: held outcomes are small (in-sync keys have no items).
const windowSize = 10000

func newWindow(report func(Item), mark func(string)) *window {
	w := &window{held: map[uint64]outcome{}, size: windowSize, report: report, mark: mark}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// take returns the next sequence number, waiting while the window is full.
func (w *window) take(ctx context.Context) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.next-w.low >= w.size {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		w.cond.Wait() // a finishing task broadcasts; tasks always finish
	}
	seq := w.next
	w.next++
	return seq, nil
}

// finish records task seq's outcome and releases every outcome that is now
// in order.
func (w *window) finish(seq uint64, o outcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held[seq] = o
	for {
		o, ok := w.held[w.low]
		if !ok {
			break
		}
		delete(w.held, w.low)
		for _, it := range o.items {
			w.report(it)
		}
		w.mark(o.key)
		w.low++
	}
	w.cond.Broadcast()
}
