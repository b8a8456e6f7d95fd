package setup

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ferry-s3/ferry/internal/config"
)

// Event types ferry asks for.
const (
	ObjectCreated = "s3:ObjectCreated:*"
	ObjectRemoved = "s3:ObjectRemoved:*"
)

// Want is ferry's configuration for cfg: objects created always; objects
// removed only when cfg replicates deletes (events nothing would act on
// only cost requests); keys limited to the prefix every enabled rule
// shares.
func Want(cfg *config.Config, t Target) (Entry, error) {
	var enabled []string
	for _, r := range cfg.Replication.Rules {
		if r.Enabled() {
			enabled = append(enabled, r.KeyPrefix())
		}
	}
	if len(enabled) == 0 {
		return Entry{}, errors.New("no enabled rule: no event would be acted on")
	}
	e := Entry{ID: ID, Kind: t.Kind, ARN: t.ARN, Events: []string{ObjectCreated}, Prefix: commonPrefix(enabled)}
	if ReplicatesDeletes(cfg) {
		e.Events = append(e.Events, ObjectRemoved)
	}
	slices.Sort(e.Events)
	return e, nil
}

// ReplicatesDeletes reports whether any delete would be acted on: an
// enabled rule replicates delete markers (V1 rules always do), or a
// destination replicates the deletes of an unversioned source.
func ReplicatesDeletes(cfg *config.Config) bool {
	for _, r := range cfg.Replication.Rules {
		if r.Enabled() && r.DeleteMarkersEnabled() {
			return true
		}
	}
	for _, d := range cfg.Destinations {
		if d != nil && d.ReplicateDeletes {
			return true
		}
	}
	return false
}

// commonPrefix is the longest prefix of every string ("" as soon as one
// rule covers the whole bucket). It may end mid-word ("logs/" and "lost/"
// share "lo"): the filter only has to let every wanted key through; the
// rules still decide.
func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	// A byte-wise prefix may end inside a multi-byte character, which S3
	// would refuse as a filter value.
	for !utf8.ValidString(p) {
		p = p[:len(p)-1]
	}
	return p
}
