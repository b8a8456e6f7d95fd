package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-s3/ferry/internal/awsarn"
	"github.com/ferry-s3/ferry/internal/config"
)

// Set is every document a configuration needs.
type Set struct {
	Runtime Runtime
	// Name is the role's name (the user's, for runtime user).
	Name string
	// Principal is the role's (or user's) ARN as bucket and key policies
	// name it; Placeholder reports that its account is not known and must
	// be filled in (AWS refuses the placeholder as it is).
	Principal   string
	Placeholder bool
	// PrincipalGiven reports that Principal is the ARN the options gave.
	PrincipalGiven bool
	// Trust is the role's trust policy; nil for runtime user.
	Trust *Document
	// Permissions is the role's (or user's) permission policy.
	Permissions *Document
	// Roles are the roles profiles assume (role_arn): ferry acts as them
	// at the buckets those profiles reach.
	Roles []AssumedRole
	// Buckets are the policies of destination buckets in other accounts.
	Buckets []BucketPolicy
	// Keys are statements for KMS key policies.
	Keys []KeyPolicy
	// Queues are policies of SQS queues S3 sends events to.
	Queues []QueuePolicy
	// Notes say what the documents assume and what ferry policy could not
	// know.
	Notes []string
}

// AssumedRole is a role a profile assumes: who may assume it (the
// principal, with the profile's external ID) and what ferry does as it.
type AssumedRole struct {
	ARN, Name, Profile string
	Trust              *Document
	Permissions        *Document
}

// BucketPolicy is a destination bucket's policy, for a bucket that
// belongs to another account than the principal ferry acts as there.
type BucketPolicy struct {
	Bucket  string
	Profile string // the profile that reaches it
	Account string // its owner, "" when unknown
	Why     string // why it is another account's
	Policy  *Document
}

// KeyPolicy holds the statements a KMS key's policy needs. A key policy
// is replaced whole, so these are to be added to the key's own.
type KeyPolicy struct {
	Key        string // as the config names it
	ARN        string
	Statements []Statement
}

// QueuePolicy is an SQS queue's policy.
type QueuePolicy struct {
	QueueURL, ARN, Name string
	Policy              *Document
}

// placeholderAccount marks an account ID ferry policy does not know. AWS
// refuses it, so a document holding it cannot be applied by mistake.
const placeholderAccount = "<ACCOUNT_ID>"

// Generate writes the documents cfg needs with the options' runtime. cfg
// may be nil when the options name only deploys, invalidations or
// CodePipeline (a function that serves CodePipeline needs no ferry.yaml).
func Generate(cfg *config.Config, opt Options) (*Set, error) {
	o := opt.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if cfg == nil && len(o.Deploys) == 0 && len(o.Distributions) == 0 && !o.CodePipeline {
		return nil, errors.New("nothing to write a policy for: give a config (or deploys, invalidations, CodePipeline)")
	}
	g := &generator{o: o, set: &Set{Runtime: o.Runtime, Name: o.RoleName}, actors: map[string]*actor{}}
	g.src.Part, g.src.Region = awsarn.Partition(o.Region), o.Region
	if cfg != nil {
		if cfg.Replication == nil {
			return nil, errors.New("policy: the configuration has no rules (load it with config.Load)")
		}
		switch {
		case cfg.Source.TargetBucketTag && o.TargetBucketTag != "":
			var err error
			if cfg, err = cfg.WithTagTargets(o.TargetBucketTag); err != nil {
				return nil, err
			}
		case cfg.Source.TargetBucketTag:
			g.note("target_bucket_tag: the destinations the source bucket's TargetBucket tag names are read when ferry starts; " +
				"these documents cover only those listed in the config (give the tag's value with --target-bucket-tag)")
		}
		g.account = cmp.Or(o.SourceAccount, accountOf(cfg.Replication.Role), accountOf(o.RoleARN))
		g.src, g.dests = scope(cfg, o)
	} else {
		g.account = cmp.Or(o.SourceAccount, accountOf(o.RoleARN))
	}
	if o.TargetBucketTag != "" && (cfg == nil || !cfg.Source.TargetBucketTag) {
		return nil, errors.New("--target-bucket-tag: the config does not set source.target_bucket_tag")
	}
	g.principal()
	g.set.Trust = trustPolicy(o.Runtime, g.principalAccount(), g.src.Region)
	if cfg != nil {
		g.replication(cfg)
	}
	g.services(cfg)
	g.finish()
	g.sizeNote()
	return g.set, nil
}

