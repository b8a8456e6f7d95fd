package testbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Faults says what a FaultProxy does to the requests passing through it.
// The zero value forwards everything untouched.
type Faults struct {
	// Rate is the fraction of requests (0..1) that get a fault, split
	// evenly over the kinds enabled below. 0 forwards everything.
	Rate float64
	// Latency turns on kind "latency": this much extra delay before the
	// request is forwarded (0: kind off). The request then succeeds.
	Latency time.Duration
	// Resets turns on kind "reset": the client's connection is closed
	// without a response, with a TCP RST. Half of them before the request
	// is forwarded, half after the server answered (the server did the
	// work, the client never hears of it: a write happened that the client
	// will retry).
	Resets bool
	// ResetAfterOnly makes every reset happen after the server answered:
	// each one is a request done whose answer is lost.
	ResetAfterOnly bool
	// SlowDown turns on kind "slowdown": 503 SlowDown with S3's XML error
	// body, not forwarded.
	SlowDown bool
	// Errors turns on kind "error": 500 InternalError with S3's XML error
	// body, not forwarded.
	Errors bool
	// Ops, if not empty, limits the faults to requests of these S3
	// operations (names as Operation gives them: "PutObject",
	// "CompleteMultipartUpload", ...); the others pass untouched.
	Ops []string
	// Seed, when not 0, seeds the proxy's random source (math/rand/v2 PCG)
	// when it is made or given to Set, so a run draws the same sequence of
	// faults (which request gets which still depends on the order requests
	// arrive in). NewFaultProxy uses seed 1 when it is 0.
	Seed uint64
}

// AllFaults returns Faults with every kind on, at rate and with latency lat: the
// usual "everything that can go wrong" setting.
func AllFaults(rate float64, lat time.Duration) Faults {
	return Faults{Rate: rate, Latency: lat, Resets: true, SlowDown: true, Errors: true}
}

// Fault kinds, the keys of FaultStats.Faults.
const (
	FaultLatency  = "latency"
	FaultReset    = "reset"
	FaultSlowDown = "slowdown"
	FaultError    = "error"
)

func (f Faults) kinds() []string {
	var ks []string
	if f.Latency > 0 {
		ks = append(ks, FaultLatency)
	}
	if f.Resets {
		ks = append(ks, FaultReset)
	}
	if f.SlowDown {
		ks = append(ks, FaultSlowDown)
	}
	if f.Errors {
		ks = append(ks, FaultError)
	}
	return ks
}

// String is a short description for test logs: "10% latency=200ms reset slowdown error".
func (f Faults) String() string {
	ks := f.kinds()
	if f.Rate <= 0 || len(ks) == 0 {
		return "no faults"
	}
	for i, k := range ks {
		if k == FaultLatency {
			ks[i] = "latency=" + f.Latency.String()
		}
	}
	s := strconv.FormatFloat(f.Rate*100, 'g', 4, 64) + "% " + strings.Join(ks, " ")
	if len(f.Ops) > 0 {
		s += " on " + strings.Join(f.Ops, ",")
	}
	return s
}

// FaultStats are a FaultProxy's counts since it started.
type FaultStats struct {
	Requests int64            // S3 requests received (control paths excluded)
	Faults   map[string]int64 // faults injected, per kind (FaultLatency, ...)
	// ResetsAfter are the resets (of Faults[FaultReset]) made after the
	// server had answered: the server did the work, the client lost the answer.
	ResetsAfter int64
	Ops         map[string]int64 // requests per S3 operation (see Operation)
	OpFaults    map[string]int64 // faults per S3 operation, latency excluded
	// Cut is the number of connections cut by Down.
	Cut int64
}

