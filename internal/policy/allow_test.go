package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/rules"
)

// printed is the JSON output of ferry policy, read back: the tests judge
// what a user gets, not the generator's structs.
type printed struct {
	Trust        *Document              `json:"trust_policy"`
	Permissions  *Document              `json:"permission_policy"`
	AssumedRoles map[string]printedRole `json:"assumed_roles"`
	Buckets      map[string]*Document   `json:"bucket_policies"`
	Keys         map[string][]Statement `json:"key_policy_statements"`
	Queues       map[string]*Document   `json:"queue_policies"`
}

type printedRole struct {
	ARN         string    `json:"arn"`
	Trust       *Document `json:"trust_policy"`
	Permissions *Document `json:"permission_policy"`
}

func readBack(t *testing.T, set *Set) printed {
	t.Helper()
	js, err := set.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var p printed
	if err := json.Unmarshal(js, &p); err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	return p
}

// world is what the test knows, independently of the generator, about
// where a config's requests go: from config.Load, config.Targets (the
// code ferry runs) and the test's own profiles.
type world struct {
	t       *testing.T
	tc      testCase
	cfg     *config.Config
	out     printed
	main    string // the principal's ARN
	mainAcc string
	src     testBucket
	dests   map[string]testBucket // by bucket name
	samples []sample
	// keyNames maps the key ARNs kmsUse made up to the keys as written,
	// which is how the output names key policies.
	keyNames map[string]string
}

type testBucket struct {
	name, region, role string // role: the profile's role_arn
	aws                bool
}

// sample is one source object and the targets the rules give it.
type sample struct {
	key     string
	kms     bool
	targets []config.Target
}

func newWorld(t *testing.T, tc testCase) *world {
	cfg, set := generate(t, tc)
	w := &world{t: t, tc: tc, cfg: cfg, out: readBack(t, set), main: set.Principal, dests: map[string]testBucket{},
		keyNames: map[string]string{}}
	w.mainAcc = accountOf(w.main)
	if cfg == nil {
		return w
	}
	if cfg.Source.TargetBucketTag && tc.opt.TargetBucketTag != "" {
		var err error
		if w.cfg, err = cfg.WithTagTargets(tc.opt.TargetBucketTag); err != nil {
			t.Fatal(err)
		}
		cfg = w.cfg
	}
	w.src = w.bucketOf(cfg.Source.Bucket, cfg.Source.Profile, cfg.Source.Region, cfg.Source.EndpointURL)
	for _, d := range cfg.Destinations {
		w.dests[d.Bucket] = w.bucketOf(d.Bucket, d.Profile, d.Region, d.EndpointURL)
	}
	// One object per enabled rule, with the tags its filter asks for, and
	// SSE-KMS where the rule replicates such objects.
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() {
			continue
		}
		obj := rules.Object{Key: r.KeyPrefix() + "sample/data.bin", Tags: filterTags(r), SSEKMS: r.ReplicatesKMS()}
		s := sample{key: obj.Key, kms: obj.SSEKMS}
		for _, tg := range cfg.Targets(obj) {
			if tg.Rule == r {
				s.targets = append(s.targets, tg)
			}
		}
		if len(s.targets) == 0 {
			t.Fatalf("rule %s: its own sample object %s goes nowhere", r.Name(), obj.Key)
		}
		w.samples = append(w.samples, s)
	}
	return w
}

func (w *world) bucketOf(name, profile, region, endpoint string) testBucket {
	p := profiles[profile]
	if region == "" {
		region = p.Region
	}
	if region == "" {
		region = w.tc.opt.Region
	}
	if endpoint == "" {
		endpoint = p.EndpointURL
	}
	return testBucket{name: name, region: region, role: p.RoleARN, aws: endpoint == "" || strings.Contains(endpoint, "amazonaws.com")}
}

func filterTags(r *rules.Rule) map[string]string {
	tags := map[string]string{}
	if f := r.Filter; f != nil {
		if f.Tag != nil {
			tags[f.Tag.Key] = f.Tag.Value
		}
		if f.And != nil {
			for _, tg := range f.And.Tags {
				tags[tg.Key] = tg.Value
			}
		}
	}
	return tags
}

