package testbed_test

import (
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// FuzzBucketName: whatever the hint (a test name), the name is a valid S3
// bucket name that S3 reserves nothing of (it starts with "tb-", so never
// "xn--" or an IP address; no "--" inside), it keeps the hint's letters and
// digits as far as they fit, and two calls never give the same name.
func FuzzBucketName(f *testing.F) {
	f.Add("TestSync/sub_test")
	f.Add("TestBackfill/Über große Datei #2")
	f.Add("--1.2.3.4--")
	f.Add("xn--abc")
	f.Fuzz(func(t *testing.T, hint string) {
		a, b := testbed.BucketName(hint), testbed.BucketName(hint)
		switch {
		case !validBucket.MatchString(a):
			t.Fatalf("BucketName(%q) = %q: not a valid bucket name", hint, a)
		case !strings.HasPrefix(a, "tb-") || strings.Contains(a, "--"):
			t.Fatalf("BucketName(%q) = %q: want tb-... without --", hint, a)
		case a == b:
			t.Fatalf("BucketName(%q) twice gave %q", hint, a)
		}
		var kept strings.Builder
		for _, r := range strings.ToLower(hint) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				kept.WriteRune(r)
			}
		}
		// The name without "tb-", the random suffix and dashes starts with
		// the hint's letters and digits (truncated), or is "bucket".
		mid := a[len("tb-"):strings.LastIndexByte(a, '-')]
		plain := strings.ReplaceAll(mid, "-", "")
		if kept.Len() == 0 {
			if plain != "bucket" {
				t.Fatalf("BucketName(%q) = %q, want tb-bucket-...", hint, a)
			}
		} else if !strings.HasPrefix(kept.String(), plain) || plain == "" {
			t.Fatalf("BucketName(%q) = %q: %q is not the start of the hint's %q", hint, a, plain, kept.String())
		}
	})
}
