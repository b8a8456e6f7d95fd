package daemon_test

import (
	"net/url"
	"slices"
)

func sortStable[T any](s []T, less func(a, b T) bool) {
	slices.SortStableFunc(s, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}

// escapeKey encodes a key as S3 does in notifications (form encoding).
func escapeKey(k string) string { return url.QueryEscape(k) }
