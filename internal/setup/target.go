package setup

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-s3/ferry/internal/awsarn"
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
		arn, err := awsarn.Queue(s.QueueURL, s.Region)
		if err != nil {
			return Target{}, fmt.Errorf("run.sqs.queue_url: %w (run.sqs.region, or give the queue ARN with --target)", err)
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
