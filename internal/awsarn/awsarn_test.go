package awsarn

import "testing"

func TestQueue(t *testing.T) {
	for _, tc := range []struct{ url, fallback, want string }{
		{"https://sqs.us-east-1.amazonaws.com/123456789012/ferry-events", "", "arn:aws:sqs:us-east-1:123456789012:ferry-events"},
		{"https://sqs.eu-west-3.amazonaws.com/123456789012/q/", "us-east-1", "arn:aws:sqs:eu-west-3:123456789012:q"},
		{"https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "", "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q"},
		{"https://sqs-fips.us-east-2.amazonaws.com/123456789012/q", "", "arn:aws:sqs:us-east-2:123456789012:q"},
		{"https://queue.amazonaws.com/123456789012/legacy", "", "arn:aws:sqs:us-east-1:123456789012:legacy"},
		{"https://ap-southeast-2.queue.amazonaws.com/123456789012/legacy", "", "arn:aws:sqs:ap-southeast-2:123456789012:legacy"},
		{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "", "arn:aws-cn:sqs:cn-north-1:123456789012:q"},
		{"https://sqs.us-west-2.api.aws/123456789012/q", "", "arn:aws:sqs:us-west-2:123456789012:q"},
		{"https://vpce-0abc-xyz.sqs.eu-central-1.vpce.amazonaws.com/123456789012/q", "", "arn:aws:sqs:eu-central-1:123456789012:q"},
		{"HTTPS://SQS.US-EAST-1.AMAZONAWS.COM:443/123456789012/Q", "", "arn:aws:sqs:us-east-1:123456789012:Q"},
		{"http://localhost:4566/000000000000/local", "us-east-1", "arn:aws:sqs:us-east-1:000000000000:local"},
	} {
		got, err := Queue(tc.url, tc.fallback)
		if err != nil || got != tc.want {
			t.Errorf("Queue(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"http://localhost:4566/000000000000/local", // no region anywhere
		"https://sqs.us-east-1.amazonaws.com/ferry-events",
		"https://sqs.us-east-1.amazonaws.com/1/2/3",
		"not a url",
	} {
		if got, err := Queue(bad, ""); err == nil {
			t.Errorf("Queue(%q) = %q, want an error", bad, got)
		}
	}
}