// actor is who acts at b, and the documents that decide for it.
func (w *world) actor(b testBucket) (arn string, perm *Document) {
	if b.role == "" {
		return w.main, w.out.Permissions
	}
	for _, r := range w.out.AssumedRoles {
		if r.ARN == b.role {
			return r.ARN, r.Permissions
		}
	}
	w.t.Fatalf("no assumed_roles entry for %s (profile role of %s)", b.role, b.name)
	return "", nil
}

// kmsUse is the key S3 uses for an object, as the test resolves it: an
// alias becomes a concrete key that carries the alias.
func (w *world) kmsUse(written string, b testBucket) *KMSUse {
	if !b.aws || written == "" {
		return nil
	}
	arn, _ := w.actor(b)
	acc := accountOf(arn)
	if acc == "" {
		acc = "123456789012"
	}
	u := &KMSUse{Region: b.region}
	switch {
	case strings.Contains(written, ":alias/"):
		parts := strings.SplitN(written, ":", 6)
		u.KeyARN = strings.Join(parts[:5], ":") + ":key/aaaaaaaa-0000-0000-0000-000000000001"
		u.Aliases = []string{parts[5]}
	case strings.HasPrefix(written, "arn:"):
		u.KeyARN = written
	case strings.HasPrefix(written, "alias/"):
		u.KeyARN = fmt.Sprintf("arn:aws:kms:%s:%s:key/aaaaaaaa-0000-0000-0000-000000000002", b.region, acc)
		u.Aliases = []string{written}
	default:
		u.KeyARN = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", b.region, acc, written)
	}
	w.keyNames[u.KeyARN] = written
	return u
}

// verdict evaluates one check for the actor, against its own policy and,
// where there is one, the resource's policy.
func (w *world) verdict(actorARN string, perm *Document, c Check) bool {
	w.t.Helper()
	ok, err := Evaluate(perm, Request{Action: c.Action, Resource: c.Resource, Context: c.Context})
	if err != nil {
		w.t.Fatalf("%s: %v", c, err)
	}
	if !ok {
		return false
	}
	// Cross-account, the resource's policy must allow it too.
	var res *Document
	if b, ok := strings.CutPrefix(c.Resource, "arn:aws:s3:::"); ok {
		name, _, _ := strings.Cut(b, "/")
		res = w.out.Buckets[name]
	}
	if sts, ok := w.out.Keys[w.keyNames[c.Resource]]; ok && strings.HasPrefix(c.Action, "kms:") {
		res = &Document{Statement: sts}
	}
	if res == nil {
		return true
	}
	ok, err = Evaluate(res, Request{Principal: actorARN, Action: c.Action, Resource: c.Resource, Context: c.Context})
	if err != nil {
		w.t.Fatalf("%s (resource policy): %v", c, err)
	}
	return ok
}

// allow and deny assert the verdict on every check of a call.
func (w *world) allow(actorARN string, perm *Document, c Call) {
	w.t.Helper()
	checks, err := Needs(c)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, ch := range checks {
		if !w.verdict(actorARN, perm, ch) {
			w.t.Errorf("%s: %s needs %s, which is not allowed", w.tc.name, c.Op, ch)
		}
	}
}

func (w *world) deny(actorARN string, perm *Document, what string, c Check) {
	w.t.Helper()
	if w.verdict(actorARN, perm, c) {
		w.t.Errorf("%s: %s is allowed: %s", w.tc.name, what, c)
	}
}