// Injected is the number of faults of every kind.
func (s FaultStats) Injected() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// String formats the stats for test logs.
func (s FaultStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d faults (", s.Requests, s.Injected())
	for i, k := range []string{FaultLatency, FaultReset, FaultSlowDown, FaultError} {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, s.Faults[k])
	}
	fmt.Fprintf(&b, ", %d resets after the server answered)", s.ResetsAfter)
	if s.Cut > 0 {
		fmt.Fprintf(&b, ", %d connections cut", s.Cut)
	}
	b.WriteString("; ops:")
	for _, op := range sortedKeys(s.Ops) {
		fmt.Fprintf(&b, " %s=%d", op, s.Ops[op])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FaultsPath, on a FaultProxy, is answered by the proxy itself and never
// forwarded (bucket names cannot contain '_'): GET returns the FaultStats
// as JSON, PUT sets the Faults from a JSON body (the field names of
// Faults; Latency in nanoseconds or as a string like "200ms"). DownPath:
// POST ?for=DURATION takes the proxy down for that long (cmd/s3fault).
const (
	FaultsPath = "/__faults"
	DownPath   = "/__down"
)

// FaultProxy is a reverse proxy in front of one S3 server that injects
// faults: latency, connection resets, 503 SlowDown, 500 InternalError, at a
// configurable rate; and that can be taken down (connection refused) and
// brought up again on the same port. Tests put one in front of a server to
// prove that ferry backs off, retries and still copies everything exactly
// once.
//
// Like CountingProxy it forwards each request with the client's Host header
// (SigV4 stays valid), streams bodies both ways and understands path-style
// addressing only. It also tracks object writes (PutObject, CopyObject,
// CompleteMultipartUpload) per bucket/key, to tell a retried write whose
// answer was lost from a duplicate copy of a replica already complete.
type FaultProxy struct {
	target *url.URL
	rp     *httputil.ReverseProxy

	mu     sync.Mutex
	faults Faults
	kinds  []string
	ops    map[string]bool // Faults.Ops; nil: all
	rng    *mrand.Rand
	stats  FaultStats
	done   map[string]int      // bucket/key -> successful writes delivered
	again  map[string]struct{} // keys written after a delivered success

	addr  string // host:port, kept across Down/Up
	srv   *http.Server
	conns map[net.Conn]struct{} // hijacked or active connections, cut by Down
	downT *time.Timer
	t     testing.TB // for errors of Down(false); nil in programs
}

// NewFaultProxy starts a FaultProxy for target (an S3 endpoint URL such as
// http://127.0.0.1:19000) on 127.0.0.1 with faults f, and closes it when
// the test ends.
func NewFaultProxy(t testing.TB, target string, f Faults) *FaultProxy {
	t.Helper()
	p, err := StartFaultProxy(target, "127.0.0.1:0", f)
	if err != nil {
		t.Fatalf("fault proxy: %v", err)
	}
	p.t = t
	t.Cleanup(p.Close)
	return p
}

// StartFaultProxy is NewFaultProxy for programs (cmd/s3fault): it listens
// on listen (host:port, port 0 for any) until Close.
func StartFaultProxy(target, listen string, f Faults) (*FaultProxy, error) {
	rp, u, err := s3ReverseProxy(target)
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{target: u, done: map[string]int{}, again: map[string]struct{}{}, conns: map[net.Conn]struct{}{}, rp: rp}
	p.stats = FaultStats{Faults: map[string]int64{}, Ops: map[string]int64{}, OpFaults: map[string]int64{}}
	// The client went away (Down, or it gave up): nothing to answer.
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() == nil {
			w.WriteHeader(http.StatusBadGateway)
		}
	}
	rp.ErrorLog = discardLog
	if f.Seed == 0 {
		f.Seed = 1
	}
	p.Set(f)
	p.addr = listen
	if err := p.up(); err != nil {
		return nil, err
	}
	return p, nil
}

// URL returns the proxy's base URL, http://127.0.0.1:PORT. It stays the
// same across Down and Up.
func (p *FaultProxy) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

// Target returns the URL of the S3 server the proxy forwards to.
func (p *FaultProxy) Target() string { return p.target.String() }

// Set changes the faults from now on. A non-zero Seed re-seeds the random
// source.
func (p *FaultProxy) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Seed != 0 {
		p.rng = mrand.New(mrand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
	p.faults = f
	p.kinds = f.kinds()
	p.ops = nil
	if len(f.Ops) > 0 {
		p.ops = map[string]bool{}
		for _, op := range f.Ops {
			p.ops[op] = true
		}
	}
}

// Faults returns the faults in force.
func (p *FaultProxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Down takes the proxy down (true): its listener is closed, so new
// connections are refused as by a stopped server, and every open
// connection is cut (requests in flight to the server are cancelled).
// Down(false) listens again on the same port. Either is a no-op when the
// proxy is already in that state.
func (p *FaultProxy) Down(down bool) {
	if down {
		p.down()
		return
	}
	if err := p.up(); err != nil {
		if p.t != nil {
			p.t.Errorf("fault proxy: up again on %s: %v", p.addr, err)
		} else {
			fmt.Fprintf(os.Stderr, "fault proxy: up again on %s: %v\n", p.addr, err)
		}
	}
}

// DownFor takes the proxy down now and up again after d (cmd/s3fault).
func (p *FaultProxy) DownFor(d time.Duration) {
	p.down()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.downT != nil {
		p.downT.Stop()
	}
	p.downT = time.AfterFunc(d, func() { p.Down(false) })
}

// IsDown reports whether the proxy is down.
func (p *FaultProxy) IsDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.srv == nil
}

func (p *FaultProxy) up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	// The port was ours a moment ago; a connection of the last life in
	// TIME_WAIT does not stop a listener, but retry briefly anyway.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: time.Minute, ErrorLog: discardLog,
		ConnState: p.track}
	go p.srv.Serve(ln)
	return nil
}

