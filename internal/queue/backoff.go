package queue

import (
	"math/rand/v2"
	"time"
)

// Backoff is how long to wait before attempt number attempt+1, given
// attempt failures so far: exponential with full jitter (random in
// [0, min(5m, 1s·2^attempt)]), so that many jobs failing together (a
// destination down) do not retry in lockstep; at least 100ms.
func Backoff(attempt int) time.Duration {
	const base, ceiling, floor = time.Second, 5 * time.Minute, 100 * time.Millisecond
	limit := ceiling
	if attempt < 9 { // 2^9 s > 5m; also keeps the shift from overflowing
		limit = min(ceiling, base<<max(attempt, 0))
	}
	return max(rand.N(limit+1), floor)
}
