package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// checkBucketName applies S3's naming rules for general purpose buckets.
// MinIO, Ceph RGW and the other S3 servers ferry talks to enforce the same
// (or looser) rules, and a name that breaks them cannot be addressed
// virtual-hosted style anyway.
func checkBucketName(name string) error {
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q is %d characters; S3 bucket names have 3 to 63", name, n)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q has %q; S3 bucket names use only lower-case letters, digits, dots and hyphens", name, c)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return fmt.Errorf("bucket name %q must begin and end with a letter or digit", name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q has two adjacent dots", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("bucket name %q is formatted as an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket name %q starts with the reserved prefix %q", name, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("bucket name %q ends with the reserved suffix %q", name, s)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
