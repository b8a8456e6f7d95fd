package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// values; NaN for none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	r := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// dist is the distribution of a set of durations, in ms.
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func distOf(v []float64) dist {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	d := dist{N: len(s)}
	if len(s) > 0 {
		d.P50, d.P95, d.P99, d.Max = round(percentile(s, 50)), round(percentile(s, 95)), round(percentile(s, 99)), round(s[len(s)-1])
	}
	return d
}

// round keeps a tenth of a millisecond.
func round(ms float64) float64 { return math.Round(ms*10) / 10 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencies are the measured objects' latencies in ms: arrival minus PUT
// answer. An object that never arrived counts as the time waited for it
// (a lower bound), so missing objects push the high percentiles up instead
// of vanishing. Objects whose PUT failed are left out.
func (r *result) latencies() (lat []float64, missing, early int) {
	for _, s := range r.samples {
		if s.putErr || s.put.IsZero() {
			continue
		}
		arrived := s.seen
		if arrived.IsZero() {
			missing++
			arrived = r.giveUp
		}
		d := arrived.Sub(s.put)
		if d < 0 {
			early++
		}
		lat = append(lat, ms(d))
	}
	return lat, missing, early
}

// stages split the relay's latencies: PUT answered -> event at the relay,
// event -> receiver's 2xx, 2xx -> seen at the destination. Only objects
// with all three times count.
func (r *result) stages() map[string]dist {
	var ev, enq, rest []float64
	for _, s := range r.samples {
		if s.putErr || s.put.IsZero() || s.hook.IsZero() || s.acked.IsZero() || s.seen.IsZero() {
			continue
		}
		ev = append(ev, ms(s.hook.Sub(s.put)))
		enq = append(enq, ms(s.acked.Sub(s.hook)))
		rest = append(rest, ms(s.seen.Sub(s.acked)))
	}
	if len(ev) == 0 {
		return nil
	}
	return map[string]dist{"put_to_event": distOf(ev), "event_to_queued": distOf(enq), "queued_to_seen": distOf(rest)}
}

// line is one measurement, in bench/cmd/benchreport's input format.
type line struct {
	Case         string  `json:"case"`
	Title        string  `json:"title,omitempty"`
	Tool         string  `json:"tool"`
	Run          int     `json:"run,omitempty"`
	Metric       string  `json:"metric"`
	Value        float64 `json:"value"`
	HigherBetter bool    `json:"higher_better"`
	Note         string  `json:"note,omitempty"`
}

// lines are the run's p50, p95 and p99. The note is the caller's, plus
// what went wrong in this run, if anything.
func (r *result) lines(o options) []line {
	lat, missing, _ := r.latencies()
	d := distOf(lat)
	var notes []string
	if o.note != "" {
		notes = append(notes, o.note)
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("run %d: %d of %d objects had not arrived %v after the last PUT; counted at that wait (a lower bound)",
			o.runNo, missing, len(lat), o.wait))
	}
	if failed := r.putErrors(); failed > 0 {
		notes = append(notes, fmt.Sprintf("run %d: %d PUTs failed and are not counted (%s)", o.runNo, failed, r.firstErr))
	}
	if r.copyErrs > 0 {
		notes = append(notes, fmt.Sprintf("run %d: %d direct copies failed (%s)", o.runNo, r.copyErrs, r.firstErr))
	}
	note := strings.Join(notes, "; ")
	var out []line
	for _, m := range []struct {
		name string
		v    float64
	}{{"p50 ms", d.P50}, {"p95 ms", d.P95}, {"p99 ms", d.P99}} {
		out = append(out, line{Case: o.caseName, Title: o.title, Tool: o.tool, Run: o.runNo, Metric: m.name,
			Value: m.v, HigherBetter: false, Note: note})
	}
	return out
}

func (r *result) putErrors() int {
	n := 0
	for _, s := range r.samples {
		if s.putErr {
			n++
		}
	}
	return n
}

