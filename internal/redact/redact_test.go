package redact

import (
	"bytes"
	"fmt"
	"testing"
)

func TestWriterRedacts(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "abc")
	fmt.Fprintf(w, "error: signature for wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY mismatch; abc stays\n")
	got := buf.String()
	if want := "error: signature for [REDACTED] mismatch; abc stays\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
