// Package redact keeps secrets out of everything ferry prints: a writer that
// replaces each registered secret with "[REDACTED]" before the bytes reach
// the terminal, a log file or a pipe.
//
// What is registered, and when (see the callers in internal/cli):
//   - each endpoint's secret access key and session token, as soon as its
//     credentials are resolved (cli.openEndpoint);
//   - before a command does anything, the secrets its --config file names
//     (FromYAML): bearer tokens, the values of the token_env variables,
//     URL passwords, and FERRY_WEBHOOK_TOKEN, so that even an error about a
//     config that does not load is redacted;
//   - the webhook token `ferry run` uses, and notification webhook tokens.
package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Replacement is what a secret is replaced with.
const Replacement = "[REDACTED]"

// MinLen is the shortest value redacted: shorter values would mangle
// ordinary output without protecting anything.
const MinLen = 6

// Writer wraps an io.Writer and redacts registered secrets.
type Writer struct {
	w       io.Writer
	mu      sync.Mutex
	secrets [][]byte
}

// NewWriter returns a redacting writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Add registers secrets, each also in the forms it takes when printed
// inside a URL (query or path escaped) or a JSON string. Values shorter
// than MinLen are ignored.
func (r *Writer) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		for _, v := range Forms(s) {
			if !r.has(v) {
				r.secrets = append(r.secrets, []byte(v))
			}
		}
	}
	// Longest first: a secret that contains another (a URL and its
	// password) is replaced whole.
	slices.SortStableFunc(r.secrets, func(a, b []byte) int { return len(b) - len(a) })
}

func (r *Writer) has(v string) bool {
	for _, s := range r.secrets {
		if string(s) == v {
			return true
		}
	}
	return false
}

// Forms returns s as it may appear in output: verbatim, URL-escaped (an AWS
// secret key's "/" and "+" become %2F and %2B) and JSON-escaped. Nothing if
// s is shorter than MinLen.
func Forms(s string) []string {
	if len(s) < MinLen {
		return nil
	}
	forms := []string{s}
	add := func(v string) {
		for _, f := range forms {
			if f == v {
				return
			}
		}
		forms = append(forms, v)
	}
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	if b, err := json.Marshal(s); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	return forms
}

// Write redacts p and writes it. Callers (fmt, slog) write whole lines, so
// a secret is never split across two writes.
func (r *Writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	out := p
	for _, s := range r.secrets {
		if bytes.Contains(out, s) {
			out = bytes.ReplaceAll(out, s, []byte(Replacement))
		}
	}
	r.mu.Unlock()
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// URLSecrets returns the credentials a URL carries: the password of its
// user information, or the user name alone when there is no password (a
// NATS token, nats://TOKEN@host). With a query, which may hold a key
// (?key=..., ?sig=...), the whole URL is one more secret, so that it is
// never printed verbatim (ferry prints such URLs without their query).
// A comma-separated list of URLs (NATS servers) gives each one's.
func URLSecrets(raw string) []string {
	var out []string
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil {
			continue
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				out = append(out, p)
			} else {
				out = append(out, u.User.Username())
			}
		}
	}
	if strings.Contains(raw, "?") {
		out = append(out, raw)
	}
	return out
}
