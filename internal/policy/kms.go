package policy

import (
	"strings"

	"github.com/ferry-s3/ferry/internal/awsarn"
)

// kmsKey is a KMS key as a policy names it.
type kmsKey struct {
	Written string // as the config or flag wrote it
	// ARN is the key's ARN, or arn:...:key/* when the key is named by an
	// alias: permissions are checked against the key, never the alias,
	// so an alias becomes a kms:ResourceAliases condition.
	ARN     string
	Alias   string // "alias/name", when named by an alias
	Region  string // "" when unknown
	Account string // "" when unknown
}

// resolveKey turns a key ID, key ARN, alias or alias ARN into what a
// policy can name. region and account are the bucket's, used when the
// key is not an ARN (S3 looks a bare key ID or alias up in the bucket's
// region and the caller's account).
func resolveKey(written, region, account string) kmsKey {
	k := kmsKey{Written: written, Region: region, Account: account}
	if strings.HasPrefix(written, "arn:") {
		parts := strings.SplitN(written, ":", 6)
		if len(parts) == 6 {
			k.Region, k.Account = parts[3], parts[4]
			if name, ok := strings.CutPrefix(parts[5], "alias/"); ok {
				k.Alias = "alias/" + name
				k.ARN = strings.Join(parts[:5], ":") + ":key/*"
				return k
			}
			k.ARN = written
			return k
		}
	}
	base := "arn:" + awsarn.Partition(k.Region) + ":kms:" + orAny(k.Region) + ":" + orAny(k.Account) + ":key/"
	if strings.HasPrefix(written, "alias/") {
		k.Alias = written
		k.ARN = base + "*"
		return k
	}
	k.ARN = base + written
	return k
}

// viaS3 is the kms:ViaService value of S3 in a region, and the operator
// that compares it (StringLike when the region is a wildcard).
func viaS3(region string) (operator, value string) {
	if region == "" {
		return "StringLike", "s3.*.amazonaws.com"
	}
	return "StringEquals", "s3." + region + "." + dnsSuffix(region)
}

// Condition keys ferry's KMS statements use.
const (
	keyViaService = "kms:ViaService"
	keyS3Context  = "kms:EncryptionContext:aws:s3:arn"
	keyAliases    = "kms:ResourceAliases"
)

// s3KeyConditions limit a KMS permission to S3 working on the objects
// under prefixes of b, as AWS documents for replication roles: S3 calls
// KMS with the object's ARN as encryption context, or the bucket's ARN
// when the bucket uses S3 Bucket Keys (which is why the bare bucket ARN
// is allowed too: no object ARN equals it).
func s3KeyConditions(b bucket, prefixes []string, k kmsKey) Conditions {
	op, via := viaS3(b.Region)
	c := Conditions{}.add(op, keyViaService, via)
	c = c.add("StringLike", keyS3Context, append(b.objectsAll(prefixes), b.arn())...)
	if k.Alias != "" {
		c = c.add("ForAnyValue:StringEquals", keyAliases, k.Alias)
	}
	return c
}

// kmsActions are what S3 asks KMS for on ferry's behalf. Writing an
// SSE-KMS object takes a data key (GenerateDataKey); a multipart upload
// also needs Decrypt, because S3 decrypts the data key again for each
// part and to complete the upload. Reading takes Decrypt. S3 never calls
// Encrypt for an object, so it is not granted.
var (
	kmsWrite = []string{"kms:GenerateDataKey", "kms:Decrypt"}
	kmsRead  = []string{"kms:Decrypt"}
)

// keyStatements grants actions on keys to S3 working for ferry on b's
// objects under prefixes. Keys named by aliases get a statement each
// (their resource is key/* and the alias a condition); the others share
// one.
func keyStatements(sid string, actions []string, b bucket, prefixes []string, keys []kmsKey) []Statement {
	var out []Statement
	var plain Strings
	for _, k := range keys {
		if k.Alias == "" {
			plain = appendNew(plain, k.ARN)
			continue
		}
		id := sid
		if len(keys) > 1 {
			id += camel(k.Alias)
		}
		out = append(out, Statement{Sid: id, Effect: Allow, Action: actions,
			Resource: Strings{k.ARN}, Condition: s3KeyConditions(b, prefixes, k)})
	}
	if len(plain) > 0 {
		out = append([]Statement{{Sid: sid, Effect: Allow, Action: actions, Resource: plain,
			Condition: s3KeyConditions(b, prefixes, kmsKey{})}}, out...)
	}
	return out
}

// appendNew appends s unless it is there already.
func appendNew(list Strings, s string) Strings {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
