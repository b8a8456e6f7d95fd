package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/redact"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// secretSet is every secret a test knows, by name, for findSecrets.
type secretSet map[string]string

// add registers a secret; values too short to redact (redact.MinLen) are
// refused, since a test that relied on them would prove nothing.
func (s secretSet) add(t *testing.T, name, value string) {
	t.Helper()
	if len(value) < redact.MinLen {
		t.Fatalf("secret %s is empty or too short to be redacted", name)
	}
	s[name] = value
}

// findSecrets returns the names of the secrets that appear in text, in any
// form they could be printed in (verbatim, URL-escaped, JSON-escaped).
func findSecrets(text string, secrets secretSet) []string {
	var found []string
	for name, v := range secrets {
		for _, form := range redact.Forms(v) {
			if strings.Contains(text, form) {
				found = append(found, name)
				break
			}
		}
	}
	sort.Strings(found)
	return found
}

// TestRedactionFinder: the finder the redaction test relies on catches a
// planted secret in each form, and not a mere part of one.
func TestRedactionFinder(t *testing.T) {
	secrets := secretSet{}
	secrets.add(t, "aws", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	secrets.add(t, "hook", "hook-token-0123456789")
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"time=... msg=ok", nil},
		{"error: signature wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY mismatch", []string{"aws"}},
		{"GET /x?sig=wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY", []string{"aws"}},
		{`{"auth":"Bearer hook-token-0123456789"}`, []string{"hook"}},
		{"wJalrXUtnFEMI/K7MDENG only half of it", nil},
		{"[REDACTED] [REDACTED]", nil},
	} {
		if got := findSecrets(tc.text, secrets); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("findSecrets(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	// And the redacting writer removes every form of what it is given.
	var out strings.Builder
	w := redact.NewWriter(&out)
	w.Add(secrets["aws"], secrets["hook"])
	fmt.Fprintln(w, "a wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY b wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY c hook-token-0123456789")
	if found := findSecrets(out.String(), secrets); len(found) > 0 {
		t.Errorf("the writer let %v through: %s", found, out.String())
	}
}

// redRun is one ferry process of the redaction test, and what it printed.
type redRun struct {
	name   string
	code   int
	output string // stdout and stderr
}

// redactionBed is the state of TestRedaction.
type redactionBed struct {
	t       *testing.T
	bin     string
	env     []string
	secrets secretSet
	mu      sync.Mutex
	runs    []redRun
}

// ferry runs the ferry binary to the end and records its output.
func (r *redactionBed) ferry(name string, extraEnv []string, args ...string) redRun {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = append(append(os.Environ(), r.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	res := redRun{name: name, output: string(out)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
	r.mu.Lock()
	r.runs = append(r.runs, res)
	r.mu.Unlock()
	return res
}

// want fails the test unless the run exited with code (any, if -1) and
// printed sub.
func (r *redactionBed) want(res redRun, code int, sub string) {
	r.t.Helper()
	if (code >= 0 && res.code != code) || !strings.Contains(res.output, sub) {
		r.t.Errorf("%s: exit %d, want %d and %q in:\n%s", res.name, res.code, code, sub, clip(res.output))
	}
}

// TestRedaction runs every ferry command against the test bed, with
// secrets everywhere they can be (the servers' keys, a user's keys, STS
// session credentials, a wrong secret key, the webhook token, a
// notification webhook's token and URL key, NATS credentials in its URL)
// and with the errors that tend to print what they were given (wrong
// keys, a bad config, malformed events, wrong tokens, unreachable
// servers). It captures everything each process prints and every file
// ferry writes in its data directories, and fails if any secret appears
// in any of it.
func TestRedaction(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	r := &redactionBed{t: t, bin: testbed.FerryBinary(t), secrets: secretSet{}}
	for name, s := range bed.Servers {
		r.secrets.add(t, "secret key of "+name, s.SecretKey)
	}
	bedSecrets := redReadSecrets(t, filepath.Join(bed.Dir, "secrets"))
	for name, v := range bedSecrets {
		if strings.HasPrefix(name, "HOOK_TOKEN_") || name == "KMS_SECRET_KEY" {
			r.secrets.add(t, name, v)
			if _, key, ok := strings.Cut(v, ":"); ok && name == "KMS_SECRET_KEY" {
				r.secrets.add(t, "KMS key material", key)
			}
		}
	}

	// A least-privilege user that may only read: a destination it cannot
	// write to fails every copy (AccessDenied).
	readOnly := bed.NewUser(t, testbed.B, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation","s3:GetBucketVersioning"],"Resource":["arn:aws:s3:::*"]}]}`)
	writer := bed.NewUser(t, testbed.A, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}`)
	creds := redReadINI(t, os.Getenv("AWS_SHARED_CREDENTIALS_FILE"))
	r.secrets.add(t, "secret key of the read-only user", creds[readOnly]["aws_secret_access_key"])
	r.secrets.add(t, "secret key of the writer user", creds[writer]["aws_secret_access_key"])

	// STS session credentials of the writer (MinIO's AssumeRole), as a
	// profile with aws_session_token.
	sts, err := credentials.NewSTSAssumeRole(bed.Servers[testbed.A].URL, credentials.STSAssumeRoleOptions{
		AccessKey: writer, SecretKey: creds[writer]["aws_secret_access_key"], Location: testbed.Region, DurationSeconds: 900})
	if err != nil {
		t.Fatal(err)
	}
	session, err := sts.GetWithContext(nil)
	if err != nil {
		t.Fatalf("MinIO AssumeRole: %v", err)
	}
	r.secrets.add(t, "STS secret key", session.SecretAccessKey)
	r.secrets.add(t, "STS session token", session.SessionToken)
	bed.AddProfile(t, testbed.Profile{Name: "red-sts", URL: bed.Servers[testbed.A].URL, AccessKey: session.AccessKeyID, SecretKey: session.SecretAccessKey})
	redAppend(t, os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), "aws_session_token = "+session.SessionToken+"\n")

	// A profile whose secret key is wrong: it is a secret all the same.
	wrongSecret := "WrongSecret/" + strings.Repeat("x", 20) + "+k"
	r.secrets.add(t, "wrong secret key", wrongSecret)
	bed.AddProfile(t, testbed.Profile{Name: "red-wrong", URL: bed.Servers[testbed.A].URL, AccessKey: bed.Servers[testbed.A].Profile + "-nokey", SecretKey: wrongSecret})
	bed.AddProfile(t, testbed.Profile{Name: "red-wrong-a", URL: bed.Servers[testbed.A].URL, AccessKey: "ferryaccessA", SecretKey: wrongSecret})
	bed.Setenv(t)

	webhookToken := "webhook-" + redHex(t)
	notifyToken := "notify-" + redHex(t)
	notifyKey := "notifykey-" + redHex(t)
	natsPassword := "natspass-" + redHex(t)
	r.secrets.add(t, "webhook token", webhookToken)
	r.secrets.add(t, "notification webhook token", notifyToken)
	r.secrets.add(t, "notification URL key", notifyKey)
	r.secrets.add(t, "NATS password", natsPassword)
	r.env = []string{"FERRY_WEBHOOK_TOKEN=" + webhookToken, "FERRY_NOTIFY_TOKEN=" + notifyToken}

	// The notification receiver checks the token and keeps the messages.
	var notified sync.Map
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer "+notifyToken || req.URL.Query().Get("key") != notifyKey {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(req.Body)
		notified.Store(string(body), true)
	}))
	defer hook.Close()

	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	locked := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	syncDst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	stsDst := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	ctx := context.Background()
	for i := range 3 {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(fmt.Sprintf("dir/obj %d+.txt", i)), Body: strings.NewReader("body")})
	}

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	// Every node of the cluster, each with the credentials.
	urls := bed.NATS.Cluster
	if len(urls) == 0 {
		urls = []string{bed.NATS.URL}
	}
	var nodes []string
	for _, u := range urls {
		nodes = append(nodes, strings.Replace(u, "nats://", "nats://ferry:"+natsPassword+"@", 1))
	}
	natsURL := strings.Join(nodes, ",")
	stream := "RED_" + strings.ToUpper(redHex(t)[:8])
	cfg := filepath.Join(dir, "ferry.yaml")
	redWrite(t, cfg, fmt.Sprintf(`
source: {bucket: %[1]s, profile: tb-a}
destinations:
  - {bucket: %[2]s, profile: tb-b}
  - {bucket: %[3]s, profile: %[4]s}
run:
  listen: 127.0.0.1:0
  data_dir: %[5]s
  reconcile_interval: 0s
notifications:
  targets:
    - webhook: {url: %[6]q, token_env: FERRY_NOTIFY_TOKEN}
`, src, dst, locked, readOnly, dataDir, hook.URL+"/hook?key="+notifyKey))
	// The same with the NATS intake, its credentials in the URL.
	natsCfg := filepath.Join(dir, "nats.yaml")
	redWrite(t, natsCfg, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run:
  listen: 127.0.0.1:0
  data_dir: %s
  reconcile_interval: 0s
  webhook: {disabled: true}
  nats: {url: %q, stream: %s, subject: red.%s, durable: red}
`, src, dst, filepath.Join(dir, "data-nats"), natsURL, stream, stream))

	// The daemon, with debug logs: a good event, a wrong token, no token,
	// a malformed event; the locked destination fails and notifies.
	t.Run("run", func(t *testing.T) {
		d := redStartDaemon(t, r, "run (daemon)", "run", "--config", cfg, "--log-level", "debug")
		post := func(auth, body string) int {
			req, _ := http.NewRequest("POST", "http://"+d.addr+"/events", strings.NewReader(body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		ev := fmt.Sprintf(`{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":"dir/obj+0%%2B.txt","size":4}}}]}`, src)
		for _, tc := range []struct {
			auth, body string
			want       int
		}{
			{"Bearer wrong-" + webhookToken, ev, 401},
			{"", ev, 401},
			{"Bearer " + webhookToken, `{"Records":[{"s3":` + webhookToken, 400},
			{"Bearer " + webhookToken, ev, 200},
		} {
			if got := post(tc.auth, tc.body); got != tc.want {
				t.Errorf("POST /events: HTTP %d, want %d", got, tc.want)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := bed.Client(t, testbed.B).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("dir/obj 0+.txt")})
			n := 0
			notified.Range(func(k, _ any) bool { n++; return true })
			if err == nil && n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 30s: replica %v, %d notifications\n%s", err, n, clip(d.log.String()))
			}
			time.Sleep(100 * time.Millisecond)
		}
		waitFailed(t, dataDir)
		d.stop(t)
	})
	t.Run("run with NATS", func(t *testing.T) {
		d := redStartDaemon(t, r, "run with NATS (daemon)", "run", "--config", natsCfg, "--log-level", "debug")
		d.stop(t)
	})

	// The same daemon with NATS unreachable: the intake's error names the
	// server, never its password.
	badNATS := filepath.Join(dir, "bad-nats.yaml")
	redWrite(t, badNATS, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run: {listen: 127.0.0.1:0, data_dir: %s, reconcile_interval: 0s, nats: {url: "nats://ferry:%s@127.0.0.1:1", stream: X, subject: x}}
`, src, dst, filepath.Join(dir, "data-bad-nats"), natsPassword))
	res := r.ferry("run with NATS unreachable", nil, "run", "--config", badNATS, "--log-level", "debug")
	if res.code == 0 {
		t.Errorf("run with NATS unreachable exited 0:\n%s", clip(res.output))
	}

	site := filepath.Join(dir, "site")
	os.MkdirAll(filepath.Join(site, "assets"), 0o755)
	redWrite(t, filepath.Join(site, "index.html"), "<h1>hi</h1>")
	redWrite(t, filepath.Join(site, "assets", "app.1234abcd.js"), "x=1")

	// Bad configs: a notification URL that is not http(s) (the message
	// quotes the URL), and a YAML type error beside inline tokens.
	badCfg := filepath.Join(dir, "bad.yaml")
	redWrite(t, badCfg, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
notifications:
  targets:
    - webhook: {url: "ftp://ferry:%s@hooks.example.com/x?key=%s", token: %q}
`, src, dst, natsPassword, notifyKey, notifyToken))
	badType := filepath.Join(dir, "bad-type.yaml")
	redWrite(t, badType, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run: {webhook: {token: %q, disabled: maybe}, nats: {url: "nats://%s@127.0.0.1:1"}}
`, src, dst, webhookToken, natsPassword))

	steps := []struct {
		name string
		code int
		sub  string
		args []string
	}{
		{"status", 0, "FAILED", []string{"status", "--config", cfg, "s3://" + src + "/dir/obj 0+.txt", "-v"}},
		{"status --json", 0, "FAILED", []string{"status", "--config", cfg, "--prefix", "dir/", "--json"}},
		{"retry --dry-run", 0, "would retry", []string{"retry", "--config", cfg, "--dry-run", "-v"}},
		{"retry", 0, "re-queued 1", []string{"retry", "--config", cfg, "-v"}},
		{"sync", 0, "", []string{"sync", "s3://" + src, "s3://" + syncDst, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--log-level", "debug"}},
		{"sync --dry-run --json", 0, "", []string{"sync", "s3://" + src, "s3://" + syncDst, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--dry-run", "--json"}},
		{"sync with STS session credentials", 0, "", []string{"sync", "s3://" + src, "s3://" + stsDst, "--src-profile", "red-sts", "--dst-profile", "red-sts", "--log-level", "debug"}},
		{"sync --config (a destination fails)", 1, "", []string{"sync", "--config", cfg, "-v"}},
		{"sync with a wrong secret key", 2, "", []string{"sync", "s3://" + src, "s3://" + syncDst, "--src-profile", "red-wrong-a", "--dst-profile", "tb-b", "--log-level", "debug"}},
		{"sync with an unknown access key", 2, "", []string{"sync", "s3://" + src, "s3://" + syncDst, "--src-profile", "red-wrong", "--dst-profile", "tb-b", "-v"}},
		{"backfill", 1, "", []string{"backfill", "--config", cfg, "--data-dir", filepath.Join(dir, "backfill"), "-v"}},
		{"backfill --dry-run", 0, "", []string{"backfill", "--config", cfg, "--data-dir", filepath.Join(dir, "backfill"), "--dry-run", "--json"}},
		{"check", 1, "", []string{"check", "--config", cfg, "-v"}},
		{"check --json", 1, "", []string{"check", "--config", cfg, "--json"}},
		{"policy", 0, "", []string{"policy", "--config", cfg}},
		{"policy terraform", 0, "", []string{"policy", "--config", cfg, "--format", "terraform", "--runtime", "ec2"}},
		{"deploy --dry-run", 0, "", []string{"deploy", site, "s3://" + syncDst + "/www", "--profile", "tb-b", "--dry-run", "-v"}},
		{"deploy with a wrong secret key", 2, "", []string{"deploy", site, "s3://" + syncDst + "/www", "--profile", "red-wrong-a", "-v"}},
		{"setup notifications --dry-run", 0, "dry run", []string{"setup", "notifications", "--config", cfg, "--target", bed.TargetARN(t, "hook1"), "--dry-run", "-v"}},
		{"setup notifications without a target (NATS help)", 2, "", []string{"setup", "notifications", "--config", natsCfg, "--dry-run"}},
		{"check with NATS", -1, "", []string{"check", "--config", natsCfg, "-v"}},
		{"status with NATS", -1, "", []string{"status", "--config", natsCfg, "--prefix", "dir/", "-v"}},
		{"retry --dry-run with NATS", -1, "", []string{"retry", "--config", natsCfg, "--dry-run", "-v"}},
		{"config validate", 0, "", []string{"config", "validate", cfg, "-v"}},
		{"config validate (bad config)", 2, "", []string{"config", "validate", badCfg}},
		{"run (bad config)", 2, "", []string{"run", "--config", badCfg}},
		{"sync --config (bad config)", 2, "", []string{"sync", "--config", badCfg}},
		{"check (bad config)", 2, "", []string{"check", "--config", badCfg}},
		{"config validate (type error)", 2, "", []string{"config", "validate", badType}},
		{"run (type error)", 2, "", []string{"run", "--config", badType}},
		{"status (type error)", 2, "", []string{"status", "--config", badType, "s3://" + src + "/k"}},
	}
	for _, s := range steps {
		res := r.ferry(s.name, nil, s.args...)
		r.want(res, s.code, s.sub)
	}

	// What ferry wrote to disk: the queue database, checkpoints, reports.
	var files []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path != cfg && path != natsCfg && path != badCfg && path != badType && path != badNATS {
			files = append(files, path)
		}
		return nil
	})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r.runs = append(r.runs, redRun{name: "file " + strings.TrimPrefix(f, dir), output: string(b)})
	}

	if path := os.Getenv("FERRY_REDACTION_DUMP"); path != "" { // to read what was checked
		var all strings.Builder
		for _, res := range r.runs {
			fmt.Fprintf(&all, "===== %s (exit %d)\n%s\n", res.name, res.code, res.output)
		}
		os.WriteFile(path, []byte(all.String()), 0o600)
	}
	leaks := 0
	for _, res := range r.runs {
		if found := findSecrets(res.output, r.secrets); len(found) > 0 {
			leaks++
			t.Errorf("%s: %v appear:\n%s", res.name, found, clip(res.output))
		}
	}
	t.Logf("%d outputs and files checked for %d secrets, %d leaks", len(r.runs), len(r.secrets), leaks)
	if !strings.Contains(strings.Join(redOutputs(r.runs), "\n"), redact.Replacement) {
		t.Errorf("no output was redacted at all: the test did not exercise redaction")
	}
}

// waitFailed waits until the daemon's queue in dir holds a FAILED
// operation, whose failure detail status and retry then print.
func waitFailed(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		if q, err := queue.OpenShared(dir); err == nil {
			q.Failed(context.Background(), func(queue.Job) error { n++; return nil })
			q.Close()
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no FAILED operation in %s after 20s", dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func redOutputs(runs []redRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.output)
	}
	return out
}

// redDaemon is a `ferry run` of the redaction test.
type redDaemon struct {
	cmd  *exec.Cmd
	log  *testbed.Buffer
	addr string
	done chan error
	r    *redactionBed
	name string
}

var redDaemonListen = regexp.MustCompile(`msg="ferry is running" listen=(\S+)`)

func redStartDaemon(t *testing.T, r *redactionBed, name string, args ...string) *redDaemon {
	t.Helper()
	d := &redDaemon{log: &testbed.Buffer{}, done: make(chan error, 1), r: r, name: name}
	d.cmd = exec.Command(r.bin, args...)
	d.cmd.Env = append(os.Environ(), r.env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
		r.mu.Lock()
		r.runs = append(r.runs, redRun{name: name, output: d.log.String()})
		r.mu.Unlock()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := redDaemonListen.FindStringSubmatch(d.log.String()); m != nil {
			d.addr = m[1]
			return d
		}
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("%s exited (%v):\n%s", name, err, clip(d.log.String()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening after 30s:\n%s", name, clip(d.log.String()))
		}
	}
}

func (d *redDaemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Errorf("%s after SIGTERM: %v", d.name, err)
		}
	case <-time.After(40 * time.Second):
		t.Errorf("%s still running 40s after SIGTERM", d.name)
	}
}

// readSecretsFile reads the bed's DIR/secrets (NAME=value lines).
func redReadSecrets(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "export "))
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = strings.Trim(v, `'"`)
		}
	}
	return out
}

// readINIFile reads an AWS credentials file: section -> key -> value.
func redReadINI(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	var sec map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			sec = map[string]string{}
			out[strings.TrimSpace(line[1:len(line)-1])] = sec
		case sec != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				sec[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

func redAppend(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func redWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func redHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}
