package check

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/policy"
)

// probeBody is the probe object's content: it says what it is, for
// whoever finds one left behind.
const probeBody = "ferry check: a probe object, written and deleted again by `ferry check`; safe to delete\n"

// probe writes a small object to d the way ferry writes replicas (with
// the destination's encryption, so that SSE-KMS asks KMS for a data key
// with the configured key, and its storage class), tags it, sets its ACL
// if one is configured, reads it back (decrypting it, for SSE-KMS), and
// deletes it. The delete is attempted whatever failed before it.
func (r *runner) probe(ctx context.Context, s *site, d *config.Destination, st settings) {
	key := policy.ProbePrefix + randomHex(8)
	target := "s3://" + d.Bucket + "/" + key
	if r.opt.NoWrite {
		for _, c := range st.checks() {
			r.add(Result{Check: c, Target: "s3://" + d.Bucket + "/" + policy.ProbePrefix, Status: Skip,
				Detail: "skipped: dry run, no probe written" + st.describe()})
		}
		return
	}
	res := Result{Check: "write", Target: target}
	in := &s3.PutObjectInput{
		Bucket: aws.String(d.Bucket), Key: aws.String(key),
		Body: strings.NewReader(probeBody), ContentLength: aws.Int64(int64(len(probeBody))),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"ferry-check": "probe"},
		// As ferry's writes do; object lock buckets require it.
		ContentMD5: aws.String(probeMD5()),
	}
	if st.storageClass != "" {
		in.StorageClass = types.StorageClass(st.storageClass)
	}
	if e := st.enc; e != nil {
		in.ServerSideEncryption = types.ServerSideEncryption(e.Type)
		if e.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(e.KMSKeyID)
		}
	}
	var version string
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.PutObject(ctx, in, s.calls()...)
		if err == nil {
			version = aws.ToString(out.VersionId)
		}
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{failure.DstSide, "s3:PutObject", objectsARN(d.Bucket)}, err)
		res.Detail = "PutObject refused" + st.describe()
		if kindOf(err) == kindKMS {
			res.Detail = "PutObject refused by KMS" + st.describe()
		}
		r.add(res)
		for _, c := range st.checks()[1:] {
			r.skip(c, target, "the write probe (nothing was written)")
		}
		if k := kindOf(err); k == kindUnreachable || k == kindInterrupted {
			// No answer: the write may have happened all the same.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opt.Timeout)
			defer cancel()
			_, _ = s.ep.S3.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)}, s.calls()...)
		}
		return
	}
	res.Status, res.Detail = Pass, "PutObject"+st.describe()
	r.add(res)

	r.probeTagging(ctx, s, d, key, target)
	if st.acl != "" {
		r.probeACL(ctx, s, d, key, target, st.acl)
	}
	r.probeHead(ctx, s, d, key, target, st)
	if st.kms() {
		r.probeDecrypt(ctx, s, d, key, target, st)
	}
	// The probe goes whatever happened above, and even if ctx is done.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opt.Timeout)
	defer cancel()
	r.probeCleanup(cctx, s, d, key, version, target, st)
}

// describe names the settings the probe was written with.
func (st settings) describe() string {
	var parts []string
	if e := st.enc; e != nil {
		if e.Type == config.EncryptionKMS {
			parts = append(parts, "SSE-KMS with key "+e.KMSKeyID)
		} else {
			parts = append(parts, "SSE "+e.Type)
		}
	}
	if st.storageClass != "" {
		parts = append(parts, "storage class "+st.storageClass)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (r *runner) probeTagging(ctx context.Context, s *site, d *config.Destination, key, target string) {
	res := Result{Check: "tagging", Target: target}
	err := r.call(ctx, func(ctx context.Context) error {
		_, err := s.ep.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
			Bucket: aws.String(d.Bucket), Key: aws.String(key),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("ferry-check"), Value: aws.String("probe")}}},
		}, s.calls()...)
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{failure.DstSide, "s3:PutObjectTagging", objectsARN(d.Bucket)}, err)
		res.Detail = "PutObjectTagging refused (ferry copies each object's tags)"
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, "PutObjectTagging"
	r.add(res)
}

func (r *runner) probeACL(ctx context.Context, s *site, d *config.Destination, key, target, acl string) {
	res := Result{Check: "acl", Target: target}
	err := r.call(ctx, func(ctx context.Context) error {
		_, err := s.ep.S3.PutObjectAcl(ctx, &s3.PutObjectAclInput{
			Bucket: aws.String(d.Bucket), Key: aws.String(key), ACL: types.ObjectCannedACL(acl),
		}, s.calls()...)
		return err
	})
	switch {
	case err == nil:
		res.Status, res.Detail = Pass, "PutObjectAcl "+acl
	case kindOf(err) == kindNotImplemented:
		// MinIO, for one: it accepts x-amz-acl on PutObject and ignores it.
		res.Status, res.Error = Warn, errText(err)
		res.Detail = "the server does not implement object ACLs: replicas are written without " + acl
		res.Fix = "remove acl (or AccessControlTranslation) for this destination, or accept that the server ignores it"
	default:
		res = r.failed(res, s, denial{failure.DstSide, "s3:PutObjectAcl", objectsARN(d.Bucket)}, err)
		res.Detail = "PutObjectAcl " + acl + " refused"
	}
	r.add(res)
}