// actor is a principal ferry acts as, and what it needs: the role (or
// user) itself, or a role a profile assumes.
type actor struct {
	arn, account string
	assumed      *bucket // the profile's bucket, for an assumed role
	perm         []Statement
}

// generator holds what the parts of Generate share.
type generator struct {
	o       Options
	set     *Set
	account string // the source's account, "" when unknown
	src     source
	dests   []*dest
	main    *actor
	actors  map[string]*actor // assumed roles by ARN
	roles   []string          // their order
	keys    map[string]*KeyPolicy
	keyList []string // key policy order
}

func (g *generator) note(format string, args ...any) {
	g.set.Notes = append(g.set.Notes, fmt.Sprintf(format, args...))
}

func (g *generator) kind() string {
	if g.o.Runtime == User {
		return "user"
	}
	return "role"
}

// principal decides the ARN resource policies name.
func (g *generator) principal() {
	kind := g.kind()
	switch {
	case g.o.RoleARN != "":
		g.set.Principal, g.set.PrincipalGiven = g.o.RoleARN, true
	case g.account != "":
		g.set.Principal = fmt.Sprintf("arn:%s:iam::%s:%s/%s", g.src.Part, g.account, kind, g.o.RoleName)
		g.note("the %s is taken to be %s, in the source's account %s; give --role-arn if it is elsewhere", kind, g.set.Principal, g.account)
	default:
		g.set.Principal = fmt.Sprintf("arn:%s:iam::%s:%s/%s", g.src.Part, placeholderAccount, kind, g.o.RoleName)
		g.set.Placeholder = true
		g.note("the %s's account is unknown: the policies that name it say %s; give --role-arn (or --source-account)", kind, g.set.Principal)
	}
	g.main = &actor{arn: g.set.Principal, account: g.principalAccount()}
}

// principalAccount is the role's account, or "" when unknown.
func (g *generator) principalAccount() string {
	return cmp.Or(accountOf(g.o.RoleARN), g.account)
}

// at is the principal ferry acts as at b: the role a profile assumes,
// else the role itself.
func (g *generator) at(b bucket) *actor {
	if b.RoleARN == "" {
		return g.main
	}
	a := g.actors[b.RoleARN]
	if a == nil {
		a = &actor{arn: b.RoleARN, account: accountOf(b.RoleARN), assumed: &b}
		g.actors[b.RoleARN] = a
		g.roles = append(g.roles, b.RoleARN)
	}
	return a
}

// replication grants what replicating cfg's source to its destinations
// takes.
func (g *generator) replication(cfg *config.Config) {
	src := g.src
	a := g.at(src.bucket)
	a.perm = append(a.perm, sourceStatements(src, g.o, cfg.Source.TargetBucketTag, cfg.Run != nil)...)
	g.sourceKMS(a)
	if !src.AWS {
		g.note("the source %s is reached at %s, not AWS S3: no KMS statements or queue policy are written for it", src.Name, src.Endpoint)
	}
	for _, d := range g.dests {
		a := g.at(d.bucket)
		if d.Account == "" && d.RoleARN == "" && d.Profile == src.Profile {
			d.Account = a.account
		}
		a.perm = append(a.perm, destStatements(d, g.o)...)
		g.destKMS(a, d)
		g.bucketPolicy(a, d)
		if !d.AWS {
			g.note("%s is reached at %s, not AWS S3: its statements are written in AWS's policy language, which MinIO and Ceph RGW "+
				"also read, but its credentials are its own server's, not this %s's", d.Name, d.Endpoint, g.kind())
		}
	}
	g.intake(cfg)
	g.notifications(cfg)
}

// services grants what is not replication: deploys, CloudFront,
// CodePipeline and the function's log.
func (g *generator) services(cfg *config.Config) {
	g.deploys()
	m := g.main
	if len(g.o.Distributions) > 0 {
		m.perm = append(m.perm, cdnStatement(g.src.Part, g.principalAccount(), g.o.Distributions))
	}
	if g.o.CodePipeline {
		m.perm = append(m.perm, pipelineStatement())
	}
	if g.o.Runtime == Lambda {
		m.perm = append(m.perm, logStatement(g.src.Part, g.src.Region, g.principalAccount(), g.o.FunctionName))
		if g.src.Region == "" {
			g.note("the function's log group is given in any region: give --region (or the source's region) to name it")
		}
	}
}

