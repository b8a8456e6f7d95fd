package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Terraform writes the set as Terraform configuration (HCL) in the layout
// `terraform fmt` gives it: the documents as jsonencode() expressions of
// aws_iam_role (or, for a user, aws_iam_user_policy on an existing user),
// aws_iam_role_policy, aws_iam_instance_profile (ec2), aws_s3_bucket_policy
// and aws_sqs_queue_policy, and the key policy statements as a local value
// to merge into each key's own policy. source names the config in the
// heading.
func (s *Set) Terraform(source string) ([]byte, error) {
	w := &hclWriter{refs: map[string]string{}}
	name := tfName(s.Name)
	// The role (or user) is declared here, so the other documents refer
	// to its ARN, unless --role-arn named it.
	switch {
	case s.Runtime == User:
		w.refs[s.Principal] = "data.aws_iam_user." + name + ".arn"
	case !s.PrincipalGiven:
		w.refs[s.Principal] = "aws_iam_role." + name + ".arn"
	}
	roleNames := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		roleNames[i] = tfName(r.Name)
		if roleNames[i] == name {
			roleNames[i] += "_assumed"
		}
		w.refs[r.ARN] = "aws_iam_role." + roleNames[i] + ".arn"
	}

	fmt.Fprintf(&w.b, "# Written by `ferry policy --format terraform` for %s (runtime %s).\n", source, s.Runtime)
	if len(s.Notes) > 0 {
		w.b.WriteString("#\n# Notes:\n")
		for _, n := range s.Notes {
			w.comment("- "+n, "  ")
		}
	}

	if s.Runtime == User {
		w.block(`data "aws_iam_user" "`+name+`"`, []hattr{{"user_name", hstr(s.Name)}})
		w.block(`resource "aws_iam_user_policy" "`+name+`"`, []hattr{
			{"name", hstr(s.Name)},
			{"user", hexpr("data.aws_iam_user." + name + ".user_name")},
			{"policy", w.jsonencode(s.Permissions)},
		})
	} else {
		attrs := []hattr{{"name", hstr(s.Name)}}
		if p := rolePath(s.Principal); s.PrincipalGiven && p != "/" {
			attrs = append(attrs, hattr{"path", hstr(p)})
		}
		w.block(`resource "aws_iam_role" "`+name+`"`, append(attrs, hattr{"assume_role_policy", w.jsonencode(s.Trust)}))
		w.block(`resource "aws_iam_role_policy" "`+name+`"`, []hattr{
			{"name", hstr(s.Name)},
			{"role", hexpr("aws_iam_role." + name + ".id")},
			{"policy", w.jsonencode(s.Permissions)},
		})
		if s.Runtime == EC2 {
			w.block(`resource "aws_iam_instance_profile" "`+name+`"`, []hattr{
				{"name", hstr(s.Name)},
				{"role", hexpr("aws_iam_role." + name + ".name")},
			})
		}
	}
	for i, r := range s.Roles {
		account := accountOf(r.ARN)
		w.b.WriteString("\n")
		w.comment(fmt.Sprintf("Profile %q assumes %s: ferry acts as it at the buckets the profile reaches. "+
			"Apply this with a provider for account %s.", r.Profile, r.ARN, account), "")
		attrs := []hattr{{"name", hstr(r.Name)}}
		if p := rolePath(r.ARN); p != "/" {
			attrs = append(attrs, hattr{"path", hstr(p)})
		}
		attrs = append(attrs, hattr{"assume_role_policy", w.jsonencode(r.Trust)})
		w.blockNoGap(`resource "aws_iam_role" "`+roleNames[i]+`"`, attrs)
		w.block(`resource "aws_iam_role_policy" "`+roleNames[i]+`"`, []hattr{
			{"name", hstr("ferry")},
			{"role", hexpr("aws_iam_role." + roleNames[i] + ".id")},
			{"policy", w.jsonencode(r.Permissions)},
		})
	}
	for _, b := range s.Buckets {
		owner := "another account"
		if b.Account != "" {
			owner = "account " + b.Account
		}
		w.b.WriteString("\n")
		w.comment(fmt.Sprintf("%s belongs to %s (%s): apply this with a provider for that account. "+
			"A bucket policy is replaced whole: merge these statements with any the bucket has.", b.Bucket, owner, b.Why), "")
		w.blockNoGap(`resource "aws_s3_bucket_policy" "`+tfName(b.Bucket)+`"`, []hattr{
			{"bucket", hstr(b.Bucket)},
			{"policy", w.jsonencode(b.Policy)},
		})
	}
	for _, q := range s.Queues {
		w.b.WriteString("\n")
		w.comment("Lets S3 send the source bucket's event notifications to "+q.Name+".", "")
		w.blockNoGap(`resource "aws_sqs_queue_policy" "`+tfName(q.Name)+`"`, []hattr{
			{"queue_url", hstr(q.QueueURL)},
			{"policy", w.jsonencode(q.Policy)},
		})
	}
	if len(s.Keys) > 0 {
		var keys hobj
		for _, k := range s.Keys {
			keys = append(keys, hattr{k.Key, w.tree(k.Statements)})
		}
		w.b.WriteString("\n")
		w.comment("Statements for the KMS keys' policies. A key policy is replaced whole, so add them to each key's own, "+
			`e.g. Statement = concat(<the key's statements>, local.ferry_key_statements["KEY"]).`, "")
		w.blockNoGap("locals", []hattr{{"ferry_key_statements", keys}})
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

// HCL values: a string literal, an expression written as is, a list, an
// object (attributes in order), and a function call with one argument.
type (
	hnode any
	hstr  string
	hexpr string
	hlist []hnode
	hobj  []hattr
	hcall struct {
		fn  string
		arg hnode
	}
	hattr struct {
		key string
		val hnode
	}
)

type hclWriter struct {
	b    strings.Builder
	refs map[string]string // string values written as expressions
	err  error
}

// block writes a top-level block after a blank line.
func (w *hclWriter) block(header string, attrs []hattr) {
	w.b.WriteString("\n")
	w.blockNoGap(header, attrs)
}

func (w *hclWriter) blockNoGap(header string, attrs []hattr) {
	w.b.WriteString(header + " {\n")
	w.attrs(attrs, "  ")
	w.b.WriteString("}\n")
}

// comment writes text as # lines of at most about 110 columns; lines
// after the first start with hang.
func (w *hclWriter) comment(text, hang string) {
	line := "#"
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > 110 && line != "#" {
			w.b.WriteString(line + "\n")
			line = "# " + hang + word
			continue
		}
		line += " " + word
	}
	w.b.WriteString(line + "\n")
}

