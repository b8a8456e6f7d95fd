package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares the JSON and Terraform output of every case with
// testdata/golden (go test -run TestPolicyGolden -update rewrites them). The
// JSON must parse back into the same documents; the Terraform must be
// what `terraform fmt` would write, when terraform is installed.
func TestPolicyGolden(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			_, set := generate(t, tc)
			js, err := set.JSON()
			if err != nil {
				t.Fatal(err)
			}
			source := "no config"
			if tc.config != "" {
				source = filepath.Base(tc.config)
			}
			tf, err := set.Terraform(source)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", js)
			golden(t, tc.name+".tf", tf)

			var back struct {
				Permission *Document `json:"permission_policy"`
			}
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			again, _ := marshal(back.Permission)
			want, _ := marshal(set.Permissions)
			if !bytes.Equal(again, want) {
				t.Errorf("the permission policy does not survive a round trip:\n%s\nwant\n%s", again, want)
			}
			terraformFmt(t, tf)
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPolicyGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run TestPolicyGolden -update rewrites it):\n%s", path, got)
	}
}

// terraformFmt checks that terraform fmt leaves tf unchanged.
func terraformFmt(t *testing.T, tf []byte) {
	t.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Log("terraform is not installed: formatting not checked")
		return
	}
	cmd := exec.Command(bin, "fmt", "-no-color", "-")
	cmd.Stdin = bytes.NewReader(tf)
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("terraform fmt: %v: %s", err, errOut.String())
	}
	if !bytes.Equal(out.Bytes(), tf) {
		t.Errorf("terraform fmt changes the output:\n%s", diffLines(string(tf), out.String()))
	}
}

// diffLines shows the first lines that differ.
func diffLines(a, b string) string {
	al, bl := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	var out bytes.Buffer
	n := 0
	for i := 0; i < max(len(al), len(bl)) && n < 10; i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			out.WriteString("line " + itoa(i+1) + ":\n  ours: " + string(x) + "\n  fmt:  " + string(y) + "\n")
			n++
		}
	}
	return out.String()
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
