package policy

// The action table: which AWS operations each of ferry's code paths
// sends, and which IAM actions each operation needs. The generator's
// statements are written by hand, for readable Sids; tests keep them in
// step with this table (every step of every code path a config uses must
// be allowed), the table in step with the code (a scan of the sources for
// SDK calls, and a live run through counting proxies that fails on an
// operation missing here).

// Side says whose resource a step touches.
type Side string

// Sides.
const (
	SrcBucket    Side = "source"         // the source bucket and its objects
	DstBucket    Side = "destination"    // a destination bucket and its replicas
	DstProbe     Side = "dest probe"     // DST/.ferry-check/*
	DeployBucket Side = "deploy target"  // a --deploy bucket under its prefix
	IntakeQueue  Side = "intake queue"   // run.sqs
	NotifyQueue  Side = "notify queue"   // notifications.targets[].sqs
	NotifyTopic  Side = "notify topic"   // notifications.targets[].sns
	Distribution Side = "distribution"   // --invalidate
	AnyResource  Side = "no resource"    // actions that take none
	LogGroup     Side = "log group"      // the Lambda function's
	ProfileRole  Side = "profile's role" // role_arn of a profile
)

// Feature is what makes a code path run; a policy grants the path's steps
// only when the config (or a flag) has it.
type Feature string

// Features.
const (
	Always       Feature = "always"
	Deletes      Feature = "a destination replicates deletes or delete markers"
	SameAccount  Feature = "source and destination share endpoint, region and credentials"
	ObjectLock   Feature = "--object-lock"
	TagTargets   Feature = "source.target_bucket_tag"
	DaemonSQS    Feature = "run.sqs, ferry run"
	LambdaSQS    Feature = "run.sqs, ferry lambda"
	NotifySQS    Feature = "an sqs notification target, ferry run"
	NotifySNS    Feature = "an sns notification target, ferry run"
	Deploy       Feature = "--deploy"
	DeployDelete Feature = "--deploy-delete"
	Invalidate   Feature = "--invalidate"
	CodePipeline Feature = "--codepipeline"
	LambdaLogs   Feature = "--runtime lambda"
	AssumeRole   Feature = "a profile with role_arn"
	RunSection   Feature = "a run section (ferry check reads the source's notifications)"
	// NotGranted marks a path no policy grants, on purpose; its Why says
	// what happens without it.
	NotGranted Feature = "never granted"
)

// Step is one operation a code path sends to one side.
type Step struct {
	Side Side
	Op   string // "s3:PutObject": service and SDK operation name
	// Lock: the request carries object lock headers (x-amz-object-lock-*)
	// or, at the source, asks for them back.
	Lock bool
}

// CodePath is one of ferry's code paths that talks to AWS.
type CodePath struct {
	Name  string
	Code  string // where it is
	Needs Feature
	Why   string // for NotGranted: why, and what happens without it
	Steps []Step
}

