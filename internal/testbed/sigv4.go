package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// checkSigV4 verifies that r carries a SigV4 signature of service in
// Region by the given credentials, by signing a copy of it (its signed
// headers only) again: the fakes accept only what AWS would.
func checkSigV4(r *http.Request, body []byte, service, accessKey, secretKey string) error {
	auth := r.Header.Get("Authorization")
	m := authHeader.FindStringSubmatch(auth)
	if m == nil {
		return fmt.Errorf("no SigV4 Authorization header (got %q)", auth)
	}
	key, region, svc, signed := m[1], m[3], m[4], m[5]
	if key != accessKey || region != Region || svc != service {
		return fmt.Errorf("signed by %s for %s/%s, want %s for %s/%s", key, region, svc, accessKey, Region, service)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %v", err)
	}
	if d := time.Since(when); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("X-Amz-Date %s is %v off", when, d)
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(h) {
				again.Header.Add(h, v)
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, Region, when); err != nil {
		return err
	}
	if want := again.Header.Get("Authorization"); want != auth {
		return fmt.Errorf("SigV4 signature mismatch:\n got  %s\n want %s", auth, want)
	}
	return nil
}
