package testbed

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS is an in-memory SNS server for tests, speaking the AWS query
// protocol the SDK uses for SNS (form-encoded POST, XML answers). No
// SNS-compatible server installs on the test machines, so this one stands
// in for SNS, for the operations ferry uses:
//
//	CreateTopic, DeleteTopic, Publish
//
// Publish checks what SNS checks (a topic that exists, a message of 1
// byte to 256 KiB, a subject of at most 100 printable ASCII characters)
// and answers unknown topics with SNS's NotFound error. Published messages
// are kept (Messages, Published) and, like SNS -> SQS subscriptions,
// forwarded to queues of an SQS fake (Subscribe). Message attributes,
// MessageStructure=json, FIFO topics and the other operations are not
// implemented.
//
// Every request is checked as AWS would: POST /, Content-Type
// application/x-www-form-urlencoded, Version 2010-03-31, and a valid SigV4
// signature (service sns, region us-east-1) by AccessKey/SecretKey. A
// request that fails the check, or calls an operation or parameter the
// fake lacks, fails the test.
type SNS struct {
	fakeServer

	topics map[string]*snsTopic // by ARN
	seq    int
}

// SNSMessage is one message published to a topic of the fake.
type SNSMessage struct {
	ID      string // MessageId
	Subject string // "" when none was given
	Message string
}

type snsTopic struct {
	arn  string
	msgs []SNSMessage
	subs []snsSubscription
}

type snsSubscription struct {
	queue *SQS
	name  string // queue name
	raw   bool   // RawMessageDelivery: the message alone, no envelope
}

// snsXMLNS is the namespace of every SNS answer.
const snsXMLNS = "https://sns.amazonaws.com/doc/2010-03-31/"

// NewSNS starts an SNS server on 127.0.0.1 for the test; it stops at the
// end of the test.
func NewSNS(t testing.TB) *SNS {
	t.Helper()
	s := &SNS{
		topics: map[string]*snsTopic{},
	}
	s.start(t, "sns", s)
	return s
}

// Client returns an SDK client for the fake, with its credentials.
func (s *SNS) Client() *sns.Client {
	return sns.New(sns.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  s.creds(),
		HTTPClient:   awshttp.NewBuildableClient(),
	})
}

// TopicARN returns the ARN a topic of that name has (or would have) in
// the fake: the region of the bed, the account of the SQS fake.
func (s *SNS) TopicARN(name string) string {
	return "arn:aws:sns:" + Region + ":" + SQSAccount + ":" + name
}

// NewTopic creates a topic without going through the SDK and returns its
// ARN.
func (s *SNS) NewTopic(name string) string {
	s.t.Helper()
	arn, e := s.createTopic(name)
	if e != nil {
		s.t.Fatalf("fake SNS: create topic %q: %v", name, e)
	}
	return arn
}

// Subscribe forwards every later message of the topic to queue name of
// the SQS fake q, as an SNS -> SQS subscription does: wrapped in SNS's
// JSON notification envelope, or, with raw (RawMessageDelivery), alone.
func (s *SNS) Subscribe(topicARN string, q *SQS, name string, raw bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	tp, ok := s.topics[topicARN]
	if !ok {
		s.t.Fatalf("fake SNS: subscribe to %s: no such topic", topicARN)
	}
	tp.subs = append(tp.subs, snsSubscription{queue: q, name: name, raw: raw})
}

// Messages returns the messages published to a topic, in order.
func (s *SNS) Messages(topicARN string) []string {
	var out []string
	for _, m := range s.Published(topicARN) {
		out = append(out, m.Message)
	}
	return out
}

// Published returns the messages published to a topic, with their IDs
// and subjects, in order.
func (s *SNS) Published(topicARN string) []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp, ok := s.topics[topicARN]
	if !ok {
		return nil
	}
	return append([]SNSMessage(nil), tp.msgs...)
}

// Topics returns the ARNs of the fake's topics.
func (s *SNS) Topics() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var arns []string
	for a := range s.topics {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	return arns
}

// snsError is an error answer: code, HTTP status, and whether the caller
// (Sender) or SNS (Receiver) is at fault.
type snsError struct {
	status     int
	code, msg  string
	serverSide bool
}

