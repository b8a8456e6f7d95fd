package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/cli"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/intake"
	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/policy"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/testbed"
	"github.com/ferry-s3/ferry/internal/worker"
)

// roleARN is the role the live tests' policies are written for.
const roleARN = "arn:aws:iam::111122223333:role/ferry"

// policyOutput is ferry policy's JSON output, as a user reads it.
type policyOutput struct {
	Notes       []string                      `json:"notes"`
	Trust       *policy.Document              `json:"trust_policy"`
	Permissions *policy.Document              `json:"permission_policy"`
	Buckets     map[string]*policy.Document   `json:"bucket_policies"`
	Keys        map[string][]policy.Statement `json:"key_policy_statements"`
	Queues      map[string]*policy.Document   `json:"queue_policies"`
}

func policyOf(t *testing.T, bed *testbed.Bed, args ...string) policyOutput {
	t.Helper()
	r := ferry(t, bed, append([]string{"policy"}, args...)...)
	if r.code != 0 {
		t.Fatalf("ferry policy: exit %d: %s", r.code, r.stderr)
	}
	var out policyOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("ferry policy output: %v", err)
	}
	return out
}

// recorder stands in front of a server (an S3 server's counting proxy,
// or an AWS fake) and records every request as the policy.Call it is.
type recorder struct {
	URL  string
	svc  string
	next http.Handler

	mu   sync.Mutex
	seen []observed
}

// observed is one request: its operation ("s3:PutObject") and what IAM
// sees of it.
type observed struct {
	call policy.Call
	line string // METHOD path?query, for messages
	// writeKey and readKey are the KMS keys of an SSE-KMS object written
	// (the request's header) and read (the answer's).
	writeKey, readKey string
}

