package event

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// awsPut is testdata/aws_put.json, also wrapped in SNS in sns_put.json.
var awsPut = Event{
	Name: "ObjectCreated:Put", Kind: Put, Region: "ap-northeast-2",
	Bucket: "sre-bucket-source", Key: "prefix/a b+cé.txt",
	VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko", Size: 1024,
	ETag: "d41d8cd98f00b204e9800998ecf8427e", Sequencer: "0055AED6DCD90281E5",
	Time: at("2024-03-05T07:21:44.912Z"),
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want []Event
	}{
		{"aws_put.json", []Event{awsPut}},
		{"sns_put.json", []Event{awsPut}},
		{"aws_multi.json", []Event{ // ObjectTagging:Put and LifecycleExpiration skipped
			{
				Name: "ObjectCreated:CompleteMultipartUpload", Kind: Put, Region: "us-west-2",
				Bucket: "artifacts", Key: "build/app.zip", VersionID: "uhggCJ2_B6gU2JaXWXebnXFDstO0ID6G",
				Size: 198524144, ETag: "4af981f98d22a0b9979da24b259e5e42-12", Sequencer: "0064D3901D00059242",
				Time: at("2024-03-05T07:21:44.912Z"),
			},
			{
				Name: "ObjectRemoved:DeleteMarkerCreated", Kind: DeleteMarker, Region: "us-west-2",
				Bucket: "artifacts", Key: "build/old.zip", VersionID: "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
				Sequencer: "0064D3920B1B4C0F35", Time: at("2024-03-05T07:30:00Z"),
			},
			{
				Name: "ObjectRemoved:Delete", Kind: Delete, Region: "us-west-2",
				Bucket: "artifacts", Key: "tmp/scratch.txt", // versionId "null"
				Sequencer: "0064D3925C4A81D2D1", Time: at("2024-03-05T07:31:00.5Z"),
			},
		}},
		{"minio_webhook.json", []Event{{
			Name: "ObjectCreated:Put", Kind: Put, Region: "",
			Bucket: "images", Key: "photos/2024/cat 1+2.jpg", VersionID: "4f6c3b1e-6a8e-4c0e-9d7a-2a1b0c9e8f7d",
			Size: 629648, ETag: "b7ce786cd89b182bfd5ae765557bbc37", Sequencer: "17D7E1F0B3A2C4D5",
			Time: at("2024-06-11T09:15:27.395Z"),
		}}},
		{"minio_delete_marker.json", []Event{{
			Name: "ObjectRemoved:DeleteMarkerCreated", Kind: DeleteMarker, Region: "us-east-1",
			Bucket: "images", Key: "photos/2024/cat.jpg", VersionID: "9b2d1c3e-0f4a-4b5c-8d6e-7f8091a2b3c4",
			Sequencer: "17D7E1F8D0C1B2A3", Time: at("2024-06-11T09:16:02.004Z"),
		}}},
		{"minio_noop.json", nil},
		{"ceph.json", []Event{ // raw keys, size as a string, no sequencer; lifecycle skipped
			{
				Name: "ObjectCreated:Put", Kind: Put, Region: "zonegroup1",
				Bucket: "mybucket1", Key: "recordings/c++ 100%.mp4",
				Size: 1024, ETag: "37b51d194a7513e45b56f6524f2d51f2",
				Time: at("2019-11-22T13:47:35.124724Z"),
			},
			{
				Name: "ObjectRemoved:DeleteMarkerCreated", Kind: DeleteMarker, Region: "zonegroup1",
				Bucket: "mybucket1", Key: "recordings/old.mp4", VersionID: "Q3Hn6yXbBbgIS7bH2Q0kqmBJHnOf7gQ",
				Time: at("2019-11-22T13:48:01.000311Z"),
			},
		}},
		{"versitygw.json", []Event{
			{
				Name: "ObjectCreated:Put", Kind: Put, Region: "us-east-1",
				Bucket: "backup", Key: "dir/my file.txt", Size: 5,
				ETag: "5d41402abc4b2a76b9719d911017c592", Sequencer: "1F",
				Time: at("2024-05-01T10:00:00Z"),
			},
			{
				Name: "ObjectRemoved:DeleteObjects", Kind: Delete, Region: "us-east-1",
				Bucket: "backup", Key: "dir/old.txt", Sequencer: "20",
				Time: at("2024-05-01T10:00:03Z"),
			},
		}},
		{"eventbridge_created.json", []Event{{
			Name: "ObjectCreated:CompleteMultipartUpload", Kind: Put, Region: "eu-west-1",
			Bucket: "magic-star-in", Key: "raw/health-check/2023-08-08T14:03:40.532432 a+b.zip", // verbatim
			VersionID: "uhggCJ2_B6gU2JaXWXebnXFDstO0ID6G", Size: 198524144,
			ETag: "4af981f98d22a0b9979da24b259e5e42-12", Sequencer: "0064D3901D00059242",
			Time: at("2023-08-09T13:09:50Z"),
		}}},
		{"eventbridge_delete_marker.json", []Event{{
			Name: "ObjectRemoved:DeleteMarkerCreated", Kind: DeleteMarker, Region: "ca-central-1",
			Bucket: "amzn-s3-demo-bucket1", Key: "example-key", VersionID: "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
			ETag: "d41d8cd98f00b204e9800998ecf8427e", Sequencer: "617f0837b476e463",
			Time: at("2021-11-12T00:00:00Z"),
		}}},
		{"eventbridge_deleted.json", []Event{{
			Name: "ObjectRemoved:Delete", Kind: Delete, Region: "ca-central-1",
			Bucket: "amzn-s3-demo-bucket1", Key: "example-key", VersionID: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
			Sequencer: "617f0837c8a1b2c3", Time: at("2021-11-12T00:00:01Z"),
		}}},
		{"eventbridge_lifecycle.json", nil},
		{"test_event.json", nil},
		{"sns_test_event.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				// Time is compared as an instant: the sender's zone is not a fact.
				if !g.Time.Equal(w.Time) {
					t.Errorf("event %d: Time = %v, want %v", i, g.Time, w.Time)
				}
				g.Time, w.Time = time.Time{}, time.Time{}
				if g != w {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"bad_truncated.json", "event: unexpected end of JSON input"},
		{"bad_missing_key.json", "event: record 2: missing s3.object.key"},
		{"bad_missing_bucket.json", "event: record 0: missing s3.bucket.name"},
		{"bad_key_escape.json", `event: record 1: s3.object.key: invalid URL escape "%zz"`},
		{"bad_time.json", `event: record 0: invalid event time "yesterday"`},
		{"bad_size.json", `event: record 0: invalid object size "-1"`},
		{"bad_no_event_name.json", "event: record 0: missing eventName"},
		{"bad_records_object.json", "event: Records is not an array"},
		{"bad_unknown_shape.json", "event: unknown document shape"},
		{"bad_sqs_lambda.json", `event: record 0: eventSource "aws:sqs" is not S3`},
		{"bad_eventbridge_no_key.json", "event: missing detail.object.key"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(readTestdata(t, tt.file))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if got != nil {
				t.Errorf("events = %+v, want none with an error", got)
			}
		})
	}
}

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name, body, err string
		n               int
	}{
		{"empty", ``, "event: unexpected end of JSON input", 0},
		{"null", `null`, "event: unknown document shape", 0},
		{"array", `[]`, "event: json: cannot unmarshal array", 0},
		{"no records", `{"Records":[]}`, "", 0},
		{"records null", `{"Records":null}`, "event: Records is not an array", 0},
		{"record not an object", `{"Records":[7]}`, "event: record 0: json: cannot unmarshal number", 0},
		{"key not a string", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":1}}}]}`,
			"event: record 0: json: cannot unmarshal number", 0},
		{"sns message not a string", `{"Type":"Notification","Message":{}}`, "event: json: cannot unmarshal object", 0},
		{"sns nested too deep", sns(sns(sns(`{"Records":[]}`))), "event: SNS envelopes nested too deeply", 0},
		{"sns nested", sns(sns(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`)), "", 1},
		{"eventbridge tags", `{"source":"aws.s3","detail-type":"Object Tags Added","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, "", 0},
		{"eventbridge no bucket", `{"source":"aws.s3","detail-type":"Object Created","detail":{"object":{"key":"k"}}}`,
			"event: missing detail.bucket.name", 0},
		{"eventbridge other source", `{"source":"aws.ec2","detail-type":"Object Created","detail":{}}`, "event: unknown document shape", 0},
		{"minio delete all versions", `{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectRemoved:DeleteAllVersions","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "", 1},
		{"minio put tagging", `{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:PutTagging","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "", 1},
		{"replication skipped", `{"Records":[{"eventName":"Replication:OperationFailedReplication","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if len(got) != tt.n {
				t.Errorf("got %d events, want %d: %+v", len(got), tt.n, got)
			}
		})
	}
}

func sns(message string) string {
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": message})
	return string(b)
}

func TestParseRecordLimit(t *testing.T) {
	records := func(n int) []byte {
		r := strings.Repeat(`{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},`, n)
		return []byte(`{"Records":[` + strings.TrimSuffix(r, ",") + `]}`)
	}
	if got, err := Parse(records(maxRecords)); err != nil || len(got) != maxRecords {
		t.Fatalf("%d records: got %d events, err %v", maxRecords, len(got), err)
	}
	want := fmt.Sprintf("event: more than %d records", maxRecords)
	if _, err := Parse(records(maxRecords + 1)); err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestAfter(t *testing.T) {
	t0 := at("2024-01-01T00:00:00Z")
	t1 := t0.Add(time.Millisecond)
	tests := []struct {
		name string
		e, o Event
		want bool
	}{
		{"greater", Event{Sequencer: "0055AED6DCD90281E6"}, Event{Sequencer: "0055AED6DCD90281E5"}, true},
		{"smaller", Event{Sequencer: "0055AED6DCD90281E5"}, Event{Sequencer: "0055AED6DCD90281E6"}, false},
		{"equal", Event{Sequencer: "0055AED6DCD90281E5"}, Event{Sequencer: "0055AED6DCD90281E5"}, false},
		// Right padding: "1" is "10" against "0F"; left padding would say "01" < "0F".
		{"right padded", Event{Sequencer: "1"}, Event{Sequencer: "0F"}, true},
		{"padded equal", Event{Sequencer: "0055AED6DCD90281E"}, Event{Sequencer: "0055AED6DCD90281E0"}, false},
		{"padded shorter smaller", Event{Sequencer: "0055AED6DCD90281E"}, Event{Sequencer: "0055AED6DCD90281E5"}, false},
		{"padded longer greater", Event{Sequencer: "0055AED6DCD90281E5"}, Event{Sequencer: "0055AED6DCD90281E"}, true},
		{"case folded", Event{Sequencer: "617f0837b476e463"}, Event{Sequencer: "617F08299329D189"}, true},
		{"case folded reverse", Event{Sequencer: "617F08299329D189"}, Event{Sequencer: "617f0837b476e463"}, false},
		{"sequencer wins over time", Event{Sequencer: "02", Time: t0}, Event{Sequencer: "01", Time: t1}, true},
		{"no sequencer: later time", Event{Time: t1}, Event{Time: t0}, true},
		{"no sequencer: earlier time", Event{Time: t0}, Event{Time: t1}, false},
		{"no sequencer: same time", Event{Time: t0}, Event{Time: t0}, false},
		{"one sequencer: time", Event{Sequencer: "01", Time: t0}, Event{Time: t1}, false},
	}
	for _, tt := range tests {
		if got := tt.e.After(tt.o); got != tt.want {
			t.Errorf("%s: %q.After(%q) = %v, want %v", tt.name, tt.e.Sequencer, tt.o.Sequencer, got, tt.want)
		}
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
