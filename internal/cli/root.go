// Package cli is ferry's command line: it parses flags, builds the stages
// (endpoints, rules, engine) and prints results. It holds no replication
// logic of its own.
package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/redact"
)

// Exit codes, as documented in `ferry --help`.
const (
	exitOK      = 0
	exitFailed  = 1 // the command ran; some objects failed
	exitUsage   = 2 // bad flags, config, profile or location: nothing was done
	exitUnknown = 3
)

// usageError marks errors that mean "fix the command or config" (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// asUsage makes err a usage error (exit 2: nothing was done) unless it
// already is one.
func asUsage(err error) error {
	var u usageError
	if errors.As(err, &u) {
		return err
	}
	return usageError{err}
}

// failedError means the run completed but some objects failed (exit 1).
type failedError struct{ n int64 }

func (e failedError) Error() string { return fmt.Sprintf("%d objects failed", e.n) }

// app is what every command shares: redacting outputs and a logger.
type app struct {
	out, errOut *redact.Writer
	log         *slog.Logger
	logLevel    string
	verbose     bool
}

// Main runs ferry with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{out: redact.NewWriter(stdout), errOut: redact.NewWriter(stderr)}
	root := a.rootCmd()
	if len(args) == 0 && inLambda() {
		args = []string{"lambda"} // the bootstrap of a Lambda function
	}
	root.SetArgs(args)
	root.SetOut(a.out)
	root.SetErr(a.errOut)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var fe failedError
	if errors.As(err, &fe) {
		return exitFailed
	}
	fmt.Fprintf(a.errOut, "ferry: %s\n", oneLine(err))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitUnknown
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ferry",
		Short: "Keep objects in S3-compatible buckets copied to other buckets",
		Long: `ferry copies objects between S3-compatible buckets (AWS S3, MinIO, Ceph RGW,
versitygw, ...) across regions, accounts and providers, faithfully: body, headers,
metadata, tags, object lock, encryption re-keyed for the destination, ownership.

Endpoints are AWS shared-config profiles (~/.aws/config, AWS_CONFIG_FILE): region,
credentials, role_arn/source_profile/external_id, endpoint_url. Without a profile
the default credential chain applies (environment, instance, task or Lambda role).

Exit codes: 0 all done, 1 some objects failed (each is named), 2 usage, config,
profile or location error (nothing was done).`,
		Example: `  ferry sync s3://artifacts s3://artifacts-dr --src-profile prod --dst-profile dr
  ferry sync --config ferry.yaml --dry-run
  ferry config validate ferry.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if a.verbose {
				level = slog.LevelInfo
			}
			if a.logLevel != "" {
				if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
					return usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
				}
			}
			a.log = slog.New(slog.NewTextHandler(a.errOut, &slog.HandlerOptions{Level: level}))
			a.redactConfig(cmd, args)
			return nil
		},
	}
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "print every object acted on, and info logs")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn, error (default warn)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.syncCmd(), a.backfillCmd(), a.deployCmd(), a.runCmd(), a.statusCmd(), a.retryCmd(), a.policyCmd(), a.checkCmd(), a.setupCmd(), a.lambdaCmd(), a.configCmd(), versionCmd())
	return root
}

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print ferry's version",
		Example: "  ferry version",
		Args:    cobra.NoArgs,
		Run:     func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "ferry", Version) },
	}
}

// redactConfig registers the secrets of the command's config file (its
// --config, or the file `config validate` reads) before the command runs, so
// that they are redacted even from an error about a config that does not
// load, and the value of FERRY_WEBHOOK_TOKEN in any case.
func (a *app) redactConfig(cmd *cobra.Command, args []string) {
	path := ""
	if f := cmd.Flags().Lookup("config"); f != nil {
		path = f.Value.String()
	} else if cmd.Name() == "validate" && len(args) == 1 {
		path = args[0]
	}
	if path == "" && cmd.Name() == "lambda" {
		path = cmp.Or(os.Getenv("FERRY_CONFIG"), "ferry.yaml")
	}
	var data []byte
	if path != "" {
		data, _ = os.ReadFile(path) // a missing file is the command's error to report
	}
	secrets := redact.FromYAML(data, os.Getenv)
	a.out.Add(secrets...)
	a.errOut.Add(secrets...)
}

func isCobraUsage(err error) bool {
	// cobra reports unknown commands and wrong argument counts as plain
	// errors; they are usage errors all the same.
	for _, p := range []string{"unknown command", "accepts ", "requires ", "unknown flag", "unknown shorthand", "invalid argument"} {
		if strings.Contains(err.Error(), p) {
			return true
		}
	}
	return false
}

// oneLine keeps the first line of an error: a command fails with one clear
// line; the details are in the logs with -v.
func oneLine(err error) string {
	first, _, _ := strings.Cut(err.Error(), "\n")
	return first
}
