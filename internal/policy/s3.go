package policy

import "slices"

// The S3 statements. Each grants what one code path sends (table.go maps
// operations to actions): the Sid says which and where.

// listStatement grants listing b under prefixes. HeadBucket, which ferry
// sends to check that a bucket answers, is authorised by s3:ListBucket
// too and carries no prefix; so the prefix condition is ...IfExists: a
// listing that names a prefix outside the rules is denied, a request
// without one (HeadBucket, or a listing of the whole bucket) is not,
// because IAM cannot tell the two apart. MinIO and Ceph RGW know no
// ...IfExists operators and refuse a policy that has one, and their
// HeadBucket would fail a plain StringLike: a bucket they serve gets an
// unconditioned listing (the object statements still keep to the
// prefixes).
func listStatement(sid string, b bucket, prefixes []string, actions ...string) Statement {
	st := Statement{Sid: sid, Effect: Allow, Action: actions, Resource: Strings{b.arn()}}
	if !whole(prefixes) && b.AWS {
		var pats []string
		for _, p := range prefixes {
			pats = append(pats, escape(p)+"*")
		}
		st.Condition = Conditions{}.add("StringLikeIfExists", "s3:prefix", pats...)
	}
	return st
}

// listActions: ListObjectsV2 and HeadBucket need s3:ListBucket,
// ListObjectVersions s3:ListBucketVersions. Versions are listed when
// both buckets keep them, which ferry learns at start; on an unversioned
// bucket the version actions grant nothing more than the plain ones.
var listActions = []string{"s3:ListBucket", "s3:ListBucketVersions"}

// sourceStatements: check and list the source, read its objects (body,
// metadata, tags, of any version), its TargetBucket tag where the config
// takes destinations from it, and, for ferry check, its event
// notification configuration where the config has intakes (a run
// section).
func sourceStatements(src source, o Options, tagTargets, intakes bool) []Statement {
	out := []Statement{listStatement("ListSourceBucket", src.bucket, src.List, listActions...)}
	settings := Strings{"s3:GetBucketVersioning"}
	if tagTargets {
		settings = append(settings, "s3:GetBucketTagging")
	}
	if intakes {
		settings = append(settings, "s3:GetBucketNotification")
	}
	out = append(out, Statement{Sid: "ReadSourceBucketSettings", Effect: Allow, Action: settings, Resource: Strings{src.arn()}})
	if len(src.Read) > 0 {
		out = append(out, Statement{Sid: "ReadSourceObjects", Effect: Allow,
			Action:   Strings{"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
			Resource: src.objectsAll(src.Read)})
		if o.ObjectLock {
			// Without these a GET simply leaves the lock headers out, and
			// the replica would silently lose its retention.
			out = append(out, Statement{Sid: "ReadSourceObjectLock", Effect: Allow,
				Action:   Strings{"s3:GetObjectRetention", "s3:GetObjectLegalHold"},
				Resource: src.objectsAll(src.Read)})
		}
	}
	return out
}

// destStatements: check and list a destination, HEAD and write replicas
// (tags, the ACL, object lock), delete where the config replicates
// deletes, and the probe `ferry check` writes and removes.
func destStatements(d *dest, o Options) []Statement {
	id := d.ID
	out := []Statement{
		listStatement("ListDest"+id, d.bucket, d.List, listActions...),
		{Sid: "ReadDest" + id + "Settings", Effect: Allow,
			Action: Strings{"s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration"}, Resource: Strings{d.arn()}},
	}
	if len(d.Write) > 0 {
		objs := d.objectsAll(d.Write)
		// PutObject with x-amz-tagging needs s3:PutObjectTagging as well;
		// a replica always carries its source's tags.
		out = append(out, Statement{Sid: "WriteDest" + id + "Replicas", Effect: Allow,
			Action:   Strings{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"},
			Resource: objs})
		if len(d.ACLs) > 0 {
			// A PUT with x-amz-acl needs s3:PutObjectAcl; the condition
			// keeps it to the ACL the config sends. ferry check sets it
			// on its probe.
			out = append(out, Statement{Sid: "SetDest" + id + "ReplicaACL", Effect: Allow, Action: Strings{"s3:PutObjectAcl"},
				Resource:  append(slices.Clone(objs), d.objects(ProbePrefix)),
				Condition: Conditions{}.add("StringEquals", "s3:x-amz-acl", d.ACLs...)})
		}
		if o.ObjectLock {
			out = append(out, Statement{Sid: "WriteDest" + id + "ObjectLock", Effect: Allow,
				Action: Strings{"s3:PutObjectRetention", "s3:PutObjectLegalHold"}, Resource: objs})
		}
		if len(d.Deletes) > 0 {
			// A delete marker is replayed, or an unversioned replica
			// removed, with a DELETE without a version ID: never
			// s3:DeleteObjectVersion.
			out = append(out, Statement{Sid: "DeleteDest" + id + "Replicas", Effect: Allow,
				Action: Strings{"s3:DeleteObject"}, Resource: d.objectsAll(d.Deletes)})
		}
	}
	// ferry check writes a probe as ferry writes replicas, tags it, reads
	// it back and removes it: on a versioned bucket, by its version, so
	// nothing is left behind. Only under the probe prefix.
	out = append(out, Statement{Sid: "CheckProbeDest" + id, Effect: Allow,
		Action:   Strings{"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectVersion"},
		Resource: Strings{d.objects(ProbePrefix)}})
	return out
}

// deployTarget is a bucket `ferry deploy` (or the CodePipeline deploy
// action) publishes to.
type deployTarget struct {
	bucket
	Prefix string
	ID     string
}

// deployStatements: list the target, HEAD and upload files, remove what
// is gone (--delete).
func deployStatements(t deployTarget, o Options, keys []kmsKey) []Statement {
	id := t.ID
	objs := Strings{t.objects(t.Prefix)}
	out := []Statement{
		// A deploy lists current objects only.
		listStatement("ListDeploy"+id, t.bucket, []string{t.Prefix}, "s3:ListBucket"),
		{Sid: "WriteDeploy" + id, Effect: Allow, Action: Strings{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}, Resource: objs},
	}
	if o.DeployACL != "" {
		out = append(out, Statement{Sid: "SetDeploy" + id + "ACL", Effect: Allow, Action: Strings{"s3:PutObjectAcl"},
			Resource: objs, Condition: Conditions{}.add("StringEquals", "s3:x-amz-acl", o.DeployACL)})
	}
	if o.DeployDelete {
		out = append(out, Statement{Sid: "DeleteDeploy" + id, Effect: Allow, Action: Strings{"s3:DeleteObject"}, Resource: objs})
	}
	if len(keys) > 0 {
		out = append(out, keyStatements("EncryptDeploy"+id, kmsWrite, t.bucket, []string{t.Prefix}, keys)...)
	}
	return out
}
