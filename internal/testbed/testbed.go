// Package testbed connects integration tests to the local test bed of real
// S3 servers started by scripts/testbed.sh (see docs/testing.md):
//
//	"a"   MinIO, account A (profile tb-a)
//	"b"   MinIO, account B (profile tb-b)
//	"vgw" versitygw, posix backend with versioning (profile tb-vgw)
//
// and a nats-server with JetStream (Bed.NATS). MinIO "a" sends bucket
// notifications to webhook targets the tests listen for (Bed.Hook) and to
// NATS; Bed.Notify points a bucket's notifications at one of them.
//
// A test calls Require to get the Bed, then Bed.NewBucket for scratch
// buckets and Bed.Client for an S3 client that is built here, from static
// credentials, and so does not depend on ferry's own endpoint code.
// NewSQS starts an in-process SQS server (there is no SQS server in the bed).
package testbed

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Server names, the keys of Bed.Servers.
const (
	A   = "a"
	B   = "b"
	VGW = "vgw"
)

// Region is the region every test bed server is configured with.
const Region = "us-east-1"

// Bed describes a running test bed, as written by `scripts/testbed.sh up`
// into $FERRY_TESTBED.
type Bed struct {
	Dir             string // the test bed directory ($FERRY_TESTBED)
	ConfigFile      string // AWS shared config with profiles tb-a, tb-b, tb-vgw
	CredentialsFile string // AWS shared credentials for those profiles
	KMSKey          string // KMS key id usable for SSE-KMS on the MinIO servers
	Servers         map[string]Server
	NATS            NATS // the NATS server and MinIO a's NATS target

	hookPort   int      // port of webhook target hook1; hookN is hookPort+N-1
	hookTokens []string // hookTokens[N-1] is the auth token of hookN
}

// NATS describes the bed's nats-server (JetStream enabled) and the NATS
// target through which MinIO a publishes bucket notifications.
type NATS struct {
	URL     string // nats://127.0.0.1:PORT
	Target  string // MinIO a's target id ("js"): arn:minio:sqs::js:nats
	Subject string // the subject MinIO a publishes events to
	Stream  string // the stream to keep Subject in (tests share it)
	// Cluster lists the URLs of the three nodes of the bed's JetStream
	// cluster (none for a bed started before it), for scale-out tests.
	// MinIO a publishes the same events there through ClusterTarget
	// ("jsc": arn:minio:sqs::jsc:nats), to Subject, kept in Stream.
	Cluster       []string
	ClusterTarget string
}

// Server is one S3 server of the bed.
type Server struct {
	Profile   string // profile name in ConfigFile and CredentialsFile
	URL       string // endpoint, e.g. http://127.0.0.1:19000
	AccessKey string
	SecretKey string
}

// BucketOpts says how NewBucket creates a bucket.
type BucketOpts struct {
	Versioning bool // enable versioning after creating the bucket
	ObjectLock bool // create with object lock enabled (implies versioning)
}

var (
	loadMu sync.Mutex
	loaded = map[string]*Bed{}
)

