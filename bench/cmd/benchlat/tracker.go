package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is what is known of one measured object. Times are from this
// process's clock (monotonic), so they compare exactly.
type sample struct {
	put    time.Time // the PUT was answered: t0 (zero until then)
	putErr bool      // the PUT failed: not measured
	seen   time.Time // first seen at the destination (hook mode: its event arrived)
	hook   time.Time // relay: its event reached the relay
	acked  time.Time // relay: the receiver answered that post 2xx
}

// tracker holds the samples of one run, indexed by the key's number.
type tracker struct {
	prefix string

	mu   sync.Mutex
	s    []sample
	low  int // every object below low has been seen
	seen int
}

func newTracker(prefix string, n int) *tracker {
	return &tracker{prefix: prefix, s: make([]sample, n)}
}

// key is the name of object i: PREFIX and six digits, so keys list in
// index order.
func (t *tracker) key(i int) string { return fmt.Sprintf("%s%06d", t.prefix, i) }

// index is the number of a measured object's key.
func (t *tracker) index(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, t.prefix)
	if !ok || len(rest) != 6 {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(t.s) {
		return 0, false
	}
	return i, true
}

// startAfter is where a LIST of the destination starts: after the highest
// key below which everything has been seen ("" for the beginning).
func (t *tracker) startAfter() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.low == 0 {
		return ""
	}
	return t.key(t.low - 1)
}

// markSeen records that key was seen at the destination at time at, if it
// is a measured key not seen before; it reports whether it was new.
func (t *tracker) markSeen(key string, at time.Time) bool {
	i, ok := t.index(key)
	if !ok {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.s[i].seen.IsZero() {
		return false
	}
	t.s[i].seen = at
	t.seen++
	for t.low < len(t.s) && !t.s[t.low].seen.IsZero() {
		t.low++
	}
	return true
}

func (t *tracker) markPut(i int, at time.Time, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s[i].put, t.s[i].putErr = at, failed
	if failed && t.s[i].seen.IsZero() {
		// Never coming: do not hold the LISTs' start back for it.
		t.s[i].seen = at
		t.seen++
		for t.low < len(t.s) && !t.s[t.low].seen.IsZero() {
			t.low++
		}
	}
}

func (t *tracker) markHook(key string, at time.Time) {
	if i, ok := t.index(key); ok {
		t.mu.Lock()
		if t.s[i].hook.IsZero() {
			t.s[i].hook = at
		}
		t.mu.Unlock()
	}
}

func (t *tracker) markAcked(key string, at time.Time) {
	if i, ok := t.index(key); ok {
		t.mu.Lock()
		if t.s[i].acked.IsZero() {
			t.s[i].acked = at
		}
		t.mu.Unlock()
	}
}

// allSeen reports whether the first n objects have been seen.
func (t *tracker) allSeen(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.low >= n
}

// snapshot copies the samples.
func (t *tracker) snapshot() []sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]sample(nil), t.s...)
}
