package redact

import (
	"go.yaml.in/yaml/v3"
)

// DefaultTokenEnv is the variable `ferry run` reads the webhook token from
// when run.webhook.token_env does not name another (config.DefaultTokenEnv).
const DefaultTokenEnv = "FERRY_WEBHOOK_TOKEN"

// FromYAML returns the secrets a ferry.yaml names, found by key wherever
// they are, so that it works on a file that does not load (a type error
// quotes the value it could not use):
//
//	token                       a bearer token (run.webhook, notification webhooks)
//	token_env                   the value of the variable it names
//	url, endpoint_url, queue_url  see URLSecrets (NATS user:password, ?key=...)
//
// and the value of DefaultTokenEnv. getenv reads the environment (os.Getenv).
func FromYAML(data []byte, getenv func(string) string) []string {
	out := []string{getenv(DefaultTokenEnv)}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nonEmpty(out)
	}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 64 { // aliases can nest without end
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.ScalarNode {
					switch k.Value {
					case "token":
						out = append(out, v.Value)
					case "token_env":
						out = append(out, getenv(v.Value))
					case "url", "endpoint_url", "queue_url":
						out = append(out, URLSecrets(v.Value)...)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(&root, 0)
	return nonEmpty(out)
}

func nonEmpty(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
