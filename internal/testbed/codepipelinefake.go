package testbed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
)

// CodePipeline is an in-memory CodePipeline server for tests, for the two
// operations a job worker (a Lambda invoke action) uses to end a job:
//
//	PutJobSuccessResult, PutJobFailureResult
//
// No CodePipeline-compatible server exists, so this one checks what the
// real API checks (API reference, 2015-07-09): a job id of the documented
// form that names a job of the fake (AddJob), else JobNotFoundException; a
// job reported only once, else InvalidJobStateException; the documented
// lengths of the summary (1-2048), continuation token (1-2048), failure
// message (1-5000) and external execution id (1-1500), a percentComplete of
// 0-100, a failure type of the FailureType enum, no output variables with
// a continuation token, else ValidationException (output variables are
// checked, not kept). FailNext makes the next requests fail, as
// throttling would.
//
// Every request is checked as AWS would: POST /, Content-Type
// application/x-amz-json-1.1, an X-Amz-Target of CodePipeline_20150709.*,
// and a valid SigV4 signature (service codepipeline, region us-east-1) by
// AccessKey/SecretKey. A request that fails the check, or uses an
// operation or a field the fake lacks, fails the test.
type CodePipeline struct {
	fakeServer

	jobs  map[string]*CodePipelineResult // nil: open, not reported yet
	fails []string                       // error codes of the next requests
}

// CodePipelineResult is what a job was reported with.
type CodePipelineResult struct {
	Success           bool
	Summary           string // executionDetails.summary of a success
	ContinuationToken string // of a success that asked to continue
	FailureType       string // failureDetails of a failure
	FailureMessage    string
}

// codePipelineTarget prefixes the X-Amz-Target of every operation.
const codePipelineTarget = "CodePipeline_20150709."

// NewCodePipeline starts a CodePipeline server on 127.0.0.1 for the test;
// it stops at the end of the test.
func NewCodePipeline(t testing.TB) *CodePipeline {
	t.Helper()
	c := &CodePipeline{
		jobs: map[string]*CodePipelineResult{},
	}
	c.start(t, "codepipeline", c)
	return c
}

// Client returns an SDK client for the fake, with its credentials; opts
// adjust it (e.g. RetryMaxAttempts).
func (c *CodePipeline) Client(opts ...func(*codepipeline.Options)) *codepipeline.Client {
	return codepipeline.New(codepipeline.Options{
		Region:       Region,
		BaseEndpoint: aws.String(c.URL),
		Credentials:  c.creds(),
		HTTPClient:   awshttp.NewBuildableClient(),
	}, opts...)
}

