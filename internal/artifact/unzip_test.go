package artifact

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeZip(t *testing.T, entries map[string]string, symlink string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "a.zip")
	f, _ := os.Create(name)
	zw := zip.NewWriter(f)
	for n, body := range entries {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if symlink != "" {
		h := &zip.FileHeader{Name: symlink}
		h.SetMode(os.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		w.Write([]byte("/etc/passwd"))
	}
	zw.Close()
	f.Close()
	return name
}

// A build artifact unzips into the folder, and nothing in it can write
// anywhere else.
func TestUnzip(t *testing.T) {
	dir := t.TempDir()
	if err := unzip(writeZip(t, map[string]string{"index.html": "hi", "a/b/c.js": "x", "a/": ""}, ""), dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a", "b", "c.js")); err != nil || string(b) != "x" {
		t.Fatalf("c.js: %q %v", b, err)
	}
	for name, tc := range map[string]struct {
		entries map[string]string
		symlink string
		want    string
	}{
		"dot-dot":  {map[string]string{"../escape.txt": "x"}, "", "outside the folder"},
		"absolute": {map[string]string{"/tmp/escape.txt": "x"}, "", "outside the folder"},
		"symlink":  {nil, "link", "symlink"},
	} {
		t.Run(name, func(t *testing.T) {
			err := unzip(writeZip(t, tc.entries, tc.symlink), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "not.zip")
	os.WriteFile(bad, []byte("PK?"), 0o644)
	if err := unzip(bad, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a zip") {
		t.Fatalf("not a zip: %v", err)
	}
}
