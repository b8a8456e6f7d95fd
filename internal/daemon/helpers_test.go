package daemon_test

import (
	"net/url"
	"slices"
	"strings"
	"sync"
)

// syncWriter makes a writer safe for the daemon's concurrent log lines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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
