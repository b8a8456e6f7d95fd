package replicate

import (
	"crypto/md5"
	"testing"
)

func TestPartLayout(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		size, part int64
		n          int
		ps         int64
	}{
		{0, 16 * mib, 1, 16 * mib},
		{1, 16 * mib, 1, 16 * mib},
		{16 * mib, 16 * mib, 1, 16 * mib},
		{16*mib + 1, 16 * mib, 2, 16 * mib},
		{200 * mib, 16 * mib, 13, 16 * mib},
		// 5 TiB, S3's maximum object: the part size doubles until it fits
		// in 10,000 parts.
		{5 << 40, 16 * mib, 5120, 1024 * mib},
	}
	for _, tt := range tests {
		n, ps := partLayout(tt.size, tt.part)
		if n != tt.n || ps != tt.ps {
			t.Errorf("partLayout(%d, %d) = %d, %d; want %d, %d", tt.size, tt.part, n, ps, tt.n, tt.ps)
		}
		if n > maxParts || int64(n)*ps < tt.size {
			t.Errorf("partLayout(%d) does not cover the object within %d parts", tt.size, maxParts)
		}
	}
}

func TestMultipartETag(t *testing.T) {
	// S3's ETag of a two-part upload: md5(md5(p1) || md5(p2)) + "-2".
	p1, p2 := md5.Sum([]byte("hello ")), md5.Sum([]byte("world"))
	h := md5.New()
	h.Write(p1[:])
	h.Write(p2[:])
	want := ""
	for _, b := range h.Sum(nil) {
		want += string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
	}
	if got := multipartETag([][md5.Size]byte{p1, p2}); got != want+"-2" {
		t.Errorf("multipartETag = %s, want %s-2", got, want)
	}
}

func TestCopySource(t *testing.T) {
	tests := []struct{ bucket, key, version, want string }{
		{"b", "a/b c.txt", "", "b/a/b%20c.txt"},
		{"b", "한/+?#&%.txt", "v1", "b/%ED%95%9C/+%3F%23&%25.txt?versionId=v1"},
		{"b", "k", "null", "b/k"},
	}
	for _, tt := range tests {
		if got := copySource(tt.bucket, tt.key, tt.version); got != tt.want {
			t.Errorf("copySource(%q, %q) = %q, want %q", tt.key, tt.version, got, tt.want)
		}
	}
}

func TestEncodeTags(t *testing.T) {
	got := encodeTags(map[string]string{"team": "platform sre", "a+b": "c&d"})
	if want := "a%2Bb=c%26d&team=platform+sre"; got != want {
		t.Errorf("encodeTags = %q, want %q", got, want)
	}
}
