package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/setup"
)

func (a *app) setupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "setup",
		Short:   "Configure the servers for ferry: event notifications of the source bucket",
		Example: "  ferry setup notifications --config ferry.yaml --dry-run",
	}
	cmd.AddCommand(a.setupNotificationsCmd())
	return cmd
}

type setupFlags struct {
	config, target, lambdaARN string
	yes, dryRun, json         bool
}

func (a *app) setupNotificationsCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "notifications --config FILE",
		Short: "Make the source bucket send its events to ferry's intake",
		Long: `notifications configures the source bucket of FILE to send its event notifications to the
intake ferry listens on: the SQS queue of run.sqs.queue_url, a Lambda function (--lambda-arn), or
a notification target the server already has (--target: a MinIO webhook or NATS target,
arn:minio:sqs::NAME:webhook, or an SNS/Ceph topic).

Events: s3:ObjectCreated:* always, s3:ObjectRemoved:* when FILE replicates deletes (a rule
with DeleteMarkerReplication Enabled, or a destination with replicate_deletes); a prefix
filter when every enabled rule shares one.

The bucket's other configurations are kept; ferry's (Id "ferry" or "ferry-...") is added or
replaced. The change is shown first and applied only after "y" on a terminal, or with --yes.
Running it again changes nothing.`,
		Example: `  ferry setup notifications --config ferry.yaml --dry-run
  ferry setup notifications --config ferry.yaml --target arn:minio:sqs::ferry:webhook --yes
  ferry setup notifications --config ferry.yaml --lambda-arn arn:aws:lambda:us-east-1:123456789012:function:ferry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.setupNotifications(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "ferry YAML config (required)")
	fl.StringVar(&f.target, "target", "", "ARN to send events to (default: the queue of run.sqs.queue_url)")
	fl.StringVar(&f.lambdaARN, "lambda-arn", "", "send events to this Lambda function")
	fl.BoolVarP(&f.yes, "yes", "y", false, "apply without asking")
	fl.BoolVar(&f.dryRun, "dry-run", false, "show the change, change nothing")
	fl.BoolVar(&f.json, "json", false, "print the plan (and the resulting configuration) as JSON")
	return cmd
}

func (a *app) setupNotifications(ctx context.Context, f setupFlags) error {
	if f.config == "" {
		return usagef("--config is required: the source bucket and the rules are read from it")
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return usageError{err}
	}
	t, err := setup.ChooseTarget(cfg, f.config, f.target, f.lambdaARN)
	if err != nil {
		var need *setup.NeedTarget
		if errors.As(err, &need) {
			fmt.Fprintln(a.errOut, need.Help)
		}
		return usageError{err}
	}
	want, err := setup.Want(cfg, t)
	if err != nil {
		return usagef("%s: %w", f.config, err)
	}
	ep, err := a.openEndpoint(ctx, cfg.Source.Options)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	current, err := setup.Read(rctx, ep.S3, cfg.Source.Bucket)
	if err != nil {
		return a.setupError(err)
	}
	p := setup.NewPlan(cfg.Source.Bucket, t, current, want)

	// Messages go where they do not spoil the JSON a script reads.
	say := io.Writer(a.out)
	if f.json {
		say = a.errOut
		writeJSON(a.out, p.JSON())
	} else {
		p.Show(a.out, ep.String())
	}
	if !p.Changed() {
		fmt.Fprintln(say, "already configured; nothing to change")
		return nil
	}
	if err := p.Refusal(); err != nil {
		return a.setupError(err)
	}
	if !f.json {
		a.permissionHints(p, f.config)
	}
	if f.dryRun {
		fmt.Fprintln(say, "dry run: nothing changed")
		return nil
	}
	if !f.yes {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return usagef("re-run with --yes to apply (or --dry-run to only look)")
		}
		if !ask(os.Stdin, a.errOut, "Apply? [y/N] ") {
			return usagef("not applied; nothing changed")
		}
	}
	// A fresh deadline: the question above may have waited a while.
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := setup.Apply(actx, ep.S3, p); err != nil {
		return a.setupError(err)
	}
	fmt.Fprintf(say, "applied: s3://%s now sends %s of %s to %s\n", cfg.Source.Bucket,
		strings.Join(want.Events, " "), want.Keys(), want.ARN)
	// A server may store something else than it was sent (an Id it
	// makes up, an event it does not know): read back and say so.
	if after, err := setup.Read(actx, ep.S3, cfg.Source.Bucket); err == nil && setup.NewPlan(cfg.Source.Bucket, t, after, want).Changed() {
		fmt.Fprintln(a.errOut, "warning: the server stored a configuration that differs from the one sent; run again with --dry-run to see it")
	}
	return nil
}

// permissionHints prints what the target must allow before S3 accepts the
// configuration: S3 checks at PUT time and refuses otherwise.
func (a *app) permissionHints(p *setup.Plan, file string) {
	if pol, ok := setup.QueuePolicy(p.Target, p.Bucket); ok {
		fmt.Fprintf(a.out, `
S3 checks that it may send to the queue when the configuration is applied. The queue's access policy
needs this statement (merge it with the queue's other statements; aws:SourceAccount is the bucket
owner's account). `+"`ferry policy --config %s`"+` prints the IAM policies of ferry itself.
%s
`, file, pol)
	}
	if argv, ok := setup.LambdaPermission(p.Target, p.Bucket); ok {
		fmt.Fprintf(a.out, "\nS3 checks that it may invoke the function when the configuration is applied; allow it first:\n  %s\n",
			setup.Shell(argv))
	}
}

// setupError prints an error's help and makes refusals by the server
// usage errors (exit 2: nothing was changed).
func (a *app) setupError(err error) error {
	var se *setup.Error
	if errors.As(err, &se) && se.Help != "" {
		fmt.Fprintln(a.errOut, se.Help)
	}
	var ae smithy.APIError
	if se != nil && (se.Err == nil || errors.As(err, &ae)) {
		return usageError{err}
	}
	return err
}

// ask prints question and reads a yes or no from in; anything but y or
// yes is no.
func ask(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
