package cli_test

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// fillBucket puts n small objects spread over 20 folders, in parallel, and
// returns their keys.
func fillBucket(t *testing.T, c *s3.Client, bucket, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sf%02d/obj-%05d", prefix, i%20, i)
	}
	testbed.PutMany(t, c, bucket, keys)
	return keys
}

// readReport returns the report's rows (header checked, then dropped).
func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("report %s: %v", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "bucket,key,version_id,destination,destination_key,action,status,failure_reason,detail" {
		t.Fatalf("report header %q", rows)
	}
	return rows[1:]
}

// An in-sync bucket costs LIST requests only: no HEAD, no GET, no PUT per
// object (counted by a proxy in front of each server). The first pass
// copies everything and reports each copy.
func TestBackfillInSyncListsOnly(t *testing.T) {
	bed := testbed.Require(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	keys := fillBucket(t, bed.Client(t, testbed.A), src, "", 1500)
	pa := testbed.NewCountingProxy(t, bed.Server(t, testbed.A).URL)
	pb := testbed.NewCountingProxy(t, bed.Server(t, testbed.B).URL)
	data := t.TempDir()
	args := []string{"backfill", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", "tb-b",
		"--src-endpoint-url", pa.URL(), "--dst-endpoint-url", pb.URL(), "--data-dir", data, "--json"}

	r := ferry(t, bed, args...)
	if r.code != 0 {
		t.Fatalf("first pass: exit %d", r.code)
	}
	_, sum := parseJSON(t, r.stdout)
	if sum.Copied != int64(len(keys)) {
		t.Fatalf("first pass copied %d, want %d", sum.Copied, len(keys))
	}
	reports, _ := filepath.Glob(filepath.Join(data, "backfill", "*", "report.csv"))
	if len(reports) != 1 {
		t.Fatalf("reports: %v", reports)
	}
	rows := readReport(t, reports[0])
	if len(rows) != len(keys) {
		t.Fatalf("report has %d rows, want %d", len(rows), len(keys))
	}
	for i, row := range rows { // in key order, one per copy
		if row[0] != src || row[1] != keys[i] && !strings.HasPrefix(row[1], "f") || row[6] != "COMPLETED" {
			t.Fatalf("report row %d: %q", i, row)
		}
	}

	pa.Reset()
	pb.Reset()
	r = ferry(t, bed, args...) // the job completed: a new pass
	_, sum = parseJSON(t, r.stdout)
	if r.code != 0 || sum.Copied != 0 || sum.InSync != int64(len(keys)) {
		t.Fatalf("second pass: exit %d, %+v; want everything in sync", r.code, sum)
	}
	for _, p := range []*testbed.CountingProxy{pa, pb} {
		c := p.Counts()
		t.Logf("%s: %v", p.Target(), c)
		for _, op := range []string{"HeadObject", "GetObject", "PutObject", "CopyObject"} {
			if c[op] != 0 {
				t.Errorf("in-sync pass sent %d %s requests to %s", c[op], op, p.Target())
			}
		}
		if c["ListObjectsV2"] == 0 {
			t.Errorf("no ListObjectsV2 requests counted at %s: is the proxy in the path?", p.Target())
		}
	}
}

// A backfill killed halfway and run again copies only the remainder: the
// second run starts after the checkpoint, and what the first run copied
// after its last checkpoint is found in sync, not copied again.
func TestBackfillResume(t *testing.T) {
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	keys := fillBucket(t, a, src, "", 1200)
	data := t.TempDir()
	args := []string{"backfill", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", "tb-b",
		"--data-dir", data, "--job", "resume", "--checkpoint-every", "100ms", "--json"}

	// First run: slowed down by --rate, killed once a third is checkpointed.
	cmd := exec.Command(bin, append(args, "--rate", "200", "--concurrency", "4")...)
	cmd.Env = append(os.Environ(), bed.Env()...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(data, "backfill", "resume", "checkpoint.json")
	var mark string
	deadline := time.Now().Add(2 * time.Minute)
	for mark < keys[len(keys)/3] {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint past a third of the keys after 2 minutes (mark %q)", mark)
		}
		time.Sleep(50 * time.Millisecond)
		var st struct{ Marks []string }
		if b, err := os.ReadFile(ckpt); err == nil && json.Unmarshal(b, &st) == nil && len(st.Marks) == 1 {
			mark = st.Marks[0]
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// A PUT whose body had fully arrived is still committed by the server
	// after the client died: count once the destination stops changing.
	before := len(keysOf(t, b, dst))
	for range 20 {
		time.Sleep(500 * time.Millisecond)
		n := len(keysOf(t, b, dst))
		if n == before {
			break
		}
		before = n
	}
	if before == 0 || before >= len(keys) {
		t.Fatalf("after the kill the destination has %d of %d objects; want part of them", before, len(keys))
	}
	var st struct{ Marks []string }
	raw, _ := os.ReadFile(ckpt)
	json.Unmarshal(raw, &st)
	done := 0 // keys at or before the checkpoint
	for _, k := range keys {
		if k <= st.Marks[0] {
			done++
		}
	}

	r := ferry(t, bed, args...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d", r.code)
	}
	_, sum := parseJSON(t, r.stdout)
	if sum.Listed != int64(len(keys)-done) {
		t.Errorf("second run listed %d objects, want the %d after the checkpoint", sum.Listed, len(keys)-done)
	}
	if sum.Copied != int64(len(keys)-before) {
		t.Errorf("second run copied %d, want exactly the %d missing", sum.Copied, len(keys)-before)
	}
	if got := len(keysOf(t, b, dst)); got != len(keys) {
		t.Fatalf("destination has %d objects, want %d", got, len(keys))
	}
	seen := map[string]bool{}
	for _, row := range readReport(t, filepath.Join(data, "backfill", "resume", "report.csv")) {
		if seen[row[1]] {
			t.Errorf("report names %s twice", row[1])
		}
		seen[row[1]] = true
	}
}

// The report names every failed object with S3's failure reason, beside
// the ones that were copied; the exit code says some failed.
func TestBackfillReportsFailures(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	good := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	bad := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	goodKeys := fillBucket(t, a, src, "good/", 40)
	badKeys := fillBucket(t, a, src, "bad/", 30)
	dir := t.TempDir()
	// MinIO refuses writes in GLACIER: every object routed to that
	// destination fails, with the server's reason.
	replication := fmt.Sprintf(`{"Role": "arn:aws:iam::111122223333:role/r", "Rules": [
  {"ID": "good", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "good/"},
   "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::%s"}},
  {"ID": "bad", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "bad/"},
   "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::%s"}}]}`, good, bad)
	os.WriteFile(filepath.Join(dir, "replication.json"), []byte(replication), 0o644)
	cfg := fmt.Sprintf(`source:
  bucket: %s
  profile: tb-a
destinations:
  - bucket: %s
    profile: tb-b
  - bucket: %s
    profile: tb-b
    storage_class: GLACIER
replication_file: replication.json
`, src, good, bad)
	path := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	report := filepath.Join(dir, "report.csv")
	r := ferry(t, bed, "backfill", "--config", path, "--data-dir", dir, "--report", report)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (some objects failed)", r.code)
	}
	status := map[string][]string{}
	for _, row := range readReport(t, report) {
		status[row[1]] = row
	}
	for _, k := range goodKeys {
		if row := status[k]; row == nil || row[6] != "COMPLETED" || row[3] != good {
			t.Errorf("%s: report row %q, want COMPLETED to %s", k, row, good)
		}
	}
	for _, k := range badKeys {
		row := status[k]
		if row == nil || row[6] != "FAILED" || row[7] == "" || row[3] != bad {
			t.Errorf("%s: report row %q, want FAILED at %s with a reason", k, row, bad)
			continue
		}
		if !strings.Contains(row[7], "InvalidStorageClass") {
			t.Errorf("%s: failure reason %q, want the server's InvalidStorageClass", k, row[7])
		}
	}
	if !strings.Contains(r.stdout, "failed 30") {
		t.Errorf("summary %q, want failed 30", r.stdout)
	}
}

// A CSV manifest (S3 Batch Operations format, URL-encoded keys) read from
// a bucket, and an S3 Inventory report read from disk, replace the listing:
// only the objects named (and kept by the filters) are copied.
func TestBackfillManifests(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	manifests := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	keys := []string{"docs/a b.txt", "docs/c+d.txt", "docs/ünï.txt", "docs/e.txt", "logs/f.txt", "logs/g.txt"}
	for _, k := range keys {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader("body of " + k)})
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("source:\n  bucket: %s\n  profile: tb-a\ndestinations:\n  - bucket: %s\n    profile: tb-b\n", src, dst)), 0o644)

	// CSV: three keys, encoded as S3 Batch Operations wants, and a row
	// naming another bucket, which is reported as failed.
	var csvBody strings.Builder
	for _, k := range []string{"docs/a b.txt", "docs/c+d.txt", "docs/ünï.txt"} {
		fmt.Fprintf(&csvBody, "%s,%s\n", src, url.QueryEscape(k))
	}
	fmt.Fprintf(&csvBody, "not-the-source,docs/e.txt\n")
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(manifests), Key: aws.String("jobs/manifest.csv"), Body: strings.NewReader(csvBody.String())})
	report := filepath.Join(dir, "csv-report.csv")
	r := ferry(t, bed, "backfill", "--config", cfgPath, "--data-dir", dir, "--report", report,
		"--manifest", "s3://"+manifests+"/jobs/manifest.csv")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (one row names another bucket)", r.code)
	}
	got := keysOf(t, b, dst)
	if want := []string{"docs/a b.txt", "docs/c+d.txt", "docs/ünï.txt"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("destination has %q, want %q", got, want)
	}
	rows := readReport(t, report)
	if last := rows[len(rows)-1]; last[0] != "not-the-source" || last[6] != "FAILED" {
		t.Errorf("report's last row %q: want the other bucket's row FAILED", last)
	}

	// Inventory: every object, with S3 replication statuses; only the
	// FAILED ones are backfilled.
	status := map[string]string{"docs/e.txt": "FAILED", "logs/f.txt": "COMPLETED", "logs/g.txt": "FAILED", "docs/a b.txt": "COMPLETED"}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	cw := csv.NewWriter(zw)
	for _, k := range keys {
		cw.Write([]string{src, url.QueryEscape(k), "10", "2026-11-20T00:00:00.000Z", "0123456789abcdef0123456789abcdef", status[k]})
	}
	cw.Flush()
	zw.Close()
	inv := filepath.Join(dir, "inventory", src, "daily")
	os.MkdirAll(filepath.Join(inv, "data"), 0o755)
	os.MkdirAll(filepath.Join(inv, "2026-11-20T01-00Z"), 0o755)
	os.WriteFile(filepath.Join(inv, "data", "part-1.csv.gz"), gz.Bytes(), 0o644)
	sum := md5.Sum(gz.Bytes())
	mf := fmt.Sprintf(`{"sourceBucket": %q, "destinationBucket": "arn:aws:s3:::inventory", "version": "2016-11-30",
  "creationTimestamp": "1763600400000", "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag, ReplicationStatus",
  "files": [{"key": "inventory/%s/daily/data/part-1.csv.gz", "size": %d, "MD5checksum": %q}]}`,
		src, src, gz.Len(), hex.EncodeToString(sum[:]))
	mfPath := filepath.Join(inv, "2026-11-20T01-00Z", "manifest.json")
	os.WriteFile(mfPath, []byte(mf), 0o644)
	r = ferry(t, bed, "backfill", "--config", cfgPath, "--data-dir", dir, "--inventory", mfPath,
		"--replication-status", "failed", "--json")
	if r.code != 0 {
		t.Fatalf("inventory run: exit %d", r.code)
	}
	_, s := parseJSON(t, r.stdout)
	if s.Copied != 2 {
		t.Errorf("inventory run copied %d, want the 2 FAILED ones", s.Copied)
	}
	got = keysOf(t, b, dst)
	if want := "docs/a b.txt|docs/c+d.txt|docs/e.txt|docs/ünï.txt|logs/g.txt"; strings.Join(got, "|") != want {
		t.Fatalf("destination has %q, want %q", got, want)
	}
}

