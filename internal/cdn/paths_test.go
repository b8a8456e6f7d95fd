package cdn

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	files := func(dir string, n int) []string {
		var keys []string
		for i := range n {
			keys = append(keys, fmt.Sprintf("%sf%02d.js", dir, i))
		}
		return keys
	}
	cat := func(lists ...[]string) []string { return slices.Concat(lists...) }

	tests := []struct {
		name   string
		keys   []string
		origin string
		limit  int
		want   []string
	}{
		{"root index", []string{"index.html"}, "", 15, []string{"/", "/index.html"}},
		{"nested index", []string{"docs/index.html", "docs/a/index.html"}, "", 15,
			[]string{"/docs", "/docs/", "/docs/a", "/docs/a/", "/docs/a/index.html", "/docs/index.html"}},
		{"not an index", []string{"myindex.html", "index.html.bak"}, "", 15, []string{"/index.html.bak", "/myindex.html"}},
		{"origin path", []string{"site/index.html", "site/assets/app.3f2a.js", "other/x.js", "sitemap.xml", "site", "site/"}, "site/", 15,
			[]string{"/", "/assets/app.3f2a.js", "/index.html"}},
		{"origin path as CloudFront writes it", []string{"site/a.css", "site2/b.css"}, "/site", 15, []string{"/a.css"}},
		{"nothing under the origin", []string{"x/a.css"}, "site/", 15, []string{}},
		{"escaping", []string{"my file.html", "caf\u00e9/\u00fc.html", "100%.html", "q?.html", "h#.html", "~u/x", "a+b,c=d;e@f&g'(h)!$:.html"}, "", 15,
			[]string{"/%7Eu/x", "/100%25.html", "/a+b,c=d;e@f&g'(h)!$:.html", "/caf%C3%A9/%C3%BC.html", "/h%23.html", "/my%20file.html", "/q%3F.html"}},
		{"star becomes the end", []string{"a*b.html", "ab.html", "a/x.html"}, "", 15, []string{"/a*"}},
		{"star key in a folder", []string{"img/*", "img/x.png", "other.png"}, "", 15, []string{"/img/*", "/other.png"}},
		{"duplicates", []string{"a.js", "a.js", "docs/index.html", "docs/"}, "", 15,
			[]string{"/a.js", "/docs", "/docs/", "/docs/index.html"}},
		{"exactly the limit", files("", 3), "", 3, []string{"/f00.js", "/f01.js", "/f02.js"}},
		{"collapse a folder", cat([]string{"index.html"}, files("assets/", 20)), "", 15,
			[]string{"/", "/assets/*", "/index.html"}},
		{"deepest folders first", cat(files("a/b/", 5), files("a/c/", 5), files("d/", 3), []string{"x"}), "", 5,
			[]string{"/a/b/*", "/a/c/*", "/d/*", "/x"}},
		{"fewest wildcards at a depth", cat(files("a/", 2), files("b/", 9), files("c/", 2)), "", 6,
			[]string{"/a/f00.js", "/a/f01.js", "/b/*", "/c/f00.js", "/c/f01.js"}},
		{"up a level when the deeper is not enough", cat(files("a/b/", 2), files("a/c/", 2), files("a/d/", 2), []string{"z"}), "", 2,
			[]string{"/a/*", "/z"}},
		{"an index's folder", cat([]string{"docs/index.html"}, files("docs/", 4)), "", 3,
			[]string{"/docs", "/docs/*"}},
		{"root files: all", files("", 16), "", 15, []string{"/*"}},
		{"one file per folder: all", []string{"a/1", "b/1", "c/1"}, "", 2, []string{"/*"}},
		{"limit 0 is the default", files("", 16), "", 0, []string{"/*"}},
		{"too many wildcards: all", func() []string {
			var keys []string
			for d := range 40 {
				keys = append(keys, files(fmt.Sprintf("d%02d/", d), 10)...)
			}
			return keys
		}(), "", 100, []string{"/*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Paths(tc.keys, tc.origin, tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Paths(%q, %q, %d)\n got  %q\n want %q", tc.keys, tc.origin, tc.limit, got, tc.want)
			}
		})
	}
}

// TestPathsProperties checks on larger inputs what every answer must be:
// under the limit, sorted, unique, valid for CloudFront, and covering
// every key.
func TestPathsProperties(t *testing.T) {
	var keys []string
	for i := range 500 {
		keys = append(keys, fmt.Sprintf("site/s%d/p%d/f%d %d.html", i%7, i%13, i, i))
	}
	for _, limit := range []int{1, 2, 5, 15, 30, 100, 1000, 5000} {
		got := Paths(keys, "site/", limit)
		if len(got) > max(limit, 1) || len(got) > MaxPathsPerRequest || wildcards(got) > MaxWildcardsInProgress {
			t.Errorf("limit %d: %d paths, %d wildcards", limit, len(got), wildcards(got))
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("limit %d: not sorted and unique: %q", limit, got)
		}
		for _, k := range keys {
			p := escapePath("/" + strings.TrimPrefix(k, "site/"))
			if !slices.ContainsFunc(got, func(g string) bool {
				return g == p || strings.HasSuffix(g, "*") && strings.HasPrefix(p, strings.TrimSuffix(g, "*"))
			}) {
				t.Errorf("limit %d: %s (%s) not covered by %q", limit, k, p, got)
				break
			}
		}
	}
}

func TestInvalidationCallerReference(t *testing.T) {
	a := CallerReference([]string{"/a", "/b"}, "a.js=e1")
	if b := CallerReference([]string{"/b", "/a"}, "a.js=e1"); a != b {
		t.Errorf("path order changed the reference: %s, %s", a, b)
	}
	if b := CallerReference([]string{"/a", "/b"}, "a.js=e2"); a == b {
		t.Error("another content digest gave the same reference")
	}
	if b := CallerReference([]string{"/a", "/c"}, "a.js=e1"); a == b {
		t.Error("other paths gave the same reference")
	}
	if b := CallerReference([]string{"/a\n/b"}, "a.js=e1"); a == b {
		t.Error("paths are not delimited")
	}
	if !strings.HasPrefix(a, "ferry-") || len(a) > 128 {
		t.Errorf("reference %q", a)
	}
}
