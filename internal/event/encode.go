package event

import (
	"encoding/json"
	"net/url"
	"time"
)

// Encode returns evs as an S3 event notification ({"Records": [...]}), the
// format Parse reads first. Keys are URL-encoded as S3 sends them, so
// Parse(Encode(evs)) gives evs back. `ferry retry` uses it to put failed
// events back on a shared queue.
func Encode(evs []Event) ([]byte, error) {
	type obj struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"eTag,omitempty"`
		VersionID string `json:"versionId,omitempty"`
		Sequencer string `json:"sequencer,omitempty"`
	}
	type rec struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion,omitempty"`
		EventTime    string `json:"eventTime,omitempty"`
		EventName    string `json:"eventName"`
		S3           struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object obj `json:"object"`
		} `json:"s3"`
	}
	recs := make([]rec, len(evs))
	for i, e := range evs {
		r := rec{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: e.Region, EventName: e.Name}
		if r.EventName == "" {
			r.EventName = nameOf(e.Kind)
		}
		if !e.Time.IsZero() {
			r.EventTime = e.Time.UTC().Format(time.RFC3339Nano)
		}
		r.S3.Bucket.Name = e.Bucket
		r.S3.Object = obj{Key: url.QueryEscape(e.Key), Size: e.Size, ETag: e.ETag, VersionID: e.VersionID, Sequencer: e.Sequencer}
		recs[i] = r
	}
	return json.Marshal(struct {
		Records []rec
	}{recs})
}

// nameOf is an event name of kind k, for events made without one.
func nameOf(k Kind) string {
	switch k {
	case DeleteMarker:
		return "ObjectRemoved:DeleteMarkerCreated"
	case Delete:
		return "ObjectRemoved:Delete"
	}
	return "ObjectCreated:Put"
}
