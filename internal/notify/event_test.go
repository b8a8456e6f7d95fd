package notify_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ferry-s3/ferry/internal/notify"
)

// docEvent is the event of the example message in S3's user guide
// ("Receiving replication failure events with Amazon S3 Event
// Notifications"), testdata/aws_failed_replication.json.
func docEvent() notify.Event {
	return notify.Event{
		Kind:          notify.FailedReplication,
		Time:          time.Date(2024, 9, 5, 21, 4, 32, 527e6, time.UTC),
		Region:        "us-east-1",
		Bucket:        "amzn-s3-demo-bucket1",
		Key:           "replication-object-put-test.png",
		VersionID:     "abcdeH0Xp66ep__QDjR76LK7Gc9X4wKO",
		ETag:          `"e12345ca7e88a38428305d3ff7fcb99f"`, // as S3's API returns it
		Sequencer:     "0066DA1CBF104C0D51",
		Size:          520080,
		RuleID:        "notification-test-replication-rule",
		DestBucket:    "amzn-s3-demo-bucket2",
		Operation:     notify.OpObjectPut,
		RequestTime:   time.Date(2024, 9, 5, 21, 3, 59, 168e6, time.UTC),
		FailureReason: "AssumeRoleNotPermitted",
		Threshold:     15 * time.Minute, // not part of a failure event
	}
}

func record(t *testing.T, e notify.Event) []byte {
	t.Helper()
	b, err := notify.Record(e)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return b
}

func TestRecordGolden(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "failed_replication.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, record(t, docEvent()), "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	if !bytes.Equal(got.Bytes(), golden) {
		t.Errorf("Record =\n%s\nwant (testdata/failed_replication.golden.json)\n%s", got.Bytes(), golden)
	}
}

// Every field of S3's example is in ferry's record, with the same JSON
// type and, but for the ones S3 fills in about itself, the same value.
func TestRecordMatchesAWSExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "aws_failed_replication.json"))
	if err != nil {
		t.Fatal(err)
	}
	aws, ferry := leaves(t, raw), leaves(t, record(t, docEvent()))
	ownValues := map[string]bool{ // S3's values about S3; ferry writes its own
		"Records[0].userIdentity.principalId":            true,
		"Records[0].requestParameters.sourceIPAddress":   true,
		"Records[0].responseElements.x-amz-request-id":   true,
		"Records[0].responseElements.x-amz-id-2":         true,
		"Records[0].s3.configurationId":                  true,
		"Records[0].s3.bucket.ownerIdentity.principalId": true,
	}
	unknown := "Records[0].s3.bucket.ownerIdentity.principalId" // ferry does not know the owner's account
	for path, want := range aws {
		got, ok := ferry[path]
		switch {
		case path == unknown:
			if ok {
				t.Errorf("%s = %v: ferry cannot know it", path, got)
			}
		case !ok:
			t.Errorf("%s missing from ferry's record", path)
		case reflect.TypeOf(got) != reflect.TypeOf(want):
			t.Errorf("%s is %T, S3's is %T", path, got, want)
		case !ownValues[path] && got != want:
			t.Errorf("%s = %v, S3's example has %v", path, got, want)
		}
	}
	for path := range ferry {
		if _, ok := aws[path]; !ok {
			t.Errorf("ferry's record has %s, S3's example does not", path)
		}
	}
}

// leaves flattens a JSON document into path -> scalar.
func leaves(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	out := map[string]any{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		default:
			out[path] = v
		}
	}
	walk("", v)
	return out
}

// A Lambda function written for S3's replication events, with the AWS
// Lambda Go library's types, reads ferry's records.
func TestRecordReadsAsLambdaS3Event(t *testing.T) {
	e := docEvent()
	e.Key = "reports/2024 Q3/a+b=c ünï.csv"
	var ev events.S3Event
	if err := json.Unmarshal(record(t, e), &ev); err != nil {
		t.Fatalf("events.S3Event: %v", err)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("%d records", len(ev.Records))
	}
	r := ev.Records[0]
	if r.EventVersion != "2.2" || r.EventSource != "aws:s3" || r.AWSRegion != "us-east-1" ||
		r.EventName != "Replication:OperationFailedReplication" || !r.EventTime.Equal(e.Time) {
		t.Errorf("record = %+v", r)
	}
	o := r.S3.Object
	if o.URLDecodedKey != e.Key || o.Key != "reports/2024+Q3/a%2Bb%3Dc+%C3%BCn%C3%AF.csv" {
		t.Errorf("key %q (decoded %q), want %q encoded as S3 does", o.Key, o.URLDecodedKey, e.Key)
	}
	if o.Size != 520080 || o.ETag != "e12345ca7e88a38428305d3ff7fcb99f" || o.VersionID != e.VersionID || o.Sequencer != e.Sequencer {
		t.Errorf("object = %+v", o)
	}
	if r.S3.Bucket.Name != e.Bucket || r.S3.Bucket.Arn != "arn:aws:s3:::amzn-s3-demo-bucket1" {
		t.Errorf("bucket = %+v", r.S3.Bucket)
	}
	d := r.ReplicationEventData
	if d == nil || d.ReplicationRuleID != e.RuleID || d.DestinationBucket != "arn:aws:s3:::amzn-s3-demo-bucket2" ||
		d.S3Operation != "OBJECT_PUT" || !d.RequestTime.Equal(e.RequestTime) || d.FailureReason != "AssumeRoleNotPermitted" {
		t.Errorf("replicationEventData = %+v", d)
	}
	if u, err := url.QueryUnescape(o.Key); err != nil || u != e.Key {
		t.Errorf("QueryUnescape(%q) = %q, %v", o.Key, u, err)
	}
}

