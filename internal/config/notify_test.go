package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const notifyBase = `
source: {bucket: src}
destinations:
  - bucket: dr-bucket
  - bucket: archive
replication:
  Rules:
    - {ID: fast-rule, Priority: 2, Status: Enabled, Filter: {Prefix: hot/}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dr-bucket"}}
    - {ID: all, Priority: 1, Status: Enabled, Filter: {}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::archive"}}
`

func TestParseReplicationTimeAndNotifications(t *testing.T) {
	yml := notifyBase + `
replication_time:
  threshold: 10m
  rules:
    fast-rule: 30s
notifications:
  events: [OperationFailedReplication, "s3:Replication:OperationMissedThreshold"]
  targets:
    - webhook: {url: "https://hooks.example.com/ferry", token_env: HOOK_TOKEN}
    - sqs: {queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/ferry-events", profile: ops}
    - sns: {topic_arn: "arn:aws:sns:eu-west-1:123456789012:ferry-events", profile: ops, region: eu-west-1}
`
	c, err := Parse([]byte(yml), ".", "ferry.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := c.Threshold("fast-rule"); got != 30*time.Second {
		t.Errorf("Threshold(fast-rule) = %v, want 30s", got)
	}
	if got := c.Threshold("all"); got != 10*time.Minute {
		t.Errorf("Threshold(all) = %v, want the default of the file, 10m", got)
	}
	n := c.Notifications
	if n == nil || len(n.Targets) != 3 {
		t.Fatalf("notifications = %+v", n)
	}
	if w := n.Targets[0].Webhook; w == nil || w.URL != "https://hooks.example.com/ferry" || w.TokenEnv != "HOOK_TOKEN" || n.Targets[0].SQS != nil {
		t.Errorf("targets[0] = %+v", n.Targets[0])
	}
	if s := n.Targets[1].SQS; s == nil || s.Profile != "ops" || !strings.HasSuffix(s.QueueURL, "/ferry-events") {
		t.Errorf("targets[1] = %+v", n.Targets[1])
	}
	if s := n.Targets[2].SNS; s == nil || s.Profile != "ops" || s.TopicARN != "arn:aws:sns:eu-west-1:123456789012:ferry-events" {
		t.Errorf("targets[2] = %+v", n.Targets[2])
	}
	want := []string{EventFailedReplication, EventMissedThreshold}
	if got := n.EventNames(); !slices.Equal(got, want) {
		t.Errorf("EventNames = %q, want %q", got, want)
	}
}

// Without a replication_time section every rule gets S3 RTC's 15 minutes,
// and without events every event is sent.
func TestThresholdDefaults(t *testing.T) {
	c, err := Parse([]byte(notifyBase+"notifications:\n  targets:\n    - webhook: {url: \"http://127.0.0.1:9/x\"}\n"), ".", "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := c.Threshold("fast-rule"); got != 15*time.Minute {
		t.Errorf("Threshold = %v, want 15m", got)
	}
	if got := (*Config)(nil).Threshold("x"); got != DefaultThreshold {
		t.Errorf("nil config: Threshold = %v", got)
	}
	if got := c.Notifications.EventNames(); !slices.Equal(got, NotifyEvents()) {
		t.Errorf("EventNames = %q, want all", got)
	}
	star := &Notifications{Events: []string{"s3:Replication:*"}}
	if got := star.EventNames(); !slices.Equal(got, NotifyEvents()) {
		t.Errorf("s3:Replication:* = %q, want all", got)
	}

	// Rules per ID also work for the implicit rules, named default-BUCKET.
	yml := "source: {bucket: src}\ndestinations:\n  - bucket: dr-bucket\nreplication_time:\n  rules: {default-dr-bucket: 2m}\n"
	c, err = Parse([]byte(yml), ".", "")
	if err != nil {
		t.Fatalf("Parse implicit: %v", err)
	}
	if got := c.Threshold("default-dr-bucket"); got != 2*time.Minute {
		t.Errorf("implicit rule: Threshold = %v, want 2m", got)
	}
}

