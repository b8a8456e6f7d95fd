package queue

import (
	"fmt"
	"testing"

	"github.com/ferry-s3/ferry/internal/event"
)

// BenchmarkAddClaimDone: the daemon's steady state, one op = one job
// added (in batches), claimed (in batches) and done (one by one).
func BenchmarkAddClaimDone(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			q := openT(b, b.TempDir())
			evs := make([]event.Event, size)
			n := 0
			for b.Loop() {
				if n%size == 0 {
					for i := range evs {
						evs[i] = ev(fmt.Sprintf("dir/object-%09d", n+i), "")
					}
					add(b, q, evs...)
					for _, j := range claim(b, q, size) {
						if _, err := q.Done(ctx, j.ID); err != nil {
							b.Fatal(err)
						}
					}
				}
				n++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// fill adds n pending jobs.
func fill(b *testing.B, q *Queue, n int) {
	evs := make([]event.Event, 0, 1000)
	for i := range n {
		evs = append(evs, ev(fmt.Sprintf("fill/object-%09d", i), ""))
		if len(evs) == cap(evs) || i == n-1 {
			add(b, q, evs...)
			evs = evs[:0]
		}
	}
}

// BenchmarkClaim100k: Claim(10) must stay cheap with a deep queue. Released
// jobs keep their place, so each Claim finds the same 10.
func BenchmarkClaim100k(b *testing.B) {
	q := openT(b, b.TempDir())
	fill(b, q, 100_000)
	for b.Loop() {
		jobs := claim(b, q, 10)
		b.StopTimer()
		for _, j := range jobs {
			if err := q.Release(ctx, j.ID); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}

// BenchmarkClaim100kInBackoff: the worst case, a destination down and every
// job waiting for its retry: Claim finds nothing due.
func BenchmarkClaim100kInBackoff(b *testing.B) {
	q := openT(b, b.TempDir())
	fill(b, q, 100_000)
	q.db.Exec(`UPDATE jobs SET next_at = next_at + 3600e9`)
	for b.Loop() {
		if len(claim(b, q, 10)) != 0 {
			b.Fatal("claimed a job in backoff")
		}
	}
}

func BenchmarkCounts100k(b *testing.B) {
	q := openT(b, b.TempDir())
	fill(b, q, 100_000)
	for b.Loop() {
		counts(b, q)
	}
}

func BenchmarkAdd100kCoalesce(b *testing.B) {
	q := openT(b, b.TempDir())
	fill(b, q, 100_000)
	evs := make([]event.Event, 100)
	for i := range evs {
		evs[i] = ev(fmt.Sprintf("fill/object-%09d", i*997), "")
	}
	for b.Loop() {
		add(b, q, evs...)
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
