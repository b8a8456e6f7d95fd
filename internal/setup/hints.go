package setup

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/ferry-s3/ferry/internal/config"
)

// QueuePolicy is the access policy an AWS SQS queue needs before S3 may
// send it the bucket's events (S3 checks at PUT time and refuses
// otherwise). It is printed, never applied: the queue may have other
// statements, and changing access is for its owner to decide. ok is false
// for targets that are not AWS queues.
//
// aws:SourceAccount is the bucket owner's account, assumed to be the
// queue's: it keeps a bucket of the same name in another account from
// sending (the confused deputy).
func QueuePolicy(t Target, bucket string) (policy string, ok bool) {
	a, err := parseARN(t.ARN)
	if t.Kind != Queue || err != nil || !a.aws() {
		return "", false
	}
	// Structs, not maps, keep the fields in the order policies are read.
	type statement struct {
		Sid       string
		Effect    string
		Principal struct{ Service string }
		Action    string
		Resource  string
		Condition struct {
			ArnEquals    map[string]string
			StringEquals map[string]string
		}
	}
	st := statement{Sid: "S3SendsBucketEventsToFerry", Effect: "Allow", Action: "sqs:SendMessage", Resource: t.ARN}
	st.Principal.Service = "s3.amazonaws.com"
	st.Condition.ArnEquals = map[string]string{"aws:SourceArn": "arn:" + a.partition + ":s3:::" + bucket}
	st.Condition.StringEquals = map[string]string{"aws:SourceAccount": a.account}
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{st}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b), true
}

// LambdaPermission is the `aws lambda add-permission` command that lets S3
// invoke the function for the bucket's events (S3 checks at PUT time). ok
// is false for targets that are not Lambda functions.
func LambdaPermission(t Target, bucket string) (argv []string, ok bool) {
	a, err := parseARN(t.ARN)
	if t.Kind != Lambda || err != nil {
		return nil, false
	}
	argv = []string{"aws", "lambda", "add-permission",
		"--function-name", t.ARN,
		"--statement-id", statementID("ferry-s3-" + bucket),
		"--action", "lambda:InvokeFunction",
		"--principal", "s3.amazonaws.com",
		"--source-arn", "arn:" + a.partition + ":s3:::" + bucket,
		"--source-account", a.account, // the bucket owner's, assumed to be the function's
	}
	if a.region != "" {
		argv = append(argv, "--region", a.region)
	}
	return argv, true
}

// statementID keeps what add-permission accepts: letters, digits, - and _,
// at most 100 characters (bucket names may have dots).
func statementID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 100)])
}

// Shell joins argv for a shell, quoting what needs it.
func Shell(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>()*?[]#~!{}") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// webhookHelp says how to give MinIO a webhook target that posts to
// ferry run's /events.
func webhookHelp(run config.Run, file string) string {
	scheme := "http"
	if run.Webhook.TLSCert != "" {
		scheme = "https"
	}
	return fmt.Sprintf(`ferry run receives events on its webhook (%s://%s/events), but MinIO sends them only to a
notification target defined in the server's own configuration, which the S3 API neither lists nor
creates. Define one once per server (ALIAS is the server's mc alias), then re-run with its ARN:

  mc admin config set ALIAS notify_webhook:ferry endpoint=%s://%s/events \
      auth_token="$%s" queue_dir=/var/lib/minio/events/ferry
  mc admin service restart ALIAS
  ferry setup notifications --config %s --target arn:minio:sqs::ferry:webhook

queue_dir keeps events on MinIO's disk while ferry is down. `+"`mc admin config get ALIAS notify_webhook`"+` lists the
webhook targets a server has; the ARN of target NAME is arn:minio:sqs::NAME:webhook.`,
		scheme, reachable(run.Listen), scheme, reachable(run.Listen), run.Webhook.TokenEnv, file)
}

// natsHelp says how to give MinIO a NATS JetStream target publishing to
// the subject ferry run consumes.
func natsHelp(n *config.NATS, file string) string {
	addr := strings.TrimPrefix(strings.TrimPrefix(n.URL, "nats://"), "tls://")
	return fmt.Sprintf(`ferry run consumes MinIO's events from NATS JetStream (%s, subject %s), but MinIO publishes them
only through a notification target defined in the server's own configuration, which the S3 API neither
lists nor creates. Define one once per server (ALIAS is the server's mc alias), then re-run with its ARN:

  mc admin config set ALIAS notify_nats:ferry address=%s subject=%s jetstream=on \
      queue_dir=/var/lib/minio/events/ferry
  mc admin service restart ALIAS
  ferry setup notifications --config %s --target arn:minio:sqs::ferry:nats

`+"`mc admin config get ALIAS notify_nats`"+` lists the NATS targets a server has; the ARN of target NAME is
arn:minio:sqs::NAME:nats.`, n.URL, n.Subject, addr, n.Subject, file)
}

// reachable is the listen address as another machine reaches it: a
// loopback or wildcard host is a placeholder the reader must replace.
func reachable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "FERRY-HOST"
	}
	return net.JoinHostPort(host, port)
}
