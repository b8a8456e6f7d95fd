package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/rules"
)

// FuzzParse: any input either fails with errors or yields a config whose
// every destination is used and whose targets can be computed.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "ferry.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("source: {bucket: src}\ndestinations: [{bucket: dst, key_rewrite: {from: a/, to: b/}}]\n"))
	f.Add([]byte("source: {bucket: src}\ndestinations: [{bucket: dst}]\nreplication_file: get-bucket-replication.json\n"))
	f.Add([]byte("source: {bucket: src}\ndestinations: [{bucket: dst}]\nreplication: {Rules: [{Status: Enabled, Prefix: '', Destination: {Bucket: 'arn:aws:s3:::dst'}}]}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("destinations:\n  -\n  - bucket: 1.2.3.4\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "testdata", "ferry.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a config with its error")
			}
			if !strings.HasPrefix(err.Error(), "ferry.yaml") && !strings.HasPrefix(err.Error(), "testdata") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c.Replication == nil {
			t.Fatal("valid config without rules")
		}
		for _, key := range []string{"", "a/b", "prefix/x"} {
			for _, tg := range c.Targets(rules.Object{Key: key, Tags: map[string]string{"k": "v"}}) {
				if tg.Dest == nil || tg.Rule == nil || tg.Key == "" {
					t.Fatalf("incomplete target %+v", tg)
				}
			}
		}
		_ = c.Prefixes()
	})
}

// FuzzRewriteKey: a key under the from prefix gets the to prefix instead;
// any other key is left alone.
func FuzzRewriteKey(f *testing.F) {
	f.Add("prefix/", "bdp/", "prefix/a.txt")
	f.Add("prefix/", "bdp/", "other/a.txt")
	f.Add("", "x/", "a")
	f.Add("a", "", "a")
	f.Fuzz(func(t *testing.T, from, to, key string) {
		d := &Destination{KeyRewrite: &KeyRewrite{From: from, To: to}}
		got := d.RewriteKey(key)
		if rest, ok := strings.CutPrefix(key, from); ok {
			if got != to+rest {
				t.Fatalf("RewriteKey(%q) with %q->%q = %q, want %q", key, from, to, got, to+rest)
			}
		} else if got != key {
			t.Fatalf("RewriteKey(%q) outside %q changed it to %q", key, from, got)
		}
	})
}
