package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/RESULTS.golden.md")

// parse builds a report from JSON lines and a meta object.
func parse(t *testing.T, lines, metaJSON string) *report {
	t.Helper()
	ms, err := readMeasurements(strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	var md meta
	if metaJSON != "" {
		if md, err = readMeta([]byte(metaJSON)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := build(ms, md)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func table(t *testing.T, rep *report, caseName, metric string) *metricTable {
	t.Helper()
	c := rep.caseByName(caseName)
	if c == nil {
		t.Fatalf("no case %q", caseName)
	}
	for _, mt := range c.Metrics {
		if mt.Metric == metric {
			return mt
		}
	}
	t.Fatalf("case %q: no metric %q", caseName, metric)
	return nil
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want stats
	}{
		{[]float64{3, 1, 2}, stats{Median: 2, Min: 1, Max: 3, N: 3}},
		{[]float64{4, 1, 3, 2}, stats{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{[]float64{7}, stats{Median: 7, Min: 7, Max: 7, N: 1}},
		{[]float64{10, 10, 1, 10, 100}, stats{Median: 10, Min: 1, Max: 100, N: 5}},
	} {
		in := append([]float64(nil), tc.in...)
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("summarize reordered its input: %v", tc.in)
			}
		}
	}
}

const lowerBetter = `
{"case":"lat","tool":"ferry","run":1,"metric":"p99 ms","value":100,"higher_better":false}
{"case":"lat","tool":"ferry","run":2,"metric":"p99 ms","value":120,"higher_better":false}
{"case":"lat","tool":"ferry","run":3,"metric":"p99 ms","value":90,"higher_better":false}
{"case":"lat","tool":"slow","run":1,"metric":"p99 ms","value":200}
{"case":"lat","tool":"fast","run":1,"metric":"p99 ms","value":50}
{"case":"lat","tool":"limit","run":1,"metric":"p99 ms","value":25,"higher_better":false}
{"case":"lat","tool":"limit: other","run":1,"metric":"p99 ms","value":10,"higher_better":false}
`

func TestRatioOrientation(t *testing.T) {
	if a := advantage(200, 100, true); a != 2 {
		t.Errorf("higher better: advantage(200, 100) = %v, want 2", a)
	}
	if a := advantage(100, 200, false); a != 2 {
		t.Errorf("lower better: advantage(100, 200) = %v, want 2", a)
	}
	if a := advantage(200, 100, false); a != 0.5 {
		t.Errorf("lower better: advantage(200, 100) = %v, want 0.5", a)
	}

	rep := parse(t, lowerBetter, "")
	mt := table(t, rep, "lat", "p99 ms")
	if mt.HigherBetter {
		t.Fatal("higher_better false on some lines (absent on others) should make the metric lower-better")
	}
	if mt.Ref.Value.Median != 100 {
		t.Fatalf("ferry median = %v, want 100", mt.Ref.Value.Median)
	}
	for tool, want := range map[string]string{
		"slow":  "ferry 2.00x better", // 200 ms against ferry's 100
		"fast":  "ferry 2.00x worse",  // 50 ms
		"ferry": "-",
		"limit": "-",
	} {
		if got := mt.vsRef(rep.Ref, mt.tool(tool)); got != want {
			t.Errorf("vs ferry for %s = %q, want %q", tool, got, want)
		}
	}
	if b := mt.bestPeer(); b == nil || b.Tool != "fast" {
		t.Errorf("best peer = %+v, want fast (the lowest)", b)
	}

	hi := parse(t, `
{"case":"c","tool":"ferry","metric":"MB/s","value":180}
{"case":"c","tool":"rclone","metric":"MB/s","value":100}
{"case":"c","tool":"mc mirror","metric":"MB/s","value":360}
{"case":"c","tool":"same","metric":"MB/s","value":180.1}
`, "")
	ht := table(t, hi, "c", "MB/s")
	if !ht.HigherBetter {
		t.Fatal("higher_better should default to true")
	}
	for tool, want := range map[string]string{
		"rclone":    "ferry 1.80x better",
		"mc mirror": "ferry 2.00x worse",
		"same":      "ferry about the same",
	} {
		if got := ht.vsRef(hi.Ref, ht.tool(tool)); got != want {
			t.Errorf("vs ferry for %s = %q, want %q", tool, got, want)
		}
	}
}

func TestPercentOfLimit(t *testing.T) {
	rep := parse(t, `
{"case":"c","tool":"ferry","metric":"MB/s","value":400}
{"case":"c","tool":"rclone","metric":"MB/s","value":250}
{"case":"c","tool":"limit: raw GET","metric":"MB/s","value":900}
{"case":"c","tool":"limit: raw PUT","metric":"MB/s","value":500}
`, "")
	mt := table(t, rep, "c", "MB/s")
	if mt.Limit == nil || mt.Limit.Tool != "limit: raw PUT" {
		t.Fatalf("binding limit = %+v, want limit: raw PUT (the lower throughput)", mt.Limit)
	}
	for tool, want := range map[string]string{"ferry": "80.0%", "rclone": "50.0%", "limit: raw PUT": "100.0%", "limit: raw GET": "180.0%"} {
		if got := mt.pctOfLimit(mt.tool(tool)); got != want {
			t.Errorf("%% of limit for %s = %s, want %s", tool, got, want)
		}
	}

	// Lower is better: limit / median, and the binding limit is the highest.
	lat := parse(t, lowerBetter, "")
	lt := table(t, lat, "lat", "p99 ms")
	if lt.Limit == nil || lt.Limit.Tool != "limit" {
		t.Fatalf("binding limit = %+v, want limit (25 ms, the higher latency)", lt.Limit)
	}
	if got := lt.pctOfLimit(lt.Ref); got != "25.0%" {
		t.Errorf("%% of limit for ferry at 100 ms, limit 25 ms = %s, want 25%%", got)
	}

	// No limit: no column.
	none := parse(t, `{"case":"c","tool":"ferry","metric":"MB/s","value":400}`, "")
	if md := none.markdown(""); strings.Contains(md, "% of limit |") {
		t.Errorf("a table without a limit has a %% of limit column:\n%s", md)
	}
}

func TestTargets(t *testing.T) {
	lines := `
{"case":"small","tool":"ferry","run":1,"metric":"objects/s","value":900}
{"case":"small","tool":"ferry","run":2,"metric":"objects/s","value":800}
{"case":"small","tool":"ferry","run":3,"metric":"objects/s","value":1000}
{"case":"small","tool":"rclone","run":1,"metric":"objects/s","value":500}
{"case":"small","tool":"mc mirror","run":1,"metric":"objects/s","value":700}
{"case":"small","tool":"limit","run":1,"metric":"objects/s","value":1125}
{"case":"small","tool":"aws s3 sync","skipped":"aws not installed"}
{"case":"lat","tool":"ferry","metric":"p99 ms","value":640,"higher_better":false}
{"case":"lat","tool":"minio replication","metric":"p99 ms","value":800,"higher_better":false}
`
	for _, tc := range []struct {
		name, target, verdict, figures string
	}{
		{"ratio met", `{"case":"small","metric":"objects/s","peer":"rclone","ratio":1.5}`, verdictMet, "1.80x better (needs >= 1.50x better)"},
		{"ratio not met", `{"case":"small","metric":"objects/s","peer":"rclone","ratio":2}`, verdictNotMet, "1.80x better (needs >= 2.00x better)"},
		{"ratio at the edge", `{"case":"small","metric":"objects/s","peer":"rclone","ratio":1.8}`, verdictMet, "1.80x"},
		{"just short prints apart", `{"case":"small","metric":"objects/s","peer":"rclone","ratio":1.8004}`, verdictNotMet, "1.8000x better (needs >= 1.8004x better)"},
		{"best peer", `{"case":"small","metric":"objects/s","best_peer":true,"ratio":1.25}`, verdictMet, "best peer (mc mirror) 700"},
		{"best peer not met", `{"case":"small","metric":"objects/s","best_peer":true,"ratio":1.3}`, verdictNotMet, "best peer (mc mirror)"},
		{"limit fraction", `{"case":"small","metric":"objects/s","limit_fraction":0.8}`, verdictMet, "ferry at 80.0% of the limit"},
		{"limit fraction just short", `{"case":"small","metric":"objects/s","limit_fraction":0.8001}`, verdictNotMet, "80.00% of the limit (limit 1,125 objects/s; needs >= 80.01%)"},
		{"skipped peer", `{"case":"small","metric":"objects/s","peer":"aws s3 sync"}`, verdictNoData, "aws s3 sync skipped: aws not installed"},
		{"failed beats no data", `{"case":"small","metric":"objects/s","peer":"aws s3 sync","best_peer":true,"min":5000}`, verdictNotMet, "(needs >= 5,000)"},
		{"unknown case", `{"case":"huge","peer":"rclone"}`, verdictNoData, `no measurements for case "huge"`},
		{"single metric inferred", `{"case":"lat","peer":"minio replication","max":1000}`, verdictMet, "(needs <= 1,000)"},
		{"lower is better", `{"case":"lat","metric":"p99 ms","peer":"minio replication","ratio":1.0,"max":1000}`, verdictMet, "ferry 640 vs minio replication 800 p99 ms: 1.25x better"},
		{"lower is better, max fails", `{"case":"lat","metric":"p99 ms","peer":"minio replication","max":600}`, verdictNotMet, "ferry 640 p99 ms (needs <= 600)"},
		{"lower is better, ratio fails", `{"case":"lat","metric":"p99 ms","peer":"minio replication","ratio":1.5}`, verdictNotMet, "1.25x better (needs >= 1.50x better)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := parse(t, lines, `{"targets":[`+tc.target+`]}`)
			got := rep.Targets[0]
			figs := strings.Join(got.Figures, "; ")
			if got.Verdict != tc.verdict || !strings.Contains(figs, tc.figures) {
				t.Errorf("got %s: %s\nwant %s with %q", got.Verdict, figs, tc.verdict, tc.figures)
			}
		})
	}

	if _, err := readMeta([]byte(`{"targets":[{"case":"small","text":"nothing to check"}]}`)); err == nil {
		t.Error("a target without a condition was accepted")
	}
}

func TestSkipped(t *testing.T) {
	rep := parse(t, `
{"case":"c","title":"T","tool":"ferry","metric":"MB/s","value":1}
{"case":"c","tool":"aws s3 sync","skipped":"aws not installed"}
{"case":"c","tool":"rclone","metric":"MB/s","skipped":"crashed"}
{"case":"only skipped","tool":"mc mirror","skipped":"no mc"}
`, "")
	md := rep.markdown("")
	for _, want := range []string{
		"- aws s3 sync: aws not installed\n",
		"- rclone (MB/s): crashed\n",
		"## only skipped\n\nSkipped:\n\n- mc mirror: no mc\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| aws s3 sync |") || strings.Contains(md, "| rclone |") {
		t.Errorf("a skipped tool has a table row:\n%s", md)
	}
	if got := rep.Tools; strings.Join(got, ",") != "ferry,aws s3 sync,rclone,mc mirror" {
		t.Errorf("tools = %q", got)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ name, lines, want string }{
		{"bad JSON", `{"case":`, "line 1"},
		{"unknown field", "\n" + `{"case":"c","tool":"t","metric":"m","value":1,"higher_beter":false}`, `line 2: json: unknown field "higher_beter"`},
		{"no value", `{"case":"c","tool":"t","metric":"m"}`, `no "value"`},
		{"no metric", `{"case":"c","tool":"t","value":1}`, `no "metric"`},
		{"no tool", `{"case":"c","skipped":"x"}`, `no "tool"`},
		{"no case", `{"tool":"t","metric":"m","value":1}`, `no "case"`},
		{"two values", `{"case":"c","tool":"t","metric":"m","value":1} {}`, "more than one"},
	} {
		if _, err := readMeasurements(strings.NewReader(tc.lines)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ name, lines, want string }{
		{"run twice", `{"case":"c","tool":"t","run":1,"metric":"m","value":1}
{"case":"c","tool":"t","run":1,"metric":"m","value":2}`, "run 1 appears twice"},
		{"direction conflict", `{"case":"c","tool":"t","metric":"m","value":1,"higher_better":true}
{"case":"c","tool":"u","metric":"m","value":2,"higher_better":false}`, "both true and false"},
	} {
		ms, err := readMeasurements(strings.NewReader(tc.lines))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := build(ms, meta{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestFmtNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 812.4: "812.4", 812.04: "812", 38.25: "38.25", 12.3: "12.3", 1210: "1,210",
		1234567.8: "1,234,568", -2500: "-2,500", 0.01234: "0.0123", 100: "100", 999.96: "1000",
	} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestMarkdownGolden renders testdata through the command, as make bench
// would, and compares the markdown with testdata/RESULTS.golden.md
// (go test -run Golden -update rewrites it).
func TestMarkdownGolden(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "RESULTS.md")
	var stderr bytes.Buffer
	err := run([]string{"-in", "testdata/measurements.jsonl", "-meta", "testdata/meta.json",
		"-out", out, "-png", filepath.Join(dir, "results.png")}, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "RESULTS.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("markdown differs from %s (go test -run Golden -update to accept):\n%s", golden, got)
	}
	if !strings.Contains(string(got), "](results.png)") {
		t.Error("the markdown does not link the chart by its relative path")
	}
	wantErr := "MET: small / objects/s: at least 1.5x rclone\n"
	if !strings.HasPrefix(stderr.String(), wantErr) {
		t.Errorf("stderr = %q, want it to start with %q", stderr.String(), wantErr)
	}
}

func TestRunArguments(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "R.md")
	// The input as the argument, and no chart.
	if err := run([]string{"-out", out, "-png", "", "testdata/measurements.jsonl"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(md), "![") {
		t.Error("-png \"\" still links a chart")
	}
	if !strings.HasPrefix(string(md), "# Benchmarks: ferry against its peers\n") {
		t.Errorf("without -meta the title is %q", strings.SplitN(string(md), "\n", 2)[0])
	}
	if err := run([]string{"-out", out}, &bytes.Buffer{}); err == nil {
		t.Error("no input accepted")
	}
}

const reconcileLines = `
{"case":"rec","tool":"ferry","run":1,"metric":"seconds","value":7,"higher_better":false,"rss_mib":40,"requests":{"LIST":204,"HEAD":0,"GET":0,"PUT":0,"other":2}}
{"case":"rec","tool":"ferry","run":2,"metric":"seconds","value":8,"higher_better":false,"rss_mib":44}
{"case":"rec","tool":"rclone","run":1,"metric":"seconds","value":90,"higher_better":false,"rss_mib":180,"requests":{"HEAD":200000,"LIST":2002,"Zeta":1}}
{"case":"rec","tool":"rclone","run":2,"metric":"seconds","value":100,"higher_better":false,"rss_mib":170,"requests":{"HEAD":200010,"LIST":2002,"Zeta":1}}
{"case":"nomem","tool":"ferry","metric":"seconds","value":7,"higher_better":false}
`

func TestRequestColumns(t *testing.T) {
	rep := parse(t, reconcileLines, "")
	mt := table(t, rep, "rec", "seconds")
	if got := mt.tool("rclone").Requests["HEAD"]; got == nil || got.Median != 200005 || got.N != 2 {
		t.Errorf("rclone's HEAD requests = %+v, want the median of 2 runs, 200,005", got)
	}
	if got := mt.Ref.Requests["LIST"]; got == nil || got.N != 1 {
		t.Errorf("ferry's LIST requests = %+v, want the one counted run", got)
	}
	md := rep.markdown("")
	for _, want := range []string{
		// The known kinds first in their order, then the rest alphabetically.
		"| peak RSS median (MiB) | LIST | HEAD | GET | PUT | other | Zeta |\n",
		"| **ferry** | 7.5 | 7 | 8 | 2 | - | 42 | 204 | 0 | 0 | 0 | 2 | - |\n",
		"| rclone | 95 | 90 | 100 | 2 | ferry 12.67x better | 175 | 2,002 | 200,005 | - | - | - | 1 |\n",
		"LIST, HEAD, GET, PUT, other, Zeta: S3 requests by kind",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md[strings.Index(md, "## nomem"):], "| LIST |") {
		t.Errorf("a table without request counts has request columns:\n%s", md)
	}
}

func TestResourceTargets(t *testing.T) {
	for _, tc := range []struct {
		name, target, verdict, figures string
	}{
		{"met", `{"case":"rec","metric":"seconds","max_rss_mib":100,"max_requests":{"HEAD":0}}`, verdictMet,
			"ferry peak RSS 42 MiB (needs <= 100); ferry HEAD requests 0 (needs <= 0)"},
		{"rss too high", `{"case":"rec","metric":"seconds","max_rss_mib":40}`, verdictNotMet, "ferry peak RSS 42 MiB (needs <= 40)"},
		{"requests too many", `{"case":"rec","metric":"seconds","max_requests":{"HEAD":0,"LIST":100}}`, verdictNotMet,
			"ferry LIST requests 204 (needs <= 100); ferry HEAD requests 0 (needs <= 0)"},
		{"kind not counted", `{"case":"rec","metric":"seconds","max_requests":{"GETX":0}}`, verdictNoData, "ferry's GETX requests not counted"},
		{"no rss", `{"case":"nomem","max_rss_mib":100,"max_requests":{"HEAD":0}}`, verdictNoData,
			"ferry's peak RSS not measured; ferry's HEAD requests not counted"},
		{"with a peer", `{"case":"rec","metric":"seconds","peer":"rclone","ratio":10,"max_requests":{"HEAD":0}}`, verdictMet,
			"12.67x better (needs >= 10.00x better); ferry HEAD requests 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := parse(t, reconcileLines, `{"targets":[`+tc.target+`]}`)
			got := rep.Targets[0]
			figs := strings.Join(got.Figures, "; ")
			if got.Verdict != tc.verdict || !strings.Contains(figs, tc.figures) {
				t.Errorf("got %s: %s\nwant %s with %q", got.Verdict, figs, tc.verdict, tc.figures)
			}
		})
	}
	if _, err := readMeta([]byte(`{"targets":[{"case":"rec","max_requests":{}}]}`)); err == nil {
		t.Error("a target with an empty max_requests and no other condition was accepted")
	}
}