// CodePaths are ferry's code paths that call AWS.
var CodePaths = []CodePath{
	{Name: "open the source", Code: "worker.build, cli openStore; store.Bucket.Check, Versioned", Needs: Always,
		Steps: []Step{{SrcBucket, "s3:HeadBucket", false}, {SrcBucket, "s3:GetBucketVersioning", false}}},
	{Name: "destinations from the TargetBucket tag", Code: "worker.build; store.Bucket.BucketTags", Needs: TagTargets,
		Steps: []Step{{SrcBucket, "s3:GetBucketTagging", false}}},
	{Name: "open a destination", Code: "worker.build; store.Bucket.Check, Versioned", Needs: Always,
		Steps: []Step{{DstBucket, "s3:HeadBucket", false}, {DstBucket, "s3:GetBucketVersioning", false}}},
	{Name: "list (sync, backfill, the daemon's scan, a key's versions, status)", Code: "store/list.go, reconcile, worker.Status", Needs: Always,
		Steps: []Step{{SrcBucket, "s3:ListObjectsV2", false}, {SrcBucket, "s3:ListObjectVersions", false},
			{DstBucket, "s3:ListObjectsV2", false}, {DstBucket, "s3:ListObjectVersions", false}}},
	{Name: "read the source object an event names", Code: "worker.sync, worker.Status, backfill filters", Needs: Always,
		Steps: []Step{{SrcBucket, "s3:HeadObject", false}, {SrcBucket, "s3:GetObjectTagging", false}}},
	{Name: "compare with the replica", Code: "worker.syncCurrent, reconcile (CheckHead, position)", Needs: Always,
		Steps: []Step{{DstBucket, "s3:HeadObject", false}}},
	{Name: "stream copy", Code: "replicate/s3source.go, replicate/write.go", Needs: Always,
		Steps: []Step{{SrcBucket, "s3:GetObject", false}, {SrcBucket, "s3:HeadObject", false}, {SrcBucket, "s3:GetObjectTagging", false},
			{DstBucket, "s3:GetObjectLockConfiguration", false}, {DstBucket, "s3:PutObject", false},
			{DstBucket, "s3:CreateMultipartUpload", false}, {DstBucket, "s3:UploadPart", false},
			{DstBucket, "s3:CompleteMultipartUpload", false}, {DstBucket, "s3:AbortMultipartUpload", false}}},
	{Name: "server-side copy", Code: "replicate/servercopy.go (replicate.New: endpoint.SameAccount)", Needs: SameAccount,
		Steps: []Step{{SrcBucket, "s3:HeadObject", false}, {SrcBucket, "s3:GetObjectTagging", false},
			{DstBucket, "s3:GetObjectLockConfiguration", false}, {DstBucket, "s3:CopyObject", false},
			{DstBucket, "s3:CreateMultipartUpload", false}, {DstBucket, "s3:UploadPartCopy", false},
			{DstBucket, "s3:CompleteMultipartUpload", false}, {DstBucket, "s3:AbortMultipartUpload", false}}},
	{Name: "carry object lock over", Code: "replicate/headers.go putInput", Needs: ObjectLock,
		Steps: []Step{{SrcBucket, "s3:GetObject", true}, {SrcBucket, "s3:HeadObject", true},
			{DstBucket, "s3:PutObject", true}, {DstBucket, "s3:CreateMultipartUpload", true}, {DstBucket, "s3:CopyObject", true}}},
	{Name: "replay a delete marker, replicate a delete", Code: "reconcile/versions.go runVersions, worker.syncDelete", Needs: Deletes,
		Steps: []Step{{DstBucket, "s3:DeleteObject", false}}},
	{Name: "remove a replica that failed verification", Code: "replicate/write.go checkStored", Needs: NotGranted,
		Why: "a replica whose stored ETag differs from the bytes sent is deleted (by version ID on a versioned bucket); " +
			"without s3:DeleteObject/s3:DeleteObjectVersion the copy fails naming the bad replica, and the retry overwrites it",
		Steps: []Step{{DstBucket, "s3:DeleteObject", false}}},
	// ferry check also lists both sides (without a prefix), reads one
	// source object and its tags, and the intake queue's attributes: the
	// steps above.
	{Name: "ferry check's probe", Code: "internal/check/probe.go (policy.ProbePrefix)", Needs: Always,
		Steps: []Step{{DstProbe, "s3:PutObject", false}, {DstProbe, "s3:PutObjectTagging", false},
			{DstProbe, "s3:PutObjectAcl", false}, {DstProbe, "s3:HeadObject", false}, {DstProbe, "s3:GetObject", false},
			{DstProbe, "s3:DeleteObject", false}}},
	{Name: "ferry check: the source's event notifications", Code: "internal/check/notify.go", Needs: RunSection,
		Steps: []Step{{SrcBucket, "s3:GetBucketNotificationConfiguration", false}}},
	{Name: "SQS intake (ferry run)", Code: "intake/sqs.go", Needs: DaemonSQS,
		Steps: []Step{{IntakeQueue, "sqs:GetQueueAttributes", false}, {IntakeQueue, "sqs:ReceiveMessage", false},
			{IntakeQueue, "sqs:ChangeMessageVisibility", false}, {IntakeQueue, "sqs:DeleteMessageBatch", false}}},
	{Name: "SQS event source mapping (ferry lambda)", Code: "AWS Lambda, with the function's role", Needs: LambdaSQS,
		Steps: []Step{{IntakeQueue, "sqs:GetQueueAttributes", false}, {IntakeQueue, "sqs:ReceiveMessage", false},
			{IntakeQueue, "sqs:DeleteMessage", false}}},
	{Name: "notifications to SQS", Code: "notify/sqs.go", Needs: NotifySQS,
		Steps: []Step{{NotifyQueue, "sqs:SendMessage", false}}},
	{Name: "notifications to SNS", Code: "notify/sns.go", Needs: NotifySNS,
		Steps: []Step{{NotifyTopic, "sns:Publish", false}}},
	{Name: "deploy", Code: "cli/deploy.go, deploy/plan.go, replicate/local.go upload, artifact deploy", Needs: Deploy,
		Steps: []Step{{DeployBucket, "s3:HeadBucket", false}, {DeployBucket, "s3:ListObjectsV2", false},
			{DeployBucket, "s3:HeadObject", false}, {DeployBucket, "s3:PutObject", false},
			{DeployBucket, "s3:CreateMultipartUpload", false}, {DeployBucket, "s3:UploadPart", false},
			{DeployBucket, "s3:CompleteMultipartUpload", false}, {DeployBucket, "s3:AbortMultipartUpload", false}}},
	{Name: "deploy --delete", Code: "deploy/apply.go delete", Needs: DeployDelete,
		Steps: []Step{{DeployBucket, "s3:DeleteObjects", false}}},
	{Name: "CloudFront invalidation", Code: "cdn/invalidate.go", Needs: Invalidate,
		Steps: []Step{{Distribution, "cloudfront:CreateInvalidation", false}, {Distribution, "cloudfront:GetInvalidation", false}}},
	{Name: "CodePipeline job result", Code: "pipeline/reporter.go", Needs: CodePipeline,
		Steps: []Step{{AnyResource, "codepipeline:PutJobSuccessResult", false}, {AnyResource, "codepipeline:PutJobFailureResult", false}}},
	{Name: "the function's log", Code: "AWS Lambda (stderr, EMF metric lines)", Needs: LambdaLogs,
		Steps: []Step{{LogGroup, "logs:CreateLogGroup", false}, {LogGroup, "logs:CreateLogStream", false}, {LogGroup, "logs:PutLogEvents", false}}},
	{Name: "a profile's role_arn", Code: "the SDK's assume-role credentials", Needs: AssumeRole,
		Steps: []Step{{ProfileRole, "sts:AssumeRole", false}}},
}

