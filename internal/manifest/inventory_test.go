package manifest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullSchema is the fileSchema of AWS's example CSV manifest.json (S3 User
// Guide, "Inventory manifest"): every field of an all-versions report.
const fullSchema = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, " +
	"StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus, " +
	"ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus"

// Data rows in fullSchema order, every field quoted as S3 writes them.
var (
	dataFile1 = `"src-bucket","photos/a+b.jpg","v2.current","true","false","1234","2026-11-19T12:00:00.000Z","0cc175b9c0f1b6a831c399e269772661","STANDARD","false","COMPLETED","SSE-S3","","",""
"src-bucket","photos/a+b.jpg","v1.old","false","false","99","2026-11-18T08:30:15.250Z","92eb5ffee6ae2fec3ad71c777531578f","GLACIER","false","","SSE-S3","","",""
"src-bucket","docs/gone.txt","dm.1","true","true","","2026-11-19T13:00:00.000Z","","","","","","","",""
"src-bucket","old%2Fnull","","false","false","0","2016-11-06T21:32:00.000Z","d41d8cd98f00b204e9800998ecf8427e","STANDARD","false","","NOT-SSE","","",""
`
	dataFile2 = `"src-bucket","%E6%97%A5%E6%9C%AC/1%2B1.txt","v9","true","false","20971520","2026-11-19T14:00:00.000Z","9b2cf535f27731c974343645a3985328-2","STANDARD","true","REPLICA","SSE-KMS","2030-01-01T00:00:00.000Z","GOVERNANCE","Off"
"src-bucket","a%2Cb","v8","true","false","7","2026-11-19T15:00:00Z","e1faffb3e614e6c2fba74296962386b7","STANDARD_IA","false","FAILED","SSE-S3","","","On"
`
)

var inventoryEntries = []Entry{
	{Bucket: "src-bucket", Key: "photos/a b.jpg", VersionID: "v2.current", HasFacts: true, Size: 1234,
		ETag: "0cc175b9c0f1b6a831c399e269772661", LastModified: time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC),
		IsLatest: true, ReplicationStatus: "COMPLETED", Pos: Position{0, 1}},
	{Bucket: "src-bucket", Key: "photos/a b.jpg", VersionID: "v1.old", HasFacts: true, Size: 99,
		ETag: "92eb5ffee6ae2fec3ad71c777531578f", LastModified: time.Date(2026, 11, 18, 8, 30, 15, 250e6, time.UTC),
		Pos: Position{0, 2}},
	{Bucket: "src-bucket", Key: "docs/gone.txt", VersionID: "dm.1", HasFacts: true,
		LastModified: time.Date(2026, 11, 19, 13, 0, 0, 0, time.UTC), IsLatest: true, DeleteMarker: true,
		Pos: Position{0, 3}},
	{Bucket: "src-bucket", Key: "old/null", VersionID: "null", HasFacts: true,
		ETag: "d41d8cd98f00b204e9800998ecf8427e", LastModified: time.Date(2016, 11, 6, 21, 32, 0, 0, time.UTC),
		Pos: Position{0, 4}},
	{Bucket: "src-bucket", Key: "日本/1+1.txt", VersionID: "v9", HasFacts: true, Size: 20 << 20,
		ETag: "9b2cf535f27731c974343645a3985328-2", LastModified: time.Date(2026, 11, 19, 14, 0, 0, 0, time.UTC),
		IsLatest: true, ReplicationStatus: "REPLICA", Pos: Position{1, 1}},
	{Bucket: "src-bucket", Key: "a,b", VersionID: "v8", HasFacts: true, Size: 7,
		ETag: "e1faffb3e614e6c2fba74296962386b7", LastModified: time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC),
		IsLatest: true, ReplicationStatus: "FAILED", Pos: Position{1, 2}},
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// report is an S3 Inventory report: manifest.json and its data files, by
// key as S3 lays them out under the destination bucket.
type report struct {
	manifestKey string
	manifest    []byte
	files       map[string][]byte // key -> gzip'd CSV
	dataKeys    []string          // in manifest order
}

const reportPrefix = "inventory/src-bucket/all-versions"

