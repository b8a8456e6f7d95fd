package notify

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/config"
)

// sqsTarget sends each message to a queue, as S3 does: the body is the
// message itself.
type sqsTarget struct {
	client   *sqs.Client
	queueURL string
}

func newSQS(ctx context.Context, c *config.NotifySQS, open Opener) (*sqsTarget, error) {
	o := c.Options
	if o.Region == "" {
		// The SDK sends to the region's endpoint, whatever host the
		// queue URL names: the queue's region is the one that works.
		o.Region = queueRegion(c.QueueURL)
	}
	ep, err := open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("sqs %s: %w", c.QueueURL, err)
	}
	return &sqsTarget{client: sqs.NewFromConfig(ep.Config), queueURL: c.QueueURL}, nil
}

func (s *sqsTarget) String() string { return "sqs " + s.queueURL }

func (s *sqsTarget) deliver(ctx context.Context, body []byte) error {
	_, err := s.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(s.queueURL),
		MessageBody: aws.String(string(body)),
	})
	if err != nil {
		// The SDK's retryer has retried what is worth retrying.
		return permanent(fmt.Errorf("sqs send to %s: %w", s.queueURL, err))
	}
	return nil
}

// queueRegion is the region of an AWS queue URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or the legacy
// https://REGION.queue.amazonaws.com/...), or "".
func queueRegion(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	labels := strings.Split(u.Hostname(), ".")
	if len(labels) < 4 || labels[len(labels)-2] != "amazonaws" {
		return ""
	}
	switch {
	case labels[0] == "sqs":
		return labels[1]
	case labels[1] == "queue":
		return labels[0]
	}
	return ""
}
