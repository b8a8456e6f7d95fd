package config

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ferry-s3/ferry/internal/rules"
)

// Target is one destination an object must be copied to, with every
// setting resolved: ferry.yaml's destination settings win over the rule's
// Destination element.
type Target struct {
	Rule *rules.Rule
	Dest *Destination
	// Key is the object's key at the destination (after key_rewrite).
	Key string
	// ACL is the canned ACL to send, "" for none.
	ACL string
	// StorageClass is the storage class to write; "" means none was
	// configured, and (as in S3 replication) the replica keeps the source
	// object's storage class.
	StorageClass string
	// Encryption is what to write the replica with; nil means send no
	// server-side-encryption headers, so the destination bucket's default
	// encryption applies. Its Type is never "none".
	Encryption *Encryption
	// DeleteMarkers reports whether deleting the source object (a delete
	// marker) is replicated to this destination.
	DeleteMarkers bool
}

// ownerFullControl is what AccessControlTranslation{Owner: Destination}
// means as a canned ACL: the destination bucket's owner gets the replica.
const ownerFullControl = "bucket-owner-full-control"

// Targets lists where obj must go: one Target per destination whose rule
// matches (see rules.Configuration.Match), in rule order. It is pure.
//
// A target whose rewritten key would be empty is left out: that is the
// folder marker of the very prefix key_rewrite strips ("prefix/" with
// from "prefix/" and to ""), which has no meaning at the destination.
func (c *Config) Targets(obj rules.Object) []Target {
	if c.Replication == nil {
		return nil
	}
	var out []Target
	for _, r := range c.Replication.Match(obj) {
		d := c.Destination(r.Destination.BucketName())
		if d == nil {
			continue // Load rejects rules without a destination
		}
		key := d.RewriteKey(obj.Key)
		if key == "" {
			continue
		}
		out = append(out, Target{
			Rule:          r,
			Dest:          d,
			Key:           key,
			ACL:           resolveACL(d, r),
			StorageClass:  cmp.Or(d.StorageClass, r.Destination.StorageClass),
			Encryption:    resolveEncryption(d, r),
			DeleteMarkers: r.DeleteMarkersEnabled(),
		})
	}
	return out
}

func resolveACL(d *Destination, r *rules.Rule) string {
	if d.ACL != "" {
		return d.ACL
	}
	if a := r.Destination.AccessControlTranslation; a != nil && a.Owner == "Destination" {
		return ownerFullControl
	}
	return ""
}

func resolveEncryption(d *Destination, r *rules.Rule) *Encryption {
	if e := d.Encryption; e != nil {
		if e.Type == EncryptionNone {
			return nil
		}
		enc := *e // a copy: callers must not be able to change the config
		return &enc
	}
	if e := r.Destination.EncryptionConfiguration; e != nil && e.ReplicaKmsKeyID != "" {
		return &Encryption{Type: EncryptionKMS, KMSKeyID: e.ReplicaKmsKeyID}
	}
	return nil
}

// RewriteKey is key at this destination: key_rewrite's from prefix
// replaced by its to prefix. Keys outside the from prefix, and every key
// when there is no key_rewrite, are unchanged.
func (d *Destination) RewriteKey(key string) string {
	if d.KeyRewrite == nil {
		return key
	}
	rest, ok := strings.CutPrefix(key, d.KeyRewrite.From)
	if !ok {
		return key
	}
	return d.KeyRewrite.To + rest
}

// Prefixes are the source key prefixes the enabled rules cover, sorted,
// with prefixes inside others dropped: [""] means the whole bucket, none
// means nothing is replicated. Listings (backfill, reconcile) can be
// narrowed to them; what they find must still go through Targets.
func (c *Config) Prefixes() []string {
	if c.Replication == nil {
		return nil
	}
	var all []string
	for _, r := range c.Replication.Rules {
		if r != nil && r.Enabled() {
			all = append(all, r.KeyPrefix())
		}
	}
	slices.Sort(all)
	var out []string
	for _, p := range all {
		// Sorted, a prefix comes right before everything it covers.
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}
