package manifest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// collect returns the entries Each passes after `after`.
func collect(t testing.TB, in *Input, after Position) ([]Entry, error) {
	t.Helper()
	var got []Entry
	err := in.Each(context.Background(), after, func(e Entry) error {
		got = append(got, e)
		return nil
	})
	return got, err
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// A manifest with every kind of row: 2 and 3 fields, blank lines, CRLF, a
// BOM, and keys URL-encoded the ways S3 writes them.
const sampleCSV = "\ufeffb1,plain.txt\n" + // 1: BOM from a spreadsheet
	"\n" + // 2: blank
	"b1,with%20space,v1\n" + // 3
	"b1,plus+is+space\n" + // 4: form encoding
	"b1,real%2Bplus\n" + // 5
	"b1,%ED%95%9C%EA%B8%80/%ED%8C%8C%EC%9D%BC.txt,3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY\n" + // 6
	"b2,日本/raw.txt\r\n" + // 7: unencoded UTF-8, CRLF
	"\r\n" + // 8: blank
	"b2,%22quoted%22%2C%20comma%0Anewline,null\n" + // 9
	`"b2","quoted%20fields",""` + "\n" // 10: empty version: none

var sampleEntries = []Entry{
	{Bucket: "b1", Key: "plain.txt", Pos: Position{0, 1}},
	{Bucket: "b1", Key: "with space", VersionID: "v1", Pos: Position{0, 3}},
	{Bucket: "b1", Key: "plus is space", Pos: Position{0, 4}},
	{Bucket: "b1", Key: "real+plus", Pos: Position{0, 5}},
	{Bucket: "b1", Key: "한글/파일.txt", VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", Pos: Position{0, 6}},
	{Bucket: "b2", Key: "日本/raw.txt", Pos: Position{0, 7}},
	{Bucket: "b2", Key: "\"quoted\", comma\nnewline", VersionID: "null", Pos: Position{0, 9}},
	{Bucket: "b2", Key: "quoted fields", Pos: Position{0, 10}},
}

func TestCSV(t *testing.T) {
	name := writeFile(t, filepath.Join(t.TempDir(), "objects.csv"), []byte(sampleCSV))
	in, err := Open(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.String() != name {
		t.Errorf("String() = %q, want %q", in.String(), name)
	}
	if done, total := in.Progress(); done != 0 || total != int64(len(sampleCSV)) {
		t.Errorf("Progress before Each = %d/%d, want 0/%d", done, total, len(sampleCSV))
	}
	got, err := collect(t, in, Position{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleEntries) {
		t.Errorf("entries:\n got %+v\nwant %+v", got, sampleEntries)
	}
	if done, total := in.Progress(); done != total || total != int64(len(sampleCSV)) {
		t.Errorf("Progress after Each = %d/%d, want %d/%d", done, total, len(sampleCSV), len(sampleCSV))
	}
}

// TestCSVResume: resuming after any position, including a blank line and
// the end, passes exactly the entries after it.
func TestCSVResume(t *testing.T) {
	name := writeFile(t, filepath.Join(t.TempDir(), "objects.csv"), []byte(sampleCSV))
	in, err := Open(context.Background(), name, "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	for row := int64(0); row <= 11; row++ {
		after := Position{0, row}
		var want []Entry
		for _, e := range sampleEntries {
			if after.Less(e.Pos) {
				want = append(want, e)
			}
		}
		got, err := collect(t, in, after)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after %v:\n got %+v\nwant %+v", after, got, want)
		}
	}
	// A position past the only file: nothing, and the file counts as read.
	got, err := collect(t, in, Position{1, 0})
	if err != nil || len(got) != 0 {
		t.Errorf("after file 1: %d entries, %v", len(got), err)
	}
	if done, total := in.Progress(); done != total {
		t.Errorf("Progress after skipping everything = %d/%d", done, total)
	}
}

func TestCSVBadRows(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"one field", "b,k\n\nb\n", "bad.csv:3: 1 fields, want bucket,key or bucket,key,versionId"},
		{"four fields", "b,k,v,x\n", "bad.csv:1: 4 fields"},
		{"bad escape", "b,k\nb,100%zz\n", `bad.csv:2: key "100%zz": invalid URL escape "%zz"`},
		{"truncated escape", "b,k%2\n", `bad.csv:1: key "k%2"`},
		{"not utf-8", "b,%FF%FE\n", "bad.csv:1: key \"%FF%FE\" is not UTF-8"},
		{"empty key", "b,\n", "bad.csv:1: empty key"},
		{"empty bucket", ",k\n", "bad.csv:1: empty bucket name"},
		{"csv syntax", "b,k\nb,\"unterminated\n", "bad.csv: parse error on line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := writeFile(t, filepath.Join(t.TempDir(), "bad.csv"), []byte(tt.data))
			in, err := Open(context.Background(), name, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = collect(t, in, Position{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		loc, kind, want string
	}{
		{"", "", "empty location"},
		{filepath.Join(dir, "missing.csv"), "", "no such file"},
		{dir, "csv", "is a directory"},
		{filepath.Join(dir, "missing.csv"), "orc", `unknown kind "orc"`},
		{"s3://bucket/objects.csv", "", "no S3 client"},
		{"s3://bucket", "", "want s3://bucket/key"},
		{"s3://bucket/dir/", "", "want s3://bucket/key"},
		{"gs://bucket/objects.csv", "", `unsupported scheme "gs"`},
		// manifest.json is read as an inventory, not as CSV rows.
		{filepath.Join(dir, "manifest.json"), "", "inventory manifest"},
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), tt.loc, tt.kind, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q, %q): error %v, want it to contain %q", tt.loc, tt.kind, err, tt.want)
		}
	}
}

// TestCSVStopsAtFnError: fn's error ends Each and comes back as is.
func TestCSVStopsAtFnError(t *testing.T) {
	name := writeFile(t, filepath.Join(t.TempDir(), "objects.csv"), []byte(sampleCSV))
	in, err := Open(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := io.ErrShortWrite
	n := 0
	err = in.Each(context.Background(), Position{}, func(Entry) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("Each = %v after %d entries, want %v after 2", err, n, stop)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := in.Each(ctx, Position{}, func(Entry) error { return nil }); err != context.Canceled {
		t.Errorf("Each with a canceled context = %v", err)
	}
}

// TestCSVBOMQuoted: a byte order mark before a quoted first field is dropped
// before the CSV reader sees it.
func TestCSVBOMQuoted(t *testing.T) {
	name := writeFile(t, filepath.Join(t.TempDir(), "objects.csv"), []byte("\ufeff\"b\",\"k%20k\"\n"))
	in, err := Open(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, in, Position{})
	if want := []Entry{{Bucket: "b", Key: "k k", Pos: Position{0, 1}}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("entries %+v, %v; want %+v", got, err, want)
	}
}
