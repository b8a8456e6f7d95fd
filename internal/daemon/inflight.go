package daemon

import (
	"sync"

	"github.com/ferry-s3/ferry/internal/event"
)

// inflight are the events the SQS and NATS intakes are working on: pending
// operations that are in no local queue.
type inflight struct {
	mu   sync.Mutex
	next int
	evs  map[int]event.Event
}

func (f *inflight) add(ev event.Event) (done func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.evs == nil {
		f.evs = map[int]event.Event{}
	}
	id := f.next
	f.next++
	f.evs[id] = ev
	return func() {
		f.mu.Lock()
		delete(f.evs, id)
		f.mu.Unlock()
	}
}

func (f *inflight) list() []event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := make([]event.Event, 0, len(f.evs))
	for _, ev := range f.evs {
		evs = append(evs, ev)
	}
	return evs
}
