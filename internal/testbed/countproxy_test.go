package testbed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func TestOperation(t *testing.T) {
	copyHdr := http.Header{"X-Amz-Copy-Source": {"/src/key"}}
	tests := []struct {
		method, target string
		header         http.Header
		want           string
	}{
		{"GET", "/", nil, "ListBuckets"},
		{"PUT", "/", nil, "Other:PUT"},
		{"GET", "/?x=1", nil, "Other:GET"},

		// bucket level
		{"HEAD", "/b", nil, "HeadBucket"},
		{"HEAD", "/b/", nil, "HeadBucket"},
		{"GET", "/b?list-type=2", nil, "ListObjectsV2"},
		{"GET", "/b/?list-type=2&prefix=p%2F&continuation-token=abc&max-keys=1000", nil, "ListObjectsV2"},
		{"GET", "/b?list-type=3", nil, "Other:GET"},
		{"GET", "/b", nil, "ListObjects"},
		{"GET", "/b?prefix=x&delimiter=%2F&marker=m&max-keys=10&encoding-type=url", nil, "ListObjects"},
		{"GET", "/b?versions", nil, "ListObjectVersions"},
		{"GET", "/b?versions&key-marker=k&version-id-marker=v", nil, "ListObjectVersions"},
		{"GET", "/b?versions=", nil, "ListObjectVersions"},
		{"GET", "/b?uploads", nil, "ListMultipartUploads"},
		{"GET", "/b?versioning", nil, "GetBucketVersioning"},
		{"GET", "/b?location", nil, "GetBucketLocation"},
		{"GET", "/b?tagging", nil, "GetBucketTagging"},
		{"GET", "/b?policy", nil, "Other:GET"},
		{"GET", "/b?object-lock", nil, "Other:GET"},
		{"PUT", "/b", nil, "CreateBucket"},
		{"PUT", "/b?versioning", nil, "PutBucketVersioning"},
		{"PUT", "/b?tagging", nil, "PutBucketTagging"},
		{"PUT", "/b?notification", nil, "Other:PUT"},
		{"POST", "/b?delete", nil, "DeleteObjects"},
		{"POST", "/b?delete=&x-id=DeleteObjects", nil, "DeleteObjects"},
		{"POST", "/b", nil, "Other:POST"},
		{"DELETE", "/b", nil, "DeleteBucket"},
		{"DELETE", "/b?tagging", nil, "DeleteBucketTagging"},
		{"DELETE", "/b?policy", nil, "Other:DELETE"},
		{"PATCH", "/b", nil, "Other:PATCH"},

		// object level
		{"HEAD", "/b/k", nil, "HeadObject"},
		{"HEAD", "/b/dir/k?versionId=1", nil, "HeadObject"},
		{"GET", "/b/k", nil, "GetObject"},
		{"GET", "/b/k?x-id=GetObject&partNumber=2&versionId=v&response-content-type=x", nil, "GetObject"},
		{"GET", "/b/dir/", nil, "GetObject"}, // a key ending in '/'
		{"GET", "/b/k?tagging", nil, "GetObjectTagging"},
		{"GET", "/b/k?uploadId=u", nil, "ListParts"},
		{"GET", "/b/k?attributes", nil, "GetObjectAttributes"},
		{"GET", "/b/k?acl", nil, "Other:GET"},
		{"GET", "/b/k?retention", nil, "Other:GET"},
		{"GET", "/b/k?legal-hold", nil, "Other:GET"},
		{"PUT", "/b/k", nil, "PutObject"},
		{"PUT", "/b/k?x-id=PutObject", nil, "PutObject"},
		{"PUT", "/b/k", copyHdr, "CopyObject"},
		{"PUT", "/b/k?x-id=CopyObject", copyHdr, "CopyObject"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", nil, "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u&x-id=UploadPart", nil, "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", copyHdr, "UploadPartCopy"},
		{"PUT", "/b/k?uploadId=u", nil, "Other:PUT"},
		{"PUT", "/b/k?tagging", nil, "PutObjectTagging"},
		{"PUT", "/b/k?tagging&versionId=v", nil, "PutObjectTagging"},
		{"PUT", "/b/k?acl", nil, "Other:PUT"},
		{"PUT", "/b/k?retention", nil, "Other:PUT"},
		{"PUT", "/b/k?legal-hold", nil, "Other:PUT"},
		{"POST", "/b/k?uploads", nil, "CreateMultipartUpload"},
		{"POST", "/b/k?uploads=&x-id=CreateMultipartUpload", nil, "CreateMultipartUpload"},
		{"POST", "/b/k?uploadId=u", nil, "CompleteMultipartUpload"},
		{"POST", "/b/k?restore", nil, "Other:POST"},
		{"POST", "/b/k", nil, "Other:POST"},
		{"DELETE", "/b/k", nil, "DeleteObject"},
		{"DELETE", "/b/k?versionId=v&x-id=DeleteObject", nil, "DeleteObject"},
		{"DELETE", "/b/k?uploadId=u", nil, "AbortMultipartUpload"},
		{"DELETE", "/b/k?tagging", nil, "DeleteObjectTagging"},
		{"OPTIONS", "/b/k", nil, "Other:OPTIONS"},
		// keys that look like sub-resources or buckets
		{"GET", "/b/uploads", nil, "GetObject"},
		{"HEAD", "/b/%3Fversions", nil, "HeadObject"},
		{"PUT", "/b/a%2Fb/c", nil, "PutObject"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://127.0.0.1:1"+tc.target, nil)
			if tc.header != nil {
				r.Header = tc.header
			}
			if got := testbed.Operation(r.Method, r.URL.Path, r.URL.Query(), r.Header); got != tc.want {
				t.Errorf("Operation(%s %s) = %q, want %q", tc.method, tc.target, got, tc.want)
			}
		})
	}
}

