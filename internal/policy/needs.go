package policy

import (
	"fmt"
	"slices"
)

// Call is one request as ferry sends it, described as IAM sees it.
type Call struct {
	Op string // a key of Operations, "s3:PutObject"
	// Part is the ARN partition (default "aws").
	Part string
	// S3: the bucket, the key (object operations; for DeleteObjects, each
	// key in Keys) and the version ID the request names.
	Bucket, Key, VersionID string
	Keys                   []string
	// Prefix is a listing's prefix parameter; nil when none is sent.
	Prefix *string
	// Headers that bring more actions in: x-amz-tagging, x-amz-acl,
	// x-amz-object-lock-mode / -retain-until-date, -legal-hold. At the
	// source, Lock asks for the object's lock settings back.
	Tagging bool
	ACL     string
	Lock    bool
	// CopySource is the object a CopyObject or UploadPartCopy copies.
	CopySource *ObjectRef
	// ReadKMS and WriteKMS are set when the object read (or written) is
	// SSE-KMS: S3 then calls KMS on ferry's behalf.
	ReadKMS, WriteKMS *KMSUse
	// Resource is the ARN of a non-S3 resource (queue, topic, ...).
	Resource string
}

// ObjectRef is an S3 object version.
type ObjectRef struct{ Bucket, Key, VersionID string }

// KMSUse is a KMS key S3 uses for an object, and in which region.
type KMSUse struct {
	KeyARN  string
	Aliases []string // the key's aliases ("alias/name")
	Region  string
}

// Check is one IAM authorisation a call needs.
type Check struct {
	Action, Resource string
	Context          map[string][]string
}

func (c Check) String() string {
	if len(c.Context) == 0 {
		return c.Action + " on " + c.Resource
	}
	return fmt.Sprintf("%s on %s with %v", c.Action, c.Resource, c.Context)
}

// Needs returns the authorisations a call needs, from Operations and its
// headers, including those of the KMS calls S3 makes for it.
func Needs(c Call) ([]Check, error) {
	op, ok := Operations[c.Op]
	if !ok {
		return nil, fmt.Errorf("operation %s is not in policy.Operations: add it to the action table", c.Op)
	}
	part := c.Part
	if part == "" {
		part = "aws"
	}
	actions := op.Actions
	if c.VersionID != "" && op.Version != nil {
		actions = op.Version
	}
	obj := func(bucket, key string) string { return bucketARN(part, bucket) + "/" + key }
	var out []Check
	add := func(resource string, ctx map[string][]string, as ...string) {
		for _, a := range as {
			out = append(out, Check{Action: a, Resource: resource, Context: ctx})
		}
	}
	switch op.On {
	case onBucket:
		var ctx map[string][]string
		if c.Prefix != nil {
			ctx = map[string][]string{"s3:prefix": {*c.Prefix}}
		}
		add(bucketARN(part, c.Bucket), ctx, actions...)
	case onObject, onCopyDest:
		res := obj(c.Bucket, c.Key)
		var ctx map[string][]string
		if c.Op == "s3:PutObjectAcl" {
			ctx = map[string][]string{"s3:x-amz-acl": {c.ACL}}
		}
		add(res, ctx, actions...)
		if c.Tagging && !slices.Contains(actions, "s3:PutObjectTagging") && isWrite(c.Op) {
			add(res, nil, "s3:PutObjectTagging")
		}
		if c.ACL != "" && isWrite(c.Op) {
			add(res, map[string][]string{"s3:x-amz-acl": {c.ACL}}, "s3:PutObjectAcl")
		}
		if c.Lock {
			if isWrite(c.Op) {
				add(res, nil, "s3:PutObjectRetention", "s3:PutObjectLegalHold")
			} else {
				add(res, nil, "s3:GetObjectRetention", "s3:GetObjectLegalHold")
			}
		}
		if src := c.CopySource; src != nil {
			read := []string{"s3:GetObject", "s3:GetObjectTagging"}
			if src.VersionID != "" {
				read = []string{"s3:GetObjectVersion", "s3:GetObjectVersionTagging"}
			}
			if c.Op != "s3:CopyObject" {
				read = read[:1] // only CopyObject copies tags (TaggingDirective COPY)
			}
			add(obj(src.Bucket, src.Key), nil, read...)
		}
	case onPerKey:
		for _, k := range c.Keys {
			add(obj(c.Bucket, k), nil, actions...)
		}
	case onOther:
		add(c.Resource, nil, actions...)
	case onNothing:
		add("*", nil, actions...)
	}
	if k := c.ReadKMS; k != nil && len(op.KMSRead) > 0 {
		b, key := c.Bucket, c.Key
		if c.CopySource != nil {
			b, key = c.CopySource.Bucket, c.CopySource.Key
		}
		add(k.KeyARN, kmsContext(k, obj(b, key)), op.KMSRead...)
	}
	if k := c.WriteKMS; k != nil && len(op.KMSWrite) > 0 {
		add(k.KeyARN, kmsContext(k, obj(c.Bucket, c.Key)), op.KMSWrite...)
	}
	return out, nil
}

// isWrite reports whether op writes an object (and so takes headers
// that set tags, the ACL and object lock).
func isWrite(op string) bool {
	switch op {
	case "s3:PutObject", "s3:CreateMultipartUpload", "s3:CopyObject":
		return true
	}
	return false
}

// kmsContext is the request context of S3 calling KMS for an object.
func kmsContext(k *KMSUse, objectARN string) map[string][]string {
	_, via := viaS3(k.Region)
	ctx := map[string][]string{keyViaService: {via}, keyS3Context: {objectARN}}
	if len(k.Aliases) > 0 {
		ctx[keyAliases] = k.Aliases
	}
	return ctx
}
