package location

import (
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	abs, _ := filepath.Abs("build")
	tests := []struct {
		in      string
		want    Location
		wantErr bool
	}{
		{in: "s3://my-bucket", want: Location{Bucket: "my-bucket"}},
		{in: "s3://my-bucket/", want: Location{Bucket: "my-bucket"}},
		{in: "s3://my-bucket/logs", want: Location{Bucket: "my-bucket", Prefix: "logs/"}},
		{in: "s3://my-bucket/a/b/", want: Location{Bucket: "my-bucket", Prefix: "a/b/"}},
		{in: "build", want: Location{Dir: abs}},
		{in: "s3://My_Bucket/x", wantErr: true},
		{in: "s3://ab", wantErr: true},
		{in: "s3://", wantErr: true},
		{in: "gs://bucket", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
