package inorder

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// Results finishing in random order come out in hand-out order, and the
// hand-out never runs more than size ahead of the oldest unfinished item.
func TestWindowOrder(t *testing.T) {
	const n, size = 2000, 16
	var got []uint64
	w := New(size, func(v uint64) { got = append(got, v) })
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxAhead := uint64(0)
	for range n {
		seq, err := w.Take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		w.mu.Lock()
		maxAhead = max(maxAhead, w.next-w.low)
		w.mu.Unlock()
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
			w.Done(seq, seq)
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("released %d of %d", len(got), n)
	}
	for i, v := range got {
		if v != uint64(i) {
			t.Fatalf("release %d was item %d", i, v)
		}
	}
	if maxAhead > size {
		t.Errorf("hand-out ran %d ahead, window is %d", maxAhead, size)
	}
}

// A full window gives up when the context ends.
func TestWindowCancel(t *testing.T) {
	w := New(1, func(int) {})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := w.Take(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	go func() {
		_, err := w.Take(ctx)
		errc <- err
	}()
	cancel()
	w.Done(0, 0) // wakes the waiter, which then takes seq 1 or sees ctx
	select {
	case <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("Take did not return")
	}
}
