package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseJSON: any input either fails cleanly or yields a configuration
// that
//   - validates again, and survives a round trip: written back as JSON
//     (and as get-bucket-replication's wrapped form) it parses to the same
//     configuration;
//   - matches with S3's semantics: only enabled rules, at most one per
//     destination, each selecting the object by its prefix, never a
//     replica, never an SSE-KMS object without SseKmsEncryptedObjects;
//     the same object always gets the same rules.
//
// Seeds: testdata/*.json (the reference set-ups' replication.json files),
// the shapes below and the committed corpus in testdata/fuzz/FuzzParseJSON.
func FuzzParseJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"Rules":[{"Status":"Enabled","Filter":{"And":{"Tags":[{"Key":"a","Value":"b"}]}},"Destination":{}}]}`))
	f.Add([]byte(`{"ReplicationConfiguration":null}`))
	f.Add([]byte(`[]`))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseJSON(data)
		if err != nil {
			if c != nil {
				t.Fatalf("ParseJSON returned both a configuration and %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed configuration does not validate again: %v", err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(out)
		if err != nil || !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip: %s parses to %+v, %v; want %+v", out, back, err, c)
		}
		wrapped, _ := json.Marshal(getOutput{ReplicationConfiguration: c})
		if back, err = ParseJSON(wrapped); err != nil || !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip of the get-bucket-replication form: %+v, %v", back, err)
		}

		objects := []Object{
			{Key: ""},
			{Key: "logs/a", Tags: map[string]string{"a": "b"}},
			{Key: "x", SSEKMS: true},
			{Key: "prefix/a.txt", IsReplica: true},
		}
		for _, r := range c.Rules {
			if r != nil {
				objects = append(objects, Object{Key: r.KeyPrefix() + "k"}, Object{Key: r.KeyPrefix() + "k", SSEKMS: true, Tags: tagsOf(r)})
			}
		}
		for _, obj := range objects {
			matched := c.Match(obj)
			if obj.IsReplica && len(matched) > 0 {
				t.Fatalf("a replica matched %d rules", len(matched))
			}
			seen := map[string]bool{}
			for _, r := range matched {
				dest := r.Destination.BucketName()
				switch {
				case seen[dest]:
					t.Fatalf("Match returned two rules for %q", dest)
				case !r.Enabled():
					t.Fatalf("disabled rule %s matched", r.Name())
				case !strings.HasPrefix(obj.Key, r.KeyPrefix()):
					t.Fatalf("rule %s with prefix %q matched key %q", r.Name(), r.KeyPrefix(), obj.Key)
				case obj.SSEKMS && !r.ReplicatesKMS():
					t.Fatalf("rule %s matched an SSE-KMS object without SseKmsEncryptedObjects", r.Name())
				}
				seen[dest] = true
				_ = r.DeleteMarkersEnabled()
			}
			if again := c.Match(obj); !reflect.DeepEqual(matched, again) {
				t.Fatalf("Match(%+v) differs between two calls", obj)
			}
		}
	})
}

// tagsOf returns tags that satisfy r's tag filter, if it has one.
func tagsOf(r *Rule) map[string]string {
	tags := map[string]string{}
	if f := r.Filter; f != nil {
		if f.Tag != nil {
			tags[f.Tag.Key] = f.Tag.Value
		}
		if f.And != nil {
			for _, tg := range f.And.Tags {
				tags[tg.Key] = tg.Value
			}
		}
	}
	return tags
}