// Filters and bad input: a date filter drops everything older, bad flag
// values are usage errors that change nothing.
func TestBackfillFiltersAndBadInput(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	fillBucket(t, a, src, "x/", 30)
	fillBucket(t, a, src, "y/", 10)
	data := t.TempDir()
	base := []string{"backfill", "s3://" + src, "s3://" + dst, "--src-profile", "tb-a", "--dst-profile", "tb-b", "--data-dir", data, "--json"}

	r := ferry(t, bed, append(base, "--created-after", time.Now().Add(24*time.Hour).Format("2006-01-02"))...)
	_, s := parseJSON(t, r.stdout)
	if r.code != 0 || s.Copied != 0 || len(keysOf(t, b, dst)) != 0 {
		t.Fatalf("created-after tomorrow: exit %d, %+v; want nothing copied", r.code, s)
	}
	r = ferry(t, bed, append(base, "--prefix", "y/", "--created-before", time.Now().Add(24*time.Hour).Format(time.RFC3339))...)
	_, s = parseJSON(t, r.stdout)
	if r.code != 0 || s.Copied != 10 || s.Listed != 10 {
		t.Fatalf("prefix y/: exit %d, %+v; want the 10 under y/ listed and copied", r.code, s)
	}
	for _, bad := range [][]string{
		{"--created-after", "yesterday"},
		{"--replication-status", "DONE"},
		{"--manifest", "m.csv"}, // needs --config
		{"--rate", "-1"},
		{"--job", "../escape"},
	} {
		r := ferry(t, bed, append(base, bad...)...)
		if r.code != 2 || !strings.Contains(r.stderr, strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming the flag", bad, r.code, r.stderr)
		}
	}
}

