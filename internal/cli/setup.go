package cli

import "github.com/spf13/cobra"

// setupCmd is being written (issue 8).
func (a *app) setupCmd() *cobra.Command {
	return &cobra.Command{Use: "setup", Short: "(not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return usagef("ferry setup is not built yet") }}
}
