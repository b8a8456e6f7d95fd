// Package notify reports replication problems the way S3 Replication
// does: as S3 event messages (eventVersion 2.2, replicationEventData) for
// OperationFailedReplication, OperationMissedThreshold and
// OperationReplicatedAfterThreshold, sent to webhooks, SQS queues and SNS
// topics. Consumers written for S3's replication events read ferry's
// unchanged.
//
// Sending never blocks replication: events wait in a bounded buffer and
// are dropped (and counted) when it is full.
package notify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
)

// Kind is an S3 replication event name (without the "s3:Replication:"
// prefix).
type Kind string

// The replication events ferry sends.
const (
	FailedReplication        Kind = config.EventFailedReplication
	MissedThreshold          Kind = config.EventMissedThreshold
	ReplicatedAfterThreshold Kind = config.EventReplicatedAfterThreshold
)

// Event is one replication event of one object to one destination.
type Event struct {
	Kind   Kind
	Time   time.Time // eventTime: when ferry observed it
	Region string    // source region, may be empty

	// The source object. Key is the real key; Record URL-encodes it as S3
	// does.
	Bucket, Key                string
	VersionID, ETag, Sequencer string
	Size                       int64

	RuleID     string
	DestBucket string
	// Operation is S3's s3Operation: "OBJECT_PUT", "DELETE_MARKER_PUT",
	// "OBJECT_DELETE".
	Operation   string
	RequestTime time.Time // when the source operation happened
	// FailureReason uses S3's vocabulary, e.g. "DstPutObjectNotPermitted";
	// empty unless the replication failed.
	FailureReason   string
	Threshold       time.Duration
	ReplicationTime time.Duration // zero unless the replication completed
}

// S3 operation names of replicationEventData.s3Operation.
const (
	OpObjectPut       = "OBJECT_PUT"
	OpDeleteMarkerPut = "DELETE_MARKER_PUT"
	OpObjectDelete    = "OBJECT_DELETE"
)

// Values S3 fills in for its own service, which ferry fills in for itself.
const (
	// Principal is userIdentity.principalId and
	// requestParameters.sourceIPAddress. S3 writes "s3.amazonaws.com":
	// replication events are caused by the replicating service.
	Principal = "ferry"
	// ConfigurationID is s3.configurationId, the ID S3 takes from the
	// bucket's notification configuration.
	ConfigurationID = "ferry"
)

// eventVersion is what S3 writes on replication events.
const eventVersion = "2.2"

// timeFormat is S3's: ISO 8601, UTC, milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

// The record's shape, field for field (and in order) as in the example of
// "Receiving replication failure events with Amazon S3 Event
// Notifications" in the S3 user guide.
type (
	message struct {
		Records []record `json:"Records"`
	}
	record struct {
		EventVersion      string            `json:"eventVersion"`
		EventSource       string            `json:"eventSource"`
		AWSRegion         string            `json:"awsRegion"`
		EventTime         string            `json:"eventTime"`
		EventName         string            `json:"eventName"`
		UserIdentity      principal         `json:"userIdentity"`
		RequestParameters requestParameters `json:"requestParameters"`
		ResponseElements  responseElements  `json:"responseElements"`
		S3                s3Entity          `json:"s3"`
		Replication       replicationData   `json:"replicationEventData"`
	}
	principal struct {
		PrincipalID string `json:"principalId"`
	}
	requestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	}
	responseElements struct {
		RequestID string `json:"x-amz-request-id"`
		HostID    string `json:"x-amz-id-2"`
	}
	s3Entity struct {
		SchemaVersion   string `json:"s3SchemaVersion"`
		ConfigurationID string `json:"configurationId"`
		// bucket.ownerIdentity is left out: ferry does not know the
		// account that owns the source bucket.
		Bucket struct {
			Name string `json:"name"`
			ARN  string `json:"arn"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"eTag,omitempty"`
			VersionID string `json:"versionId,omitempty"`
			Sequencer string `json:"sequencer,omitempty"`
		} `json:"object"`
	}
	replicationData struct {
		RuleID            string `json:"replicationRuleId"`
		DestinationBucket string `json:"destinationBucket"`
		S3Operation       string `json:"s3Operation"`
		// RequestTime is left out when unknown: "" is no time to a parser.
		RequestTime   string `json:"requestTime,omitempty"`
		FailureReason string `json:"failureReason,omitempty"`
		// S3's documentation names threshold and replicationTime (its
		// SDKs' event classes type them as strings) but shows no example
		// value. Ferry writes seconds, as a decimal string ("900",
		// "912.5"), so that one ParseFloat reads them.
		Threshold       string `json:"threshold,omitempty"`
		ReplicationTime string `json:"replicationTime,omitempty"`
	}
)

