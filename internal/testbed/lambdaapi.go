package testbed

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// LambdaAPI is an AWS Lambda Runtime API server
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for
// running a real runtime loop, in a child process, against test payloads:
// point the child's AWS_LAMBDA_RUNTIME_API at Addr and call Invoke.
type LambdaAPI struct {
	t      testing.TB
	srv    *httptest.Server
	queue  chan *lambdaCall // invocations waiting for the runtime's GET next
	closed chan struct{}    // ends long polls so the server can close

	mu      sync.Mutex
	pending map[string]*lambdaCall // handed out, not yet answered
	seq     int
}

// LambdaFunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
const LambdaFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:ferry"

// lambdaPickup bounds the wait for the runtime's GET next: it covers the
// start of the child process, which Lambda does not count against the
// function's timeout either.
const lambdaPickup = 30 * time.Second

type lambdaCall struct {
	id       string
	payload  []byte
	timeout  time.Duration
	deadline chan time.Time // the deadline given to the runtime at pickup
	answer   chan lambdaAnswer
}

type lambdaAnswer struct {
	response, errPayload []byte
}

// NewLambdaAPI starts a Runtime API server that stops with the test.
func NewLambdaAPI(t testing.TB) *LambdaAPI {
	t.Helper()
	a := &LambdaAPI{
		t:       t,
		queue:   make(chan *lambdaCall),
		closed:  make(chan struct{}),
		pending: map[string]*lambdaCall{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.post)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.post)
	a.srv = httptest.NewServer(mux)
	// Cleanups run last-in first-out: end the long polls, then close.
	t.Cleanup(a.srv.Close)
	t.Cleanup(func() { close(a.closed) })
	return a
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (a *LambdaAPI) Addr() string {
	return strings.TrimPrefix(a.srv.URL, "http://")
}

// Invoke hands payload to the runtime as the next invocation, with a
// deadline timeout after the runtime picks it up, and returns what the
// runtime posted: the body of .../response, or of .../error. err means the
// runtime did not pick the invocation up, or did not answer by the deadline.
func (a *LambdaAPI) Invoke(payload []byte, timeout time.Duration) (response, errPayload []byte, err error) {
	a.mu.Lock()
	a.seq++
	c := &lambdaCall{
		id:       fmt.Sprintf("req-%d", a.seq),
		payload:  payload,
		timeout:  timeout,
		deadline: make(chan time.Time, 1),
		answer:   make(chan lambdaAnswer, 1),
	}
	a.mu.Unlock()

	select {
	case a.queue <- c:
	case <-time.After(lambdaPickup):
		return nil, nil, fmt.Errorf("invocation %s: the runtime did not ask for it within %v", c.id, lambdaPickup)
	case <-a.closed:
		return nil, nil, errors.New("lambda API closed")
	}
	deadline := <-c.deadline
	// A little slack for the HTTP round trip; Lambda itself would kill the
	// process at the deadline.
	late := time.NewTimer(time.Until(deadline) + 500*time.Millisecond)
	defer late.Stop()
	select {
	case ans := <-c.answer:
		return ans.response, ans.errPayload, nil
	case <-late.C:
		return nil, nil, fmt.Errorf("invocation %s: no response within its timeout of %v", c.id, timeout)
	case <-a.closed:
		return nil, nil, errors.New("lambda API closed")
	}
}

// next is the runtime's long poll for work.
func (a *LambdaAPI) next(w http.ResponseWriter, r *http.Request) {
	var c *lambdaCall
	select {
	case c = <-a.queue:
	case <-r.Context().Done():
		return
	case <-a.closed:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	deadline := time.Now().Add(c.timeout)
	a.mu.Lock()
	a.pending[c.id] = c
	a.mu.Unlock()
	c.deadline <- deadline

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", c.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", LambdaFunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
	w.Write(c.payload)
}

// post records the runtime's answer to one invocation, .../response or .../error.
func (a *LambdaAPI) post(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	c, ok := a.pending[id]
	delete(a.pending, id)
	a.mu.Unlock()
	if !ok {
		a.t.Errorf("lambda API: %s for unknown or already answered invocation %q", r.URL.Path, id)
		http.Error(w, "unknown invocation", http.StatusBadRequest)
		return
	}
	var ans lambdaAnswer
	if strings.HasSuffix(r.URL.Path, "/error") {
		ans.errPayload = body
	} else {
		ans.response = body
	}
	c.answer <- ans
	w.WriteHeader(http.StatusAccepted)
}
