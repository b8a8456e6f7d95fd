// Package store lists and inspects the two kinds of place ferry copies
// between: an S3 bucket (any S3-compatible server) and a local directory.
// Listings arrive sorted by key in byte order, so two of them can be merged
// in constant memory.
package store

import (
	"context"

	"github.com/ferry-s3/ferry/internal/object"
)

// Store is a place objects can be listed from.
type Store interface {
	// List calls fn for each object under prefix whose key sorts after
	// startAfter ("" for all), in key byte order.
	List(ctx context.Context, prefix, startAfter string, fn func(object.Info) error) error
	// String names the store for messages ("s3://bucket" or a path).
	String() string
}
