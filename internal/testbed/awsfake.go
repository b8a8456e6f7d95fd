package testbed

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeServer is what every fake AWS service of the bed shares: a loopback
// server, the one pair of credentials it accepts (checkSigV4), and a count
// of the requests per operation. mu also guards the embedding fake's own
// state.
type fakeServer struct {
	URL       string // endpoint, http://127.0.0.1:PORT
	AccessKey string // the only credentials accepted (Client uses them)
	SecretKey string

	t   testing.TB
	srv *httptest.Server

	mu    sync.Mutex
	calls map[string]int
}

// start serves h for the rest of the test, with fresh credentials.
func (f *fakeServer) start(t testing.TB, service string, h http.Handler) {
	f.AccessKey = "FAKE" + strings.ToUpper(service) + "ACCESSKEY"
	f.SecretKey = "fake-" + service + "-secret-" + randomHex(8)
	f.t, f.calls = t, map[string]int{}
	f.srv = httptest.NewServer(h)
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
}

// Calls returns how many requests of operation op (e.g. "Publish") the
// fake has answered, failed ones included.
func (f *fakeServer) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// creds are the fake's credentials, for its Client.
func (f *fakeServer) creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(f.AccessKey, f.SecretKey, "")
}
