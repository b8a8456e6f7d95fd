package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/ferry-s3/ferry/internal/object"
)

// TestDirListOrder: a directory is listed in S3 key byte order, which is
// what lets it merge with a bucket listing. "a-b" sorts before "a/b".
func TestDirListOrder(t *testing.T) {
	root := t.TempDir()
	keys := []string{"a/b.txt", "a-b/x.txt", "a.txt", "b", "a/c/d.txt", "한글/파일.txt", "Z.txt"}
	for _, k := range keys {
		p := filepath.Join(root, filepath.FromSlash(k))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(k), 0o644)
	}
	os.WriteFile(filepath.Join(root, TempPrefix+"partial"), []byte("x"), 0o644)
	d := &Dir{Root: root}
	var got []string
	err := d.List(context.Background(), "", "", func(o object.Info) error { got = append(got, o.Key); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List order:\n got %q\nwant %q", got, want)
	}
	got = nil
	d.List(context.Background(), "a/", "", func(o object.Info) error { got = append(got, o.Key); return nil })
	if want := []string{"a/b.txt", "a/c/d.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List(a/) = %q, want %q", got, want)
	}
}
