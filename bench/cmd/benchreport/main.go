// Command benchreport turns benchmark measurements into bench/RESULTS.md
// and a PNG chart (issue 7): per case, each tool's median over its runs
// with the min and max, ferry's ratio against each peer, each figure as a
// fraction of the servers' limit, and the targets MET or NOT MET.
//
//	go run ./bench/cmd/benchreport -in MEASUREMENTS.jsonl [-meta META.json] \
//	    [-out bench/RESULTS.md] [-png bench/results.png] [-width 1200]
//
// The measurements (-in, or the one argument) are JSON lines, one figure
// per line; blank lines and lines starting with # are skipped:
//
//	{"case":"small","title":"10,000 x 4 KiB, a -> b","tool":"ferry","run":1,
//	 "metric":"objects/s","value":812.4,"higher_better":true,
//	 "rss_mib":38.2,"seconds":12.3,"note":"..."}
//	{"case":"small","tool":"mc mirror","skipped":"mc not installed"}
//	{"case":"reconcile","tool":"ferry","run":1,"metric":"seconds","value":7.1,
//	 "higher_better":false,"rss_mib":37,"requests":{"LIST":202,"HEAD":0,"GET":0,"PUT":0,"other":2}}
//
// case, tool, metric and value are required (case and tool when skipped);
// title, run, higher_better (default true), rss_mib, seconds, requests (S3
// requests by kind; a column each, LIST HEAD GET PUT other first) and note
// are optional; a metric (optional) on a skipped line limits it to that
// metric.
// A tool whose name starts with "limit" ("limit", "limit: raw PUT") is the
// servers' limit for the case and metric; with several, the worst binds.
// Unknown fields and a run number seen twice for the same case, metric
// and tool are errors.
//
// The -meta file is one JSON object, every field optional:
//
//	{"title":"...", "date":"2026-12-01", "machine":"...", "command":"make bench",
//	 "versions":{"ferry":"...","rclone":"..."}, "notes":["..."],
//	 "reference":"ferry",
//	 "targets":[{"case":"small","metric":"objects/s","text":"at least 1.5x rclone",
//	             "peer":"rclone","ratio":1.5},
//	            {"case":"large","metric":"MB/s","text":"...","best_peer":true,"limit_fraction":0.8},
//	            {"case":"latency","metric":"p99 ms","text":"...","peer":"minio replication","ratio":1.0,"max":1000},
//	            {"case":"reconcile","metric":"seconds","text":"...","max_rss_mib":100,"max_requests":{"HEAD":0}}]}
//
// A target holds when every condition given holds (see target); it is NO
// DATA when none fails but a figure it needs is missing. -png "" writes no
// chart. It prints one line per target to stderr.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run is the command with its arguments; the targets' verdicts go to
// stderr.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the measurements, JSON lines (or give the file as the argument)")
	metaPath := fs.String("meta", "", "the header, notes and targets, a JSON object (optional)")
	out := fs.String("out", "bench/RESULTS.md", "the markdown report to write")
	pngPath := fs.String("png", "bench/results.png", `the chart to write ("" for none)`)
	width := fs.Int("width", 1200, "the chart's width in pixels (its height follows the panels)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case *in == "" && fs.NArg() == 1:
		*in = fs.Arg(0)
	case *in == "" || fs.NArg() > 0:
		fs.Usage()
		return errors.New("need the measurements: -in FILE or one argument")
	}
	if *width < 400 {
		return fmt.Errorf("-width %d: at least 400", *width)
	}

	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	ms, err := readMeasurements(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %v", *in, err)
	}
	var md meta
	if *metaPath != "" {
		data, err := os.ReadFile(*metaPath)
		if err != nil {
			return err
		}
		if md, err = readMeta(data); err != nil {
			return fmt.Errorf("%s: %v", *metaPath, err)
		}
	}
	rep, err := build(ms, md)
	if err != nil {
		return fmt.Errorf("%s: %v", *in, err)
	}

	chart := ""
	if *pngPath != "" {
		var buf bytes.Buffer
		if err := writeChart(&buf, rep, *width); err != nil {
			return err
		}
		if err := os.WriteFile(*pngPath, buf.Bytes(), 0o644); err != nil {
			return err
		}
		chart = relPath(*out, *pngPath)
	}
	if err := os.WriteFile(*out, []byte(rep.markdown(chart)), 0o644); err != nil {
		return err
	}
	for _, t := range rep.Targets {
		fmt.Fprintf(stderr, "%s: %s / %s: %s\n", t.Verdict, t.Target.Case, t.Metric, t.Target.Text)
	}
	return nil
}

// relPath is the chart's path as the markdown file links it: relative to
// the markdown's directory when it can be.
func relPath(md, png string) string {
	amd, err1 := filepath.Abs(md)
	apng, err2 := filepath.Abs(png)
	if err1 == nil && err2 == nil {
		if r, err := filepath.Rel(filepath.Dir(amd), apng); err == nil {
			return r
		}
	}
	return png
}
