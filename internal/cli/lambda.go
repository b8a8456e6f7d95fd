package cli

import (
	"cmp"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/lambda"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/worker"
)

// inLambda reports whether ferry runs as a Lambda function's bootstrap.
func inLambda() bool { return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" }

func (a *app) lambdaCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run as an AWS Lambda function (the bootstrap of a provided.al2023 function)",
		Long: `lambda serves Lambda invocations through the Lambda Runtime API: S3 event
notifications (S3 -> Lambda), SQS batches (S3 -> SQS -> Lambda, with partial batch
failure responses: enable ReportBatchItemFailures on the event source mapping),
SNS and EventBridge. Each object named is replicated as by 'ferry run'.

It is chosen automatically when AWS_LAMBDA_RUNTIME_API is set and no command is
given. The config is read from --config, else $FERRY_CONFIG, else ferry.yaml in the
working directory (/var/task: put it in the zip). No periodic reconcile runs in
Lambda. See docs/lambda.md.`,
		Example: `  # the bootstrap of a provided.al2023 function: ferry itself
  FERRY_CONFIG=/var/task/ferry.yaml ./bootstrap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !inLambda() {
				return usagef("ferry lambda runs inside AWS Lambda: AWS_LAMBDA_RUNTIME_API is not set")
			}
			if a.logLevel == "" && !a.verbose {
				a.log = slog.New(slog.NewJSONHandler(a.errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
			}
			path := cmp.Or(cfgPath, os.Getenv("FERRY_CONFIG"), "ferry.yaml")
			cfg, err := config.Load(path)
			if err != nil {
				return usageError{err}
			}
			w, err := worker.New(cmd.Context(), cfg, a.openEndpoint, replicate.Options{}, a.log)
			if err != nil {
				return asUsage(err)
			}
			lambda.Start(w.Handle, a.log)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "ferry YAML config (default $FERRY_CONFIG, else ./ferry.yaml)")
	return cmd
}
