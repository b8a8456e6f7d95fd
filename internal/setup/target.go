package setup

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ferry-s3/ferry/internal/config"
)

// Target is where the bucket is to send its events.
type Target struct {
	Kind Kind   `json:"kind"`
	ARN  string `json:"arn"`
	// From says where the ARN came from ("--target", "run.sqs.queue_url"),
	// for the plan's header.
	From string `json:"from"`
	// QueueURL is the queue's URL when it came from run.sqs.queue_url, for
	// the queue policy hint.
	QueueURL string `json:"queue_url,omitempty"`
}

// NeedTarget is returned by ChooseTarget when ferry.yaml names an intake
// whose target ferry cannot find by itself (MinIO's webhook and NATS
// targets live in the server's configuration, which S3 does not show).
// Help says how to create one and what to re-run.
type NeedTarget struct {
	Intake string // "webhook" or "nats"
	Help   string
}

func (e *NeedTarget) Error() string {
	return fmt.Sprintf("no notification target for the %s intake: give its ARN with --target", e.Intake)
}

// ChooseTarget picks the target: --lambda-arn, else --target, else the
// queue of run.sqs.queue_url. file is ferry.yaml's path, for the help text.
func ChooseTarget(cfg *config.Config, file, target, lambdaARN string) (Target, error) {
	switch {
	case target != "" && lambdaARN != "":
		return Target{}, errors.New("give --target or --lambda-arn, not both")
	case lambdaARN != "":
		a, err := parseARN(lambdaARN)
		if err != nil || a.service != "lambda" {
			return Target{}, fmt.Errorf("--lambda-arn %q: want a function ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME", lambdaARN)
		}
		return Target{Kind: Lambda, ARN: lambdaARN, From: "--lambda-arn"}, nil
	case target != "":
		return targetARN(target)
	}
	run := cfg.Run.WithDefaults()
	if s := run.SQS; s != nil {
		arn, err := QueueARN(s.QueueURL, s.Region)
		if err != nil {
			return Target{}, fmt.Errorf("run.sqs.queue_url: %w", err)
		}
		if err := checkQueue(arn); err != nil {
			return Target{}, fmt.Errorf("run.sqs.queue_url: %w", err)
		}
		return Target{Kind: Queue, ARN: arn, From: "run.sqs.queue_url", QueueURL: s.QueueURL}, nil
	}
	if run.NATS != nil {
		return Target{}, &NeedTarget{Intake: "nats", Help: natsHelp(run.NATS, file)}
	}
	return Target{}, &NeedTarget{Intake: "webhook", Help: webhookHelp(run, file)}
}

// targetARN reads --target: its service says which list it goes in.
func targetARN(s string) (Target, error) {
	a, err := parseARN(s)
	if err != nil {
		return Target{}, fmt.Errorf("--target %q: %w", s, err)
	}
	t := Target{ARN: s, From: "--target"}
	switch a.service {
	case "sqs":
		t.Kind = Queue
		if err := checkQueue(s); err != nil {
			return Target{}, fmt.Errorf("--target: %w", err)
		}
	case "lambda":
		t.Kind = Lambda
	case "sns":
		t.Kind = Topic
	default:
		return Target{}, fmt.Errorf("--target %q: an S3 notification goes to an SQS queue, a Lambda function or an SNS topic (or a MinIO target, arn:minio:sqs::ID:webhook), not to %q", s, a.service)
	}
	return t, nil
}

// checkQueue refuses FIFO queues, which S3 cannot send to (it says only
// "Unable to validate the following destination configurations").
func checkQueue(arn string) error {
	a, err := parseARN(arn)
	if err == nil && a.aws() && strings.HasSuffix(a.resource, ".fifo") {
		return fmt.Errorf("%s is a FIFO queue: S3 event notifications can only go to standard queues", arn)
	}
	return nil
}

// arn is an ARN's parts: arn:partition:service:region:account:resource.
type arn struct{ partition, service, region, account, resource string }

func parseARN(s string) (arn, error) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] == "" || p[5] == "" {
		return arn{}, errors.New("not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")
	}
	return arn{p[1], p[2], p[3], p[4], p[5]}, nil
}

// aws reports whether the ARN is in one of AWS's partitions (aws, aws-cn,
// aws-us-gov, ...), not MinIO's.
func (a arn) aws() bool { return a.partition == "aws" || strings.HasPrefix(a.partition, "aws-") }

// QueueARN derives an SQS queue's ARN from its URL: the region is in the
// host name (sqs.REGION.amazonaws.com, sqs-fips.REGION..., the legacy
// queue.amazonaws.com and REGION.queue.amazonaws.com, VPC endpoints,
// dual-stack sqs.REGION.api.aws), the account and name in the path. For
// other hosts (LocalStack, ElasticMQ) the region is fallbackRegion.
func QueueARN(queueURL, fallbackRegion string) (string, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", queueURL)
	}
	path := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(path) != 2 || path[0] == "" || path[1] == "" {
		return "", fmt.Errorf("%q: the path is not /ACCOUNT/NAME", queueURL)
	}
	account, name := path[0], path[1]
	region := hostRegion(strings.ToLower(u.Hostname()))
	if region == "" {
		region = fallbackRegion
	}
	if region == "" {
		return "", fmt.Errorf("%q: no region in the host name; set run.sqs.region, or give the queue ARN with --target", queueURL)
	}
	return "arn:" + partition(region) + ":sqs:" + region + ":" + account + ":" + name, nil
}

func hostRegion(host string) string {
	if host == "queue.amazonaws.com" {
		return "us-east-1" // the legacy endpoint, which is us-east-1's
	}
	if r, ok := strings.CutSuffix(host, ".queue.amazonaws.com"); ok && looksLikeRegion(r) {
		return r
	}
	labels := strings.Split(host, ".")
	for i, l := range labels[:max(len(labels)-1, 0)] {
		if (l == "sqs" || l == "sqs-fips") && looksLikeRegion(labels[i+1]) {
			return labels[i+1]
		}
	}
	return ""
}

// looksLikeRegion accepts us-east-1, cn-north-1, us-gov-west-1,
// eu-isoe-west-1: letters and dashes ending in a digit.
func looksLikeRegion(s string) bool {
	if !strings.Contains(s, "-") || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// partition is the AWS partition a region is in.
func partition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"}, {"eu-isoe-", "aws-iso-e"}, {"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}