func (p *FaultProxy) down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	clear(p.conns)
	p.stats.Cut += int64(len(conns))
	p.mu.Unlock()
	if srv == nil {
		return
	}
	for _, c := range conns {
		reset(c) // an RST, as from a server that died
	}
	srv.Close() // the listener, and anything that connected meanwhile
}

// track keeps the open connections, for Down to cut.
func (p *FaultProxy) track(c net.Conn, s http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s {
	case http.StateNew:
		p.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		// Hijacked connections are closed by the handler itself.
		delete(p.conns, c)
	}
}

// Close stops the proxy for good.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	if p.downT != nil {
		p.downT.Stop()
	}
	p.mu.Unlock()
	p.down()
}

// Stats returns a copy of the counts so far.
func (p *FaultProxy) Stats() FaultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Faults = cloneMap(s.Faults)
	s.Ops = cloneMap(s.Ops)
	s.OpFaults = cloneMap(s.OpFaults)
	return s
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// WritesAfterDone lists, sorted, the bucket/key of every object written
// again (a PutObject, CopyObject or CompleteMultipartUpload request
// received, whatever its fate) after a successful write of the same key had
// been delivered to the client: a duplicate copy of a replica that was
// already complete. A retry after a lost answer (a reset after the server
// answered) is not one.
func (p *FaultProxy) WritesAfterDone() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.again))
	for k := range p.again {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Written returns bucket/key -> successful writes delivered to the client.
func (p *FaultProxy) Written() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneMap(p.done)
}

// ResetWrites forgets the writes tracked so far (for a test that writes
// through the proxy itself before the part it measures).
func (p *FaultProxy) ResetWrites() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.done)
	clear(p.again)
}

var writeOps = map[string]bool{"PutObject": true, "CopyObject": true, "CompleteMultipartUpload": true}

