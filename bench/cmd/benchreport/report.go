package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// measurement is one line of the input: one tool's figure for one metric of
// one case in one run, or, with Skipped set, a tool that was not run.
type measurement struct {
	Case         string   `json:"case"`
	Title        string   `json:"title"`
	Tool         string   `json:"tool"`
	Run          int      `json:"run"`
	Metric       string   `json:"metric"`
	Value        *float64 `json:"value"`
	HigherBetter *bool    `json:"higher_better"`
	RSSMiB       *float64 `json:"rss_mib"`
	Seconds      *float64 `json:"seconds"`
	Note         string   `json:"note"`
	Skipped      string   `json:"skipped"`
	// Requests are the S3 requests the run sent, by kind (LIST, HEAD,
	// GET, PUT, other), both servers together.
	Requests map[string]float64 `json:"requests"`
}

// meta is the -meta file: the report's header, notes and targets.
type meta struct {
	Title     string            `json:"title"`
	Date      string            `json:"date"`
	Machine   string            `json:"machine"`
	Command   string            `json:"command"`
	Versions  map[string]string `json:"versions"`
	Notes     []string          `json:"notes"`
	Targets   []target          `json:"targets"`
	Reference string            `json:"reference"`
}

// target is one goal for the reference tool (ferry) on one case and metric.
// Every condition given must hold:
//
//   - peer: ferry's median is at least ratio times better than the peer's
//     (ratio defaults to 1; "better" follows the metric's direction);
//   - best_peer: the same against the best of the peers (ratio applies if
//     no peer is named);
//   - limit_fraction: ferry's median is at least this fraction of the
//     servers' limit (median/limit, or limit/median when lower is better);
//   - max, min: bounds on ferry's median itself;
//   - max_rss_mib: a bound on ferry's median peak RSS;
//   - max_requests: bounds on ferry's median request counts, by kind
//     ({"HEAD": 0}: no HEAD at all).
type target struct {
	Case          string             `json:"case"`
	Metric        string             `json:"metric"`
	Text          string             `json:"text"`
	Peer          string             `json:"peer"`
	Ratio         *float64           `json:"ratio"`
	BestPeer      bool               `json:"best_peer"`
	LimitFraction *float64           `json:"limit_fraction"`
	Max           *float64           `json:"max"`
	Min           *float64           `json:"min"`
	MaxRSSMiB     *float64           `json:"max_rss_mib"`
	MaxRequests   map[string]float64 `json:"max_requests"`
}

// stats summarises the runs of one figure.
type stats struct {
	Median, Min, Max float64
	N                int
}

func summarize(v []float64) stats {
	if len(v) == 0 {
		return stats{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return stats{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// toolResult is one tool's figures for one case and metric.
type toolResult struct {
	Tool     string
	Limit    bool
	Value    stats
	RSS      *stats            // nil without rss_mib
	Seconds  *stats            // nil without seconds
	Requests map[string]*stats // by kind; nil without requests

	values, rss, seconds []float64
	requests             map[string][]float64
}

// metricTable is one case's figures for one metric.
type metricTable struct {
	Metric       string
	HigherBetter bool
	Tools        []*toolResult // the reference first, then peers, then limits
	Ref          *toolResult   // nil if the reference tool has no figures
	Limit        *toolResult   // the binding limit, nil if none

	higherSet bool
}

type skip struct{ Tool, Metric, Reason string }

type toolNote struct{ Tool, Note string }

// caseResult is everything measured for one case.
type caseResult struct {
	Name, Title string
	Metrics     []*metricTable
	Skipped     []skip
	Notes       []toolNote
}

// report is the whole input, aggregated.
type report struct {
	Meta    meta
	Ref     string // the reference tool, "ferry" unless meta says otherwise
	Cases   []*caseResult
	Tools   []string // every tool, reference first, then in input order; colours follow it
	Targets []targetResult
}

// isLimit reports whether tool stands for the servers' limit rather than
// a tool: "limit", "limit: raw PUT", ...
func isLimit(tool string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(tool)), "limit")
}

// readMeasurements parses the JSON-lines input; blank lines and lines
// starting with # are skipped.
func readMeasurements(r io.Reader) ([]measurement, error) {
	var out []measurement
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		var m measurement
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value", line)
		}
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *measurement) check() error {
	switch {
	case m.Case == "":
		return errors.New(`no "case"`)
	case m.Tool == "":
		return errors.New(`no "tool"`)
	case m.Skipped != "":
		return nil
	case m.Metric == "":
		return errors.New(`no "metric" (and not "skipped")`)
	case m.Value == nil:
		return errors.New(`no "value" (and not "skipped")`)
	}
	return nil
}

// readMeta parses the -meta file.
func readMeta(data []byte) (meta, error) {
	var m meta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, err
	}
	for i, t := range m.Targets {
		if t.Case == "" {
			return m, fmt.Errorf("target %d: no case", i+1)
		}
		if t.Peer == "" && !t.BestPeer && t.LimitFraction == nil && t.Max == nil && t.Min == nil &&
			t.MaxRSSMiB == nil && len(t.MaxRequests) == 0 {
			return m, fmt.Errorf("target %d (%s): no condition (peer, best_peer, limit_fraction, max, min, max_rss_mib or max_requests)", i+1, t.Case)
		}
	}
	return m, nil
}

