package metrics

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/worker"
)

// dashboardFile is the Grafana dashboard shipped in examples/.
const dashboardFile = "../../examples/grafana/ferry-dashboard.json"

// notCharted are the ferry_ metric families the dashboard may leave out,
// each with the reason. Empty: every family has a panel.
var notCharted = map[string]string{}

// scrapeLabels are added by Prometheus to every series it scrapes, so a
// query may group or label by them though the registry never exposes them.
var scrapeLabels = map[string]bool{"job": true, "instance": true}

// series is one name Prometheus stores for a family: a histogram family X
// is stored as X_bucket (with le), X_sum and X_count.
type series struct {
	family string
	kind   string // COUNTER, GAUGE, HISTOGRAM, ...
	labels map[string]bool
}

// exposedSeries returns the ferry_ series names the real registry
// exposes, with every vector given a child so that its labels show.
func exposedSeries(t *testing.T) (map[string]series, []string) {
	t.Helper()
	tg := worker.Target{Rule: "r", Dest: "d"}
	m := New(func(context.Context) (Backlog, error) {
		return Backlog{
			Pending:      map[worker.Target]int{tg: 2},
			PendingBytes: map[worker.Target]int64{tg: 2048},
			Failed:       map[worker.Target]int{tg: 1},
			Jobs:         Jobs{Pending: 2, Running: 1, Failed: 1, OldestPending: time.Now().Add(-time.Minute)},
		}, nil
	})
	m.Workers(4)
	done := m.Busy()
	defer done()
	m.Completed(tg, 1024, 2*time.Second, time.Now())
	m.Failed(tg, "DstPutObjectNotPermitted")
	m.Retry("SlowDown")
	m.Missed(tg)
	m.Skipped(tg)
	m.Event("webhook", 1)

	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]series{}
	var families []string
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "ferry_") {
			continue
		}
		families = append(families, name)
		if len(mf.GetMetric()) == 0 {
			t.Errorf("%s has no series: give it a child in the test", name)
		}
		labels := map[string]bool{}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		kind := mf.GetType().String()
		if kind == "HISTOGRAM" {
			bucket := map[string]bool{"le": true}
			for l := range labels {
				bucket[l] = true
			}
			out[name+"_bucket"] = series{name, kind, bucket}
			out[name+"_sum"] = series{name, kind, labels}
			out[name+"_count"] = series{name, kind, labels}
			continue
		}
		out[name] = series{name, kind, labels}
	}
	return out, families
}

type gridPos struct{ H, W, X, Y int }

type dashPanel struct {
	ID         int
	Type       string
	Title      string
	GridPos    gridPos
	Datasource *struct{ Type, UID string }
	Targets    []struct {
		Expr         string
		LegendFormat string
		RefID        string
	}
	Panels []dashPanel // a collapsed row's
}