// summary is the run in numbers, for the log and the -summary file.
type summary struct {
	Tool       string  `json:"tool"`
	Run        int     `json:"run"`
	Mode       string  `json:"mode"`
	Sent       int     `json:"sent"`
	PutErrors  int     `json:"put_errors"`
	Missing    int     `json:"missing"`
	Early      int     `json:"early"` // arrived before the PUT's answer
	Rate       float64 `json:"rate"`  // PUTs per second achieved
	MaxLagMS   float64 `json:"max_lag_ms"`
	PollMS     float64 `json:"poll_ms,omitempty"`
	ListCalls  int     `json:"list_calls,omitempty"`
	ListRTT    *dist   `json:"list_rtt_ms,omitempty"`
	Confirmed  int64   `json:"confirmed,omitempty"`
	ConfFailed int64   `json:"confirm_failed,omitempty"`
	Latency    dist    `json:"latency_ms"`
	// FirstLast are the p50 of the first and of the last tenth of the
	// objects: a replicator that cannot keep up with the rate falls
	// behind during the run, and the second is far above the first.
	FirstLast  [2]float64      `json:"p50_first_last_tenth_ms"`
	Stages     map[string]dist `json:"stages_ms,omitempty"`
	FirstError string          `json:"first_error,omitempty"`
}

func (r *result) summary(o options) summary {
	lat, missing, early := r.latencies()
	s := summary{Tool: o.tool, Run: o.runNo, Mode: r.mode, Sent: len(r.samples), PutErrors: r.putErrors(),
		Missing: missing, Early: early, MaxLagMS: round(ms(r.maxLag)), Latency: distOf(lat), Stages: r.stages(),
		Confirmed: r.confirmed, ConfFailed: r.confFail, FirstError: r.firstErr}
	if tenth := len(lat) / 10; tenth > 0 {
		s.FirstLast = [2]float64{distOf(lat[:tenth]).P50, distOf(lat[len(lat)-tenth:]).P50}
	}
	if r.elapsed > 0 {
		s.Rate = round(float64(len(r.samples)) / r.elapsed.Seconds())
	}
	if r.mode != "hook" {
		s.PollMS = ms(r.poll)
		s.ListCalls = len(r.listRTT)
		d := distOf(r.listRTT)
		s.ListRTT = &d
	}
	return s
}

// text is the summary as one line for people.
func (s summary) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "benchlat: %s run %d (%s): %d objects at %.1f/s (schedule slip max %.1f ms): latency p50 %.1f p95 %.1f p99 %.1f max %.1f ms",
		s.Tool, s.Run, s.Mode, s.Sent, s.Rate, s.MaxLagMS, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max)
	if s.FirstLast != [2]float64{} {
		fmt.Fprintf(&b, " (p50 of the first tenth %.1f, of the last %.1f)", s.FirstLast[0], s.FirstLast[1])
	}
	if s.Missing > 0 || s.PutErrors > 0 {
		fmt.Fprintf(&b, "; %d missing, %d PUTs failed", s.Missing, s.PutErrors)
	}
	if s.Early > 0 {
		fmt.Fprintf(&b, "; %d before the PUT's answer", s.Early)
	}
	if s.ListRTT != nil {
		fmt.Fprintf(&b, "; detection: LIST every %.0f ms, %d pages, round trip p50 %.1f p99 %.1f ms", s.PollMS, s.ListCalls, s.ListRTT.P50, s.ListRTT.P99)
	}
	if s.Confirmed > 0 {
		fmt.Fprintf(&b, "; %d read back, %d not readable", s.Confirmed, s.ConfFailed)
	}
	for _, k := range []string{"put_to_event", "event_to_queued", "queued_to_seen"} {
		if d, ok := s.Stages[k]; ok {
			fmt.Fprintf(&b, "; %s p50 %.1f p95 %.1f p99 %.1f ms", k, d.P50, d.P95, d.P99)
		}
	}
	if s.FirstError != "" {
		fmt.Fprintf(&b, "; first error: %s", s.FirstError)
	}
	return b.String()
}
