package testbed

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQS is an in-memory SQS server for tests, speaking the AWS JSON 1.0
// protocol of current SDKs. No SQS-compatible server installs on the test
// machines (see docs/testing.md), so this one stands in for SQS, for the
// operations ferry's SQS intake uses:
//
//	CreateQueue, GetQueueUrl, GetQueueAttributes, SetQueueAttributes,
//	SendMessage, ReceiveMessage, DeleteMessage, DeleteMessageBatch,
//	ChangeMessageVisibility
//
// with SQS's semantics where ferry relies on them: long polling that
// answers as soon as a message is visible, visibility timeouts, receipt
// handles that go stale when a message is received again (deleting with a
// stale one succeeds and deletes nothing, as on AWS), ApproximateReceiveCount,
// and a RedrivePolicy that moves a message to its dead-letter queue when it
// is received more than maxReceiveCount times. FIFO queues, message
// attributes and batch sends are not implemented.
//
// Every request is checked as AWS would: POST /, Content-Type
// application/x-amz-json-1.0, an X-Amz-Target of AmazonSQS.*, and a valid
// SigV4 signature (service sqs, region us-east-1) by AccessKey/SecretKey.
// A request that fails the check, or calls an operation the fake lacks,
// fails the test.
type SQS struct {
	fakeServer
	closed chan struct{} // ends long polls so the server can close

	changed chan struct{} // closed and replaced on every change; wakes long polls
	queues  map[string]*sqsQueue
	handles map[string]*sqsMessage // every receipt handle ever issued
	seq     int
}

// SQSAccount is the account id in the fake's queue URLs and ARNs.
const SQSAccount = "123456789012"

type sqsQueue struct {
	name, url, arn string
	visibility     time.Duration
	wait           time.Duration
	delay          time.Duration
	redrive        string // RedrivePolicy as set
	dlqARN         string
	maxReceives    int
	msgs           []*sqsMessage // in send order
}

type sqsMessage struct {
	id, body, md5  string
	sent           time.Time
	visibleAt      time.Time // invisible before: delayed or in flight
	receives       int
	firstReceive   time.Time
	receipt        string // the latest receipt handle
	deleted        bool
	deadLetterFrom string // source queue ARN, for messages moved to a DLQ
	queue          *sqsQueue
}

// NewSQS starts an SQS server on 127.0.0.1 for the test; it stops at the
// end of the test.
func NewSQS(t testing.TB) *SQS {
	t.Helper()
	s := &SQS{
		closed:  make(chan struct{}),
		changed: make(chan struct{}),
		queues:  map[string]*sqsQueue{},
		handles: map[string]*sqsMessage{},
	}
	s.start(t, "sqs", s)
	t.Cleanup(func() { close(s.closed) }) // runs first: ends long polls, so the server can close
	return s
}

// Client returns an SDK client for the fake, with its credentials.
func (s *SQS) Client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  s.creds(),
		HTTPClient:   awshttp.NewBuildableClient(),
	})
}

// sqsError is an error answer; query is the code of the older query
// protocol, sent in X-Amzn-Query-Error for query-compatible clients.
type sqsError struct {
	code, query, msg string
}

func (e *sqsError) Error() string { return e.code + ": " + e.msg }

func errInvalidParameter(format string, args ...any) *sqsError {
	return &sqsError{code: "InvalidParameterValue", query: "InvalidParameterValue", msg: fmt.Sprintf(format, args...)}
}

func errNoQueue() *sqsError {
	return &sqsError{code: "QueueDoesNotExist", query: "AWS.SimpleQueueService.NonExistentQueue",
		msg: "The specified queue does not exist."}
}

