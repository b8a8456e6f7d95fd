package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// special is an object whose every attribute a replica must reproduce.
type special struct {
	key  string
	body []byte
	in   func(*s3.PutObjectInput)
}

// longKey is 1024 bytes, S3's maximum, mostly Korean. MinIO stores keys as
// paths, so no segment may exceed 255 bytes.
var longKey = "long/" + strings.Repeat(strings.Repeat("가", 80)+"/", 4) + strings.Repeat("x", 55)

func specials() []special {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	none := func(*s3.PutObjectInput) {}
	return []special{
		{"한국어/보고서 2026.txt", []byte("안녕하세요"), none},
		{"spaces in name/a b.txt", []byte("spaces"), none},
		{"plus+sign+key.txt", []byte("plus"), none},
		{"percent%20literal.txt", []byte("percent"), none},
		{"question?mark.txt", []byte("question"), none},
		{"hash#tag.txt", []byte("hash"), none},
		{"amp&ersand=eq.txt", []byte("amp"), none},
		{longKey, []byte("long key"), none},
		{"rich/index.html", []byte("<html>rich</html>"), func(in *s3.PutObjectInput) {
			in.ContentType = aws.String("text/html; charset=utf-8")
			in.ContentEncoding = aws.String("br")
			in.ContentLanguage = aws.String("ko-KR")
			in.ContentDisposition = aws.String(`attachment; filename="report.html"`)
			in.CacheControl = aws.String("max-age=31536000, immutable")
			in.Expires = &expires
			in.Metadata = map[string]string{"owner": "team-a", "build-id": "1234"}
		}},
		{"tagged/object.bin", randBytes(3000, 7), func(in *s3.PutObjectInput) {
			in.Tagging = aws.String("env=prod&team=platform%20sre&k%2Bplus=v%2Bplus")
		}},
		{"kms/secret.bin", randBytes(5000, 8), func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
			in.SSEKMSKeyId = aws.String("ferry-key")
		}},
		{"big/200MiB.bin", randBytes(200<<20, 9), none},
	}
}

// seedSource fills a bucket on server A with the special objects, a
// multipart-uploaded object and n small ones.
func seedSource(t *testing.T, bed *testbed.Bed, n int) (bucket string, all map[string]string) {
	t.Helper()
	a := bed.Client(t, testbed.A)
	bucket = bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	all = map[string]string{} // key -> md5 of body
	for _, s := range specials() {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.key), Body: bytes.NewReader(s.body)}
		s.in(in)
		put(t, a, in)
		all[s.key] = md5hex(s.body)
	}
	// A multipart source: the replica keeps its layout and so its ETag.
	ctx := context.Background()
	mp, err := a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multipart/three-parts.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	var whole []byte
	for i := int32(1); i <= 3; i++ {
		b := randBytes(5<<20+int(i)*1000, uint64(100+i))
		if i < 3 {
			b = randBytes(6<<20, uint64(100+i))
		}
		whole = append(whole, b...)
		out, err := a.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("multipart/three-parts.bin"),
			UploadId: mp.UploadId, PartNumber: aws.Int32(i), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(i)})
	}
	if _, err := a.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multipart/three-parts.bin"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	all["multipart/three-parts.bin"] = md5hex(whole)

	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("small/%04d.txt", i)
			body := randBytes(512+i%1024, uint64(i))
			put(t, a, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
			mu.Lock()
			all[key] = md5hex(body)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return bucket, all
}

