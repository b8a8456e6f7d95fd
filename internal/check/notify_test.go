package check

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func queueCfg(arn string, events ...string) types.QueueConfiguration {
	q := types.QueueConfiguration{QueueArn: aws.String(arn)}
	for _, e := range events {
		q.Events = append(q.Events, types.Event(e))
	}
	return q
}

func TestJudgeNotifications(t *testing.T) {
	const queue = "arn:aws:sqs:eu-west-1:123456789012:ferry-events"
	const hook = "arn:minio:sqs::hook1:webhook"
	sqsWant := intakeWant{queueARN: queue, prefixes: []string{""}}
	minioWant := intakeWant{minio: true, deletes: `rule "x" replicates delete markers`, prefixes: []string{"logs/"}}
	prefixFilter := func(q types.QueueConfiguration, name, value string) types.QueueConfiguration {
		q.Filter = &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{
			{Name: types.FilterRuleName(name), Value: aws.String(value)}}}}
		return q
	}
	for _, tc := range []struct {
		name string
		nc   s3.GetBucketNotificationConfigurationOutput
		want intakeWant
		st   Status
		has  string
	}{
		{"none", s3.GetBucketNotificationConfigurationOutput{}, sqsWant, Fail, "no event notifications"},
		{"sqs queue", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(queue, "s3:ObjectCreated:*")}}, sqsWant, Pass, queue},
		{"sqs each created event", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(queue, "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload")}},
			sqsWant, Pass, ""},
		{"multipart missing", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(queue, "s3:ObjectCreated:Put")}}, sqsWant, Fail, "do not include s3:ObjectCreated:*"},
		{"another queue", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg("arn:aws:sqs:eu-west-1:123456789012:other", "s3:ObjectCreated:*")}}, sqsWant, Fail, "not to the SQS queue " + queue},
		{"minio ARN does not do for SQS", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(hook, "s3:ObjectCreated:*")}}, sqsWant, Fail, "not to the SQS queue"},
		{"through SNS", s3.GetBucketNotificationConfigurationOutput{TopicConfigurations: []types.TopicConfiguration{
			{TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:t")}}}, sqsWant, Warn, "SNS topic"},
		{"through EventBridge", s3.GetBucketNotificationConfigurationOutput{EventBridgeConfiguration: &types.EventBridgeConfiguration{}},
			sqsWant, Warn, "EventBridge"},
		{"minio webhook", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(hook, "s3:ObjectCreated:*", "s3:ObjectRemoved:*")}}, minioWant, Pass, hook},
		{"deletes missing", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(hook, "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete")}}, minioWant, Fail, `s3:ObjectRemoved:* (rule "x" replicates delete markers)`},
		{"deletes in a second configuration", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			queueCfg(hook, "s3:ObjectCreated:*"), queueCfg("arn:minio:sqs::js:nats", "s3:ObjectRemoved:*")}}, minioWant, Pass, ""},
		{"prefix filter covering the rules", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			prefixFilter(queueCfg(hook, "s3:ObjectCreated:*", "s3:ObjectRemoved:*"), "prefix", "lo")}}, minioWant, Pass, ""},
		{"prefix filter leaving keys out", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			prefixFilter(queueCfg(hook, "s3:ObjectCreated:*", "s3:ObjectRemoved:*"), "prefix", "logs/app/")}}, minioWant, Warn, `under "logs/app/"`},
		{"suffix filter", s3.GetBucketNotificationConfigurationOutput{QueueConfigurations: []types.QueueConfiguration{
			prefixFilter(queueCfg(hook, "s3:ObjectCreated:*", "s3:ObjectRemoved:*"), "Suffix", ".gz")}}, minioWant, Warn, `ending in ".gz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, detail := judgeNotifications(&tc.nc, tc.want)
			if st != tc.st || !strings.Contains(detail, tc.has) {
				t.Errorf("got %s %q, want %s containing %q", st, detail, tc.st, tc.has)
			}
		})
	}
}

func TestQueueARNFromURL(t *testing.T) {
	for _, tc := range []struct{ url, region, want string }{
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/ferry-events", "", "arn:aws:sqs:eu-west-1:123456789012:ferry-events"},
		{"https://queue.amazonaws.com/123456789012/q", "eu-west-1", "arn:aws:sqs:us-east-1:123456789012:q"},
		{"https://ap-south-1.queue.amazonaws.com/123456789012/q", "", "arn:aws:sqs:ap-south-1:123456789012:q"},
		{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "", "arn:aws-cn:sqs:cn-north-1:123456789012:q"},
		{"http://127.0.0.1:9324/000000000000/local", "eu-central-1", "arn:aws:sqs:eu-central-1:000000000000:local"},
		{"http://127.0.0.1:9324/local", "", ""},
	} {
		if got := queueARNFromURL(tc.url, tc.region); got != tc.want {
			t.Errorf("queueARNFromURL(%q, %q) = %q, want %q", tc.url, tc.region, got, tc.want)
		}
	}
}

func TestMaxReceives(t *testing.T) {
	for policy, want := range map[string]int{
		"": 0, "garbage": 0,
		`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":5}`:   5,
		`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":"7"}`: 7,
	} {
		if got := maxReceives(policy); got != want {
			t.Errorf("maxReceives(%q) = %d, want %d", policy, got, want)
		}
	}
}

func TestClockStatus(t *testing.T) {
	for _, tc := range []struct {
		skew string
		want Status
	}{{"0s", Pass}, {"59s", Pass}, {"-61s", Warn}, {"4m59s", Warn}, {"5m1s", Fail}, {"-16m", Fail}} {
		d, _ := time.ParseDuration(tc.skew)
		if got, _ := clockStatus(d); got != tc.want {
			t.Errorf("clockStatus(%s) = %s, want %s", tc.skew, got, tc.want)
		}
	}
}
