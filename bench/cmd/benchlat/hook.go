package main

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

// hookServer receives a server's webhook notifications. Without forward it
// answers them itself (hook mode: the event's arrival is the measurement);
// with forward it relays each post to the receiver (ferry's /events) and
// records when the receiver answered.
type hookServer struct {
	token   string // required bearer token ("": any); relays leave it to the receiver
	forward string
	bucket  string
	tr      *tracker
	onKey   func(key string) // every key of the bucket, as its event arrives
	client  http.Client
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost {
		// MinIO probes its target with a HEAD or GET before using it.
		w.WriteHeader(http.StatusOK)
		return
	}
	if h.token != "" {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	evs, _ := event.Parse(body) // a relay forwards even what it cannot read
	var keys []string
	for _, ev := range evs {
		if ev.Bucket != h.bucket {
			continue
		}
		keys = append(keys, ev.Key)
		if h.forward == "" {
			h.tr.markSeen(ev.Key, at)
		} else {
			h.tr.markHook(ev.Key, at)
		}
		if h.onKey != nil {
			h.onKey(ev.Key)
		}
	}
	if h.forward == "" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}\n")
		return
	}

	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, h.forward, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, k := range []string{"Authorization", "Content-Type"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		http.Error(w, "relay: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	acked := time.Now()
	if resp.StatusCode/100 == 2 {
		for _, k := range keys {
			h.tr.markAcked(k, acked)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}
