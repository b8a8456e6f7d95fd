package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Document names, as --document takes them and the JSON output keys them.
const (
	DocTrust       = "trust"
	DocPermissions = "permissions"
	docRoleTrust   = "role-trust:"
	docRolePerms   = "role-permissions:"
	docBucket      = "bucket:"
	docKey         = "key:"
	docQueue       = "queue:"
)

// Names lists the documents of the set, in output order.
func (s *Set) Names() []string {
	var out []string
	if s.Trust != nil {
		out = append(out, DocTrust)
	}
	out = append(out, DocPermissions)
	for _, r := range s.Roles {
		out = append(out, docRoleTrust+r.Name, docRolePerms+r.Name)
	}
	for _, b := range s.Buckets {
		out = append(out, docBucket+b.Bucket)
	}
	for _, k := range s.Keys {
		out = append(out, docKey+k.Key)
	}
	for _, q := range s.Queues {
		out = append(out, docQueue+q.Name)
	}
	return out
}

// Document returns one document by name: a policy document, or for a key
// the list of statements to add to its policy.
func (s *Set) Document(name string) (any, error) {
	switch {
	case name == DocTrust && s.Trust != nil:
		return s.Trust, nil
	case name == DocPermissions:
		return s.Permissions, nil
	}
	for _, r := range s.Roles {
		switch name {
		case docRoleTrust + r.Name:
			return r.Trust, nil
		case docRolePerms + r.Name:
			return r.Permissions, nil
		}
	}
	for _, b := range s.Buckets {
		if name == docBucket+b.Bucket {
			return b.Policy, nil
		}
	}
	for _, k := range s.Keys {
		if name == docKey+k.Key {
			return k.Statements, nil
		}
	}
	for _, q := range s.Queues {
		if name == docQueue+q.Name {
			return q.Policy, nil
		}
	}
	return nil, fmt.Errorf("no document %q (this config has: %s)", name, strings.Join(s.Names(), ", "))
}

// JSON is the whole set as one JSON object, so a script picks the
// document it wants (jq '.permission_policy'):
//
//	{"notes": [...], "trust_policy": {...}, "permission_policy": {...},
//	 "assumed_roles": {"NAME": {"arn": ..., "profile": ..., "trust_policy": {...}, "permission_policy": {...}}},
//	 "bucket_policies": {"BUCKET": {...}}, "key_policy_statements": {"KEY": [...]},
//	 "queue_policies": {"QUEUE": {...}}}
//
// Sections with nothing in them are left out.
func (s *Set) JSON() ([]byte, error) {
	top := ordered{}
	if len(s.Notes) > 0 {
		top = top.add("notes", s.Notes)
	}
	if s.Trust != nil {
		top = top.add("trust_policy", s.Trust)
	}
	top = top.add("permission_policy", s.Permissions)
	if len(s.Roles) > 0 {
		m := ordered{}
		for _, r := range s.Roles {
			m = m.add(r.Name, ordered{}.add("arn", r.ARN).add("profile", r.Profile).
				add("trust_policy", r.Trust).add("permission_policy", r.Permissions))
		}
		top = top.add("assumed_roles", m)
	}
	if len(s.Buckets) > 0 {
		m := ordered{}
		for _, b := range s.Buckets {
			m = m.add(b.Bucket, b.Policy)
		}
		top = top.add("bucket_policies", m)
	}
	if len(s.Keys) > 0 {
		m := ordered{}
		for _, k := range s.Keys {
			m = m.add(k.Key, k.Statements)
		}
		top = top.add("key_policy_statements", m)
	}
	if len(s.Queues) > 0 {
		m := ordered{}
		for _, q := range s.Queues {
			m = m.add(q.Name, q.Policy)
		}
		top = top.add("queue_policies", m)
	}
	return marshal(top)
}

// marshal writes v indented, without HTML escapes: "<ACCOUNT_ID>" must
// read as written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MarshalDocument writes one document (as Document returns it) the way
// JSON does.
func MarshalDocument(v any) ([]byte, error) { return marshal(v) }

// ordered is a JSON object that keeps its keys in insertion order.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) add(k string, v any) ordered { return append(o, kv{k, v}) }

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := plainJSON(e.k)
		if err != nil {
			return nil, err
		}
		v, err := plainJSON(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
