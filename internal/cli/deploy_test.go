package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// writeSite writes files (relative path -> body) under dir.
func writeSite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type deployOut struct {
	changes []map[string]any
	summary map[string]any
}

func parseDeploy(t *testing.T, out string) deployOut {
	t.Helper()
	var d deployOut
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if m["summary"] == true {
			d.summary = m
		} else {
			d.changes = append(d.changes, m)
		}
	}
	return d
}

func (d deployOut) keys(action string) []string {
	var ks []string
	for _, c := range d.changes {
		if c["action"] == action {
			ks = append(ks, c["key"].(string))
		}
	}
	return ks
}

// TestDeploy publishes a build folder to MinIO as a user would check it:
// right types and cache headers, assets before pages, only what changed
// on the next deploy, stale files removed only with --delete, and a dry
// run that changes nothing. With SSE-KMS (ETags are not MD5s) the content
// is still compared, through the MD5 a deploy records.
func TestDeploy(t *testing.T) {
	bed := testbed.Require(t)
	b := bed.Client(t, testbed.B)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	site := t.TempDir()
	writeSite(t, site, map[string]string{
		"index.html":                  "<script src=/assets/app.3f2a9c1b.js></script>",
		"about/index.html":            "<h1>about</h1>",
		"assets/app.3f2a9c1b.js":      "console.log(1)",
		"assets/style.css":            "body{}",
		"assets/index-BxQ3k9aZ.woff2": "font",
		"img/logo.svg":                "<svg/>",
		"app.wasm":                    "\x00asm",
		"old.txt":                     "stale soon",
	})
	args := func(extra ...string) []string {
		return append([]string{"deploy", site, "s3://" + bucket + "/site", "--profile", "tb-b", "--json"}, extra...)
	}

	r := ferry(t, bed, args("--dry-run")...)
	d := parseDeploy(t, r.stdout)
	if r.code != 0 || len(d.keys("upload")) != 8 || d.summary["dry_run"] != true {
		t.Fatalf("dry run: exit %d, %v", r.code, d.keys("upload"))
	}
	if keys := keysOf(t, b, bucket); len(keys) != 0 {
		t.Fatalf("a dry run wrote %v", keys)
	}

	r = ferry(t, bed, args()...)
	d = parseDeploy(t, r.stdout)
	up := d.keys("upload")
	if r.code != 0 || len(up) != 8 {
		t.Fatalf("first deploy: exit %d, uploaded %v", r.code, up)
	}
	// Pages go last, after every asset they may reference.
	firstPage := slices.IndexFunc(up, func(k string) bool { return strings.HasSuffix(k, ".html") })
	for _, k := range up[firstPage:] {
		if !strings.HasSuffix(k, ".html") {
			t.Fatalf("asset %s uploaded after a page: %v", k, up)
		}
	}
	for key, want := range map[string][2]string{
		"site/index.html":                  {"text/html; charset=utf-8", "no-cache"},
		"site/assets/app.3f2a9c1b.js":      {"text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		"site/assets/index-BxQ3k9aZ.woff2": {"font/woff2", "public, max-age=31536000, immutable"},
		"site/assets/style.css":            {"text/css; charset=utf-8", ""},
		"site/img/logo.svg":                {"image/svg+xml", ""},
		"site/app.wasm":                    {"application/wasm", ""},
	} {
		h, err := b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if aws.ToString(h.ContentType) != want[0] || aws.ToString(h.CacheControl) != want[1] {
			t.Errorf("%s: Content-Type %q, Cache-Control %q; want %q, %q", key, aws.ToString(h.ContentType), aws.ToString(h.CacheControl), want[0], want[1])
		}
	}

	// Nothing changed: nothing uploaded.
	r = ferry(t, bed, args()...)
	if d = parseDeploy(t, r.stdout); r.code != 0 || len(d.changes) != 0 || d.summary["unchanged"] != 8.0 {
		t.Fatalf("second deploy: exit %d, %v %v", r.code, d.changes, d.summary)
	}
	if r := ferry(t, bed, "deploy", site, "s3://"+bucket+"/site", "--profile", "tb-b"); !strings.Contains(r.stdout, "nothing changed: 8 files already deployed") {
		t.Errorf("text output of a no-op deploy: %q", r.stdout)
	}

	// One page changed, one file gone: only the page is uploaded; the
	// stale file stays until --delete.
	writeSite(t, site, map[string]string{"about/index.html": "<h1>about us</h1>"})
	os.Remove(filepath.Join(site, "old.txt"))
	r = ferry(t, bed, args()...)
	d = parseDeploy(t, r.stdout)
	if r.code != 0 || !slices.Equal(d.keys("upload"), []string{"site/about/index.html"}) || d.summary["stale"] != 1.0 || len(d.keys("delete")) != 0 {
		t.Fatalf("third deploy: %v", r.stdout)
	}
	r = ferry(t, bed, args("--delete")...)
	d = parseDeploy(t, r.stdout)
	if r.code != 0 || !slices.Equal(d.keys("delete"), []string{"site/old.txt"}) || len(d.keys("upload")) != 0 {
		t.Fatalf("deploy --delete: %v", r.stdout)
	}
	if slices.Contains(keysOf(t, b, bucket), "site/old.txt") {
		t.Errorf("site/old.txt not deleted")
	}

	// SSE-KMS: ETags are not MD5s; the recorded MD5 still tells.
	kmsArgs := []string{"deploy", site, "s3://" + bucket + "/kms", "--profile", "tb-b", "--json", "--sse", "aws:kms", "--sse-kms-key-id", bed.KMSKey}
	if d = parseDeploy(t, ferry(t, bed, kmsArgs...).stdout); len(d.keys("upload")) != 7 {
		t.Fatalf("KMS deploy uploaded %v", d.keys("upload"))
	}
	if d = parseDeploy(t, ferry(t, bed, kmsArgs...).stdout); len(d.changes) != 0 {
		t.Fatalf("KMS deploy again uploaded %v", d.keys("upload"))
	}

	if r := ferry(t, bed, "deploy", site, "s3://"+bucket, "--profile", "tb-b", "--cache-control", "nonsense"); r.code != 2 {
		t.Errorf("a bad --cache-control: exit %d", r.code)
	}
}

// TestDeployInvalidates: the deploy's changes become one CloudFront
// invalidation (index pages with their folders, over the limit collapsed),
// a deploy retried with the same content creates no second one, a deploy
// that changes nothing invalidates nothing, and CloudFront's refusals are
// reported clearly. CloudFront has no local server: testbed.CloudFront
// checks the SDK's real requests.
func TestDeployInvalidates(t *testing.T) {
	bed := testbed.Require(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	cf := testbed.NewCloudFront(t)
	srv := bed.Server(t, testbed.B)
	cf.AccessKey, cf.SecretKey = srv.AccessKey, srv.SecretKey // --profile tb-b signs CloudFront's requests too
	cf.AddDistribution("E2QWRUHEXAMPLE")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", cf.URL)
	site := t.TempDir()
	writeSite(t, site, map[string]string{"index.html": "home", "docs/index.html": "docs", "docs/a b.png": "img"})
	args := func(extra ...string) []string {
		return append([]string{"deploy", site, "s3://" + bucket + "/www", "--profile", "tb-b", "--json",
			"--invalidate", "E2QWRUHEXAMPLE", "--cdn-origin-path", "/www"}, extra...)
	}

	r := ferry(t, bed, args("--wait")...)
	d := parseDeploy(t, r.stdout)
	invs := cf.Invalidations("E2QWRUHEXAMPLE")
	if r.code != 0 || len(invs) != 1 || d.summary["invalidation"] != invs[0].ID || d.summary["invalidation_status"] != "Completed" {
		t.Fatalf("first deploy: exit %d, %v; invalidations %+v", r.code, d.summary, invs)
	}
	want := []string{"/", "/docs", "/docs/", "/docs/a%20b.png", "/docs/index.html", "/index.html"}
	if got := slices.Sorted(slices.Values(invs[0].Paths)); !slices.Equal(got, want) {
		t.Errorf("invalidated %v, want %v", got, want)
	}

	// The same content again: nothing uploaded, no invalidation.
	if d = parseDeploy(t, ferry(t, bed, args()...).stdout); len(d.changes) != 0 || d.summary["invalidation"] != nil {
		t.Fatalf("unchanged deploy: %v %v", d.changes, d.summary)
	}
	if n := len(cf.Invalidations("E2QWRUHEXAMPLE")); n != 1 {
		t.Fatalf("an unchanged deploy invalidated: %d invalidations", n)
	}

	// A retried deploy of the same content (its first run lost the
	// answer): the objects are put back as they were, and CloudFront hands
	// back the same invalidation instead of a second one.
	b := bed.Client(t, testbed.B)
	for _, k := range []string{"www/index.html", "www/docs/index.html", "www/docs/a b.png"} {
		b.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
	}
	r = ferry(t, bed, args()...)
	if d = parseDeploy(t, r.stdout); d.summary["invalidation"] != invs[0].ID || len(cf.Invalidations("E2QWRUHEXAMPLE")) != 1 {
		t.Fatalf("retried deploy: %v; invalidations %+v", d.summary, cf.Invalidations("E2QWRUHEXAMPLE"))
	}

	// Many changes collapse to folder wildcards under the limit.
	many := map[string]string{}
	for i := range 40 {
		many[fmt.Sprintf("assets/img-%02d.png", i)] = fmt.Sprint(i)
	}
	writeSite(t, site, many)
	if r = ferry(t, bed, args("--dry-run")...); !strings.Contains(r.stdout, `"paths":["/assets/*"]`) {
		t.Errorf("40 new assets: %s", r.stdout)
	}

	// CloudFront refuses: the upload is done, the error says what failed
	// and how to finish the job.
	cf.FailNext("AccessDenied", 403, 1)
	r = ferry(t, bed, args()...)
	if r.code == 0 || !strings.Contains(r.stderr, "cloudfront:CreateInvalidation") || !strings.Contains(r.stderr, "--invalidate-all") {
		t.Fatalf("denied invalidation: exit %d, %s", r.code, r.stderr)
	}
	r = ferry(t, bed, args("--invalidate-all")...)
	invs = cf.Invalidations("E2QWRUHEXAMPLE")
	if r.code != 0 || !slices.Equal(invs[len(invs)-1].Paths, []string{"/*"}) {
		t.Fatalf("--invalidate-all: exit %d, %+v", r.code, invs)
	}
	r = ferry(t, bed, "deploy", site, "s3://"+bucket+"/www", "--profile", "tb-b", "--invalidate", "E404NOSUCH", "--invalidate-all")
	if r.code == 0 || !strings.Contains(r.stderr, "E404NOSUCH does not exist") {
		t.Fatalf("unknown distribution: exit %d, %s", r.code, r.stderr)
	}
}
