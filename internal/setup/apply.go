package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Error is a refusal, or a server's error, with what to do about it. Msg
// is one line; Help, if any, the lines that follow.
type Error struct {
	Msg  string
	Help string
	Err  error
}

func (e *Error) Error() string {
	var ae smithy.APIError
	switch {
	case errors.As(e.Err, &ae):
		// The server's code and message, without the SDK's request ids.
		return e.Msg + ": " + ae.ErrorCode() + ": " + ae.ErrorMessage()
	case e.Err != nil:
		return e.Msg + ": " + firstLine(e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Read returns the bucket's notification configuration.
func Read(ctx context.Context, c *s3.Client, bucket string) (Config, error) {
	out, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		e := &Error{Msg: "read the event notifications of s3://" + bucket, Err: err}
		switch code(err) {
		case "NoSuchBucket":
			e.Help = "source.bucket names a bucket that does not exist (on the endpoint of the source's profile)."
		case "AccessDenied":
			e.Help = "The source's profile needs s3:GetBucketNotification and s3:PutBucketNotification on the bucket."
		}
		return Config{}, e
	}
	return FromAWS(&types.NotificationConfiguration{
		QueueConfigurations:          out.QueueConfigurations,
		LambdaFunctionConfigurations: out.LambdaFunctionConfigurations,
		TopicConfigurations:          out.TopicConfigurations,
		EventBridgeConfiguration:     out.EventBridgeConfiguration,
	}), nil
}

// Refusal returns why the plan must not be applied, or nil. AWS S3 refuses
// overlapping configurations with a message that names neither; saying
// which one before trying is clearer. Other servers (MinIO) accept them
// and are left to decide.
func (p *Plan) Refusal() error {
	a, err := parseARN(p.Target.ARN)
	if len(p.Overlaps) == 0 || err != nil || !a.aws() || p.Target.Kind == Topic {
		return nil
	}
	return &Error{
		Msg:  fmt.Sprintf("configuration %q overlaps ferry's: AWS S3 refuses two configurations that share an event type and keys", p.Overlaps[0].ID),
		Help: overlapHelp(p),
	}
}

func overlapHelp(p *Plan) string {
	var b strings.Builder
	for _, o := range p.Overlaps {
		fmt.Fprintf(&b, "  %s\n", o.Entry)
	}
	fmt.Fprintf(&b, "and ferry's would be\n  %s\n", p.Ferry)
	b.WriteString("Remove or narrow the configuration above (its events or its prefix), or, if it already sends\n" +
		"ferry's events, rename its Id to " + ID + " so that setup manages it; then re-run.")
	return b.String()
}

// Apply writes the plan's resulting configuration to the bucket. A
// refusal by the server is explained.
func Apply(ctx context.Context, c *s3.Client, p *Plan) error {
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket:                    aws.String(p.Bucket),
		NotificationConfiguration: p.Result.AWS(),
	})
	if err != nil {
		return explain(err, p)
	}
	return nil
}

// explain turns the server's refusal into what to do. S3 and MinIO say
// little more than "InvalidArgument" for a target they cannot use.
func explain(err error, p *Plan) error {
	e := &Error{Msg: "set the event notifications of s3://" + p.Bucket, Err: err}
	a, _ := parseARN(p.Target.ARN)
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "overlap"):
		e.Help = overlapHelp(p)
	case code(err) == "AccessDenied":
		e.Help = "The source's profile needs s3:PutBucketNotification on the bucket."
	case code(err) == "UnsupportedNotification":
		e.Help = "This server sends events only to queue targets (MinIO: arn:minio:sqs::NAME:webhook or :nats), not to " +
			string(p.Target.Kind) + "s."
	case a.partition == "minio":
		e.Help = fmt.Sprintf(`The server has no notification target %s: MinIO accepts only ARNs of targets defined in
its own configuration. `+"`mc admin config get ALIAS notify_webhook`"+` (or notify_nats) lists them; the ARN of
target NAME is arn:minio:sqs::NAME:webhook (or :nats). To create one:
  mc admin config set ALIAS notify_webhook:ferry endpoint=http://FERRY-HOST:8080/events auth_token=TOKEN
  mc admin service restart ALIAS`, p.Target.ARN)
	case strings.Contains(msg, "validate the following destination"), strings.Contains(msg, "destination arn"):
		e.Help = validateHelp(p)
	}
	return e
}

// validateHelp is for AWS's "Unable to validate the following destination
// configurations": S3 sends a test event at PUT time and the target
// refused it, or does not exist.
func validateHelp(p *Plan) string {
	switch p.Target.Kind {
	case Queue:
		return "S3 could not send a test message to " + p.Target.ARN + ": the queue must exist, be a standard queue in the\n" +
			"bucket's region, and its access policy must let s3.amazonaws.com sqs:SendMessage (the policy is printed\n" +
			"above; `ferry policy --config FILE` prints ferry's own). A queue encrypted with a customer managed KMS key\n" +
			"also needs a key policy letting s3.amazonaws.com kms:GenerateDataKey and kms:Decrypt."
	case Lambda:
		return "S3 could not check that it may invoke " + p.Target.ARN + ": the function must exist in the bucket's\n" +
			"region and allow s3.amazonaws.com to invoke it (the `aws lambda add-permission` command is printed above)."
	}
	return "S3 could not check that it may publish to " + p.Target.ARN + ": the topic must exist in the bucket's region\n" +
		"and its policy must let s3.amazonaws.com sns:Publish."
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