func (e *snsError) Error() string { return e.code + ": " + e.msg }

func snsInvalid(format string, args ...any) *snsError {
	return &snsError{status: http.StatusBadRequest, code: "InvalidParameter", msg: "Invalid parameter: " + fmt.Sprintf(format, args...)}
}

// snsParams lists the parameters each operation takes, besides Action and
// Version. A prefix ending in "." stands for a list or map.
var snsParams = map[string][]string{
	"CreateTopic": {"Name", "Attributes.", "Tags.", "DataProtectionPolicy"},
	"DeleteTopic": {"TopicArn"},
	"Publish": {"TopicArn", "TargetArn", "PhoneNumber", "Message", "Subject", "MessageStructure",
		"MessageAttributes.", "MessageDeduplicationId", "MessageGroupId"},
}

func (s *SNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.check(r, body); err != nil {
		s.t.Errorf("fake SNS: bad request: %v", err)
		writeSNSError(w, &snsError{status: http.StatusForbidden, code: "InvalidClientTokenId", msg: err.Error()})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Errorf("fake SNS: body %q: %v", body, err)
		writeSNSError(w, snsInvalid("%v", err))
		return
	}
	op := form.Get("Action")
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if v := form.Get("Version"); v != "2010-03-31" {
		s.t.Errorf("fake SNS: %s: Version %q, want 2010-03-31", op, v)
		writeSNSError(w, snsInvalid("Version %q", v))
		return
	}
	allowed, ok := snsParams[op]
	if !ok {
		s.t.Errorf("fake SNS: operation %q is not implemented", op)
		writeSNSError(w, &snsError{status: http.StatusBadRequest, code: "InvalidAction",
			msg: "fake SNS: operation " + op + " is not implemented"})
		return
	}
	for k := range form {
		if k == "Action" || k == "Version" || allowedParam(allowed, k) {
			continue
		}
		s.t.Errorf("fake SNS: %s: unexpected parameter %q", op, k)
		writeSNSError(w, snsInvalid("%s", k))
		return
	}

	var result string // the XML inside <OpResult>, escaped already
	var e *snsError
	switch op {
	case "CreateTopic":
		if hasPrefix(form, "Attributes.") || hasPrefix(form, "Tags.") || form.Has("DataProtectionPolicy") {
			e = snsInvalid("fake SNS: topic attributes, tags and data protection policies are not implemented")
			break
		}
		var arn string
		if arn, e = s.createTopic(form.Get("Name")); e == nil {
			result = "<TopicArn>" + xmlText(arn) + "</TopicArn>"
		}
	case "DeleteTopic":
		e = s.deleteTopic(form.Get("TopicArn"))
	case "Publish":
		var id string
		if id, e = s.publish(form); e == nil {
			result = "<MessageId>" + xmlText(id) + "</MessageId>"
		}
	}
	if e != nil {
		writeSNSError(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	reqID := randomUUID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	res := ""
	if result != "" || op != "DeleteTopic" {
		res = "<" + op + "Result>" + result + "</" + op + "Result>"
	}
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%[1]sResponse>`,
		op, snsXMLNS, res, reqID)
}

func writeSNSError(w http.ResponseWriter, e *snsError) {
	kind := "Sender"
	if e.serverSide {
		kind = "Receiver"
	}
	reqID := randomUUID()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		snsXMLNS, kind, e.code, xmlText(e.msg), reqID)
}

// check verifies the protocol and the SigV4 signature of a request by
// signing a copy of it (its signed headers only) again.
func (s *SNS) check(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return fmt.Errorf("%s %s: want POST /", r.Method, r.URL.Path)
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		return fmt.Errorf("Content-Type %q, want application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	}
	return checkSigV4(r, body, "sns", s.AccessKey, s.SecretKey)
}

var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *SNS) createTopic(name string) (string, *snsError) {
	if strings.HasSuffix(name, ".fifo") {
		return "", snsInvalid("fake SNS: FIFO topics are not implemented")
	}
	if !topicName.MatchString(name) {
		return "", snsInvalid("Topic Name")
	}
	arn := s.TopicARN(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[arn]; !ok { // CreateTopic is idempotent
		s.topics[arn] = &snsTopic{arn: arn}
	}
	return arn, nil
}

func (s *SNS) deleteTopic(arn string) *snsError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[arn]; !ok {
		return errNoTopic()
	}
	delete(s.topics, arn)
	return nil
}

func errNoTopic() *snsError {
	return &snsError{status: http.StatusNotFound, code: "NotFound", msg: "Topic does not exist"}
}

// snsMaxMessage is SNS's limit on a message, in bytes.
const snsMaxMessage = 256 << 10

func (s *SNS) publish(form url.Values) (string, *snsError) {
	switch {
	case form.Get("TargetArn") != "" || form.Get("PhoneNumber") != "":
		return "", snsInvalid("fake SNS: publishing to TargetArn or PhoneNumber is not implemented")
	case form.Get("MessageStructure") != "" || hasPrefix(form, "MessageAttributes."):
		return "", snsInvalid("fake SNS: MessageStructure and message attributes are not implemented")
	case form.Get("MessageGroupId") != "" || form.Get("MessageDeduplicationId") != "":
		return "", snsInvalid("The request includes MessageGroupId or MessageDeduplicationId parameter that is not valid for this topic type")
	case !form.Has("TopicArn") || form.Get("TopicArn") == "":
		return "", snsInvalid("TopicArn or TargetArn Reason: no value for required parameter")
	}
	msg, subject := form.Get("Message"), form.Get("Subject")
	switch {
	case msg == "":
		return "", snsInvalid("Empty message")
	case len(msg) > snsMaxMessage:
		return "", snsInvalid("Message too long")
	case form.Has("Subject") && !validSubject(subject):
		return "", snsInvalid("Subject")
	}
	s.mu.Lock()
	tp, ok := s.topics[form.Get("TopicArn")]
	if !ok {
		s.mu.Unlock()
		return "", errNoTopic()
	}
	s.seq++
	m := SNSMessage{ID: fmt.Sprintf("%08x-%s", s.seq, randomUUID()[9:]), Subject: subject, Message: msg}
	tp.msgs = append(tp.msgs, m)
	subs := append([]snsSubscription(nil), tp.subs...)
	s.mu.Unlock()

	for _, sub := range subs {
		s.forward(tp.arn, sub, m)
	}
	return m.ID, nil
}

// validSubject: 1 to 100 ASCII characters, no line breaks or control
// characters.
func validSubject(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// snsEnvelope is the JSON SNS delivers to a subscribed queue without raw
// message delivery, fields in SNS's order.
type snsEnvelope struct {
	Type             string
	MessageId        string
	TopicArn         string
	Subject          string `json:",omitempty"`
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string
}

func (s *SNS) forward(arn string, sub snsSubscription, m SNSMessage) {
	body := m.Message
	if !sub.raw {
		b, err := json.Marshal(snsEnvelope{
			Type:             "Notification",
			MessageId:        m.ID,
			TopicArn:         arn,
			Subject:          m.Subject,
			Message:          m.Message,
			Timestamp:        time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
			SignatureVersion: "1",
			Signature:        "RkFLRS1TTlMtU0lHTkFUVVJF", // not a real signature
			SigningCertURL:   s.URL + "/SimpleNotificationService-fake.pem",
			UnsubscribeURL:   s.URL + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(arn+":fake"),
		})
		if err != nil {
			s.t.Errorf("fake SNS: envelope: %v", err)
			return
		}
		body = string(b)
	}
	queueURL := sub.queue.URL + "/" + SQSAccount + "/" + sub.name
	if _, e := sub.queue.sendMessage(queueURL, body, nil); e != nil {
		s.t.Errorf("fake SNS: deliver %s to queue %s: %v", m.ID, sub.name, e)
	}
}

func hasPrefix(form url.Values, prefix string) bool {
	for k := range form {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// allowedParam reports whether k is one of allowed, or in a list or map
// ("Attributes.") allowed names.
func allowedParam(allowed []string, k string) bool {
	for _, a := range allowed {
		if a == k || strings.HasSuffix(a, ".") && strings.HasPrefix(k, a) {
			return true
		}
	}
	return false
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// randomUUID is a random version 4 UUID, SNS's shape of message and
// request IDs.
func randomUUID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
