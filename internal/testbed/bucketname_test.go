package testbed_test

import (
	"regexp"
	"testing"

	"github.com/ferry-s3/ferry/internal/testbed"
)

var validBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func TestBucketName(t *testing.T) {
	for _, hint := range []string{"", "TestSync/Über_große-Datei", "----", "TestX" + string(make([]byte, 200))} {
		a, b := testbed.BucketName(hint), testbed.BucketName(hint)
		if !validBucket.MatchString(a) {
			t.Errorf("BucketName(%q) = %q: not a valid bucket name", hint, a)
		}
		if a == b {
			t.Errorf("BucketName(%q) twice gave %q", hint, a)
		}
	}
}
