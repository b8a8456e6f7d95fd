package check_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/check"
	"github.com/ferry-s3/ferry/internal/config"
)

// noProfiles points the SDK at empty AWS files and static keys in the
// environment, so these tests need neither the bed nor ~/.aws.
func noProfiles(t *testing.T) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID": "AKIDCHECKTEST", "AWS_SECRET_ACCESS_KEY": "check-test-secret", "AWS_PROFILE": "",
		"AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
}

// runOn checks a config whose source and destination are at url.
func runOn(t *testing.T, url string) []check.Result {
	t.Helper()
	yaml := fmt.Sprintf("source: {bucket: src-bucket, endpoint_url: %q}\ndestinations:\n  - {bucket: dst-bucket, endpoint_url: %q}\n", url, url)
	cfg, err := config.Parse([]byte(yaml), t.TempDir(), "ferry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs := check.Run(context.Background(), cfg, check.Options{Timeout: 5 * time.Second})
	for _, r := range rs {
		t.Logf("%-4s %-10s %s: %s | %s | %s", r.Status, r.Check, r.Target, r.Detail, r.Error, r.Fix)
	}
	return rs
}

// TestCheckClock: the skew is read from the Date header of the server's
// answers, error answers included: within a minute passes, beyond warns,
// beyond five minutes fails (and the refused request says why).
func TestCheckClock(t *testing.T) {
	noProfiles(t)
	for _, tc := range []struct {
		off  time.Duration
		want check.Status
	}{
		{0, check.Pass},
		{-30 * time.Second, check.Pass},
		{3 * time.Minute, check.Warn},
		{-20 * time.Minute, check.Fail},
	} {
		t.Run(tc.off.String(), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", time.Now().Add(tc.off).UTC().Format(http.TimeFormat))
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>RequestTimeTooSkewed</Code>`+
					`<Message>The difference between the request time and the server's time is too large.</Message></Error>`)
			}))
			defer srv.Close()
			rs := runOn(t, srv.URL)
			c := one(t, rs, "clock", srv.URL)
			want(t, c, tc.want)
			if tc.want != check.Pass && !strings.Contains(c.Fix, "NTP") {
				t.Errorf("clock fix %q does not say NTP", c.Fix)
			}
			if len(results(rs, "clock", "")) != 1 {
				t.Errorf("source and destination share the endpoint: want one clock result")
			}
			s := one(t, rs, "source", "src-bucket")
			want(t, s, check.Fail, "synchronise the clocks")
			if !strings.Contains(s.Error, "RequestTimeTooSkewed") {
				t.Errorf("source error %q, want the server's RequestTimeTooSkewed", s.Error)
			}
		})
	}
}

// TestCheckUnreachable: an endpoint that does not answer is one FAIL
// with the fix, and everything that needed it is skipped, saying so.
func TestCheckUnreachable(t *testing.T) {
	noProfiles(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	rs := runOn(t, url)
	want(t, one(t, rs, "profile", ""), check.Pass)
	s := one(t, rs, "source", "src-bucket")
	want(t, s, check.Fail, "reachable from this machine")
	if !strings.Contains(s.Error, "connection refused") {
		t.Errorf("source error %q, want connection refused", s.Error)
	}
	for _, r := range rs {
		if r.Check == "profile" || r.Check == "source" {
			continue
		}
		if r.Status != check.Skip || !strings.Contains(r.Detail, "needs an answer from") {
			t.Errorf("%s %s: %s %q, want skipped: needs an answer", r.Check, r.Target, r.Status, r.Detail)
		}
	}
}
