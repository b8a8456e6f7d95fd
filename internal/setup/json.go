package setup

import "encoding/json"

// PlanJSON is the plan for scripts (--json). Configuration is the
// resulting notification configuration in the shape of
// `aws s3api put-bucket-notification-configuration --notification-configuration`.
type PlanJSON struct {
	Bucket           string          `json:"bucket"`
	Target           Target          `json:"target"`
	Changed          bool            `json:"changed"`
	Changes          []ChangeJSON    `json:"changes"`
	Overlaps         []Overlap       `json:"overlaps,omitempty"`
	Configuration    awsConfig       `json:"configuration"`
	QueuePolicy      json.RawMessage `json:"queue_policy,omitempty"`
	LambdaPermission []string        `json:"lambda_permission,omitempty"`
}

// ChangeJSON is one Change: the configuration as it will be (as it was,
// for a removal) and, when replaced, as it was.
type ChangeJSON struct {
	Action Action `json:"action"`
	Entry
	Was *Entry `json:"was,omitempty"`
}

// JSON returns the plan for scripts, with the permission hints of its
// target.
func (p *Plan) JSON() PlanJSON {
	j := PlanJSON{Bucket: p.Bucket, Target: p.Target, Changed: p.Changed(), Overlaps: p.Overlaps,
		Configuration: toJSON(p.Result)}
	for _, c := range p.Changes {
		cj := ChangeJSON{Action: c.Action}
		switch c.Action {
		case Remove:
			cj.Entry = *c.Old
		case Replace:
			cj.Entry, cj.Was = *c.New, c.Old
		default:
			cj.Entry = *c.New
		}
		j.Changes = append(j.Changes, cj)
	}
	if pol, ok := QueuePolicy(p.Target, p.Bucket); ok {
		j.QueuePolicy = json.RawMessage(pol)
	}
	if cmd, ok := LambdaPermission(p.Target, p.Bucket); ok {
		j.LambdaPermission = cmd
	}
	return j
}

// awsConfig is S3's NotificationConfiguration as the AWS CLI reads it.
type awsConfig struct {
	QueueConfigurations          []awsItem `json:"QueueConfigurations,omitempty"`
	LambdaFunctionConfigurations []awsItem `json:"LambdaFunctionConfigurations,omitempty"`
	TopicConfigurations          []awsItem `json:"TopicConfigurations,omitempty"`
	EventBridgeConfiguration     *struct{} `json:"EventBridgeConfiguration,omitempty"`
}

type awsItem struct {
	ID                string     `json:"Id,omitempty"`
	QueueArn          string     `json:"QueueArn,omitempty"`
	LambdaFunctionArn string     `json:"LambdaFunctionArn,omitempty"`
	TopicArn          string     `json:"TopicArn,omitempty"`
	Events            []string   `json:"Events"`
	Filter            *awsFilter `json:"Filter,omitempty"`
}

type awsFilter struct {
	Key struct {
		FilterRules []awsRule `json:"FilterRules"`
	} `json:"Key"`
}

type awsRule struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

func toJSON(c Config) awsConfig {
	var out awsConfig
	if c.EventBridge {
		out.EventBridgeConfiguration = &struct{}{}
	}
	for _, e := range c.Entries {
		it := awsItem{ID: e.ID, Events: e.Events}
		if e.Prefix != "" || e.Suffix != "" {
			it.Filter = &awsFilter{}
			if e.Prefix != "" {
				it.Filter.Key.FilterRules = append(it.Filter.Key.FilterRules, awsRule{"prefix", e.Prefix})
			}
			if e.Suffix != "" {
				it.Filter.Key.FilterRules = append(it.Filter.Key.FilterRules, awsRule{"suffix", e.Suffix})
			}
		}
		switch e.Kind {
		case Queue:
			it.QueueArn = e.ARN
			out.QueueConfigurations = append(out.QueueConfigurations, it)
		case Lambda:
			it.LambdaFunctionArn = e.ARN
			out.LambdaFunctionConfigurations = append(out.LambdaFunctionConfigurations, it)
		case Topic:
			it.TopicArn = e.ARN
			out.TopicConfigurations = append(out.TopicConfigurations, it)
		}
	}
	return out
}
