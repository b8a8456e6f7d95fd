package testbed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// CloudFront is an in-memory CloudFront API server for tests, for the two
// operations ferry's deploy uses:
//
//	CreateInvalidation  POST /2020-05-31/distribution/{Id}/invalidation
//	GetInvalidation     GET  /2020-05-31/distribution/{Id}/invalidation/{InvId}
//
// in the REST-XML protocol of current SDKs. There is no CloudFront to run
// locally, so this one stands in for it, with CloudFront's semantics where
// ferry relies on them: a caller reference sent again with the same paths
// returns the invalidation made the first time, with other paths it is
// refused (409 InvalidationBatchAlreadyExists); a batch must have as many
// Paths Items as its Quantity says (InconsistentQuantities), at most 3,000
// paths (BatchTooLarge), paths that start with '/', are URL-encoded and
// have '*' only at their end (InvalidArgument); a distribution may have at
// most 3,000 file paths and 15 wildcard paths in progress
// (TooManyInvalidationsInProgress); an unknown distribution is 404
// NoSuchDistribution. An invalidation is InProgress until its n-th
// GetInvalidation (CompleteAfter), which answers Completed.
//
// Every request must carry a valid SigV4 signature (service cloudfront,
// region us-east-1, as CloudFront is signed whatever the caller's region)
// by AccessKey/SecretKey. A request that fails the check, is not the
// XML the SDK sends, or calls an operation the fake lacks, fails the test.
type CloudFront struct {
	fakeServer
	mux *http.ServeMux

	dists         map[string][]*cfInvalidation // by distribution id, in creation order
	fails         []cfFailure
	completeAfter int
}

// CloudFrontInvalidation is an invalidation the fake created.
type CloudFrontInvalidation struct {
	ID              string
	CallerReference string
	Paths           []string // as sent
	Status          string   // InProgress or Completed
	CreateTime      time.Time
}

type cfInvalidation struct {
	CloudFrontInvalidation
	polls, completeAfter int
}

type cfFailure struct {
	code   string
	status int
}

// cloudFrontRegion is the region CloudFront requests are signed for. It is
// also the bed's Region, which checkSigV4 checks.
const cloudFrontRegion = Region

const cloudFrontNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// NewCloudFront starts a CloudFront server on 127.0.0.1 for the test; it
// stops at the end of the test. It knows no distribution until
// AddDistribution.
func NewCloudFront(t testing.TB) *CloudFront {
	t.Helper()
	s := &CloudFront{
		dists:         map[string][]*cfInvalidation{},
		completeAfter: 2,
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /2020-05-31/distribution/{id}/invalidation", s.createInvalidation)
	s.mux.HandleFunc("GET /2020-05-31/distribution/{id}/invalidation/{inv}", s.getInvalidation)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.t.Errorf("fake CloudFront: %s %s is not implemented", r.Method, r.URL.Path)
		writeCFError(w, http.StatusNotImplemented, "NotImplemented", "fake CloudFront: "+r.Method+" "+r.URL.Path+" is not implemented")
	})
	s.start(t, "cloudfront", s)
	return s
}

// Client returns an SDK client for the fake, with its credentials and a
// retryer that backs off for milliseconds instead of seconds (otherwise
// the SDK's standard one: 3 attempts, Throttling retried).
func (s *CloudFront) Client() *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{
		Region:       cloudFrontRegion,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  s.creds(),
		HTTPClient:   awshttp.NewBuildableClient(),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return 5 * time.Millisecond, nil
			})
		}),
	})
}

// AddDistribution makes a distribution with this id exist.
func (s *CloudFront) AddDistribution(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dists[id]; !ok {
		s.dists[id] = []*cfInvalidation{}
	}
}

// FailNext makes the next n requests, whatever their operation, fail with
// an error code (e.g. "Throttling", 400) before they do anything.
// Failures queue up behind those already set.
func (s *CloudFront) FailNext(code string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, cfFailure{code, status})
	}
}

// CompleteAfter makes the invalidations created from now on answer
// Completed from their polls-th GetInvalidation on (default 2; 1 means
// the first).
func (s *CloudFront) CompleteAfter(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completeAfter = max(polls, 1)
}

