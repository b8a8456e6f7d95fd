package redact

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestWriterRedacts(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "abc")
	fmt.Fprintf(w, "error: signature for wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY mismatch; abc stays\n")
	got := buf.String()
	if want := "error: signature for [REDACTED] mismatch; abc stays\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestWriterRedactsForms: a secret is redacted URL-escaped and JSON-escaped
// too, and a secret that contains another is replaced whole.
func TestWriterRedactsForms(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	const key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY<&>"
	w.Add("natspass1", "nats://u:natspass1@host:4222/?key=querysecret1", key)
	fmt.Fprintln(w, "a", key, "b", "wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY%3C%26%3E", "c", `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\u003c\u0026\u003e`)
	fmt.Fprintln(w, `url "nats://u:natspass1@host:4222/?key=querysecret1" and natspass1`)
	got := buf.String()
	for _, leak := range []string{"EXAMPLEKEY", "natspass1", "querysecret1"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q left in:\n%s", leak, got)
		}
	}
	if n := strings.Count(got, Replacement); n != 5 {
		t.Errorf("%d replacements, want 5:\n%s", n, got)
	}
}

func TestURLSecrets(t *testing.T) {
	for raw, want := range map[string][]string{
		"nats://ferry:pa55word@127.0.0.1:4222":         {"pa55word"},
		"nats://s3cr3tt0ken@127.0.0.1:4222":            {"s3cr3tt0ken"},
		"tls://a:pw1@n1:4222, tls://tok2@n2:4222":      {"pw1", "tok2"},
		"https://hooks.example.com/x?key=abc":          {"https://hooks.example.com/x?key=abc"},
		"https://hooks.example.com/services/T0/B0/XYZ": nil,
		"http://127.0.0.1:9000":                        nil,
		"%zz":                                          nil,
	} {
		if got := URLSecrets(raw); !slices.Equal(got, want) {
			t.Errorf("URLSecrets(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestFromYAML: the secrets of a config are found wherever they are, even
// in a file that does not load as a config.
func TestFromYAML(t *testing.T) {
	env := map[string]string{"FERRY_WEBHOOK_TOKEN": "envtoken1", "HOOK_TOKEN": "hooktoken1", "EMPTY": ""}
	getenv := func(k string) string { return env[k] }
	yaml := `
source: {bucket: src, endpoint_url: "http://u:endpointpw@minio:9000"}
run:
  webhook: {token: inlinetoken1, disabled: maybe}
  nats: {url: "nats://ferry:natspass1@n:4222"}
  sqs: {queue_url: "https://sqs.example.com/1/q?sig=querysig1"}
notifications:
  targets:
    - webhook: {url: "https://h/x", token_env: HOOK_TOKEN}
    - webhook: {url: "https://h/y", token_env: EMPTY}
    - webhook: {url: "https://h/z", token: [not, a, string]}
anchors: &a {token: anchored1}
again: *a
`
	got := FromYAML([]byte(yaml), getenv)
	want := []string{"envtoken1", "endpointpw", "inlinetoken1", "natspass1", "https://sqs.example.com/1/q?sig=querysig1", "hooktoken1", "anchored1"}
	if !slices.Equal(got, want) {
		t.Errorf("FromYAML = %q, want %q", got, want)
	}
	if got := FromYAML([]byte("source: {bucket: [unclosed"), getenv); !slices.Equal(got, []string{"envtoken1"}) {
		t.Errorf("FromYAML of a broken file = %q, want the environment's token only", got)
	}
	if got := FromYAML(nil, func(string) string { return "" }); len(got) != 0 {
		t.Errorf("FromYAML of nothing = %q", got)
	}
}
