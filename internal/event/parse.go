package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Format facts this parser relies on, with their sources:
//
//   - S3 Records (AWS, MinIO, versitygw): s3.object.key is URL-encoded in
//     application/x-www-form-urlencoded form, "red flower.jpg" becoming
//     "red+flower.jpg" (AWS user guide, notification-content-structure).
//     MinIO applies url.QueryEscape (cmd/event-notification.go ToEvent);
//     versitygw sends the request path as received, still percent-encoded.
//   - Ceph RGW (eventSource "ceph:s3") sends the raw object name, not
//     encoded (rgw_notify.cc populate_event: object_key = obj->get_name()), so
//     its keys are used verbatim: decoding would turn "a+b" into "a b".
//   - EventBridge detail.object.key is not URL-encoded. The AWS page
//     (ev-events) says nothing either way, unlike the Records page, and a real
//     event shows "raw/health-check/2023-08-08T14:03:40.532432.zip" with bare
//     colons, which the Records form sends as %3A.
//   - eventName carries no "s3:" prefix at AWS; MinIO, versitygw and some Ceph
//     releases add it, so it is trimmed.
//   - Ceph documents s3.object.size as a string ("1024"); others send a number.
//
// Replicated names: ObjectCreated:* is a Put (at MinIO this includes
// PutTagging, PutRetention and PutLegalHold: the planner finds a metadata-only
// change). ObjectRemoved:DeleteMarkerCreated is a DeleteMarker.
// ObjectRemoved:Delete, MinIO's ObjectRemoved:DeleteAllVersions (every version
// gone) and versitygw's ObjectRemoved:DeleteObjects (one record per key) are a
// Delete. Every other name is skipped, including MinIO's ObjectRemoved:NoOP
// (nothing existed) and lifecycle expirations, which S3 Replication does not
// replicate either (AWS user guide, delete-marker-replication).

// maxRecords bounds the memory and work one message can cause.
const maxRecords = 10000

// maxNesting bounds envelopes within envelopes (SNS around the S3 JSON).
const maxNesting = 2

// Parse returns the replicable events of one notification message: S3
// Records (AWS, MinIO webhook, Ceph RGW, versitygw), an EventBridge event, or
// either of those in an SNS envelope. A message without replicable records,
// such as the S3 test event, returns (nil, nil).
func Parse(body []byte) ([]Event, error) {
	return parse(body, 0)
}

// document is the union of the top-level shapes Parse accepts; only the
// fields that tell them apart are decoded here.
type document struct {
	Records json.RawMessage // S3 Records; MinIO adds EventName and Key beside it

	Type    string  // SNS: "Notification"
	Message *string // SNS: the wrapped document, as a string

	Source     string // EventBridge: "aws.s3"
	DetailType string `json:"detail-type"`
	Region     string
	Time       string
	Detail     *ebDetail

	Event string // S3 test event: "s3:TestEvent"
}

func parse(body []byte, depth int) ([]Event, error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	switch {
	case doc.Records != nil:
		return parseRecords(doc.Records)
	case doc.Type == "Notification" && doc.Message != nil:
		if depth == maxNesting {
			return nil, errors.New("event: SNS envelopes nested too deeply")
		}
		return parse([]byte(*doc.Message), depth+1)
	case doc.Source == "aws.s3" && doc.Detail != nil:
		return doc.eventBridge()
	case doc.Event == "s3:TestEvent":
		return nil, nil
	}
	return nil, errors.New("event: unknown document shape (want S3 Records, EventBridge, SNS or an S3 test event)")
}

// object holds the object facts every format shares.
type object struct {
	Key       string
	Size      json.Number // Ceph sends a string
	ETag      string      `json:"eTag"` // matches "etag" too: encoding/json folds case
	VersionID string      `json:"versionId"`
	Sequencer string
}

type record struct {
	EventSource string
	EventName   string
	AWSRegion   string `json:"awsRegion"`
	EventTime   string
	S3          struct {
		Bucket struct{ Name string }
		Object object
	}
}

// parseRecords decodes one record at a time so that a huge array is rejected
// before it is held in memory as records.
func parseRecords(raw json.RawMessage) ([]Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("event: Records is not an array")
	}
	var events []Event
	for i := 0; dec.More(); i++ {
		if i == maxRecords {
			return nil, fmt.Errorf("event: more than %d records", maxRecords)
		}
		var r record
		err := dec.Decode(&r)
		var e Event
		if err == nil {
			e, err = r.event()
		}
		if err != nil {
			return nil, fmt.Errorf("event: record %d: %w", i, err)
		}
		if e.Kind != 0 {
			events = append(events, e)
		}
	}
	return events, nil
}

