package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Outcome is how an action that did not fail ended.
type Outcome struct {
	// Summary is the execution summary the console shows; Run cuts it to
	// CodePipeline's 2048 characters.
	Summary string
	// Continue, when set, means the work is not finished: Run reports
	// success with it as the continuation token, and CodePipeline invokes
	// the action again with a new job whose ContinuationToken it is. At
	// most 2048 characters.
	Continue string
}

// Action does a job's work. It must return soon after ctx ends: ctx ends
// before the invocation's deadline, leaving time to report. An action
// that can resume returns an Outcome with Continue when ctx ends, and no
// error; one that cannot returns ctx's error.
type Action func(ctx context.Context, job Job) (Outcome, error)

// Reserve bounds: the time kept back from the action for reporting.
const (
	minReserve = 5 * time.Second
	maxReserve = 30 * time.Second
)

// reserve is the time before the deadline at which the action's context
// ends: 10% of the time left, at least 5s and at most 30s, but never more
// than half, so that a short invocation still leaves the action most of it.
func reserve(left time.Duration) time.Duration {
	if left <= 0 {
		return 0
	}
	return min(max(left/10, minReserve), maxReserve, left/2)
}

// Run runs action for job and reports how it ended, whatever happens:
//
//   - success, with the Outcome's summary, and its continuation token if it
//     has one;
//   - failure with the error's message and KindOf's kind if the action
//     returned an error (or panicked);
//   - failure "ran out of time after ...: <what the action said it was
//     doing (Doing)>" if the action did not return by the reserve point
//     before deadline (plus a short grace).
//
// The action's context ends reserve before deadline (see reserve); a zero
// deadline means none. Reporting is tried again on throttling and other
// transient errors until deadline. Run returns an error only when the
// result could not be reported; the job then hangs until CodePipeline
// times it out, so this is logged at error level. The job's credentials
// are removed from every message and summary, reported or logged.
func Run(ctx context.Context, job Job, deadline time.Time, action Action, rep Reporter, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("job", job.ID)
	start := time.Now()
	log.Info("pipeline: job started", "account", job.AccountID, "inputs", len(job.Inputs),
		"outputs", len(job.Outputs), "continuation", job.ContinuationToken != "")

	var (
		stop time.Time
		rsv  time.Duration
		// grace is how long Run waits for the action once its context has
		// ended: a fifth of the reserve, the rest being for the report.
		grace = time.Second // no deadline: only the caller ends the action
	)
	actCtx, cancel := ctx, context.CancelFunc(func() {})
	if !deadline.IsZero() {
		rsv = reserve(time.Until(deadline))
		stop, grace = deadline.Add(-rsv), rsv/5
		actCtx, cancel = context.WithDeadline(ctx, stop)
	}
	defer cancel()
	st := &status{}
	actCtx = context.WithValue(actCtx, statusKey{}, st)

	r, abandoned := await(actCtx, job, action, grace, log)

	// Why the action's context ended, if it did: its deadline (the reserve
	// point), or the caller's context.
	took := time.Since(start)
	var late string
	switch {
	case actCtx.Err() == nil:
	case errors.Is(actCtx.Err(), context.DeadlineExceeded) && !stop.IsZero() && !time.Now().Before(stop):
		took = stop.Sub(start)
		late = "ran out of time after " + round(took).String()
	default:
		late = "interrupted after " + round(took).String()
	}

	var (
		kind    FailureKind
		message string
	)
	switch {
	case abandoned:
		kind, message = JobFailed, join(late, st.get())
		log.Warn("pipeline: action did not return in time; reporting without it and leaving it behind")
	case r.err != nil:
		kind, message = KindOf(r.err), r.err.Error()
		if late != "" && (errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, context.Canceled)) {
			doing := st.get()
			if strings.Contains(message, doing) {
				doing = ""
			}
			message = join(late, doing, message)
		}
	case utf8.RuneCountInString(r.o.Continue) > maxToken:
		kind, message = JobFailed, fmt.Sprintf("continuation token of %d characters: CodePipeline takes at most %d",
			utf8.RuneCountInString(r.o.Continue), maxToken)
	}

	rctx, rcancel := reportContext(ctx, deadline, rsv)
	defer rcancel()
	if kind != "" {
		message = clip(job.scrub(message), maxMessage)
		log = log.With("kind", string(kind), "message", message, "took", round(took))
		if err := report(rctx, log, "failure", func(ctx context.Context) error {
			return rep.Failure(ctx, job.ID, kind, message)
		}); err != nil {
			return err
		}
		log.Warn("pipeline: job failed, reported")
		return nil
	}
	o := Outcome{Summary: clip(job.scrub(r.o.Summary), maxSummary), Continue: r.o.Continue}
	log = log.With("summary", o.Summary, "took", round(took))
	if err := report(rctx, log, "success", func(ctx context.Context) error {
		return rep.Success(ctx, job.ID, o)
	}); err != nil {
		return err
	}
	if o.Continue != "" {
		log.Info("pipeline: job not finished, reported to continue in a new invocation")
	} else {
		log.Info("pipeline: job succeeded, reported")
	}
	return nil
}

type result struct {
	o   Outcome
	err error
}

// await runs action and waits for it, and, once ctx has ended, for at
// most grace more. A panic is the action's error: the job must still be
// reported. abandoned means the action did not return; its goroutine is
// left behind.
func await(ctx context.Context, job Job, action Action, grace time.Duration, log *slog.Logger) (r result, abandoned bool) {
	done := make(chan result, 1) // buffered: an abandoned action can still finish
	go func() {
		defer func() {
			if p := recover(); p != nil {
				log.Error("pipeline: action panicked", "panic", job.scrub(fmt.Sprint(p)), "stack", string(debug.Stack()))
				done <- result{err: fmt.Errorf("action panicked: %v", p)}
			}
		}()
		o, err := action(ctx, job)
		done <- result{o, err}
	}()
	select {
	case r = <-done:
		return r, false
	case <-ctx.Done():
	}
	// A well-behaved action returns now, perhaps with a continuation
	// token; give it a moment before reporting without it.
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case r = <-done:
		return r, false
	case <-t.C:
		return result{}, true
	}
}

// reportContext outlives ctx (a cancelled invocation must still report)
// but ends just before deadline, when Lambda stops the function anyway.
func reportContext(ctx context.Context, deadline time.Time, reserve time.Duration) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if deadline.IsZero() {
		return context.WithTimeout(ctx, time.Minute)
	}
	return context.WithDeadline(ctx, deadline.Add(-reserve/20))
}

// join joins the non-empty parts with ": ".
func join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ": ")
}

// round makes durations readable in messages: 1.2s, 54s.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// scrub removes the job's credentials from s. Errors of the SDK do not
// carry secret keys, but an action's own messages might.
func (j Job) scrub(s string) string {
	for _, secret := range []string{j.Credentials.SecretAccessKey, j.Credentials.SessionToken, j.Credentials.AccessKeyID} {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

// status is what the action last said it was doing.
type status struct {
	mu    sync.Mutex
	doing string
}

func (s *status) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doing
}

type statusKey struct{}

// Doing records what the action run by Run with ctx is doing now
// ("uploading 120 of 300 files"). If the action runs out of time, the
// failure reported says so. Outside Run it does nothing.
func Doing(ctx context.Context, what string) {
	if s, ok := ctx.Value(statusKey{}).(*status); ok {
		s.mu.Lock()
		s.doing = what
		s.mu.Unlock()
	}
}