// Require returns the test bed named by $FERRY_TESTBED. Without one, the
// test is skipped under `go test -short` and fails otherwise.
func Require(t testing.TB) *Bed {
	t.Helper()
	dir := os.Getenv("FERRY_TESTBED")
	if dir == "" {
		const how = "run scripts/test.sh, or: scripts/testbed.sh up && source \"$(scripts/testbed.sh env)\""
		if testing.Short() {
			t.Skip("no test bed (FERRY_TESTBED unset); " + how)
		}
		t.Fatal("no test bed: FERRY_TESTBED is unset; " + how + " (or use go test -short to skip)")
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	b, ok := loaded[dir]
	if !ok {
		var err error
		b, err = Load(dir)
		if err != nil {
			t.Fatalf("test bed %s: %v", dir, err)
		}
		if err := b.ping(); err != nil {
			t.Fatalf("test bed %s: %v (is it running? scripts/testbed.sh up %s)", dir, err, dir)
		}
		if err := b.ensureStream(); err != nil {
			t.Fatalf("test bed %s: %v", dir, err)
		}
		loaded[dir] = b
	}
	return b
}

// Load reads the test bed files in dir: env, aws-config, aws-credentials.
func Load(dir string) (*Bed, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := &Bed{
		Dir:             dir,
		ConfigFile:      filepath.Join(dir, "aws-config"),
		CredentialsFile: filepath.Join(dir, "aws-credentials"),
		KMSKey:          "ferry-key",
		Servers:         map[string]Server{},
	}
	env, err := readEnvFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	if v := env["FERRY_TB_KMS_KEY"]; v != "" {
		b.KMSKey = v
	}
	if v := env["AWS_CONFIG_FILE"]; v != "" {
		b.ConfigFile = v
	}
	if v := env["AWS_SHARED_CREDENTIALS_FILE"]; v != "" {
		b.CredentialsFile = v
	}
	if err := b.loadNotify(env); err != nil {
		return nil, err
	}
	cfg, err := readINI(b.ConfigFile)
	if err != nil {
		return nil, err
	}
	creds, err := readINI(b.CredentialsFile)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{A, B, VGW} {
		s := Server{Profile: "tb-" + name}
		s.URL = env["FERRY_TB_"+strings.ToUpper(name)+"_URL"]
		if s.URL == "" {
			s.URL = cfg["profile "+s.Profile]["endpoint_url"]
		}
		s.AccessKey = creds[s.Profile]["aws_access_key_id"]
		s.SecretKey = creds[s.Profile]["aws_secret_access_key"]
		if s.URL == "" || s.AccessKey == "" || s.SecretKey == "" {
			return nil, fmt.Errorf("server %q: endpoint or keys missing in %s / %s", name, b.ConfigFile, b.CredentialsFile)
		}
		b.Servers[name] = s
	}
	return b, nil
}

// readEnvFile reads the NAME=value lines (with or without `export `, values
// optionally quoted) written by testbed.sh: DIR/env and DIR/secrets.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(value) >= 2 && (value[0] == '\'' || value[0] == '"') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		vars[name] = value
	}
	return vars, sc.Err()
}

// readINI reads a flat AWS shared config/credentials file:
// section -> key -> value.
func readINI(path string) (map[string]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]string{}
	var section map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			name := strings.TrimSpace(line[1 : len(line)-1])
			section = map[string]string{}
			out[name] = section
		case section != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				section[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out, sc.Err()
}

