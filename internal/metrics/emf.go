package metrics

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/ferry-s3/ferry/internal/worker"
)

// Observation is the end of one operation, for EMF.
type Observation struct {
	worker.Target
	Bytes   int64
	Latency time.Duration // zero when nothing was written
	Failed  bool          // failed (the message will be delivered again)
	Missed  bool          // took longer than the rule's threshold
}

// Namespace is the CloudWatch namespace of ferry's metrics.
const Namespace = "Ferry"

// EMF writes obs as CloudWatch embedded-metric-format lines, one per rule
// and destination: in Lambda, a line printed is a metric recorded, with no
// API call and no agent. The metric names are S3 replication's where one
// fits.
func EMF(w io.Writer, at time.Time, obs []Observation) error {
	type agg struct {
		completed, failed, missed, bytes int64
		latencies                        []float64 // milliseconds
	}
	byOp := map[worker.Target]*agg{}
	var order []worker.Target
	for _, o := range obs {
		a := byOp[o.Target]
		if a == nil {
			a = &agg{latencies: []float64{}}
			byOp[o.Target] = a
			order = append(order, o.Target)
		}
		switch {
		case o.Failed:
			a.failed++
		default:
			a.completed++
			a.bytes += o.Bytes
			if o.Latency > 0 {
				a.latencies = append(a.latencies, float64(o.Latency.Microseconds())/1000)
			}
		}
		if o.Missed {
			a.missed++
		}
	}
	slices.SortFunc(order, func(a, b worker.Target) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Dest, b.Dest))
	})
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	directive := []map[string]any{{
		"Namespace":  Namespace,
		"Dimensions": [][]string{{"Rule", "Destination"}},
		"Metrics": []metric{{"OperationsCompleted", "Count"}, {"OperationsFailedReplication", "Count"},
			{"OperationsMissedThreshold", "Count"}, {"BytesReplicated", "Bytes"}, {"ReplicationLatency", "Milliseconds"}},
	}}
	enc := json.NewEncoder(w)
	for _, t := range order {
		a := byOp[t]
		line := map[string]any{
			"_aws":                        map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": directive},
			"Rule":                        t.Rule,
			"Destination":                 t.Dest,
			"OperationsCompleted":         a.completed,
			"OperationsFailedReplication": a.failed,
			"OperationsMissedThreshold":   a.missed,
			"BytesReplicated":             a.bytes,
			"ReplicationLatency":          a.latencies,
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
