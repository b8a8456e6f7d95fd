package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-s3/ferry/internal/rules"
)

// FuzzParse: any input either fails with errors that name the file, or
// yields a config that
//   - survives a round trip: written back as YAML (rules inline) and parsed
//     again, it is the same config (a fixed point of Parse and Marshal);
//   - sends every object to complete targets: a destination the config
//     lists, its rule, the key key_rewrite makes, at most one per
//     destination;
//   - lists, in Prefixes, a prefix of every key that has a target, so a
//     listing narrowed to Prefixes misses nothing the rules replicate.
//
// Seeds: examples/ferry.yaml, the shapes below and the committed corpus in
// testdata/fuzz/FuzzParse (configs of the reference set-ups: prefix/ to
// another account's bdp/, cross-account V1 replication with
// AccessControlTranslation, KMS with RTC and delete markers).
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
		checkRoundTrip(t, c)

		keys := []string{"", "a/b", "prefix/x", "logs/2026/01/a.gz"}
		for _, r := range c.Replication.Rules {
			if r != nil {
				keys = append(keys, r.KeyPrefix(), r.KeyPrefix()+"x/y.txt")
			}
		}
		for _, d := range c.Destinations {
			if d != nil && d.KeyRewrite != nil {
				keys = append(keys, d.KeyRewrite.From+"a.txt")
			}
		}
		prefixes := c.Prefixes()
		for _, key := range keys {
			seen := map[*Destination]bool{}
			tgs := c.Targets(rules.Object{Key: key, Tags: map[string]string{"k": "v"}})
			for _, tg := range tgs {
				switch {
				case tg.Dest == nil || tg.Rule == nil || tg.Key == "":
					t.Fatalf("incomplete target %+v", tg)
				case c.Destination(tg.Rule.Destination.BucketName()) != tg.Dest:
					t.Fatalf("target of rule %s goes to %q, not the destination the rule names", tg.Rule.Name(), tg.Dest.Bucket)
				case tg.Key != tg.Dest.RewriteKey(key):
					t.Fatalf("target key %q, want %q", tg.Key, tg.Dest.RewriteKey(key))
				case seen[tg.Dest]:
					t.Fatalf("two targets for destination %q", tg.Dest.Bucket)
				case tg.Encryption != nil && tg.Encryption.Type == EncryptionNone:
					t.Fatalf("target encryption type %q", EncryptionNone)
				}
				seen[tg.Dest] = true
			}
			if len(tgs) > 0 && !underAny(key, prefixes) {
				t.Fatalf("key %q has targets but is under none of Prefixes() %q", key, prefixes)
			}
		}
	})
}

// checkRoundTrip writes c back as YAML, rules inline (or left out where
// they are the implicit ones), parses that and writes it again: both
// documents must be the same.
func checkRoundTrip(t *testing.T, c *Config) {
	t.Helper()
	inline := *c
	inline.ReplicationFile = ""
	if sameRules(c.Replication, implicitRules(c)) {
		inline.Replication = nil
	}
	first, err := yaml.Marshal(&inline)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	again, err := Parse(first, "testdata", "ferry.yaml")
	if err != nil {
		t.Fatalf("the config written back does not parse: %v\n%s", err, first)
	}
	if sameRules(again.Replication, implicitRules(again)) {
		again.Replication = nil
	}
	second, err := yaml.Marshal(again)
	if err != nil {
		t.Fatalf("marshal again: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("round trip changed the config:\n%s\n---\n%s", first, second)
	}
}

func sameRules(a, b *rules.Configuration) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func underAny(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// FuzzRewriteKey: a key under the from prefix gets the to prefix instead,
// keeping the rest (its suffix after from) byte for byte; any other key,
// and every key without a key_rewrite, is left alone. Rewriting back (to
// -> from) restores a rewritten key.
func FuzzRewriteKey(f *testing.F) {
	f.Add("prefix/", "bdp/", "prefix/a.txt")
	f.Add("prefix/", "bdp/", "other/a.txt")
	f.Add("", "x/", "a")
	f.Add("a", "", "a")
	f.Fuzz(func(t *testing.T, from, to, key string) {
		d := &Destination{KeyRewrite: &KeyRewrite{From: from, To: to}}
		got := d.RewriteKey(key)
		rest, under := strings.CutPrefix(key, from)
		switch {
		case !under && got != key:
			t.Fatalf("RewriteKey(%q) outside %q changed it to %q", key, from, got)
		case under && got != to+rest:
			t.Fatalf("RewriteKey(%q) with %q->%q = %q, want %q", key, from, to, got, to+rest)
		case under && (!strings.HasPrefix(got, to) || !strings.HasSuffix(got, rest)):
			t.Fatalf("RewriteKey(%q) = %q lost the prefix %q or the suffix %q", key, got, to, rest)
		case under && len(got) != len(key)-len(from)+len(to):
			t.Fatalf("RewriteKey(%q) = %q: length %d", key, got, len(got))
		}
		if under {
			back := &Destination{KeyRewrite: &KeyRewrite{From: to, To: from}}
			if b := back.RewriteKey(got); b != key {
				t.Fatalf("rewriting %q back with %q->%q gives %q, want %q", got, to, from, b, key)
			}
		}
		if none := (&Destination{}).RewriteKey(key); none != key {
			t.Fatalf("without key_rewrite, %q became %q", key, none)
		}
	})
}