// probeHead reads the probe's metadata back, as ferry reads each
// replica's origin record, and sees that the encryption asked for was
// applied.
func (r *runner) probeHead(ctx context.Context, s *site, d *config.Destination, key, target string, st settings) {
	res := Result{Check: "head", Target: target}
	var out *s3.HeadObjectOutput
	err := r.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.ep.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)}, s.calls()...)
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{failure.DstSide, "s3:GetObject", objectsARN(d.Bucket)}, err)
		res.Detail = "HeadObject refused (ferry reads each replica's origin metadata)"
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, "HeadObject"
	if out.Metadata["ferry-check"] != "probe" {
		res.Status, res.Detail = Warn, "HeadObject: the user metadata written is missing (ferry keeps each replica's origin in it)"
	}
	got := string(out.ServerSideEncryption)
	if e := st.enc; e != nil {
		if got != e.Type {
			res.Status = Warn
			res.Detail = fmt.Sprintf("HeadObject: written with %s, but the server reports encryption %q", e.Type, got)
			res.Fix = "check the server's encryption support (for SSE-KMS, its KMS configuration)"
		} else if k := aws.ToString(out.SSEKMSKeyId); k != "" {
			res.Detail += "; encrypted with " + k
		}
	} else if got != "" {
		res.Detail += "; encrypted by the bucket's default (" + got + ")"
	}
	r.add(res)
}

// probeDecrypt reads the probe's body back: for SSE-KMS, the server asks
// KMS to decrypt its data key, which the key's policy may refuse.
func (r *runner) probeDecrypt(ctx context.Context, s *site, d *config.Destination, key, target string, st settings) {
	res := Result{Check: "kms", Target: target}
	var body []byte
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)}, s.calls()...)
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body, err = io.ReadAll(io.LimitReader(out.Body, 1<<20))
		return err
	})
	switch {
	case err != nil:
		res = r.failed(res, s, denial{failure.DstSide, "s3:GetObject (and kms:Decrypt on " + st.enc.KMSKeyID + ")", objectsARN(d.Bucket)}, err)
		res.Reason = ""
		if kindOf(err) == kindKMS {
			res.Reason = failure.Classify(failure.Dst(err)).Reason
		}
		res.Detail = "the probe cannot be read back and decrypted"
	case string(body) != probeBody:
		res.Status, res.Detail = Fail, "the probe read back differs from what was written"
		res.Fix = "check the server's encryption (KMS) configuration"
	default:
		res.Status, res.Detail = Pass, "GetObject decrypts it (key "+st.enc.KMSKeyID+")"
	}
	r.add(res)
}

// probeCleanup deletes the probe. On a versioned bucket a plain delete
// only hides it behind a delete marker, so its version is deleted (and,
// when deletions are replicated here, first a delete marker is made, as
// ferry makes them, and then removed too). Whatever cannot be deleted is
// reported as left behind.
func (r *runner) probeCleanup(ctx context.Context, s *site, d *config.Destination, key, version, target string, st settings) {
	// Deleting the probe itself needs a grant under the probe prefix only;
	// ferry needs s3:DeleteObject on every key only where it replicates
	// deletions.
	probeARN := bucketARN(d.Bucket) + "/" + policy.ProbePrefix + "*"
	deleteARN := probeARN
	if st.deletes {
		deleteARN = objectsARN(d.Bucket)
	}
	del := func(versionID string) (marker string, err error) {
		err = r.call(ctx, func(ctx context.Context) error {
			in := &s3.DeleteObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key)}
			if versionID != "" {
				in.VersionId = aws.String(versionID)
			}
			out, err := s.ep.S3.DeleteObject(ctx, in, s.calls()...)
			if err == nil && versionID == "" && aws.ToBool(out.DeleteMarker) {
				marker = aws.ToString(out.VersionId)
			}
			return err
		})
		return marker, err
	}
	failed := false
	leftover := func(what, versionID string, err error, action, resource string) {
		failed = true
		res := r.failed(Result{Check: "cleanup", Target: target}, s, denial{failure.DstSide, action, resource}, err)
		res.Leftover = target
		cmd := "`aws s3api delete-object --bucket " + d.Bucket + " --key " + key
		if versionID != "" {
			res.Leftover += "?versionId=" + versionID
			cmd += " --version-id " + versionID
		}
		res.Detail = what + " is LEFT BEHIND: " + res.Leftover
		res.Fix += "; then remove the probe: " + cmd + "` (with an identity allowed to)"
		r.add(res)
	}

	if version == "" || version == "null" {
		if _, err := del(""); err != nil {
			leftover("the probe", "", err, "s3:DeleteObject", deleteARN)
			return
		}
		r.add(Result{Check: "cleanup", Target: target, Status: Pass, Detail: "DeleteObject: the probe is removed"})
		return
	}
	detail := "DeleteObject of its version: the probe is removed"
	if st.deletes {
		// What replicating a deletion does here: a delete marker.
		marker, err := del("")
		switch {
		case err != nil:
			failed = true
			res := r.failed(Result{Check: "cleanup", Target: target}, s, denial{failure.DstSide, "s3:DeleteObject", deleteARN}, err)
			res.Detail = "DeleteObject refused (ferry replicates deletions here as delete markers)"
			r.add(res)
		case marker != "":
			detail = "DeleteObject makes a delete marker; the probe and the marker are removed"
			if _, err := del(marker); err != nil {
				leftover("the probe's delete marker", marker, err, "s3:DeleteObjectVersion", probeARN)
			}
		}
	}
	if _, err := del(version); err != nil {
		leftover("the probe", version, err, "s3:DeleteObjectVersion", probeARN)
		return
	}
	if !failed {
		r.add(Result{Check: "cleanup", Target: target, Status: Pass, Detail: detail})
	}
}

func probeMD5() string {
	sum := md5.Sum([]byte(probeBody))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