type dashboard struct {
	Inputs []struct {
		Name     string
		Type     string
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	SchemaVersion int
	Title, UID    string
	Panels        []dashPanel
	Templating    struct {
		List []struct {
			Name       string
			Type       string
			Definition string
			Query      json.RawMessage
			Datasource *struct{ Type, UID string }
		}
	}
}

var (
	metricRE   = regexp.MustCompile(`ferry_[a-z0-9_]+`)
	selectorRE = regexp.MustCompile(`(ferry_[a-z0-9_]+)\s*(?:\{([^}]*)\})?`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	groupingRE = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\(([^)]*)\)`)
	aggRE      = regexp.MustCompile(`\b(sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(\(|by\b|without\b)`)
	legendRE   = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	varRE      = regexp.MustCompile(`\$\{?([a-zA-Z_][a-zA-Z0-9_]*)`)
	labelVals  = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
)

// The dashboard must import cleanly and chart only what ferry exposes,
// with the labels ferry gives each metric, and chart all of it.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	exposed, families := exposedSeries(t)

	// Importable: a Prometheus datasource input that every panel uses.
	const dsUID = "${DS_PROMETHEUS}"
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].Type != "datasource" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want one prometheus datasource DS_PROMETHEUS", d.Inputs)
	}
	if d.SchemaVersion < 36 || d.Title == "" || d.UID == "" {
		t.Errorf("schemaVersion %d, title %q, uid %q", d.SchemaVersion, d.Title, d.UID)
	}

	var panels []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			panels = append(panels, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(panels) == 0 {
		t.Fatal("no panels")
	}

	// Template variables: rule and destination, from label_values of
	// metrics that have those labels.
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.UID != dsUID {
			t.Errorf("variable %s: datasource %+v, want uid %s", v.Name, v.Datasource, dsUID)
		}
		q := v.Definition
		var sq struct{ Query string }
		if json.Unmarshal(v.Query, &sq) == nil && sq.Query != "" {
			q = sq.Query
		} else if json.Unmarshal(v.Query, &q) != nil {
			q = v.Definition
		}
		if q != v.Definition {
			t.Errorf("variable %s: query %q and definition %q differ", v.Name, q, v.Definition)
		}
		lv := labelVals.FindStringSubmatch(q)
		if lv == nil {
			t.Errorf("variable %s: %q is not label_values(metric, label)", v.Name, q)
			continue
		}
		names := metricRE.FindAllString(lv[1], -1)
		if len(names) == 0 {
			t.Errorf("variable %s: %q names no ferry_ metric", v.Name, q)
		}
		for _, n := range names {
			s, ok := exposed[n]
			if !ok {
				t.Errorf("variable %s: %s is not exposed", v.Name, n)
			} else if !s.labels[lv[2]] {
				t.Errorf("variable %s: %s has no label %s", v.Name, n, lv[2])
			}
		}
	}
	for _, v := range []string{"rule", "destination"} {
		if !vars[v] {
			t.Errorf("no template variable %q", v)
		}
	}

	ids := map[int]string{}
	used := map[string]bool{} // families
	for _, p := range panels {
		where := p.Type + " " + p.Title
		if prev, ok := ids[p.ID]; ok || p.ID == 0 {
			t.Errorf("%s: id %d (also %q)", where, p.ID, prev)
		}
		ids[p.ID] = where
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.Datasource == nil || p.Datasource.UID != dsUID {
			t.Errorf("%s: datasource %+v, want uid %s", where, p.Datasource, dsUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			where := where + " " + tg.RefID
			if refs[tg.RefID] {
				t.Errorf("%s: refId repeated", where)
			}
			refs[tg.RefID] = true
			checkExpr(t, where, tg.Expr, tg.LegendFormat, exposed, vars, used)
		}
	}

	// No two panels on the same cells.
	top := d.Panels // the grid holds the top level; a collapsed row's panels are placed when it opens
	for i, a := range top {
		for _, b := range top[i+1:] {
			ag, bg := a.GridPos, b.GridPos
			if ag.X < bg.X+bg.W && bg.X < ag.X+ag.W && ag.Y < bg.Y+bg.H && bg.Y < ag.Y+ag.H {
				t.Errorf("%q %+v and %q %+v overlap", a.Title, ag, b.Title, bg)
			}
		}
	}

	// Every family ferry exposes is charted, or said why not.
	for _, f := range families {
		_, exempt := notCharted[f]
		switch {
		case !used[f] && !exempt:
			t.Errorf("%s is exposed but no panel charts it (chart it, or add it to notCharted with the reason)", f)
		case used[f] && exempt:
			t.Errorf("%s is in notCharted but a panel charts it", f)
		}
	}
	for f := range notCharted {
		if !slices.Contains(families, f) {
			t.Errorf("notCharted names %s, which the registry does not expose", f)
		}
	}
}

// checkExpr checks one PromQL query against the exposed series: every name
// exists, counters and histograms are read through rate() or increase(),
// label matchers and grouping name labels the metrics have, the rule and
// destination variables filter every metric that has those labels, and the
// legend names labels the query's result keeps.
func checkExpr(t *testing.T, where, expr, legend string, exposed map[string]series, vars, used map[string]bool) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expr", where)
		return
	}
	var metrics []series
	locs := selectorRE.FindAllStringSubmatchIndex(expr, -1)
	if len(locs) == 0 {
		t.Errorf("%s: %q names no ferry_ series", where, expr)
	}
	for _, loc := range locs {
		name := expr[loc[2]:loc[3]]
		s, ok := exposed[name]
		if !ok {
			t.Errorf("%s: %s is not a series ferry exposes", where, name)
			continue
		}
		metrics = append(metrics, s)
		used[s.family] = true

		if s.kind == "COUNTER" || s.kind == "HISTOGRAM" {
			before := strings.TrimRight(expr[:loc[0]], " \t\n")
			if !strings.HasSuffix(before, "rate(") && !strings.HasSuffix(before, "increase(") {
				t.Errorf("%s: %s is a %s: chart its rate() or increase(), not its total", where, name, strings.ToLower(s.kind))
			}
		}

		matchers := map[string]string{}
		if loc[4] >= 0 {
			for _, mm := range matcherRE.FindAllStringSubmatch(expr[loc[4]:loc[5]], -1) {
				matchers[mm[1]] = mm[2] + mm[3]
				if !s.labels[mm[1]] && !scrapeLabels[mm[1]] {
					t.Errorf("%s: %s has no label %s to match", where, name, mm[1])
				}
			}
		}
		for _, l := range []string{"rule", "destination"} {
			if s.labels[l] && matchers[l] != `=~$`+l {
				t.Errorf("%s: %s has a %s label: filter it with %s=~\"$%s\" (has %q)", where, name, l, l, l, matchers[l])
			}
		}
	}

	for _, v := range varRE.FindAllStringSubmatch(expr, -1) {
		if !vars[v[1]] && !strings.HasPrefix(v[1], "__") {
			t.Errorf("%s: $%s is not a template variable", where, v[1])
		}
	}

	// by (...) and on (...): each label must be on every metric in the
	// query, or the grouping silently drops it.
	grouped := map[string]bool{}
	hasBy := false
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		if g[1] == "by" {
			hasBy = true
		}
		for l := range strings.SplitSeq(g[2], ",") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if g[1] == "by" {
				grouped[l] = true
			}
			if scrapeLabels[l] {
				continue
			}
			for _, s := range metrics {
				if !s.labels[l] {
					t.Errorf("%s: %s (%s) but %s has no label %s (it has %v)", where, g[1], g[2], s.family, l, keys(s.labels))
				}
			}
		}
	}

	if strings.Contains(expr, "histogram_quantile") && !grouped["le"] {
		t.Errorf("%s: histogram_quantile needs the buckets: group by (le, ...)", where)
	}

	// The legend can only show labels the result still has.
	for _, lm := range legendRE.FindAllStringSubmatch(legend, -1) {
		l := lm[1]
		switch {
		case hasBy:
			if !grouped[l] {
				t.Errorf("%s: legend {{%s}} but the query keeps only %v", where, l, keys(grouped))
			}
		case aggRE.MatchString(expr):
			t.Errorf("%s: legend {{%s}} but the query aggregates every label away", where, l)
		default:
			for _, s := range metrics {
				if !s.labels[l] && !scrapeLabels[l] {
					t.Errorf("%s: legend {{%s}} but %s has no such label", where, l, s.family)
				}
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
