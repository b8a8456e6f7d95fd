package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferry-s3/ferry/internal/rules"
)

// replication loads the rules (from replication_file, inline, or implicit)
// into c.Replication and checks that rules and destinations agree.
func (chk *checker) replication(c *Config, baseDir string) {
	switch {
	case c.ReplicationFile != "" && c.Replication != nil:
		chk.add("replication_file", "replication and replication_file are both given; use one")
	case c.ReplicationFile != "":
		chk.replicationFile(c, baseDir)
	case c.Replication != nil:
		if err := c.Replication.Validate(); err != nil {
			chk.inline(err)
		}
		chk.crossCheck(c, chk.inline)
	default:
		c.Replication = implicitRules(c)
	}
}

// replicationFile reads an AWS ReplicationConfiguration JSON file; its
// problems are reported against that file.
func (chk *checker) replicationFile(c *Config, baseDir string) {
	path := c.ReplicationFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		chk.addErr("replication_file", err)
		return
	}
	repl, err := rules.ParseJSON(data)
	if err != nil {
		for _, e := range unjoin(err) {
			var de *rules.DecodeError
			if errors.As(e, &de) {
				chk.errs = append(chk.errs, &Error{File: path, Line: de.Line, Err: errorString(de.Msg)})
			} else {
				chk.errs = append(chk.errs, &Error{File: path, Err: e})
			}
		}
		return
	}
	c.Replication = repl
	chk.crossCheck(c, func(err error) { chk.errs = append(chk.errs, &Error{File: path, Err: err}) })
}

// inline reports rule problems of inline YAML at the rule field's line.
func (chk *checker) inline(err error) {
	for _, e := range unjoin(err) {
		line := chk.line("replication")
		var fe *rules.FieldError
		if errors.As(e, &fe) {
			line = chk.line("replication." + fe.Path())
		}
		chk.errs = append(chk.errs, &Error{File: chk.file, Line: line, Path: "replication", Err: e})
	}
}

// crossCheck makes rules and destinations agree: every rule must send to
// a listed destination (ferry needs its profile), and every destination
// must be used by some rule (an unused one is almost always a typo in a
// bucket ARN). Rule problems go to report; destination problems to chk.
func (chk *checker) crossCheck(c *Config, report func(error)) {
	var listed []string
	for _, d := range c.Destinations {
		if d != nil && d.Bucket != "" {
			listed = append(listed, d.Bucket)
		}
	}
	used := map[string]bool{}
	for i, r := range c.Replication.Rules {
		if r == nil {
			continue
		}
		name, ok := rules.ParseBucketARN(r.Destination.Bucket)
		if !ok {
			continue // reported by rules' own validation
		}
		used[name] = true
		if c.Destination(name) == nil {
			report(&rules.FieldError{Index: i, ID: r.ID, Field: "Destination.Bucket",
				Problem: fmt.Sprintf("bucket %q is not listed under destinations (listed: %s)", name, strings.Join(listed, ", "))})
		}
	}
	for i, d := range c.Destinations {
		if d != nil && d.Bucket != "" && !used[d.Bucket] {
			chk.add(fmt.Sprintf("destinations[%d].bucket", i), "%q is not the destination of any rule (rules name it as %q)", d.Bucket, rules.BucketARN(d.Bucket))
		}
	}
}

// implicitRules is what ferry replicates when ferry.yaml names no rules:
// every object to every destination, one V2 rule each. Delete markers are
// not replicated (S3's default for new rules: a deletion at the source
// does not reach the copies). SSE-KMS objects are included only where the
// destination names a KMS key, as S3 requires a ReplicaKmsKeyID for them.
func implicitRules(c *Config) *rules.Configuration {
	repl := &rules.Configuration{}
	for _, d := range c.Destinations {
		if d == nil || checkBucketName(d.Bucket) != nil {
			continue // reported already; a rule for it would only repeat that
		}
		prefix, priority := "", len(repl.Rules)
		r := &rules.Rule{
			ID:                      "default-" + d.Bucket,
			Priority:                &priority,
			Status:                  rules.Enabled,
			Filter:                  &rules.Filter{Prefix: &prefix},
			DeleteMarkerReplication: &rules.StatusElement{Status: rules.Disabled},
			Destination:             rules.Destination{Bucket: rules.BucketARN(d.Bucket)},
		}
		if e := d.Encryption; e != nil && e.Type == EncryptionKMS && e.KMSKeyID != "" {
			r.SourceSelectionCriteria = &rules.SourceSelectionCriteria{SseKmsEncryptedObjects: &rules.StatusElement{Status: rules.Enabled}}
			r.Destination.EncryptionConfiguration = &rules.EncryptionConfiguration{ReplicaKmsKeyID: e.KMSKeyID}
		}
		repl.Rules = append(repl.Rules, r)
	}
	if len(repl.Rules) > 0 {
		// Validate records the rules' positions. The rules are built valid;
		// the only possible problem, two destinations with one bucket, has
		// been reported against destinations already.
		_ = repl.Validate()
	}
	return repl
}

// unjoin splits an errors.Join result back into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
