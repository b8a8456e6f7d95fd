package shared

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// cluster returns the bed's JetStream cluster URLs and a unique name, and
// deletes the name's buckets when the test ends.
func cluster(t *testing.T) (url, name string) {
	t.Helper()
	bed := testbed.Require(t)
	if len(bed.NATS.Cluster) == 0 {
		t.Skip("the bed has no NATS cluster: restart it (scripts/testbed.sh down DIR; up DIR)")
	}
	url = strings.Join(bed.NATS.Cluster, ",")
	b := make([]byte, 4)
	rand.Read(b)
	name = "t" + hex.EncodeToString(b)
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		for _, s := range []string{"_locks", "_failed"} {
			js.DeleteKeyValue(context.Background(), name+s)
		}
	})
	return url, name
}

// dial opens a store as one ferry process would, with its own connection.
func dial(t *testing.T, url string, o Options) *Store {
	t.Helper()
	s, err := Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// One key is held by one process at a time, across connections to
// different nodes of the cluster, and a dead holder's lock frees itself.
func TestLockAcrossProcesses(t *testing.T) {
	url, name := cluster(t)
	ctx := context.Background()
	nodes := strings.Split(url, ",")
	o := Options{Name: name, Replicas: min(3, len(nodes)), LockTTL: 2 * time.Second}
	a := dial(t, nodes[0], o)
	b := dial(t, nodes[len(nodes)-1], o)

	unlock, err := a.Lock(ctx, "src", "k 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, "src", "k 1"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second process locked a held key: err %v", err)
	}
	// Another key, and the same key of another bucket, are free.
	for _, k := range [][2]string{{"src", "k 2"}, {"other", "k 1"}} {
		u, err := b.Lock(ctx, k[0], k[1])
		if err != nil {
			t.Fatalf("lock %v: %v", k, err)
		}
		u()
	}
	// Held past its TTL: the holder refreshes it.
	time.Sleep(3 * time.Second)
	if _, err := b.Lock(ctx, "src", "k 1"); !errors.Is(err, ErrBusy) {
		t.Fatalf("a refreshed lock expired: err %v", err)
	}
	unlock()
	u, err := b.Lock(ctx, "src", "k 1")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	u()

	// A process that dies holding a lock: its connection goes, nothing
	// refreshes or releases the lock, which frees itself after the TTL.
	dead := dial(t, nodes[0], o)
	if _, err := dead.Lock(ctx, "src", "k 3"); err != nil {
		t.Fatal(err)
	}
	dead.nc.Close()
	start := time.Now()
	for {
		u, err := b.Lock(ctx, "src", "k 3")
		if err == nil {
			u()
			break
		}
		if !errors.Is(err, ErrBusy) || time.Since(start) > 20*time.Second {
			t.Fatalf("the dead holder's lock is still held after %v: %v", time.Since(start), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("the dead holder's lock freed after %v, before its TTL", took)
	}
	t.Logf("a dead holder's lock (TTL 2s) freed after %v", time.Since(start).Round(100*time.Millisecond))
}

// Many processes racing for the same keys never hold one at once.
func TestLockExclusive(t *testing.T) {
	url, name := cluster(t)
	o := Options{Name: name, LockTTL: 5 * time.Second}
	stores := []*Store{dial(t, url, o), dial(t, url, o), dial(t, url, o)}
	var holders [4]atomic.Int32
	var wg sync.WaitGroup
	var taken, clashes atomic.Int32
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[i%3]
			key := string(rune('a' + i%4))
			for range 10 {
				u, err := s.Lock(context.Background(), "b", key)
				if errors.Is(err, ErrBusy) {
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if holders[i%4].Add(1) != 1 {
					clashes.Add(1)
				}
				taken.Add(1)
				time.Sleep(time.Millisecond)
				holders[i%4].Add(-1)
				u()
			}
		}()
	}
	wg.Wait()
	if clashes.Load() != 0 {
		t.Fatalf("%d times two holders at once", clashes.Load())
	}
	if taken.Load() < 4 {
		t.Fatalf("locks taken %d times only", taken.Load())
	}
}

// A FAILED record is seen by every process; retry puts the event back on
// the stream; a success forgets the record.
func TestFailedRecords(t *testing.T) {
	url, name := cluster(t)
	ctx := context.Background()
	subject := name + ".events"
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), name) })

	o := Options{Name: name, Subject: subject}
	a, b := dial(t, url, o), dial(t, url, o)
	ev := event.Event{Name: "ObjectCreated:Put", Kind: event.Put, Bucket: "src", Key: "dir/a b+c.txt", Size: 5, ETag: "e1",
		Sequencer: "0A", Time: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	fail := []queue.Failure{{Rule: "r1", Dest: "dst", Reason: "DstPutObjectNotPermitted", Detail: "AccessDenied"}}
	if err := a.Record(ctx, ev, fail); err != nil {
		t.Fatal(err)
	}
	if err := a.Record(ctx, ev, fail); err != nil {
		t.Fatal(err)
	}
	jobs, err := b.Key(ctx, "src", ev.Key)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("the other process sees %d records (%v), want 1", len(jobs), err)
	}
	j := jobs[0]
	if j.State != queue.Failed || j.Attempts != 2 || j.Reason == "" || j.Event.Key != ev.Key || j.Failures[0] != fail[0] || !j.Owes("dst") || j.Owes("other") {
		t.Fatalf("record %+v", j)
	}
	if jobs, _ := b.Key(ctx, "src", "other"); len(jobs) != 0 {
		t.Fatalf("records for a key never failed: %+v", jobs)
	}
	ev2 := ev
	ev2.Key = "z"
	a.Record(ctx, ev2, []queue.Failure{{Rule: "r2", Dest: "dst", Reason: "DstObjectLockFailed"}})

	var listed []string
	b.Failed(ctx, func(j queue.Job) error { listed = append(listed, j.Event.Key); return nil })
	if len(listed) != 2 {
		t.Fatalf("Failed lists %v", listed)
	}
	n, err := b.Requeue(ctx, queue.Match{Rule: "r1"}.Accepts)
	if err != nil || n != 1 {
		t.Fatalf("requeue: %d, %v", n, err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.Parse(msg.Data)
	if err != nil || len(got) != 1 || got[0].Key != ev.Key || got[0].ETag != ev.ETag || !got[0].Time.Equal(ev.Time) {
		t.Fatalf("requeued message %s: %+v, %v", msg.Data, got, err)
	}
	// Still FAILED until a worker succeeds.
	if jobs, _ := a.Key(ctx, "src", ev.Key); len(jobs) != 1 {
		t.Fatal("a requeue forgot the record before any success")
	}
	sup, err := a.Done(ctx, "src", ev.Key)
	if err != nil || len(sup) != 1 || sup[0] != fail[0] {
		t.Fatalf("Done returned %+v, %v", sup, err)
	}
	if jobs, _ := b.Key(ctx, "src", ev.Key); len(jobs) != 0 {
		t.Fatalf("record still there after a success: %+v", jobs)
	}
	if sup, err := a.Done(ctx, "src", "never"); err != nil || sup != nil {
		t.Fatalf("Done of a key without record: %v, %v", sup, err)
	}
}

// A daemon with the webhook beside NATS keeps failures in both places;
// Join shows and re-queues them as one.
func TestJoinWithLocalQueue(t *testing.T) {
	url, name := cluster(t)
	ctx := context.Background()
	s := dial(t, url, Options{Name: name, Subject: name + ".events"})
	nc, _ := nats.Connect(url)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".events"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), name) })
	q, err := queue.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	fail := []queue.Failure{{Rule: "r", Dest: "d", Reason: "DstPutObjectNotPermitted"}}
	s.Record(ctx, event.Event{Kind: event.Put, Bucket: "src", Key: "k"}, fail)
	q.Record(ctx, event.Event{Kind: event.Put, Bucket: "src", Key: "k"}, fail)
	q.Record(ctx, event.Event{Kind: event.Put, Bucket: "src", Key: "local"}, fail)
	log := Join(s, q)
	if jobs, err := log.Key(ctx, "src", "k"); err != nil || len(jobs) != 2 {
		t.Fatalf("Key: %d jobs, %v; want one from each", len(jobs), err)
	}
	n := 0
	log.Failed(ctx, func(queue.Job) error { n++; return nil })
	if n != 3 {
		t.Fatalf("Failed lists %d, want 3", n)
	}
	if r, err := log.Requeue(ctx, nil); err != nil || r != 3 {
		t.Fatalf("Requeue: %d, %v; want 3", r, err)
	}
}