// ping checks that every server accepts TCP connections.
func (b *Bed) ping() error {
	urls := map[string]string{"nats": b.NATS.URL}
	for name, s := range b.Servers {
		urls[name] = s.URL
	}
	names := append(b.names(), "nats")
	var errs []error
	for _, name := range names {
		u, err := url.Parse(urls[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			errs = append(errs, fmt.Errorf("server %s: %w", name, err))
			continue
		}
		c.Close()
	}
	return errors.Join(errs...)
}

func (b *Bed) names() []string {
	names := make([]string, 0, len(b.Servers))
	for n := range b.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Server returns the named server, failing the test if there is none.
func (b *Bed) Server(t testing.TB, server string) Server {
	t.Helper()
	s, ok := b.Servers[server]
	if !ok {
		t.Fatalf("test bed has no server %q (have %v)", server, b.names())
	}
	return s
}

// Client returns an S3 client for the named server ("a", "b" or "vgw").
func (b *Bed) Client(t testing.TB, server string) *s3.Client {
	t.Helper()
	return NewClient(b.Server(t, server))
}

// NewClient builds an S3 client for s from static credentials: path-style,
// region us-east-1, checksums only when an operation requires them. It reads
// no environment or shared config (so AWS_CA_BUNDLE, AWS_PROFILE and the
// like do not affect it).
func NewClient(s Server) *s3.Client {
	return s3.New(s3.Options{
		Region:                     Region,
		BaseEndpoint:               aws.String(s.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:                 awshttp.NewBuildableClient(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Env returns the environment variables that point an AWS SDK program (the
// ferry binary run as a subprocess) at the bed's profiles tb-a, tb-b and
// tb-vgw. Append them to os.Environ(); later entries win.
func (b *Bed) Env() []string {
	return []string{
		"AWS_CONFIG_FILE=" + b.ConfigFile,
		"AWS_SHARED_CREDENTIALS_FILE=" + b.CredentialsFile,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv points the test's process (an in-process ferry) at the bed's
// profiles, like Env does for a subprocess; undone when the test ends.
func (b *Bed) Setenv(t testing.TB) {
	for _, kv := range b.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// A test that added profiles keeps them (AddProfile's copies).
	filesMu.Lock()
	f := files[t]
	filesMu.Unlock()
	if f != nil {
		t.Setenv("AWS_CONFIG_FILE", f.config)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", f.credentials)
	}
}

// NewBucket creates a bucket with a unique name on the named server and
// registers a cleanup that deletes every object version, delete marker and
// pending multipart upload (bypassing governance retention, lifting legal
// holds) and then the bucket. Cleanup problems are logged, not failed:
// objects under COMPLIANCE retention cannot be deleted before they expire.
func (b *Bed) NewBucket(t testing.TB, server string, opts BucketOpts) string {
	t.Helper()
	c := b.Client(t, server)
	name := BucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if opts.ObjectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		t.Fatalf("create bucket %s on %s: %v", name, server, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := EmptyBucket(ctx, c, name); err != nil {
			t.Logf("testbed cleanup: empty bucket %s on %s: %v", name, server, err)
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Logf("testbed cleanup: delete bucket %s on %s: %v", name, server, err)
		}
	})
	if opts.Versioning && !opts.ObjectLock {
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			t.Fatalf("enable versioning on %s/%s: %v", server, name, err)
		}
	}
	return name
}

// BucketName returns a unique, valid bucket name derived from hint (for
// instance a test name): lowercase, at most 63 characters.
func BucketName(hint string) string {
	var sb strings.Builder
	dash := true // no leading dash
	for _, r := range strings.ToLower(hint) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
			dash = false
		} else if !dash {
			sb.WriteByte('-')
			dash = true
		}
		if sb.Len() >= 40 {
			break
		}
	}
	prefix := strings.Trim(sb.String(), "-")
	if prefix == "" {
		prefix = "bucket"
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	return "tb-" + prefix + "-" + hex.EncodeToString(rnd[:])
}

// EmptyBucket deletes every object version, delete marker and pending
// multipart upload in bucket. Governance retention is bypassed and legal
// holds are lifted; objects under compliance retention remain (error).
func EmptyBucket(ctx context.Context, c *s3.Client, bucket string) error {
	var errs []error
	uploads := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for uploads.HasMorePages() {
		page, err := uploads.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list multipart uploads: %w", err))
			break
		}
		for _, u := range page.Uploads {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil {
				errs = append(errs, fmt.Errorf("abort upload %q: %w", aws.ToString(u.Key), err))
			}
		}
	}

	// Collect first, delete afterwards: deleting while paging can skip
	// entries. Repeat, because a deletion can uncover more (MinIO does not
	// list "p/c" while an object "p" exists).
	for range 5 {
		ids, err := listAllVersions(ctx, c, bucket)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(ids) == 0 {
			break
		}
		for len(ids) > 0 {
			n := min(len(ids), 1000)
			batch := ids[:n]
			ids = ids[n:]
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket:                    aws.String(bucket),
				Delete:                    &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
				BypassGovernanceRetention: aws.Bool(true),
			})
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("delete objects: %w", err))...)
			}
			for _, e := range out.Errors {
				if err := deleteHeld(ctx, c, bucket, e.Key, e.VersionId); err != nil {
					errs = append(errs, fmt.Errorf("delete %q version %q: %s (%w)",
						aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), err))
				}
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	return errors.Join(errs...)
}

// listAllVersions lists every object version and delete marker in bucket.
func listAllVersions(ctx context.Context, c *s3.Client, bucket string) ([]types.ObjectIdentifier, error) {
	var ids []types.ObjectIdentifier
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list object versions: %w", err)
		}
		for _, v := range page.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
	}
	return ids, nil
}

// deleteHeld retries the deletion of one version after lifting its legal hold.
func deleteHeld(ctx context.Context, c *s3.Client, bucket string, key, version *string) error {
	_, _ = c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
		Bucket:    aws.String(bucket),
		Key:       key,
		VersionId: version,
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff},
	})
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:                    aws.String(bucket),
		Key:                       key,
		VersionId:                 version,
		BypassGovernanceRetention: aws.Bool(true),
	})
	return err
}
