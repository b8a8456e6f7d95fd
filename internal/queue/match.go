package queue

import "strings"

// Match selects FAILED jobs for `ferry retry` and the status page's retry
// buttons. Empty fields match everything.
type Match struct {
	Rule   string // a failure of the job is of this rule
	Prefix string // the key starts with it
	Key    string // the key is exactly it
}

// Accepts reports whether j is selected.
func (m Match) Accepts(j Job) bool {
	k := j.Event.Key
	if (m.Key != "" && k != m.Key) || !strings.HasPrefix(k, m.Prefix) {
		return false
	}
	if m.Rule == "" {
		return true
	}
	for _, f := range j.Failures {
		if f.Rule == m.Rule {
			return true
		}
	}
	return false
}