func errBadReceipt(h string) *sqsError {
	return &sqsError{code: "ReceiptHandleIsInvalid", query: "ReceiptHandleIsInvalid",
		msg: fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", h)}
}

func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.check(r, body); err != nil {
		s.t.Errorf("fake SQS: bad request: %v", err)
		writeSQSError(w, http.StatusBadRequest, &sqsError{code: "InvalidSecurity", query: "InvalidSecurity", msg: err.Error()})
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()

	var out any
	var e *sqsError
	dec := func(in any) bool {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(in); err != nil {
			s.t.Errorf("fake SQS: %s: cannot decode %s: %v", op, body, err)
			e = errInvalidParameter("%v", err)
			return false
		}
		return true
	}
	switch op {
	case "CreateQueue":
		var in struct {
			QueueName  string
			Attributes map[string]string
			Tags       map[string]string `json:"tags"`
		}
		if dec(&in) {
			out, e = s.createQueue(in.QueueName, in.Attributes)
		}
	case "GetQueueUrl":
		var in struct {
			QueueName              string
			QueueOwnerAWSAccountId string
		}
		if dec(&in) {
			out, e = s.getQueueURL(in.QueueName)
		}
	case "GetQueueAttributes":
		var in struct {
			QueueUrl       string
			AttributeNames []string
		}
		if dec(&in) {
			out, e = s.getQueueAttributes(in.QueueUrl, in.AttributeNames)
		}
	case "SetQueueAttributes":
		var in struct {
			QueueUrl   string
			Attributes map[string]string
		}
		if dec(&in) {
			out, e = s.setQueueAttributes(in.QueueUrl, in.Attributes)
		}
	case "SendMessage":
		var in struct {
			QueueUrl                string
			MessageBody             string
			DelaySeconds            *int
			MessageAttributes       json.RawMessage
			MessageSystemAttributes json.RawMessage
		}
		if dec(&in) {
			if len(in.MessageAttributes) > 0 || len(in.MessageSystemAttributes) > 0 {
				e = errInvalidParameter("fake SQS: message attributes are not implemented")
				break
			}
			out, e = s.sendMessage(in.QueueUrl, in.MessageBody, in.DelaySeconds)
		}
	case "ReceiveMessage":
		var in receiveInput
		if dec(&in) {
			out, e = s.receiveMessage(r.Context(), &in)
		}
	case "DeleteMessage":
		var in struct{ QueueUrl, ReceiptHandle string }
		if dec(&in) {
			out, e = s.deleteMessage(in.QueueUrl, in.ReceiptHandle)
		}
	case "DeleteMessageBatch":
		var in struct {
			QueueUrl string
			Entries  []struct{ Id, ReceiptHandle string }
		}
		if dec(&in) {
			out, e = s.deleteMessageBatch(in.QueueUrl, in.Entries)
		}
	case "ChangeMessageVisibility":
		var in struct {
			QueueUrl, ReceiptHandle string
			VisibilityTimeout       int
		}
		if dec(&in) {
			out, e = s.changeVisibility(in.QueueUrl, in.ReceiptHandle, in.VisibilityTimeout)
		}
	default:
		s.t.Errorf("fake SQS: operation %q is not implemented", op)
		e = &sqsError{code: "UnsupportedOperation", query: "AWS.SimpleQueueService.UnsupportedOperation",
			msg: "fake SQS: operation " + op + " is not implemented"}
	}
	if e != nil {
		writeSQSError(w, http.StatusBadRequest, e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.t.Errorf("fake SQS: %s: %v", op, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", randomHex(16))
	w.Write(b)
}

func writeSQSError(w http.ResponseWriter, status int, e *sqsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", randomHex(16))
	if e.query != "" {
		w.Header().Set("X-Amzn-Query-Error", e.query+";Sender")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
}

// authHeader is the form of a SigV4 Authorization header.
var authHeader = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

// check verifies the protocol and the SigV4 signature of a request by
// signing a copy of it (its signed headers only) again.
func (s *SQS) check(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return fmt.Errorf("%s %s: want POST /", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return fmt.Errorf("Content-Type %q, want application/x-amz-json-1.0", ct)
	}
	if tg := r.Header.Get("X-Amz-Target"); !strings.HasPrefix(tg, "AmazonSQS.") {
		return fmt.Errorf("X-Amz-Target %q, want AmazonSQS.<operation>", tg)
	}
	return checkSigV4(r, body, "sqs", s.AccessKey, s.SecretKey)
}

// notify wakes the long polls; s.mu is held.
func (s *SQS) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// queue returns the queue a QueueUrl names; s.mu is held. Like SQS, it
// goes by the last path element.
func (s *SQS) queue(url string) (*sqsQueue, *sqsError) {
	q, ok := s.queues[path.Base(url)]
	if !ok || url == "" {
		return nil, errNoQueue()
	}
	return q, nil
}

var queueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func (s *SQS) createQueue(name string, attrs map[string]string) (any, *sqsError) {
	if strings.HasSuffix(name, ".fifo") {
		return nil, errInvalidParameter("fake SQS: FIFO queues are not implemented")
	}
	if !queueName.MatchString(name) {
		return nil, errInvalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[name]; ok {
		for k, v := range attrs {
			if cur, _ := q.attribute(k); cur != v {
				return nil, &sqsError{code: "QueueNameExists", query: "QueueAlreadyExists",
					msg: "A queue already exists with the same name and a different value for attribute " + k}
			}
		}
		return map[string]string{"QueueUrl": q.url}, nil
	}
	q := &sqsQueue{
		name:       name,
		url:        s.URL + "/" + SQSAccount + "/" + name,
		arn:        "arn:aws:sqs:" + Region + ":" + SQSAccount + ":" + name,
		visibility: 30 * time.Second,
	}
	if e := s.setAttributes(q, attrs); e != nil {
		return nil, e
	}
	s.queues[name] = q
	return map[string]string{"QueueUrl": q.url}, nil
}

func (s *SQS) getQueueURL(name string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		return nil, errNoQueue()
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

// setAttributes applies CreateQueue/SetQueueAttributes attributes; s.mu is
// held.
func (s *SQS) setAttributes(q *sqsQueue, attrs map[string]string) *sqsError {
	seconds := func(name, v string, max int) (time.Duration, *sqsError) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > max {
			return 0, &sqsError{code: "InvalidAttributeValue", query: "InvalidAttributeValue",
				msg: fmt.Sprintf("Invalid value for the parameter %s.", name)}
		}
		return time.Duration(n) * time.Second, nil
	}
	for k, v := range attrs {
		var e *sqsError
		switch k {
		case "VisibilityTimeout":
			q.visibility, e = seconds(k, v, 43200)
		case "ReceiveMessageWaitTimeSeconds":
			q.wait, e = seconds(k, v, 20)
		case "DelaySeconds":
			q.delay, e = seconds(k, v, 900)
		case "MessageRetentionPeriod", "MaximumMessageSize", "Policy", "SqsManagedSseEnabled", "RedriveAllowPolicy":
			// accepted, not enforced
		case "RedrivePolicy":
			if v == "" {
				q.redrive, q.dlqARN, q.maxReceives = "", "", 0
				continue
			}
			var p struct {
				DeadLetterTargetArn string
				MaxReceiveCount     json.Number
			}
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				return &sqsError{code: "InvalidAttributeValue", query: "InvalidAttributeValue", msg: "Invalid value for the parameter RedrivePolicy: " + err.Error()}
			}
			n, err := strconv.Atoi(p.MaxReceiveCount.String())
			if err != nil || n < 1 || n > 1000 {
				return &sqsError{code: "InvalidAttributeValue", query: "InvalidAttributeValue", msg: "Value " + v + " for parameter RedrivePolicy is invalid: maxReceiveCount must be 1 to 1000."}
			}
			if s.queueByARN(p.DeadLetterTargetArn) == nil {
				return &sqsError{code: "InvalidAttributeValue", query: "InvalidAttributeValue", msg: "Value " + v + " for parameter RedrivePolicy is invalid: Dead letter target does not exist."}
			}
			q.redrive, q.dlqARN, q.maxReceives = v, p.DeadLetterTargetArn, n
		default:
			return &sqsError{code: "InvalidAttributeName", query: "InvalidAttributeName", msg: "Unknown Attribute " + k + "."}
		}
		if e != nil {
			return e
		}
	}
	return nil
}

func (s *SQS) queueByARN(arn string) *sqsQueue {
	for _, q := range s.queues {
		if q.arn == arn {
			return q
		}
	}
	return nil
}

// attribute returns one queue attribute as GetQueueAttributes does; s.mu is
// held.
func (q *sqsQueue) attribute(name string) (string, bool) {
	secs := func(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
	now := time.Now()
	count := func(inFlight bool) string {
		n := 0
		for _, m := range q.msgs {
			invisible := now.Before(m.visibleAt)
			if inFlight && invisible && m.receives > 0 || !inFlight && !invisible {
				n++
			}
		}
		return strconv.Itoa(n)
	}
	switch name {
	case "QueueArn":
		return q.arn, true
	case "VisibilityTimeout":
		return secs(q.visibility), true
	case "ReceiveMessageWaitTimeSeconds":
		return secs(q.wait), true
	case "DelaySeconds":
		return secs(q.delay), true
	case "RedrivePolicy":
		return q.redrive, q.redrive != ""
	case "ApproximateNumberOfMessages":
		return count(false), true
	case "ApproximateNumberOfMessagesNotVisible":
		return count(true), true
	}
	return "", false
}

var queueAttributeNames = []string{"QueueArn", "VisibilityTimeout", "ReceiveMessageWaitTimeSeconds", "DelaySeconds",
	"RedrivePolicy", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}

func (s *SQS) getQueueAttributes(url string, names []string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	if len(names) == 1 && names[0] == "All" {
		names = queueAttributeNames
	}
	attrs := map[string]string{}
	for _, n := range names {
		v, ok := q.attribute(n)
		if !ok && n != "RedrivePolicy" {
			return nil, &sqsError{code: "InvalidAttributeName", query: "InvalidAttributeName", msg: "Unknown Attribute " + n + "."}
		}
		if ok {
			attrs[n] = v
		}
	}
	return map[string]any{"Attributes": attrs}, nil
}

func (s *SQS) setQueueAttributes(url string, attrs map[string]string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	if e := s.setAttributes(q, attrs); e != nil {
		return nil, e
	}
	s.notify()
	return struct{}{}, nil
}

// validBody reports whether SQS accepts body: #x9 | #xA | #xD | #x20 to
// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(body string) bool {
	if !utf8.ValidString(body) {
		return false
	}
	for _, r := range body {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

func (s *SQS) sendMessage(url, body string, delay *int) (any, *sqsError) {
	if body == "" || len(body) > 256<<10 {
		return nil, errInvalidParameter("The message body must be 1 byte to 256 KiB long.")
	}
	if !validBody(body) {
		return nil, &sqsError{code: "InvalidMessageContents", query: "InvalidMessageContents", msg: "Invalid characters found."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	d := q.delay
	if delay != nil {
		if *delay < 0 || *delay > 900 {
			return nil, errInvalidParameter("DelaySeconds must be 0 to 900.")
		}
		d = time.Duration(*delay) * time.Second
	}
	sum := md5.Sum([]byte(body))
	now := time.Now()
	s.seq++
	m := &sqsMessage{
		id:        fmt.Sprintf("%08d-%s", s.seq, randomHex(8)),
		body:      body,
		md5:       hex.EncodeToString(sum[:]),
		sent:      now,
		visibleAt: now.Add(d),
		queue:     q,
	}
	q.msgs = append(q.msgs, m)
	s.notify()
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": m.md5}, nil
}

type receiveInput struct {
	QueueUrl                    string
	MaxNumberOfMessages         *int
	WaitTimeSeconds             *int
	VisibilityTimeout           *int
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	ReceiveRequestAttemptId     string
}

type sqsMessageOut struct {
	MessageId     string
	ReceiptHandle string
	MD5OfBody     string
	Body          string
	Attributes    map[string]string `json:",omitempty"`
}

func (s *SQS) receiveMessage(ctx context.Context, in *receiveInput) (any, *sqsError) {
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, errInvalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.", max)
	}
	s.mu.Lock()
	q, e := s.queue(in.QueueUrl)
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	wait := q.wait
	if in.WaitTimeSeconds != nil {
		if *in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20 {
			s.mu.Unlock()
			return nil, errInvalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20.", *in.WaitTimeSeconds)
		}
		wait = time.Duration(*in.WaitTimeSeconds) * time.Second
	}
	visibility := q.visibility
	if in.VisibilityTimeout != nil {
		visibility = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	want := map[string]bool{}
	for _, n := range append(in.AttributeNames, in.MessageSystemAttributeNames...) {
		want[n] = true
	}
	deadline := time.Now().Add(wait)
	for {
		got := s.take(q, max, visibility)
		if len(got) > 0 || !time.Now().Before(deadline) {
			out := make([]sqsMessageOut, len(got))
			for i, m := range got {
				out[i] = sqsMessageOut{MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5, Body: m.body,
					Attributes: m.attributes(want)}
			}
			s.mu.Unlock()
			return map[string]any{"Messages": out}, nil
		}
		// Sleep until something changes, a message becomes visible or the
		// wait is over.
		wake := deadline
		for _, m := range q.msgs {
			if m.visibleAt.Before(wake) {
				wake = m.visibleAt
			}
		}
		changed := s.changed
		s.mu.Unlock()
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
		case <-s.closed:
		}
		timer.Stop()
		s.mu.Lock()
		if ctx.Err() != nil {
			s.mu.Unlock()
			return nil, errInvalidParameter("request canceled")
		}
		select {
		case <-s.closed:
			deadline = time.Now()
		default:
		}
		if q, e = s.queue(in.QueueUrl); e != nil {
			s.mu.Unlock()
			return nil, e
		}
	}
}

// take receives up to max visible messages of q, moving those received
// more than maxReceiveCount times to the dead-letter queue; s.mu is held.
func (s *SQS) take(q *sqsQueue, max int, visibility time.Duration) []*sqsMessage {
	now := time.Now()
	var got []*sqsMessage
	for i := 0; i < len(q.msgs) && len(got) < max; {
		m := q.msgs[i]
		if now.Before(m.visibleAt) {
			i++
			continue
		}
		if q.maxReceives > 0 && m.receives >= q.maxReceives {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			m.deleted = true
			if dlq := s.queueByARN(q.dlqARN); dlq != nil {
				dlq.msgs = append(dlq.msgs, &sqsMessage{
					id: m.id, body: m.body, md5: m.md5, sent: m.sent, visibleAt: now,
					deadLetterFrom: q.arn, queue: dlq,
				})
			}
			s.notify()
			continue
		}
		m.receives++
		if m.receives == 1 {
			m.firstReceive = now
		}
		m.receipt = randomHex(24)
		s.handles[m.receipt] = m
		m.visibleAt = now.Add(visibility)
		got = append(got, m)
		i++
	}
	return got
}

// attributes returns the message system attributes asked for.
func (m *sqsMessage) attributes(want map[string]bool) map[string]string {
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	all := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    ms(m.sent),
		"ApproximateFirstReceiveTimestamp": ms(m.firstReceive),
		"SenderId":                         "AIDAFAKESQSSENDER",
	}
	if m.deadLetterFrom != "" {
		all["DeadLetterQueueSourceArn"] = m.deadLetterFrom
	}
	out := map[string]string{}
	for k, v := range all {
		if want["All"] || want[k] {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// handle resolves a receipt handle of queue q; stale is true when the
// message was received again (or deleted) since; s.mu is held.
func (s *SQS) handle(q *sqsQueue, h string) (m *sqsMessage, stale bool, e *sqsError) {
	m, ok := s.handles[h]
	if !ok || m.queue != q {
		return nil, false, errBadReceipt(h)
	}
	return m, m.deleted || m.receipt != h, nil
}

func (s *SQS) remove(m *sqsMessage) {
	q := m.queue
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			break
		}
	}
	m.deleted = true
	s.notify()
}

func (s *SQS) deleteMessage(url, h string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	m, stale, e := s.handle(q, h)
	if e != nil {
		return nil, e
	}
	if !stale {
		s.remove(m)
	}
	return struct{}{}, nil
}

func (s *SQS) deleteMessageBatch(url string, entries []struct{ Id, ReceiptHandle string }) (any, *sqsError) {
	switch {
	case len(entries) == 0:
		return nil, &sqsError{code: "EmptyBatchRequest", query: "AWS.SimpleQueueService.EmptyBatchRequest", msg: "There should be at least one DeleteMessageBatchRequestEntry in the request."}
	case len(entries) > 10:
		return nil, &sqsError{code: "TooManyEntriesInBatchRequest", query: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", msg: "Maximum number of entries per request are 10."}
	}
	ids := map[string]bool{}
	for _, en := range entries {
		if ids[en.Id] {
			return nil, &sqsError{code: "BatchEntryIdsNotDistinct", query: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", msg: "Id " + en.Id + " repeated."}
		}
		ids[en.Id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	type ok struct{ Id string }
	type failed struct {
		Id, Code, Message string
		SenderFault       bool
	}
	done, bad := []ok{}, []failed{}
	for _, en := range entries {
		m, stale, e := s.handle(q, en.ReceiptHandle)
		if e != nil {
			bad = append(bad, failed{Id: en.Id, Code: e.query, Message: e.msg, SenderFault: true})
			continue
		}
		if !stale {
			s.remove(m)
		}
		done = append(done, ok{en.Id})
	}
	return map[string]any{"Successful": done, "Failed": bad}, nil
}

func (s *SQS) changeVisibility(url, h string, seconds int) (any, *sqsError) {
	if seconds < 0 || seconds > 43200 {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200.", seconds)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.queue(url)
	if e != nil {
		return nil, e
	}
	m, stale, e := s.handle(q, h)
	if e != nil {
		return nil, e
	}
	if stale || !time.Now().Before(m.visibleAt) {
		return nil, &sqsError{code: "MessageNotInflight", query: "AWS.SimpleQueueService.MessageNotInflight",
			msg: "Message does not exist or is not available for visibility timeout change."}
	}
	m.visibleAt = time.Now().Add(time.Duration(seconds) * time.Second)
	s.notify()
	return struct{}{}, nil
}

// Messages returns the bodies of the messages in the named queue, visible
// or not, in send order.
func (s *SQS) Messages(queue string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[queue]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range q.msgs {
		out = append(out, m.body)
	}
	return out
}

// Queues returns the names of the fake's queues.
func (s *SQS) Queues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.queues {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
