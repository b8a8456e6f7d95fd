package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/artifact"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/lambda"
	"github.com/ferry-s3/ferry/internal/metrics"
	"github.com/ferry-s3/ferry/internal/pipeline"
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

It also answers CodePipeline's Lambda invoke action: the action's UserParameters (a
JSON object) say what to do with the job's input artifact: "deploy" it to a bucket
(and invalidate CloudFront), "invalidate" a distribution, or "replicate" it to buckets
in other regions, re-encrypted with each one's KMS key. The job's result is always
reported (PutJobSuccessResult or PutJobFailureResult), also when time runs out. A
function that only serves CodePipeline needs no ferry.yaml. See docs/pipeline.md.

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
			var h lambda.Handlers
			path := cmp.Or(cfgPath, os.Getenv("FERRY_CONFIG"), "ferry.yaml")
			if _, err := os.Stat(path); err == nil || path != "ferry.yaml" {
				cfg, err := config.Load(path)
				if err != nil {
					return usageError{err}
				}
				w, err := worker.New(cmd.Context(), cfg, a.openEndpoint, replicate.Options{ServerSide: true}, a.log)
				if err != nil {
					return asUsage(err)
				}
				h.Events = lambdaHandler(w, a.out, a.log)
			} else {
				a.log.Info("no ferry.yaml: this function serves CodePipeline jobs only")
			}
			h.Pipeline = a.pipelineHandler()
			lambda.Start(h, a.log)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "ferry YAML config (default $FERRY_CONFIG, else ./ferry.yaml)")
	return cmd
}

// lambdaHandler replicates the events of one message and prints the
// outcome as CloudWatch embedded-metric-format lines (Lambda has no
// /metrics to scrape).
func lambdaHandler(w *worker.Worker, out io.Writer, log *slog.Logger) lambda.Handler {
	return func(ctx context.Context, evs []event.Event) error {
		var outs []worker.Outcome
		var obs []metrics.Observation
		cfg := w.Config()
		for _, ev := range evs {
			if ev.Bucket != w.Source().Name {
				log.Warn("event for a bucket that is not the source, ignored", "bucket", ev.Bucket, "key", ev.Key)
				continue
			}
			start := time.Now()
			if !ev.Time.IsZero() && ev.Time.Before(start) {
				start = ev.Time
			}
			res := w.Sync(ctx, ev)
			took := time.Since(start)
			for _, o := range res {
				if o.Dest == "" {
					continue
				}
				ob := metrics.Observation{Target: worker.Target{Rule: o.Rule, Dest: o.Dest}, Bytes: o.Bytes, Failed: o.Err != nil}
				if o.Err == nil && (o.Action == worker.Copied || o.Action == worker.DeleteMarker || o.Action == worker.Deleted) {
					ob.Latency = took
					ob.Missed = took > cfg.Threshold(o.Rule)
				}
				obs = append(obs, ob)
			}
			outs = append(outs, res...)
		}
		metrics.EMF(out, time.Now(), obs)
		return worker.Failed(outs)
	}
}

// pipelineHandler serves CodePipeline jobs. Jobs are reported with the
// function's own role (codepipeline:PutJobSuccessResult and
// PutJobFailureResult), not with the job's artifact credentials; the
// client is made at the first job, so a function that never gets one
// needs no such permission.
func (a *app) pipelineHandler() lambda.PipelineHandler {
	var (
		mu     sync.Mutex
		handle lambda.PipelineHandler
	)
	return func(ctx context.Context, payload []byte, deadline time.Time) error {
		mu.Lock()
		if handle == nil {
			home, err := a.openEndpoint(ctx, endpoint.Options{})
			if err != nil {
				mu.Unlock()
				return fmt.Errorf("CodePipeline job: cannot report its result: %w", err)
			}
			handle = pipeline.Handler(artifact.Action(a.openEndpoint, a.log),
				pipeline.NewReporter(codepipeline.NewFromConfig(home.Config)), a.log)
		}
		mu.Unlock()
		return handle(ctx, payload, deadline)
	}
}
