package event

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParse: no input makes Parse panic, and what it accepts is sane and
// survives a round trip. Seeds: every testdata/*.json (AWS, MinIO, Ceph,
// versitygw, EventBridge, SNS, and the malformed ones) and the committed
// corpus in testdata/fuzz/FuzzParse.
//
// Properties of an accepted message:
//   - an error comes without events; at most maxRecords events;
//   - each event has a bucket and a key, a Kind its Name implies, a Name
//     without the "s3:" prefix, a non-negative size, an ETag without
//     quotes and never the version id "null";
//   - Parse is deterministic;
//   - the events written back as AWS S3 Records (keys form-encoded as S3
//     sends them) parse to the same events, and so does that document in
//     an SNS envelope: nothing the parser keeps is lost or altered by the
//     encoding it undoes;
//   - After is a strict order: never e.After(e), never both ways.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		f.Add(readTestdata(f, filepath.Base(name)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := Parse(body)
		if err != nil {
			if events != nil {
				t.Fatalf("events %+v returned with error %v", events, err)
			}
			if !strings.HasPrefix(err.Error(), "event: ") {
				t.Fatalf("error %q does not say it is about the event", err)
			}
			return
		}
		if len(events) > maxRecords {
			t.Fatalf("%d events, more than the limit", len(events))
		}
		for i, e := range events {
			checkEvent(t, i, e)
		}
		again, err := Parse(body)
		if err != nil || !sameEvents(events, again) {
			t.Fatalf("second Parse differs: %+v, %v; first %+v", again, err, events)
		}
		if len(events) == 0 {
			return
		}
		doc, err := Encode(events)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(doc)
		if err != nil || !sameEvents(events, back) {
			t.Fatalf("round trip through S3 Records:\n got %+v, %v\nwant %+v\ndoc %s", back, err, events, doc)
		}
		sns, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": string(doc)})
		back, err = Parse(sns)
		if err != nil || !sameEvents(events, back) {
			t.Fatalf("round trip through SNS:\n got %+v, %v\nwant %+v", back, err, events)
		}
		for i := range events {
			a, b := events[i], events[(i+1)%len(events)]
			if a.After(a) {
				t.Fatalf("event %d is after itself: %+v", i, a)
			}
			if a.After(b) && b.After(a) {
				t.Fatalf("events %+v and %+v are each after the other", a, b)
			}
		}
	})
}

func checkEvent(t *testing.T, i int, e Event) {
	t.Helper()
	switch {
	case e.Bucket == "" || e.Key == "":
		t.Fatalf("event %d without bucket or key: %+v", i, e)
	case e.Kind < Put || e.Kind > Delete:
		t.Fatalf("event %d with kind %v: %+v", i, e.Kind, e)
	case kindOf(e.Name) != e.Kind:
		t.Fatalf("event %d: name %q is a %v, but Kind is %v", i, e.Name, kindOf(e.Name), e.Kind)
	case strings.HasPrefix(e.Name, "s3:"):
		t.Fatalf("event %d: name %q keeps the s3: prefix", i, e.Name)
	case e.Size < 0:
		t.Fatalf("event %d: negative size %d", i, e.Size)
	case strings.HasPrefix(e.ETag, `"`) || strings.HasSuffix(e.ETag, `"`):
		t.Fatalf("event %d: ETag %q keeps its quotes", i, e.ETag)
	case e.VersionID == "null":
		t.Fatalf("event %d: version id \"null\" means none", i)
	}
}

// sameEvents compares events field by field, times by instant (a time
// zone offset written back may be spelled differently).
func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) {
			return false
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
