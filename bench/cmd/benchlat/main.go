// Command benchlat measures event-driven replication latency on the test bed
// (bench/bench.sh, case latency): it PUTs objects to a source bucket at a
// steady rate and times each one from its PUT's answer to its arrival at the
// destination, then prints p50, p95 and p99 in milliseconds as the JSON lines
// bench/cmd/benchreport reads.
//
//	benchlat [-bed DIR] -src a/BUCKET -dst b/BUCKET [-mode watch|direct|hook]
//	    [-rate 100] [-duration 30s | -n N] [-size 4096] [-poll 20ms] [-wait 60s]
//	    [-notify ARN] [-listen ADDR [-token T] [-forward URL]]
//	    [-case latency] [-title T] [-tool NAME] [-run N] [-note TEXT]
//	    [-out FILE] [-summary FILE]
//
// The PUTs follow a fixed schedule (object i is sent at start + i/rate,
// whatever earlier PUTs take) and each PUT's answer is its t0. Modes:
//
//   - watch (default): something else replicates (ferry run, MinIO's own
//     replication); arrival is detected by listing the destination every
//     -poll, from the lowest key not yet seen (so a LIST stays one page in
//     steady state), and is the time the first LIST showing the key
//     answered. The figures are therefore late by up to -poll plus one LIST
//     round trip (the summary gives the LIST's p50). Every -confirm'th
//     arrival is also read back with a HEAD, to check that listed means
//     readable (the summary counts failures).
//   - direct: benchlat replicates itself, GET at the source then PUT at the
//     destination as soon as the PUT is answered, and watches as above: the
//     floor of any replicator started by the PUT, detection included.
//   - hook: no destination; benchlat is the webhook receiver (-listen) and
//     arrival is the event's POST: how long the server takes to notify.
//
// With -listen and -forward in watch mode, benchlat is a relay between the
// server's webhook target and the receiver (ferry's /events): it records when
// each event arrived and when the receiver answered 2xx (for ferry: queued
// and fsynced), and the summary splits the latency into those stages.
//
// -notify ARN points the source bucket's ObjectCreated notifications at a
// target of the server (arn:minio:sqs::ID:webhook) for the run and removes
// them after. Before the measured objects, one warm-up object (key
// PREFIX.warmup, outside the measured prefix) must arrive within -wait.
//
// The JSON lines go to stdout (or are appended to -out); a summary of the run
// (counts, stages, LIST round trip) is printed to stderr and, as one JSON
// line, appended to -summary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchlat:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	bed, src, dst, mode         string
	rate                        float64
	duration, poll, wait        time.Duration
	n, size, confirm            int
	prefix, notify              string
	listen, token, forward      string
	caseName, title, tool, note string
	runNo                       int
	out, summary                string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchlat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bed, "bed", os.Getenv("FERRY_TESTBED"), "test bed directory")
	fs.StringVar(&o.src, "src", "", "source SERVER/BUCKET (a, b or vgw)")
	fs.StringVar(&o.dst, "dst", "", "destination SERVER/BUCKET (watch and direct modes)")
	fs.StringVar(&o.mode, "mode", "watch", "watch | direct | hook")
	fs.Float64Var(&o.rate, "rate", 100, "objects PUT per second")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to PUT (rate x duration objects)")
	fs.IntVar(&o.n, "n", 0, "objects to PUT (instead of rate x duration)")
	fs.IntVar(&o.size, "size", 4096, "bytes per object")
	fs.DurationVar(&o.poll, "poll", 20*time.Millisecond, "interval between LISTs of the destination")
	fs.DurationVar(&o.wait, "wait", time.Minute, "how long to wait for the warm-up object, and for stragglers after the last PUT")
	fs.IntVar(&o.confirm, "confirm", 10, "HEAD every Nth arrival at the destination to check it is readable (0: none)")
	fs.StringVar(&o.prefix, "prefix", "", "key prefix of the measured objects (default: lat-RUN-UNIXTIME/)")
	fs.StringVar(&o.notify, "notify", "", "point the source's ObjectCreated notifications at this target ARN for the run")
	fs.StringVar(&o.listen, "listen", "", "receive the server's webhook posts on this address (hook mode; relay with -forward)")
	fs.StringVar(&o.token, "token", "", "hook mode: the bearer token the server sends (\"\": any)")
	fs.StringVar(&o.forward, "forward", "", "watch mode with -listen: forward each post to this URL (ferry's /events) and time its answer")
	fs.StringVar(&o.caseName, "case", "latency", "case of the JSON lines")
	fs.StringVar(&o.title, "title", "", "title of the JSON lines")
	fs.StringVar(&o.tool, "tool", "", "tool of the JSON lines (required)")
	fs.IntVar(&o.runNo, "run", 1, "run number of the JSON lines")
	fs.StringVar(&o.note, "note", "", "note of the JSON lines")
	fs.StringVar(&o.out, "out", "", "append the JSON lines to this file instead of stdout")
	fs.StringVar(&o.summary, "summary", "", "append the run's summary, one JSON line, to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.tool == "":
		return o, errors.New("-tool is required")
	case o.src == "":
		return o, errors.New("-src is required")
	case o.mode != "watch" && o.mode != "direct" && o.mode != "hook":
		return o, fmt.Errorf("-mode %q: want watch, direct or hook", o.mode)
	case o.mode != "hook" && o.dst == "":
		return o, fmt.Errorf("-mode %s needs -dst", o.mode)
	case o.mode == "hook" && o.listen == "":
		return o, errors.New("-mode hook needs -listen")
	case o.forward != "" && (o.mode != "watch" || o.listen == ""):
		return o, errors.New("-forward goes with -mode watch and -listen")
	case o.listen != "" && o.mode == "direct":
		return o, errors.New("-listen is for -mode hook or watch (relay)")
	case o.rate <= 0 || o.rate > 10000:
		return o, fmt.Errorf("-rate %v: want 0 < rate <= 10000", o.rate)
	case o.poll <= 0 || o.wait <= 0 || o.size < 0 || o.n < 0 || o.confirm < 0:
		return o, errors.New("-poll, -wait, -size, -n and -confirm must be positive")
	}
	if o.n == 0 {
		o.n = int(o.rate*o.duration.Seconds() + 0.5)
	}
	if o.n == 0 {
		return o, errors.New("no objects to PUT: raise -rate, -duration or -n")
	}
	if o.prefix == "" {
		o.prefix = fmt.Sprintf("lat-%d-%d/", o.runNo, time.Now().Unix())
	}
	if !strings.HasSuffix(o.prefix, "/") {
		o.prefix += "/"
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.bed == "" {
		return errors.New("no test bed: set FERRY_TESTBED or pass -bed DIR")
	}
	bed, err := testbed.Load(o.bed)
	if err != nil {
		return fmt.Errorf("test bed %s: %w", o.bed, err)
	}
	src, err := location(bed, o.src)
	if err != nil {
		return fmt.Errorf("-src: %w", err)
	}
	var dst loc
	if o.mode != "hook" {
		if dst, err = location(bed, o.dst); err != nil {
			return fmt.Errorf("-dst: %w", err)
		}
	}

	if o.notify != "" {
		if err := setNotify(ctx, src, o.notify); err != nil {
			return err
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := clearNotify(cctx, src); err != nil {
				fmt.Fprintln(stderr, "benchlat: removing the notifications:", err)
			}
		}()
	}

	m := &measurer{o: o, src: src, dst: dst, log: stderr, tr: newTracker(o.prefix, o.n)}
	res, err := m.run(ctx)
	if err != nil {
		return err
	}

	w := stdout
	if o.out != "" {
		f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	for _, l := range res.lines(o) {
		b, _ := json.Marshal(l)
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
	sum := res.summary(o)
	fmt.Fprintln(stderr, sum.text())
	if o.summary != "" {
		b, _ := json.Marshal(sum)
		f, err := os.OpenFile(o.summary, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := fmt.Fprintf(f, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}

// loc is one bucket of the bed with a client for its server.
type loc struct {
	c      *s3.Client
	bucket string
}

// location parses SERVER/BUCKET.
func location(bed *testbed.Bed, s string) (loc, error) {
	name, bucket, ok := strings.Cut(s, "/")
	srv, known := bed.Servers[strings.TrimPrefix(name, "tb-")]
	if !ok || !known || bucket == "" {
		return loc{}, fmt.Errorf("%q: want SERVER/BUCKET with SERVER a, b or vgw", s)
	}
	return loc{newClient(srv), bucket}, nil
}

// newClient is testbed.NewClient with a connection pool deep enough for the
// PUTs, GETs and LISTs that overlap at a high rate.
func newClient(s testbed.Server) *s3.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 256
	})
	return s3.New(s3.Options{
		Region:                     testbed.Region,
		BaseEndpoint:               aws.String(s.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func setNotify(ctx context.Context, l loc, arn string) error {
	_, err := l.c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(l.bucket),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			Id:       aws.String("benchlat"),
			QueueArn: aws.String(arn),
			Events:   []types.Event{"s3:ObjectCreated:*"},
		}}},
	})
	if err != nil {
		return fmt.Errorf("notifications of %s to %s: %w", l.bucket, arn, err)
	}
	return nil
}

func clearNotify(ctx context.Context, l loc) error {
	_, err := l.c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket:                    aws.String(l.bucket),
		NotificationConfiguration: &types.NotificationConfiguration{},
	})
	return err
}
