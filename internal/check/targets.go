package check

import (
	"context"
	"fmt"
	"net"
	"net/url"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
)

// checkNotifyTargets checks, where it is cheap and sends nothing, that
// the targets of ferry's own notifications answer: a webhook's server
// accepts a connection, an SQS queue exists. SNS topics are not checked.
func (r *runner) checkNotifyTargets(ctx context.Context) {
	n := r.cfg.Notifications
	if n == nil {
		return
	}
	for _, t := range n.Targets {
		switch {
		case t.Webhook != nil:
			r.checkWebhookTarget(ctx, t.Webhook.URL)
		case t.SQS != nil:
			r.checkQueueTarget(ctx, t.SQS)
		case t.SNS != nil:
			r.add(Result{Check: "notify-target", Target: "sns " + t.SNS.TopicARN, Status: Skip,
				Detail: "not checked: SNS has no read-only call that proves sns:Publish works"})
		}
	}
}

// checkWebhookTarget connects to the webhook's server (TCP only: a POST
// would be a notification).
func (r *runner) checkWebhookTarget(ctx context.Context, raw string) {
	res := Result{Check: "notify-target", Target: "webhook " + redactURL(raw)}
	u, err := url.Parse(raw)
	if err != nil {
		res.Status, res.Detail, res.Fix = Fail, "not a URL", "fix notifications.targets[].webhook.url"
		r.add(res)
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	err = r.call(ctx, func(ctx context.Context) error {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		// A warning: replication does not depend on it, and the target
		// may be reachable from where ferry runs but not from here.
		res.Status, res.Detail, res.Error = Warn, "cannot connect to "+addr, errText(err)
		res.Fix = "check the URL and that the webhook's server is up and reachable from where ferry runs"
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, fmt.Sprintf("%s accepts connections", addr)
	r.add(res)
}

// checkQueueTarget checks that a notification queue exists. ferry only
// needs sqs:SendMessage there, so a refused GetQueueAttributes is a
// warning, not a failure.
func (r *runner) checkQueueTarget(ctx context.Context, t *config.NotifySQS) {
	target := "sqs " + t.QueueURL
	s := r.site(ctx, t.Options)
	if s.down != "" {
		r.skip("notify-target", target, s.down)
		return
	}
	res := Result{Check: "notify-target", Target: target}
	_, err := r.queueAttributes(ctx, s, t.QueueURL, sqstypes.QueueAttributeNameQueueArn)
	switch {
	case err == nil:
		res.Status, res.Detail = Pass, "the queue exists"
	case kindOf(err) == kindDenied:
		res.Status, res.Detail, res.Error = Warn, "the queue's existence cannot be checked", errText(err)
		res.Fix = "nothing, if " + s.who() + " may sqs:SendMessage to it; grant sqs:GetQueueAttributes to let the check see it"
	default:
		res = r.failed(res, s, denial{failure.DstSide, "sqs:SendMessage", orWord(queueARNFromURL(t.QueueURL, t.Region), "the queue")}, err)
		res.Reason, res.Detail = "", "the queue does not answer"
		if kindOf(err) == kindNotFound {
			res.Detail, res.Fix = "no such queue", "create the queue, or fix notifications.targets[].sqs.queue_url"
		}
	}
	r.add(res)
}