func TestNewCountingHandlerBadTarget(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:9000", "ftp://h:1", "http://", "http://h:1/path", "http://h:1?x=1", "%zz"} {
		if _, err := testbed.NewCountingHandler(target); err == nil {
			t.Errorf("NewCountingHandler(%q): no error", target)
		}
	}
	if _, err := testbed.NewCountingHandler("http://127.0.0.1:9000/"); err != nil {
		t.Errorf("trailing slash: %v", err)
	}
}

// proxyClient returns an S3 client for server s that sends its requests
// through the proxy at proxyURL.
func proxyClient(s testbed.Server, proxyURL string) *s3.Client {
	s.URL = proxyURL
	return testbed.NewClient(s)
}

func wantCounts(t *testing.T, p *testbed.CountingProxy, want map[string]int64) {
	t.Helper()
	if got := p.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts:\n got  %v\n want %v", got, want)
	}
	for op, n := range want {
		if got := p.Count(op); got != n {
			t.Errorf("Count(%s) = %d, want %d", op, got, n)
		}
	}
}

func TestCountingProxy(t *testing.T) {
	bed := testbed.Require(t)
	srv := bed.Server(t, testbed.A)
	bucket := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	direct := bed.Client(t, testbed.A)
	p := testbed.NewCountingProxy(t, srv.URL)
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q", p.URL())
	}
	c := proxyClient(srv, p.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The requests of the issue: put, head, list, and a 6 MiB multipart
	// upload (5 MiB + 1 MiB). Any SigV4 failure (a Host header rewritten
	// by the proxy) would fail these calls.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("small"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("PutObject through proxy: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("small")}); err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	big := make([]byte, 6<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>13)
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("dir/big")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{big[:5<<20], big[5<<20:]} {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: aws.String("dir/big"), UploadId: up.UploadId,
			PartNumber: &n, Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: &n})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String("dir/big"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(list.Contents) != 2 {
		t.Errorf("listed %d objects, want 2", len(list.Contents))
	}
	wantCounts(t, p, map[string]int64{
		"PutObject": 1, "HeadObject": 1, "ListObjectsV2": 1,
		"CreateMultipartUpload": 1, "UploadPart": 2, "CompleteMultipartUpload": 1,
	})
	if t.Failed() {
		t.Logf("counts: %v", p)
	}

	// The bytes arrived unchanged (checked around the proxy).
	h, err := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("dir/big")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(h.ContentLength) != 6<<20 || !strings.HasSuffix(aws.ToString(h.ETag), `-2"`) {
		t.Errorf("multipart object: size %d, ETag %s; want %d, ...-2", aws.ToInt64(h.ContentLength), aws.ToString(h.ETag), 6<<20)
	}

	// Reset, then every other operation the classifier names, as the SDK
	// sends it.
	p.Reset()
	wantCounts(t, p, map[string]int64{})
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/big")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(body, big) {
		t.Errorf("GetObject through proxy: %d bytes (err %v), want the 6 MiB written", len(body), err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String("copy"), CopySource: aws.String(bucket + "/small")})
	must("CopyObject", err)
	up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("pc")})
	must("CreateMultipartUpload", err)
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &bucket, Key: aws.String("pc"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(bucket + "/dir/big"), CopySourceRange: aws.String("bytes=0-1023")})
	must("UploadPartCopy", err)
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: aws.String("pc"), UploadId: up2.UploadId})
	must("AbortMultipartUpload", err)
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &bucket, Key: aws.String("copy"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
	must("PutObjectTagging", err)
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: aws.String("copy")})
	must("GetObjectTagging", err)
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	must("HeadBucket", err)
	_, err = c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &bucket, Prefix: aws.String("dir/")})
	must("ListObjects", err)
	_, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	must("ListObjectVersions", err)
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	must("GetBucketVersioning", err)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("copy")})
	must("DeleteObject", err)
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("small")}, {Key: aws.String("dir/big")}}}})
	must("DeleteObjects", err)
	// Answered or not, GetObjectAcl is counted as Other:GET.
	_, _ = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &bucket, Key: aws.String("nonexistent")})
	wantCounts(t, p, map[string]int64{
		"GetObject": 1, "CopyObject": 1, "CreateMultipartUpload": 1, "UploadPartCopy": 1,
		"AbortMultipartUpload": 1, "PutObjectTagging": 1, "GetObjectTagging": 1, "HeadBucket": 1,
		"ListObjects": 1, "ListObjectVersions": 1, "GetBucketVersioning": 1, "DeleteObject": 1,
		"DeleteObjects": 1, "Other:GET": 1,
	})

	// The control endpoints: answered by the proxy, not counted.
	resp, err := http.Get(p.URL() + testbed.CountsPath)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int64
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || !maps.Equal(got, p.Counts()) {
		t.Errorf("GET %s: %v (err %v), want %v", testbed.CountsPath, got, err, p.Counts())
	}
	resp, err = http.Post(p.URL()+testbed.ResetPath, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("POST %s: %s", testbed.ResetPath, resp.Status)
	}
	wantCounts(t, p, map[string]int64{})
	resp, err = http.Get(p.URL() + testbed.ResetPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %s, want 405", testbed.ResetPath, resp.Status)
	}
	wantCounts(t, p, map[string]int64{})

	// Read-only: writes are counted and refused, reads pass.
	p.SetReadOnly(true)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("refused"), Body: strings.NewReader("x")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("PutObject through a read-only proxy: %v, want AccessDenied", err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}); err != nil {
		t.Errorf("ListObjectsV2 through a read-only proxy: %v", err)
	}
	if _, err := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("refused")}); err == nil {
		t.Error("a read-only proxy let PutObject through")
	}
	wantCounts(t, p, map[string]int64{"PutObject": 1, "ListObjectsV2": 1})
}

