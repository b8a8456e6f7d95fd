package policy

import (
	"fmt"

	"github.com/ferry-s3/ferry/internal/awsarn"
	"github.com/ferry-s3/ferry/internal/config"
)

// intakeStatements: the SQS queue S3 sends events to. The daemon receives,
// hides (ChangeMessageVisibility, while a copy runs and to back off a
// failure) and deletes (DeleteMessageBatch is authorised as DeleteMessage);
// in Lambda the event source mapping polls with the function's role and
// needs ReceiveMessage, DeleteMessage and GetQueueAttributes.
func intakeStatements(rt Runtime, arn string) []Statement {
	actions := Strings{"sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"}
	if rt == Lambda {
		actions = Strings{"sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage"}
	}
	return []Statement{{Sid: "ReceiveS3Events", Effect: Allow, Action: actions, Resource: Strings{arn}}}
}

// notifyStatements: replication events to SQS (SendMessage) and SNS
// (Publish). Only `ferry run` sends them.
func notifyStatements(n *config.Notifications) []Statement {
	var queues, topics Strings
	for _, t := range n.Targets {
		switch {
		case t.SQS != nil:
			if arn, _, ok := queueARN(t.SQS.QueueURL, t.SQS.Region); ok {
				queues = appendNew(queues, arn)
			}
		case t.SNS != nil:
			topics = appendNew(topics, t.SNS.TopicARN)
		}
	}
	var out []Statement
	if len(queues) > 0 {
		out = append(out, Statement{Sid: "SendNotificationsToSQS", Effect: Allow, Action: Strings{"sqs:SendMessage"}, Resource: queues})
	}
	if len(topics) > 0 {
		out = append(out, Statement{Sid: "PublishNotificationsToSNS", Effect: Allow, Action: Strings{"sns:Publish"}, Resource: topics})
	}
	return out
}

// logStatement: a Lambda function writes its log (and ferry's EMF metric
// lines) to its own log group.
func logStatement(part, region, account, function string) Statement {
	group := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", part, orAny(region), orAny(account), function)
	return Statement{Sid: "WriteFunctionLogs", Effect: Allow,
		Action:   Strings{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: Strings{group, group + ":*"}}
}

// cdnStatement: deploys invalidate the distributions' changed paths and,
// with --wait, poll until the invalidation completes.
func cdnStatement(part, account string, dists []string) Statement {
	var res Strings
	for _, d := range dists {
		// CloudFront is global: no region in its ARNs.
		res = append(res, fmt.Sprintf("arn:%s:cloudfront::%s:distribution/%s", part, orAny(account), d))
	}
	return Statement{Sid: "InvalidateDistributions", Effect: Allow,
		Action: Strings{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}, Resource: res}
}

// pipelineStatement: a CodePipeline job's result. These two actions take
// no resource (AWS's service authorization reference lists none), so "*"
// is the only resource they accept.
func pipelineStatement() Statement {
	return Statement{Sid: "ReportPipelineJobs", Effect: Allow,
		Action: Strings{"codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"}, Resource: Strings{"*"}}
}

// assumeStatement: a profile with role_arn makes the SDK call
// sts:AssumeRole for it.
func assumeStatement(roles []string) Statement {
	return Statement{Sid: "AssumeProfileRoles", Effect: Allow, Action: Strings{"sts:AssumeRole"}, Resource: roles}
}

// queuePolicy lets S3 send the source bucket's events to the intake
// queue, and nothing else: aws:SourceArn is the source bucket, and
// aws:SourceAccount (when known) its owner, which also stops a bucket of
// the same name in another account (after this one is deleted) from
// sending to it.
func queuePolicy(arn string, src bucket, account string) *Document {
	c := Conditions{}.add("ArnLike", "aws:SourceArn", src.arn())
	if account != "" {
		c = c.add("StringEquals", "aws:SourceAccount", account)
	}
	return newDocument(Statement{Sid: "AllowS3ToSendEvents", Effect: Allow,
		Principal: &Principal{Service: Strings{"s3.amazonaws.com"}}, Action: Strings{"sqs:SendMessage"},
		Resource: Strings{arn}, Condition: c})
}

// trustPolicy lets the runtime's service assume the role; nil for a user.
func trustPolicy(rt Runtime, account, region string) *Document {
	var service, sid string
	switch rt {
	case Lambda:
		service, sid = "lambda.amazonaws.com", "LambdaAssumesRole"
	case EC2:
		service, sid = "ec2.amazonaws.com", "EC2AssumesRole"
	case ECS:
		service, sid = "ecs-tasks.amazonaws.com", "ECSTasksAssumeRole"
	default:
		return nil
	}
	st := Statement{Sid: sid, Effect: Allow, Principal: &Principal{Service: Strings{service}},
		Action: Strings{"sts:AssumeRole"}}
	if rt == ECS && account != "" {
		// AWS's advice for task roles: only tasks of this account's
		// clusters (the confused deputy problem).
		st.Condition = Conditions{}.
			add("ArnLike", "aws:SourceArn", fmt.Sprintf("arn:%s:ecs:%s:%s:*", awsarn.Partition(region), orAny(region), account)).
			add("StringEquals", "aws:SourceAccount", account)
	}
	return &Document{Version: Version, Statement: []Statement{st}}
}
