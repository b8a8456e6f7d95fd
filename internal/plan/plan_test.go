package plan

import (
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/object"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := object.Info{Key: "a", Size: 10, ETag: "e1", LastModified: t0}
	with := func(f func(*object.Info)) *object.Info { d := src; f(&d); return &d }
	tests := []struct {
		name string
		kind Kind
		dst  *object.Info
		want Action
	}{
		{"absent", BucketToBucket, nil, Copy},
		{"same etag", BucketToBucket, with(func(d *object.Info) {}), Skip},
		{"size differs", BucketToBucket, with(func(d *object.Info) { d.Size = 11 }), Copy},
		{"etag differs needs head", BucketToBucket, with(func(d *object.Info) { d.ETag = "x" }), CheckHead},
		{"pushed file unchanged", DirToBucket, with(func(d *object.Info) { d.ETag = "x"; d.LastModified = t0.Add(time.Minute) }), Skip},
		{"pushed file newer", DirToBucket, with(func(d *object.Info) { d.LastModified = t0.Add(-time.Minute) }), Copy},
		{"pulled file same time", BucketToDir, with(func(d *object.Info) { d.ETag = ""; d.LastModified = t0.Add(300 * time.Millisecond) }), Skip},
		{"pulled file other time", BucketToDir, with(func(d *object.Info) { d.LastModified = t0.Add(time.Hour) }), Copy},
		{"pulled file other size", BucketToDir, with(func(d *object.Info) { d.Size = 1 }), Copy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.kind, src, tt.dst); got.Action != tt.want {
				t.Errorf("Decide = %v (%s), want %v", got.Action, got.Reason, tt.want)
			}
		})
	}
}

func TestDecideByOrigin(t *testing.T) {
	src := object.Info{Key: "a", Size: 10, ETag: "e1", VersionID: "v1"}
	replica := func(o object.Origin) *object.Meta { return &object.Meta{UserMeta: o.Metadata()} }
	tests := []struct {
		name string
		dst  *object.Meta
		want Action
	}{
		{"absent", nil, Copy},
		{"not a replica", &object.Meta{UserMeta: map[string]string{"owner": "x"}}, Copy},
		{"replica of this version", replica(object.Origin{Bucket: "b", ETag: "e1", VersionID: "v1"}), Skip},
		{"replica of other etag", replica(object.Origin{Bucket: "b", ETag: "e0", VersionID: "v1"}), Copy},
		{"replica of other version", replica(object.Origin{Bucket: "b", ETag: "e1", VersionID: "v0"}), Copy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideByOrigin(src, tt.dst); got.Action != tt.want {
				t.Errorf("DecideByOrigin = %v (%s), want %v", got.Action, got.Reason, tt.want)
			}
		})
	}
}
