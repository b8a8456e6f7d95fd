package setup

import (
	"fmt"
	"io"
	"strings"
)

// String is one configuration in a line:
// `ferry: queue arn:minio:sqs::ferry:webhook, s3:ObjectCreated:*, keys builds/*`.
func (e Entry) String() string {
	id := e.ID
	if id == "" {
		id = "(no Id)"
	}
	return fmt.Sprintf("%s: %s %s, %s, %s", id, e.Kind, e.ARN, strings.Join(e.Events, " "), e.Keys())
}

// Keys says which keys the configuration is for: "all keys", "keys builds/*".
func (e Entry) Keys() string {
	if e.Prefix == "" && e.Suffix == "" {
		return "all keys"
	}
	return "keys " + e.Prefix + "*" + e.Suffix
}

// Show writes the plan for people: one line per configuration, marked
// with what happens to it, then any overlap.
func (p *Plan) Show(w io.Writer, where string) {
	fmt.Fprintf(w, "event notifications of s3://%s (%s), to %s (from %s):\n", p.Bucket, where, p.Target.ARN, p.Target.From)
	for _, c := range p.Changes {
		switch c.Action {
		case Keep:
			fmt.Fprintf(w, "  = %s  (kept: not ferry's)\n", c.Old)
		case Unchanged:
			fmt.Fprintf(w, "  = %s  (already so)\n", c.New)
		case Add:
			fmt.Fprintf(w, "  + %s  (added)\n", c.New)
		case Replace:
			fmt.Fprintf(w, "  ~ %s  (replaced)\n      was %s\n", c.New, c.Old)
		case Remove:
			fmt.Fprintf(w, "  - %s  (removed: ferry's configuration is %q)\n", c.Old, ID)
		}
	}
	if p.Current.EventBridge {
		fmt.Fprintln(w, "  = EventBridge delivery  (kept)")
	}
	for _, o := range p.Overlaps {
		fmt.Fprintf(w, "warning: %q asks for some of the same events of some of the same keys (%s, %s): %s\n",
			o.ID, strings.Join(o.Events, " "), o.Keys(), o.consequence())
	}
}

func (o Overlap) consequence() string {
	if o.SameTarget {
		return "it already sends them to " + o.ARN + ", which would get them twice; remove it, or rename its Id to " + ID + " so that setup manages it"
	}
	return "AWS S3 refuses overlapping configurations; MinIO sends such events to both targets"
}
