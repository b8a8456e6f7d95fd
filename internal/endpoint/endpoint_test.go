package endpoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeProfiles points the SDK at a throwaway config with one static-key
// profile, so no test depends on the machine's ~/.aws.
func writeProfiles(t *testing.T, extra string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	os.WriteFile(cfg, []byte("[profile p]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9\n"+extra), 0o600)
	os.WriteFile(creds, []byte("[p]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3tKEYs3cr3tKEY\n"), 0o600)
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// TestOpenWithCABundle: AWS_CA_BUNDLE, set on many corporate machines, must
// not break client construction (the SDK refuses custom HTTP clients).
func TestOpenWithCABundle(t *testing.T) {
	writeProfiles(t, "")
	bundle := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err != nil {
		t.Skip("no system CA bundle at " + bundle)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	ep, err := Open(context.Background(), Options{Profile: "p"})
	if err != nil {
		t.Fatalf("Open with AWS_CA_BUNDLE: %v", err)
	}
	if ep.URL != "http://127.0.0.1:9" || ep.Region != "eu-west-1" {
		t.Errorf("endpoint %q region %q, want the profile's", ep.URL, ep.Region)
	}
	if !ep.S3.Options().UsePathStyle {
		t.Error("non-AWS endpoint without path-style addressing")
	}
	if got := ep.Secrets(); len(got) != 1 || got[0] != "s3cr3tKEYs3cr3tKEY" {
		t.Errorf("Secrets() = %d values, want the secret key for redaction", len(got))
	}
}

func TestOpenOverridesAndErrors(t *testing.T) {
	writeProfiles(t, "")
	off := false
	ep, err := Open(context.Background(), Options{Profile: "p", EndpointURL: "https://s3.eu-west-1.amazonaws.com", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.S3.Options().UsePathStyle {
		t.Error("AWS endpoint got path-style addressing by default")
	}
	ep, err = Open(context.Background(), Options{Profile: "p", PathStyle: &off})
	if err != nil || ep.S3.Options().UsePathStyle {
		t.Errorf("path_style: false not honoured (err %v)", err)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Profile: "missing"}, `profile "missing" not found`},
		{Options{Profile: "p", EndpointURL: "ftp://x"}, "scheme must be http or https"},
		{Options{Profile: "p", Checksums: "always"}, "want when_required or when_supported"},
	} {
		_, err := Open(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) error %v, want %q", tc.o, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}
