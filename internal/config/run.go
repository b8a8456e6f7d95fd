package config

import (
	"net"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/endpoint"
)

// Run is how `ferry run` (the daemon) and `ferry lambda` receive events.
// Every field has a default, so a config without a run section runs a
// webhook intake on 127.0.0.1:8080.
type Run struct {
	// DataDir holds the durable queue (SQLite). Default: ./ferry-data.
	DataDir string `yaml:"data_dir,omitempty"`
	// Listen is the address of the HTTP server: /events (the webhook
	// intake), /healthz, /readyz. Default: 127.0.0.1:8080.
	Listen string `yaml:"listen,omitempty"`
	// Workers is how many keys are replicated at once. Default: 16.
	Workers int `yaml:"workers,omitempty"`
	// ReconcileInterval is how often the whole source is compared with
	// every destination to catch what the events missed. Default 1h in
	// the daemon; 0s turns it off. Never run in Lambda.
	ReconcileInterval *time.Duration `yaml:"reconcile_interval,omitempty"`
	// ShutdownTimeout is how long SIGTERM waits for copies in flight
	// before handing them back to the queue. Default: 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout,omitempty"`

	Webhook *Webhook `yaml:"webhook,omitempty"`
	SQS     *SQS     `yaml:"sqs,omitempty"`
	NATS    *NATS    `yaml:"nats,omitempty"`
}

// Webhook is the HTTP intake for MinIO, Ceph RGW and versitygw
// notification targets.
type Webhook struct {
	// Disabled turns the /events endpoint off (when only SQS or NATS is
	// used).
	Disabled bool `yaml:"disabled,omitempty"`
	// TokenEnv names the environment variable holding the bearer token
	// senders must present. Default: FERRY_WEBHOOK_TOKEN. Keeping the
	// token out of the file keeps it out of version control.
	TokenEnv string `yaml:"token_env,omitempty"`
	// Token is the bearer token itself, for tests and quick set-ups.
	Token string `yaml:"token,omitempty"`
	// TLSCert and TLSKey are PEM files; with both, the server speaks HTTPS.
	TLSCert string `yaml:"tls_cert,omitempty"`
	TLSKey  string `yaml:"tls_key,omitempty"`
	// AllowUnauthenticated lets the webhook run without a token on an
	// address other machines can reach (run.listen not loopback), which
	// ferry run otherwise refuses: for when a proxy or a network policy
	// authenticates the senders. A token, when set, is still required.
	AllowUnauthenticated bool `yaml:"allow_unauthenticated,omitempty"`
}

// SQS is the intake for S3 -> SQS notifications (AWS).
type SQS struct {
	endpoint.Options `yaml:",inline"`
	QueueURL         string `yaml:"queue_url"`
	// Workers is how many messages are handled at once. Default: 16.
	Workers int `yaml:"workers,omitempty"`
}

// NATS is the intake for MinIO's NATS JetStream notification target.
// Several `ferry run` processes with the same durable share the work and
// the state kept in JetStream (docs/scale-out.md).
type NATS struct {
	URL     string `yaml:"url"`               // one server, or several comma-separated
	Stream  string `yaml:"stream,omitempty"`  // default: FERRY
	Subject string `yaml:"subject,omitempty"` // default: ferry.events
	Durable string `yaml:"durable,omitempty"` // default: ferry
	Workers int    `yaml:"workers,omitempty"` // default: 16
	// Replicas of what ferry creates in JetStream (the stream if missing,
	// the key-value buckets of locks and failures): 3 on a 3-node cluster.
	// Default 1.
	Replicas int `yaml:"replicas,omitempty"`
	// AckWait is how long a message handed to a worker that died waits
	// before another worker gets it; also how long the dead worker's key
	// locks last. Default 30s.
	AckWait time.Duration `yaml:"ack_wait,omitempty"`

	// Authentication and TLS, for servers that require them. Secrets stay
	// out of the file: a credentials file, or the names of environment
	// variables.
	Credentials string `yaml:"credentials,omitempty"`  // a .creds file (user JWT and NKey seed)
	TokenEnv    string `yaml:"token_env,omitempty"`    // the variable holding an auth token
	UserEnv     string `yaml:"user_env,omitempty"`     // the variables holding a user and
	PasswordEnv string `yaml:"password_env,omitempty"` // its password
	TLSCA       string `yaml:"tls_ca,omitempty"`       // PEM bundle trusted for the servers' certificates
	TLSCert     string `yaml:"tls_cert,omitempty"`     // client certificate and key (PEM), for mutual TLS
	TLSKey      string `yaml:"tls_key,omitempty"`
}