// TestCountingProxyStreaming sends an aws-chunked upload of unknown body
// length (what the SDK does with an unseekable body over TLS: a streaming
// trailer checksum) through the proxy, which must pass it on unchanged.
func TestCountingProxyStreaming(t *testing.T) {
	bed := testbed.Require(t)
	srv := bed.Server(t, testbed.A)
	bucket := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	p, err := testbed.NewCountingHandler(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			seen = append(seen, r.Header.Get("Content-Encoding")+" "+r.Header.Get("X-Amz-Content-Sha256"))
			mu.Unlock()
		}
		p.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := s3.New(s3.Options{
		Region:                     testbed.Region,
		BaseEndpoint:               aws.String(ts.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
		HTTPClient:                 ts.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("streamed"),
		Body: struct{ io.Reader }{bytes.NewReader(data)}, ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatalf("streaming PutObject through proxy: %v", err)
	}
	mu.Lock()
	t.Logf("PUT headers (Content-Encoding, X-Amz-Content-Sha256): %q", seen)
	if len(seen) != 1 || !strings.Contains(seen[0], "aws-chunked") {
		t.Errorf("want one aws-chunked PUT, saw %q", seen)
	}
	mu.Unlock()
	get, err := bed.Client(t, testbed.A).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("streamed")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back %d bytes (err %v), want the %d written", len(got), err, len(data))
	}
	wantCounts(t, p, map[string]int64{"PutObject": 1})
}
