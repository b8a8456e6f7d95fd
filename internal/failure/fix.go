package failure

import "strings"

// Fix says, in one sentence, what to do about a failure reason: the
// status page and `ferry status` print it beside the reason.
func Fix(reason string) string {
	side, rest := "destination", reason
	switch {
	case strings.HasPrefix(reason, "Src"):
		side, rest = "source", reason[3:]
	case strings.HasPrefix(reason, "Dst"):
		rest = reason[3:]
	}
	profile := "the " + side + "'s profile"
	switch {
	case reason == "Transient":
		return "Retried automatically with backoff; if it persists, check that the server is up and reachable."
	case reason == "Interrupted":
		return "Ferry was stopped mid-copy; the work is redone at the next start."
	case rest == "BucketNotFound":
		return "Create the " + side + " bucket or fix its name in the config, then run `ferry retry`."
	case rest == "KmsKeyNotFound":
		return "Point the encryption config at an existing KMS key (or create it), then run `ferry retry`."
	case rest == "KmsKeyInvalidState":
		return "Enable the " + side + " KMS key (it is disabled or pending deletion), then run `ferry retry`."
	case rest == "KmsNotPermitted":
		return "Allow " + profile + " to use the KMS key (kms:Decrypt on the source, kms:GenerateDataKey on the destination; `ferry policy` writes it), then run `ferry retry`."
	case strings.HasSuffix(rest, "NotPermitted"):
		what := "the permission it needs"
		if a, ok := actions[strings.TrimSuffix(rest, "NotPermitted")]; ok {
			what = a
		}
		return "Grant " + profile + " " + what + " on the " + side + " bucket, then run `ferry retry`."
	}
	return "The " + side + " refused the request (" + reason + "); see the detail, fix the object or the config, then run `ferry retry`."
}

// actions are the IAM actions behind S3's NotPermitted reasons.
var actions = map[string]string{
	"PutObject":           "s3:PutObject",
	"MultipartInit":       "s3:PutObject",
	"MultipartPartUpload": "s3:PutObject",
	"MultipartComplete":   "s3:PutObject",
	"GetObject":           "s3:GetObject (and s3:GetObjectVersion)",
	"HeadObject":          "s3:GetObject",
	"DelObj":              "s3:DeleteObject",
	"PutTagging":          "s3:PutObjectTagging",
	"GetTagging":          "s3:GetObjectTagging",
	"PutAcl":              "s3:PutObjectAcl",
	"PutRetention":        "s3:PutObjectRetention",
	"GetRetention":        "s3:GetObjectRetention",
	"PutLegalHold":        "s3:PutObjectLegalHold",
	"GetLegalHold":        "s3:GetObjectLegalHold",
	"List":                "s3:ListBucket (and s3:ListBucketVersions)",
}