// DefaultAckWait is NATS.AckWait's default.
const DefaultAckWait = 30 * time.Second

// Defaults of the run section.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultDataDir           = "ferry-data"
	DefaultWorkers           = 16
	DefaultReconcileInterval = time.Hour
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultTokenEnv          = "FERRY_WEBHOOK_TOKEN"
)

// WithDefaults returns r (which may be nil) with every unset field set.
func (r *Run) WithDefaults() Run {
	var out Run
	if r != nil {
		out = *r
	}
	if out.DataDir == "" {
		out.DataDir = DefaultDataDir
	}
	if out.Listen == "" {
		out.Listen = DefaultListen
	}
	if out.Workers <= 0 {
		out.Workers = DefaultWorkers
	}
	if out.ReconcileInterval == nil {
		d := DefaultReconcileInterval
		out.ReconcileInterval = &d
	}
	if out.ShutdownTimeout <= 0 {
		out.ShutdownTimeout = DefaultShutdownTimeout
	}
	if out.Webhook == nil {
		out.Webhook = &Webhook{}
	}
	if out.Webhook.TokenEnv == "" {
		out.Webhook.TokenEnv = DefaultTokenEnv
	}
	if n := out.NATS; n != nil {
		c := *n
		c.Stream = or(c.Stream, "FERRY")
		c.Subject = or(c.Subject, "ferry.events")
		c.Durable = or(c.Durable, "ferry")
		if c.Workers <= 0 {
			c.Workers = DefaultWorkers
		}
		c.Replicas = max(c.Replicas, 1)
		if c.AckWait <= 0 {
			c.AckWait = DefaultAckWait
		}
		out.NATS = &c
	}
	if s := out.SQS; s != nil && s.Workers <= 0 {
		c := *s
		c.Workers = DefaultWorkers
		out.SQS = &c
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (chk *checker) run(r *Run) {
	if r == nil {
		return
	}
	if r.Listen != "" {
		if _, _, err := net.SplitHostPort(r.Listen); err != nil {
			chk.add("run.listen", "%q is not host:port (e.g. 127.0.0.1:8080 or :8080)", r.Listen)
		}
	}
	if r.Workers < 0 {
		chk.add("run.workers", "must be positive")
	}
	if r.ReconcileInterval != nil && *r.ReconcileInterval < 0 {
		chk.add("run.reconcile_interval", "must be a duration like 1h or 15m, or 0s for never")
	}
	if w := r.Webhook; w != nil && (w.TLSCert == "") != (w.TLSKey == "") {
		chk.add("run.webhook", "tls_cert and tls_key go together: give both or neither")
	}
	if s := r.SQS; s != nil {
		if !strings.HasPrefix(s.QueueURL, "http://") && !strings.HasPrefix(s.QueueURL, "https://") {
			chk.add("run.sqs.queue_url", "required: the queue's URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/ferry-events")
		}
		chk.endpoint("run.sqs", s.Options)
	}
	if n := r.NATS; n != nil {
		if n.URL == "" {
			chk.add("run.nats.url", "required, e.g. nats://127.0.0.1:4222")
		}
		if n.Replicas < 0 || n.Replicas > 5 {
			chk.add("run.nats.replicas", "must be 1 to 5 (JetStream's limit); 3 on a 3-node cluster")
		}
		if n.AckWait < 0 || (n.AckWait > 0 && n.AckWait < time.Second) {
			chk.add("run.nats.ack_wait", "must be a duration of at least 1s, like 30s")
		}
		if (n.TLSCert == "") != (n.TLSKey == "") {
			chk.add("run.nats", "tls_cert and tls_key go together: give both or neither")
		}
		if (n.UserEnv == "") != (n.PasswordEnv == "") {
			chk.add("run.nats", "user_env and password_env go together: give both or neither")
		}
	}
}
