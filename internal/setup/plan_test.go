package setup

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestSetupPlan(t *testing.T) {
	ferry := Entry{ID: ID, Kind: Queue, ARN: "arn:minio:sqs::ferry:webhook", Events: []string{ObjectCreated}, Prefix: "builds/"}
	other := Entry{ID: "audit", Kind: Queue, ARN: "arn:minio:sqs::audit:webhook", Events: []string{ObjectRemoved}, Prefix: "builds/"}
	old := Entry{ID: "ferry-test", Kind: Queue, ARN: "arn:minio:sqs::old:webhook", Events: []string{ObjectCreated}}

	actions := func(p *Plan) string {
		var s []string
		for _, c := range p.Changes {
			s = append(s, string(c.Action))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name    string
		current Config
		actions string
		changed bool
		result  []Entry
	}{
		{"empty bucket", Config{}, "add", true, []Entry{ferry}},
		{"other kept", Config{Entries: []Entry{other}}, "keep add", true, []Entry{other, ferry}},
		{"already so", Config{Entries: []Entry{other, ferry}}, "keep unchanged", false, []Entry{other, ferry}},
		{"old ferry replaced", Config{Entries: []Entry{old, other}}, "replace keep", true, []Entry{ferry, other}},
		{"second ferry removed", Config{Entries: []Entry{ferry, old}}, "unchanged remove", true, []Entry{ferry}},
	} {
		p := NewPlan("b", Target{Kind: Queue, ARN: ferry.ARN}, tc.current, ferry)
		if got := actions(p); got != tc.actions || p.Changed() != tc.changed ||
			!slices.EqualFunc(p.Result.Entries, tc.result, Entry.Equal) || len(p.Overlaps) != 0 {
			t.Errorf("%s: %s changed=%v result %v overlaps %v; want %s changed=%v result %v",
				tc.name, got, p.Changed(), p.Result.Entries, p.Overlaps, tc.actions, tc.changed, tc.result)
		}
	}

	// EventBridge delivery survives the PUT.
	p := NewPlan("b", Target{}, Config{EventBridge: true}, ferry)
	if n := p.Result.AWS(); n.EventBridgeConfiguration == nil {
		t.Errorf("EventBridge dropped")
	}
}

func TestSetupOverlaps(t *testing.T) {
	ferry := Entry{ID: ID, ARN: "arn:aws:sqs:us-east-1:1:ferry", Events: []string{ObjectCreated, ObjectRemoved}, Prefix: "logs/"}
	for _, tc := range []struct {
		other Entry
		want  bool
	}{
		{Entry{Events: []string{"s3:ObjectCreated:Put"}}, true},
		{Entry{Events: []string{"s3:ObjectCreated:Put"}, Prefix: "logs/app/"}, true},
		{Entry{Events: []string{"s3:ObjectRemoved:DeleteMarkerCreated"}, Suffix: ".gz"}, true},
		{Entry{Events: []string{"s3:ObjectCreated:*"}, Prefix: "images/"}, false},
		{Entry{Events: []string{"s3:ObjectRestore:*", "s3:ObjectAccessed:*"}}, false},
	} {
		if got := overlaps(tc.other, ferry); got != tc.want {
			t.Errorf("overlaps(%v, ferry) = %v, want %v", tc.other, got, tc.want)
		}
	}
	other := Entry{ID: "mine", Kind: Queue, ARN: "arn:aws:sqs:us-east-1:1:other", Events: []string{"s3:ObjectCreated:Put"}}
	p := NewPlan("b", Target{Kind: Queue, ARN: ferry.ARN}, Config{Entries: []Entry{other}}, ferry)
	if len(p.Overlaps) != 1 || p.Overlaps[0].ID != "mine" || p.Refusal() == nil {
		t.Errorf("overlaps %v, refusal %v: want mine, refused (AWS target)", p.Overlaps, p.Refusal())
	}
	p = NewPlan("b", Target{Kind: Queue, ARN: "arn:minio:sqs::ferry:webhook"}, Config{Entries: []Entry{other}}, ferry)
	if len(p.Overlaps) != 1 || p.Refusal() != nil {
		t.Errorf("MinIO: overlaps %v, refusal %v: want an overlap, not refused (MinIO accepts them)", p.Overlaps, p.Refusal())
	}
}

// TestSetupLambdaConfiguration: a Lambda target becomes a
// LambdaFunctionConfiguration with ferry's Id, events and prefix filter,
// next to the kept configurations of the other kinds, in S3's shape and in
// the AWS CLI's JSON.
func TestSetupLambdaConfiguration(t *testing.T) {
	fn := "arn:aws:lambda:eu-west-1:123456789012:function:ferry:live"
	target, err := ChooseTarget(nil, "ferry.yaml", "", fn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, `source: {bucket: my.bucket}
destinations: [{bucket: dst}]
replication: {Rules: [{ID: a, Status: Enabled, Priority: 1, Filter: {Prefix: in/}, DeleteMarkerReplication: {Status: Enabled}, Destination: {Bucket: "arn:aws:s3:::dst"}}]}`)
	want, err := Want(cfg, target)
	if err != nil {
		t.Fatal(err)
	}
	current := FromAWS(&types.NotificationConfiguration{
		QueueConfigurations: []types.QueueConfiguration{{Id: aws.String("q"), QueueArn: aws.String("arn:aws:sqs:eu-west-1:123456789012:q"),
			Events: []types.Event{"s3:ObjectRestore:Completed"}, Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{
				FilterRules: []types.FilterRule{{Name: "Prefix", Value: aws.String("in/")}}}}}},
	})
	p := NewPlan("my.bucket", target, current, want)
	n := p.Result.AWS()
	if len(n.LambdaFunctionConfigurations) != 1 || len(n.QueueConfigurations) != 1 || len(n.TopicConfigurations) != 0 {
		t.Fatalf("result %+v", n)
	}
	l := n.LambdaFunctionConfigurations[0]
	if aws.ToString(l.Id) != "ferry" || aws.ToString(l.LambdaFunctionArn) != fn ||
		!slices.Equal(l.Events, []types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}) ||
		l.Filter == nil || len(l.Filter.Key.FilterRules) != 1 || l.Filter.Key.FilterRules[0].Name != types.FilterRuleNamePrefix ||
		aws.ToString(l.Filter.Key.FilterRules[0].Value) != "in/" {
		t.Errorf("lambda configuration %+v", l)
	}
	if q := n.QueueConfigurations[0]; aws.ToString(q.Id) != "q" || aws.ToString(q.Filter.Key.FilterRules[0].Value) != "in/" {
		t.Errorf("kept queue configuration %+v", q)
	}

	b, _ := json.Marshal(p.JSON())
	for _, s := range []string{
		`"LambdaFunctionConfigurations":[{"Id":"ferry","LambdaFunctionArn":"` + fn + `","Events":["s3:ObjectCreated:*","s3:ObjectRemoved:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"}]}}}]`,
		`"changed":true`,
		`"lambda_permission":["aws","lambda","add-permission","--function-name","` + fn + `","--statement-id","ferry-s3-my-bucket"`,
		`"--source-arn","arn:aws:s3:::my.bucket","--source-account","123456789012","--region","eu-west-1"]`,
	} {
		if !strings.Contains(string(b), s) {
			t.Errorf("JSON lacks %s\n%s", s, b)
		}
	}
	if strings.Contains(string(b), "queue_policy") {
		t.Errorf("a queue policy for a Lambda target: %s", b)
	}
}

