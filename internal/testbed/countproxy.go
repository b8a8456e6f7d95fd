package testbed

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Paths on a CountingProxy that are answered by the proxy itself, neither
// counted nor forwarded. No S3 request uses them: bucket names cannot
// contain '_'.
const (
	CountsPath = "/__counts" // GET: the counts as a JSON object, operation -> requests
	ResetPath  = "/__reset"  // POST: set every count to zero (204)
)

// CountingProxy is a reverse proxy in front of one S3 server that counts the
// requests passing through it by S3 operation (see Operation). Tests use it
// to prove how many requests of each kind a ferry run costs, for instance
// that reconciling an in-sync bucket needs LIST requests only and no HEAD
// per object.
//
// It forwards each request with the client's own Host header, so SigV4
// signatures (which cover Host) stay valid, and it streams bodies both ways
// without buffering them (aws-chunked uploads pass through unchanged). Only
// path-style addressing (http://host:port/bucket/key) is classified.
type CountingProxy struct {
	target *url.URL
	rp     *httputil.ReverseProxy
	srv    *httptest.Server // set by NewCountingProxy

	mu       sync.Mutex
	counts   map[string]int64
	readOnly bool
}

// NewCountingProxy starts a CountingProxy for target (an S3 endpoint URL such
// as http://127.0.0.1:19000) on 127.0.0.1 and closes it when the test ends.
// Point a client at URL(): its requests reach target and are counted.
func NewCountingProxy(t testing.TB, target string) *CountingProxy {
	t.Helper()
	p, err := NewCountingHandler(target)
	if err != nil {
		t.Fatalf("counting proxy: %v", err)
	}
	p.srv = httptest.NewServer(p) // listens on 127.0.0.1:0
	t.Cleanup(p.srv.Close)
	return p
}

// NewCountingHandler returns a CountingProxy for target as an http.Handler,
// for programs that serve it themselves (cmd/s3count). Its URL is "".
func NewCountingHandler(target string) (*CountingProxy, error) {
	rp, u, err := s3ReverseProxy(target)
	if err != nil {
		return nil, err
	}
	return &CountingProxy{target: u, counts: map[string]int64{}, rp: rp}, nil
}

// s3ReverseProxy forwards to target (http(s)://host:port) the way the
// test proxies need: the client's Host header kept (SigV4 signs it), many
// idle connections per host (a client HEADing a million objects with many
// workers must not open a connection per request, each leaving a
// TIME_WAIT port behind), no compression (bodies pass byte for byte), and
// responses copied as they arrive (listings and GETs stream).
func s3ReverseProxy(target string) (*httputil.ReverseProxy, *url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, nil, fmt.Errorf("target %q: %w", target, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("target %q: want http(s)://host:port", target)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, nil, fmt.Errorf("target %q: want no path or query", target)
	}
	u.Path = ""
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	tr.DisableCompression = true
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		Transport:     tr,
		FlushInterval: -1,
	}, u, nil
}

// SetReadOnly makes the proxy refuse, from now on, every request that is not
// a GET or HEAD with 403 AccessDenied instead of forwarding it (they are
// still counted). A benchmark against a bed that must not change uses it
// as a guard: a tool that decides to copy fails instead of writing.
func (p *CountingProxy) SetReadOnly(on bool) {
	p.mu.Lock()
	p.readOnly = on
	p.mu.Unlock()
}

// URL returns the proxy's base URL (http://127.0.0.1:PORT), or "" for a
// proxy made by NewCountingHandler.
func (p *CountingProxy) URL() string {
	if p.srv == nil {
		return ""
	}
	return p.srv.URL
}

// Target returns the URL of the S3 server the proxy forwards to.
func (p *CountingProxy) Target() string { return p.target.String() }

// ServeHTTP counts r by its S3 operation and forwards it to the target.
// GET CountsPath and POST ResetPath are answered here.
func (p *CountingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case CountsPath:
		if r.Method != http.MethodGet {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Counts())
		return
	case ResetPath:
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		p.Reset()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	op := Operation(r.Method, r.URL.Path, r.URL.Query(), r.Header)
	p.mu.Lock()
	p.counts[op]++
	refuse := p.readOnly && r.Method != http.MethodGet && r.Method != http.MethodHead
	p.mu.Unlock()
	if refuse {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
			"<Error><Code>AccessDenied</Code><Message>read-only counting proxy refuses %s</Message></Error>", op)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// Count returns how many requests of operation op (e.g. "HeadObject") the
// proxy has seen since it started or was last Reset.
func (p *CountingProxy) Count(op string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Counts returns a copy of all counts, operation -> requests. Operations
// never seen are absent.
func (p *CountingProxy) Counts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int64, len(p.counts))
	for op, n := range p.counts {
		out[op] = n
	}
	return out
}

