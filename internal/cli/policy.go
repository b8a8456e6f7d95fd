package cli

import "github.com/spf13/cobra"

// policyCmd is being written (issue 8).
func (a *app) policyCmd() *cobra.Command {
	return &cobra.Command{Use: "policy", Short: "(not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return usagef("ferry policy is not built yet") }}
}
