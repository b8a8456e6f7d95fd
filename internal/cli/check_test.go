package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/cli"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// checkRun runs `ferry check` in process with the environment as the test
// set it (unlike ferry(), it does not reset the AWS files to the bed's, so
// profiles added with bed.AddProfile or bed.NewUser stay visible).
// secrets must not appear in the output.
func checkRun(t *testing.T, bed *testbed.Bed, secrets []string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"check"}, args...), &out, &errOut)
	r := result{code, out.String(), errOut.String()}
	t.Logf("ferry check %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, clip(r.stdout), clip(r.stderr))
	for _, s := range bed.Servers {
		secrets = append(secrets, s.SecretKey)
	}
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("a secret appears in ferry check's output")
		}
	}
	return r
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkLine is one line of `ferry check --json`: a result or the summary.
type checkLine struct {
	Check    string `json:"check"`
	Target   string `json:"target"`
	Status   string `json:"status"`
	Detail   string `json:"detail"`
	Error    string `json:"error"`
	Reason   string `json:"reason"`
	Fix      string `json:"fix"`
	Leftover string `json:"leftover"`

	Summary  bool `json:"summary"`
	OK       bool `json:"ok"`
	Passed   int  `json:"passed"`
	Warnings int  `json:"warnings"`
	Failed   int  `json:"failed"`
	Skipped  int  `json:"skipped"`
}

// parseCheckJSON reads --json output: results, then one summary, last.
func parseCheckJSON(t *testing.T, out string) ([]checkLine, checkLine) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rs []checkLine
	for i, l := range lines {
		var c checkLine
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("line %d is not JSON: %q: %v", i+1, l, err)
		}
		if c.Summary != (i == len(lines)-1) {
			t.Fatalf("line %d: summary %v; the summary is the last line, and only it", i+1, c.Summary)
		}
		if !c.Summary {
			if c.Check == "" || c.Target == "" || c.Detail == "" {
				t.Errorf("line %d lacks check, target or detail: %q", i+1, l)
			}
			switch c.Status {
			case "PASS", "WARN", "SKIP":
			case "FAIL":
				if c.Fix == "" {
					t.Errorf("line %d: a FAIL without a fix: %q", i+1, l)
				}
			default:
				t.Errorf("line %d: status %q", i+1, c.Status)
			}
			rs = append(rs, c)
		}
	}
	return rs, func() checkLine { var s checkLine; json.Unmarshal([]byte(lines[len(lines)-1]), &s); return s }()
}

// TestCheckCommandGood: a working set-up passes every check: one PASS
// line each, exit 0; --json gives one object per check and a summary.
func TestCheckCommandGood(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	put(t, bed.Client(t, testbed.A), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("builds/app.tar.gz"), Body: strings.NewReader("app")})
	bed.Notify(t, src, bed.NATS.Target)
	cfg := writeConfig(t, fmt.Sprintf(`source: {bucket: %s, profile: tb-a}
destinations:
  - {bucket: %s, profile: tb-b, encryption: {type: aws:kms, kms_key_id: %s}}
run:
  webhook: {disabled: true}
  nats: {url: %q}
replication:
  Rules:
    - {ID: builds, Priority: 1, Status: Enabled, Filter: {Prefix: builds/}, DeleteMarkerReplication: {Status: Enabled}, Destination: {Bucket: "arn:aws:s3:::%s"}}
`, src, dst, bed.KMSKey, bed.NATSURL(), dst))

	r := checkRun(t, bed, nil, "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "PASS  ") {
			t.Errorf("not a PASS line: %q", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "passed, 0 warnings, 0 failed, 0 skipped") {
		t.Errorf("summary line %q", last)
	}
	for _, c := range []string{"clock", "source", "read", "notifications", "write", "kms", "cleanup"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("no %s check in the output", c)
		}
	}

	r = checkRun(t, bed, nil, "--config", cfg, "--json")
	rs, sum := parseCheckJSON(t, r.stdout)
	if r.code != 0 || !sum.OK || sum.Failed != 0 || sum.Passed != len(rs) || len(rs) != len(lines)-1 {
		t.Errorf("--json: exit %d, summary %+v for %d results (%d text lines)", r.code, sum, len(rs), len(lines)-1)
	}
	if left := keysOf(t, bed.Client(t, testbed.B), dst); len(left) != 0 {
		t.Errorf("the probes left %v", left)
	}
}