// build aggregates the measurements and evaluates the targets.
func build(ms []measurement, md meta) (*report, error) {
	rep := &report{Meta: md, Ref: md.Reference}
	if rep.Ref == "" {
		rep.Ref = "ferry"
	}
	cases := map[string]*caseResult{}
	tables := map[[2]string]*metricTable{}
	results := map[[3]string]*toolResult{}
	runs := map[[4]string]bool{}
	seenTool := map[string]bool{}
	seenNote := map[toolNote]bool{}
	var peers, limits []string
	for _, m := range ms {
		c := cases[m.Case]
		if c == nil {
			c = &caseResult{Name: m.Case}
			cases[m.Case] = c
			rep.Cases = append(rep.Cases, c)
		}
		if c.Title == "" {
			c.Title = m.Title
		}
		if !seenTool[m.Tool] {
			seenTool[m.Tool] = true
			switch {
			case m.Tool == rep.Ref:
			case isLimit(m.Tool):
				limits = append(limits, m.Tool)
			default:
				peers = append(peers, m.Tool)
			}
		}
		if m.Note != "" {
			n := toolNote{m.Tool, m.Note}
			if !seenNote[n] {
				seenNote[n] = true
				c.Notes = append(c.Notes, n)
			}
		}
		if m.Skipped != "" {
			c.Skipped = append(c.Skipped, skip{m.Tool, m.Metric, m.Skipped})
			continue
		}
		tk := [2]string{m.Case, m.Metric}
		t := tables[tk]
		if t == nil {
			t = &metricTable{Metric: m.Metric, HigherBetter: true}
			tables[tk] = t
			c.Metrics = append(c.Metrics, t)
		}
		if m.HigherBetter != nil {
			if t.higherSet && t.HigherBetter != *m.HigherBetter {
				return nil, fmt.Errorf("case %q, metric %q: higher_better is both true and false", m.Case, m.Metric)
			}
			t.HigherBetter, t.higherSet = *m.HigherBetter, true
		}
		if m.Run != 0 {
			rk := [4]string{m.Case, m.Metric, m.Tool, strconv.Itoa(m.Run)}
			if runs[rk] {
				return nil, fmt.Errorf("case %q, metric %q, tool %q: run %d appears twice", m.Case, m.Metric, m.Tool, m.Run)
			}
			runs[rk] = true
		}
		rk := [3]string{m.Case, m.Metric, m.Tool}
		tr := results[rk]
		if tr == nil {
			tr = &toolResult{Tool: m.Tool, Limit: isLimit(m.Tool)}
			results[rk] = tr
			t.Tools = append(t.Tools, tr)
		}
		tr.values = append(tr.values, *m.Value)
		if m.RSSMiB != nil {
			tr.rss = append(tr.rss, *m.RSSMiB)
		}
		if m.Seconds != nil {
			tr.seconds = append(tr.seconds, *m.Seconds)
		}
		for k, v := range m.Requests {
			if tr.requests == nil {
				tr.requests = map[string][]float64{}
			}
			tr.requests[k] = append(tr.requests[k], v)
		}
	}
	if seenTool[rep.Ref] {
		rep.Tools = append(rep.Tools, rep.Ref)
	}
	rep.Tools = append(append(rep.Tools, peers...), limits...)
	order := map[string]int{}
	for i, t := range rep.Tools {
		order[t] = i
	}
	for _, c := range rep.Cases {
		for _, t := range c.Metrics {
			sort.SliceStable(t.Tools, func(i, j int) bool { return order[t.Tools[i].Tool] < order[t.Tools[j].Tool] })
			for _, tr := range t.Tools {
				tr.Value = summarize(tr.values)
				if len(tr.rss) > 0 {
					s := summarize(tr.rss)
					tr.RSS = &s
				}
				if len(tr.seconds) > 0 {
					s := summarize(tr.seconds)
					tr.Seconds = &s
				}
				for k, v := range tr.requests {
					if tr.Requests == nil {
						tr.Requests = map[string]*stats{}
					}
					s := summarize(v)
					tr.Requests[k] = &s
				}
				switch {
				case tr.Tool == rep.Ref:
					t.Ref = tr
				case tr.Limit:
					// With several limits, the one that binds: the worst.
					if t.Limit == nil || advantage(t.Limit.Value.Median, tr.Value.Median, t.HigherBetter) > 1 {
						t.Limit = tr
					}
				}
			}
		}
	}
	for _, tg := range md.Targets {
		rep.Targets = append(rep.Targets, rep.evaluate(tg))
	}
	return rep, nil
}

