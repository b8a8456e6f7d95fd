package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/redact"
)

// RootCommand is ferry's command tree, for tests that walk it.
func RootCommand() *cobra.Command {
	a := &app{out: redact.NewWriter(io.Discard), errOut: redact.NewWriter(io.Discard)}
	return a.rootCmd()
}
