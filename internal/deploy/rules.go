package deploy

import (
	"path"
	"regexp"
	"strings"
)

// Rule sets the Cache-Control of the files Glob matches. A glob without a
// "/" matches a file's name in any folder ("*.html"); one with a "/"
// matches the whole path from the folder's root, where "**" stands for any
// number of folders ("assets/**", "**/fonts/*.woff2").
type Rule struct {
	Glob  string
	Value string
}

// Hashed is the glob-like name DefaultRules uses for files whose names
// carry a content hash (see isHashed).
const Hashed = "<hashed>"

// DefaultRules: pages must be revalidated, so a deploy shows at once;
// files whose names carry a content hash never change under that name,
// so browsers and CDNs may keep them for a year. Everything else gets no
// Cache-Control: the bucket's and the CDN's defaults apply.
var DefaultRules = []Rule{
	{Glob: "*.html", Value: "no-cache"},
	{Glob: Hashed, Value: "public, max-age=31536000, immutable"},
}

// CacheControl is the value of the first rule matching rel, or "".
func CacheControl(rules []Rule, rel string) string {
	for _, r := range rules {
		if match(r.Glob, rel) {
			return r.Value
		}
	}
	return ""
}

// ValidGlob reports a malformed glob.
func ValidGlob(glob string) error {
	if glob == Hashed {
		return nil
	}
	for _, seg := range strings.Split(glob, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return err
		}
	}
	return nil
}

func match(glob, rel string) bool {
	switch {
	case glob == Hashed:
		return isHashed(path.Base(rel))
	case !strings.Contains(glob, "/"):
		ok, _ := path.Match(glob, path.Base(rel))
		return ok
	}
	return matchSegments(strings.Split(glob, "/"), strings.Split(rel, "/"))
}

func matchSegments(glob, name []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(glob[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], name[0]); !ok {
			return false
		}
		glob, name = glob[1:], name[1:]
	}
	return len(name) == 0
}

// hashPart is the part of a name bundlers fill with a content hash:
// "app.3f2a9c1b.js" (webpack, hex), "index-BxQ3k9aZ.js" (Vite, base64url).
var hashPart = regexp.MustCompile(`[.-]([0-9A-Za-z_]{8,})\.[0-9A-Za-z]+$`)

// isHashed reports whether a file name carries a content hash: hex of 8 or
// more with a digit and a letter, or 8 base64url characters mixing upper
// case, lower case and digits. Dates ("report-20260101.pdf") and words
// ("app-release2.js") are not hashes.
func isHashed(name string) bool {
	m := hashPart.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	h := m[1]
	var lower, upper, digit, nonHex bool
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z':
			lower = true
			nonHex = nonHex || c > 'f'
		case c >= 'A' && c <= 'Z':
			upper = true
		default:
			nonHex = true
		}
	}
	hex := !upper && !nonHex && digit && lower
	base64url := len(h) == 8 && upper && lower && digit
	return hex || base64url
}
