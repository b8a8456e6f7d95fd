package setup

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/config"
)

func TestSetupChooseTarget(t *testing.T) {
	sqs := mustParse(t, `
source: {bucket: src}
destinations: [{bucket: dst}]
run: {sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/ferry"}}
`)
	plain := mustParse(t, "source: {bucket: src}\ndestinations: [{bucket: dst}]\nrun: {listen: 0.0.0.0:9000}\n")
	nats := mustParse(t, "source: {bucket: src}\ndestinations: [{bucket: dst}]\nrun: {nats: {url: nats://n1:4222, subject: minio.events}}\n")
	for _, tc := range []struct {
		name               string
		cfg                *config.Config
		target, lambda     string
		kind               Kind
		arn, from, errPart string
	}{
		{"queue url", sqs, "", "", Queue, "arn:aws:sqs:us-east-1:123456789012:ferry", "run.sqs.queue_url", ""},
		{"target wins", sqs, "arn:minio:sqs::ferry:webhook", "", Queue, "arn:minio:sqs::ferry:webhook", "--target", ""},
		{"lambda flag", sqs, "", "arn:aws:lambda:us-east-1:123456789012:function:f", Lambda, "arn:aws:lambda:us-east-1:123456789012:function:f", "--lambda-arn", ""},
		{"lambda target", plain, "arn:aws:lambda:us-east-1:123456789012:function:f:live", "", Lambda, "arn:aws:lambda:us-east-1:123456789012:function:f:live", "--target", ""},
		{"topic", plain, "arn:aws:sns:default::ferry", "", Topic, "arn:aws:sns:default::ferry", "--target", ""},
		{"both", plain, "arn:minio:sqs::ferry:webhook", "arn:aws:lambda:us-east-1:1:function:f", "", "", "", "not both"},
		{"not lambda", plain, "", "arn:aws:sqs:us-east-1:1:q", "", "", "", "function ARN"},
		{"not an arn", plain, "ferry", "", "", "", "", "not an ARN"},
		{"s3 arn", plain, "arn:aws:s3:::bucket", "", "", "", "", `not to "s3"`},
		{"fifo", plain, "arn:aws:sqs:us-east-1:123456789012:q.fifo", "", "", "", "", "FIFO"},
	} {
		got, err := ChooseTarget(tc.cfg, "ferry.yaml", tc.target, tc.lambda)
		switch {
		case tc.errPart != "":
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("%s: err %v, want one with %q", tc.name, err, tc.errPart)
			}
		case err != nil || got.Kind != tc.kind || got.ARN != tc.arn || got.From != tc.from:
			t.Errorf("%s: %+v, %v; want %s %s from %s", tc.name, got, err, tc.kind, tc.arn, tc.from)
		}
	}

	// Webhook and NATS targets cannot be found through S3: say how to make one.
	_, err := ChooseTarget(plain, "ferry.yaml", "", "")
	var need *NeedTarget
	if !errors.As(err, &need) || need.Intake != "webhook" ||
		!strings.Contains(need.Help, "mc admin config set ALIAS notify_webhook:ferry endpoint=http://FERRY-HOST:9000/events") ||
		!strings.Contains(need.Help, `auth_token="$FERRY_WEBHOOK_TOKEN"`) ||
		!strings.Contains(need.Help, "--target arn:minio:sqs::ferry:webhook") {
		t.Errorf("webhook: %v\n%+v", err, need)
	}
	_, err = ChooseTarget(nats, "ferry.yaml", "", "")
	if !errors.As(err, &need) || need.Intake != "nats" ||
		!strings.Contains(need.Help, "notify_nats:ferry address=n1:4222 subject=minio.events jetstream=on") ||
		!strings.Contains(need.Help, "--target arn:minio:sqs::ferry:nats") {
		t.Errorf("nats: %v\n%+v", err, need)
	}
}

func mustParse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml), t.TempDir(), "ferry.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}
