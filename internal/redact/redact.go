// Package redact keeps secrets out of everything ferry prints: a writer that
// replaces each registered secret with "[REDACTED]" before the bytes reach
// the terminal, a log file or a pipe.
package redact

import (
	"bytes"
	"io"
	"sync"
)

// Writer wraps an io.Writer and redacts registered secrets.
type Writer struct {
	w       io.Writer
	mu      sync.Mutex
	secrets [][]byte
}

// NewWriter returns a redacting writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Add registers secrets; short values are ignored, since redacting them
// would mangle ordinary output without protecting anything.
func (r *Writer) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 6 {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
}

// Write redacts p and writes it. Callers (fmt, slog) write whole lines, so
// a secret is never split across two writes.
func (r *Writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	out := p
	for _, s := range r.secrets {
		if bytes.Contains(out, s) {
			out = bytes.ReplaceAll(out, s, []byte("[REDACTED]"))
		}
	}
	r.mu.Unlock()
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
