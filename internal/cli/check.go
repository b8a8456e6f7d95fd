package cli

import "github.com/spf13/cobra"

// checkCmd is being written (issue 8).
func (a *app) checkCmd() *cobra.Command {
	return &cobra.Command{Use: "check", Short: "(not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return usagef("ferry check is not built yet") }}
}
