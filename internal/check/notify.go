package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/failure"
)

// intakeWant is what the source's event notifications must do for the
// configured intakes.
type intakeWant struct {
	// queueARN is the SQS intake's queue ("" without one).
	queueARN string
	// minio: the webhook or NATS intake runs, so a MinIO notification
	// target (arn:minio:sqs::ID:webhook or :nats) will do.
	minio bool
	// deletes names why deletions must be notified too ("" if they need
	// not be).
	deletes string
	// prefixes are the source prefixes the rules cover ("" for all).
	prefixes []string
}

func (w intakeWant) String() string {
	var s []string
	if w.queueARN != "" {
		s = append(s, "the SQS queue "+w.queueARN)
	}
	if w.minio {
		s = append(s, "a MinIO webhook or NATS target (arn:minio:sqs:...)")
	}
	return strings.Join(s, " or ")
}

// Event names: S3's, as bucket notification configurations write them.
var (
	createdEvents = []string{"s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload"}
	removedEvents = []string{"s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"}
)

// checkNotifications checks that the source sends its events where the
// configured intake listens. Without a run section there is no intake,
// and nothing to check.
func (r *runner) checkNotifications(ctx context.Context, src *source, queueARN string) {
	if r.cfg.Run == nil {
		return
	}
	rc := r.cfg.Run.WithDefaults()
	want := intakeWant{minio: rc.NATS != nil || !rc.Webhook.Disabled, deletes: r.deletesWhy(), prefixes: r.cfg.Prefixes()}
	if rc.SQS != nil {
		want.queueARN = queueARNOr(queueARN, rc.SQS.QueueURL)
	}
	target := "s3://" + src.bucket
	s := src.site
	if !src.exists {
		r.skip("notifications", target, needOf(s, "the source bucket"))
		return
	}
	res := Result{Check: "notifications", Target: target}
	var nc *s3.GetBucketNotificationConfigurationOutput
	err := r.call(ctx, func(ctx context.Context) (err error) {
		nc, err = s.ep.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(src.bucket)}, s.calls()...)
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{failure.SrcSide, "s3:GetBucketNotification", bucketARN(src.bucket)}, err)
		res.Detail = "the event notification configuration cannot be read"
		if kindOf(err) == kindDenied {
			// ferry itself does not need to read it: the events may well
			// arrive; only this check cannot tell.
			res.Status = Warn
			res.Fix = grant(s, "s3:GetBucketNotification", bucketARN(src.bucket)) + " to let the check see it"
		}
		r.add(res)
		return
	}
	res.Status, res.Detail = judgeNotifications(nc, want)
	if res.Status != Pass {
		res.Fix = "`ferry setup notifications --config " + r.cfg.Name + "` configures them"
	}
	r.add(res)
}

func queueARNOr(arn, queueURL string) string {
	if arn != "" {
		return arn
	}
	return queueARNFromURL(queueURL, "")
}

// deletesWhy says why deletions must be notified, or "" when they need
// not be: a rule replicates delete markers, or a destination has
// replicate_deletes.
func (r *runner) deletesWhy() string {
	var why []string
	if names := r.deleteMarkerRules(nil); len(names) > 0 {
		why = append(why, "rule "+strings.Join(names, ", ")+" replicates delete markers")
	}
	for _, d := range r.cfg.Destinations {
		if d.ReplicateDeletes {
			why = append(why, d.Bucket+" has replicate_deletes")
		}
	}
	return strings.Join(why, "; ")
}

// judgeNotifications decides whether a notification configuration sends
// what the intake needs: creations always, deletions when they are
// replicated, for every key the rules cover. It is pure.
func judgeNotifications(nc *s3.GetBucketNotificationConfigurationOutput, want intakeWant) (Status, string) {
	var all, whole []string // events of matching configurations; of those that filter no rule prefix out
	var arns, others []string
	var filtered []string
	for _, q := range nc.QueueConfigurations {
		arn := aws.ToString(q.QueueArn)
		if !(want.queueARN != "" && arn == want.queueARN || want.minio && strings.HasPrefix(arn, "arn:minio:sqs:")) {
			others = append(others, arn)
			continue
		}
		arns = appendNew(arns, arn)
		events := eventNames(q.Events)
		all = append(all, events...)
		if why := filterGap(q.Filter, want.prefixes); why != "" {
			filtered = append(filtered, arn+" "+why)
			continue
		}
		whole = append(whole, events...)
	}
	required := []string{"s3:ObjectCreated:*"}
	if want.deletes != "" {
		required = append(required, "s3:ObjectRemoved:*")
	}
	if len(arns) == 0 {
		var elsewhere []string
		for _, t := range nc.TopicConfigurations {
			elsewhere = append(elsewhere, "SNS topic "+aws.ToString(t.TopicArn))
		}
		for _, l := range nc.LambdaFunctionConfigurations {
			elsewhere = append(elsewhere, "Lambda function "+aws.ToString(l.LambdaFunctionArn))
		}
		if nc.EventBridgeConfiguration != nil {
			elsewhere = append(elsewhere, "EventBridge")
		}
		switch {
		case len(elsewhere) > 0:
			return Warn, fmt.Sprintf("events go to %s, not directly to %s; make sure they reach it (a subscription, a rule, or `ferry lambda`)",
				strings.Join(elsewhere, ", "), want)
		case len(others) > 0:
			return Fail, fmt.Sprintf("events go to %s, not to %s", strings.Join(others, ", "), want)
		}
		return Fail, "no event notifications are configured: `ferry run` would receive no events (only its periodic reconcile would copy)"
	}
	if missing := missingEvents(all, required); len(missing) > 0 {
		detail := fmt.Sprintf("events sent to %s do not include %s", strings.Join(arns, ", "), strings.Join(missing, ", "))
		if slices.Contains(missing, "s3:ObjectRemoved:*") {
			detail += " (" + want.deletes + ")"
		}
		return Fail, detail
	}
	if missing := missingEvents(whole, required); len(missing) > 0 {
		return Warn, "filters leave keys the rules cover without events: " + strings.Join(filtered, "; ")
	}
	return Pass, fmt.Sprintf("%s sent to %s", strings.Join(required, " and "), strings.Join(arns, ", "))
}

func eventNames(events []types.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

// missingEvents lists the required wildcards ("s3:ObjectCreated:*") that
// events do not cover, either as the wildcard or as each event it means.
func missingEvents(events, required []string) []string {
	var missing []string
	for _, w := range required {
		if slices.Contains(events, w) || slices.Contains(events, "s3:*") {
			continue
		}
		each := createdEvents
		if w == "s3:ObjectRemoved:*" {
			each = removedEvents
		}
		for _, e := range each {
			if !slices.Contains(events, e) {
				missing = append(missing, w)
				break
			}
		}
	}
	return missing
}

// filterGap says how a notification's key filter leaves out keys the
// rules cover ("" if it does not): a suffix filter always can; a prefix
// filter unless every rule prefix is inside it.
func filterGap(f *types.NotificationConfigurationFilter, prefixes []string) string {
	if f == nil || f.Key == nil {
		return ""
	}
	for _, fr := range f.Key.FilterRules {
		v := aws.ToString(fr.Value)
		switch strings.ToLower(string(fr.Name)) {
		case "suffix":
			if v != "" {
				return fmt.Sprintf("only notifies keys ending in %q", v)
			}
		case "prefix":
			for _, p := range prefixes {
				if !strings.HasPrefix(p, v) {
					return fmt.Sprintf("only notifies keys under %q", v)
				}
			}
		}
	}
	return ""
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