func record(t *testing.T, svc string, next http.Handler) *recorder {
	t.Helper()
	rec := &recorder{svc: svc, next: next}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// s3Recorder records the requests to one of the bed's S3 servers,
// through the bed's counting proxy (which names their operations).
func s3Recorder(t *testing.T, bed *testbed.Bed, server string) *recorder {
	t.Helper()
	h, err := testbed.NewCountingHandler(bed.Server(t, server).URL)
	if err != nil {
		t.Fatal(err)
	}
	return record(t, "s3", h)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if rec.svc != "s3" || r.Method == http.MethodPost && r.URL.Query().Has("delete") {
		// Small bodies that name what is acted on; S3 uploads stream on.
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	o := observed{call: classify(rec.svc, r, body), line: r.Method + " " + r.URL.RequestURI()}
	rec.next.ServeHTTP(w, r)
	// The answer tells whether the object read is SSE-KMS.
	o.readKey = w.Header().Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	rec.mu.Lock()
	rec.seen = append(rec.seen, o)
	rec.mu.Unlock()
}

func (rec *recorder) calls() []observed {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.seen)
}

// classify describes a request as IAM authorises it.
func classify(svc string, r *http.Request, body []byte) policy.Call {
	q, h := r.URL.Query(), r.Header
	switch svc {
	case "s3":
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		c := policy.Call{Op: "s3:" + s3Operation(r.Method, r.URL.Path, q, h), Bucket: bucket, Key: key,
			VersionID: q.Get("versionId"), Tagging: h.Get("X-Amz-Tagging") != "", ACL: h.Get("X-Amz-Acl"),
			Lock: h.Get("X-Amz-Object-Lock-Mode") != "" || h.Get("X-Amz-Object-Lock-Legal-Hold") == "ON"}
		if q.Has("prefix") {
			p := q.Get("prefix")
			c.Prefix = &p
		}
		if h.Get("X-Amz-Server-Side-Encryption") == "aws:kms" {
			c.WriteKMS = &policy.KMSUse{KeyARN: h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}
		}
		if cs := h.Get("X-Amz-Copy-Source"); cs != "" {
			src, version, _ := strings.Cut(cs, "?versionId=")
			src, _ = url.PathUnescape(strings.TrimPrefix(src, "/"))
			b, k, _ := strings.Cut(src, "/")
			c.CopySource = &policy.ObjectRef{Bucket: b, Key: k, VersionID: version}
		}
		if c.Op == "s3:DeleteObjects" {
			var del struct {
				Objects []struct{ Key string } `xml:"Object"`
			}
			_ = xml.Unmarshal(body, &del)
			for _, o := range del.Objects {
				c.Keys = append(c.Keys, o.Key)
			}
		}
		return c
	case "sqs":
		var in struct{ QueueUrl string }
		_ = json.Unmarshal(body, &in)
		return policy.Call{Op: "sqs:" + strings.TrimPrefix(h.Get("X-Amz-Target"), "AmazonSQS."), Resource: queueARN(in.QueueUrl)}
	case "sns":
		form, _ := url.ParseQuery(string(body))
		return policy.Call{Op: "sns:" + form.Get("Action"), Resource: form.Get("TopicArn")}
	case "cloudfront":
		// /2020-05-31/distribution/{Id}/invalidation[/{InvId}]
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		op := "Other:" + r.Method
		switch {
		case len(parts) == 4 && r.Method == http.MethodPost:
			op = "CreateInvalidation"
		case len(parts) == 5 && r.Method == http.MethodGet:
			op = "GetInvalidation"
		}
		dist := ""
		if len(parts) > 2 {
			dist = parts[2]
		}
		return policy.Call{Op: "cloudfront:" + op, Resource: "arn:aws:cloudfront::111122223333:distribution/" + dist}
	}
	return policy.Call{Op: svc + ":unknown"}
}

// s3Operation names a request's S3 operation: the counting proxy's name,
// else, for the subresources it leaves unnamed (?object-lock, ...), the
// operation they are. Anything else stays "Other:METHOD", and fails.
func s3Operation(method, path string, q url.Values, h http.Header) string {
	op := testbed.Operation(method, path, q, h)
	if !strings.HasPrefix(op, "Other:") {
		return op
	}
	_, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	verb := map[string]string{http.MethodGet: "Get", http.MethodPut: "Put"}[method]
	sub := map[string]string{"object-lock": "ObjectLockConfiguration", "notification": "BucketNotificationConfiguration",
		"policy": "BucketPolicy", "acl": "BucketAcl", "encryption": "BucketEncryption", "replication": "BucketReplication",
		"lifecycle": "BucketLifecycleConfiguration", "location": "BucketLocation"}
	if key != "" {
		sub = map[string]string{"acl": "ObjectAcl", "retention": "ObjectRetention", "legal-hold": "ObjectLegalHold"}
	}
	for param, name := range sub {
		if q.Has(param) && verb != "" {
			return verb + name
		}
	}
	return op
}

// queueARN is the ARN of a queue of the bed's SQS fake.
func queueARN(u string) string {
	return "arn:aws:sqs:" + testbed.Region + ":" + testbed.SQSAccount + ":" + u[strings.LastIndexByte(u, '/')+1:]
}

// kmsEnv says how KMS is seen on AWS: the region and account a key ID
// is looked up in. With it, requireCovered checks the KMS calls S3 would
// make for each SSE-KMS object written or read (for writes, by bucket:
// a multipart upload's parts carry no encryption headers).
type kmsEnv struct {
	region, account string
	writes          map[string]string // bucket -> key ID its replicas are written with
}

func (k *kmsEnv) use(id string) *policy.KMSUse {
	if i := strings.LastIndexAny(id, ":/"); i >= 0 {
		id = id[i+1:] // MinIO answers arn:aws:kms:ID
	}
	return &policy.KMSUse{KeyARN: "arn:aws:kms:" + k.region + ":" + k.account + ":key/" + id, Region: k.region}
}

// requireCovered fails for every recorded request whose operation is not
// in the action table, or whose IAM actions the policy does not allow on
// its resource (and, for a bucket in another account, the bucket's
// policy does not allow the role). With kms, the KMS calls S3 makes for
// SSE-KMS objects are checked too. It returns the operations seen.
func requireCovered(t *testing.T, out policyOutput, kms *kmsEnv, recs ...*recorder) map[string]int {
	t.Helper()
	seen := map[string]int{}
	bad := map[string]bool{}
	for _, rec := range recs {
		for _, o := range rec.calls() {
			c := o.call
			seen[c.Op]++
			if kms != nil {
				if id := kms.writes[c.Bucket]; id != "" && c.Op != "s3:DeleteObject" {
					c.WriteKMS = kms.use(id)
				}
				if o.readKey != "" {
					c.ReadKMS = kms.use(o.readKey)
				}
			} else {
				c.WriteKMS = nil
			}
			checks, err := policy.Needs(c)
			if err != nil {
				if !bad[c.Op] {
					t.Errorf("%s (%s): %v", c.Op, o.line, err)
				}
				bad[c.Op] = true
				continue
			}
			for _, ch := range checks {
				if why := denied(t, out, ch); why != "" && !bad[c.Op+ch.Action] {
					bad[c.Op+ch.Action] = true
					t.Errorf("%s (%s) needs %s: %s", c.Op, o.line, ch, why)
				}
			}
		}
	}
	ops := make([]string, 0, len(seen))
	for op, n := range seen {
		ops = append(ops, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(ops)
	t.Logf("operations sent: %s", strings.Join(ops, " "))
	return seen
}

// awsTwin is ferry policy's output for the config as it would be on AWS:
// the same buckets, rules and settings, without the endpoint_url lines
// that point it at the bed (which make ferry policy write no bucket or
// key policies: other servers have no AWS accounts). The profiles keep
// their regions.
func awsTwin(t *testing.T, bed *testbed.Bed, cfgText string, args ...string) policyOutput {
	t.Helper()
	dir := t.TempDir()
	twin := regexp.MustCompile(`(?m)^\s*endpoint_url: .*\n|, endpoint_url: "[^"]*"`).ReplaceAllString(cfgText, "")
	cfgPath := filepath.Join(dir, "ferry.yaml")
	awsConfig := filepath.Join(dir, "aws-config")
	os.WriteFile(cfgPath, []byte(twin), 0o644)
	os.WriteFile(awsConfig, []byte("[profile tb-a]\nregion = "+testbed.Region+"\n[profile tb-b]\nregion = "+testbed.Region+"\n"), 0o644)
	t.Setenv("AWS_CONFIG_FILE", awsConfig)
	defer bed.Setenv(t)
	var stdout, stderr bytes.Buffer
	if code := cli.Main(append([]string{"policy", "--config", cfgPath}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("ferry policy (AWS twin): exit %d: %s", code, stderr.String())
	}
	var out policyOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// denied says why out does not allow c, or "".
func denied(t *testing.T, out policyOutput, c policy.Check) string {
	t.Helper()
	req := policy.Request{Action: c.Action, Resource: c.Resource, Context: c.Context}
	ok, err := policy.Evaluate(out.Permissions, req)
	switch {
	case err != nil:
		t.Fatalf("evaluate %s: %v", c, err)
	case !ok:
		return "the permission policy does not allow it"
	}
	if b, found := strings.CutPrefix(c.Resource, "arn:aws:s3:::"); found {
		name, _, _ := strings.Cut(b, "/")
		if bp := out.Buckets[name]; bp != nil {
			req.Principal = roleARN
			if ok, err := policy.Evaluate(bp, req); err != nil || !ok {
				return fmt.Sprintf("the bucket policy of %s does not allow the role (%v)", name, err)
			}
		}
	}
	return ""
}

func requireSeen(t *testing.T, seen map[string]int, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if seen[op] == 0 {
			t.Errorf("%s was never sent: the scenario does not exercise what it should", op)
		}
	}
}

// TestPolicyCoversReplication runs ferry's replication code paths through
// recorders in front of the bed's servers and the SQS and SNS fakes: sync
// with versions, tags, delete markers and a multipart object, to a
// destination in another account (key rewrite, ACL, SSE-KMS) and to one
// on the same server (server-side copies); backfill; status; the SQS
// intake feeding the worker (a new version, a deleted key, a malformed
// message); and notifications to SQS and SNS. Every operation sent must
// be in the action table, and the policy ferry policy writes for the
// config must allow each on its resource. A new SDK call fails here.
func TestPolicyCoversReplication(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dstB := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	dstA := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	ra, rb := s3Recorder(t, bed, testbed.A), s3Recorder(t, bed, testbed.B)

	srvA := bed.Server(t, testbed.A)
	sqsFake, snsFake := testbed.NewSQS(t), testbed.NewSNS(t)
	sqsFake.AccessKey, sqsFake.SecretKey = srvA.AccessKey, srvA.SecretKey // profile tb-a signs for them
	snsFake.AccessKey, snsFake.SecretKey = srvA.AccessKey, srvA.SecretKey
	rsqs, rsns := record(t, "sqs", sqsFake), record(t, "sns", snsFake)
	ctx := t.Context()
	for name, visibility := range map[string]string{"events": "30", "failures": "30"} {
		if _, err := sqsFake.Client().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
			Attributes: map[string]string{"VisibilityTimeout": visibility}}); err != nil {
			t.Fatal(err)
		}
	}
	topic := snsFake.NewTopic("replication-events")

	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/a.txt"), Body: strings.NewReader("v1"), Tagging: aws.String("env=prod")})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/a.txt"), Body: strings.NewReader("v2"), Tagging: aws.String("env=prod&team=x")})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/b.txt"), Body: strings.NewReader("gone soon")})
	if _, err := a.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("data/b.txt")}); err != nil {
		t.Fatal(err)
	}
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/big.bin"), Body: bytes.NewReader(randBytes(6<<20+1234, 7))})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("other/not-replicated.txt"), Body: strings.NewReader("x")})

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ferry.yaml")
	cfgText := fmt.Sprintf(`source:
  bucket: %[1]s
  profile: tb-a
  endpoint_url: %[4]s
destinations:
  - bucket: %[2]s
    profile: tb-b
    endpoint_url: %[5]s
    key_rewrite: {from: "data/", to: "copy/"}
    acl: bucket-owner-full-control
    encryption: {type: aws:kms, kms_key_id: %[6]s}
  - bucket: %[3]s
    profile: tb-a
    endpoint_url: %[4]s
    replicate_deletes: true
replication:
  Rules:
    - {ID: to-b, Priority: 1, Status: Enabled, Filter: {Prefix: "data/"}, DeleteMarkerReplication: {Status: Enabled},
       Destination: {Bucket: "arn:aws:s3:::%[2]s"}}
    - {ID: to-a, Priority: 2, Status: Enabled, Filter: {Prefix: "data/"}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::%[3]s"}}
run:
  sqs: {queue_url: "%[7]s/%[9]s/events", profile: tb-a, endpoint_url: "%[7]s"}
notifications:
  targets:
    - sqs: {queue_url: "%[7]s/%[9]s/failures", profile: tb-a, endpoint_url: "%[7]s"}
    - sns: {topic_arn: "%[10]s", profile: tb-a, endpoint_url: "%[8]s"}
`, src, dstB, dstA, ra.URL, rb.URL, bed.KMSKey, rsqs.URL, rsns.URL, testbed.SQSAccount, topic)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	policyArgs := []string{"--runtime", "ec2", "--role-arn", roleARN}
	out := policyOf(t, bed, append([]string{"--config", cfgPath}, policyArgs...)...)
	if len(out.Buckets) != 0 || !strings.Contains(strings.Join(out.Notes, "\n"), "not AWS S3") {
		t.Fatalf("bed buckets (not AWS): bucket policies for %v, notes %q; want none, and a note", keys(out.Buckets), out.Notes)
	}
	onAWS := awsTwin(t, bed, cfgText, policyArgs...)
	if onAWS.Buckets[dstB] == nil || onAWS.Buckets[dstA] != nil || onAWS.Keys[bed.KMSKey] == nil {
		t.Fatalf("on AWS: bucket policies for %v, key policies for %v; want %s's (profile tb-b differs from the source's) and %s's",
			keys(onAWS.Buckets), keys(onAWS.Keys), dstB, bed.KMSKey)
	}

	// sync, every version, oldest first; then backfill and status.
	if r := ferry(t, bed, "sync", "--config", cfgPath, "--versions", "--part-size", "5MiB", "--json"); r.code != 0 {
		t.Fatalf("sync: exit %d", r.code)
	}
	if r := ferry(t, bed, "backfill", "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--json"); r.code != 0 {
		t.Fatalf("backfill: exit %d", r.code)
	}
	if r := ferry(t, bed, "status", "--config", cfgPath, "s3://"+src+"/data/a.txt"); r.code != 0 {
		t.Fatalf("status: exit %d", r.code)
	}

	// The event path: the SQS intake hands S3 events to the worker.
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/a.txt"), Body: strings.NewReader("v3"), Tagging: aws.String("env=prod")})
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		return endpoint.Open(ctx, o)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := worker.New(ctx, cfg, open, replicate.Options{PartSize: 5 << 20}, log)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := open(ctx, cfg.Run.SQS.Options)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{s3EventJSON(src, "data/a.txt"), s3EventJSON(src, "data/b.txt"), "not an event"} {
		if _, err := sqsFake.Client().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(rsqs.URL + "/" + testbed.SQSAccount + "/events"),
			MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	q := &intake.SQS{Client: sqs.NewFromConfig(ep.Config), QueueURL: cfg.Run.SQS.QueueURL, Workers: 2, Log: log,
		Handle: func(ctx context.Context, evs []event.Event) error { return w.Handle(ctx, evs) }}
	go func() { done <- q.Run(rctx) }()
	waitFor(t, "the two events handled and the malformed message hidden", func() bool {
		return sqsFake.Calls("DeleteMessageBatch") > 0 && sqsFake.Calls("ChangeMessageVisibility") > 0 && len(sqsFake.Messages("events")) <= 1
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("sqs intake: %v", err)
	}

	// Notifications of a failed replication.
	n, err := notify.New(ctx, cfg.Notifications, open, log)
	if err != nil {
		t.Fatal(err)
	}
	n.Send(notify.Event{Kind: notify.FailedReplication, Time: time.Now(), Region: testbed.Region, Bucket: src, Key: "data/a.txt",
		RuleID: "to-b", DestBucket: dstB, Operation: notify.OpObjectPut, RequestTime: time.Now(), FailureReason: "DstPutObjectNotPermitted"})
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := n.Stats(); st.Sent != 2 {
		t.Fatalf("notifications: %+v, want 2 sent", st)
	}

	requireCovered(t, out, nil, ra, rb, rsqs, rsns)
	kms := &kmsEnv{region: testbed.Region, account: "111122223333", writes: map[string]string{dstB: bed.KMSKey}}
	seen := requireCovered(t, onAWS, kms, ra, rb, rsqs, rsns)
	requireSeen(t, seen, "s3:HeadBucket", "s3:GetBucketVersioning", "s3:ListObjectVersions", "s3:ListObjectsV2",
		"s3:HeadObject", "s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectLockConfiguration",
		"s3:PutObject", "s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload",
		"s3:CopyObject", "s3:DeleteObject",
		"sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessageBatch",
		"sqs:SendMessage", "sns:Publish")
	// What the replicas show: the rewrite, the delete marker, the copies.
	if got := strings.Join(history(t, bed.Client(t, testbed.B), dstB, "copy/b.txt"), " "); got != "gone soon X" {
		t.Errorf("copy/b.txt at %s: %q, want the version and its delete marker", dstB, got)
	}
}

// TestPolicyCoversTagTargetsAndDeletes: an unversioned source whose
// destinations come from its TargetBucket tag (reached with its profile:
// server-side copies), and replicate_deletes to another account's bucket.
func TestPolicyCoversTagTargetsAndDeletes(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	tagged := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dstB := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	ra, rb := s3Recorder(t, bed, testbed.A), s3Recorder(t, bed, testbed.B)
	ctx := t.Context()
	if _, err := a.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(src), Tagging: &s3types.Tagging{
		TagSet: []s3types.Tag{{Key: aws.String(config.TargetBucketTag), Value: aws.String(tagged)}}}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"logs/1.txt", "logs/2.txt"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader("body of " + k), Tagging: aws.String("kind=log")})
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ferry.yaml")
	cfgText := fmt.Sprintf(`source:
  bucket: %s
  profile: tb-a
  endpoint_url: %s
  target_bucket_tag: true
destinations:
  - bucket: %s
    profile: tb-b
    endpoint_url: %s
    replicate_deletes: true
`, src, ra.URL, dstB, rb.URL)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	policyArgs := []string{"--runtime", "ecs", "--role-arn", roleARN, "--target-bucket-tag", tagged}
	out := policyOf(t, bed, append([]string{"--config", cfgPath}, policyArgs...)...)
	onAWS := awsTwin(t, bed, cfgText, policyArgs...)
	if onAWS.Buckets[dstB] == nil || onAWS.Buckets[tagged] != nil {
		t.Fatalf("on AWS: bucket policies for %v, want %s's only", keys(onAWS.Buckets), dstB)
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		return endpoint.Open(ctx, o)
	}
	// As sync --config does: server-side copies where the source and a
	// destination share endpoint and credentials.
	w, err := worker.New(ctx, cfg, open, replicate.Options{ServerSide: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"logs/1.txt", "logs/2.txt"} {
		if err := w.Handle(ctx, []event.Event{{Bucket: src, Key: k, Kind: event.Put}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("logs/2.txt")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(ctx, []event.Event{{Bucket: src, Key: "logs/2.txt", Kind: event.Delete}}); err != nil {
		t.Fatal(err)
	}
	requireCovered(t, out, nil, ra, rb)
	seen := requireCovered(t, onAWS, nil, ra, rb)
	requireSeen(t, seen, "s3:GetBucketTagging", "s3:CopyObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging")
	if got := keysOf(t, bed.Client(t, testbed.B), dstB); fmt.Sprint(got) != "[logs/1.txt]" {
		t.Errorf("%s holds %v, want [logs/1.txt] (logs/2.txt deleted after the source)", dstB, got)
	}
}

// TestPolicyCoversDeploy: ferry deploy with --delete and a CloudFront
// invalidation, as ferry policy --deploy --deploy-delete --invalidate
// grants it, with no ferry.yaml.
func TestPolicyCoversDeploy(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	rb := s3Recorder(t, bed, testbed.B)
	cf := testbed.NewCloudFront(t)
	srv := bed.Server(t, testbed.B)
	cf.AccessKey, cf.SecretKey = srv.AccessKey, srv.SecretKey
	cf.AddDistribution("E2QWRUHEXAMPLE")
	cf.CompleteAfter(1) // --wait polls every 20 s: one poll, once
	rcf := record(t, "cloudfront", cf)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", rcf.URL)
	site := t.TempDir()
	writeSite(t, site, map[string]string{"index.html": "home", "app.3f2a9c1b.js": "js", "old.css": "css"})
	deploy := []string{"deploy", site, "s3://" + bucket + "/www", "--profile", "tb-b", "--endpoint-url", rb.URL,
		"--delete", "--invalidate", "E2QWRUHEXAMPLE", "--cdn-origin-path", "/www"}
	if r := ferry(t, bed, append(deploy, "--wait")...); r.code != 0 {
		t.Fatalf("deploy: exit %d", r.code)
	}
	os.Remove(filepath.Join(site, "old.css"))
	writeSite(t, site, map[string]string{"index.html": "home, again"})
	if r := ferry(t, bed, deploy...); r.code != 0 {
		t.Fatalf("second deploy: exit %d", r.code)
	}
	out := policyOf(t, bed, "--runtime", "lambda", "--role-arn", roleARN, "--region", testbed.Region,
		"--deploy", "s3://"+bucket+"/www", "--deploy-delete", "--invalidate", "E2QWRUHEXAMPLE", "--codepipeline")
	seen := requireCovered(t, out, nil, rb, rcf)
	requireSeen(t, seen, "s3:HeadBucket", "s3:ListObjectsV2", "s3:PutObject", "s3:DeleteObjects",
		"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation")
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// s3EventJSON is an S3 ObjectCreated:Put notification for key, as AWS
// sends it to SQS.
func s3EventJSON(bucket, key string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": testbed.Region,
		"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": "ObjectCreated:Put",
		"s3": map[string]any{"s3SchemaVersion": "1.0", "configurationId": "ferry",
			"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": url.QueryEscape(key), "size": 2, "sequencer": "0055AED6DCD90281E5"}},
	}}})
	return string(b)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestPolicyCommand checks the command as a user meets it: the JSON
