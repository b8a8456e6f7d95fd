package setup

import (
	"slices"
	"strings"
)

// Action is what a plan does to one configuration.
type Action string

// Actions of a plan.
const (
	Keep      Action = "keep"      // not ferry's: left as it is
	Unchanged Action = "unchanged" // ferry's, already as wanted
	Add       Action = "add"
	Replace   Action = "replace"
	Remove    Action = "remove" // a second configuration of ferry's
)

// Change is one line of a plan. Old is the configuration as it is (nil
// for Add), New as it will be (nil for Remove).
type Change struct {
	Action Action
	Old    *Entry
	New    *Entry
}

// Overlap is a configuration that is not ferry's and asks for some of the
// same events of some of the same keys as ferry's. AWS S3 refuses such
// a pair ("Configurations overlap"); MinIO sends the events to both.
type Overlap struct {
	Entry
	// SameTarget: it already sends to ferry's target, which would then
	// get those events twice.
	SameTarget bool
}

// Plan is the bucket's notification configuration as it is and as it will
// be once ferry's is added or replaced.
type Plan struct {
	Bucket   string
	Target   Target
	Ferry    Entry // ferry's configuration, as wanted
	Current  Config
	Result   Config
	Changes  []Change
	Overlaps []Overlap
}

// NewPlan merges ferry's configuration into current: every configuration
// that is not ferry's is kept, in its place; the first of ferry's becomes
// ferry (replaced if it differs), any other of ferry's is removed, and
// ferry is added at the end if there was none.
func NewPlan(bucket string, t Target, current Config, ferry Entry) *Plan {
	p := &Plan{Bucket: bucket, Target: t, Ferry: ferry, Current: current}
	p.Result.EventBridge = current.EventBridge
	placed := false
	for _, e := range current.Entries {
		switch {
		case !IsFerrys(e.ID):
			p.Result.Entries = append(p.Result.Entries, e)
			p.Changes = append(p.Changes, Change{Action: Keep, Old: ptr(e), New: ptr(e)})
			if overlaps(e, ferry) {
				p.Overlaps = append(p.Overlaps, Overlap{Entry: e, SameTarget: e.ARN == ferry.ARN})
			}
		case placed:
			p.Changes = append(p.Changes, Change{Action: Remove, Old: ptr(e)})
		default:
			placed = true
			p.Result.Entries = append(p.Result.Entries, ferry)
			a := Unchanged
			if !e.Equal(ferry) {
				a = Replace
			}
			p.Changes = append(p.Changes, Change{Action: a, Old: ptr(e), New: ptr(ferry)})
		}
	}
	if !placed {
		p.Result.Entries = append(p.Result.Entries, ferry)
		p.Changes = append(p.Changes, Change{Action: Add, New: ptr(ferry)})
	}
	return p
}

func ptr(e Entry) *Entry { return &e }

// Changed reports whether applying the plan changes anything.
func (p *Plan) Changed() bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action != Keep && c.Action != Unchanged })
}

// overlaps reports whether a and b share an event type and a key: S3's
// notion of overlapping configurations. Wildcards cover their family
// (s3:ObjectCreated:* covers s3:ObjectCreated:Put); prefixes overlap when
// one starts with the other, suffixes when one ends with the other.
func overlaps(a, b Entry) bool {
	shared := false
	for _, ea := range a.Events {
		for _, eb := range b.Events {
			shared = shared || covers(ea, eb) || covers(eb, ea)
		}
	}
	return shared &&
		(strings.HasPrefix(a.Prefix, b.Prefix) || strings.HasPrefix(b.Prefix, a.Prefix)) &&
		(strings.HasSuffix(a.Suffix, b.Suffix) || strings.HasSuffix(b.Suffix, a.Suffix))
}

// covers reports whether event type pattern w includes e.
func covers(w, e string) bool {
	if stem, ok := strings.CutSuffix(w, "*"); ok {
		return strings.HasPrefix(e, stem)
	}
	return w == e
}