func TestParseNotifyErrors(t *testing.T) {
	target := "notifications:\n  targets:\n"
	hook := target + "    - webhook: {url: \"https://h.example.com/\"}\n"
	tests := []struct {
		name string
		yml  string
		want string
	}{
		{"threshold zero", "replication_time:\n  threshold: 0s\n",
			"ferry.yaml:11: replication_time.threshold: 0s is too short: give a duration of at least 1s, e.g. 15m or 30s (or remove it for the default, 15m0s)"},
		{"threshold below a second", "replication_time:\n  threshold: 500ms\n", "replication_time.threshold: 500ms is too short"},
		{"threshold negative", "replication_time:\n  threshold: -5m\n", "replication_time.threshold: -5m0s is too short"},
		{"threshold without unit", "replication_time:\n  threshold: 15\n", "ferry.yaml:11: replication_time.threshold: cannot unmarshal !!int `15` into time.Duration"},
		{"threshold not a duration", "replication_time:\n  threshold: soon\n", "replication_time.threshold: cannot unmarshal !!str `soon` into time.Duration"},
		{"rule threshold too short", "replication_time:\n  rules: {fast-rule: 0s}\n", "ferry.yaml:11: replication_time.rules.fast-rule: 0s is too short"},
		{"unknown rule", "replication_time:\n  rules:\n    fats-rule: 30s\n",
			`ferry.yaml:12: replication_time.rules.fats-rule: "fats-rule" is not the ID of a replication rule (IDs: fast-rule, all)`},
		{"unknown field", "replication_time:\n  treshold: 1m\n", "ferry.yaml:11: replication_time.treshold: unknown field (known: threshold, rules)"},
		{"unknown event", hook + "  events: [OperationFailed]\n",
			`ferry.yaml:13: notifications.events[0]: unknown event "OperationFailed" (one of: OperationFailedReplication, OperationMissedThreshold, OperationReplicatedAfterThreshold)`},
		{"not tracked", hook + "  events: [\"s3:Replication:OperationNotTracked\"]\n", "notifications.events[0]: ferry does not send s3:Replication:OperationNotTracked"},
		{"event twice", hook + "  events: [OperationMissedThreshold, \"s3:Replication:OperationMissedThreshold\"]\n",
			`notifications.events[1]: "s3:Replication:OperationMissedThreshold" is listed twice`},
		{"no targets", "notifications:\n  events: [OperationFailedReplication]\n", "ferry.yaml:10: notifications.targets: at least one target is required (webhook, sqs or sns)"},
		{"empty target", target + "    - {}\n", "ferry.yaml:12: notifications.targets[0]: empty target: give one of webhook, sqs or sns"},
		{"two kinds", target + "    - webhook: {url: \"https://h.example.com/\"}\n      sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/123456789012/q\"}\n",
			"notifications.targets[0]: has webhook and sqs: give one per list item"},
		{"unknown target field", target + "    - webhook: {url: \"https://h.example.com/\", tokn: x}\n",
			"ferry.yaml:12: notifications.targets[0].webhook.tokn: unknown field (known: url, token_env, token)"},
		{"webhook url missing", target + "    - webhook: {token: x}\n", "notifications.targets[0].webhook.url: required, e.g. https://hooks.example.com/ferry"},
		{"webhook url scheme", target + "    - webhook: {url: \"ftp://h.example.com/\"}\n", `notifications.targets[0].webhook.url: "ftp://h.example.com/": scheme must be http or https`},
		{"webhook url no host", target + "    - webhook: {url: \"https:///x\"}\n", `notifications.targets[0].webhook.url: "https:///x" has no host`},
		{"webhook two tokens", target + "    - webhook: {url: \"https://h.example.com/\", token: x, token_env: T}\n",
			"notifications.targets[0].webhook: token and token_env are both given; use one"},
		{"webhook token env name", target + "    - webhook: {url: \"https://h.example.com/\", token_env: $HOOK_TOKEN}\n",
			`notifications.targets[0].webhook.token_env: "$HOOK_TOKEN" is not an environment variable name`},
		{"sqs queue url missing", target + "    - sqs: {profile: ops}\n", "notifications.targets[0].sqs.queue_url: required: the queue's URL"},
		{"sqs fifo", target + "    - sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo\"}\n", "is a FIFO queue; ferry sends to standard queues"},
		{"sqs checksums", target + "    - sqs: {queue_url: \"https://sqs.us-east-1.amazonaws.com/123456789012/q\", checksums: always}\n",
			`notifications.targets[0].sqs.checksums: unknown value "always"`},
		{"sns arn missing", target + "    - sns: {profile: ops}\n", "notifications.targets[0].sns.topic_arn: required: the topic's ARN"},
		{"sns arn bad", target + "    - sns: {topic_arn: \"arn:aws:sqs:us-east-1:123456789012:q\"}\n",
			`notifications.targets[0].sns.topic_arn: "arn:aws:sqs:us-east-1:123456789012:q" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)`},
		{"sns fifo", target + "    - sns: {topic_arn: \"arn:aws:sns:us-east-1:123456789012:t.fifo\"}\n", "is a FIFO topic; ferry publishes to standard topics"},
		{"sns region", target + "    - sns: {topic_arn: \"arn:aws:sns:us-east-1:123456789012:t\", region: eu-west-1}\n",
			"notifications.targets[0].sns.region: eu-west-1, but the topic is in us-east-1; remove region or make them agree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(notifyBase+tt.yml), ".", "ferry.yaml")
			if err == nil {
				t.Fatalf("Parse: no error, want %q", tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T holds no *config.Error", err)
			}
		})
	}
}

// The rule IDs of replication_time are checked against the rules of a
// replication_file too.
func TestReplicationTimeWithReplicationFile(t *testing.T) {
	yml := "source: {bucket: sre-bucket-source}\ndestinations:\n  - bucket: sre-bucket-destination\nreplication_file: get-bucket-replication.json\n" +
		"replication_time:\n  rules: {%s: 1m}\n"
	_, err := Parse([]byte(fmt.Sprintf(yml, "anything")), "testdata", "ferry.yaml")
	if err == nil || !strings.Contains(err.Error(), `"anything" is not the ID of a replication rule`) {
		t.Fatalf("Parse: %v", err)
	}
	c, err := Parse([]byte(fmt.Sprintf(yml, "fdsafdsafdsafdsafdsafdsa")), "testdata", "ferry.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := c.Threshold("fdsafdsafdsafdsafdsafdsa"); got != time.Minute {
		t.Errorf("Threshold = %v", got)
	}
}