// object, one document alone for the AWS CLI, Terraform, and usage
// errors (exit 2). It needs no test bed: ferry policy sends nothing.
func TestPolicyCommand(t *testing.T) {
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "aws-config")
	os.WriteFile(awsConfig, []byte("[profile prod]\nregion = us-east-1\n[profile dr]\nregion = us-west-2\n"), 0o644)
	t.Setenv("AWS_CONFIG_FILE", awsConfig)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	cfgPath := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfgPath, []byte(`source: {bucket: ledger-src, profile: prod}
destinations:
  - {bucket: ledger-dr, profile: dr, acl: bucket-owner-full-control, encryption: {type: aws:kms, kms_key_id: alias/dr}}
`), 0o644)
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := cli.Main(append([]string{"policy"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, stdout, stderr := run("--config", cfgPath, "--role-arn", roleARN)
	var all map[string]json.RawMessage
	if code != 0 || json.Unmarshal([]byte(stdout), &all) != nil {
		t.Fatalf("exit %d, stderr %q, stdout not a JSON object: %s", code, stderr, stdout)
	}
	for _, k := range []string{"trust_policy", "permission_policy", "bucket_policies", "key_policy_statements"} {
		if all[k] == nil {
			t.Errorf("no %s in the output: %s", k, keys(all))
		}
	}
	if !strings.Contains(string(all["trust_policy"]), "lambda.amazonaws.com") {
		t.Errorf("the default runtime is lambda: %s", all["trust_policy"])
	}

	// One document alone: what aws iam create-role and put-role-policy take.
	for doc, want := range map[string]string{
		"trust":            `"Service": "lambda.amazonaws.com"`,
		"permissions":      `"Sid": "WriteDestLedgerDrReplicas"`,
		"bucket:ledger-dr": `"AWS": "` + roleARN + `"`,
		"key:alias/dr":     `"kms:ViaService": "s3.us-west-2.amazonaws.com"`,
	} {
		code, stdout, _ := run("--config", cfgPath, "--role-arn", roleARN, "--document", doc)
		var v any
		if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || !strings.Contains(stdout, want) {
			t.Errorf("--document %s: exit %d, %s; want JSON with %s", doc, code, stdout, want)
		}
	}
	if code, stdout, _ := run("--config", cfgPath, "--runtime", "user", "--document", "permissions"); code != 0 ||
		strings.Contains(stdout, "sts:AssumeRole") || !strings.Contains(stdout, "s3:PutObject") {
		t.Errorf("--runtime user permissions: exit %d %s", code, stdout)
	}

	code, stdout, _ = run("--config", cfgPath, "--runtime", "ecs", "--format", "terraform")
	for _, want := range []string{`resource "aws_iam_role" "ferry"`, "ecs-tasks.amazonaws.com", `resource "aws_s3_bucket_policy" "ledger_dr"`,
		"AWS = aws_iam_role.ferry.arn", "ferry_key_statements"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("--format terraform: exit %d, no %q in:\n%s", code, want, stdout)
		}
	}

	for _, args := range [][]string{
		{},
		{"--config", filepath.Join(dir, "missing.yaml")},
		{"--config", cfgPath, "--runtime", "k8s"},
		{"--config", cfgPath, "--format", "yaml"},
		{"--config", cfgPath, "--document", "bucket:nope"},
		{"--config", cfgPath, "--document", "trust", "--format", "terraform"},
		{"--config", cfgPath, "--role-arn", "arn:aws:iam::111122223333:user/u"},
		{"--config", cfgPath, "--target-bucket-tag", "b1"},
		{"--deploy", "www"},
		{"--deploy-delete"},
	} {
		if code, _, stderr := run(args...); code != 2 || stderr == "" {
			t.Errorf("ferry policy %s: exit %d, stderr %q; want exit 2 with a message", strings.Join(args, " "), code, stderr)
		}
	}
	if code, stdout, _ := run("--help"); code != 0 || !strings.Contains(stdout, "--document") || !strings.Contains(stdout, "aws iam create-role") {
		t.Errorf("--help: exit %d, %s", code, stdout)
	}
}
