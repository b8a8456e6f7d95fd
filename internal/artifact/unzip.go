// Package artifact carries out ferry's CodePipeline actions on a job's
// artifacts: deploy an input artifact (a zip of a build folder) to a
// bucket, invalidate a CloudFront distribution, or copy the artifact to
// buckets in other regions, re-encrypted with each destination's KMS key.
// The pipeline package runs the action and reports the result.
package artifact

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxUnzipped bounds what an artifact may expand to: Lambda's /tmp holds
// at most 10 GiB, and a zip bomb must fail cleanly, not fill the disk.
const maxUnzipped = 8 << 30

// unzip extracts the zip file name into dir. Entries that would land
// outside dir (absolute paths, "..") are refused, and so are symlinks.
func unzip(name, dir string) error {
	r, err := zip.OpenReader(name)
	if err != nil {
		return fmt.Errorf("artifact is not a zip file: %w", err)
	}
	defer r.Close()
	var total int64
	for _, f := range r.File {
		rel := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(strings.TrimSuffix(rel, string(filepath.Separator))) {
			return fmt.Errorf("artifact entry %q would be written outside the folder", f.Name)
		}
		target := filepath.Join(dir, rel)
		switch mode := f.Mode(); {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		case mode&os.ModeSymlink != 0:
			return fmt.Errorf("artifact entry %q is a symlink; refused", f.Name)
		}
		total += int64(f.UncompressedSize64)
		if total > maxUnzipped || f.UncompressedSize64 > maxUnzipped {
			return fmt.Errorf("artifact expands to more than %d GiB", maxUnzipped>>30)
		}
		if err := extract(f, target); err != nil {
			return fmt.Errorf("artifact entry %q: %w", f.Name, err)
		}
	}
	return nil
}

func extract(f *zip.File, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	in, err := f.Open()
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	// The header's size is checked above; the stream is bounded too, in
	// case the header lies.
	n, err := io.Copy(out, io.LimitReader(in, int64(f.UncompressedSize64)+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > int64(f.UncompressedSize64) {
		err = fmt.Errorf("larger than its header says")
	}
	return err
}
