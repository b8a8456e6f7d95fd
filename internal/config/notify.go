package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/endpoint"
)

// ReplicationTime is ferry's replication time threshold: the time within
// which a replica should exist (S3 Replication Time Control promises 15
// minutes). A replication that takes longer sends the
// OperationMissedThreshold and OperationReplicatedAfterThreshold
// notifications. S3 accepts only 15 minutes; ferry takes any threshold of
// a second or more, per rule.
type ReplicationTime struct {
	// Threshold applies to every rule not listed in Rules. Default: 15m.
	Threshold time.Duration `yaml:"threshold,omitempty"`
	// Rules maps a replication rule ID to that rule's own threshold.
	Rules map[string]time.Duration `yaml:"rules,omitempty"`
}

// Notifications says which replication events ferry reports, and where
// to. The messages are S3's replication event messages, so consumers
// written for S3 read them unchanged.
type Notifications struct {
	// Events lists the event names to send (S3's, with or without the
	// "s3:Replication:" prefix). Default: all three.
	Events  []string       `yaml:"events,omitempty"`
	Targets []NotifyTarget `yaml:"targets"`
}

// NotifyTarget is one destination of notifications; exactly one field is
// set.
type NotifyTarget struct {
	Webhook *NotifyWebhook `yaml:"webhook,omitempty"`
	SQS     *NotifySQS     `yaml:"sqs,omitempty"`
	SNS     *NotifySNS     `yaml:"sns,omitempty"`
}

// NotifyWebhook POSTs each message as JSON to URL.
type NotifyWebhook struct {
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding a bearer token,
	// sent as "Authorization: Bearer <token>". Keeping the token out of
	// the file keeps it out of version control.
	TokenEnv string `yaml:"token_env,omitempty"`
	// Token is the bearer token itself, for tests and quick set-ups.
	Token string `yaml:"token,omitempty"`
}

// NotifySQS sends each message to an SQS queue (SendMessage).
type NotifySQS struct {
	endpoint.Options `yaml:",inline"`
	QueueURL         string `yaml:"queue_url"`
}

// NotifySNS publishes each message to an SNS topic, as S3 does.
type NotifySNS struct {
	endpoint.Options `yaml:",inline"`
	TopicARN         string `yaml:"topic_arn"`
}

// DefaultThreshold is S3 Replication Time Control's threshold.
const DefaultThreshold = 15 * time.Minute

// minThreshold keeps thresholds above the clock noise of a busy worker.
const minThreshold = time.Second

// Replication event names ferry sends: S3's, without the "s3:Replication:"
// prefix. (OperationNotTracked is S3's too, but ferry tracks every object.)
const (
	EventFailedReplication        = "OperationFailedReplication"
	EventMissedThreshold          = "OperationMissedThreshold"
	EventReplicatedAfterThreshold = "OperationReplicatedAfterThreshold"
)

// eventPrefix is how S3's notification configurations write the names.
const eventPrefix = "s3:Replication:"

// NotifyEvents returns the event names ferry can send. It returns a new
// slice each call.
func NotifyEvents() []string {
	return []string{EventFailedReplication, EventMissedThreshold, EventReplicatedAfterThreshold}
}

// Threshold returns the replication time threshold of a rule: its own,
// else replication_time.threshold, else DefaultThreshold.
func (c *Config) Threshold(ruleID string) time.Duration {
	if c != nil && c.ReplicationTime != nil {
		rt := c.ReplicationTime
		if d, ok := rt.Rules[ruleID]; ok && d > 0 {
			return d
		}
		if rt.Threshold > 0 {
			return rt.Threshold
		}
	}
	return DefaultThreshold
}