// Record marshals e as S3 does: {"Records":[{...}]} with one record.
// Kind, Time, Bucket, Key and DestBucket are required. The
// same event always gives the same bytes; its x-amz-request-id is derived
// from the event, so a consumer can drop a message delivered twice.
func Record(e Event) ([]byte, error) {
	if e.Kind == "" || e.Time.IsZero() || e.Bucket == "" || e.Key == "" || e.DestBucket == "" {
		return nil, fmt.Errorf("notify: event %+v: kind, time, bucket, key and destination bucket are required", e)
	}
	var r record
	r.EventVersion = eventVersion
	r.EventSource = "aws:s3"
	r.AWSRegion = e.Region
	r.EventTime = formatTime(e.Time)
	r.EventName = "Replication:" + string(e.Kind)
	r.UserIdentity.PrincipalID = Principal
	r.RequestParameters.SourceIPAddress = Principal
	r.ResponseElements.RequestID, r.ResponseElements.HostID = ids(e)

	r.S3.SchemaVersion = "1.0"
	r.S3.ConfigurationID = ConfigurationID
	r.S3.Bucket.Name = e.Bucket
	r.S3.Bucket.ARN = bucketARN(e.Bucket)
	o := &r.S3.Object
	o.Key = encodeKey(e.Key)
	o.Size = e.Size
	o.ETag = strings.Trim(e.ETag, `"`) // S3 writes event ETags unquoted
	o.VersionID = e.VersionID
	o.Sequencer = e.Sequencer

	d := &r.Replication
	d.RuleID = e.RuleID
	d.DestinationBucket = bucketARN(e.DestBucket)
	d.S3Operation = e.Operation
	d.RequestTime = formatTime(e.RequestTime)
	d.FailureReason = e.FailureReason
	if e.Kind != FailedReplication && e.Threshold > 0 {
		d.Threshold = seconds(e.Threshold)
	}
	if e.ReplicationTime > 0 {
		d.ReplicationTime = seconds(e.ReplicationTime)
	}
	b, err := json.Marshal(message{Records: []record{r}})
	if err != nil {
		return nil, fmt.Errorf("notify: marshal %s of %s/%s: %w", e.Kind, e.Bucket, e.Key, err)
	}
	return b, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// encodeKey URL-encodes a key as S3's event messages do: form encoding
// ("+" for a space) of everything but the "/" separators. Ferry's own
// event parser, like every S3 consumer, reverses it with QueryUnescape.
func encodeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.QueryEscape(p)
	}
	return strings.Join(parts, "/")
}

// ids returns x-amz-request-id and x-amz-id-2 for e: S3's shapes (16
// upper-case hex digits; base64), derived from what identifies the event.
func ids(e Event) (requestID, hostID string) {
	h := sha256.New()
	for _, s := range []string{string(e.Kind), e.Bucket, e.Key, e.VersionID, e.Sequencer, e.RuleID, e.DestBucket,
		e.Operation, formatTime(e.RequestTime), e.FailureReason} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return strings.ToUpper(fmt.Sprintf("%x", sum[:8])), base64.StdEncoding.EncodeToString(sum)
}
