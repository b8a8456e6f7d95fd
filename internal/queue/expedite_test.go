package queue

import (
	"testing"
	"time"
)

// TestExpedite: jobs backing off because of a destination are due at once
// when it is expedited; jobs owing only another destination, and jobs that
// never failed, are left as they are.
func TestExpedite(t *testing.T) {
	q := openT(t, t.TempDir())
	add(t, q, ev("a", "1"), ev("b", "1"), ev("c", "1"))
	jobs := claim(t, q, 3)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(jobs))
	}
	owe := map[string][]Failure{
		"a": {{Dest: "dr", Reason: "Transient"}},
		"b": {{Dest: "eu", Reason: "Transient"}},
		"c": {{Dest: "eu", Reason: "Transient"}, {Dest: "dr", Reason: "Transient"}},
	}
	for _, j := range jobs {
		if err := q.Retry(ctx, j.ID, time.Hour, owe[j.Event.Key]); err != nil {
			t.Fatal(err)
		}
	}
	add(t, q, ev("d", "1")) // new, never failed: due already
	if got := claim(t, q, 10); len(got) != 1 || got[0].Event.Key != "d" {
		t.Fatalf("before expedite claimed %v, want only d", got)
	}
	n, err := q.Expedite(ctx, "dr")
	if err != nil || n != 2 {
		t.Fatalf("Expedite(dr) = %d, %v; want a and c", n, err)
	}
	got := claim(t, q, 10)
	keys := map[string]bool{}
	for _, j := range got {
		keys[j.Event.Key] = true
		if j.Attempts != 1 {
			t.Errorf("%s: attempts %d, want 1 (expediting is not an attempt)", j.Event.Key, j.Attempts)
		}
	}
	if len(got) != 2 || !keys["a"] || !keys["c"] {
		t.Fatalf("after Expedite(dr) claimed %v, want a and c", got)
	}
	if n, err := q.Expedite(ctx, ""); err != nil || n != 1 {
		t.Fatalf("Expedite(\"\") = %d, %v; want b", n, err)
	}
	if got := claim(t, q, 10); len(got) != 1 || got[0].Event.Key != "b" {
		t.Fatalf("after Expedite(\"\") claimed %v, want b", got)
	}
}
