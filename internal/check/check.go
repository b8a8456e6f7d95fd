// Package check is ferry's live preflight (`ferry check`). It does, against
// the real endpoints and with the config's own profiles, a small instance of
// everything the config will make ferry do (list and read the source; write,
// tag, read back and delete at each destination, with the configured
// encryption) and reads the bucket settings ferry relies on (versioning,
// event notifications), so that a missing permission or setting shows up
// before the first object fails, named with the S3 error and the fix.
//
// Each check is one Result: PASS, WARN (works, but risky), FAIL (the S3
// error and what to do) or SKIP (nothing to check, or an earlier check
// failed). The only change made is one small probe object per destination,
// under policy.ProbePrefix, removed again at once; a probe that cannot be
// removed is reported as a FAIL naming it.
package check

import (
	"context"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
)

// Status is a check's outcome.
type Status string

// Statuses, in the order of their gravity.
const (
	Pass Status = "PASS"
	Skip Status = "SKIP" // could not run: nothing to check, or needs an earlier check
	Warn Status = "WARN" // works, but risky
	Fail Status = "FAIL"
)

// Result is the outcome of one check.
type Result struct {
	// Check names what was checked: profile, clock, source, versioning,
	// read, tags, target-tag, intake, notifications, bucket, versions,
	// write, tagging, acl, head, kms, cleanup, notify-target.
	Check string `json:"check"`
	// Target is what it was checked on: a profile, an endpoint, s3://bucket,
	// s3://bucket/key, a queue or server URL.
	Target string `json:"target"`
	Status Status `json:"status"`
	// Detail says what was found, in one sentence.
	Detail string `json:"detail"`
	// Error is the error the server answered ("AccessDenied: Access
	// Denied."), or why there was no answer.
	Error string `json:"error,omitempty"`
	// Reason is S3 replication's name for the failure, where one fits
	// (DstPutObjectNotPermitted, SrcBucketNotFound, DstKmsKeyNotFound, ...).
	Reason string `json:"reason,omitempty"`
	// Fix says what to do, in one sentence.
	Fix string `json:"fix,omitempty"`
	// Leftover names a probe object the check could not remove
	// (s3://bucket/key, with ?versionId= on a versioned bucket).
	Leftover string `json:"leftover,omitempty"`
}

// Opener opens an endpoint; the CLI's registers its secrets for redaction.
type Opener func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error)

// Options tune Run. The zero value works.
type Options struct {
	// Open opens endpoints. Default: endpoint.Open.
	Open Opener
	// Report is called with each result as soon as it is known, in the
	// order Run returns them.
	Report func(Result)
	// Timeout bounds each request. Default: 20s.
	Timeout time.Duration
	// NoWrite skips the write probe (write, tagging, acl, head, kms,
	// cleanup are reported SKIP): nothing is written anywhere, and what
	// only a write can prove is left unproven (ferry check --dry-run).
	NoWrite bool
}

// DefaultTimeout bounds each request of a check.
const DefaultTimeout = 20 * time.Second

// Run checks cfg against its endpoints and returns every result, in this
// order: the source (profile, clock, bucket, versioning, read, tags), the
// run intake and the source's event notifications, each destination
// (profile, clock, bucket, versioning, the source's versions once both
// are versioned, then the write probe: write, tagging, acl, head, kms,
// cleanup), and the notification targets. Only
// the checks the config needs are run. Run never fails: what goes wrong
// is a result.
func Run(ctx context.Context, cfg *config.Config, opt Options) []Result {
	if opt.Open == nil {
		opt.Open = endpoint.Open
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	r := &runner{cfg: cfg, opt: opt, sites: map[string]*site{}}
	src := r.checkSource(ctx)
	queueARN := r.checkIntake(ctx)
	r.checkNotifications(ctx, src, queueARN)
	for _, d := range r.cfg.Destinations {
		r.checkDestination(ctx, src, d)
	}
	r.checkNotifyTargets(ctx)
	return r.results
}

// Summary counts results by status.
type Summary struct {
	Passed, Warned, Failed, Skipped int
}

// Summarize counts rs by status.
func Summarize(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Passed++
		case Warn:
			s.Warned++
		case Fail:
			s.Failed++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// runner holds one Run's state.
type runner struct {
	cfg     *config.Config
	opt     Options
	sites   map[string]*site // opened endpoints, by their options
	results []Result
}

// add records a result and reports it.
func (r *runner) add(res Result) {
	r.results = append(r.results, res)
	if r.opt.Report != nil {
		r.opt.Report(res)
	}
}

// skip records a check that could not run because it needs what an
// earlier check did not get.
func (r *runner) skip(check, target, needs string) {
	r.add(Result{Check: check, Target: target, Status: Skip, Detail: "skipped: needs " + needs})
}

// call runs one request with the per-request timeout.
func (r *runner) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	return fn(ctx)
}