// features says which code paths the case takes.
func (w *world) has(f Feature) bool {
	o, cfg := w.tc.opt, w.cfg
	lambda := o.Runtime == Lambda || o.Runtime == ""
	switch f {
	case Always:
		return cfg != nil
	case ObjectLock:
		return cfg != nil && o.ObjectLock
	case TagTargets:
		return cfg != nil && cfg.Source.TargetBucketTag
	case DaemonSQS:
		return cfg != nil && cfg.Run != nil && cfg.Run.SQS != nil && !lambda
	case LambdaSQS:
		return cfg != nil && cfg.Run != nil && cfg.Run.SQS != nil && lambda
	case NotifySQS, NotifySNS:
		if cfg == nil || cfg.Notifications == nil || lambda {
			return false
		}
		for _, tg := range cfg.Notifications.Targets {
			if f == NotifySQS && tg.SQS != nil || f == NotifySNS && tg.SNS != nil {
				return true
			}
		}
		return false
	case Deploy:
		return len(o.Deploys) > 0
	case DeployDelete:
		return o.DeployDelete
	case Invalidate:
		return len(o.Distributions) > 0
	case CodePipeline:
		return o.CodePipeline
	case LambdaLogs:
		return lambda
	case AssumeRole:
		if w.src.role != "" {
			return true
		}
		for _, d := range w.dests {
			if d.role != "" {
				return true
			}
		}
		return false
	case RunSection:
		return cfg != nil && cfg.Run != nil
	case Deletes, SameAccount:
		return cfg != nil // decided per target below
	}
	return false
}

// TestPolicyAllowsEveryStep walks the action table: for every code path a
// case's config takes, every step on every sample object (from the rules,
// through config.Targets) must be allowed, by the acting principal's
// policy and, cross-account, by the bucket's and the key's policy.
func TestPolicyAllowsEveryStep(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc)
			steps := 0
			for _, p := range CodePaths {
				if p.Needs == NotGranted || !w.has(p.Needs) {
					continue
				}
				for _, st := range p.Steps {
					for _, c := range w.calls(st, p.Needs) {
						arn, perm := w.actorFor(st.Side, c)
						w.allow(arn, perm, c)
						steps++
					}
				}
			}
			if steps == 0 {
				t.Fatal("no step checked")
			}
			t.Logf("%d calls checked", steps)
		})
	}
}

// actorFor is who sends a call: at a bucket, its profile's principal.
func (w *world) actorFor(side Side, c Call) (string, *Document) {
	switch side {
	case SrcBucket:
		return w.actor(w.src)
	case DstBucket, DstProbe:
		return w.actor(w.dests[c.Bucket])
	}
	return w.main, w.out.Permissions
}