// finish writes the actors' documents into the set.
func (g *generator) finish() {
	var roles Strings
	for _, arn := range g.roles {
		a := g.actors[arn]
		b := a.assumed
		trust := Statement{Sid: "FerryAssumesRole", Effect: Allow, Principal: &Principal{AWS: Strings{g.set.Principal}},
			Action: Strings{"sts:AssumeRole"}}
		if b.ExternalID != "" {
			trust.Condition = Conditions{}.add("StringEquals", "sts:ExternalId", b.ExternalID)
		}
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		g.set.Roles = append(g.set.Roles, AssumedRole{ARN: arn, Name: name, Profile: b.Profile,
			Trust: newDocument(trust), Permissions: newDocument(a.perm...)})
		roles = append(roles, arn)
		g.note("profile %q assumes %s: ferry acts as that role at the buckets the profile reaches, so their statements are in that role's documents",
			b.Profile, arn)
	}
	if len(roles) > 0 {
		g.main.perm = append(g.main.perm, assumeStatement(roles))
	}
	g.set.Permissions = newDocument(g.main.perm...)
	for _, k := range g.keyList {
		g.set.Keys = append(g.set.Keys, *g.keys[k])
	}
}

// sourceKMS grants decrypting the source's SSE-KMS objects.
func (g *generator) sourceKMS(a *actor) {
	src := g.src
	switch {
	case !src.KMS:
		g.note("no rule replicates SSE-KMS objects (SourceSelectionCriteria), so no kms:Decrypt is granted; " +
			"sync and backfill copy SSE-KMS objects whatever the rules say: if the source holds any, give their keys with --source-kms-key")
		return
	case !src.AWS || len(src.Read) == 0:
		return
	}
	var keys []kmsKey
	for _, k := range g.o.SourceKMSKeys {
		keys = append(keys, resolveKey(k, src.Region, a.account))
	}
	if len(keys) == 0 {
		keys = []kmsKey{{Written: "*", ARN: fmt.Sprintf("arn:%s:kms:%s:%s:key/*", src.Part, orAny(src.Region), orAny(a.account))}}
		g.note("the source objects' KMS keys are not named: kms:Decrypt names %s, limited to S3 reading %s's objects; "+
			"name the keys with --source-kms-key for key policy statements", keys[0].ARN, src.Name)
	}
	a.perm = append(a.perm, keyStatements("DecryptSourceObjects", kmsRead, src.bucket, src.Read, keys)...)
	for _, k := range keys {
		if k.Written != "*" {
			g.keyPolicy(k, a, Statement{Sid: "AllowFerryToDecryptSourceObjects", Effect: Allow, Action: kmsRead,
				Condition: s3KeyConditions(src.bucket, src.Read, kmsKey{})})
		}
	}
}

// destKMS grants encrypting d's replicas with its keys.
func (g *generator) destKMS(a *actor, d *dest) {
	if len(d.Keys) == 0 || len(d.Write) == 0 {
		return
	}
	if !d.AWS {
		g.note("%s encrypts with %s, a key of its own server's KMS: no KMS statements are written for it", d.Name, strings.Join(d.Keys, ", "))
		return
	}
	for i, written := range d.Keys {
		// S3 looks a key ID or alias up in the caller's account.
		k := resolveKey(written, d.Region, a.account)
		// The probe is written with the bucket's settings too.
		prefixes := append(slices.Clone(d.KeyPrefixes[written]), ProbePrefix)
		sid := "EncryptDest" + d.ID + "Replicas"
		if len(d.Keys) > 1 {
			sid += fmt.Sprint(i + 1)
		}
		a.perm = append(a.perm, keyStatements(sid, kmsWrite, d.bucket, prefixes, []kmsKey{k})...)
		g.keyPolicy(k, a, Statement{Sid: "AllowFerryToEncryptReplicasIn" + d.ID, Effect: Allow, Action: kmsWrite,
			Condition: s3KeyConditions(d.bucket, prefixes, kmsKey{})})
		if k.Region == "" || k.Account == "" {
			g.note("key %s of %s: its region or account is unknown, so its ARN has a wildcard (%s); write the key's ARN in the config to name it exactly",
				k.Written, d.Name, k.ARN)
		}
	}
}

// keyPolicy adds a statement, granted to a, to a key's policy.
func (g *generator) keyPolicy(k kmsKey, a *actor, st Statement) {
	st.Principal = &Principal{AWS: Strings{a.arn}}
	st.Resource = Strings{"*"} // in a key policy, "*" is the key itself
	if g.keys == nil {
		g.keys = map[string]*KeyPolicy{}
	}
	kp := g.keys[k.Written]
	if kp == nil {
		kp = &KeyPolicy{Key: k.Written, ARN: k.ARN}
		g.keys[k.Written] = kp
		g.keyList = append(g.keyList, k.Written)
	}
	kp.Statements = append(kp.Statements, st)
}

