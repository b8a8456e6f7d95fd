package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/pipeline"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// bed is a fake CodePipeline with one open job, and the log Run writes.
type bed struct {
	fake *testbed.CodePipeline
	rep  pipeline.Reporter
	job  pipeline.Job
	logs *testbed.Buffer
	log  *slog.Logger
}

// newBed reports through the SDK client without its own retries, so that
// the tests see Run's.
func newBed(t *testing.T) *bed {
	t.Helper()
	fake := testbed.NewCodePipeline(t)
	b := &bed{
		fake: fake,
		rep:  pipeline.NewReporter(fake.Client(func(o *codepipeline.Options) { o.RetryMaxAttempts = 1 })),
		job:  pipeline.Job{ID: fake.NewJob(), AccountID: "111122223333"},
		logs: &testbed.Buffer{},
	}
	b.log = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return b
}

// run runs action with a deadline in from now, and returns the job's
// result and Run's error.
func (b *bed) run(t *testing.T, in time.Duration, action pipeline.Action) (testbed.CodePipelineResult, error) {
	t.Helper()
	err := pipeline.Run(t.Context(), b.job, time.Now().Add(in), action, b.rep, b.log)
	r, reported := b.fake.Result(b.job.ID)
	if err == nil && !reported {
		t.Fatal("Run returned nil but the job was not reported")
	}
	return r, err
}

func TestRunSuccess(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	r, err := b.run(t, time.Minute, func(ctx context.Context, job pipeline.Job) (pipeline.Outcome, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the action's context has no deadline")
		}
		return pipeline.Outcome{Summary: "deployed 3 files to www.example.com"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Success || r.Summary != "deployed 3 files to www.example.com" || r.ContinuationToken != "" {
		t.Errorf("result %+v", r)
	}
}

func TestRunContinue(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{Summary: "uploaded 100 of 300 files", Continue: "from:100"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Success || r.ContinuationToken != "from:100" || r.Summary != "uploaded 100 of 300 files" {
		t.Errorf("result %+v", r)
	}
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		kind    string
		message string
	}{
		{"plain error", errors.New("upload index.html: connection reset"), "JobFailed", "upload index.html: connection reset"},
		{"marked", pipeline.Fail(pipeline.PermissionError, errors.New("cannot assume the deploy role")), "PermissionError", "cannot assume the deploy role"},
		{"bad UserParameters", pipeline.Job{UserParameters: "{"}.DecodeParams(&struct{}{}), "ConfigurationError", "UserParameters: unexpected EOF"},
		{"S3 access denied", s3Refusal(t, http.StatusForbidden, "AccessDenied"), "PermissionError", "api error AccessDenied: refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBed(t)
			r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
				return pipeline.Outcome{Summary: "ignored"}, tc.err
			})
			if err != nil {
				t.Fatalf("Run: %v (the failure itself was reported, so Run must not fail)", err)
			}
			if r.Success || r.FailureType != tc.kind || !strings.Contains(r.FailureMessage, tc.message) {
				t.Errorf("result %+v, want a %s failure with %q", r, tc.kind, tc.message)
			}
		})
	}
}

func TestRunPanic(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		var m map[string]int
		m["x"]++ // a bug
		return pipeline.Outcome{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Success || r.FailureType != "JobFailed" || !strings.Contains(r.FailureMessage, "action panicked: assignment to entry in nil map") {
		t.Errorf("result %+v", r)
	}
}

func TestRunLimits(t *testing.T) {
	t.Parallel()
	t.Run("long summary", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
			return pipeline.Outcome{Summary: strings.Repeat("ü", 3000)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(r.Summary); n != 2048 || !strings.HasSuffix(r.Summary, "…") {
			t.Errorf("summary of %d characters (%q...)", n, r.Summary[:10])
		}
	})
	t.Run("long message", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
			return pipeline.Outcome{}, errors.New(strings.Repeat("x", 6000))
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(r.FailureMessage); n != 5000 {
			t.Errorf("message of %d characters", n)
		}
	})
	t.Run("long token", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
			return pipeline.Outcome{Continue: strings.Repeat("t", 3000)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Success || !strings.Contains(r.FailureMessage, "continuation token of 3000 characters") {
			t.Errorf("result %+v", r)
		}
	})
}