// calls are the requests a step sends in this case.
func (w *world) calls(st Step, f Feature) []Call {
	op := Operations[st.Op]
	bucketOp := op.On == onBucket
	var out []Call
	srcObj := func(s sample, version string) Call {
		c := Call{Op: st.Op, Bucket: w.src.name, Key: s.key, VersionID: version, Lock: st.Lock}
		if s.kms {
			c.ReadKMS = w.kmsUse(w.srcKeyFor(), w.src)
		}
		return c
	}
	switch st.Side {
	case SrcBucket:
		for _, s := range w.samples {
			if bucketOp {
				for _, p := range []*string{nil, ptr(s.key), ptr(s.key[:len(s.key)-len("sample/data.bin")])} {
					out = append(out, Call{Op: st.Op, Bucket: w.src.name, Prefix: p})
				}
				continue
			}
			out = append(out, srcObj(s, ""), srcObj(s, "3HL4kqtJvjVBH40Nrjfkd"))
		}
	case DstBucket:
		for _, s := range w.samples {
			for _, tg := range s.targets {
				if f == Deletes && !tg.DeleteMarkers && !tg.Dest.ReplicateDeletes {
					continue
				}
				serverSide := f == SameAccount || Operations[st.Op].On == onCopyDest
				if d := w.dests[tg.Dest.Bucket]; serverSide && (d.role != w.src.role || d.region != w.src.region ||
					tg.Dest.Profile != w.cfg.Source.Profile || tg.Dest.EndpointURL != w.cfg.Source.EndpointURL) {
					continue // not one endpoint and account: no server-side copy
				}
				out = append(out, w.dstCalls(st, s, tg)...)
			}
		}
	case DstProbe:
		// ferry check writes the probe with the destination's settings.
		for _, s := range w.samples {
			for _, tg := range s.targets {
				c := Call{Op: st.Op, Bucket: tg.Dest.Bucket, Key: ProbePrefix + "0123456789abcdef"}
				if e := tg.Encryption; e != nil && e.Type == config.EncryptionKMS {
					if st.Op == "s3:GetObject" {
						c.ReadKMS = w.kmsUse(e.KMSKeyID, w.dests[tg.Dest.Bucket])
					} else {
						c.WriteKMS = w.kmsUse(e.KMSKeyID, w.dests[tg.Dest.Bucket])
					}
				}
				switch st.Op {
				case "s3:PutObjectAcl":
					if tg.ACL == "" {
						continue
					}
					c.ACL = tg.ACL
				case "s3:DeleteObject":
					v := c
					v.VersionID = "probeVersion"
					out = append(out, v)
				}
				out = append(out, c)
			}
		}
	case DeployBucket:
		for _, u := range w.tc.opt.Deploys {
			b, prefix, _ := parseS3URL(u)
			switch {
			case bucketOp:
				out = append(out, Call{Op: st.Op, Bucket: b}, Call{Op: st.Op, Bucket: b, Prefix: &prefix})
			case op.On == onPerKey:
				out = append(out, Call{Op: st.Op, Bucket: b, Keys: []string{prefix + "old.js", prefix + "assets/old.css"}})
			default:
				c := Call{Op: st.Op, Bucket: b, Key: prefix + "assets/app.3f2a9c1b.js"}
				if isWrite(st.Op) {
					c.ACL = w.tc.opt.DeployACL
				}
				if k := w.tc.opt.DeployKMSKey; k != "" {
					c.WriteKMS = w.kmsUse(k, testBucket{name: b, region: w.tc.opt.Region, aws: true})
				}
				out = append(out, c)
			}
		}
	case IntakeQueue:
		out = append(out, Call{Op: st.Op, Resource: arnOfQueueURL(w.cfg.Run.SQS.QueueURL)})
	case NotifyQueue, NotifyTopic:
		for _, tg := range w.cfg.Notifications.Targets {
			switch {
			case st.Side == NotifyQueue && tg.SQS != nil:
				out = append(out, Call{Op: st.Op, Resource: arnOfQueueURL(tg.SQS.QueueURL)})
			case st.Side == NotifyTopic && tg.SNS != nil:
				out = append(out, Call{Op: st.Op, Resource: tg.SNS.TopicARN})
			}
		}
	case Distribution:
		for _, d := range w.tc.opt.Distributions {
			out = append(out, Call{Op: st.Op, Resource: "arn:aws:cloudfront::" + w.mainAcc + ":distribution/" + d})
		}
	case AnyResource:
		out = append(out, Call{Op: st.Op})
	case LogGroup:
		region := w.src.region
		if region == "" {
			region = w.tc.opt.Region
		}
		group := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/ferry", region, w.mainAcc)
		res := group + ":log-stream:2026/01/02/[$LATEST]0123456789abcdef"
		if st.Op == "logs:CreateLogGroup" {
			res = group
		}
		out = append(out, Call{Op: st.Op, Resource: res})
	case ProfileRole:
		for _, b := range append([]testBucket{w.src}, mapValues(w.dests)...) {
			if b.role != "" {
				out = append(out, Call{Op: st.Op, Resource: b.role})
			}
		}
	default:
		w.t.Fatalf("side %q not handled", st.Side)
	}
	return out
}

// dstCalls are a destination step's requests for one target.
func (w *world) dstCalls(st Step, s sample, tg config.Target) []Call {
	d := w.dests[tg.Dest.Bucket]
	op := Operations[st.Op]
	base := Call{Op: st.Op, Bucket: d.name, Key: tg.Key, Lock: st.Lock}
	switch {
	case op.On == onBucket:
		return []Call{{Op: st.Op, Bucket: d.name}, {Op: st.Op, Bucket: d.name, Prefix: ptr(tg.Key)}}
	case st.Op == "s3:HeadObject":
		v := base
		v.VersionID = "Wq9zEXAMPLEversion"
		return []Call{base, v}
	case st.Op == "s3:DeleteObject", st.Op == "s3:AbortMultipartUpload", st.Op == "s3:UploadPart",
		st.Op == "s3:CompleteMultipartUpload":
	default: // writes carry tags, the ACL and the key
		base.Tagging, base.ACL = true, tg.ACL
	}
	if e := tg.Encryption; e != nil && e.Type == config.EncryptionKMS {
		base.WriteKMS = w.kmsUse(e.KMSKeyID, d)
	}
	if op.On == onCopyDest {
		base.CopySource = &ObjectRef{Bucket: w.src.name, Key: s.key}
		if s.kms {
			base.ReadKMS = w.kmsUse(w.srcKeyFor(), w.src)
		}
		v := base
		v.CopySource = &ObjectRef{Bucket: w.src.name, Key: s.key, VersionID: "3HL4kqtJvjVBH40Nrjfkd"}
		return []Call{base, v}
	}
	return []Call{base}
}