// bucketPolicy writes d's policy when d belongs to another account than
// a: cross-account, the bucket's owner must grant what a's own policy
// allows, or S3 refuses. A destination is another account's when its
// rule names an account other than a's, or (as the source's credentials
// do not reach it) when its profile differs from the source's and
// assumes no role.
func (g *generator) bucketPolicy(a *actor, d *dest) {
	var why string
	switch {
	case !d.AWS || !g.src.AWS:
		return // no AWS accounts on other servers
	case d.Account != "" && d.Account != a.account:
		why = "its rule names account " + d.Account
		if a.account != "" {
			why += ", and ferry acts there as " + a.arn
		}
	case d.RoleARN == "" && d.Profile != g.src.Profile:
		why = fmt.Sprintf("its profile %q differs from the source's %q", d.Profile, g.src.Profile)
	default:
		return
	}
	sts := destStatements(d, g.o)
	for i := range sts {
		sts[i].Principal = &Principal{AWS: Strings{a.arn}}
		sts[i].Sid = "Ferry" + sts[i].Sid
	}
	g.set.Buckets = append(g.set.Buckets, BucketPolicy{Bucket: d.Name, Profile: d.Profile, Account: d.Account, Why: why,
		Policy: newDocument(sts...)})
}

// intake grants the SQS intake and writes the queue's policy.
func (g *generator) intake(cfg *config.Config) {
	if cfg.Run == nil || cfg.Run.SQS == nil {
		return
	}
	q := cfg.Run.SQS
	arn, name, ok := queueARN(q.QueueURL, cmp.Or(q.Region, g.o.Profile(q.Profile).Region))
	if !ok {
		g.note("run.sqs.queue_url %q is not https://sqs.REGION.amazonaws.com/ACCOUNT/NAME: no SQS statements written", q.QueueURL)
		return
	}
	g.main.perm = append(g.main.perm, intakeStatements(g.o.Runtime, arn)...)
	if g.src.AWS {
		g.set.Queues = append(g.set.Queues, QueuePolicy{QueueURL: q.QueueURL, ARN: arn, Name: name,
			Policy: queuePolicy(arn, g.src.bucket, g.account)})
	}
	if g.o.Runtime == Lambda {
		g.note("--runtime lambda: run.sqs is read by the function's SQS event source mapping, with the function's role")
	}
}

// notifications grants sending replication events, in `ferry run` only.
func (g *generator) notifications(cfg *config.Config) {
	n := cfg.Notifications
	if n == nil {
		return
	}
	if g.o.Runtime == Lambda {
		g.note("--runtime lambda: ferry sends no notifications in Lambda, so none are granted")
		return
	}
	g.main.perm = append(g.main.perm, notifyStatements(n)...)
}

// deploys grants `ferry deploy` to its targets.
func (g *generator) deploys() {
	ids := map[string]int{}
	for _, u := range g.o.Deploys {
		name, prefix, _ := parseS3URL(u) // checked by Options.check
		t := deployTarget{bucket: bucket{Name: name, AWS: true, Part: awsarn.Partition(g.o.Region), Region: g.o.Region}, Prefix: prefix}
		t.ID = camel(name + "-" + prefix)
		if n := ids[t.ID]; n > 0 {
			t.ID = fmt.Sprintf("%s%d", t.ID, n+1)
		}
		ids[camel(name+"-"+prefix)]++
		var keys []kmsKey
		if k := g.o.DeployKMSKey; k != "" {
			keys = append(keys, resolveKey(k, g.o.Region, g.principalAccount()))
		}
		g.main.perm = append(g.main.perm, deployStatements(t, g.o, keys)...)
	}
	if g.o.DeployKMSKey != "" && g.o.Region == "" {
		g.note("the deploy targets' region is unknown: give --region to name it in their KMS conditions")
	}
}

// Size limits of IAM policies, which count characters without whitespace.
const (
	maxInlineRolePolicy = 10240
	maxManagedPolicy    = 6144
)

// sizeNote warns when the permission policy does not fit where it goes.
func (g *generator) sizeNote() {
	b, _ := json.Marshal(g.set.Permissions)
	switch n := len(b); {
	case n > maxInlineRolePolicy:
		g.note("the permission policy is %d characters: more than an inline policy holds (%d); split it by its statements (Sids) into managed policies of %d at most",
			n, maxInlineRolePolicy, maxManagedPolicy)
	case n > maxManagedPolicy:
		g.note("the permission policy is %d characters: it fits an inline policy (%d) but not a managed one (%d)", n, maxInlineRolePolicy, maxManagedPolicy)
	}
}