// TestSyncAcrossServers is the "done when": a MinIO bucket with a
// 200 MiB object, 1,000 small objects, odd keys, tags, metadata and SSE-KMS
// reaches the other MinIO (other credentials, re-encrypted with KMS) and
// versitygw byte for byte; the second run copies nothing.
func TestSyncAcrossServers(t *testing.T) {
	bed := testbed.Require(t)
	src, want := seedSource(t, bed, 1000)
	a := bed.Client(t, testbed.A)

	for _, tc := range []struct {
		server, profile string
		extra           []string
		wantSSE         types.ServerSideEncryption
	}{
		{testbed.B, "tb-b", []string{"--sse", "aws:kms", "--sse-kms-key-id", bed.KMSKey}, types.ServerSideEncryptionAwsKms},
		{testbed.VGW, "tb-vgw", nil, ""},
	} {
		t.Run(tc.server, func(t *testing.T) {
			dstC := bed.Client(t, tc.server)
			dst := bed.NewBucket(t, tc.server, testbed.BucketOpts{})
			args := append([]string{"sync", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", tc.profile, "--json"}, tc.extra...)
			r := ferry(t, bed, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			_, sum := parseJSON(t, r.stdout)
			if sum.Copied != int64(len(want)) || sum.Failed != 0 {
				t.Fatalf("first run: copied %d failed %d, want %d copied", sum.Copied, sum.Failed, len(want))
			}

			keys := keysOf(t, dstC, dst)
			if len(keys) != len(want) {
				t.Fatalf("destination has %d keys, want %d", len(keys), len(want))
			}
			for _, k := range keys {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected key at destination: %q", k)
				}
			}
			// Every byte: each object's body hashes to the source's.
			for k, sum := range want {
				got, out := getMD5(t, dstC, dst, k)
				if got != sum {
					t.Errorf("%q: body md5 %s, want %s", k, got, sum)
				}
				if tc.wantSSE != "" && out.ServerSideEncryption != tc.wantSSE {
					t.Errorf("%q: encryption %q, want %q", k, out.ServerSideEncryption, tc.wantSSE)
				}
			}
			checkRich(t, dstC, dst)
			if got := tagsOf(t, dstC, dst, "tagged/object.bin"); fmt.Sprint(got) != fmt.Sprint(tagsOf(t, a, src, "tagged/object.bin")) || got["team"] != "platform sre" {
				t.Errorf("tags = %v, want the source's (team=platform sre, k+plus=v+plus)", got)
			}
			checkOrigin(t, dstC, dst, src, "한국어/보고서 2026.txt")
			if tc.wantSSE == "" {
				srcHead, _ := a.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(src), Key: aws.String("multipart/three-parts.bin")})
				dstHead, _ := dstC.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("multipart/three-parts.bin")})
				if aws.ToString(srcHead.ETag) != aws.ToString(dstHead.ETag) {
					t.Errorf("multipart replica ETag %s, want the source's %s (same part layout)", aws.ToString(dstHead.ETag), aws.ToString(srcHead.ETag))
				}
			}

			r = ferry(t, bed, args...)
			_, sum = parseJSON(t, r.stdout)
			if r.code != 0 || sum.Copied != 0 || sum.InSync != int64(len(want)) {
				t.Fatalf("second run: exit %d, copied %d, in sync %d; want nothing copied", r.code, sum.Copied, sum.InSync)
			}
		})
	}
}

func checkRich(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	out, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("rich/index.html")})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"Content-Type":        {aws.ToString(out.ContentType), "text/html; charset=utf-8"},
		"Content-Encoding":    {aws.ToString(out.ContentEncoding), "br"},
		"Content-Language":    {aws.ToString(out.ContentLanguage), "ko-KR"},
		"Content-Disposition": {aws.ToString(out.ContentDisposition), `attachment; filename="report.html"`},
		"Cache-Control":       {aws.ToString(out.CacheControl), "max-age=31536000, immutable"},
		"owner metadata":      {out.Metadata["owner"], "team-a"},
		"build-id metadata":   {out.Metadata["build-id"], "1234"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("rich/index.html %s = %q, want %q", name, c[0], c[1])
		}
	}
	exp, err := http.ParseTime(aws.ToString(out.ExpiresString))
	if err != nil || !exp.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("rich/index.html Expires = %q, want 2030-01-02T03:04:05Z", aws.ToString(out.ExpiresString))
	}
}