// newReport builds a report of the given CSV data files, in the real layout
// (<prefix>/<source-bucket>/<config-id>/<timestamp>/manifest.json and
// .../<config-id>/data/<uuid>.csv.gz). edit may change the manifest.
func newReport(t testing.TB, destBucket, format, schema string, data []string, edit func(m map[string]any)) *report {
	t.Helper()
	r := &report{manifestKey: reportPrefix + "/2026-11-20T00-00Z/manifest.json", files: map[string][]byte{}}
	var files []map[string]any
	for i, d := range data {
		key := reportPrefix + "/data/" + []string{"939c6d46-85a9-4ba8-87bd-9db705a579ce", "d794c570-95bb-4271-9128-26023c8b4900", "5c1f0e7a-1111-4222-8333-944455556666"}[i] + ".csv.gz"
		body := gz(t, d)
		r.files[key] = body
		r.dataKeys = append(r.dataKeys, key)
		files = append(files, map[string]any{"key": key, "size": len(body), "MD5checksum": md5hex(body)})
	}
	m := map[string]any{
		"sourceBucket":      "src-bucket",
		"destinationBucket": "arn:aws:s3:::" + destBucket,
		"version":           "2016-11-30",
		"creationTimestamp": "1795132800000",
		"fileFormat":        format,
		"fileSchema":        schema,
		"files":             files,
	}
	if edit != nil {
		edit(m)
	}
	var err error
	if r.manifest, err = json.MarshalIndent(m, "", "    "); err != nil {
		t.Fatal(err)
	}
	return r
}

// writeLocal writes the report under root as `aws s3 cp --recursive` would
// and returns the manifest's path.
func (r *report) writeLocal(t testing.TB, root string) string {
	t.Helper()
	for key, body := range r.files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(key)), body)
	}
	return writeFile(t, filepath.Join(root, filepath.FromSlash(r.manifestKey)), r.manifest)
}

func (r *report) dataPath(root string, i int) string {
	return filepath.Join(root, filepath.FromSlash(r.dataKeys[i]))
}

func (r *report) size() int64 {
	var n int64
	for _, b := range r.files {
		n += int64(len(b))
	}
	return n
}

func TestInventory(t *testing.T) {
	root := t.TempDir()
	r := newReport(t, "inventory-dest", "CSV", fullSchema, []string{dataFile1, dataFile2}, nil)
	name := r.writeLocal(t, root)
	in, err := Open(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := name + " (S3 Inventory of src-bucket from 2026-11-20T00:00:00Z, 2 files)"; in.String() != want {
		t.Errorf("String() = %q, want %q", in.String(), want)
	}
	if done, total := in.Progress(); done != 0 || total != r.size() {
		t.Errorf("Progress before Each = %d/%d, want 0/%d", done, total, r.size())
	}
	// Progress is read from another goroutine while Each runs (go test -race).
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
				if done, total := in.Progress(); done > total {
					t.Errorf("Progress %d/%d", done, total)
				}
			}
		}
	}()
	got, err := collect(t, in, Position{})
	close(stop)
	<-polled
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, inventoryEntries) {
		t.Errorf("entries:\n got %+v\nwant %+v", got, inventoryEntries)
	}
	if done, total := in.Progress(); done != total || total != r.size() {
		t.Errorf("Progress after Each = %d/%d, want %d/%d", done, total, r.size(), r.size())
	}
}

