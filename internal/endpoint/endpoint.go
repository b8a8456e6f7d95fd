package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Endpoint is a ready S3 client plus what ferry needs to know about where it
// points.
type Endpoint struct {
	S3 *s3.Client
	// Config is the loaded profile, for clients of other services (SQS).
	Config aws.Config
	// Name is the profile name, or "default credential chain".
	Name string
	// URL is the custom endpoint ("" for AWS S3).
	URL    string
	Region string
	// identity is the access key id; it tells whether two endpoints share
	// credentials (and so whether a server-side copy is possible). It is not
	// a secret, but ferry never prints it either.
	identity string
	secrets  []string
	reach    *reach    // outages: fail fast while down, tell when back
	window   *adaptive // requests in flight, narrowed by SlowDown
}

// Open loads the profile (or the default chain), applies the overrides and
// retrieves credentials once, so that a bad profile fails here with one
// clear error instead of on the first request.
func Open(ctx context.Context, o Options) (*Endpoint, error) {
	name := o.Profile
	if name == "" {
		name = "default credential chain"
	}
	if o.EndpointURL != "" {
		if err := checkURL(o.EndpointURL); err != nil {
			return nil, fmt.Errorf("endpoint url %q: %w", o.EndpointURL, err)
		}
	}
	if o.Checksums != "" && o.Checksums != "when_required" && o.Checksums != "when_supported" {
		return nil, fmt.Errorf("checksums %q: want when_required or when_supported", o.Checksums)
	}

	// A BuildableClient (not a plain *http.Client) lets the SDK apply
	// AWS_CA_BUNDLE itself; with any other client it refuses to load.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 128
		tr.IdleConnTimeout = 90 * time.Second
		tr.ResponseHeaderTimeout = 2 * time.Minute
	})
	loadOpts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(newRetryer), // retry.go: 8 attempts, backoff by kind of error
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.Credentials))
		if o.Profile == "" {
			name = "credentials given at run time"
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		var nf config.SharedConfigProfileNotExistError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("profile %q not found in the AWS config files (AWS_CONFIG_FILE, ~/.aws/config)", o.Profile)
		}
		return nil, fmt.Errorf("load profile %q: %w", name, err)
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if cfg.Region == "" {
		// Non-AWS servers rarely care; AWS needs it, and says so clearly.
		cfg.Region = "us-east-1"
	}
	e := &Endpoint{Name: name, Region: cfg.Region, Config: cfg}
	if cfg.BaseEndpoint != nil {
		e.URL = *cfg.BaseEndpoint
	}

	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	creds, err := cfg.Credentials.Retrieve(rctx)
	if err != nil {
		return nil, fmt.Errorf("%s: no usable credentials: %s", name, firstLine(err))
	}
	e.identity = creds.AccessKeyID
	e.secrets = nonEmpty(creds.SecretAccessKey, creds.SessionToken)

	nonAWS := e.URL != "" && !isAWSHost(e.URL)
	pathStyle := nonAWS
	if o.PathStyle != nil {
		pathStyle = *o.PathStyle
	}
	whenRequired := nonAWS
	if o.Checksums != "" {
		whenRequired = o.Checksums == "when_required"
	}
	if o.RequestsPerSecond < 0 {
		return nil, fmt.Errorf("requests per second %v: must not be negative", o.RequestsPerSecond)
	}
	e.reach = newReach(e.String(), httpProbe(cfg.HTTPClient, probeURL(e)))
	e.window = newAdaptive()
	e.S3 = s3.NewFromConfig(cfg, func(so *s3.Options) {
		// Per attempt, in this order after the SDK's retry: fail at once
		// while the endpoint is down (reach.go), wait for a place in the
		// adaptive window (adaptive.go), wait for the rate limit.
		so.APIOptions = append(so.APIOptions, afterRetry(e.reach.middleware(), e.window.middleware()),
			completeAnswerLost(e)) // lostanswer.go
		if o.RequestsPerSecond > 0 {
			so.APIOptions = append(so.APIOptions, limitRequests(o.RequestsPerSecond))
		}
		so.UsePathStyle = pathStyle
		if whenRequired {
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	return e, nil
}

// SameAccount reports whether a and b reach the same server with the same
// credentials, the condition for a server-side copy.
func (e *Endpoint) SameAccount(o *Endpoint) bool {
	return e.URL == o.URL && e.Region == o.Region && e.identity == o.identity
}

// Secrets returns the credential values that must never be printed, for the
// caller's redactor.
func (e *Endpoint) Secrets() []string { return e.secrets }

func (e *Endpoint) String() string {
	if e.URL != "" {
		return e.Name + " (" + e.URL + ")"
	}
	return e.Name + " (AWS " + e.Region + ")"
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

func isAWSHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