// Backdate moves an invalidation's CreateTime d into the past, as if it
// had been made by an earlier deploy.
func (s *CloudFront) Backdate(distributionID, invalidationID string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inv := range s.dists[distributionID] {
		if inv.ID == invalidationID {
			inv.CreateTime = inv.CreateTime.Add(-d)
			return
		}
	}
	s.t.Errorf("fake CloudFront: Backdate: distribution %s has no invalidation %s", distributionID, invalidationID)
}

// Invalidations returns the invalidations created in a distribution, in
// creation order; a caller reference sent again does not add one.
func (s *CloudFront) Invalidations(distributionID string) []CloudFrontInvalidation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CloudFrontInvalidation
	for _, inv := range s.dists[distributionID] {
		c := inv.CloudFrontInvalidation
		c.Paths = slices.Clone(c.Paths)
		out = append(out, c)
	}
	return out
}

func (s *CloudFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := checkSigV4(r, body, "cloudfront", s.AccessKey, s.SecretKey); err != nil {
		s.t.Errorf("fake CloudFront: bad request: %v", err)
		writeCFError(w, http.StatusForbidden, "SignatureDoesNotMatch", err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, r)
}

// begin counts a request of op and answers it with the next injected
// failure, if any; it reports whether the request may go on.
func (s *CloudFront) begin(w http.ResponseWriter, op string) bool {
	s.mu.Lock()
	s.calls[op]++
	var f *cfFailure
	if len(s.fails) > 0 {
		f = &s.fails[0]
		s.fails = s.fails[1:]
	}
	s.mu.Unlock()
	if f != nil {
		writeCFError(w, f.status, f.code, "fake CloudFront: injected "+f.code)
		return false
	}
	return true
}

// cfBatch is the InvalidationBatch document of CreateInvalidation.
type cfBatch struct {
	XMLName         xml.Name `xml:"InvalidationBatch"`
	CallerReference string
	Paths           struct {
		Quantity *int
		Items    struct {
			Path []string
		}
	}
}

func (s *CloudFront) createInvalidation(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, "CreateInvalidation") {
		return
	}
	dist := r.PathValue("id")
	if ct := r.Header.Get("Content-Type"); ct != "application/xml" {
		s.t.Errorf("fake CloudFront: CreateInvalidation: Content-Type %q, want application/xml", ct)
	}
	body, _ := io.ReadAll(r.Body)
	var b cfBatch
	if err := xml.Unmarshal(body, &b); err != nil || b.XMLName.Space != cloudFrontNS {
		s.t.Errorf("fake CloudFront: CreateInvalidation: not an InvalidationBatch in %s (%v): %s", cloudFrontNS, err, body)
		writeCFError(w, http.StatusBadRequest, "MalformedXML", "The XML document you provided was not well-formed or did not validate against our published schema.")
		return
	}
	items := b.Paths.Items.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	invs, ok := s.dists[dist]
	switch {
	case !ok:
		writeCFError(w, http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
		return
	case b.CallerReference == "":
		writeCFError(w, http.StatusBadRequest, "InvalidArgument", "CallerReference is required.")
		return
	case b.Paths.Quantity == nil || *b.Paths.Quantity != len(items):
		writeCFError(w, http.StatusBadRequest, "InconsistentQuantities", "The value of Quantity and the size of Items don't match.")
		return
	case len(items) == 0:
		writeCFError(w, http.StatusBadRequest, "InvalidArgument", "Your request contains no invalidation paths.")
		return
	case len(items) > 3000:
		writeCFError(w, http.StatusRequestEntityTooLarge, "BatchTooLarge", "Invalidation batch specified is too large.")
		return
	}
	for _, p := range items {
		if !validCFPath(p) {
			writeCFError(w, http.StatusBadRequest, "InvalidArgument", "Your request contains one or more invalid invalidation paths.")
			return
		}
	}
	for _, inv := range invs {
		if inv.CallerReference != b.CallerReference {
			continue
		}
		if !cfSamePaths(inv.Paths, items) {
			writeCFError(w, http.StatusConflict, "InvalidationBatchAlreadyExists", "Invalidation batch specified in the request already exists.")
			return
		}
		s.writeInvalidation(w, http.StatusCreated, dist, inv)
		return
	}
	files, stars := 0, 0
	for _, inv := range invs {
		if inv.Status != "Completed" {
			f, st := cfCountPaths(inv.Paths)
			files, stars = files+f, stars+st
		}
	}
	if f, st := cfCountPaths(items); files+f > 3000 || stars+st > 15 {
		writeCFError(w, http.StatusBadRequest, "TooManyInvalidationsInProgress",
			"Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.")
		return
	}
	inv := &cfInvalidation{
		CloudFrontInvalidation: CloudFrontInvalidation{
			ID:              "I" + strings.ToUpper(randomHex(7))[:13],
			CallerReference: b.CallerReference,
			Paths:           slices.Clone(items),
			Status:          "InProgress",
			CreateTime:      time.Now().UTC(),
		},
		completeAfter: s.completeAfter,
	}
	s.dists[dist] = append(invs, inv)
	s.writeInvalidation(w, http.StatusCreated, dist, inv)
}

func (s *CloudFront) getInvalidation(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, "GetInvalidation") {
		return
	}
	dist, id := r.PathValue("id"), r.PathValue("inv")
	s.mu.Lock()
	defer s.mu.Unlock()
	invs, ok := s.dists[dist]
	if !ok {
		writeCFError(w, http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
		return
	}
	for _, inv := range invs {
		if inv.ID == id {
			inv.polls++
			if inv.polls >= inv.completeAfter {
				inv.Status = "Completed"
			}
			s.writeInvalidation(w, http.StatusOK, dist, inv)
			return
		}
	}
	writeCFError(w, http.StatusNotFound, "NoSuchInvalidation", "The specified invalidation does not exist.")
}

// cfInvalidationXML is CloudFront's Invalidation document.
type cfInvalidationXML struct {
	XMLName           xml.Name `xml:"http://cloudfront.amazonaws.com/doc/2020-05-31/ Invalidation"`
	Id                string
	Status            string
	CreateTime        string
	InvalidationBatch struct {
		Paths struct {
			Quantity int
			Items    struct {
				Path []string
			}
		}
		CallerReference string
	}
}

// writeInvalidation answers with inv; s.mu is held.
func (s *CloudFront) writeInvalidation(w http.ResponseWriter, status int, dist string, inv *cfInvalidation) {
	var x cfInvalidationXML
	x.Id, x.Status = inv.ID, inv.Status
	x.CreateTime = inv.CreateTime.UTC().Format("2006-01-02T15:04:05.000Z")
	x.InvalidationBatch.CallerReference = inv.CallerReference
	x.InvalidationBatch.Paths.Quantity = len(inv.Paths)
	x.InvalidationBatch.Paths.Items.Path = inv.Paths
	b, err := xml.Marshal(x)
	if err != nil {
		s.t.Errorf("fake CloudFront: %v", err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", s.URL+"/2020-05-31/distribution/"+dist+"/invalidation/"+inv.ID)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amz-Request-Id", randomHex(16))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(b)
}

func writeCFError(w http.ResponseWriter, status int, code, msg string) {
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	id := randomHex(16)
	var m bytes.Buffer
	xml.EscapeText(&m, []byte(msg))
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	fmt.Fprintf(w, `%s<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xml.Header, cloudFrontNS, kind, code, m.String(), id)
}

// validCFPath reports whether CloudFront takes p as an invalidation path:
// it starts with '/', has '*' at most at its end, and is URL-encoded
// (no space, control, non-ASCII or RFC 1738 unsafe character; '%' only
// before two hex digits).
func validCFPath(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > 4000 {
		return false
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !cfIsHex(p[i+1]) || !cfIsHex(p[i+2]) {
				return false
			}
		case c <= 0x20 || c >= 0x7f || strings.IndexByte("\"#<>{}|\\^~[]`", c) >= 0:
			return false
		}
	}
	return true
}

func cfIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// cfCountPaths counts file and wildcard paths, which CloudFront limits apart.
func cfCountPaths(paths []string) (files, wildcards int) {
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			wildcards++
		} else {
			files++
		}
	}
	return files, wildcards
}

func cfSamePaths(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