// event returns the record as an Event, or a zero Event if it is not one we
// replicate.
func (r *record) event() (Event, error) {
	if r.EventSource != "" && !strings.HasSuffix(r.EventSource, ":s3") {
		// An SQS or SNS record of a Lambda event: its body is the message.
		return Event{}, fmt.Errorf("eventSource %q is not S3; pass its message body", r.EventSource)
	}
	name := strings.TrimPrefix(r.EventName, "s3:")
	if name == "" {
		return Event{}, errors.New("missing eventName")
	}
	kind := kindOf(name)
	if kind == 0 {
		return Event{}, nil
	}
	o := r.S3.Object
	if r.S3.Bucket.Name == "" {
		return Event{}, errors.New("missing s3.bucket.name")
	}
	if o.Key == "" {
		return Event{}, errors.New("missing s3.object.key")
	}
	if r.EventSource != "ceph:s3" {
		key, err := url.QueryUnescape(o.Key)
		if err != nil {
			return Event{}, fmt.Errorf("s3.object.key: %w", err)
		}
		o.Key = key
	} else {
		// Ceph's sequencer is the hex of its in-memory timestamp, seconds
		// then nanoseconds, little-endian on the usual hosts (its documented
		// "F7E6D75DC742D108" is 0x5DD7E6F7 = 2019-11-22T13:47:35Z, the
		// eventTime beside it), so its strings do not sort by time. Without
		// it After falls back to eventTime.
		o.Sequencer = ""
	}
	e := Event{Name: name, Kind: kind, Region: r.AWSRegion, Bucket: r.S3.Bucket.Name}
	return e, e.setObject(o, r.EventTime)
}

func kindOf(name string) Kind {
	switch {
	case strings.HasPrefix(name, "ObjectCreated:"):
		return Put
	case name == "ObjectRemoved:DeleteMarkerCreated":
		return DeleteMarker
	case name == "ObjectRemoved:Delete", name == "ObjectRemoved:DeleteAllVersions", name == "ObjectRemoved:DeleteObjects":
		return Delete
	}
	return 0
}

// ebDetail is the detail of an EventBridge event from S3 (AWS user guide,
// ev-events).
type ebDetail struct {
	Bucket struct{ Name string }
	Object struct {
		object
		VersionID string `json:"version-id"`
	}
	Reason       string
	DeletionType string `json:"deletion-type"`
}

// createdBy names the reason of an EventBridge "Object Created" event the way
// S3 Records name it.
var createdBy = map[string]string{
	"PutObject":               "Put",
	"POST Object":             "Post",
	"CopyObject":              "Copy",
	"CompleteMultipartUpload": "CompleteMultipartUpload",
}

func (doc *document) eventBridge() ([]Event, error) {
	d := doc.Detail
	e := Event{Region: doc.Region, Bucket: d.Bucket.Name}
	switch deleted := doc.DetailType == "Object Deleted"; {
	case doc.DetailType == "Object Created":
		how, ok := createdBy[d.Reason]
		if !ok {
			how = d.Reason
		}
		e.Name, e.Kind = "ObjectCreated:"+how, Put
	case deleted && d.Reason == "Lifecycle Expiration":
		return nil, nil // not replicated, as above
	case deleted && d.DeletionType == "Delete Marker Created":
		e.Name, e.Kind = "ObjectRemoved:DeleteMarkerCreated", DeleteMarker
	case deleted && d.DeletionType == "Permanently Deleted":
		e.Name, e.Kind = "ObjectRemoved:Delete", Delete
	default:
		return nil, nil // restores, tags, ACLs, storage classes
	}
	if e.Bucket == "" {
		return nil, errors.New("event: missing detail.bucket.name")
	}
	o := d.Object.object
	if o.Key == "" {
		return nil, errors.New("event: missing detail.object.key")
	}
	o.VersionID = d.Object.VersionID
	if err := e.setObject(o, doc.Time); err != nil {
		return nil, fmt.Errorf("event: detail: %w", err)
	}
	return []Event{e}, nil
}

// setObject copies the facts in o and the time t, normalized, into e.
func (e *Event) setObject(o object, t string) error {
	e.Key = o.Key
	if o.Size != "" {
		n, err := o.Size.Int64()
		if err != nil || n < 0 {
			return fmt.Errorf("invalid object size %q", o.Size)
		}
		e.Size = n
	}
	e.ETag = strings.Trim(o.ETag, `"`)
	if o.VersionID != "null" { // AWS's word for "unversioned"
		e.VersionID = o.VersionID
	}
	e.Sequencer = o.Sequencer
	if t != "" {
		// RFC3339 parsing accepts fractional seconds even though the layout
		// has none: AWS sends milliseconds, Ceph microseconds, versitygw none.
		var err error
		if e.Time, err = time.Parse(time.RFC3339, t); err != nil {
			return fmt.Errorf("invalid event time %q", t)
		}
	}
	return nil
}

// After reports whether e happened after o, two events on the same key. It
// compares sequencers as AWS documents (notification-content-structure):
// "The sequencers can be of different lengths. To compare these values, first
// right pad the shorter value with zeros, and then do a lexicographical
// comparison." Case is folded because they are hexadecimal and senders differ
// (EventBridge's documented example is lower case). When either sequencer is
// empty it compares Time.
func (e Event) After(o Event) bool {
	if e.Sequencer == "" || o.Sequencer == "" {
		return e.Time.After(o.Time)
	}
	a, b := strings.ToUpper(e.Sequencer), strings.ToUpper(o.Sequencer)
	if len(a) < len(b) {
		a += strings.Repeat("0", len(b)-len(a))
	} else {
		b += strings.Repeat("0", len(a)-len(b))
	}
	return a > b
}