// With --config and --versions, the rules choose the keys and each rule's
// DeleteMarkerReplication decides whether delete markers are replayed.
func TestBackfillVersionsPerRule(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	for _, k := range []string{"m/k", "n/k", "x/k"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader("v1")})
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader("v2")})
		if _, err := a.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	replication := fmt.Sprintf(`{"Role": "arn:aws:iam::111122223333:role/r", "Rules": [
  {"ID": "with-markers", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "m/"},
   "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::%s"}},
  {"ID": "without", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "n/"},
   "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::%s"}}]}`, dst, dst)
	os.WriteFile(filepath.Join(dir, "replication.json"), []byte(replication), 0o644)
	cfg := fmt.Sprintf("source:\n  bucket: %s\n  profile: tb-a\ndestinations:\n  - bucket: %s\n    profile: tb-b\nreplication_file: replication.json\n", src, dst)
	path := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)

	if r := ferry(t, bed, "backfill", "--config", path, "--data-dir", dir, "--versions", "--delete-markers"); r.code != 2 {
		t.Errorf("--delete-markers with --config: exit %d, want 2 (the rules decide)", r.code)
	}
	r := ferry(t, bed, "backfill", "--config", path, "--data-dir", dir, "--versions")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for key, want := range map[string]string{"m/k": "v1 v2 X", "n/k": "v1 v2", "x/k": ""} {
		if got := strings.Join(history(t, b, dst, key), " "); got != want {
			t.Errorf("%s at the destination: %q, want %q", key, got, want)
		}
	}
}