// srcKeyFor is the key the source's SSE-KMS objects use in this case.
func (w *world) srcKeyFor() string {
	if ks := w.tc.opt.SourceKMSKeys; len(ks) > 0 {
		return ks[0]
	}
	return "0f0e0d0c-1111-2222-3333-444455556666"
}

// arnOfQueueURL is the ARN of an AWS queue URL, worked out here from the
// URL's parts (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME).
func arnOfQueueURL(u string) string {
	rest := strings.TrimPrefix(u, "https://sqs.")
	region, rest, _ := strings.Cut(rest, ".")
	_, path, _ := strings.Cut(rest, "/")
	account, name, _ := strings.Cut(path, "/")
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

func ptr(s string) *string { return &s }

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestPolicyDeniesTheRest: what ferry never does must stay denied, for
// every principal the case's documents grant to.
func TestPolicyDeniesTheRest(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc)
			docs := map[string]*Document{w.main: w.out.Permissions}
			for _, r := range w.out.AssumedRoles {
				docs[r.ARN] = r.Permissions
			}
			for arn, doc := range docs {
				noWildcards(t, doc)
				for _, c := range []Check{
					{Action: "s3:GetObject", Resource: "arn:aws:s3:::some-other-bucket/k"},
					{Action: "s3:ListBucket", Resource: "arn:aws:s3:::some-other-bucket"},
					{Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/admin"},
					{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/admin"},
					{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/k"},
					{Action: "sqs:PurgeQueue", Resource: "arn:aws:sqs:us-east-1:123456789012:ferry-events"},
					{Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:123456789012:other-topic"},
					{Action: "cloudfront:CreateInvalidation", Resource: "arn:aws:cloudfront::123456789012:distribution/EOTHER"},
				} {
					w.deny(arn, doc, "a request ferry never sends", c)
				}
			}
			if w.cfg == nil {
				return
			}
			w.denySource()
			for _, s := range w.samples {
				for _, tg := range s.targets {
					w.denyDest(s, tg)
				}
			}
			w.denyQueue()
		})
	}
}

// noWildcards: no "*" or "s3:*" actions, and "*" as a resource only where
// the action takes none.
func noWildcards(t *testing.T, doc *Document) {
	t.Helper()
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("statement %s grants the action wildcard %q", st.Sid, a)
			}
		}
		if slices.Contains(st.Resource, "*") && !slices.Equal(st.Action, Strings{"codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"}) {
			t.Errorf("statement %s grants %v on \"*\"", st.Sid, st.Action)
		}
	}
}

func (w *world) denySource() {
	arn, perm := w.actor(w.src)
	src := "arn:aws:s3:::" + w.src.name
	for _, a := range []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging", "s3:PutObjectAcl"} {
		w.deny(arn, perm, "writing the source", Check{Action: a, Resource: src + "/" + w.samples[0].key})
	}
	for _, a := range []string{"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketAcl", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"} {
		w.deny(arn, perm, "changing the source bucket", Check{Action: a, Resource: src})
	}
	if prefixes := w.cfg.Prefixes(); !slices.Contains(prefixes, "") {
		outside := "zz-not-replicated/secret.txt"
		w.deny(arn, perm, "reading outside the rule prefixes", Check{Action: "s3:GetObject", Resource: src + "/" + outside})
		w.deny(arn, perm, "listing outside the rule prefixes", Check{Action: "s3:ListBucket", Resource: src,
			Context: map[string][]string{"s3:prefix": {outside}}})
	}
	if k := w.kmsUse(w.srcKeyFor(), w.src); k != nil {
		for _, c := range []Check{
			{Action: "kms:Decrypt", Resource: k.KeyARN, Context: kmsContext(k, "arn:aws:s3:::some-other-bucket/k")},
			{Action: "kms:Decrypt", Resource: k.KeyARN}, // a direct KMS call, not through S3
			{Action: "kms:Encrypt", Resource: k.KeyARN, Context: kmsContext(k, src+"/"+w.samples[0].key)},
			{Action: "kms:GenerateDataKey", Resource: k.KeyARN, Context: kmsContext(k, src+"/"+w.samples[0].key)},
		} {
			w.deny(arn, perm, "using the source's key otherwise than to read its objects through S3", c)
		}
	}
}

