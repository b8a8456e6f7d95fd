package policy

import (
	"strings"
	"testing"
)

// The evaluator is a model of IAM; these pin the parts of IAM's behaviour
// the other tests rely on.
func TestPolicyEvaluate(t *testing.T) {
	doc := &Document{Version: Version, Statement: []Statement{
		{Effect: Allow, Action: Strings{"s3:Get*"}, Resource: Strings{"arn:aws:s3:::b/logs/*"}},
		{Effect: Allow, Action: Strings{"s3:PutObject"}, Resource: Strings{"arn:aws:s3:::b/odd${*}key?"}},
		{Effect: Deny, Action: Strings{"s3:GetObject"}, Resource: Strings{"arn:aws:s3:::b/logs/secret/*"}},
		{Effect: Allow, Action: Strings{"s3:ListBucket"}, Resource: Strings{"arn:aws:s3:::b"},
			Condition: Conditions{}.add("StringLikeIfExists", "s3:prefix", "logs/*")},
		{Effect: Allow, Action: Strings{"s3:PutObjectAcl"}, Resource: Strings{"arn:aws:s3:::b/*"},
			Condition: Conditions{}.add("StringEquals", "s3:x-amz-acl", "private")},
		{Effect: Allow, Action: Strings{"kms:Decrypt"}, Resource: Strings{"arn:aws:kms:*:111122223333:key/*"},
			Condition: Conditions{}.add("ForAnyValue:StringEquals", "kms:ResourceAliases", "alias/a").
				add("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com")},
		{Effect: Allow, Action: Strings{"sqs:SendMessage"}, Principal: &Principal{Service: Strings{"s3.amazonaws.com"}},
			Resource: Strings{"arn:aws:sqs:us-east-1:111122223333:q"}, Condition: Conditions{}.add("ArnLike", "aws:SourceArn", "arn:aws:s3:::b")},
		{Effect: Allow, Action: Strings{"s3:DeleteObject"}, Principal: &Principal{AWS: Strings{"444455556666"}},
			Resource: Strings{"arn:aws:s3:::b/*"}},
	}}
	ctx := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	for _, tc := range []struct {
		name string
		r    Request
		want bool
	}{
		{"wildcard action, case-insensitive", Request{Action: "S3:GETOBJECTTAGGING", Resource: "arn:aws:s3:::b/logs/a"}, true},
		{"resource wildcard crosses slashes", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/logs/x/y/z"}, true},
		{"resources are case-sensitive", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/Logs/a"}, false},
		{"another bucket", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bb/logs/a"}, false},
		{"explicit deny wins", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/logs/secret/k"}, false},
		{"no statement: implicit deny", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/logs/a"}, false},
		{"${*} is a literal star", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/odd*keyZ"}, true},
		{"${*} does not match other text", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/oddXkeyZ"}, false},
		{"IfExists: absent key", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, true},
		{"IfExists: matching key", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: ctx("s3:prefix", "logs/2024/")}, true},
		{"IfExists: other value", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: ctx("s3:prefix", "private/")}, false},
		{"StringEquals: absent key fails", Request{Action: "s3:PutObjectAcl", Resource: "arn:aws:s3:::b/k"}, false},
		{"StringEquals: other value", Request{Action: "s3:PutObjectAcl", Resource: "arn:aws:s3:::b/k", Context: ctx("s3:x-amz-acl", "public-read")}, false},
		{"StringEquals: value", Request{Action: "s3:PutObjectAcl", Resource: "arn:aws:s3:::b/k", Context: ctx("s3:x-amz-acl", "private")}, true},
		{"ForAnyValue: one of the aliases", Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
			Context: ctx("kms:ResourceAliases", "alias/z", "kms:ResourceAliases", "alias/a", "kms:ViaService", "s3.us-east-1.amazonaws.com")}, true},
		{"ForAnyValue: absent key fails", Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
			Context: ctx("kms:ViaService", "s3.us-east-1.amazonaws.com")}, false},
		{"all conditions must hold", Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
			Context: ctx("kms:ResourceAliases", "alias/a")}, false},
		{"service principal", Request{Principal: "s3.amazonaws.com", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:q",
			Context: ctx("aws:SourceArn", "arn:aws:s3:::b")}, true},
		{"other service", Request{Principal: "sns.amazonaws.com", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:q",
			Context: ctx("aws:SourceArn", "arn:aws:s3:::b")}, false},
		{"account principal covers its roles", Request{Principal: "arn:aws:iam::444455556666:role/x", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"}, true},
		{"other account", Request{Principal: "arn:aws:iam::111122223333:role/x", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"}, false},
	} {
		got, err := Evaluate(doc, tc.r)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if got != tc.want {
			t.Errorf("%s: %+v allowed=%v, want %v", tc.name, tc.r, got, tc.want)
		}
	}
}

// What the evaluator does not model is an error, never a silent answer.
func TestPolicyEvaluateRefusesWhatItDoesNotModel(t *testing.T) {
	for _, st := range []Statement{
		{Effect: Allow, Action: Strings{"s3:GetObject"}, Resource: Strings{"arn:aws:s3:::b/${aws:username}/*"}},
		{Effect: Allow, Action: Strings{"s3:GetObject"}, Resource: Strings{"*"}, Condition: Conditions{}.add("IpAddress", "aws:SourceIp", "10.0.0.0/8")},
		{Effect: "Maybe", Action: Strings{"s3:GetObject"}, Resource: Strings{"*"}},
	} {
		_, err := Evaluate(&Document{Statement: []Statement{st}}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/u/k",
			Context: map[string][]string{"aws:SourceIp": {"10.1.1.1"}}})
		if err == nil {
			t.Errorf("%+v: no error", st)
		}
	}
}

func TestPolicyGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*b*", "xxaxxbxx", true}, {"${?}", "?", true}, {"${?}", "x", false},
		{"${$}{x}", "${x}", true},
	} {
		got, err := glob(tc.p, tc.s, true)
		if err != nil || got != tc.want {
			t.Errorf("glob(%q, %q) = %v, %v; want %v", tc.p, tc.s, got, err, tc.want)
		}
	}
	if got := escape("a*b?c$d"); got != "a${*}b${?}c${$}d" || !strings.Contains(objectARN("aws", "b", "x*"), "x${*}*") {
		t.Errorf("escape: %q", got)
	}
}
