package intake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/testbed"
)

type recordQueue struct{ got []event.Event }

func (q *recordQueue) Add(_ context.Context, evs []event.Event) error {
	q.got = append(q.got, evs...)
	return nil
}

const goodEvent = `{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"src"},"object":{"key":"a.txt","size":1}}}]}`

// TestWebhookSecurityToken: only the exact token, as a bearer token or
// verbatim (MinIO's two forms), is accepted; anything else gets 401, a log
// line without the token or what was presented, and queues nothing.
// Probes (GET, HEAD) are answered without a token and reveal nothing.
func TestWebhookSecurityToken(t *testing.T) {
	const token = "s3cret-webhook-token-0123456789"
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"bearer", "Bearer " + token, 200},
		{"verbatim", token, 200},
		{"none", "", 401},
		{"wrong", "Bearer nope-" + token[5:], 401},
		{"prefix of the token", "Bearer " + token[:len(token)-1], 401},
		{"token and more", "Bearer " + token + "x", 401},
		{"basic scheme", "Basic " + token, 401},
		{"lower-case scheme", "bearer " + token, 200},
		{"bearer twice", "Bearer Bearer " + token, 401},
		{"empty bearer", "Bearer ", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log testbed.Buffer
			q := &recordQueue{}
			h := &Webhook{Token: token, Queue: q, Log: log.Logger()}
			req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(goodEvent))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("HTTP %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tc.want)
			}
			if tc.want == 401 {
				if len(q.got) != 0 {
					t.Errorf("a refused request queued %d events", len(q.got))
				}
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if len(log.Lines("request refused")) != 1 {
					t.Errorf("want one log line for the refusal:\n%s", log.String())
				}
			} else if len(q.got) != 1 {
				t.Errorf("%d events queued, want 1", len(q.got))
			}
			presented := tc.auth[strings.LastIndexByte(tc.auth, ' ')+1:]
			for _, leak := range []string{token, token[5:], presented} {
				if len(leak) >= 6 && (strings.Contains(log.String(), leak) || strings.Contains(rec.Body.String(), leak)) {
					t.Errorf("the token (or what was presented) appears in the log or the answer:\n%s\n%s", log.String(), rec.Body.String())
				}
			}
		})
	}

	h := &Webhook{Token: token, Queue: &recordQueue{}, Log: (&testbed.Buffer{}).Logger()}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "/events", nil))
		if rec.Code != 200 || rec.Body.Len() != 0 {
			t.Errorf("%s probe: HTTP %d %q, want an empty 200", m, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/events", strings.NewReader(goodEvent)))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: HTTP %d, want 405", rec.Code)
	}
}

// TestWebhookSecurityBodyLimit: a body over MaxBody is refused with 413
// before it is parsed, with or without a token.
func TestWebhookSecurityBodyLimit(t *testing.T) {
	q := &recordQueue{}
	h := &Webhook{Token: "tok123456", Queue: q, Log: (&testbed.Buffer{}).Logger()}
	body := `{"Records":[` + strings.Repeat(" ", MaxBody) + `]}`
	req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok123456")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || len(q.got) != 0 {
		t.Errorf("HTTP %d, %d events queued; want 413 and none", rec.Code, len(q.got))
	}
}

func TestWebhookSecurityLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:80": true, "[::1]:8080": true, "localhost:8080": true, "LocalHost:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "10.0.0.5:8080": false, "ferry.internal:8080": false,
		"localhost.example.com:80": false, "127.0.0.1": false, "": false,
	} {
		if got := Loopback(listen); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", listen, got, want)
		}
	}
}

// TestWebhookSecurityExposure: a webhook without a token is refused on an
// address other machines reach, unless allowed explicitly; a token or a
// loopback address is always fine.
func TestWebhookSecurityExposure(t *testing.T) {
	for _, tc := range []struct {
		listen, token string
		allow, ok     bool
	}{
		{"127.0.0.1:8080", "", false, true},
		{"localhost:8080", "", false, true},
		{"0.0.0.0:8080", "", false, false},
		{":8080", "", false, false},
		{"10.1.2.3:8443", "", false, false},
		{"0.0.0.0:8080", "", true, true},
		{"0.0.0.0:8080", "tok123456", false, true},
	} {
		err := CheckExposure(tc.listen, tc.token, tc.allow)
		if (err == nil) != tc.ok {
			t.Errorf("CheckExposure(%q, token %v, allow %v) = %v, want ok=%v", tc.listen, tc.token != "", tc.allow, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "FERRY_WEBHOOK_TOKEN") || !strings.Contains(err.Error(), "allow_unauthenticated")) {
			t.Errorf("the error does not say how to fix it: %v", err)
		}
	}
}
