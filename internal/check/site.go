package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-s3/ferry/internal/endpoint"
)

// site is one endpoint (profile plus overrides), opened once however many
// buckets of the config it serves, so that its profile and clock are
// checked once.
type site struct {
	opts endpoint.Options
	ep   *endpoint.Endpoint // nil: it could not be opened
	// down, when set, is what later checks on this endpoint need and did
	// not get ("a reachable endpoint", "working credentials ...").
	down string

	mu        sync.Mutex
	date      time.Time // the server's Date header, plus half its resolution
	sent, got time.Time // when that request was sent and answered
	clocked   bool      // the clock result was reported
}

// who names the identity a grant is for.
func (s *site) who() string {
	if s.opts.Profile != "" {
		return "profile " + s.opts.Profile
	}
	return "the identity of the default credential chain"
}

// profileName names the profile in messages.
func (s *site) profileName() string {
	if s.opts.Profile != "" {
		return "profile " + s.opts.Profile
	}
	return "the default credential chain"
}

// siteKey tells endpoints apart. Credentials are never set from a config
// file (only at run time, by CodePipeline), so their presence is enough.
func siteKey(o endpoint.Options) string {
	ps := "-"
	if o.PathStyle != nil {
		ps = fmt.Sprint(*o.PathStyle)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%v|%v", o.Profile, o.EndpointURL, o.Region, ps, o.Checksums, o.RequestsPerSecond, o.Credentials != nil)
}

// site opens the endpoint of o once, reporting the profile check the first
// time.
func (r *runner) site(ctx context.Context, o endpoint.Options) *site {
	key := siteKey(o)
	if s, ok := r.sites[key]; ok {
		return s
	}
	s := &site{opts: o}
	r.sites[key] = s
	res := Result{Check: "profile", Target: s.profileName()}
	ep, err := r.opt.Open(ctx, o)
	if err != nil {
		s.down = "the " + s.profileName()
		res.Status, res.Detail, res.Error = Fail, "cannot be used", oneLine(err.Error())
		res.Fix = profileFix(o, err)
		r.add(res)
		return s
	}
	s.ep = ep
	where := "AWS " + ep.Region
	if ep.URL != "" {
		where = ep.URL + ", region " + ep.Region
	}
	res.Status, res.Detail = Pass, "credentials found; endpoint "+where
	r.add(res)
	return s
}

func profileFix(o endpoint.Options, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not found in the AWS config files"):
		return fmt.Sprintf("add [profile %s] to the AWS config file (AWS_CONFIG_FILE or ~/.aws/config), or fix the profile name in the config", o.Profile)
	case strings.Contains(msg, "no usable credentials"):
		return "give it credentials: keys in the credentials file, role_arn with source_profile, SSO, credential_process, or an instance/task role"
	}
	return "fix the endpoint settings (profile, endpoint_url, region) in the config or the AWS config file"
}

// calls are the per-request options of every S3 call to the site: few
// retries (a preflight should answer fast; ferry itself retries more) and
// the clock recorder.
func (s *site) calls() []func(*s3.Options) {
	return []func(*s3.Options){
		func(o *s3.Options) { o.RetryMaxAttempts = 2 },
		func(o *s3.Options) { o.APIOptions = append(o.APIOptions, s.recordDate) },
	}
}

// recordDate adds a middleware that keeps the Date header of every
// response, errors included (a 403 for a skewed clock carries one too),
// with the times the request was sent and answered.
func (s *site) recordDate(st *middleware.Stack) error {
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ferryCheckClock",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			sent := time.Now()
			out, md, err := next.HandleDeserialize(ctx, in)
			got := time.Now()
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
				if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
					s.mu.Lock()
					// Date has a resolution of one second: the server's
					// time was somewhere in [d, d+1s).
					s.date, s.sent, s.got = d.Add(500*time.Millisecond), sent, got
					s.mu.Unlock()
				}
			}
			return out, md, err
		}), middleware.After)
}

// Clock skew thresholds. SigV4 refuses requests signed more than 15
// minutes off the server's clock; well before that, skew breaks
// presigned URLs, lifecycle and replication time measurements.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

// skew is the server's clock minus this machine's, measured at the
// middle of the request, and whether a response gave a Date.
func (s *site) skew() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.date.IsZero() {
		return 0, false
	}
	mid := s.sent.Add(s.got.Sub(s.sent) / 2)
	return s.date.Sub(mid), true
}

// checkClock reports the clock result of the site once, after its first
// request. reqErr is that request's error, for when no response came.
func (r *runner) checkClock(s *site, reqErr error) {
	if s.clocked || s.ep == nil {
		return
	}
	s.clocked = true
	res := Result{Check: "clock", Target: s.ep.String()}
	skew, ok := s.skew()
	if !ok {
		if reqErr != nil && kindOf(reqErr) == kindUnreachable {
			r.skip("clock", res.Target, "an answer from the server")
			return
		}
		res.Status, res.Detail = Warn, "the server's answer has no Date header; its clock cannot be compared"
		r.add(res)
		return
	}
	res.Status, res.Detail = clockStatus(skew)
	if res.Status != Pass {
		res.Fix = "synchronise the clocks of this machine and the server with NTP (e.g. `timedatectl set-ntp true`, chrony)"
	}
	r.add(res)
}

// clockStatus judges a skew (server minus local).
func clockStatus(skew time.Duration) (Status, string) {
	abs := skew.Abs()
	if abs < 2*time.Second {
		return Pass, "the server's clock agrees with this machine's (within 2s)"
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	d := fmt.Sprintf("the server's clock is %s %s this machine's", abs.Round(time.Second), dir)
	switch {
	case abs > skewFail:
		return Fail, d + "; requests are refused beyond 15m (SigV4) and times are wrong well before"
	case abs > skewWarn:
		return Warn, d + "; requests are refused beyond 15m (SigV4)"
	}
	return Pass, d
}
