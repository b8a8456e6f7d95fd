package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/worker"
)

// Each line must be a valid EMF document: the directive's metrics and
// dimensions name members of the line, with the values CloudWatch records.
func TestEMF(t *testing.T) {
	a := worker.Target{Rule: "to-dr", Dest: "dr"}
	b := worker.Target{Rule: "to-eu", Dest: "eu"}
	var buf bytes.Buffer
	at := time.UnixMilli(1763800000123)
	err := EMF(&buf, at, []Observation{
		{Target: b, Bytes: 10, Latency: 1500 * time.Millisecond, Missed: true},
		{Target: a, Bytes: 100, Latency: 250 * time.Millisecond},
		{Target: a, Bytes: 50}, // already in sync: no latency
		{Target: a, Failed: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("want one line per rule and destination, got %d", len(lines))
	}
	first := lines[0]
	if first["Rule"] != "to-dr" || first["Destination"] != "dr" {
		t.Fatalf("lines not in rule order: %v", first)
	}
	want := map[string]any{"OperationsCompleted": 2.0, "OperationsFailedReplication": 1.0, "OperationsMissedThreshold": 0.0,
		"BytesReplicated": 150.0, "ReplicationLatency": []any{250.0}}
	for k, v := range want {
		got, _ := json.Marshal(first[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	if lines[1]["OperationsMissedThreshold"] != 1.0 {
		t.Errorf("missed threshold not counted: %v", lines[1])
	}
	aws := first["_aws"].(map[string]any)
	if aws["Timestamp"] != float64(at.UnixMilli()) {
		t.Errorf("Timestamp %v", aws["Timestamp"])
	}
	d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if d["Namespace"] != Namespace {
		t.Errorf("namespace %v", d["Namespace"])
	}
	for _, dim := range d["Dimensions"].([]any)[0].([]any) {
		if _, ok := first[dim.(string)]; !ok {
			t.Errorf("dimension %v is not a member of the line", dim)
		}
	}
	for _, m := range d["Metrics"].([]any) {
		name := m.(map[string]any)["Name"].(string)
		if _, ok := first[name]; !ok {
			t.Errorf("metric %s is not a member of the line", name)
		}
	}
}