func checkOrigin(t *testing.T, c *s3.Client, bucket, srcBucket, key string) {
	t.Helper()
	out, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Metadata["ferry-origin-bucket"] != srcBucket || out.Metadata["ferry-origin-etag"] == "" {
		t.Errorf("%q: origin metadata %v, want bucket %s and an etag", key, out.Metadata, srcBucket)
	}
}

// TestSyncDeletesOnlyWithFlag: an object only at the destination survives a
// plain sync and a --delete --dry-run, and goes with --delete.
func TestSyncDeletesOnlyWithFlag(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("keep.txt"), Body: strings.NewReader("keep")})
	put(t, b, &s3.PutObjectInput{Bucket: aws.String(dst), Key: aws.String("extra.txt"), Body: strings.NewReader("extra")})
	args := []string{"sync", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", "tb-b"}

	if r := ferry(t, bed, args...); r.code != 0 {
		t.Fatalf("sync: exit %d", r.code)
	}
	if got := keysOf(t, b, dst); fmt.Sprint(got) != "[extra.txt keep.txt]" {
		t.Fatalf("after sync without --delete: %v", got)
	}
	r := ferry(t, bed, append(args, "--delete", "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.stdout, "would delete s3://"+dst+"/extra.txt") {
		t.Fatalf("dry run: exit %d, stdout %q: want the planned delete listed", r.code, r.stdout)
	}
	if got := keysOf(t, b, dst); fmt.Sprint(got) != "[extra.txt keep.txt]" {
		t.Fatalf("after --dry-run: %v (nothing may change)", got)
	}
	if r := ferry(t, bed, append(args, "--delete")...); r.code != 0 {
		t.Fatalf("sync --delete: exit %d", r.code)
	}
	if got := keysOf(t, b, dst); fmt.Sprint(got) != "[keep.txt]" {
		t.Fatalf("after --delete: %v, want [keep.txt]", got)
	}
}

// TestSyncServerSide: within one server and account the server copies; the
// result says so and the replica is complete.
func TestSyncServerSide(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	body := randBytes(20<<20, 3)
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("dir/blob one.bin"), Body: bytes.NewReader(body),
		Tagging: aws.String("a=1"), ContentType: aws.String("application/x-test")})
	r := ferry(t, bed, "sync", "s3://"+src+"/dir", "s3://"+dst+"/copy", "--src-profile", "tb-a", "--dst-profile", "tb-a", "--json")
	items, sum := parseJSON(t, r.stdout)
	if r.code != 0 || sum.Copied != 1 || len(items) != 1 || !items[0].ServerSide {
		t.Fatalf("exit %d, items %+v: want one server-side copy", r.code, items)
	}
	if sum.BytesCopied != 0 {
		t.Errorf("server-side copy moved %d bytes through ferry, want 0", sum.BytesCopied)
	}
	got, out := getMD5(t, a, dst, "copy/blob one.bin")
	if got != md5hex(body) || aws.ToString(out.ContentType) != "application/x-test" {
		t.Errorf("replica md5 %s content-type %q", got, aws.ToString(out.ContentType))
	}
	if tags := tagsOf(t, a, dst, "copy/blob one.bin"); tags["a"] != "1" {
		t.Errorf("tags %v, want a=1", tags)
	}
}