// The threshold events carry threshold (and, once replicated,
// replicationTime) in seconds; a failure carries neither.
func TestRecordThresholdEvents(t *testing.T) {
	data := func(e notify.Event) map[string]any {
		var m struct {
			Records []struct {
				EventName   string
				Replication map[string]any `json:"replicationEventData"`
			}
		}
		if err := json.Unmarshal(record(t, e), &m); err != nil {
			t.Fatal(err)
		}
		return m.Records[0].Replication
	}
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}

	e := docEvent()
	e.Kind, e.FailureReason = notify.MissedThreshold, ""
	d := data(e)
	if d["threshold"] != "900" || keys(d) != "destinationBucket,replicationRuleId,requestTime,s3Operation,threshold" {
		t.Errorf("missed threshold: %v", d)
	}

	e.Kind, e.Threshold, e.ReplicationTime = notify.ReplicatedAfterThreshold, 30*time.Second, 912500*time.Millisecond
	d = data(e)
	if d["threshold"] != "30" || d["replicationTime"] != "912.5" || d["failureReason"] != nil {
		t.Errorf("replicated after threshold: %v", d)
	}

	if d := data(docEvent()); d["threshold"] != nil || d["replicationTime"] != nil {
		t.Errorf("failure event has %v", d)
	}

	e = docEvent()
	e.Operation, e.VersionID, e.ETag, e.Size = notify.OpDeleteMarkerPut, "", "", 0
	e.RequestTime = time.Time{}
	var m map[string]any
	json.Unmarshal(record(t, e), &m)
	obj := m["Records"].([]any)[0].(map[string]any)["s3"].(map[string]any)["object"].(map[string]any)
	if keys(obj) != "key,sequencer,size" {
		t.Errorf("unversioned delete marker object = %v, want key, sequencer and size", obj)
	}
	if d := data(e); d["requestTime"] != nil || d["s3Operation"] != "DELETE_MARKER_PUT" {
		t.Errorf("unknown request time: %v", d)
	}
}

// The same event gives the same message, request ID included, so that
// consumers can drop a redelivered one; another event gets another ID.
func TestRecordIDs(t *testing.T) {
	id := func(e notify.Event) string {
		var ev events.S3Event
		if err := json.Unmarshal(record(t, e), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Records[0].ResponseElements["x-amz-request-id"]
	}
	a := id(docEvent())
	if len(a) != 16 || strings.ToUpper(a) != a {
		t.Errorf("x-amz-request-id %q, want 16 upper-case hex digits like S3's", a)
	}
	if b := id(docEvent()); b != a {
		t.Errorf("same event: ids %s and %s", a, b)
	}
	e := docEvent()
	e.Kind, e.FailureReason = notify.MissedThreshold, ""
	if b := id(e); b == a {
		t.Errorf("different events share id %s", a)
	}
}

func TestRecordRequiredFields(t *testing.T) {
	for name, clear := range map[string]func(*notify.Event){
		"kind":        func(e *notify.Event) { e.Kind = "" },
		"time":        func(e *notify.Event) { e.Time = time.Time{} },
		"bucket":      func(e *notify.Event) { e.Bucket = "" },
		"key":         func(e *notify.Event) { e.Key = "" },
		"destination": func(e *notify.Event) { e.DestBucket = "" },
	} {
		e := docEvent()
		clear(&e)
		if _, err := notify.Record(e); err == nil || !strings.Contains(err.Error(), "required") {
			t.Errorf("without %s: %v, want an error", name, err)
		}
	}
}