// TestInventoryResume: resuming in the second file does not open the first,
// so it works with the first file gone, and still counts it as read.
func TestInventoryResume(t *testing.T) {
	root := t.TempDir()
	r := newReport(t, "inventory-dest", "CSV", fullSchema, []string{dataFile1, dataFile2}, nil)
	name := r.writeLocal(t, root)
	in, err := Open(context.Background(), name, "inventory", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []Position{{}, {0, 2}, {0, 4}, {1, 0}, {1, 1}, {1, 2}, {2, 0}} {
		var want []Entry
		for _, e := range inventoryEntries {
			if after.Less(e.Pos) {
				want = append(want, e)
			}
		}
		got, err := collect(t, in, after)
		if err != nil {
			t.Fatalf("after %v: %v", after, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after %v:\n got %+v\nwant %+v", after, got, want)
		}
	}

	if err := os.Remove(r.dataPath(root, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, in, Position{1, 1})
	if err != nil {
		t.Fatalf("resume in file 1 with file 0 gone: %v", err)
	}
	if len(got) != 1 || got[0].Key != "a,b" {
		t.Errorf("resume in file 1: %+v", got)
	}
	if done, total := in.Progress(); done != total {
		t.Errorf("Progress after resume = %d/%d, want all", done, total)
	}
	// Resuming in file 0 needs it, and says where it looked.
	_, err = collect(t, in, Position{0, 2})
	if err == nil || !strings.Contains(err.Error(), "not found at "+filepath.Join(filepath.Dir(name), "..", "data")) {
		t.Errorf("resume in a missing file: %v", err)
	}
}

// TestInventoryDamage: a data file that differs from the manifest's MD5 or
// size, or is not gzip, fails and names the file.
func TestInventoryDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(r *report, path string)
		want   string
	}{
		{"md5", func(r *report, p string) {
			// Same size, valid gzip, other rows: only the MD5 tells.
			other := gz(t, strings.Replace(dataFile2, `"7"`, `"8"`, 1))
			writeFile(t, p, other)
		}, "MD5"},
		{"truncated", func(r *report, p string) {
			writeFile(t, p, r.files[r.dataKeys[1]][:30])
		}, "unexpected EOF"},
		{"appended", func(r *report, p string) {
			writeFile(t, p, append(append([]byte(nil), r.files[r.dataKeys[1]]...), r.files[r.dataKeys[1]]...))
		}, "but the inventory manifest says"},
		{"not gzip", func(r *report, p string) {
			writeFile(t, p, []byte(dataFile2))
		}, "gzip: invalid header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			r := newReport(t, "inventory-dest", "CSV", fullSchema, []string{dataFile1, dataFile2}, nil)
			name := r.writeLocal(t, root)
			p := r.dataPath(root, 1)
			tt.damage(r, p)
			in, err := Open(context.Background(), name, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = collect(t, in, Position{})
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to name %s and contain %q", err, p, tt.want)
			}
		})
	}
}

func TestInventoryManifestErrors(t *testing.T) {
	tests := []struct {
		name   string
		format string
		schema string
		edit   func(m map[string]any)
		want   string
	}{
		{"orc", "ORC", "struct<bucket:string,key:string>", nil,
			"the report is in ORC format; ferry reads only CSV inventory reports"},
		{"parquet", "Parquet", "message s3.inventory { required binary bucket (UTF8); }", nil,
			"the report is in Parquet format; ferry reads only CSV inventory reports"},
		{"unknown format", "TSV", fullSchema, nil, `unknown fileFormat "TSV"`},
		{"no key column", "CSV", "Bucket, Size", nil, "has no Key column"},
		{"duplicate column", "CSV", "Bucket, Key, Key", nil, "column Key twice"},
		{"empty column", "CSV", "Bucket, Key,, Size", nil, "empty column name"},
		{"not json", "CSV", fullSchema, func(m map[string]any) { m["files"] = "none" }, "not an S3 Inventory manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReport(t, "dest", tt.format, tt.schema, nil, tt.edit)
			name := r.writeLocal(t, t.TempDir())
			_, err := Open(context.Background(), name, "", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want it to name the manifest and contain %q", err, tt.want)
			}
		})
	}
}

