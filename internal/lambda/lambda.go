// Package lambda is ferry's AWS Lambda side (`ferry lambda`, the bootstrap
// of a provided.al2023 function). It turns one invocation payload (S3,
// SQS, SNS or EventBridge) into calls of a Handler and answers the way
// Lambda expects, so that exactly the failed work is delivered again: by
// SQS for the messages of a batch, by Lambda's retries for the others.
// CodePipeline jobs go to a PipelineHandler, which reports them itself.
package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ferry-s3/ferry/internal/event"
)

// Handler does the work for the events of one message; nil means done.
// It is not called for messages without events (s3:TestEvent), and must
// return soon after ctx is done.
type Handler func(ctx context.Context, evs []event.Event) error

// PipelineHandler does a CodePipeline job, given the whole invocation
// payload ({"CodePipeline.job": ...}) and the invocation's deadline (zero
// if none), and reports its result to CodePipeline itself. It returns an
// error only when it could not report; the invocation then fails.
type PipelineHandler func(ctx context.Context, payload []byte, deadline time.Time) error

// Handlers are what Invoke calls, by the kind of payload.
type Handlers struct {
	// Events handles S3 events, however they arrive (S3, SQS, SNS,
	// EventBridge).
	Events Handler
	// Pipeline handles CodePipeline jobs; nil refuses them.
	Pipeline PipelineHandler
}

// errCodePipeline is returned for CodePipeline job invocations when no
// PipelineHandler is configured.
var errCodePipeline = errors.New("CodePipeline job received, but this function has no CodePipeline action configured")

// errNoEvents is returned for S3 events when no Handler is configured.
var errNoEvents = errors.New("S3 event received, but this function has no event handler configured")

// shape holds just enough of a payload to tell its source.
type shape struct {
	Records []struct {
		EventSource    string          `json:"eventSource"` // S3, SQS
		SNSEventSource string          `json:"EventSource"` // SNS capitalises its keys
		S3             json.RawMessage `json:"s3"`
	} `json:"Records"`
	DetailType      string          `json:"detail-type"` // EventBridge
	CodePipelineJob json.RawMessage `json:"CodePipeline.job"`
}

// Invoke handles one invocation payload and returns the response Lambda
// expects: for an SQS batch, the partial batch failure response listing
// the messages to deliver again; otherwise nil, and an error if the
// payload is malformed or the handler failed, so that Lambda retries. A
// CodePipeline job goes to h.Pipeline with ctx's deadline, the
// invocation's.
func Invoke(ctx context.Context, h Handlers, payload []byte) (any, error) {
	var p shape
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("invocation payload is not a JSON object: %w", err)
	}
	if p.CodePipelineJob != nil {
		if h.Pipeline == nil {
			return nil, errCodePipeline
		}
		deadline, _ := ctx.Deadline()
		return nil, h.Pipeline(ctx, payload, deadline)
	}
	if h.Events == nil && (len(p.Records) > 0 || p.DetailType != "") {
		return nil, errNoEvents
	}
	switch {
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:sqs":
		return invokeSQS(ctx, h.Events, payload)
	case len(p.Records) > 0 && p.Records[0].SNSEventSource == "aws:sns":
		return nil, invokeSNS(ctx, h.Events, payload)
	case len(p.Records) > 0 && (p.Records[0].EventSource == "aws:s3" || p.Records[0].S3 != nil):
		return nil, invokeDirect(ctx, h.Events, "S3 notification", payload)
	case p.DetailType != "":
		return nil, invokeDirect(ctx, h.Events, "EventBridge event", payload)
	}
	return nil, errors.New("unsupported invocation payload: expected an S3 event notification, " +
		"an SQS batch (aws:sqs records), an SNS notification (aws:sns records), an EventBridge S3 event " +
		"or a CodePipeline job")
}

// invokeDirect handles a payload that is one notification document.
func invokeDirect(ctx context.Context, h Handler, what string, payload []byte) error {
	evs, err := event.Parse(payload)
	if err != nil {
		return fmt.Errorf("malformed %s: %w", what, err)
	}
	if len(evs) == 0 {
		return nil
	}
	return h(ctx, evs)
}

// invokeSNS handles SNS's Lambda payload: each record's message is an S3
// notification. Lambda delivers one record per invocation, so failing the
// invocation on the first error retries no finished work.
func invokeSNS(ctx context.Context, h Handler, payload []byte) error {
	var sns events.SNSEvent
	if err := json.Unmarshal(payload, &sns); err != nil {
		return fmt.Errorf("malformed SNS notification: %w", err)
	}
	for _, r := range sns.Records {
		evs, err := event.Parse([]byte(r.SNS.Message))
		if err != nil {
			return fmt.Errorf("malformed S3 notification in SNS message %s: %w", r.SNS.MessageID, err)
		}
		if len(evs) == 0 {
			continue
		}
		if err := h(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}
