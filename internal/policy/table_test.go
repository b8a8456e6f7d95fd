package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Every operation of a code path has IAM actions, and every operation in
// Operations belongs to some code path.
func TestPolicyActionTableConsistent(t *testing.T) {
	used := map[string]bool{}
	for _, p := range CodePaths {
		if p.Name == "" || p.Code == "" || p.Needs == "" || len(p.Steps) == 0 {
			t.Errorf("code path %+v: name, code, feature and steps are required", p)
		}
		for _, st := range p.Steps {
			op, ok := Operations[st.Op]
			if !ok {
				t.Errorf("%s: %s is not in Operations", p.Name, st.Op)
			}
			if len(op.Actions) == 0 || op.On == "" {
				t.Errorf("%s: %s has no actions or resource", p.Name, st.Op)
			}
			used[st.Op] = true
		}
	}
	for op := range Operations {
		if !used[op] {
			t.Errorf("Operations has %s, which no code path sends", op)
		}
	}
}

// sdkClients are the AWS service clients ferry's code may call, by the
// service prefix of their IAM actions.
var sdkClients = map[string]reflect.Type{
	"s3":           reflect.TypeFor[*s3.Client](),
	"sqs":          reflect.TypeFor[*sqs.Client](),
	"sns":          reflect.TypeFor[*sns.Client](),
	"cloudfront":   reflect.TypeFor[*cloudfront.Client](),
	"codepipeline": reflect.TypeFor[*codepipeline.Client](),
	"sts":          reflect.TypeFor[*sts.Client](),
}

// noPermission are operations IAM never denies.
var noPermission = map[string]bool{"sts:GetCallerIdentity": true}

// skipDirs are packages whose AWS calls are not made with the documents
// ferry policy writes: the test helpers, and ferry setup, which runs with
// the administrator's credentials to create them.
var skipDirs = map[string]string{
	"internal/testbed": "test helpers",
	"internal/setup":   "runs as the administrator, to create these documents",
}

// TestActionTableCoversTheCode scans ferry's sources for calls of AWS SDK
// client operations (a method of the client, or the operation's
// paginator, in a file that imports the service) and fails on any that
// Operations does not map to IAM actions. A new SDK call fails here until
// the table, and so the policy, know it.
func TestPolicyActionTableCoversTheCode(t *testing.T) {
	ops := map[string]map[string]bool{} // service -> operation names
	for svc, typ := range sdkClients {
		ops[svc] = map[string]bool{}
		for i := range typ.NumMethod() {
			if m := typ.Method(i).Name; m != "Options" {
				ops[svc][m] = true
			}
		}
	}
	call := regexp.MustCompile(`\.([A-Z][A-Za-z0-9]+)\(`)
	paginator := regexp.MustCompile(`\b(s3|sqs|sns|cloudfront|codepipeline)\.New([A-Z][A-Za-z0-9]+)Paginator\(`)
	root := filepath.Join("..", "..")
	found := map[string][]string{} // op -> where
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if _, skip := skipDirs[rel]; skip {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			text := string(src)
			for svc := range sdkClients {
				if !strings.Contains(text, `"github.com/aws/aws-sdk-go-v2/service/`+svc+`"`) {
					continue
				}
				for i, line := range strings.Split(text, "\n") {
					where := rel + ":" + itoa(i+1)
					for _, m := range call.FindAllStringSubmatch(line, -1) {
						if ops[svc][m[1]] && !strings.Contains(line, svc+"."+m[1]+"(") {
							found[svc+":"+m[1]] = append(found[svc+":"+m[1]], where)
						}
					}
					for _, m := range paginator.FindAllStringSubmatch(line, -1) {
						if m[1] == svc {
							found[svc+":"+m[2]] = append(found[svc+":"+m[2]], where)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) < 10 {
		t.Fatalf("found only %d operations in the sources: is the scan broken? %v", len(found), found)
	}
	names := make([]string, 0, len(found))
	for op := range found {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, op := range names {
		if _, ok := Operations[op]; !ok && !noPermission[op] {
			t.Errorf("%s is called (%s) but not in policy.Operations: add it to the action table and the policy", op, strings.Join(found[op], ", "))
		}
	}
	t.Logf("operations called: %v", names)
}
