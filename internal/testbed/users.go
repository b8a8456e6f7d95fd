package testbed

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Profile is an extra profile for AddProfile: an endpoint and static keys.
type Profile struct {
	Name      string
	URL       string // endpoint_url
	Region    string // default: Region
	AccessKey string
	SecretKey string
}

// profileFiles is a test's own copy of the bed's AWS config and
// credentials files, which AddProfile appends to.
type profileFiles struct {
	config, credentials string
}

var (
	filesMu sync.Mutex
	files   = map[testing.TB]*profileFiles{}
)

// AddProfile makes profile p usable by the test's process (an in-process
// ferry, or the AWS SDK): the first call copies the bed's config and
// credentials files into the test's temporary directory and points
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at the copies with
// t.Setenv; every call appends p to them. The profiles tb-a, tb-b and
// tb-vgw stay usable, and Bed.Setenv keeps the copies.
//
// A copy per test, rather than edits to the bed's files, keeps tests of
// other packages (which share the bed) from seeing each other's users.
func (b *Bed) AddProfile(t testing.TB, p Profile) {
	t.Helper()
	filesMu.Lock()
	defer filesMu.Unlock()
	f, ok := files[t]
	if !ok {
		dir := t.TempDir()
		f = &profileFiles{config: filepath.Join(dir, "aws-config"), credentials: filepath.Join(dir, "aws-credentials")}
		for src, dst := range map[string]string{b.ConfigFile: f.config, b.CredentialsFile: f.credentials} {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatalf("testbed: copy AWS files: %v", err)
			}
			if err := os.WriteFile(dst, data, 0o600); err != nil {
				t.Fatalf("testbed: copy AWS files: %v", err)
			}
		}
		files[t] = f
		t.Cleanup(func() {
			filesMu.Lock()
			delete(files, t)
			filesMu.Unlock()
		})
		t.Setenv("AWS_CONFIG_FILE", f.config)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", f.credentials)
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	}
	region := p.Region
	if region == "" {
		region = Region
	}
	appendFile(t, f.config, fmt.Sprintf("\n[profile %s]\nregion = %s\nendpoint_url = %s\n", p.Name, region, p.URL))
	appendFile(t, f.credentials, fmt.Sprintf("\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", p.Name, p.AccessKey, p.SecretKey))
}

func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("testbed: write %s: %v", path, err)
	}
}

// NewUser creates a user on MinIO server (A or B) that may do exactly what
// policy, an IAM policy document in JSON, allows, and returns the name of a
// profile (see AddProfile) that reaches the server as that user. The
// profile name is also the user's access key. The user and its policy are
// removed when the test ends.
//
// Tests use it to run ferry with least privilege, or with one permission
// missing, and check that ferry names what is missing.
func (b *Bed) NewUser(t testing.TB, server, policy string) string {
	t.Helper()
	s := b.Server(t, server)
	adm := adminClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	user := "tbuser-" + randomHex(6)
	secret := randomHex(16)
	policyName := "tb-policy-" + randomHex(6)
	if err := adm.AddCannedPolicy(ctx, policyName, []byte(policy)); err != nil {
		t.Fatalf("testbed: add policy on %s: %v", server, err)
	}
	if err := adm.AddUser(ctx, user, secret); err != nil {
		t.Fatalf("testbed: add user on %s: %v", server, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The user first: MinIO refuses to remove a policy still attached.
		if err := adm.RemoveUser(ctx, user); err != nil {
			t.Logf("testbed cleanup: remove user %s on %s: %v", user, server, err)
		}
		if err := adm.RemoveCannedPolicy(ctx, policyName); err != nil {
			t.Logf("testbed cleanup: remove policy %s on %s: %v", policyName, server, err)
		}
	})
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{policyName}, User: user}); err != nil {
		t.Fatalf("testbed: attach policy to user on %s: %v", server, err)
	}
	b.AddProfile(t, Profile{Name: user, URL: s.URL, AccessKey: user, SecretKey: secret})
	return user
}

// UserExists reports whether MinIO server has a user with access key user
// (a profile name NewUser returned), for tests of the cleanup.
func (b *Bed) UserExists(t testing.TB, server, user string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := adminClient(t, b.Server(t, server)).GetUserInfo(ctx, user)
	return err == nil
}

// adminClient is a MinIO admin API client with the server's root keys.
func adminClient(t testing.TB, s Server) *madmin.AdminClient {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("testbed: server URL %q: %v", s.URL, err)
	}
	adm, err := madmin.NewWithOptions(u.Host, &madmin.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: u.Scheme == "https",
	})
	if err != nil {
		t.Fatalf("testbed: admin client for %s: %v", s.URL, err)
	}
	return adm
}
