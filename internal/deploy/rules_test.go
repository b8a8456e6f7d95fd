package deploy

import "testing"

func TestCacheControl(t *testing.T) {
	rules := append([]Rule{{Glob: "assets/**", Value: "public, max-age=600"}, {Glob: "**/fonts/*.woff2", Value: "fonts"}}, DefaultRules...)
	for rel, want := range map[string]string{
		"index.html":                "no-cache",
		"docs/guide/index.html":     "no-cache",
		"assets/app.js":             "public, max-age=600",
		"assets/deep/x/y.css":       "public, max-age=600",
		"static/fonts/inter.woff2":  "fonts",
		"fonts/inter.woff2":         "fonts",
		"js/app.3f2a9c1b.js":        "public, max-age=31536000, immutable",
		"index-BxQ3k9aZ.js":         "public, max-age=31536000, immutable",
		"main.0123abcd4567ef89.css": "public, max-age=31536000, immutable",
		"report-20260101.pdf":       "",
		"app-release2.js":           "",
		"favicon.ico":               "",
		"index-abcdefgh.js":         "", // letters only: a word, not a hash
		"robots.txt":                "",
	} {
		if got := CacheControl(rules, rel); got != want {
			t.Errorf("CacheControl(%q) = %q, want %q", rel, got, want)
		}
	}
	if err := ValidGlob("assets/[a-"); err == nil {
		t.Errorf("a malformed glob is accepted")
	}
}
