package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("QUEUE_CHILD"); mode != "" {
		child(mode, os.Getenv("QUEUE_DIR"))
		return
	}
	os.Exit(m.Run())
}

var ctx = context.Background()

func openT(t testing.TB, dir string) *Queue {
	t.Helper()
	q, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func ev(key, seq string) event.Event {
	return event.Event{Name: "ObjectCreated:Put", Kind: event.Put, Region: "eu-west-1", Bucket: "src", Key: key,
		VersionID: "v-" + seq, Size: 42, ETag: "e-" + seq, Sequencer: seq, Time: time.Unix(1700000000, 0).UTC()}
}

func add(t testing.TB, q *Queue, evs ...event.Event) {
	t.Helper()
	if err := q.Add(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

func claim(t testing.TB, q *Queue, n int) []Job {
	t.Helper()
	jobs, err := q.Claim(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func claim1(t testing.TB, q *Queue) Job {
	t.Helper()
	jobs := claim(t, q, 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d jobs, want 1: %+v", len(jobs), jobs)
	}
	return jobs[0]
}

func counts(t testing.TB, q *Queue) Counts {
	t.Helper()
	c, err := q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCounts(t testing.TB, q *Queue, pending, running, failed int) {
	t.Helper()
	c := counts(t, q)
	if c.Pending != pending || c.Running != running || c.Failed != failed {
		t.Fatalf("counts %+v, want pending %d running %d failed %d", c, pending, running, failed)
	}
}

func failed(t testing.TB, q *Queue) []Job {
	t.Helper()
	var jobs []Job
	if err := q.Failed(ctx, func(j Job) error { jobs = append(jobs, j); return nil }); err != nil {
		t.Fatal(err)
	}
	return jobs
}

func drain(q *Queue) {
	select {
	case <-q.Ready():
	default:
	}
}

func ready(q *Queue) bool {
	select {
	case <-q.Ready():
		return true
	default:
		return false
	}
}

func TestAddCoalesces(t *testing.T) {
	q := openT(t, t.TempDir())
	before := time.Now()
	add(t, q, ev("a", "0A"), ev("b", "01"))
	add(t, q, ev("a", "0B"))
	// A late notification (smaller sequencer, shorter too) does not replace a newer one.
	add(t, q, ev("a", "A"))
	if !ready(q) {
		t.Error("Add did not signal Ready")
	}
	wantCounts(t, q, 2, 0, 0)
	jobs := claim(t, q, 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d, want 2", len(jobs))
	}
	a := jobs[0]
	if a.Event.Key != "a" {
		a = jobs[1]
	}
	if a.Event != ev("a", "0B") {
		t.Errorf("event %+v, want %+v", a.Event, ev("a", "0B"))
	}
	if a.State != Running || a.Attempts != 0 || a.Enqueued.Before(before) || a.Enqueued.After(time.Now()) {
		t.Errorf("job %+v", a)
	}
	// Without sequencers, the last one added wins.
	add(t, q, ev("c", ""), ev("c", "1"), ev("c", ""))
	if c := claim1(t, q); c.Event != ev("c", "") {
		t.Errorf("event %+v, want the last added", c.Event)
	}
}

func TestCoalesceKeepsEnqueuedAndAttempts(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"))
	j := claim1(t, q)
	if err := q.Retry(ctx, j.ID, time.Hour, fails("SrcGetObjectNotPermitted")); err != nil {
		t.Fatal(err)
	}
	if jobs := claim(t, q, 10); len(jobs) != 0 {
		t.Fatalf("claimed %d jobs in backoff", len(jobs))
	}
	add(t, q, ev("a", "02")) // a new event makes it due now
	k := claim1(t, q)
	if k.ID != j.ID || k.Attempts != 1 || !k.Enqueued.Equal(j.Enqueued) || k.Event.Sequencer != "02" || k.Reason != "SrcGetObjectNotPermitted" {
		t.Errorf("coalesced job %+v, claimed before %+v", k, j)
	}
}

func TestPerKeyExclusion(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"))
	first := claim1(t, q)
	add(t, q, ev("a", "02"), ev("b", "01"))
	wantCounts(t, q, 2, 1, 0)
	if j := claim1(t, q); j.Event.Key != "b" {
		t.Fatalf("claimed %q while a runs", j.Event.Key)
	}
	drain(q)
	if _, err := q.Done(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if !ready(q) {
		t.Error("Done did not signal Ready for the waiting job")
	}
	if j := claim1(t, q); j.Event.Sequencer != "02" || j.Enqueued.Before(first.Enqueued) {
		t.Errorf("second job %+v", j)
	}
}

func TestClaimOrder(t *testing.T) {
	q := openT(t, t.TempDir())
	for i := range 5 {
		add(t, q, ev(fmt.Sprint(i), ""))
	}
	add(t, q, ev("0", "")) // coalescing keeps its place in line
	jobs := claim(t, q, 3)
	for i, j := range jobs {
		if j.Event.Key != fmt.Sprint(i) {
			t.Errorf("job %d is %q", i, j.Event.Key)
		}
	}
	if err := q.Release(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if j := claim(t, q, 1); j[0].Event.Key != "0" {
		t.Errorf("released job lost its place: got %q", j[0].Event.Key)
	}
}

func TestRetryMerges(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"))
	j := claim1(t, q)
	add(t, q, ev("a", "02"))
	if err := q.Retry(ctx, j.ID, time.Hour, fails("DstPutObjectNotPermitted")); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, q, 1, 0, 0)
	if jobs := claim(t, q, 10); len(jobs) != 0 {
		t.Fatal("merged job is due before the backoff")
	}
	c := counts(t, q)
	if !c.OldestPending.Equal(j.Enqueued) {
		t.Errorf("oldest pending %v, want the first event's %v", c.OldestPending, j.Enqueued)
	}
	if err := q.Retry(ctx, j.ID, 0, fails("")); !errors.Is(err, ErrNoJob) {
		t.Errorf("retry of a job that is not running: %v", err)
	}
	// Merge makes it due after `after`; 0 means now.
	q.db.Exec(`UPDATE jobs SET next_at = 0`) // skip the hour
	k := claim1(t, q)
	add(t, q, ev("a", "03"))
	if err := q.Retry(ctx, k.ID, 0, fails("X")); err != nil {
		t.Fatal(err)
	}
	m := claim1(t, q)
	if m.Attempts != 2 || m.Reason != "X" || m.Event.Sequencer != "03" || !m.Enqueued.Equal(j.Enqueued) {
		t.Errorf("merged job %+v", m)
	}
}

func TestFailAndDone(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"))
	j := claim1(t, q)
	if err := q.Fail(ctx, j.ID, fails("DstBucketNotFound")); err != nil {
		t.Fatal(err)
	}
	add(t, q, ev("a", "02"))
	wantCounts(t, q, 1, 0, 1)
	k := claim1(t, q)
	add(t, q, ev("a", "03"))
	if err := q.Fail(ctx, k.ID, fails("DstPutObjectNotPermitted")); err != nil {
		t.Fatal(err)
	}
	// The latest failure replaces the earlier one; the pending job stays.
	wantCounts(t, q, 1, 0, 1)
	f := failed(t, q)
	if len(f) != 1 || f[0].Reason != "DstPutObjectNotPermitted" || f[0].Attempts != 1 || f[0].State != Failed {
		t.Fatalf("failed jobs %+v", f)
	}
	l := claim1(t, q)
	if _, err := q.Done(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, q, 0, 0, 0)
	if _, err := q.Done(ctx, l.ID); !errors.Is(err, ErrNoJob) {
		t.Errorf("second Done: %v", err)
	}
	if err := q.Fail(ctx, 12345, fails("x")); !errors.Is(err, ErrNoJob) {
		t.Errorf("Fail of unknown job: %v", err)
	}
	if err := q.Release(ctx, 12345); !errors.Is(err, ErrNoJob) {
		t.Errorf("Release of unknown job: %v", err)
	}
}

func TestRelease(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"))
	j := claim1(t, q)
	q.Retry(ctx, j.ID, 0, fails("SlowDown"))
	j = claim1(t, q)
	drain(q)
	if err := q.Release(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if !ready(q) {
		t.Error("Release did not signal Ready")
	}
	if k := claim1(t, q); k.ID != j.ID || k.Attempts != 1 || k.Reason != "SlowDown" {
		t.Errorf("released job %+v, was %+v", k, j)
	}
}

func TestRequeue(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "01"), ev("b", "01"), ev("c", "01"))
	for _, j := range claim(t, q, 10) {
		q.Retry(ctx, j.ID, 0, fails(""))
	}
	for _, j := range claim(t, q, 10) {
		if err := q.Fail(ctx, j.ID, fails("AccessDenied")); err != nil {
			t.Fatal(err)
		}
	}
	add(t, q, ev("c", "02")) // requeued c merges into this one
	drain(q)
	before := time.Now()
	n, err := q.Requeue(ctx, func(j Job) bool { return j.Event.Key != "b" })
	if err != nil || n != 2 {
		t.Fatalf("requeued %d, %v; want 2", n, err)
	}
	if !ready(q) {
		t.Error("Requeue did not signal Ready")
	}
	wantCounts(t, q, 2, 0, 1)
	for _, j := range claim(t, q, 10) {
		// A requeued job counts as new: its old Enqueued would skew the latency.
		if j.Attempts != 0 || j.Reason != "" || (j.Event.Key == "a" && j.Enqueued.Before(before)) {
			t.Errorf("requeued job %+v", j)
		}
		if j.Event.Key == "c" && j.Event.Sequencer != "02" {
			t.Errorf("merged job lost the newer event: %+v", j.Event)
		}
	}
	if n, err := q.Requeue(ctx, nil); err != nil || n != 1 {
		t.Fatalf("requeue all: %d, %v", n, err)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "queue")
	q := openT(t, dir)
	add(t, q, ev("a", "01"))
	q.Close()
	wantMode(t, dir, 0o700)
	wantMode(t, filepath.Join(dir, "queue.db"), 0o600)

	// An existing, too open directory and file are tightened.
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "queue.db"), 0o644)
	q = openT(t, dir)
	wantMode(t, dir, 0o700)
	wantMode(t, filepath.Join(dir, "queue.db"), 0o600)
	wantMode(t, filepath.Join(dir, "queue.db-wal"), 0o600)
	wantMode(t, filepath.Join(dir, "lock"), 0o600)
	wantCounts(t, q, 1, 0, 0)
}

func wantMode(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir)
	_, err := Open(dir)
	want := fmt.Sprintf("queue %s is in use by another ferry process (pid %d)", dir, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Open: %v, want %q", err, want)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, dir)
}

func TestNewerSchema(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir)
	q.db.Exec(`PRAGMA user_version = 99`)
	q.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	} else {
		t.Log(err)
	}
	// A failed Open released the lock.
	l, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.release()
}

func TestDamaged(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "queue.db"), []byte(strings.Repeat("not a database ", 500)), 0o600)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("Open of a damaged file: %v", err)
	} else {
		t.Log(err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := -1; attempt < 70; attempt++ {
		limit := 5 * time.Minute
		if attempt < 9 {
			limit = min(limit, time.Second<<max(attempt, 0))
		}
		var largest time.Duration
		for range 200 {
			d := Backoff(attempt)
			if d < 100*time.Millisecond || d > limit {
				t.Fatalf("Backoff(%d) = %v, want in [100ms, %v]", attempt, d, limit)
			}
			largest = max(largest, d)
		}
		if largest < limit/2 {
			t.Errorf("Backoff(%d) never above %v in 200 draws, limit %v", attempt, largest, limit)
		}
	}
}

// TestClaimConcurrent: workers claiming from several goroutines, while
// events for the same keys keep arriving, never get one job twice nor two
// jobs of one key at once.
func TestClaimConcurrent(t *testing.T) {
	q := openT(t, t.TempDir())
	const keys, rounds = 50, 8
	var mu sync.Mutex
	running := map[string]bool{}
	seen := map[int64]int{} // job id -> claims while RUNNING (must stay <= 1 at a time)
	done := 0

	var adders sync.WaitGroup
	adders.Add(1)
	go func() {
		defer adders.Done()
		for r := range rounds {
			var evs []event.Event
			for k := range keys {
				evs = append(evs, ev(fmt.Sprintf("k%02d", k), fmt.Sprintf("%04d", r)))
			}
			if err := q.Add(ctx, evs); err != nil {
				t.Error(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	var workers sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				jobs, err := q.Claim(ctx, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					select {
					case <-stop:
						return
					case <-q.Ready():
					case <-time.After(5 * time.Millisecond):
					}
					continue
				}
				for _, j := range jobs {
					mu.Lock()
					if running[j.Event.Key] {
						t.Errorf("key %s handed out twice at once", j.Event.Key)
					}
					if seen[j.ID] > 0 {
						t.Errorf("job %d handed out twice", j.ID)
					}
					running[j.Event.Key] = true
					seen[j.ID]++
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
				for _, j := range jobs {
					mu.Lock()
					running[j.Event.Key] = false
					seen[j.ID]--
					done++
					mu.Unlock()
					if _, err := q.Done(ctx, j.ID); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	adders.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for c := counts(t, q); c.Pending+c.Running > 0; c = counts(t, q) {
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	workers.Wait()
	if done < keys || done > keys*rounds {
		t.Errorf("%d jobs done, want between %d and %d", done, keys, keys*rounds)
	}
	t.Logf("%d events for %d keys coalesced into %d jobs", keys*rounds, keys, done)
}

// fails is one failure without a destination: the job's reason is reason.
func fails(reason string) []Failure {
	if reason == "" {
		return nil
	}
	return []Failure{{Reason: reason}}
}