// cpJobID is the documented form of a job id.
var cpJobID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// AddJob opens a job with the given id, as CodePipeline does before it
// invokes an action.
func (c *CodePipeline) AddJob(id string) {
	c.t.Helper()
	if !cpJobID.MatchString(id) {
		c.t.Fatalf("fake CodePipeline: job id %q is not of the form CodePipeline uses", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs[id] = nil
}

// NewJob opens a job with a new random id and returns the id.
func (c *CodePipeline) NewJob() string {
	h := randomHex(16)
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	c.AddJob(id)
	return id
}

// Result returns what job id was reported with; reported is false while
// nobody has reported it.
func (c *CodePipeline) Result(id string) (r CodePipelineResult, reported bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.jobs[id]; p != nil {
		return *p, true
	}
	return CodePipelineResult{}, false
}

// FailNext makes the next n requests (after their signature check) fail
// with the error code, e.g. "ThrottlingException".
func (c *CodePipeline) FailNext(code string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.fails = append(c.fails, code)
	}
}

// cpError is an error answer of the JSON protocol.
type cpError struct {
	status    int
	code, msg string
}

func (e *cpError) Error() string { return e.code + ": " + e.msg }

// cpInvalid is a ValidationException with AWS's wording.
func cpInvalid(value, member, constraint string) *cpError {
	return &cpError{http.StatusBadRequest, "ValidationException", fmt.Sprintf(
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}
}

// cpFailNext are the statuses of the codes FailNext takes.
var cpFailNext = map[string]int{
	"ThrottlingException":         http.StatusBadRequest,
	"ServiceUnavailableException": http.StatusServiceUnavailable,
	"InternalFailure":             http.StatusInternalServerError,
}

func (c *CodePipeline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := c.check(r, body); err != nil {
		c.t.Errorf("fake CodePipeline: bad request: %v", err)
		writeCPError(w, &cpError{http.StatusForbidden, "InvalidSignatureException", err.Error()})
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), codePipelineTarget)
	c.mu.Lock()
	c.calls[op]++
	var failWith string
	if len(c.fails) > 0 {
		failWith, c.fails = c.fails[0], c.fails[1:]
	}
	c.mu.Unlock()
	if failWith != "" {
		status, ok := cpFailNext[failWith]
		if !ok {
			status = http.StatusBadRequest
		}
		writeCPError(w, &cpError{status, failWith, "Rate exceeded (fake CodePipeline: FailNext)"})
		return
	}

	dec := func(in any) *cpError {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(in); err != nil {
			c.t.Errorf("fake CodePipeline: %s: cannot decode %s: %v", op, body, err)
			return &cpError{http.StatusBadRequest, "SerializationException", err.Error()}
		}
		return nil
	}
	var e *cpError
	switch op {
	case "PutJobSuccessResult":
		var in cpSuccessInput
		if e = dec(&in); e == nil {
			e = c.putSuccess(&in)
		}
	case "PutJobFailureResult":
		var in cpFailureInput
		if e = dec(&in); e == nil {
			e = c.putFailure(&in)
		}
	default:
		c.t.Errorf("fake CodePipeline: operation %q is not implemented", op)
		e = &cpError{http.StatusBadRequest, "UnknownOperationException", "fake CodePipeline: operation " + op + " is not implemented"}
	}
	if e != nil {
		writeCPError(w, e)
		return
	}
	// Both operations answer 200 with an empty body.
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", randomHex(16))
	w.WriteHeader(http.StatusOK)
}

func writeCPError(w http.ResponseWriter, e *cpError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", randomHex(16))
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

// check verifies the protocol and the SigV4 signature of a request.
func (c *CodePipeline) check(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return fmt.Errorf("%s %s: want POST /", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return fmt.Errorf("Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	if tg := r.Header.Get("X-Amz-Target"); !strings.HasPrefix(tg, codePipelineTarget) {
		return fmt.Errorf("X-Amz-Target %q, want %s<operation>", tg, codePipelineTarget)
	}
	return checkSigV4(r, body, "codepipeline", c.AccessKey, c.SecretKey)
}

type cpSuccessInput struct {
	JobID             *string `json:"jobId"`
	ContinuationToken *string `json:"continuationToken"`
	CurrentRevision   *struct {
		Revision         string `json:"revision"`
		ChangeIdentifier string `json:"changeIdentifier"`
		Created          any    `json:"created"`
		RevisionSummary  string `json:"revisionSummary"`
	} `json:"currentRevision"`
	ExecutionDetails *struct {
		Summary             *string `json:"summary"`
		ExternalExecutionID *string `json:"externalExecutionId"`
		PercentComplete     *int    `json:"percentComplete"`
	} `json:"executionDetails"`
	OutputVariables map[string]string `json:"outputVariables"`
}

type cpFailureInput struct {
	JobID          *string `json:"jobId"`
	FailureDetails *struct {
		Type                *string `json:"type"`
		Message             *string `json:"message"`
		ExternalExecutionID *string `json:"externalExecutionId"`
	} `json:"failureDetails"`
}

// cpFailureTypes is the FailureType enum.
var cpFailureTypes = []string{"JobFailed", "ConfigurationError", "PermissionError", "RevisionOutOfSync", "RevisionUnavailable", "SystemUnavailable"}

// cpMaxOutputVariables is the documented limit of the output variables'
// total size, keys and values, in characters.
const cpMaxOutputVariables = 122880

func (c *CodePipeline) putSuccess(in *cpSuccessInput) *cpError {
	if e := cpCheckLen("continuationToken", in.ContinuationToken, 2048); e != nil {
		return e
	}
	res := CodePipelineResult{Success: true}
	if d := in.ExecutionDetails; d != nil {
		if e := cpCheckLen("executionDetails.summary", d.Summary, 2048); e != nil {
			return e
		}
		if e := cpCheckLen("executionDetails.externalExecutionId", d.ExternalExecutionID, 1500); e != nil {
			return e
		}
		if p := d.PercentComplete; p != nil && (*p < 0 || *p > 100) {
			return cpInvalid(fmt.Sprint(*p), "executionDetails.percentComplete", "Member must have value between 0 and 100")
		}
		if d.Summary != nil {
			res.Summary = *d.Summary
		}
	}
	if in.ContinuationToken != nil {
		res.ContinuationToken = *in.ContinuationToken
		if len(in.OutputVariables) > 0 {
			return &cpError{http.StatusBadRequest, "ValidationException",
				"outputVariables can be included only when there is no continuation token on the request"}
		}
	}
	size := 0
	for k, v := range in.OutputVariables {
		size += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
	}
	if size > cpMaxOutputVariables {
		return &cpError{http.StatusBadRequest, "OutputVariablesSizeExceededException",
			fmt.Sprintf("Exceeded the total size limit for all variables in the pipeline: %d characters, limit %d", size, cpMaxOutputVariables)}
	}
	return c.close(in.JobID, &res)
}

func (c *CodePipeline) putFailure(in *cpFailureInput) *cpError {
	d := in.FailureDetails
	if d == nil {
		return cpInvalid("null", "failureDetails", "Member must not be null")
	}
	if d.Type == nil {
		return cpInvalid("null", "failureDetails.type", "Member must not be null")
	}
	if !slices.Contains(cpFailureTypes, *d.Type) {
		return cpInvalid(*d.Type, "failureDetails.type", "Member must satisfy enum value set: ["+strings.Join(cpFailureTypes, ", ")+"]")
	}
	if d.Message == nil {
		return cpInvalid("null", "failureDetails.message", "Member must not be null")
	}
	if e := cpCheckLen("failureDetails.message", d.Message, 5000); e != nil {
		return e
	}
	if e := cpCheckLen("failureDetails.externalExecutionId", d.ExternalExecutionID, 1500); e != nil {
		return e
	}
	return c.close(in.JobID, &CodePipelineResult{FailureType: *d.Type, FailureMessage: *d.Message})
}

// close records the result of an open job. A job is reported once: even
// a success with a continuation token ends it (CodePipeline continues in
// a new job).
func (c *CodePipeline) close(id *string, res *CodePipelineResult) *cpError {
	if id == nil {
		return cpInvalid("null", "jobId", "Member must not be null")
	}
	if !cpJobID.MatchString(*id) {
		return cpInvalid(*id, "jobId", "Member must satisfy regular expression pattern: "+
			strings.Trim(cpJobID.String(), "^$"))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, ok := c.jobs[*id]
	switch {
	case !ok:
		return &cpError{http.StatusBadRequest, "JobNotFoundException", "The job was specified in an invalid format or cannot be found: " + *id}
	case prev != nil:
		return &cpError{http.StatusBadRequest, "InvalidJobStateException", "The job " + *id + " is no longer in progress"}
	}
	c.jobs[*id] = res
	return nil
}

// cpCheckLen checks an optional string member's documented length, in
// characters (1..max).
func cpCheckLen(member string, v *string, max int) *cpError {
	if v == nil {
		return nil
	}
	switch n := utf8.RuneCountInString(*v); {
	case n < 1:
		return cpInvalid(*v, member, "Member must have length greater than or equal to 1")
	case n > max:
		return cpInvalid(cpClip(*v), member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

// cpClip keeps error messages short, as AWS does for long values.
func cpClip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
