package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/store"
)

// printer writes a run's results: text for people, JSON lines for scripts.
type printer struct {
	mu       sync.Mutex
	out, err io.Writer
	json     bool
	each     bool // print every object acted on, not only failures
	dryRun   bool
	tty      bool
	progLine bool // a progress line is on screen and must be cleared
}

func newPrinter(out, errOut io.Writer, asJSON, each, dryRun bool) *printer {
	return &printer{out: out, err: errOut, json: asJSON, each: each, dryRun: dryRun,
		tty: !asJSON && term.IsTerminal(int(os.Stderr.Fd()))}
}

type jsonItem struct {
	Action     string `json:"action"`
	Src        string `json:"src"`
	Key        string `json:"key"`
	VersionID  string `json:"version_id,omitempty"`
	Dst        string `json:"dst"`
	DstKey     string `json:"dst_key"`
	Bytes      int64  `json:"bytes"`
	Reason     string `json:"reason,omitempty"`
	ServerSide bool   `json:"server_side,omitempty"`
	Status     string `json:"status"` // done, planned, failed
	Error      string `json:"error,omitempty"`
	DryRun     bool   `json:"dry_run,omitempty"`
}

func (p *printer) item(it reconcile.Item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	status := "done"
	switch {
	case it.Err != nil:
		status = "failed"
	case p.dryRun:
		status = "planned"
	}
	if p.json {
		j := jsonItem{Action: it.Action.String(), Src: it.Src, Key: it.Key, VersionID: it.VersionID, Dst: it.Dst,
			DstKey: it.DstKey, Bytes: it.Bytes, Reason: it.Reason, ServerSide: it.ServerSide, Status: status, DryRun: p.dryRun}
		if it.Err != nil {
			j.Error = store.Reason(it.Err)
		}
		writeJSON(p.out, j)
		return
	}
	if it.Err == nil && !p.each {
		return
	}
	p.clearProgress()
	verb := it.Action.String()
	if p.dryRun {
		verb = "would " + verb
	}
	target := it.Dst + "/" + it.DstKey
	if it.Action == plan.Delete {
		fmt.Fprintf(p.out, "%s %s (%s)\n", verb, target, it.Reason)
	} else if it.Err != nil {
		fmt.Fprintf(p.err, "FAILED %s/%s -> %s: %s\n", it.Src, it.Key, target, store.Reason(it.Err))
	} else {
		fmt.Fprintf(p.out, "%s %s/%s -> %s (%s, %s)\n", verb, it.Src, it.Key, target, humanBytes(it.Bytes), it.Reason)
	}
}

// progress draws a status line on a terminal until the returned func is
// called. Off the terminal (pipes, CI logs) it prints nothing. frac, if
// set, tells how far the run is (done of total, in any unit; total 0:
// unknown), for an ETA.
func (p *printer) progress(st *reconcile.Stats, start time.Time, frac func() (done, total int64)) (stop func()) {
	if !p.tty {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				p.mu.Lock()
				p.clearProgress()
				p.mu.Unlock()
				return
			case <-t.C:
				el := time.Since(start).Seconds()
				b := st.BytesCopied.Load()
				p.mu.Lock()
				fmt.Fprintf(p.err, "\r\033[Klisted %d  copied %d (%s, %s/s)  in sync %d  failed %d%s",
					st.Listed.Load(), st.Copied.Load(), humanBytes(b), humanBytes(int64(float64(b)/el)),
					st.Skipped.Load(), st.Failed.Load(), eta(frac, el))
				p.progLine = true
				p.mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// eta formats "  42%  ETA 3m10s" from a run's progress, or "" when it is
// not known.
func eta(frac func() (done, total int64), elapsed float64) string {
	if frac == nil {
		return ""
	}
	done, total := frac()
	if total <= 0 || done <= 0 || done > total {
		return ""
	}
	left := time.Duration(elapsed * float64(total-done) / float64(done) * float64(time.Second))
	return fmt.Sprintf("  %d%%  ETA %s", 100*done/total, left.Round(time.Second))
}

func (p *printer) clearProgress() {
	if p.progLine {
		fmt.Fprint(p.err, "\r\033[K")
		p.progLine = false
	}
}

type jsonSummary struct {
	Summary     bool    `json:"summary"`
	DryRun      bool    `json:"dry_run"`
	Listed      int64   `json:"listed"`
	Copied      int64   `json:"copied"`
	BytesCopied int64   `json:"bytes_copied"`
	Skipped     int64   `json:"in_sync"`
	Deleted     int64   `json:"deleted"`
	Failed      int64   `json:"failed"`
	Filtered    int64   `json:"filtered,omitempty"`
	Seconds     float64 `json:"seconds"`
}

func (p *printer) summary(st *reconcile.Stats, took time.Duration, dryRun bool) {
	s := jsonSummary{Summary: true, DryRun: dryRun, Listed: st.Listed.Load(), Copied: st.Copied.Load(),
		BytesCopied: st.BytesCopied.Load(), Skipped: st.Skipped.Load(), Deleted: st.Deleted.Load(),
		Failed: st.Failed.Load(), Filtered: st.Filtered.Load(), Seconds: took.Seconds()}
	if p.json {
		writeJSON(p.out, s)
		return
	}
	copied := fmt.Sprintf("copied %d (%s)", s.Copied, humanBytes(s.BytesCopied))
	deleted := fmt.Sprintf("deleted %d", s.Deleted)
	if dryRun {
		copied = fmt.Sprintf("would copy %d (%s)", s.Copied, humanBytes(st.BytesPlanned.Load()))
		deleted = fmt.Sprintf("would delete %d", s.Deleted)
	}
	filtered := ""
	if s.Filtered > 0 {
		filtered = fmt.Sprintf(", filtered out %d", s.Filtered)
	}
	fmt.Fprintf(p.out, "%s, in sync %d, %s, failed %d%s; %d objects listed in %s\n",
		copied, s.Skipped, deleted, s.Failed, filtered, s.Listed, took.Round(time.Millisecond))
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	w.Write(b)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// parseSize reads sizes like 16MiB, 64M, 1GiB or plain bytes.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size (e.g. 16MiB)", s)
	}
	return n * mult, nil
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: no such directory", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}