func (w *world) denyDest(s sample, tg config.Target) {
	d := w.dests[tg.Dest.Bucket]
	arn, perm := w.actor(d)
	bucket := "arn:aws:s3:::" + d.name
	obj := bucket + "/" + tg.Key
	w.deny(arn, perm, "deleting a version", Check{Action: "s3:DeleteObjectVersion", Resource: obj})
	if !tg.DeleteMarkers && !tg.Dest.ReplicateDeletes {
		w.deny(arn, perm, "deleting where the config replicates no deletes", Check{Action: "s3:DeleteObject", Resource: obj})
	}
	for _, a := range []string{"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketAcl", "s3:PutObjectVersionAcl", "s3:BypassGovernanceRetention"} {
		w.deny(arn, perm, "changing the destination bucket", Check{Action: a, Resource: bucket})
		w.deny(arn, perm, "more than writing replicas", Check{Action: a, Resource: obj})
	}
	w.deny(arn, perm, "an ACL the config does not send", Check{Action: "s3:PutObjectAcl", Resource: obj,
		Context: map[string][]string{"s3:x-amz-acl": {"public-read-write"}}})
	if !w.tc.opt.ObjectLock {
		w.deny(arn, perm, "object lock without --object-lock", Check{Action: "s3:PutObjectRetention", Resource: obj})
	}
	outside := "zz-not-replicated/x.txt"
	if !w.destWritesEverywhere(tg.Dest) {
		w.deny(arn, perm, "writing outside the replicated prefixes", Check{Action: "s3:PutObject", Resource: bucket + "/" + outside})
	}
	if rw := tg.Dest.KeyRewrite; rw != nil && strings.HasPrefix(s.key, rw.From) && rw.From != rw.To {
		// key_rewrite: the source's name for the key is not where it goes.
		w.deny(arn, perm, "writing the key under its source name", Check{Action: "s3:PutObject", Resource: bucket + "/" + s.key})
	}
	if e := tg.Encryption; e != nil && e.Type == config.EncryptionKMS {
		if k := w.kmsUse(e.KMSKeyID, d); k != nil {
			w.deny(arn, perm, "the replica key for another bucket's objects", Check{Action: "kms:GenerateDataKey", Resource: k.KeyARN,
				Context: kmsContext(k, "arn:aws:s3:::"+w.src.name+"/"+s.key)})
			w.deny(arn, perm, "the replica key outside the replicated prefixes", Check{Action: "kms:GenerateDataKey", Resource: k.KeyARN,
				Context: kmsContext(k, bucket+"/"+outside)})
			w.deny(arn, perm, "the replica key without S3", Check{Action: "kms:GenerateDataKey", Resource: k.KeyARN})
		}
	}
}

// destWritesEverywhere reports whether some rule sends the whole bucket
// to d untouched by key_rewrite, so that every key may be written.
func (w *world) destWritesEverywhere(d *config.Destination) bool {
	for _, r := range w.cfg.Replication.Rules {
		if r.Enabled() && r.Destination.BucketName() == d.Bucket && r.KeyPrefix() == "" {
			return true
		}
	}
	return false
}