// TestInventorySchemas: columns in any order and subset; facts only when the
// report has size, mtime and ETag; a current-versions report is all latest.
func TestInventorySchemas(t *testing.T) {
	tests := []struct {
		name, schema, row string
		want              Entry
		err               string
	}{
		{"current versions, reordered", "ETag, Key, Size, Bucket, LastModifiedDate, StorageClass",
			`"abc","k%20k","5","b","2026-01-02T03:04:05.000Z","STANDARD"`,
			Entry{Bucket: "b", Key: "k k", HasFacts: true, Size: 5, ETag: "abc",
				LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), IsLatest: true, Pos: Position{0, 1}}, ""},
		{"no facts", "Bucket, Key, Size, ReplicationStatus", `"b","k","5","PENDING"`,
			Entry{Bucket: "b", Key: "k", IsLatest: true, ReplicationStatus: "PENDING", Pos: Position{0, 1}}, ""},
		{"no bucket column", "Key", `"k"`,
			Entry{Bucket: "src-bucket", Key: "k", IsLatest: true, Pos: Position{0, 1}}, ""},
		{"quoted etag, capitalized bool", "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
			`"b","k","v","True","FALSE","1","2026-01-02T03:04:05Z","""abc"""`,
			Entry{Bucket: "b", Key: "k", VersionID: "v", HasFacts: true, Size: 1, ETag: "abc",
				LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), IsLatest: true, Pos: Position{0, 1}}, ""},
		{"field count", "Bucket, Key, Size", `"b","k"`, Entry{}, ":1: 2 fields, but the fileSchema has 3"},
		{"bad size", "Bucket, Key, Size, LastModifiedDate, ETag", `"b","k","1e3","2026-01-02T03:04:05Z","e"`, Entry{}, `column Size: "1e3" is not a byte count`},
		{"bad time", "Bucket, Key, Size, LastModifiedDate, ETag", `"b","k","1","2026-01-02 03:04:05","e"`, Entry{}, "is not an ISO 8601 time"},
		{"bad bool", "Bucket, Key, IsLatest", `"b","k","yes"`, Entry{}, `column IsLatest: "yes" is neither true nor false`},
		{"bad key", "Bucket, Key", `"b","%"`, Entry{}, "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReport(t, "dest", "CSV", tt.schema, []string{tt.row + "\n"}, nil)
			name := r.writeLocal(t, t.TempDir())
			in, err := Open(context.Background(), name, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, in, Position{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("entries %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestInventoryLocalLayouts: the data files are found where a copied report
// can have them: S3's layout, a data/ directory beside manifest.json, or
// right beside it.
func TestInventoryLocalLayouts(t *testing.T) {
	r := newReport(t, "dest", "CSV", fullSchema, []string{dataFile1, dataFile2}, nil)
	for _, layout := range []string{"../data", "data", "."} {
		t.Run(layout, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "report", "ts")
			name := writeFile(t, filepath.Join(dir, "manifest.json"), r.manifest)
			for _, key := range r.dataKeys {
				writeFile(t, filepath.Join(dir, layout, path.Base(key)), r.files[key])
			}
			in, err := Open(context.Background(), name, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, in, Position{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(inventoryEntries) {
				t.Errorf("%d entries, want %d", len(got), len(inventoryEntries))
			}
		})
	}

	// AWS's example CSV manifest.json keeps its data files in
	// <timestamp>/files/, beside manifest.json.
	t.Run("files", func(t *testing.T) {
		moved := map[string]string{} // key in newReport's layout -> key in the manifest
		r := newReport(t, "dest", "CSV", fullSchema, []string{dataFile1, dataFile2}, func(m map[string]any) {
			for _, f := range m["files"].([]map[string]any) {
				key := f["key"].(string)
				moved[key] = "Inventory/src-bucket/2016-11-06T21-32Z/files/" + path.Base(key)
				f["key"] = moved[key]
			}
		})
		dir := filepath.Join(t.TempDir(), "Inventory", "src-bucket", "2016-11-06T21-32Z")
		name := writeFile(t, filepath.Join(dir, "manifest.json"), r.manifest)
		for key, body := range r.files {
			writeFile(t, filepath.Join(dir, "files", path.Base(moved[key])), body)
		}
		in, err := Open(context.Background(), name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := collect(t, in, Position{})
		if err != nil || !reflect.DeepEqual(got, inventoryEntries) {
			t.Errorf("entries %+v, %v; want %+v", got, err, inventoryEntries)
		}
	})
}

func TestBucketOfARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:s3:::dest":        "dest",
		"arn:aws-cn:s3:::dest.cn":  "dest.cn",
		"arn:aws-us-gov:s3:::dest": "dest",
		"dest":                     "dest",
		"":                         "",
	} {
		if got := bucketOfARN(arn); got != want {
			t.Errorf("bucketOfARN(%q) = %q, want %q", arn, got, want)
		}
	}
}