// TestCheckCommandFailures: a destination user without s3:PutObject and a
// source without event notifications: exit 1, each FAIL with the S3 error
// and the fix, on one line; the same in --json.
func TestCheckCommandFailures(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	user := bed.NewUser(t, testbed.B, fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketVersioning"], "Resource": ["arn:aws:s3:::%[1]s"]},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::%[1]s/*"]}]}`, dst))
	cfg := writeConfig(t, fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: %s}]\nrun: {}\n", src, dst, user))

	r := checkRun(t, bed, nil, "--config", cfg)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	var write, notif string
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "FAIL  write "):
			write = l
		case strings.HasPrefix(l, "FAIL  notifications "):
			notif = l
		}
	}
	if !strings.Contains(write, "AccessDenied") || !strings.Contains(write, "Fix: grant s3:PutObject on arn:aws:s3:::"+dst+"/* to profile "+user) {
		t.Errorf("write line %q: want the S3 error and the grant", write)
	}
	if !strings.Contains(notif, "Fix: `ferry setup notifications --config "+cfg+"`") {
		t.Errorf("notifications line %q: want ferry setup notifications", notif)
	}
	if !strings.Contains(r.stdout, "SKIP  cleanup ") || !strings.Contains(r.stdout, "skipped: needs the write probe") {
		t.Errorf("no skipped cleanup after the refused write")
	}

	r = checkRun(t, bed, nil, "--config", cfg, "--json")
	rs, sum := parseCheckJSON(t, r.stdout)
	if r.code != 1 || sum.OK || sum.Failed != 2 || sum.Skipped == 0 {
		t.Errorf("--json: exit %d, summary %+v; want exit 1, 2 failed, some skipped", r.code, sum)
	}
	for _, c := range rs {
		if c.Check == "write" && (c.Status != "FAIL" || c.Reason != "DstPutObjectNotPermitted" || !strings.HasPrefix(c.Error, "AccessDenied")) {
			t.Errorf("write: %+v", c)
		}
	}
	if left := keysOf(t, bed.Client(t, testbed.B), dst); len(left) != 0 {
		t.Errorf("a refused write left %v", left)
	}
}

// TestCheckCommandCredentials: keys the server refuses and a profile that
// does not exist are each one clear FAIL; nothing secret is printed, and
// the checks that needed them say so.
func TestCheckCommandCredentials(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	a := bed.Server(t, testbed.A)
	const wrong = "wrong-secret-never-printed-7f3a"
	bed.AddProfile(t, testbed.Profile{Name: "tb-wrong", URL: a.URL, AccessKey: a.AccessKey, SecretKey: wrong})
	cfg := writeConfig(t, fmt.Sprintf("source: {bucket: %s, profile: tb-wrong}\ndestinations: [{bucket: somewhere, profile: tb-missing}]\n", src))

	r := checkRun(t, bed, []string{wrong}, "--config", cfg)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{
		"FAIL  source        s3://" + src + ": cannot be listed (SignatureDoesNotMatch",
		"Fix: the server does not accept the keys of profile tb-wrong",
		"SKIP  read          s3://" + src + ": skipped: needs keys the server accepts (profile tb-wrong)",
		"FAIL  profile       profile tb-missing: cannot be used",
		"Fix: add [profile tb-missing] to the AWS config file",
		"SKIP  write         s3://somewhere: skipped: needs the profile tb-missing",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	if r := checkRun(t, bed, nil, "--config", filepath.Join(t.TempDir(), "none.yaml")); r.code != 2 {
		t.Errorf("missing config: exit %d, want 2", r.code)
	}
	if r := checkRun(t, bed, nil); r.code != 2 || !strings.Contains(r.stderr, "--config is required") {
		t.Errorf("no --config: exit %d, stderr %q", r.code, r.stderr)
	}
}
