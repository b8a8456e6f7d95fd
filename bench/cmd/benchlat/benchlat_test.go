package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]float64{50: 5, 95: 10, 99: 10, 10: 1, 11: 2, 100: 10, 0.1: 1} {
		if got := percentile(s, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	if got := percentile(hundred, 99); got != 99 {
		t.Errorf("p99 of 1..100 = %v, want 99", got)
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("p50 of nothing = %v, want NaN", got)
	}
}

func TestTracker(t *testing.T) {
	tr := newTracker("lat/", 5)
	if k := tr.key(3); k != "lat/000003" {
		t.Fatalf("key(3) = %q", k)
	}
	for _, bad := range []string{"lat/5", "lat/000005", "other/000001", "lat/00000x", "lat/0000001", "lat/-00001"} {
		if _, ok := tr.index(bad); ok {
			t.Errorf("index(%q) accepted", bad)
		}
	}
	now := time.Now()
	if sa := tr.startAfter(); sa != "" {
		t.Errorf("startAfter before anything = %q", sa)
	}
	if !tr.markSeen("lat/000001", now) || tr.markSeen("lat/000001", now.Add(time.Second)) {
		t.Error("markSeen: first sighting not new, or second one new")
	}
	if sa := tr.startAfter(); sa != "" {
		t.Errorf("startAfter with object 0 unseen = %q, want the beginning", sa)
	}
	tr.markSeen("lat/000000", now)
	if sa := tr.startAfter(); sa != "lat/000001" {
		t.Errorf("startAfter = %q, want lat/000001 (0 and 1 seen)", sa)
	}
	// A failed PUT never arrives: it must not hold the LISTs back.
	tr.markPut(2, now, true)
	if sa := tr.startAfter(); sa != "lat/000002" {
		t.Errorf("startAfter = %q, want lat/000002 (object 2's PUT failed)", sa)
	}
	if tr.allSeen(5) || !tr.allSeen(3) {
		t.Error("allSeen wrong")
	}
	tr.markSeen("lat/000004", now)
	tr.markSeen("lat/000003", now)
	if !tr.allSeen(5) || tr.startAfter() != "lat/000004" {
		t.Errorf("after all: allSeen %v, startAfter %q", tr.allSeen(5), tr.startAfter())
	}
	if s := tr.snapshot(); s[1].seen != now {
		t.Error("the first sighting's time was overwritten")
	}
}

// result builds a result from (put, seen) offsets in ms; -1 is never.
func resultOf(base time.Time, pairs [][2]float64) *result {
	at := func(v float64) time.Time {
		if v < 0 {
			return time.Time{}
		}
		return base.Add(time.Duration(v * float64(time.Millisecond)))
	}
	r := &result{mode: "watch", giveUp: base.Add(10 * time.Second), poll: 20 * time.Millisecond}
	for _, p := range pairs {
		s := sample{put: at(p[0]), seen: at(p[1])}
		if p[0] == -2 {
			s = sample{putErr: true, put: base, seen: base}
		}
		r.samples = append(r.samples, s)
	}
	return r
}

func TestLatencies(t *testing.T) {
	base := time.Now()
	r := resultOf(base, [][2]float64{{0, 10}, {10, 30}, {20, 15}, {30, -1}, {-2, 0}})
	lat, missing, early := r.latencies()
	want := []float64{10, 20, -5, 9970} // the missing one counts as the wait: giveUp - put
	if len(lat) != len(want) || missing != 1 || early != 1 {
		t.Fatalf("latencies = %v, missing %d, early %d", lat, missing, early)
	}
	for i := range want {
		if math.Abs(lat[i]-want[i]) > 1e-6 {
			t.Errorf("latency %d = %v, want %v", i, lat[i], want[i])
		}
	}

	o := options{caseName: "latency", title: "T", tool: "ferry", runNo: 2, note: "webhook", wait: time.Minute}
	lines := r.lines(o)
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, m := range []string{"p50 ms", "p95 ms", "p99 ms"} {
		l := lines[i]
		if l.Metric != m || l.HigherBetter || l.Run != 2 || l.Tool != "ferry" || l.Case != "latency" || l.Title != "T" {
			t.Errorf("line %d = %+v", i, l)
		}
		if !strings.HasPrefix(l.Note, "webhook; run 2: 1 of 4 objects had not arrived") || !strings.Contains(l.Note, "1 PUTs failed") {
			t.Errorf("note = %q", l.Note)
		}
	}
	if lines[2].Value != 9970 || lines[0].Value != 10 {
		t.Errorf("p50 %v p99 %v, want 10 and 9970", lines[0].Value, lines[2].Value)
	}
	// The format benchreport reads: these fields and no others.
	b, _ := json.Marshal(lines[0])
	var m map[string]any
	json.Unmarshal(b, &m)
	for k := range m {
		switch k {
		case "case", "title", "tool", "run", "metric", "value", "higher_better", "note":
		default:
			t.Errorf("field %q is not in benchreport's input format", k)
		}
	}
	if hb, ok := m["higher_better"]; !ok || hb != false {
		t.Errorf("higher_better = %v, want false, always written", hb)
	}

	clean := resultOf(base, [][2]float64{{0, 10}})
	if n := clean.lines(o)[0].Note; n != "webhook" {
		t.Errorf("note of a clean run = %q, want the caller's only", n)
	}
}

func TestStages(t *testing.T) {
	base := time.Now()
	ms := func(v float64) time.Time { return base.Add(time.Duration(v * float64(time.Millisecond))) }
	r := &result{samples: []sample{
		{put: ms(0), hook: ms(2), acked: ms(7), seen: ms(40)},
		{put: ms(10), hook: ms(11), acked: ms(20), seen: ms(60)},
		{put: ms(20), seen: ms(50)}, // no relay times: left out
	}}
	st := r.stages()
	if st["put_to_event"].N != 2 || st["put_to_event"].P99 != 2 || st["event_to_queued"].P50 != 5 || st["queued_to_seen"].P99 != 40 {
		t.Errorf("stages = %+v", st)
	}
	if (&result{samples: []sample{{put: ms(0), seen: ms(1)}}}).stages() != nil {
		t.Error("stages without a relay")
	}
}

func TestHookReceiver(t *testing.T) {
	tr := newTracker("lat/", 3)
	var keys []string
	h := &hookServer{token: "s3cret", bucket: "src", tr: tr, onKey: func(k string) { keys = append(keys, k) }}
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/events", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("wrong", minioEvent("src", "lat/000001")); c != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", c)
	}
	if c := post("s3cret", minioEvent("src", "lat/000001")); c != http.StatusOK {
		t.Errorf("event: %d", c)
	}
	post("s3cret", minioEvent("other", "lat/000002"))
	post("s3cret", minioEvent("src", "lat.warmup"))
	s := tr.snapshot()
	if s[1].seen.IsZero() || !s[2].seen.IsZero() {
		t.Errorf("seen: %+v", s)
	}
	if strings.Join(keys, ",") != "lat/000001,lat.warmup" {
		t.Errorf("keys = %q", keys)
	}
	if resp, err := http.Head(srv.URL + "/events"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a probe is answered %v %v", resp, err)
	}
}