// TestRunOutOfTime checks that a job is answered before the invocation's
// deadline even when the action overruns: 2s left keep 1s back, so the
// action's context ends after 1s.
func TestRunOutOfTime(t *testing.T) {
	t.Parallel()
	t.Run("action ignores its context", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		release := make(chan struct{})
		defer close(release)
		start := time.Now()
		r, err := b.run(t, 2*time.Second, func(ctx context.Context, _ pipeline.Job) (pipeline.Outcome, error) {
			pipeline.Doing(ctx, "uploading 2 of 3 files")
			<-release // a call that never looks at ctx
			return pipeline.Outcome{Summary: "too late"}, nil
		})
		if took := time.Since(start); took >= 2*time.Second {
			t.Errorf("Run returned after %v, past the deadline", took)
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := "ran out of time after 1s: uploading 2 of 3 files"; r.Success || r.FailureType != "JobFailed" || r.FailureMessage != want {
			t.Errorf("result %+v, want failure %q", r, want)
		}
		if !strings.Contains(b.logs.String(), "did not return in time") {
			t.Errorf("the abandoned action was not logged:\n%s", b.logs)
		}
	})
	t.Run("action stops with its context", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		r, err := b.run(t, 2*time.Second, func(ctx context.Context, _ pipeline.Job) (pipeline.Outcome, error) {
			pipeline.Doing(ctx, "invalidating /*")
			<-ctx.Done()
			return pipeline.Outcome{}, fmt.Errorf("wait for invalidation: %w", ctx.Err())
		})
		if err != nil {
			t.Fatal(err)
		}
		want := "ran out of time after 1s: invalidating /*: wait for invalidation: context deadline exceeded"
		if r.Success || r.FailureMessage != want {
			t.Errorf("result %+v, want failure %q", r, want)
		}
	})
	t.Run("action continues", func(t *testing.T) {
		t.Parallel()
		b := newBed(t)
		r, err := b.run(t, 2*time.Second, func(ctx context.Context, _ pipeline.Job) (pipeline.Outcome, error) {
			<-ctx.Done()
			return pipeline.Outcome{Summary: "uploaded 120 of 300 files", Continue: "from:120"}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Success || r.ContinuationToken != "from:120" {
			t.Errorf("result %+v, want success with a continuation token", r)
		}
	})
}

// TestRunRetriesReport checks that throttled reports are tried again.
func TestRunRetriesReport(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	b.fake.FailNext("ThrottlingException", 2)
	r, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{Summary: "done"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Success || r.Summary != "done" {
		t.Errorf("result %+v", r)
	}
	if n := b.fake.Calls("PutJobSuccessResult"); n != 3 {
		t.Errorf("%d PutJobSuccessResult calls, want 3", n)
	}
}

// TestRunReportFails checks that a report CodePipeline refuses fails Run,
// loudly, without trying again in vain.
func TestRunReportFails(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	b.job.ID = "0badbad0-0000-4000-8000-000000000000" // not a job of the fake
	_, err := b.run(t, time.Minute, func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{Summary: "done"}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "JobNotFoundException") {
		t.Fatalf("Run = %v, want a JobNotFoundException", err)
	}
	if n := b.fake.Calls("PutJobSuccessResult"); n != 1 {
		t.Errorf("%d calls, want 1: the job will not appear", n)
	}
	if !strings.Contains(b.logs.String(), "level=ERROR") || !strings.Contains(b.logs.String(), "could not report") {
		t.Errorf("no error logged:\n%s", b.logs)
	}
}

// TestRunKeepsCredentialsSecret runs a job whose action puts the
// credentials everywhere it can.
func TestRunKeepsCredentialsSecret(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		b := newBed(t)
		job, err := pipeline.Parse(readTestdata(t, "job.json"))
		if err != nil {
			t.Fatal(err)
		}
		b.fake.AddJob(job.ID)
		b.job = job
		r, err := b.run(t, time.Minute, func(ctx context.Context, job pipeline.Job) (pipeline.Outcome, error) {
			c := job.Credentials
			leak := c.AccessKeyID + " " + c.SecretAccessKey + " " + c.SessionToken
			pipeline.Doing(ctx, "using "+leak)
			if fail {
				return pipeline.Outcome{}, errors.New("signature mismatch for " + leak)
			}
			return pipeline.Outcome{Summary: "read with " + leak}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.logs.String(), job.ID) {
			t.Errorf("nothing logged about the job:\n%s", b.logs)
		}
		for _, s := range secrets {
			for what, text := range map[string]string{"log": b.logs.String(), "summary": r.Summary, "message": r.FailureMessage} {
				if strings.Contains(text, s) {
					t.Errorf("credential %q in the %s:\n%s", s, what, text)
				}
			}
		}
	}
}

// TestHandler checks the Lambda entry: a malformed job is still answered.
func TestHandler(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	h := pipeline.Handler(func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{Summary: "ok"}, nil
	}, b.rep, b.log)
	deadline := time.Now().Add(time.Minute)

	if err := h(t.Context(), []byte(`{"CodePipeline.job":{"id":"`+b.job.ID+`","data":{}}}`), deadline); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.fake.Result(b.job.ID); !r.Success || r.Summary != "ok" {
		t.Errorf("result %+v", r)
	}

	bad := b.fake.NewJob()
	payload := `{"CodePipeline.job":{"id":"` + bad + `","data":{"inputArtifacts":[{"name":"Src","location":{"type":"GitHub"}}]}}}`
	if err := h(t.Context(), []byte(payload), deadline); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.fake.Result(bad); r.Success || !strings.Contains(r.FailureMessage, "no S3 location") {
		t.Errorf("malformed job: result %+v, want a failure", r)
	}

	if err := h(t.Context(), []byte(`{"CodePipeline.job":{"data":{}}}`), deadline); err == nil || !strings.Contains(err.Error(), "no job id") {
		t.Errorf("job without id: %v", err)
	}
}

// TestRunCallerCancels checks that a cancelled invocation still reports.
func TestRunCallerCancels(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := pipeline.Run(ctx, b.job, time.Time{}, func(ctx context.Context, _ pipeline.Job) (pipeline.Outcome, error) {
		if _, ok := ctx.Deadline(); ok {
			t.Error("no deadline given, but the action's context has one")
		}
		cancel() // say, the process is shutting down
		<-ctx.Done()
		return pipeline.Outcome{}, ctx.Err()
	}, b.rep, b.log)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := b.fake.Result(b.job.ID); r.Success || !strings.HasPrefix(r.FailureMessage, "interrupted after 0s: context canceled") {
		t.Errorf("result %+v, want an interrupted failure", r)
	}
}

// flaky is a Reporter whose first report seems to fail but reaches
// CodePipeline, as when the answer is lost: the retry then finds the job
// closed.
type flaky struct{ calls int }

func (f *flaky) Success(context.Context, string, pipeline.Outcome) error {
	f.calls++
	if f.calls == 1 {
		return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return &smithy.GenericAPIError{Code: "InvalidJobStateException", Message: "already reported"}
}

func (f *flaky) Failure(context.Context, string, pipeline.FailureKind, string) error {
	return errors.New("unexpected failure report")
}

func TestRunRetryFindsJobClosed(t *testing.T) {
	t.Parallel()
	b := newBed(t)
	var f flaky
	err := pipeline.Run(t.Context(), b.job, time.Now().Add(time.Minute), func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{Summary: "done"}, nil
	}, &f, b.log)
	if err != nil || f.calls != 2 {
		t.Errorf("Run = %v after %d reports, want nil after 2", err, f.calls)
	}
	// The same answer to a first report is a real refusal.
	f.calls = 1
	if err := pipeline.Run(t.Context(), b.job, time.Now().Add(time.Minute), func(context.Context, pipeline.Job) (pipeline.Outcome, error) {
		return pipeline.Outcome{}, nil
	}, &f, b.log); err == nil || !strings.Contains(err.Error(), "InvalidJobStateException") {
		t.Errorf("Run = %v, want InvalidJobStateException", err)
	}
}