// advantage is how many times better a is than b: a/b when higher is
// better, b/a when lower is. It is +Inf or NaN when the divisor is 0.
func advantage(a, b float64, higherBetter bool) float64 {
	if !higherBetter {
		a, b = b, a
	}
	if b == 0 {
		if a == 0 {
			return math.NaN()
		}
		return math.Inf(1)
	}
	return a / b
}

// fractionOfLimit is v as a fraction of the limit: v/limit when higher is
// better, limit/v when lower is (1 means at the limit either way).
func fractionOfLimit(v, limit float64, higherBetter bool) float64 {
	return advantage(v, limit, higherBetter)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// vsRef says how the reference tool compares with tr, from the medians.
func (t *metricTable) vsRef(ref string, tr *toolResult) string {
	if t.Ref == nil || tr == t.Ref || tr.Limit {
		return "-"
	}
	a := advantage(t.Ref.Value.Median, tr.Value.Median, t.HigherBetter)
	switch {
	case !finite(a) || a <= 0:
		return "-"
	case fmtRatio(a) == "1.00x":
		return ref + " about the same"
	case a > 1:
		return fmt.Sprintf("%s %s better", ref, fmtRatio(a))
	default:
		return fmt.Sprintf("%s %s worse", ref, fmtRatio(1/a))
	}
}

// pctOfLimit is tr's median as a percentage of the binding limit.
func (t *metricTable) pctOfLimit(tr *toolResult) string {
	if t.Limit == nil {
		return "-"
	}
	f := fractionOfLimit(tr.Value.Median, t.Limit.Value.Median, t.HigherBetter)
	if !finite(f) {
		return "-"
	}
	return fmtPct(f)
}

// bestPeer is the peer (not the reference, not a limit) with the best
// median, nil if none.
func (t *metricTable) bestPeer() *toolResult {
	var best *toolResult
	for _, tr := range t.Tools {
		if tr == t.Ref || tr.Limit {
			continue
		}
		if best == nil || advantage(tr.Value.Median, best.Value.Median, t.HigherBetter) > 1 {
			best = tr
		}
	}
	return best
}

func (t *metricTable) tool(name string) *toolResult {
	for _, tr := range t.Tools {
		if tr.Tool == name {
			return tr
		}
	}
	return nil
}

func (t *metricTable) direction() string {
	if t.HigherBetter {
		return "higher is better"
	}
	return "lower is better"
}

// Verdicts of a target.
const (
	verdictMet    = "MET"
	verdictNotMet = "NOT MET"
	verdictNoData = "NO DATA"
)

// targetResult is a target with its verdict and the figures behind it.
type targetResult struct {
	Target  target
	Metric  string
	Verdict string
	Figures []string
}

func (rep *report) caseByName(name string) *caseResult {
	for _, c := range rep.Cases {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// evaluate checks one target against the medians. A target is NOT MET as
// soon as one of its conditions fails, NO DATA if none fails but one lacks
// a figure (the reference, the peer or the limit was not measured), MET
// otherwise.
func (rep *report) evaluate(tg target) targetResult {
	res := targetResult{Target: tg, Metric: tg.Metric}
	failed, missing := false, false
	fig := func(ok bool, format string, args ...any) {
		if !ok {
			failed = true
		}
		res.Figures = append(res.Figures, fmt.Sprintf(format, args...))
	}
	nodata := func(format string, args ...any) {
		missing = true
		res.Figures = append(res.Figures, fmt.Sprintf(format, args...))
	}
	verdict := func() targetResult {
		switch {
		case failed:
			res.Verdict = verdictNotMet
		case missing:
			res.Verdict = verdictNoData
		default:
			res.Verdict = verdictMet
		}
		return res
	}

	c := rep.caseByName(tg.Case)
	if c == nil {
		nodata("no measurements for case %q", tg.Case)
		return verdict()
	}
	var t *metricTable
	for _, mt := range c.Metrics {
		if mt.Metric == tg.Metric || (tg.Metric == "" && len(c.Metrics) == 1) {
			t = mt
		}
	}
	if t == nil {
		nodata("no measurements of %q", tg.Metric)
		return verdict()
	}
	res.Metric = t.Metric
	ref := rep.Ref
	if t.Ref == nil {
		nodata("%s", c.notMeasured(ref, t.Metric))
		return verdict()
	}
	r := t.Ref.Value.Median
	unit := t.Metric
	ratio := 1.0
	if tg.Ratio != nil {
		ratio = *tg.Ratio
	}
	comparePeer := func(label string, p *toolResult) {
		a := advantage(r, p.Value.Median, t.HigherBetter)
		ok := a >= ratio
		if !finite(a) {
			ok = a > 0 // +Inf: the peer did nothing; NaN: both 0
		}
		got, need := fmtBeside(a, ratio, fmtRatioPrec, 2)
		if a < 1 && finite(a) && a > 0 {
			got = fmtRatio(1/a) + " worse"
		} else if finite(a) {
			got += " better"
		} else {
			got = describeAdvantage(a)
		}
		fig(ok, "%s %s vs %s %s %s: %s (needs >= %s better)", ref, fmtNum(r), label, fmtNum(p.Value.Median), unit, got, need)
	}
	if tg.Peer != "" {
		if p := t.tool(tg.Peer); p != nil {
			comparePeer(p.Tool, p)
		} else {
			nodata("%s", c.notMeasured(tg.Peer, t.Metric))
		}
	}
	if tg.BestPeer {
		if tg.Peer != "" {
			ratio = 1
		}
		if p := t.bestPeer(); p != nil {
			comparePeer("best peer ("+p.Tool+")", p)
		} else {
			nodata("no peer measured")
		}
	}
	if tg.LimitFraction != nil {
		if t.Limit != nil {
			f := fractionOfLimit(r, t.Limit.Value.Median, t.HigherBetter)
			got, need := fmtBeside(f, *tg.LimitFraction, fmtPctPrec, 1)
			fig(finite(f) && f >= *tg.LimitFraction, "%s at %s of the limit (%s %s %s; needs >= %s)",
				ref, got, t.Limit.Tool, fmtNum(t.Limit.Value.Median), unit, need)
		} else {
			nodata("no limit measured")
		}
	}
	if tg.Max != nil {
		fig(r <= *tg.Max, "%s %s %s (needs <= %s)", ref, fmtNum(r), unit, fmtNum(*tg.Max))
	}
	if tg.Min != nil {
		fig(r >= *tg.Min, "%s %s %s (needs >= %s)", ref, fmtNum(r), unit, fmtNum(*tg.Min))
	}
	if tg.MaxRSSMiB != nil {
		if rss := t.Ref.RSS; rss != nil {
			fig(rss.Median <= *tg.MaxRSSMiB, "%s peak RSS %s MiB (needs <= %s)", ref, fmtNum(rss.Median), fmtNum(*tg.MaxRSSMiB))
		} else {
			nodata("%s's peak RSS not measured", ref)
		}
	}
	for _, k := range requestKinds(tg.MaxRequests) {
		limit := tg.MaxRequests[k]
		if s := t.Ref.Requests[k]; s != nil {
			fig(s.Median <= limit, "%s %s requests %s (needs <= %s)", ref, k, fmtNum(s.Median), fmtNum(limit))
		} else {
			nodata("%s's %s requests not counted", ref, k)
		}
	}
	return verdict()
}

// notMeasured says why tool has no figures for metric in the case.
func (c *caseResult) notMeasured(tool, metric string) string {
	for _, s := range c.Skipped {
		if s.Tool == tool && (s.Metric == "" || s.Metric == metric) {
			return tool + " skipped: " + s.Reason
		}
	}
	return tool + " not measured"
}

// fmtBeside formats v and the threshold it is held against with the
// fewest digits (from prec up to prec+3) that tell them apart, so a figure
// just short of its target does not print as the target itself.
func fmtBeside(v, threshold float64, format func(float64, int) string, prec int) (string, string) {
	a, b := format(v, prec), format(threshold, prec)
	for i := 1; i <= 3 && a == b && v != threshold && finite(v); i++ {
		a, b = format(v, prec+i), format(threshold, prec+i)
	}
	return a, b
}

func fmtRatioPrec(r float64, prec int) string { return strconv.FormatFloat(r, 'f', prec, 64) + "x" }

func fmtPctPrec(f float64, prec int) string { return strconv.FormatFloat(f*100, 'f', prec, 64) + "%" }

// describeAdvantage words an advantage of the reference over a peer.
func describeAdvantage(a float64) string {
	switch {
	case math.IsInf(a, 1):
		return "peer at 0"
	case !finite(a) || a <= 0:
		return "no ratio"
	case a >= 1:
		return fmtRatio(a) + " better"
	default:
		return fmtRatio(1/a) + " worse"
	}
}

// fmtNum formats a figure: thousands separated above 1,000, about four
// significant digits below.
func fmtNum(v float64) string {
	if !finite(v) {
		return "-"
	}
	a := math.Abs(v)
	var s string
	switch {
	case a >= 1000:
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1 || a == 0:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if a >= 1000 {
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, ch := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(ch)
		}
		s = b.String()
		if neg {
			s = "-" + s
		}
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func fmtRatio(r float64) string { return strconv.FormatFloat(r, 'f', 2, 64) + "x" }

func fmtPct(f float64) string { return fmtPctPrec(f, 1) }

// cell escapes text for a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// markdown renders the report. chart is the PNG's path relative to the
// markdown file, "" for none.
func (rep *report) markdown(chart string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	md := rep.Meta
	title := md.Title
	if title == "" {
		title = "Benchmarks: " + rep.Ref + " against its peers"
	}
	p("# %s\n\n", title)
	if md.Date != "" {
		p("Measured %s", md.Date)
		if md.Command != "" {
			p(" with `%s`", md.Command)
		}
		p(".\n")
	} else if md.Command != "" {
		p("Measured with `%s`.\n", md.Command)
	}
	if md.Machine != "" {
		p("Machine: %s.\n", strings.TrimSuffix(md.Machine, "."))
	}
	if len(md.Versions) > 0 {
		p("\n| tool | version |\n|---|---|\n")
		for _, k := range versionOrder(md.Versions, rep.Ref) {
			p("| %s | %s |\n", cell(k), cell(md.Versions[k]))
		}
	}
	p("\nEach figure is the median of the runs, with the min and max. \"vs %s\" compares the medians\n", rep.Ref)
	p("in the direction that is better for the metric. \"%% of limit\" is the median as a fraction of the\n")
	p("servers' limit for that case and metric (the `limit` rows): median / limit where higher is better,\n")
	p("limit / median where lower is better, so 100%% is the limit either way.\n")
	if chart != "" {
		p("\n![Medians per case, with min-max whiskers](%s)\n", filepath.ToSlash(chart))
	}

	if len(rep.Targets) > 0 {
		p("\n## Targets\n\n| target | case | metric | figures | result |\n|---|---|---|---|---|\n")
		for _, tr := range rep.Targets {
			text := tr.Target.Text
			if text == "" {
				text = "-"
			}
			v := tr.Verdict
			if v != verdictNoData {
				v = "**" + v + "**"
			}
			p("| %s | %s | %s | %s | %s |\n", cell(text), cell(tr.Target.Case), cell(tr.Metric),
				cell(strings.Join(tr.Figures, "; ")), v)
		}
	}

	for _, c := range rep.Cases {
		if c.Title != "" {
			p("\n## %s: %s\n", c.Name, c.Title)
		} else {
			p("\n## %s\n", c.Name)
		}
		for _, t := range c.Metrics {
			rep.writeTable(&b, t)
		}
		if len(c.Skipped) > 0 {
			p("\nSkipped:\n\n")
			for _, s := range c.Skipped {
				if s.Metric != "" {
					p("- %s (%s): %s\n", s.Tool, s.Metric, s.Reason)
				} else {
					p("- %s: %s\n", s.Tool, s.Reason)
				}
			}
		}
		if len(c.Notes) > 0 {
			p("\nNotes:\n\n")
			for _, n := range c.Notes {
				p("- %s: %s\n", n.Tool, n.Note)
			}
		}
	}

	if len(md.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range md.Notes {
			p("- %s\n", n)
		}
	}
	return b.String()
}

// requestOrder is the order of the request kinds' columns; other kinds
// follow, alphabetically.
var requestOrder = []string{"LIST", "HEAD", "GET", "PUT", "other"}

// requestKinds lists the keys of m in column order.
func requestKinds[V any](m map[string]V) []string {
	rank := func(k string) int {
		for i, o := range requestOrder {
			if k == o {
				return i
			}
		}
		return len(requestOrder)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func (rep *report) writeTable(b *strings.Builder, t *metricTable) {
	hasRSS, hasSec := false, false
	kinds := map[string]bool{}
	for _, tr := range t.Tools {
		hasRSS = hasRSS || tr.RSS != nil
		hasSec = hasSec || tr.Seconds != nil
		for k := range tr.Requests {
			kinds[k] = true
		}
	}
	reqCols := requestKinds(kinds)
	hasRef, hasLimit := t.Ref != nil, t.Limit != nil
	fmt.Fprintf(b, "\n### %s (%s)\n\n", t.Metric, t.direction())
	b.WriteString("| tool | median | min | max | runs |")
	sep := "|---|---:|---:|---:|---:|"
	if hasRef {
		b.WriteString(" vs " + cell(rep.Ref) + " |")
		sep += "---|"
	}
	if hasLimit {
		b.WriteString(" % of limit |")
		sep += "---:|"
	}
	if hasSec {
		b.WriteString(" wall time median (s) |")
		sep += "---:|"
	}
	if hasRSS {
		b.WriteString(" peak RSS median (MiB) |")
		sep += "---:|"
	}
	for _, k := range reqCols {
		b.WriteString(" " + cell(k) + " |")
		sep += "---:|"
	}
	b.WriteString("\n" + sep + "\n")
	for _, tr := range t.Tools {
		name := cell(tr.Tool)
		if tr == t.Ref {
			name = "**" + name + "**"
		}
		v := tr.Value
		fmt.Fprintf(b, "| %s | %s | %s | %s | %d |", name, fmtNum(v.Median), fmtNum(v.Min), fmtNum(v.Max), v.N)
		if hasRef {
			fmt.Fprintf(b, " %s |", cell(t.vsRef(rep.Ref, tr)))
		}
		if hasLimit {
			fmt.Fprintf(b, " %s |", t.pctOfLimit(tr))
		}
		if hasSec {
			fmt.Fprintf(b, " %s |", optMedian(tr.Seconds))
		}
		if hasRSS {
			fmt.Fprintf(b, " %s |", optMedian(tr.RSS))
		}
		for _, k := range reqCols {
			fmt.Fprintf(b, " %s |", optMedian(tr.Requests[k]))
		}
		b.WriteString("\n")
	}
	if len(reqCols) > 0 {
		fmt.Fprintf(b, "\n%s: S3 requests by kind, both servers together (median of the runs that counted them).\n",
			strings.Join(reqCols, ", "))
	}
	if hasLimit {
		n := 0
		for _, tr := range t.Tools {
			if tr.Limit {
				n++
			}
		}
		if n > 1 {
			fmt.Fprintf(b, "\n%% of limit is against `%s`, the limit that binds.\n", t.Limit.Tool)
		}
	}
}

func optMedian(s *stats) string {
	if s == nil {
		return "-"
	}
	return fmtNum(s.Median)
}

// versionOrder lists the version keys: the reference tool first, then
// alphabetically.
func versionOrder(v map[string]string, ref string) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == ref) != (keys[j] == ref) {
			return keys[i] == ref
		}
		return keys[i] < keys[j]
	})
	return keys
}