// Reset sets every count to zero.
func (p *CountingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
}

// String formats the counts as "Op=n Op=n ..." sorted by operation, for
// test logs.
func (p *CountingProxy) String() string {
	c := p.Counts()
	ops := make([]string, 0, len(c))
	for op := range c {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var sb strings.Builder
	for i, op := range ops {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%s=%d", op, c[op])
	}
	return sb.String()
}

// Operation names the S3 API operation of a path-style request
// (/bucket/key): "HeadObject", "ListObjectsV2", "UploadPartCopy" and so on.
// path is the decoded URL path, query its parameters. A request it does not
// recognise is "Other:<METHOD>".
func Operation(method, path string, query url.Values, header http.Header) string {
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	switch {
	case bucket == "":
		if method == http.MethodGet && len(query) == 0 {
			return "ListBuckets"
		}
	case key == "":
		if op := bucketOperation(method, query); op != "" {
			return op
		}
	default:
		if op := objectOperation(method, query, header); op != "" {
			return op
		}
	}
	return "Other:" + method
}

// listParams are the query parameters of ListObjects (v1), besides the
// SDK's x-id: a GET on a bucket with other parameters is something else.
var listParams = map[string]bool{
	"prefix": true, "delimiter": true, "marker": true, "max-keys": true,
	"encoding-type": true, "x-id": true,
}

func bucketOperation(method string, q url.Values) string {
	switch method {
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodGet:
		switch {
		case q.Get("list-type") == "2":
			return "ListObjectsV2"
		case q.Has("versions"):
			return "ListObjectVersions"
		case q.Has("uploads"):
			return "ListMultipartUploads"
		case q.Has("versioning"):
			return "GetBucketVersioning"
		case q.Has("location"):
			return "GetBucketLocation"
		case q.Has("tagging"):
			return "GetBucketTagging"
		case q.Has("list-type"):
			return "" // a list type not known here
		}
		for k := range q {
			if !listParams[k] {
				return ""
			}
		}
		return "ListObjects"
	case http.MethodPut:
		switch {
		case q.Has("versioning"):
			return "PutBucketVersioning"
		case q.Has("tagging"):
			return "PutBucketTagging"
		case onlyXID(q):
			return "CreateBucket"
		}
	case http.MethodPost:
		if q.Has("delete") {
			return "DeleteObjects"
		}
	case http.MethodDelete:
		switch {
		case q.Has("tagging"):
			return "DeleteBucketTagging"
		case onlyXID(q):
			return "DeleteBucket"
		}
	}
	return ""
}

func objectOperation(method string, q url.Values, h http.Header) string {
	copySource := h.Get("X-Amz-Copy-Source") != ""
	switch method {
	case http.MethodHead:
		return "HeadObject"
	case http.MethodGet:
		switch {
		case q.Has("tagging"):
			return "GetObjectTagging"
		case q.Has("uploadId"):
			return "ListParts"
		case q.Has("attributes"):
			return "GetObjectAttributes"
		case q.Has("acl") || q.Has("retention") || q.Has("legal-hold") || q.Has("torrent"):
			return ""
		}
		return "GetObject"
	case http.MethodPut:
		switch {
		case q.Has("tagging"):
			return "PutObjectTagging"
		case q.Has("uploadId") && q.Has("partNumber"):
			if copySource {
				return "UploadPartCopy"
			}
			return "UploadPart"
		case q.Has("acl") || q.Has("retention") || q.Has("legal-hold") || q.Has("uploadId"):
			return ""
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return "CreateMultipartUpload"
		case q.Has("uploadId"):
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		switch {
		case q.Has("tagging"):
			return "DeleteObjectTagging"
		case q.Has("uploadId"):
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return ""
}

// onlyXID reports whether q has no parameter but the SDK's x-id.
func onlyXID(q url.Values) bool {
	for k := range q {
		if k != "x-id" {
			return false
		}
	}
	return true
}
