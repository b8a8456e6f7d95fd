package check

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ferry-s3/ferry/internal/awsarn"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/intake"
)

// checkIntake checks the durable intakes of the run section: the SQS
// queue answers (and has a dead-letter queue), the NATS server answers
// with JetStream. It returns the SQS queue's ARN, which the source's
// notifications must name ("" without an SQS intake).
func (r *runner) checkIntake(ctx context.Context) string {
	if r.cfg.Run == nil {
		return ""
	}
	rc := r.cfg.Run.WithDefaults()
	arn := ""
	if q := rc.SQS; q != nil {
		arn = r.checkQueue(ctx, q.QueueURL, q.Options)
	}
	if n := rc.NATS; n != nil {
		r.checkNATS(ctx, n)
	}
	return arn
}

// checkQueue checks the SQS intake queue and returns its ARN: the one SQS
// tells, else the one its URL implies.
func (r *runner) checkQueue(ctx context.Context, queueURL string, o endpoint.Options) string {
	target := "sqs " + queueURL
	arn := queueARNFromURL(queueURL, o.Region)
	s := r.site(ctx, o)
	if s.down != "" {
		r.skip("intake", target, s.down)
		return arn
	}
	res := Result{Check: "intake", Target: target}
	attrs, err := r.queueAttributes(ctx, s, queueURL, sqstypes.QueueAttributeNameQueueArn,
		sqstypes.QueueAttributeNameRedrivePolicy, sqstypes.QueueAttributeNameApproximateNumberOfMessages)
	if err != nil {
		res = r.failed(res, s, denial{failure.SrcSide,
			"sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility", orWord(arn, "the queue")}, err)
		res.Reason = ""
		res.Detail = "the queue does not answer"
		if kindOf(err) == kindNotFound {
			res.Detail = "no such queue"
			res.Fix = "create the queue, or fix run.sqs.queue_url"
		}
		r.add(res)
		return arn
	}
	if a := attrs[string(sqstypes.QueueAttributeNameQueueArn)]; a != "" {
		arn = a
	}
	res.Status = Pass
	res.Detail = fmt.Sprintf("reachable (%s); %s messages waiting", arn, orWord(attrs[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], "?"))
	if n := maxReceives(attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)]); n > 0 {
		res.Detail += fmt.Sprintf("; dead-letter queue after %d receives", n)
	} else {
		res.Status = Warn
		res.Detail += "; no dead-letter queue: a message whose work always fails comes back forever"
		res.Fix = "give the queue a RedrivePolicy (a dead-letter queue and maxReceiveCount, e.g. 5)"
	}
	r.add(res)
	return arn
}

// queueAttributes asks an SQS queue for attributes.
func (r *runner) queueAttributes(ctx context.Context, s *site, queueURL string, names ...sqstypes.QueueAttributeName) (map[string]string, error) {
	client := sqs.NewFromConfig(s.ep.Config, func(o *sqs.Options) { o.RetryMaxAttempts = 2 })
	var attrs map[string]string
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: names})
		if err == nil {
			attrs = out.Attributes
		}
		return err
	})
	return attrs, err
}

// maxReceives reads maxReceiveCount from a RedrivePolicy (a JSON string
// whose count is a number or a string, depending on who set it).
func maxReceives(policy string) int {
	if policy == "" {
		return 0
	}
	var p struct {
		MaxReceiveCount json.Number `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(policy), &p) != nil {
		return 0
	}
	n, _ := p.MaxReceiveCount.Int64()
	return int(n)
}

// queueARNFromURL derives a queue's ARN from its URL (awsarn.Queue);
// hosts that name no region take region, default us-east-1. It returns ""
// for a URL without /ACCOUNT/NAME.
func queueARNFromURL(queueURL, region string) string {
	arn, err := awsarn.Queue(queueURL, cmp.Or(region, "us-east-1"))
	if err != nil {
		return ""
	}
	return arn
}

// checkNATS connects to the NATS intake's server and asks for JetStream,
// which the intake needs (its stream and durable consumer).
func (r *runner) checkNATS(ctx context.Context, n *config.NATS) {
	natsURL := n.URL
	res := Result{Check: "intake", Target: "nats " + redactURL(natsURL)}
	auth, err := intake.NATSOptions(n)
	if err != nil {
		res.Status, res.Detail, res.Error = Fail, "cannot connect", err.Error()
		res.Fix = "set the variables or files run.nats names for its credentials"
		r.add(res)
		return
	}
	opts := append([]nats.Option{nats.Name("ferry check"), nats.Timeout(r.opt.Timeout), nats.MaxReconnects(0)}, auth...)
	nc, err := nats.Connect(natsURL, opts...)
	if err != nil {
		res.Status, res.Detail, res.Error = Fail, "cannot connect", redactSecrets(err.Error(), natsURL)
		res.Fix = "check run.nats.url and that nats-server is running and reachable from this machine"
		r.add(res)
		return
	}
	defer nc.Close()
	err = r.call(ctx, func(ctx context.Context) error {
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		_, err = js.AccountInfo(ctx)
		return err
	})
	if err != nil {
		res.Status, res.Detail, res.Error = Fail, "connected, but JetStream does not answer", err.Error()
		res.Fix = "enable JetStream on the server (nats-server -js, or jetstream {} in its config)"
		if !errors.Is(err, jetstream.ErrJetStreamNotEnabled) && !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			res.Fix = "check the NATS account's JetStream permissions and limits"
		}
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, "reachable; JetStream enabled"
	r.add(res)
}

// redactURL drops the user information (user, password or token) and the
// query (which may hold a key) of a URL, or of each URL of a
// comma-separated list (NATS servers).
func redactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			return "(unparsable URL)"
		}
		u.User = nil
		if u.RawQuery != "" {
			u.RawQuery = "…"
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// redactSecrets removes the user information of rawURL (each URL of a
// comma-separated list) from msg.
func redactSecrets(msg, rawURL string) string {
	for _, p := range strings.Split(rawURL, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
		}
		if n := u.User.Username(); n != "" {
			msg = strings.ReplaceAll(msg, n, "***")
		}
	}
	return msg
}
