package page

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve sends one request to a Handler over b and returns the response
// with its body read.
func serve(t *testing.T, b Backend, req *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(b, nil).ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestPageRendersDashboard(t *testing.T) {
	snap := sampleSnapshot(time.Now())
	resp, body := serve(t, &fakeBackend{snap: snap}, httptest.NewRequest("GET", "/", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	for _, want := range []string{
		`id="rules"`, `id="failures"`, `id="latency-chart"`, `id="retry-result" role="status"`,
		`id="retry-all"`, "<svg", "s3://media-prod", "s3://media-archive-eu",
		"1,234",                     // pending
		`id="oldest-pending">4m5s<`, // oldest pending age
		"11 / 16",                   // workers
		"48.5 MiB/s",                // throughput
		"3.0 GiB",                   // a rule's pending bytes
		"1,482,113",                 // completed
		"DstKmsKeyNotFound", "DstPutObjectNotPermitted", "SrcGetObjectNotPermitted",
		"12m ago", "2h3m ago",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="failure">`); n != 3 {
		t.Errorf("%d failure rows, want 3", n)
	}
	if n := strings.Count(body, `<tr class="rule">`); n != 3 {
		t.Errorf("%d rule rows, want 3", n)
	}
	// Per-rule retry only where something failed: both "uploads" rows.
	if n := strings.Count(body, `class="retry-rule"`); n != 2 {
		t.Errorf("%d per-rule Retry buttons, want 2", n)
	}
	if strings.Contains(body, "no replication in the last hour") {
		t.Error("chart shows the empty state despite latency data")
	}
	// Both lines are drawn, and the quiet spell splits them.
	for _, class := range []string{`class="series p50"`, `class="series p99"`} {
		i := strings.Index(body, class)
		if i < 0 {
			t.Fatalf("chart lacks %s", class)
		}
		path := body[i:]
		path = path[strings.Index(path, `d="`)+3:]
		path = path[:strings.Index(path, `"`)]
		if n := strings.Count(path, "M"); n != 2 {
			t.Errorf("%s path has %d segments, want 2 (a gap for the quiet minutes): %.80s", class, n, path)
		}
	}
}

// TestPageCSPAllowsOwnScript checks that the Content-Security-Policy holds
// the hashes of the script and style the page actually contains: were they
// to differ, browsers would silently run an inert, unstyled page.
func TestPageCSPAllowsOwnScript(t *testing.T) {
	resp, body := serve(t, &fakeBackend{snap: sampleSnapshot(time.Now())}, httptest.NewRequest("GET", "/", nil))
	csp := resp.Header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Fatalf("%d inline <%s> elements, want 1", len(m), tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
}

func TestPageEscapesKeys(t *testing.T) {
	_, body := serve(t, &fakeBackend{snap: sampleSnapshot(time.Now())}, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(body, "<script>alert") {
		t.Fatal("the key's <script> reached the page as markup")
	}
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the page's own", n)
	}
	// As text in the cell, and as the value of the Retry form's field
	// (html/template escapes as html.EscapeString does).
	esc := html.EscapeString(nastyKey)
	if !strings.Contains(body, `<div class="key">`+esc+`</div>`) {
		t.Errorf("page lacks the key as escaped text %s", esc)
	}
	if !strings.Contains(body, `name="key" value="`+esc+`"`) {
		t.Errorf("the Retry form's key field is not the escaped key %s", esc)
	}
}

func TestPageStatusJSON(t *testing.T) {
	snap := sampleSnapshot(time.Now())
	resp, body := serve(t, &fakeBackend{snap: snap}, httptest.NewRequest("GET", "/api/status", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/status = %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got Snapshot
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, snap) {
		t.Errorf("JSON does not round-trip:\n got %+v\nwant %+v", got, snap)
	}

	// The names scripts see.
	var raw struct {
		Generated string `json:"generated"`
		Source    string `json:"source"`
		Queue     map[string]any
		Rules     []map[string]any
		Latency   []map[string]any
		Failures  []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Source != "s3://media-prod" || raw.Generated != snap.Generated.Format(time.RFC3339) {
		t.Errorf("source, generated = %q, %q", raw.Source, raw.Generated)
	}
	checkKeys(t, "queue", raw.Queue, "pending", "running", "failed", "oldest_pending")
	checkKeys(t, "rules[0]", raw.Rules[0], "id", "destination", "prefix", "threshold_ns", "pending", "pending_bytes",
		"failed", "completed", "missed_threshold", "p50_ns", "p99_ns")
	checkKeys(t, "latency[0]", raw.Latency[0], "time", "count", "p50_ns", "p95_ns", "p99_ns")
	checkKeys(t, "failures[0]", raw.Failures[0], "key", "version_id", "rule", "destination", "reason", "detail",
		"fix", "attempts", "since")
	if v := raw.Rules[0]["threshold_ns"]; v != float64(15*time.Minute) {
		t.Errorf("rules[0].threshold_ns = %v, want %d", v, 15*time.Minute)
	}
	if raw.Failures[1]["key"] != nastyKey {
		t.Errorf("failures[1].key = %q, want %q", raw.Failures[1]["key"], nastyKey)
	}
}

func checkKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no %q: %v", what, k, obj)
		}
	}
	if len(obj) != len(keys) {
		t.Errorf("%s has %d fields, want %d: %v", what, len(obj), len(keys), obj)
	}
}

// When the daemon lists only the most recent failures, the page says so.
func TestPageMoreFailedThanListed(t *testing.T) {
	snap := sampleSnapshot(time.Now())
	snap.Queue.Failed = 1250
	_, body := serve(t, &fakeBackend{snap: snap}, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(body, "the 3 most recent of 1,250") {
		t.Error("page does not say that it lists 3 of 1,250 failures")
	}
}

// An idle daemon: lists are [] rather than null, no oldest_pending, and
// the page shows empty states.
func TestPageIdle(t *testing.T) {
	b := &fakeBackend{snap: Snapshot{Generated: time.Now(), Source: "s3://quiet", Workers: 4}}
	_, body := serve(t, b, httptest.NewRequest("GET", "/api/status", nil))
	for _, want := range []string{`"rules":[]`, `"latency":[]`, `"failures":[]`, `"queue":{"pending":0,"running":0,"failed":0}`} {
		if !strings.Contains(body, want) {
			t.Errorf("status JSON lacks %s:\n%s", want, body)
		}
	}
	resp, body := serve(t, b, httptest.NewRequest("GET", "/", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for _, want := range []string{"no replication in the last hour", "no failed operations", "no rules"} {
		if !strings.Contains(body, want) {
			t.Errorf("idle page lacks %q", want)
		}
	}
	for _, unwanted := range []string{`id="retry-all"`, "<svg", `class="failure"`} {
		if strings.Contains(body, unwanted) {
			t.Errorf("idle page has %s", unwanted)
		}
	}
}

func TestPageBackendError(t *testing.T) {
	b := &fakeBackend{err: errors.New("queue: database is locked")}

	resp, body := serve(t, b, httptest.NewRequest("GET", "/", nil))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("GET / = %d, want 500", resp.StatusCode)
	}
	if !strings.Contains(body, `id="error" role="alert"`) || !strings.Contains(body, "queue: database is locked") {
		t.Errorf("page has no error banner with the message:\n%s", body)
	}
	if !strings.Contains(body, "<script>") {
		t.Error("error page has no script: it would not refresh and recover")
	}

	resp, body = serve(t, b, httptest.NewRequest("GET", "/api/status", nil))
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, `{"error":"queue: database is locked"}`) {
		t.Errorf("GET /api/status = %d %s, want 500 with the message", resp.StatusCode, body)
	}
	resp, body = serve(t, b, httptest.NewRequest("POST", "/api/retry", nil))
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "queue: database is locked") {
		t.Errorf("POST /api/retry = %d %s, want 500 with the message", resp.StatusCode, body)
	}
}

func TestPageRetryFilter(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name        string
		target      string
		contentType string
		body        string
		want        Filter
		requeued    int
	}{
		{name: "nothing: every failed", target: "/api/retry", want: Filter{}, requeued: 3},
		{name: "form key and rule", target: "/api/retry", contentType: form,
			body: "key=" + url.QueryEscape(nastyKey) + "&rule=uploads", want: Filter{Key: nastyKey, Rule: "uploads"}, requeued: 1},
		{name: "form rule", target: "/api/retry", contentType: form, body: "rule=uploads", want: Filter{Rule: "uploads"}, requeued: 3},
		{name: "query prefix", target: "/api/retry?prefix=uploads/avatars/", want: Filter{Prefix: "uploads/avatars/"}, requeued: 1},
		{name: "JSON", target: "/api/retry", contentType: "application/json; charset=utf-8",
			body: `{"rule":"uploads","key":"uploads/2026/05/invoice-0042.pdf"}`,
			want: Filter{Rule: "uploads", Key: "uploads/2026/05/invoice-0042.pdf"}, requeued: 1},
		{name: "JSON matching nothing", target: "/api/retry", contentType: "application/json",
			body: `{"prefix":"nope/"}`, want: Filter{Prefix: "nope/"}, requeued: 0},
		{name: "multipart", target: "/api/retry", contentType: "multipart/form-data; boundary=XX",
			body: "--XX\r\nContent-Disposition: form-data; name=\"rule\"\r\n\r\nimages\r\n--XX--\r\n", want: Filter{Rule: "images"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{snap: sampleSnapshot(time.Now())}
			req := httptest.NewRequest("POST", tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, body := serve(t, b, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var got struct{ Requeued *int }
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Requeued == nil {
				t.Fatalf("body %q: want {\"requeued\": n} (%v)", body, err)
			}
			if *got.Requeued != tc.requeued {
				t.Errorf("requeued %d, want %d", *got.Requeued, tc.requeued)
			}
			if fs := b.filters(); len(fs) != 1 || fs[0] != tc.want {
				t.Errorf("backend got %#v, want one %#v", fs, tc.want)
			}
		})
	}
}

// Mistakes in a retry request are refused rather than read as "retry
// everything".
func TestPageRetryBadRequest(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, contentType, body, wantErr string
		status                           int
	}{
		{"misspelt form field", form, "rul=images", `unknown field "rul"`, 400},
		{"repeated form field", form, "key=a&key=b", `field "key" given 2 times`, 400},
		{"misspelt JSON field", "application/json", `{"keys":"a"}`, `unknown field "keys"`, 400},
		{"broken JSON", "application/json", `{"key":`, "decode JSON body", 400},
		{"two JSON values", "application/json", `{"key":"a"} {"key":"b"}`, "more than one value", 400},
		{"JSON of the wrong type", "application/json", `{"key":7}`, "decode JSON body", 400},
		{"huge body", form, "key=" + strings.Repeat("a", maxRetryBody), "parse form", 400},
		{"plain text", "text/plain", "rule=images", "send the fields as a form", 415},
		{"body without a type", "", "rule=images", "send the fields as a form", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{snap: sampleSnapshot(time.Now())}
			req := httptest.NewRequest("POST", "/api/retry", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, body := serve(t, b, req)
			var e struct{ Error string }
			json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != tc.status || !strings.Contains(e.Error, tc.wantErr) {
				t.Errorf("= %d %s, want %d with %q", resp.StatusCode, body, tc.status, tc.wantErr)
			}
			if fs := b.filters(); len(fs) != 0 {
				t.Errorf("backend was asked to retry %v", fs)
			}
		})
	}
}

func TestPageRetryCrossOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"curl: no Origin, no Sec-Fetch-Site", nil, http.StatusOK},
		{"same origin", map[string]string{"Origin": "http://ferry.internal:8080", "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"same origin, old browser", map[string]string{"Origin": "http://ferry.internal:8080"}, http.StatusOK},
		{"other site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other site, old browser", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"other port on the same host", map[string]string{"Origin": "http://ferry.internal:9999", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"opaque origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site, Origin stripped", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{snap: sampleSnapshot(time.Now())}
			req := httptest.NewRequest("POST", "http://ferry.internal:8080/api/retry", strings.NewReader("rule=uploads"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, body := serve(t, b, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("= %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want == http.StatusForbidden {
				if !strings.Contains(body, "cross-origin retry refused") {
					t.Errorf("403 body %q does not say why", body)
				}
				if fs := b.filters(); len(fs) != 0 {
					t.Errorf("backend was asked to retry %v", fs)
				}
			}
		})
	}
}

func TestPageMethodsAndPaths(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/api/retry", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/api/status", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/api/retry", http.StatusMethodNotAllowed, "POST"},
		{"HEAD", "/", http.StatusOK, ""},
		{"GET", "/api/status/", http.StatusNotFound, ""},
		{"GET", "/index.html", http.StatusNotFound, ""},
	} {
		b := &fakeBackend{snap: sampleSnapshot(time.Now())}
		resp, _ := serve(t, b, httptest.NewRequest(tc.method, tc.path, nil))
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if fs := b.filters(); len(fs) != 0 {
			t.Errorf("%s %s retried %v", tc.method, tc.path, fs)
		}
	}
}

// The page's links are relative, so it works under a prefix.
func TestPageUnderPrefix(t *testing.T) {
	b := &fakeBackend{snap: sampleSnapshot(time.Now())}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", Handler(b, nil)))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/status/api/retry", strings.NewReader("")))
	if rec.Code != http.StatusOK || len(b.filters()) != 1 {
		t.Errorf("POST /status/api/retry = %d %s", rec.Code, rec.Body)
	}
	_, body := serve(t, b, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(body, `action="/`) || strings.Contains(body, `"/api/`) {
		t.Error("page uses an absolute path to its API")
	}
}