func TestSetupQueuePolicy(t *testing.T) {
	pol, ok := QueuePolicy(Target{Kind: Queue, ARN: "arn:aws-cn:sqs:cn-north-1:123456789012:q"}, "src")
	var doc struct {
		Statement []struct {
			Principal struct{ Service string }
			Action    string
			Resource  string
			Condition struct {
				ArnEquals    map[string]string
				StringEquals map[string]string
			}
		}
	}
	if !ok || json.Unmarshal([]byte(pol), &doc) != nil || len(doc.Statement) != 1 {
		t.Fatalf("policy %v %s", ok, pol)
	}
	s := doc.Statement[0]
	if s.Principal.Service != "s3.amazonaws.com" || s.Action != "sqs:SendMessage" || s.Resource != "arn:aws-cn:sqs:cn-north-1:123456789012:q" ||
		s.Condition.ArnEquals["aws:SourceArn"] != "arn:aws-cn:s3:::src" || s.Condition.StringEquals["aws:SourceAccount"] != "123456789012" {
		t.Errorf("policy %s", pol)
	}
	if _, ok := QueuePolicy(Target{Kind: Queue, ARN: "arn:minio:sqs::ferry:webhook"}, "src"); ok {
		t.Errorf("a queue policy for a MinIO target")
	}
}