// EventNames returns the events to send, without the "s3:Replication:"
// prefix and without repeats: all of NotifyEvents when none are listed.
// "*" and "s3:Replication:*" mean all. Names are not checked here (Load
// did).
func (n *Notifications) EventNames() []string {
	if n == nil || len(n.Events) == 0 {
		return NotifyEvents()
	}
	var out []string
	for _, e := range n.Events {
		e = strings.TrimPrefix(e, eventPrefix)
		if e == "*" {
			return NotifyEvents()
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func (chk *checker) replicationTime(c *Config) {
	rt := c.ReplicationTime
	if rt == nil {
		return
	}
	// A zero threshold is indistinguishable from none once decoded; the
	// document tells whether it was written.
	if _, written := chk.lines["replication_time.threshold"]; written || rt.Threshold != 0 {
		chk.threshold("replication_time.threshold", rt.Threshold)
	}
	ids, known := ruleIDs(c)
	rules := make([]string, 0, len(rt.Rules))
	for id := range rt.Rules {
		rules = append(rules, id)
	}
	sort.Strings(rules) // map order would shuffle the messages
	for _, id := range rules {
		path := "replication_time.rules." + id
		chk.threshold(path, rt.Rules[id])
		if known && !slices.Contains(ids, id) {
			if len(ids) == 0 {
				chk.add(path, "%q is not the ID of a replication rule (no rule has an ID)", id)
			} else {
				chk.add(path, "%q is not the ID of a replication rule (IDs: %s)", id, strings.Join(ids, ", "))
			}
		}
	}
}

func (chk *checker) threshold(path string, d time.Duration) {
	if d < minThreshold {
		chk.add(path, "%v is too short: give a duration of at least %v, e.g. 15m or 30s (or remove it for the default, %v)",
			d, minThreshold, DefaultThreshold)
	}
}

// ruleIDs returns the IDs of the replication rules, and whether they are
// known yet. Rules written inline are decoded already and implicit rules
// follow from the destinations; those of a replication_file are read
// after the rest of the file is checked, and those of a TargetBucket tag
// only when ferry starts.
func ruleIDs(c *Config) ([]string, bool) {
	repl := c.Replication
	switch {
	case repl != nil:
	case c.ReplicationFile != "" || c.Source.TargetBucketTag:
		return nil, false
	default:
		repl = implicitRules(c)
	}
	var ids []string
	for _, r := range repl.Rules {
		if r != nil && r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids, true
}

var (
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// topicARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME.
	topicARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$`)
)

func (chk *checker) notifications(n *Notifications) {
	if n == nil {
		return
	}
	known := NotifyEvents()
	seen := map[string]bool{}
	for i, e := range n.Events {
		path := fmt.Sprintf("notifications.events[%d]", i)
		name := strings.TrimPrefix(e, eventPrefix)
		switch {
		case name == "*":
		case name == "OperationNotTracked":
			chk.add(path, "ferry does not send %s (it tracks every object); remove it", e)
		case !slices.Contains(known, name):
			chk.add(path, "unknown event %q (one of: %s)", e, strings.Join(known, ", "))
		case seen[name]:
			chk.add(path, "%q is listed twice", e)
		}
		seen[name] = true
	}
	if len(n.Targets) == 0 {
		chk.add("notifications.targets", "at least one target is required (webhook, sqs or sns); remove notifications to send none")
	}
	for i, t := range n.Targets {
		chk.notifyTarget(fmt.Sprintf("notifications.targets[%d]", i), t)
	}
}

func (chk *checker) notifyTarget(path string, t NotifyTarget) {
	var kinds []string
	if t.Webhook != nil {
		kinds = append(kinds, "webhook")
	}
	if t.SQS != nil {
		kinds = append(kinds, "sqs")
	}
	if t.SNS != nil {
		kinds = append(kinds, "sns")
	}
	switch len(kinds) {
	case 0:
		chk.add(path, "empty target: give one of webhook, sqs or sns")
		return
	case 1:
	default:
		chk.add(path, "has %s: give one per list item (- webhook: ..., - sqs: ...)", strings.Join(kinds, " and "))
		return
	}
	switch {
	case t.Webhook != nil:
		w, p := t.Webhook, path+".webhook"
		if w.URL == "" {
			chk.add(p+".url", "required, e.g. https://hooks.example.com/ferry")
		} else if u, err := url.Parse(w.URL); err != nil {
			chk.add(p+".url", "%q is not a URL: %v", w.URL, err)
		} else if u.Scheme != "http" && u.Scheme != "https" {
			chk.add(p+".url", "%q: scheme must be http or https", w.URL)
		} else if u.Host == "" {
			chk.add(p+".url", "%q has no host", w.URL)
		}
		if w.Token != "" && w.TokenEnv != "" {
			chk.add(p, "token and token_env are both given; use one (token_env keeps the token out of the file)")
		}
		if w.TokenEnv != "" && !envName.MatchString(w.TokenEnv) {
			chk.add(p+".token_env", "%q is not an environment variable name (letters, digits and _, e.g. HOOK_TOKEN)", w.TokenEnv)
		}
	case t.SQS != nil:
		s, p := t.SQS, path+".sqs"
		if !strings.HasPrefix(s.QueueURL, "http://") && !strings.HasPrefix(s.QueueURL, "https://") {
			chk.add(p+".queue_url", "required: the queue's URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/ferry-events")
		} else if strings.HasSuffix(s.QueueURL, ".fifo") {
			chk.add(p+".queue_url", "%q is a FIFO queue; ferry sends to standard queues (FIFO needs a message group ID)", s.QueueURL)
		}
		chk.endpoint(p, s.Options)
	case t.SNS != nil:
		s, p := t.SNS, path+".sns"
		m := topicARN.FindStringSubmatch(s.TopicARN)
		switch {
		case s.TopicARN == "":
			chk.add(p+".topic_arn", "required: the topic's ARN, e.g. arn:aws:sns:us-east-1:123456789012:ferry-events")
		case m == nil:
			chk.add(p+".topic_arn", "%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)", s.TopicARN)
		case m[5] != "":
			chk.add(p+".topic_arn", "%q is a FIFO topic; ferry publishes to standard topics (FIFO needs a message group ID)", s.TopicARN)
		case s.Region != "" && s.Region != m[2]:
			chk.add(p+".region", "%s, but the topic is in %s; remove region or make them agree", s.Region, m[2])
		}
		chk.endpoint(p, s.Options)
	}
}
