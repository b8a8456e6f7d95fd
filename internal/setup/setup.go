// Package setup makes a source bucket send its event notifications to the
// intake ferry listens on: an SQS queue or a Lambda function on AWS, a
// notification target (webhook, NATS) a MinIO server already has, or a
// Ceph RGW topic.
//
// It works in three steps so that a person can look before anything
// changes: Want builds ferry's configuration from ferry.yaml and the
// target, NewPlan merges it into the bucket's current notification
// configuration (keeping every configuration that is not ferry's) and
// lists the changes, Apply writes the result. Only Read and Apply do I/O.
package setup

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ID is the Id of ferry's configuration. Configurations whose Id is ID or
// starts with ID+"-" are ferry's: setup replaces them and leaves every
// other one alone.
const ID = "ferry"

// IsFerrys reports whether a configuration Id is ferry's.
func IsFerrys(id string) bool { return id == ID || strings.HasPrefix(id, ID+"-") }

// Kind is the kind of destination a configuration sends to; each is its
// own list in S3's NotificationConfiguration.
type Kind string

// Kinds of destination.
const (
	Queue  Kind = "queue"  // QueueConfigurations: SQS, MinIO targets (arn:minio:sqs::ID:webhook)
	Lambda Kind = "lambda" // LambdaFunctionConfigurations
	Topic  Kind = "topic"  // TopicConfigurations: SNS, Ceph RGW topics
)

// Entry is one configuration of a bucket's notification configuration,
// whatever its kind: the events of keys matching Prefix and Suffix go to
// ARN.
type Entry struct {
	ID     string   `json:"id"`
	Kind   Kind     `json:"kind"`
	ARN    string   `json:"arn"`
	Events []string `json:"events"` // sorted
	Prefix string   `json:"prefix,omitempty"`
	Suffix string   `json:"suffix,omitempty"`
}

// Equal reports whether e and o configure the same thing.
func (e Entry) Equal(o Entry) bool {
	return e.ID == o.ID && e.Kind == o.Kind && e.ARN == o.ARN && e.Prefix == o.Prefix &&
		e.Suffix == o.Suffix && slices.Equal(e.Events, o.Events)
}

// Config is a bucket's notification configuration.
type Config struct {
	Entries []Entry
	// EventBridge is on when the bucket also sends its events to Amazon
	// EventBridge. A PUT without it turns that off, so it is carried over.
	EventBridge bool
}

// FromAWS reads S3's shape. Events are sorted and filter rule names
// lowercased (AWS answers "Prefix" to a PUT of "prefix"), so that the same
// configuration always compares equal.
func FromAWS(n *types.NotificationConfiguration) Config {
	var c Config
	if n == nil {
		return c
	}
	c.EventBridge = n.EventBridgeConfiguration != nil
	for _, q := range n.QueueConfigurations {
		c.Entries = append(c.Entries, entry(Queue, q.Id, q.QueueArn, q.Events, q.Filter))
	}
	for _, l := range n.LambdaFunctionConfigurations {
		c.Entries = append(c.Entries, entry(Lambda, l.Id, l.LambdaFunctionArn, l.Events, l.Filter))
	}
	for _, t := range n.TopicConfigurations {
		c.Entries = append(c.Entries, entry(Topic, t.Id, t.TopicArn, t.Events, t.Filter))
	}
	return c
}

func entry(k Kind, id, arn *string, events []types.Event, f *types.NotificationConfigurationFilter) Entry {
	e := Entry{ID: aws.ToString(id), Kind: k, ARN: aws.ToString(arn)}
	for _, ev := range events {
		e.Events = append(e.Events, string(ev))
	}
	slices.Sort(e.Events)
	if f != nil && f.Key != nil {
		for _, r := range f.Key.FilterRules {
			switch strings.ToLower(string(r.Name)) {
			case "prefix":
				e.Prefix = aws.ToString(r.Value)
			case "suffix":
				e.Suffix = aws.ToString(r.Value)
			}
		}
	}
	return e
}

// AWS returns c in S3's shape, for PutBucketNotificationConfiguration.
func (c Config) AWS() *types.NotificationConfiguration {
	n := &types.NotificationConfiguration{}
	if c.EventBridge {
		n.EventBridgeConfiguration = &types.EventBridgeConfiguration{}
	}
	for _, e := range c.Entries {
		events := make([]types.Event, len(e.Events))
		for i, ev := range e.Events {
			events[i] = types.Event(ev)
		}
		id, arn, f := optional(e.ID), aws.String(e.ARN), e.filter()
		switch e.Kind {
		case Queue:
			n.QueueConfigurations = append(n.QueueConfigurations, types.QueueConfiguration{Id: id, QueueArn: arn, Events: events, Filter: f})
		case Lambda:
			n.LambdaFunctionConfigurations = append(n.LambdaFunctionConfigurations, types.LambdaFunctionConfiguration{Id: id, LambdaFunctionArn: arn, Events: events, Filter: f})
		case Topic:
			n.TopicConfigurations = append(n.TopicConfigurations, types.TopicConfiguration{Id: id, TopicArn: arn, Events: events, Filter: f})
		}
	}
	return n
}

func (e Entry) filter() *types.NotificationConfigurationFilter {
	var rules []types.FilterRule
	if e.Prefix != "" {
		rules = append(rules, types.FilterRule{Name: types.FilterRuleNamePrefix, Value: aws.String(e.Prefix)})
	}
	if e.Suffix != "" {
		rules = append(rules, types.FilterRule{Name: types.FilterRuleNameSuffix, Value: aws.String(e.Suffix)})
	}
	if rules == nil {
		return nil
	}
	return &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: rules}}
}

// optional keeps an empty Id absent, as it was read: S3 makes one up for
// a configuration PUT without one, MinIO keeps it empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