// Resource kinds an operation is authorised on.
const (
	onBucket   = "bucket"
	onObject   = "object"
	onOther    = "other"    // the call's Resource as given (queue, topic, ...)
	onNothing  = "nothing"  // "*"
	onPerKey   = "each key" // DeleteObjects: each key listed
	onCopyDest = "copy"     // the destination object, plus the copy source
)

// Operation is what IAM authorises one operation with.
type Operation struct {
	Actions []string // on the operation's resource
	// Version replaces Actions when the request names a version ID.
	Version []string
	On      string
	// KMSRead and KMSWrite are what S3 asks KMS for, on ferry's behalf,
	// when the source (or the written) object is SSE-KMS.
	KMSRead, KMSWrite []string
}

// Operations maps every operation of CodePaths to its IAM actions. Extra
// actions driven by request headers (tags, ACL, object lock) are added by
// Needs.
var Operations = map[string]Operation{
	"s3:HeadBucket":                         {Actions: []string{"s3:ListBucket"}, On: onBucket},
	"s3:GetBucketVersioning":                {Actions: []string{"s3:GetBucketVersioning"}, On: onBucket},
	"s3:GetBucketTagging":                   {Actions: []string{"s3:GetBucketTagging"}, On: onBucket},
	"s3:GetObjectLockConfiguration":         {Actions: []string{"s3:GetBucketObjectLockConfiguration"}, On: onBucket},
	"s3:GetBucketNotificationConfiguration": {Actions: []string{"s3:GetBucketNotification"}, On: onBucket},
	"s3:ListObjectsV2":                      {Actions: []string{"s3:ListBucket"}, On: onBucket},
	"s3:ListObjectVersions":                 {Actions: []string{"s3:ListBucketVersions"}, On: onBucket},
	"s3:HeadObject":                         {Actions: []string{"s3:GetObject"}, Version: []string{"s3:GetObjectVersion"}, On: onObject},
	"s3:GetObject": {Actions: []string{"s3:GetObject"}, Version: []string{"s3:GetObjectVersion"}, On: onObject,
		KMSRead: []string{"kms:Decrypt"}},
	"s3:GetObjectTagging": {Actions: []string{"s3:GetObjectTagging"}, Version: []string{"s3:GetObjectVersionTagging"}, On: onObject},
	"s3:PutObject":        {Actions: []string{"s3:PutObject"}, On: onObject, KMSWrite: []string{"kms:GenerateDataKey"}},
	"s3:CreateMultipartUpload": {Actions: []string{"s3:PutObject"}, On: onObject,
		KMSWrite: []string{"kms:GenerateDataKey"}},
	// S3 decrypts the upload's data key for each part and to complete it.
	"s3:UploadPart":              {Actions: []string{"s3:PutObject"}, On: onObject, KMSWrite: []string{"kms:Decrypt"}},
	"s3:CompleteMultipartUpload": {Actions: []string{"s3:PutObject"}, On: onObject, KMSWrite: []string{"kms:Decrypt"}},
	"s3:AbortMultipartUpload":    {Actions: []string{"s3:AbortMultipartUpload"}, On: onObject},
	"s3:PutObjectTagging":        {Actions: []string{"s3:PutObjectTagging"}, Version: []string{"s3:PutObjectVersionTagging"}, On: onObject},
	// The canned ACL is the s3:x-amz-acl condition key.
	"s3:PutObjectAcl": {Actions: []string{"s3:PutObjectAcl"}, Version: []string{"s3:PutObjectVersionAcl"}, On: onObject},
	// CopyObject copies tags (TaggingDirective COPY): reading them at the
	// source, writing them at the destination.
	"s3:CopyObject": {Actions: []string{"s3:PutObject", "s3:PutObjectTagging"}, On: onCopyDest,
		KMSRead: []string{"kms:Decrypt"}, KMSWrite: []string{"kms:GenerateDataKey"}},
	"s3:UploadPartCopy": {Actions: []string{"s3:PutObject"}, On: onCopyDest,
		KMSRead: []string{"kms:Decrypt"}, KMSWrite: []string{"kms:Decrypt"}},
	"s3:DeleteObject":  {Actions: []string{"s3:DeleteObject"}, Version: []string{"s3:DeleteObjectVersion"}, On: onObject},
	"s3:DeleteObjects": {Actions: []string{"s3:DeleteObject"}, Version: []string{"s3:DeleteObjectVersion"}, On: onPerKey},

	"sqs:GetQueueAttributes":      {Actions: []string{"sqs:GetQueueAttributes"}, On: onOther},
	"sqs:ReceiveMessage":          {Actions: []string{"sqs:ReceiveMessage"}, On: onOther},
	"sqs:ChangeMessageVisibility": {Actions: []string{"sqs:ChangeMessageVisibility"}, On: onOther},
	"sqs:DeleteMessage":           {Actions: []string{"sqs:DeleteMessage"}, On: onOther},
	// The batch APIs are authorised as their single forms.
	"sqs:DeleteMessageBatch": {Actions: []string{"sqs:DeleteMessage"}, On: onOther},
	"sqs:SendMessage":        {Actions: []string{"sqs:SendMessage"}, On: onOther},
	"sns:Publish":            {Actions: []string{"sns:Publish"}, On: onOther},

	"cloudfront:CreateInvalidation":    {Actions: []string{"cloudfront:CreateInvalidation"}, On: onOther},
	"cloudfront:GetInvalidation":       {Actions: []string{"cloudfront:GetInvalidation"}, On: onOther},
	"codepipeline:PutJobSuccessResult": {Actions: []string{"codepipeline:PutJobSuccessResult"}, On: onNothing},
	"codepipeline:PutJobFailureResult": {Actions: []string{"codepipeline:PutJobFailureResult"}, On: onNothing},
	"logs:CreateLogGroup":              {Actions: []string{"logs:CreateLogGroup"}, On: onOther},
	"logs:CreateLogStream":             {Actions: []string{"logs:CreateLogStream"}, On: onOther},
	"logs:PutLogEvents":                {Actions: []string{"logs:PutLogEvents"}, On: onOther},
	"sts:AssumeRole":                   {Actions: []string{"sts:AssumeRole"}, On: onOther},
}
