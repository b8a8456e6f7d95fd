// Package plan decides, from what is known of a source version and its
// destination counterpart, whether a copy is needed. It is pure: no I/O, so
// every case is a table test.
package plan

import (
	"time"

	"github.com/ferry-s3/ferry/internal/object"
)

// Action is what to do for one key.
type Action int

const (
	Skip      Action = iota // destination is in sync
	Copy                    // copy the source version
	CheckHead               // the listing cannot tell: HEAD the destination, then DecideByOrigin
	Delete                  // the destination has a key the source lacks (only with --delete)
)

func (a Action) String() string {
	return [...]string{"skip", "copy", "check", "delete"}[a]
}

// Kind says what the two sides are, since each pair keeps sync differently.
type Kind int

const (
	BucketToBucket Kind = iota // replicas carry origin metadata; ETags usually match
	DirToBucket                // local file pushed: size and mtime, as `aws s3 sync`
	BucketToDir                // pulled file: size and the mtime ferry set from the object
)

// Decision is an action and why.
type Decision struct {
	Action Action
	Reason string
}

// Decide compares a source version with what the destination listing shows
// for its key (nil: absent), using listing data only. That keeps an in-sync
// bucket at LIST requests, no HEAD per object.
func Decide(k Kind, src object.Info, dst *object.Info) Decision {
	if dst == nil {
		return Decision{Copy, "missing at destination"}
	}
	if src.Size != dst.Size {
		return Decision{Copy, "size differs"}
	}
	switch k {
	case DirToBucket:
		if dst.LastModified.Before(src.LastModified.Truncate(time.Second)) {
			return Decision{Copy, "local file is newer"}
		}
		return Decision{Skip, "same size, not newer"}
	case BucketToDir:
		if !sameSecond(src.LastModified, dst.LastModified) {
			return Decision{Copy, "modification time differs"}
		}
		return Decision{Skip, "same size and time"}
	}
	if src.ETag != "" && src.ETag == dst.ETag {
		return Decision{Skip, "same ETag"}
	}
	// ETags differ when the replica is encrypted differently or was
	// written with another layout: the replica's origin metadata decides.
	return Decision{CheckHead, "ETag differs"}
}

// DecideByOrigin decides from the destination's metadata (after a HEAD).
func DecideByOrigin(src object.Info, dst *object.Meta) Decision {
	if dst == nil {
		return Decision{Copy, "missing at destination"}
	}
	o, ok := object.ParseOrigin(dst.UserMeta)
	switch {
	case !ok:
		return Decision{Copy, "destination object is not a replica"}
	case o.ETag != src.ETag:
		return Decision{Copy, "replica of another version"}
	case src.VersionID != "" && src.VersionID != "null" && o.VersionID != "" && o.VersionID != src.VersionID:
		return Decision{Copy, "replica of another version"}
	}
	return Decision{Skip, "replica of this version"}
}

func sameSecond(a, b time.Time) bool {
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}