func TestRelay(t *testing.T) {
	var gotAuth string
	var gotBody []byte
	status := http.StatusOK
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		gotBody, _ = io.ReadAll(r.Body)
		time.Sleep(5 * time.Millisecond) // the fsync
		w.WriteHeader(status)
		io.WriteString(w, `{"queued":1}`)
	}))
	defer recv.Close()
	tr := newTracker("lat/", 3)
	relay := httptest.NewServer(&hookServer{forward: recv.URL, bucket: "src", tr: tr})
	defer relay.Close()

	send := func(key string) (int, string) {
		body := minioEvent("src", key)
		req, _ := http.NewRequest(http.MethodPost, relay.URL, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !bytes.Equal(gotBody, []byte(body)) {
			t.Errorf("the receiver got %q, want the post as sent", gotBody)
		}
		return resp.StatusCode, string(b)
	}
	if c, b := send("lat/000000"); c != http.StatusOK || b != `{"queued":1}` || gotAuth != "Bearer tok" {
		t.Errorf("relayed: %d %q, receiver saw Authorization %q", c, b, gotAuth)
	}
	status = http.StatusServiceUnavailable
	if c, _ := send("lat/000001"); c != http.StatusServiceUnavailable {
		t.Errorf("the receiver's 503 came back as %d", c)
	}
	s := tr.snapshot()
	if s[0].hook.IsZero() || s[0].acked.Sub(s[0].hook) < 5*time.Millisecond || !s[0].seen.IsZero() {
		t.Errorf("object 0: %+v (want hook, acked 5 ms later, not seen)", s[0])
	}
	if s[1].hook.IsZero() || !s[1].acked.IsZero() {
		t.Errorf("object 1: %+v (want hook, no ack: the receiver refused)", s[1])
	}
}

// minioEvent is a MinIO webhook post for one PUT.
func minioEvent(bucket, key string) string {
	return `{"EventName":"s3:ObjectCreated:Put","Key":"` + bucket + `/` + key + `","Records":[{"eventVersion":"2.0",
		"eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-22T04:00:00.000Z","eventName":"s3:ObjectCreated:Put",
		"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"` + bucket + `","arn":"arn:aws:s3:::` + bucket + `"},
		"object":{"key":"` + strings.ReplaceAll(key, "/", "%2F") + `","size":4096,"eTag":"abc","sequencer":"1873D1B6D4C58D35"}}}]}`
}

func TestFlags(t *testing.T) {
	ok := []string{"-tool", "t", "-src", "a/x", "-dst", "b/y"}
	o, err := parseFlags(append(ok, "-rate", "50", "-duration", "2s"), io.Discard)
	if err != nil || o.n != 100 || !strings.HasPrefix(o.prefix, "lat-1-") || !strings.HasSuffix(o.prefix, "/") {
		t.Errorf("parse: %+v, %v", o, err)
	}
	if o, _ := parseFlags(append(ok, "-n", "7", "-prefix", "p"), io.Discard); o.n != 7 || o.prefix != "p/" {
		t.Errorf("-n 7 -prefix p: n %d prefix %q", o.n, o.prefix)
	}
	for _, bad := range [][]string{
		{"-src", "a/x", "-dst", "b/y"},
		{"-tool", "t", "-dst", "b/y"},
		{"-tool", "t", "-src", "a/x"},
		{"-tool", "t", "-src", "a/x", "-mode", "hook"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "-mode", "copy"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "-forward", "http://x"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "-mode", "direct", "-listen", ":1"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "-rate", "0"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "-duration", "1ms", "-rate", "1"},
		{"-tool", "t", "-src", "a/x", "-dst", "b/y", "extra"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
