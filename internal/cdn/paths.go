// Package cdn invalidates what a deploy changed in a CloudFront
// distribution's edge caches: Paths turns changed bucket keys into
// invalidation paths, CallerReference makes a retried deploy reuse its
// invalidation, and Invalidator creates it and waits for it.
package cdn

import (
	"sort"
	"strings"
)

// CloudFront's limits on invalidations (Amazon CloudFront Developer Guide,
// "Quotas" and "Paying for file invalidation").
const (
	// MaxPathsPerRequest is the most paths one CreateInvalidation takes
	// (more answers BatchTooLarge); it is also the most file paths a
	// distribution may have in progress at once.
	MaxPathsPerRequest = 3000
	// MaxWildcardsInProgress is the most wildcard paths ("/dir/*") a
	// distribution may have in progress at once.
	MaxWildcardsInProgress = 15
	// FreePathsPerMonth are free per AWS account; each path beyond costs
	// (USD 0.005 in 2025), and a wildcard path counts as one path however
	// many files it covers.
	FreePathsPerMonth = 1000
)

// DefaultMaxPaths is ferry's default limit for Paths (ferry deploy
// --invalidate-max-paths). 15 keeps a deploy cheap: about 66 deploys a
// month stay within the 1,000 free paths. It also means a collapsed batch
// never holds more wildcards than CloudFront allows in progress, and a
// site deploy that changed more than 15 files (a new build usually changes
// most of them) is better served by a few wildcards than by hundreds of
// paths billed one by one.
const DefaultMaxPaths = 15

// Paths turns the keys a deploy changed (uploaded or deleted: bucket keys,
// e.g. "site/index.html") into the invalidation paths of a distribution
// whose origin path is originPath, the bucket prefix the distribution
// serves ("site/", "/site" and "site" are the same; "" is the whole
// bucket). Keys outside it are ignored, and so is the prefix's own folder
// marker.
//
// An "index.html" in any folder also invalidates the folder's URLs: for
// "docs/index.html" "/docs/" and "/docs", for the root one "/", since
// CloudFront caches those under their own URLs.
//
// Paths are percent-encoded as CloudFront asks: non-ASCII bytes, the
// characters RFC 1738 calls unsafe (space " # % < > { } | \ ^ ~ [ ] `),
// control characters and '?'; nothing else, or the path no longer names
// the cached URL. A '*' in a key cannot be sent as itself (CloudFront
// reads it as a wildcard, allowed only at the end) nor encoded (browsers
// request it unencoded, so "%2A" would name another cache entry): the path
// ends there, as a wildcard, which invalidates the key and perhaps more.
//
// When there are more than limit paths (limit < 1 means DefaultMaxPaths;
// more than MaxPathsPerRequest means MaxPathsPerRequest) they are
// collapsed into wildcards, folder by folder, deepest folders first, so
// that what is invalidated stays close to what changed; within one depth
// the folders that save the most paths go first, for the fewest wildcards.
// If even the top-level folders are too many, or the batch would hold
// more than MaxWildcardsInProgress wildcards, the answer is ["/*"].
//
// The result is sorted and free of duplicates and of paths a wildcard in
// it already covers. It is empty when no key is under originPath.
func Paths(keys []string, originPath string, limit int) []string {
	if limit < 1 {
		limit = DefaultMaxPaths
	}
	limit = min(limit, MaxPathsPerRequest)
	prefix := strings.TrimPrefix(originPath, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}

	set := map[string]bool{}
	for _, k := range keys {
		rel, ok := strings.CutPrefix(k, prefix)
		if !ok || rel == "" {
			continue
		}
		set[escapePath("/"+rel)] = true
		if dir, ok := strings.CutSuffix(rel, "index.html"); ok && (dir == "" || strings.HasSuffix(dir, "/")) {
			set[escapePath("/"+dir)] = true
			if dir != "" {
				set[escapePath("/"+strings.TrimSuffix(dir, "/"))] = true
			}
		}
	}
	paths := prune(set)
	if len(paths) > limit {
		paths = collapse(paths, limit)
	}
	if wildcards(paths) > MaxWildcardsInProgress {
		return []string{"/*"}
	}
	return paths
}

// escapePath percent-encodes p (see Paths) and cuts it at its first '*'.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*':
			b.WriteByte('*')
			return b.String()
		case c <= 0x20 || c >= 0x7f || strings.IndexByte("\"#%<>{}|\\^~[]`?", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// prune returns the paths of set, sorted, without those a wildcard in set
// covers.
func prune(set map[string]bool) []string {
	var stars []string
	for p := range set {
		if strings.HasSuffix(p, "*") {
			stars = append(stars, strings.TrimSuffix(p, "*"))
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		covered := false
		for _, s := range stars {
			if strings.HasPrefix(p, s) && p != s+"*" {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// collapse replaces folders' paths by "/folder/*" until at most limit
// remain: deepest folders first; within a depth, the folders covering the
// most paths first. It returns ["/*"] if the top-level folders are not
// enough.
func collapse(paths []string, limit int) []string {
	set := map[string]bool{}
	deepest := 0
	for _, p := range paths {
		set[p] = true
		deepest = max(deepest, strings.Count(p, "/")-1)
	}
	for depth := deepest; depth >= 1 && len(set) > limit; depth-- {
		// Folders at one depth are disjoint, so their counts do not change
		// as their siblings collapse.
		count := map[string]int{}
		for p := range set {
			if d := folderAt(p, depth); d != "" {
				count[d]++
			}
		}
		dirs := make([]string, 0, len(count))
		for d, n := range count {
			if n > 1 {
				dirs = append(dirs, d)
			}
		}
		sort.Slice(dirs, func(i, j int) bool {
			if count[dirs[i]] != count[dirs[j]] {
				return count[dirs[i]] > count[dirs[j]]
			}
			return dirs[i] < dirs[j]
		})
		for _, d := range dirs {
			if len(set) <= limit {
				break
			}
			for p := range set {
				if strings.HasPrefix(p, d) {
					delete(set, p)
				}
			}
			set[d+"*"] = true
		}
	}
	if len(set) > limit {
		return []string{"/*"}
	}
	return prune(set)
}

// folderAt returns the folder of path p at depth ("/a/" is depth 1, "/a/b/"
// depth 2), or "" if p is not that deep. A path ending in '/' is in its own
// folder: "/a/*" covers "/a/".
func folderAt(p string, depth int) string {
	i := 0
	for n := 0; n <= depth; n++ {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			return ""
		}
		i += j + 1
	}
	return p[:i]
}

func wildcards(paths []string) int {
	n := 0
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			n++
		}
	}
	return n
}
