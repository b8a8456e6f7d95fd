package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ferry-s3/ferry/internal/config"
)

// snsSubject is the Subject S3 publishes its event notifications with.
const snsSubject = "Amazon S3 Notification"

// snsTarget publishes each message to a topic, as S3 does.
type snsTarget struct {
	client   *sns.Client
	topicARN string
}

func newSNS(ctx context.Context, c *config.NotifySNS, open Opener) (*snsTarget, error) {
	o := c.Options
	if o.Region == "" {
		o.Region = arnRegion(c.TopicARN) // a topic is reached in its region
	}
	ep, err := open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("sns %s: %w", c.TopicARN, err)
	}
	return &snsTarget{client: sns.NewFromConfig(ep.Config), topicARN: c.TopicARN}, nil
}

func (s *snsTarget) String() string { return "sns " + s.topicARN }

func (s *snsTarget) deliver(ctx context.Context, body []byte) error {
	_, err := s.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(s.topicARN),
		Subject:  aws.String(snsSubject),
		Message:  aws.String(string(body)),
	})
	if err == nil {
		return nil
	}
	var nf *types.NotFoundException
	if errors.As(err, &nf) {
		err = fmt.Errorf("%w (no such topic for this profile's account and region: check topic_arn)", err)
	}
	// The SDK's retryer has retried what is worth retrying.
	return permanent(fmt.Errorf("sns publish to %s: %w", s.topicARN, err))
}

// arnRegion is the region field of an ARN, or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}
