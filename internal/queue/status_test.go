package queue

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A job that fails at one of two destinations owes only that one: its
// retry, `ferry retry` included, does not redo the other. A new event owes
// both again.
func TestPerDestinationFailures(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir)
	add(t, q, ev("a", "1"))
	j := claim1(t, q)
	if j.Size != 42 || j.Owed != nil || !j.Owes("dst-b") {
		t.Fatalf("new job: size %d, owed %v", j.Size, j.Owed)
	}
	fb := Failure{Rule: "r2", Dest: "dst-b", DstKey: "a", Reason: "DstPutObjectNotPermitted", Detail: "AccessDenied: no"}
	if err := q.Retry(ctx, j.ID, 0, []Failure{fb}); err != nil {
		t.Fatal(err)
	}
	j = claim1(t, q)
	if !slices.Equal(j.Owed, []string{"dst-b"}) || j.Owes("dst-a") || j.Attempts != 1 || j.FirstFailed.IsZero() {
		t.Fatalf("after a failed attempt: owed %v, attempts %d, first failed %v", j.Owed, j.Attempts, j.FirstFailed)
	}
	first := j.FirstFailed
	if err := q.Fail(ctx, j.ID, []Failure{fb}); err != nil {
		t.Fatal(err)
	}

	// ferry status and ferry retry read the queue beside the daemon.
	sq, err := OpenShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	jobs, err := sq.Key(ctx, "src", "a")
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Key: %v %v", jobs, err)
	}
	f := jobs[0]
	if f.State != Failed || f.Attempts != 2 || f.Reason != "dst-b: DstPutObjectNotPermitted" ||
		!slices.Equal(f.Failures, []Failure{fb}) || !f.FirstFailed.Equal(first) {
		t.Fatalf("failed job: %+v", f)
	}
	n, err := sq.Requeue(ctx, nil)
	if err != nil || n != 1 {
		t.Fatalf("requeue: %d %v", n, err)
	}
	j = claim1(t, q)
	if !slices.Equal(j.Owed, []string{"dst-b"}) || j.Attempts != 0 || j.Failures != nil {
		t.Fatalf("requeued job: owed %v attempts %d failures %v", j.Owed, j.Attempts, j.Failures)
	}
	if err := q.Retry(ctx, j.ID, time.Hour, []Failure{fb}); err != nil {
		t.Fatal(err)
	}
	add(t, q, ev("a", "2"))
	jobs, _ = q.Key(ctx, "src", "a")
	if len(jobs) != 1 || jobs[0].Owed != nil || jobs[0].Event.Sequencer != "2" {
		t.Fatalf("a new event must owe every destination again: %+v", jobs)
	}

	for _, d := range []string{"dst-a", "dst-b"} {
		if ok, err := q.Notified(ctx, jobs[0].ID, d); !ok || err != nil {
			t.Fatalf("Notified %s: %v %v", d, ok, err)
		}
	}
	jobs, _ = q.Key(ctx, "src", "a")
	if !slices.Equal(jobs[0].Notified, []string{"dst-a", "dst-b"}) {
		t.Fatalf("notified: %v", jobs[0].Notified)
	}
	// A claimed job is not marked: its worker tells on completion.
	j = claim1(t, q)
	if ok, err := q.Notified(ctx, j.ID, "dst-c"); ok || err != nil {
		t.Fatalf("Notified on a running job: %v %v", ok, err)
	}
}

func TestOpenSharedNeedsAQueue(t *testing.T) {
	_, err := OpenShared(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("err = %v", err)
	}
}

// A failure the SQS and NATS intakes report is kept like a queued job's,
// and a later success of the key supersedes it.
func TestRecordAndSupersede(t *testing.T) {
	q := openT(t, t.TempDir())
	fb := Failure{Rule: "r", Dest: "dst", Reason: "DstPutObjectNotPermitted"}
	if err := q.Record(ctx, ev("k", "1"), []Failure{fb}); err != nil {
		t.Fatal(err)
	}
	c, _ := q.Counts(ctx)
	if c.Failed != 1 || c.Pending != 0 {
		t.Fatalf("counts %+v", c)
	}
	var over []string
	q.Overdue(ctx, time.Now().Add(time.Hour), func(j Job) error { over = append(over, j.Event.Key); return nil })
	if len(over) != 0 {
		t.Fatalf("a FAILED job is not overdue: %v", over)
	}
	add(t, q, ev("k", "2"))
	q.Overdue(ctx, time.Now().Add(time.Hour), func(j Job) error { over = append(over, j.Event.Key); return nil })
	if len(over) != 1 {
		t.Fatalf("overdue: %v", over)
	}
	j := claim1(t, q)
	sup, err := q.Done(ctx, j.ID)
	if err != nil || len(sup) != 1 || sup[0] != fb {
		t.Fatalf("Done superseded %v, %v", sup, err)
	}
	c, _ = q.Counts(ctx)
	if c != (Counts{}) {
		t.Fatalf("counts after success %+v", c)
	}
}