// TestSyncLocalDirectories pushes a build folder to versitygw and pulls it
// back, each idempotent.
func TestSyncLocalDirectories(t *testing.T) {
	bed := testbed.Require(t)
	v := bed.Client(t, testbed.VGW)
	bucket := bed.NewBucket(t, testbed.VGW, testbed.BucketOpts{})
	dir := t.TempDir()
	files := map[string][]byte{
		"index.html":         []byte("<h1>hi</h1>"),
		"assets/app.3f2a.js": []byte("console.log(1)"),
		"assets/app-b.css":   []byte("body{}"),
		"한글 폴더/사진 1.txt":     []byte("photo"),
		"big/video.bin":      randBytes(40<<20, 5),
		"a-b/x.txt":          []byte("dash dir"),
		"a/b.txt":            []byte("slash dir"),
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	push := []string{"sync", dir, "s3://" + bucket + "/site", "--dst-profile", "tb-vgw", "--json"}
	r := ferry(t, bed, push...)
	if _, sum := parseJSON(t, r.stdout); r.code != 0 || sum.Copied != int64(len(files)) {
		t.Fatalf("push: exit %d copied %d, want %d", r.code, sum.Copied, len(files))
	}
	_, out := getMD5(t, v, bucket, "site/index.html")
	if aws.ToString(out.ContentType) != "text/html; charset=utf-8" {
		t.Errorf("index.html Content-Type %q, want text/html; charset=utf-8", aws.ToString(out.ContentType))
	}
	if r := ferry(t, bed, push...); r.code != 0 || !strings.Contains(r.stdout, `"copied":0`) {
		t.Fatalf("second push copied something: %s", r.stdout)
	}

	back := t.TempDir()
	pull := []string{"sync", "s3://" + bucket + "/site", back, "--src-profile", "tb-vgw", "--json"}
	if r := ferry(t, bed, pull...); r.code != 0 {
		t.Fatalf("pull: exit %d", r.code)
	}
	var got []string
	for name, b := range files {
		data, err := os.ReadFile(filepath.Join(back, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(data, b) {
			t.Errorf("pulled %s differs (err %v)", name, err)
		}
		got = append(got, name)
	}
	sort.Strings(got)
	if r := ferry(t, bed, pull...); r.code != 0 || !strings.Contains(r.stdout, `"copied":0`) {
		t.Fatalf("second pull copied something: %s", r.stdout)
	}
}

// TestSyncBadInput: a bad profile, URL, location or config gives one clear
// line and exit 2, and nothing is done.
func TestSyncBadInput(t *testing.T) {
	bed := testbed.Require(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("source:\n  bucket: x\n  profil: typo\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"sync", "s3://" + src, "s3://other-bucket", "--src-profile", "no-such-profile"}, `profile "no-such-profile" not found`},
		{"bad endpoint url", []string{"sync", "s3://" + src, "s3://other-bucket", "--src-profile", "tb-a", "--src-endpoint-url", "ftp://x"}, "scheme must be http or https"},
		{"bad location", []string{"sync", "s3://Bad_Bucket", "s3://other-bucket"}, "not a valid bucket name"},
		{"missing bucket", []string{"sync", "s3://" + src, "s3://no-such-bucket-ferry", "--src-profile", "tb-a", "--dst-profile", "tb-b"}, `bucket "no-such-bucket-ferry" does not exist`},
		{"bad config", []string{"sync", "--config", bad}, "profil"},
		{"one arg", []string{"sync", "s3://" + src}, "needs SRC and DST"},
		{"bad flag", []string{"sync", "--no-such-flag"}, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ferry(t, bed, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr %q: want one line containing %q", r.stderr, tc.want)
			}
		})
	}
}

// TestSyncFailuresNamed: objects the destination refuses are each named
// with S3's reason, the others are copied, and the exit code is 1.
func TestSyncFailuresNamed(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("ok.txt"), Body: strings.NewReader("ok")})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("rrs.txt"), Body: strings.NewReader("rrs"),
		StorageClass: types.StorageClassReducedRedundancy})
	// MinIO accepts only STANDARD and REDUCED_REDUNDANCY, so it refuses
	// every write in GLACIER with its own error code.
	r := ferry(t, bed, "sync", "s3://"+src, "s3://"+dst, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--storage-class", "GLACIER")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, k := range []string{"ok.txt", "rrs.txt"} {
		if !strings.Contains(r.stderr, "FAILED s3://"+src+"/"+k) || !strings.Contains(r.stderr, "InvalidStorageClass") {
			t.Errorf("stderr does not name %s with its reason: %q", k, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "failed 2") {
		t.Errorf("summary %q, want failed 2", r.stdout)
	}
}
