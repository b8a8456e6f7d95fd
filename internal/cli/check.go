package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/check"
	"github.com/ferry-s3/ferry/internal/config"
)

type checkFlags struct {
	config string
	json   bool
	dryRun bool
}

func (a *app) checkCmd() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Check, live, that the endpoints let ferry do what the config asks",
		Long: `check tries, against the real endpoints and with the config's own profiles,
each thing the config will make ferry do, and reads the settings ferry relies on.
One line per check: PASS, WARN (works, but risky), FAIL (the S3 error and the
fix) or SKIP (nothing to check, or it needs a check that failed).

  profile, clock   each endpoint: the profile loads; the server's clock is within
                   1 minute of this machine's (WARN beyond, FAIL beyond 5)
  source           the source bucket exists and lists under every rule prefix
  target-tag       with target_bucket_tag: the source's TargetBucket tag reads
  versioning       each bucket's versioning suits the rules (delete markers need
                   it on both sides)
  read, tags       one source object's first byte and its tags can be read
  intake           the run section's SQS queue or NATS JetStream answers
  notifications    the source sends its events to that intake (run section only)
  bucket           each destination exists and lists
  versions         the source's versions list, when a destination is versioned too
  write, tagging,  a probe object under .ferry-check/ is written with the
  acl, head, kms,  destination's encryption and storage class, tagged, given
  cleanup          its ACL, read back (decrypted, for SSE-KMS), and deleted;
                   a probe that cannot be deleted is a FAIL naming it
  notify-target    the notification targets answer (webhook, SQS)

Nothing else is changed; with --dry-run not even the probe is written (its
checks are SKIP). Exit codes: 0 no check failed (warnings allowed), 1 some
check failed, 2 the config cannot be read.`,
		Example: `  ferry check --config ferry.yaml
  ferry check --config ferry.yaml --dry-run     # reads only: no write probe
  ferry check --config ferry.yaml --json | jq 'select(.status == "FAIL")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.config == "" {
				return usagef("--config is required: check tests the endpoints of a config")
			}
			cfg, err := config.Load(f.config)
			if err != nil {
				return usageError{err}
			}
			report := func(r check.Result) { printCheck(a.out, r) }
			if f.json {
				report = func(r check.Result) { writeJSON(a.out, r) }
			}
			results := check.Run(cmd.Context(), cfg, check.Options{Open: a.openEndpoint, Report: report, NoWrite: f.dryRun})
			sum := check.Summarize(results)
			if f.json {
				writeJSON(a.out, checkSummary{Summary: true, OK: sum.Failed == 0, Passed: sum.Passed,
					Warnings: sum.Warned, Failed: sum.Failed, Skipped: sum.Skipped})
			} else {
				fmt.Fprintf(a.out, "%d passed, %d warnings, %d failed, %d skipped\n", sum.Passed, sum.Warned, sum.Failed, sum.Skipped)
			}
			if sum.Failed > 0 {
				return failedError{int64(sum.Failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "ferry YAML config (required)")
	cmd.Flags().BoolVar(&f.json, "json", false, "one JSON object per check, then a summary object")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "read only: skip the write probe, write nothing")
	return cmd
}

// checkSummary is the last line of `check --json`.
type checkSummary struct {
	Summary  bool `json:"summary"`
	OK       bool `json:"ok"`
	Passed   int  `json:"passed"`
	Warnings int  `json:"warnings"`
	Failed   int  `json:"failed"`
	Skipped  int  `json:"skipped"`
}

// printCheck writes one result as one line: status, check, target, what
// was found, the error and the fix.
func printCheck(w io.Writer, r check.Result) {
	line := fmt.Sprintf("%-4s  %-13s %s: %s", r.Status, r.Check, r.Target, r.Detail)
	if r.Error != "" {
		line += " (" + r.Error + ")"
	}
	if r.Fix != "" {
		line += ". Fix: " + r.Fix
	}
	fmt.Fprintln(w, line)
}