// jsonencode is jsonencode(v), v written as an HCL object.
func (w *hclWriter) jsonencode(v any) hnode { return hcall{"jsonencode", w.tree(v)} }

// tree converts v (marshalled as JSON) to HCL values, keeping the order
// of its fields.
func (w *hclWriter) tree(v any) hnode {
	b, err := plainJSON(v)
	if err != nil {
		w.err = err
		return hstr("")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	n, err := decodeTree(dec)
	if err != nil {
		w.err = err
	}
	return n
}

func decodeTree(dec *json.Decoder) (hnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			var l hlist
			for dec.More() {
				n, err := decodeTree(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, n)
			}
			_, err := dec.Token()
			return l, err
		case '{':
			var o hobj
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n, err := decodeTree(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, hattr{k.(string), n})
			}
			_, err := dec.Token()
			return o, err
		}
	case string:
		return hstr(t), nil
	case bool:
		return hexpr(fmt.Sprint(t)), nil
	case json.Number, float64:
		return hexpr(fmt.Sprint(t)), nil
	case nil:
		return hexpr("null"), nil
	}
	return nil, io.ErrUnexpectedEOF
}

// attrs writes attributes at indent. As terraform fmt does, the "=" of
// consecutive one-line attributes is aligned; an attribute whose value
// spans lines ends the run and is not padded.
func (w *hclWriter) attrs(attrs []hattr, indent string) {
	vals := make([]string, len(attrs))
	for i, a := range attrs {
		vals[i] = w.value(a.val, indent)
	}
	for i := 0; i < len(attrs); {
		if strings.Contains(vals[i], "\n") {
			fmt.Fprintf(&w.b, "%s%s = %s\n", indent, hclKey(attrs[i].key), vals[i])
			i++
			continue
		}
		j, width := i, 0
		for ; j < len(attrs) && !strings.Contains(vals[j], "\n"); j++ {
			width = max(width, len(hclKey(attrs[j].key)))
		}
		for ; i < j; i++ {
			k := hclKey(attrs[i].key)
			fmt.Fprintf(&w.b, "%s%s%s = %s\n", indent, k, strings.Repeat(" ", width-len(k)), vals[i])
		}
	}
}

// value writes n as it stands after "key = " at indent.
func (w *hclWriter) value(n hnode, indent string) string {
	inner := indent + "  "
	switch v := n.(type) {
	case hstr:
		if e, ok := w.refs[string(v)]; ok {
			return e
		}
		return hclString(string(v))
	case hexpr:
		return string(v)
	case hcall:
		return v.fn + "(" + w.value(v.arg, indent) + ")"
	case hlist:
		if len(v) == 0 {
			return "[]"
		}
		var b strings.Builder
		b.WriteString("[\n")
		for _, e := range v {
			b.WriteString(inner + w.value(e, inner) + ",\n")
		}
		b.WriteString(indent + "]")
		return b.String()
	case hobj:
		if len(v) == 0 {
			return "{}"
		}
		sub := &hclWriter{refs: w.refs}
		sub.attrs(v, inner)
		if sub.err != nil {
			w.err = sub.err
		}
		return "{\n" + sub.b.String() + indent + "}"
	}
	w.err = fmt.Errorf("terraform: cannot write %T", n)
	return ""
}

var hclIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// hclKey writes an object key bare when it is an identifier, else quoted
// ("s3:prefix").
func hclKey(k string) string {
	if hclIdent.MatchString(k) {
		return k
	}
	return hclString(k)
}

// hclString quotes s for HCL: besides the JSON escapes, "${" and "%{"
// start templates and are doubled to stay literal (an IAM escape such as
// ${*} is written $${*}).
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rolePath is the path of a role ARN ("/" when it has none).
func rolePath(arn string) string {
	_, rest, _ := strings.Cut(arn, ":role/")
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		return "/" + rest[:i+1]
	}
	return "/"
}

// tfName makes a Terraform resource name of s: letters, digits and _.
func tfName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}
