package page

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// maxRetryBody bounds a retry request body: three fields, each at most an
// S3 key (1,024 bytes), fit many times over.
const maxRetryBody = 64 << 10

// Handler serves the status page of b:
//
//	GET  /            the page
//	GET  /api/status  the Snapshot as JSON
//	POST /api/retry   re-queue FAILED operations; form or JSON fields rule,
//	                  prefix, key (all empty: every one); answers {"requeued": n}
//
// Other methods get 405, other paths 404. The page links to its API with
// relative URLs, so the handler can be mounted under a prefix with
// http.StripPrefix.
func Handler(b Backend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, log: log, crossOrigin: http.NewCrossOriginProtection()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("GET /api/status", h.status)
	mux.HandleFunc("POST /api/retry", h.retry)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every answer is live data: never cache it, never sniff it.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

type handler struct {
	b   Backend
	log *slog.Logger
	// crossOrigin refuses requests that a browser sends on behalf of
	// another site (by Sec-Fetch-Site, or for older browsers Origin against
	// Host), so that a page elsewhere cannot make an operator's browser
	// re-queue work. Clients that send neither header, such as curl, are
	// not browsers and pass.
	crossOrigin *http.CrossOriginProtection
}

// page renders the HTML page. A backend error still renders the page, with
// an error banner instead of the data, so that the open page keeps
// refreshing and recovers by itself once the backend does.
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	snap, err := h.b.Snapshot(r.Context())
	if err != nil {
		h.log.Warn("status page: snapshot", "err", err)
		status = http.StatusInternalServerError
	}
	var buf bytes.Buffer
	if err := render(&buf, newView(snap, err, time.Now())); err != nil {
		h.log.Error("status page: render", "err", err)
		http.Error(w, "render status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	snap, err := h.b.Snapshot(r.Context())
	if err != nil {
		h.log.Warn("status api: snapshot", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, normalize(snap))
}

func (h *handler) retry(w http.ResponseWriter, r *http.Request) {
	if err := h.crossOrigin.Check(r); err != nil {
		h.log.Warn("retry refused", "err", err, "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "host", r.Host)
		writeError(w, http.StatusForbidden, "cross-origin retry refused: send it from the status page itself, "+
			"or without Origin and Sec-Fetch-Site headers ("+err.Error()+")")
		return
	}
	f, err := decodeFilter(w, r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errUnsupportedBody) {
			status = http.StatusUnsupportedMediaType
		}
		writeError(w, status, err.Error())
		return
	}
	n, err := h.b.Retry(r.Context(), f)
	if err != nil {
		h.log.Error("retry", "rule", f.Rule, "prefix", f.Prefix, "key", f.Key, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h.log.Info("retry", "rule", f.Rule, "prefix", f.Prefix, "key", f.Key, "requeued", n)
	writeJSON(w, http.StatusOK, struct {
		Requeued int `json:"requeued"`
	}{n})
}

var errUnsupportedBody = errors.New("send the fields as a form (application/x-www-form-urlencoded or multipart/form-data) or as application/json")

// decodeFilter reads the filter from a JSON body, or else from form fields
// (URL-encoded or multipart body, or the query string). Unknown and
// repeated fields are errors rather than ignored: an empty filter means
// "every FAILED operation", so a misspelt field must not widen a retry to
// all of them.
func decodeFilter(w http.ResponseWriter, r *http.Request) (Filter, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRetryBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/json":
		return decodeJSONFilter(r.Body)
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxRetryBody)
	case "":
		if r.ContentLength != 0 {
			return Filter{}, errUnsupportedBody
		}
		err = r.ParseForm() // the query string only
	default:
		// A body that would go unread: its fields must not turn into
		// "every FAILED operation".
		return Filter{}, errUnsupportedBody
	}
	if err != nil {
		return Filter{}, fmt.Errorf("parse form: %w", err)
	}
	return filterFromForm(r.Form)
}

func decodeJSONFilter(body io.Reader) (Filter, error) {
	var f Filter
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Filter{}, fmt.Errorf("decode JSON body: %w", err)
	}
	if dec.More() {
		return Filter{}, errors.New("decode JSON body: more than one value")
	}
	return f, nil
}

func filterFromForm(form url.Values) (Filter, error) {
	var f Filter
	for name, values := range form {
		if len(values) != 1 {
			return Filter{}, fmt.Errorf("field %q given %d times", name, len(values))
		}
		switch name {
		case "rule":
			f.Rule = values[0]
		case "prefix":
			f.Prefix = values[0]
		case "key":
			f.Key = values[0]
		default:
			return Filter{}, fmt.Errorf("unknown field %q (want rule, prefix, key)", name)
		}
	}
	return f, nil
}

// normalize makes a snapshot safe and regular for JSON: empty lists instead
// of null, and no NaN or infinity, which JSON cannot carry.
func normalize(s Snapshot) Snapshot {
	if s.Rules == nil {
		s.Rules = []Rule{}
	}
	if s.Latency == nil {
		s.Latency = []Point{}
	}
	if s.Failures == nil {
		s.Failures = []Failure{}
	}
	if math.IsNaN(s.BytesPerSecond) || math.IsInf(s.BytesPerSecond, 0) {
		s.BytesPerSecond = 0
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode JSON: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
