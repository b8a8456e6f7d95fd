package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// Over plain HTTP the SDK would hash every body with SHA-256 for the
// signature, and the server would hash it again to check. ferry's writes
// carry a signed Content-MD5, which the server checks (and computes
// anyway, for the ETag), so they go UNSIGNED-PAYLOAD. This test looks at
// the real requests on the wire, and at the replicas.
func TestWritesAreUnsignedWithMD5(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	bodies := map[string][]byte{
		"small":    bytes.Repeat([]byte("x"), 4096),
		"empty":    {},
		"twoparts": bytes.Repeat([]byte("0123456789abcdef"), 20<<20/16), // 20 MiB: 16 MiB parts
	}
	for k, body := range bodies {
		if _, err := a.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	type write struct{ op, sha, md5 string }
	var mu sync.Mutex
	var writes []write
	target, _ := url.Parse(bed.Servers[testbed.B].URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			op := "PutObject"
			if r.URL.Query().Has("partNumber") {
				op = "UploadPart"
			}
			mu.Lock()
			writes = append(writes, write{op, r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("Content-Md5")})
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	s := bed.Servers[testbed.B]
	bed.AddProfile(t, testbed.Profile{Name: "b-watched", URL: proxy.URL, AccessKey: s.AccessKey, SecretKey: s.SecretKey})

	if r := ferry(t, bed, "sync", "s3://"+src, "s3://"+dst, "--src-profile", "tb-a", "--dst-profile", "b-watched"); r.code != 0 {
		t.Fatalf("sync exit %d", r.code)
	}
	var puts, parts int
	for _, w := range writes {
		if w.sha != "UNSIGNED-PAYLOAD" || w.md5 == "" {
			t.Errorf("%s sent x-amz-content-sha256 %q, Content-MD5 %q; want UNSIGNED-PAYLOAD with an MD5", w.op, w.sha, w.md5)
		}
		if w.op == "PutObject" {
			puts++
		} else {
			parts++
		}
	}
	if puts != 2 || parts != 2 {
		t.Errorf("%d PutObject and %d UploadPart requests, want 2 and 2", puts, parts)
	}
	for k, want := range bodies {
		out, err := b.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("%s: replica of %d bytes differs from the source's %d", k, len(got), len(want))
		}
	}
}