// denyQueue: the queue policy lets S3 send the source's events, and no
// one else anything.
func (w *world) denyQueue() {
	if w.cfg.Run == nil || w.cfg.Run.SQS == nil {
		return
	}
	arn := arnOfQueueURL(w.cfg.Run.SQS.QueueURL)
	var doc *Document
	for _, d := range w.out.Queues {
		doc = d
	}
	if doc == nil {
		w.t.Fatal("no queue policy for run.sqs")
	}
	acc := w.tc.opt.SourceAccount
	ctx := func(bucket, account string) map[string][]string {
		return map[string][]string{"aws:SourceArn": {"arn:aws:s3:::" + bucket}, "aws:SourceAccount": {account}}
	}
	for _, tc := range []struct {
		who, action, bucket, account string
		want                         bool
	}{
		{"s3.amazonaws.com", "sqs:SendMessage", w.src.name, acc, true},
		{"s3.amazonaws.com", "sqs:SendMessage", "some-other-bucket", acc, false},
		{"s3.amazonaws.com", "sqs:SendMessage", w.src.name, "999999999999", false},
		{"sns.amazonaws.com", "sqs:SendMessage", w.src.name, acc, false},
		{"s3.amazonaws.com", "sqs:ReceiveMessage", w.src.name, acc, false},
	} {
		got, err := Evaluate(doc, Request{Principal: tc.who, Action: tc.action, Resource: arn, Context: ctx(tc.bucket, tc.account)})
		if err != nil || got != tc.want {
			w.t.Errorf("queue policy: %+v: allowed=%v (%v), want %v", tc, got, err, tc.want)
		}
	}
}

// TestTrustPolicies: only the runtime's service may assume the role; an
// assumed role trusts the principal, with the profile's external ID.
func TestPolicyTrust(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc)
			service := map[Runtime]string{Lambda: "lambda.amazonaws.com", EC2: "ec2.amazonaws.com", ECS: "ecs-tasks.amazonaws.com"}[tc.opt.Runtime]
			if tc.opt.Runtime == User {
				if w.out.Trust != nil {
					t.Error("a user has no trust policy")
				}
			} else {
				ctx := map[string][]string{"aws:SourceAccount": {w.mainAcc}, "aws:SourceArn": {"arn:aws:ecs:us-east-1:" + w.mainAcc + ":task/c/1"}}
				for who, want := range map[string]bool{service: true, "s3.amazonaws.com": false, "arn:aws:iam::999999999999:root": false} {
					got, err := Evaluate(w.out.Trust, Request{Principal: who, Action: "sts:AssumeRole", Context: ctx})
					if err != nil || got != want {
						t.Errorf("trust: %s may assume the role: %v (%v), want %v", who, got, err, want)
					}
				}
			}
			for name, r := range w.out.AssumedRoles {
				ext := profiles["partner"].ExternalID
				for _, c := range []struct {
					who, ext string
					want     bool
				}{{w.main, ext, true}, {w.main, "", false}, {w.main, "guess", false}, {"arn:aws:iam::999999999999:role/x", ext, false}} {
					ctx := map[string][]string{}
					if c.ext != "" {
						ctx["sts:ExternalId"] = []string{c.ext}
					}
					got, err := Evaluate(r.Trust, Request{Principal: c.who, Action: "sts:AssumeRole", Context: ctx})
					if err != nil || got != c.want {
						t.Errorf("role %s: %s with external ID %q: %v (%v), want %v", name, c.who, c.ext, got, err, c.want)
					}
				}
			}
		})
	}
}

// TestNotGrantedStaysDenied: the paths the table marks NotGranted are
// denied in every case (their Why says what happens instead).
func TestPolicyNotGrantedStaysDenied(t *testing.T) {
	for _, tc := range cases() {
		w := newWorld(t, tc)
		for _, p := range CodePaths {
			if p.Needs != NotGranted {
				continue
			}
			if p.Why == "" {
				t.Errorf("%s: NotGranted without a Why", p.Name)
			}
			for _, s := range w.samples {
				for _, tg := range s.targets {
					arn, perm := w.actor(w.dests[tg.Dest.Bucket])
					w.deny(arn, perm, p.Name, Check{Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::" + tg.Dest.Bucket + "/" + tg.Key})
				}
			}
		}
	}
}
