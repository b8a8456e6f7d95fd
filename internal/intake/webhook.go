package intake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ferry-s3/ferry/internal/event"
)

// Enqueuer stores events durably; Add returns only once they are.
type Enqueuer interface {
	Add(ctx context.Context, evs []event.Event) error
}

// Webhook is the HTTP intake (POST /events) for MinIO, Ceph RGW and
// versitygw notification targets. It answers 2xx only after the events
// are durably queued, so a sender that gets no 2xx (ferry down, disk full)
// keeps the events and sends them again.
type Webhook struct {
	// Token is the bearer token senders must present; "" accepts anyone
	// (the daemon warns about it at start).
	Token string
	Queue Enqueuer
	// Accept filters events (e.g. the source bucket only); nil accepts all.
	Accept func(event.Event) bool
	Log    *slog.Logger
}

// MaxBody bounds a notification's size; MinIO and Ceph send one record per
// request, AWS at most a few hundred.
const MaxBody = 8 << 20

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodHead, http.MethodGet:
		// Senders probe the target before using it (MinIO checks that
		// it is reachable); answer without looking at anything.
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.Header().Set("Allow", "POST, HEAD")
		http.Error(w, "method not allowed: POST S3 event notifications here", http.StatusMethodNotAllowed)
		return
	}
	if !h.authorized(r) {
		h.Log.Warn("webhook: request refused: missing or wrong bearer token", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="ferry"`)
		http.Error(w, "unauthorized: send Authorization: Bearer <token>", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.Log.Warn("webhook: body too large", "remote", r.RemoteAddr, "limit", MaxBody)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	evs, err := event.Parse(body)
	if err != nil {
		h.Log.Warn("webhook: malformed event refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "malformed event: "+err.Error(), http.StatusBadRequest)
		return
	}
	kept := evs[:0]
	for _, ev := range evs {
		if h.Accept == nil || h.Accept(ev) {
			kept = append(kept, ev)
		} else {
			h.Log.Warn("webhook: event ignored: not the configured source bucket", "bucket", ev.Bucket, "key", ev.Key)
		}
	}
	if len(kept) > 0 {
		if err := h.Queue.Add(r.Context(), kept); err != nil {
			// No 2xx: the sender keeps the events and retries.
			h.Log.Error("webhook: could not queue events", "err", err, "events", len(kept))
			http.Error(w, "could not queue the events; try again", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int{"queued": len(kept)})
}

// authorized checks the bearer token in constant time. MinIO sends the
// configured auth_token as "Bearer <token>" or, for tokens it does not
// recognise as bearer, verbatim; both are accepted.
func (h *Webhook) authorized(r *http.Request) bool {
	if h.Token == "" {
		return true
	}
	got := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(got, "Bearer "); ok {
		got = t
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.Token)) == 1
}
