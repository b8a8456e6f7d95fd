package rules

import "slices"

// StorageClasses lists the storage classes S3's API accepts in
// Destination.StorageClass (the StorageClass enum). It returns a new slice
// each call, so callers may keep or sort it.
func StorageClasses() []string {
	return []string{
		"STANDARD",
		"REDUCED_REDUNDANCY",
		"STANDARD_IA",
		"ONEZONE_IA",
		"INTELLIGENT_TIERING",
		"GLACIER",
		"DEEP_ARCHIVE",
		"OUTPOSTS",
		"GLACIER_IR",
		"SNOW",
		"EXPRESS_ONEZONE",
		"FSX_OPENZFS",
		"FSX_ONTAP",
	}
}

// IsStorageClass reports whether s is one of StorageClasses. Names are
// case-sensitive, as in S3.
func IsStorageClass(s string) bool { return slices.Contains(StorageClasses(), s) }
