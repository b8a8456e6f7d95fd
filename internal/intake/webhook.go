package intake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	// (see CheckExposure).
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
// recognise as bearer, verbatim; both are accepted. The comparison takes
// the same time whatever the first differing byte; only the token's length
// can be learnt from timing.
func (h *Webhook) authorized(r *http.Request) bool {
	if h.Token == "" {
		return true
	}
	got := r.Header.Get("Authorization")
	if len(got) > len("Bearer ") && strings.EqualFold(got[:len("Bearer ")], "Bearer ") {
		got = got[len("Bearer "):] // the scheme is case-insensitive (RFC 9110)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.Token)) == 1
}

// Loopback reports whether the listen address (host:port) is reachable from
// this machine only: a loopback IP or "localhost". An empty host, 0.0.0.0,
// :: and any other name or address listen where other machines can connect.
func Loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckExposure refuses a webhook that would accept events from anyone
// who can reach listen: no token on an address other machines connect to.
// Events only name keys and ferry decides from the buckets' state, so a
// forged event cannot make it copy or delete what the rules and the
// source do not say; but anyone could fill the queue and make ferry send
// requests (and run up costs) at will. Listening there without a token is
// therefore a decision, allowUnauthenticated
// (run.webhook.allow_unauthenticated), for when a proxy or a network policy
// authenticates the senders instead.
func CheckExposure(listen, token string, allowUnauthenticated bool) error {
	if token != "" || allowUnauthenticated || Loopback(listen) {
		return nil
	}
	return fmt.Errorf("the webhook on %s would accept events from anyone who can reach it: "+
		"set a bearer token (FERRY_WEBHOOK_TOKEN, or run.webhook.token_env / run.webhook.token), "+
		"listen on 127.0.0.1, or set run.webhook.allow_unauthenticated: true if something else authenticates the senders", listen)
}
