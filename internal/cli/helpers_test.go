package cli_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/cli"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// result is one run of ferry, in process.
type result struct {
	code           int
	stdout, stderr string
}

// ferry runs the CLI with the test bed's AWS config files.
func ferry(t *testing.T, bed *testbed.Bed, args ...string) result {
	t.Helper()
	bed.Setenv(t)
	var out, errOut bytes.Buffer
	code := cli.Main(args, &out, &errOut)
	r := result{code, out.String(), errOut.String()}
	t.Logf("ferry %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, clip(r.stdout), clip(r.stderr))
	for _, s := range bed.Servers { // secrets never appear in any output
		if strings.Contains(r.stdout+r.stderr, s.SecretKey) {
			t.Fatalf("a secret key appears in ferry's output")
		}
	}
	return r
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n...\n" + s[len(s)-2000:]
	}
	return s
}

type summary struct {
	Summary     bool  `json:"summary"`
	Listed      int64 `json:"listed"`
	Copied      int64 `json:"copied"`
	BytesCopied int64 `json:"bytes_copied"`
	InSync      int64 `json:"in_sync"`
	Deleted     int64 `json:"deleted"`
	Failed      int64 `json:"failed"`
}

type item struct {
	Action     string `json:"action"`
	Key        string `json:"key"`
	DstKey     string `json:"dst_key"`
	Status     string `json:"status"`
	Error      string `json:"error"`
	ServerSide bool   `json:"server_side"`
}

// parseJSON splits --json output into items and the summary.
func parseJSON(t *testing.T, out string) ([]item, summary) {
	t.Helper()
	var items []item
	var sum summary
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, `"summary":true`) {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatalf("summary %q: %v", line, err)
			}
			continue
		}
		var it item
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("json line %q: %v", line, err)
		}
		items = append(items, it)
	}
	if !sum.Summary {
		t.Fatalf("no summary line in %q", clip(out))
	}
	return items, sum
}

func put(t *testing.T, c *s3.Client, in *s3.PutObjectInput) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), in); err != nil {
		t.Fatalf("put %s: %v", aws.ToString(in.Key), err)
	}
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// getMD5 downloads an object and returns the MD5 of its body and the GET
// response.
func getMD5(t *testing.T, c *s3.Client, bucket, key string) (string, *s3.GetObjectOutput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	h := md5.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), out
}

func tagsOf(t *testing.T, c *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("tags %s/%s: %v", bucket, key, err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func keysOf(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