// ServeHTTP decides the request's fate and forwards it, or not.
func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case FaultsPath:
		p.control(w, r)
		return
	case DownPath:
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if r.Method != http.MethodPost || err != nil || d <= 0 {
			http.Error(w, "POST "+DownPath+"?for=DURATION", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		go p.DownFor(d)
		return
	}
	op := Operation(r.Method, r.URL.Path, r.URL.Query(), r.Header)
	obj := strings.TrimPrefix(r.URL.Path, "/")
	write := writeOps[op]

	p.mu.Lock()
	p.stats.Requests++
	p.stats.Ops[op]++
	kind, after := "", false
	if len(p.kinds) > 0 && (p.ops == nil || p.ops[op]) && p.rng.Float64() < p.faults.Rate {
		kind = p.kinds[p.rng.IntN(len(p.kinds))]
		after = kind == FaultReset && (p.faults.ResetAfterOnly || p.rng.IntN(2) == 1)
		p.stats.Faults[kind]++
		if kind != FaultLatency {
			p.stats.OpFaults[op]++
		}
		if after {
			p.stats.ResetsAfter++
		}
	}
	latency := p.faults.Latency
	if write && p.done[obj] > 0 {
		p.again[obj] = struct{}{}
	}
	p.mu.Unlock()

	switch kind {
	case FaultLatency:
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	case FaultSlowDown:
		p.s3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case FaultError:
		p.s3Error(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case FaultReset:
		if after {
			// The server does the work; its answer is read and thrown away.
			d := &discardWriter{h: http.Header{}}
			p.rp.ServeHTTP(d, r)
		}
		hijackReset(w)
		return
	}
	if !write {
		p.rp.ServeHTTP(w, r)
		return
	}
	// A write's answer is held until it is counted: the client must not
	// see a success (and send its next write) before WritesAfterDone
	// knows of it. Write answers are a few hundred bytes.
	rec := &heldWriter{h: http.Header{}}
	p.rp.ServeHTTP(rec, r)
	ok := rec.succeeded() && r.Context().Err() == nil
	if ok {
		p.mu.Lock()
		p.done[obj]++
		p.mu.Unlock()
	}
	if rec.status == 0 {
		return // the client went away: nothing to answer
	}
	for k, v := range rec.h {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	if _, err := w.Write(rec.body.Bytes()); err != nil && ok {
		p.mu.Lock()
		p.done[obj]-- // the client never heard of it
		p.mu.Unlock()
	}
}

// s3Error answers as S3 does: the XML error document (none for HEAD), with
// request ids in the body and the headers.
func (p *FaultProxy) s3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	id := requestID()
	h := w.Header()
	h.Set("x-amz-request-id", id)
	h.Set("x-amz-id-2", hostID)
	h.Set("Server", "AmazonS3")
	// Answering before the body is read: tell the client this connection
	// ends, as S3 does, so it does not send the rest of a large body on it.
	if r.ContentLength != 0 {
		h.Set("Connection", "close")
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
		"<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>%s</RequestId><HostId>%s</HostId></Error>",
		code, msg, xmlEscape(r.URL.Path), id, hostID)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// control serves FaultsPath.
func (p *FaultProxy) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Stats())
	case http.MethodPut:
		var in struct {
			Faults
			Latency json.RawMessage
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := in.Faults
		if len(in.Latency) > 0 {
			var err error
			if f.Latency, err = parseLatency(in.Latency); err != nil {
				http.Error(w, "Latency: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if f.Rate < 0 || f.Rate > 1 {
			http.Error(w, "Rate: want 0..1", http.StatusBadRequest)
			return
		}
		p.Set(f)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "use GET or PUT", http.StatusMethodNotAllowed)
	}
}

func parseLatency(raw json.RawMessage) (time.Duration, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return time.ParseDuration(s)
	}
	var n int64
	err := json.Unmarshal(raw, &n)
	return time.Duration(n), err
}

const hostID = "ZmVycnktZmF1bHQtcHJveHk="

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// hijackReset takes the client's connection from the HTTP server and
// closes it with a TCP RST: the client gets "connection reset by peer" (or
// EOF), no response.
func hijackReset(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // not hijackable: abort, which closes it too
	}
	reset(c)
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// discardWriter is the client's side of a request whose answer is lost.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(status int)      { d.status = status }
func (d *discardWriter) Flush()                      {}

// recordWriter notes the status and the start of the body of a write's
// answer: CompleteMultipartUpload and CopyObject may answer 200 with an
// <Error> document.
// heldWriter keeps a response instead of sending it.
type heldWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *heldWriter) Header() http.Header { return r.h }

func (r *heldWriter) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *heldWriter) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *heldWriter) Flush() {} // held: nothing goes out before the end

func (r *heldWriter) succeeded() bool {
	// CompleteMultipartUpload can fail with 200 and an <Error> body.
	return r.status == http.StatusOK && !bytes.Contains(r.body.Bytes(), []byte("<Error>"))
}

// discardLog silences the HTTP server's and the reverse proxy's logs:
// cut connections are the point here, not news.
var discardLog = log.New(io.Discard, "", 0)
