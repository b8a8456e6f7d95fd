// Package policy writes the least-privilege AWS documents a ferry.yaml
// needs: the role's trust policy, its permission policy, the bucket
// policies of cross-account destinations, the statements the KMS keys'
// policies need, and the SQS queue policy that lets S3 send events.
//
// Every action granted is one that ferry's code paths send (see table.go,
// which tests keep in step with the code), on only the buckets, key
// prefixes, keys, queues and topics the configuration names. Generation is
// pure: the caller supplies what it knows about profiles.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Version is the policy language version; policy variables and the ${*}
// escapes need it.
const Version = "2012-10-17"

// Document is an IAM policy document: identity-based (no Principal) or
// resource-based (each statement names its Principal).
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement. Fields are in the order AWS's own examples
// use, which is the order they are printed in.
type Statement struct {
	Sid       string     `json:"Sid,omitempty"`
	Effect    string     `json:"Effect"`
	Principal *Principal `json:"Principal,omitempty"`
	Action    Strings    `json:"Action"`
	Resource  Strings    `json:"Resource,omitempty"`
	Condition Conditions `json:"Condition,omitempty"`
}

// Effects.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Strings is a policy value that may be written as one string or a list;
// one element is printed as a plain string, as AWS prints it.
type Strings []string

// MarshalJSON writes a single value as a string, more as an array.
func (s Strings) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return plainJSON(s[0])
	}
	return plainJSON([]string(s))
}

// UnmarshalJSON reads a string or an array of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or an array of strings: %w", err)
	}
	*s = many
	return nil
}

// Principal is a resource policy's Principal: AWS principals (ARNs,
// account IDs) and service principals. Any is "*".
type Principal struct {
	AWS     Strings
	Service Strings
	Any     bool
}

// MarshalJSON writes "*" or {"AWS": ..., "Service": ...}.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return plainJSON("*")
	}
	m := map[string]Strings{}
	if len(p.AWS) > 0 {
		m["AWS"] = p.AWS
	}
	if len(p.Service) > 0 {
		m["Service"] = p.Service
	}
	return plainJSON(m)
}

// UnmarshalJSON reads "*" or an object keyed by principal type.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "*" {
			return fmt.Errorf("principal %q: want \"*\" or an object", s)
		}
		*p = Principal{Any: true}
		return nil
	}
	var m map[string]Strings
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = Principal{AWS: m["AWS"], Service: m["Service"]}
	for k := range m {
		if k != "AWS" && k != "Service" {
			return fmt.Errorf("principal type %q is not supported here", k)
		}
	}
	return nil
}

// Conditions is a statement's Condition block: operator -> key -> values.
// encoding/json prints map keys sorted, so output is stable.
type Conditions map[string]map[string]Strings

// add sets key's values under operator.
func (c Conditions) add(operator, key string, values ...string) Conditions {
	if c == nil {
		c = Conditions{}
	}
	if c[operator] == nil {
		c[operator] = map[string]Strings{}
	}
	c[operator][key] = append(c[operator][key], values...)
	return c
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// plainJSON is json.Marshal without HTML escapes: a placeholder such as
// "<ACCOUNT_ID>" must read as written.
func plainJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// newDocument returns a document holding statements.
func newDocument(statements ...Statement) *Document {
	return &Document{Version: Version, Statement: statements}
}

// ParseDocument reads a policy document, for tests and tools that check
// what was printed.
func ParseDocument(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	return &d, nil
}
