package endpoint

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The SDK's retries are ferry's first line against a failing request:
// a reset connection, a 500, a SlowDown in the middle of a large copy is
// retried here, quickly, before the error reaches ferry's own retry (the
// daemon's queue backoff, SQS and NATS redelivery), which redoes a whole
// key.
const (
	// maxAttempts is how often one request is sent before its error
	// reaches ferry (the SDK's default is 3; ferry had 5). With 10% of
	// requests failing at random, 5 attempts lose one request in 100,000,
	// which fails a `ferry sync` of a few thousand objects one time in
	// fifteen; 8 lose one in 100 million. A request that keeps failing
	// costs at most 6 s of 50 ms-based backoff, or about a minute of
	// throttle backoff, which is what a throttling server asks for.
	maxAttempts = 8
	// Backoff before retry n (n = 1, 2, ...) is random in [0, base·2^(n-1)),
	// at most maxBackoff: full jitter, so that many workers failing
	// together do not retry together.
	baseTransient = 50 * time.Millisecond  // 500, reset connection, timeout: retry soon
	baseThrottle  = time.Second            // SlowDown, 503, 429: the server asked for less
	baseDial      = 200 * time.Millisecond // connection refused: a server restarting
	maxDial       = time.Second            // ... and reach.go stops it after downAfter anyway
	maxBackoff    = 20 * time.Second
	// retryQuota is the SDK's retry token bucket (a retry costs 5 tokens,
	// a request that succeeds at once gives one back): when most requests
	// fail, retrying stops until successes refill it.
	retryQuota = 500
)

// newRetryer is the retry policy of every client ferry makes. It is the
// SDK's standard retryer, with:
//
//   - 8 attempts, not 5;
//   - the backoff depends on the error: 50 ms for a 500 or a reset
//     connection (the SDK waits up to 2 s before the first retry of
//     anything), 1 s for a throttle, 200 ms for a refused connection;
//   - a request to an endpoint that has not answered for a few seconds is
//     not retried: reach.go fails it at once, so a destination that is
//     down costs a worker nothing and ferry's own backoff decides;
//   - the adaptive part (slowing down on SlowDown) is not the SDK's
//     adaptive mode but adaptive.go's window: the SDK's caps the request
//     rate, and random throttles pin it near 20 requests/s whatever the
//     latency (3 to 20 times slower than this policy in
//     TestRetryPolicyComparison, docs/reliability.md); its retry quota is
//     also never refilled after successes (aws-sdk-go-v2 #3550).
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Backoff = retry.BackoffDelayerFunc(backoff)
		o.RateLimiter = ratelimit.NewTokenRateLimit(retryQuota)
	})
}

// backoff is the delay before retry attempt (1 for the first retry; 0 for
// the first under AWS_NEW_RETRIES_2026, which numbers from 0).
func backoff(attempt int, err error) (time.Duration, error) {
	n := attempt
	if os.Getenv("AWS_NEW_RETRIES_2026") == "true" {
		n++
	}
	base, most := baseTransient, maxBackoff
	switch {
	case isThrottle(err):
		base = baseThrottle
	case isDialError(err):
		base, most = baseDial, maxDial
	}
	limit := most
	if n < 20 {
		limit = min(most, base<<max(n-1, 0))
	}
	return rand.N(limit) + time.Millisecond, nil
}

// throttles are the SDK's throttle error codes (SlowDown among them).
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// isThrottle reports whether err is the server asking for fewer requests:
// a throttle error code, or a 503 or 429 without one (S3 answers HEAD
// requests with a bare 503 for SlowDown; MinIO says 503 when overloaded).
func isThrottle(err error) bool {
	if err == nil {
		return false
	}
	if throttles.IsErrorThrottle(err).Bool() {
		return true
	}
	s := statusOf(err)
	return s == http.StatusServiceUnavailable || s == http.StatusTooManyRequests
}

// statusOf is the HTTP status of the answer err carries, 0 if none: the
// SDK wraps a request that got no answer in a ResponseError too.
func statusOf(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// isDialError reports whether err is a failure to connect at all (refused,
// no route, dial timeout), as opposed to a connection that broke.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// hasResponse reports whether the attempt that returned err got an HTTP
// answer: the server is there, whatever it said.
func hasResponse(err error) bool { return statusOf(err) > 0 }
