package config

import (
	"fmt"
	"strconv"
)

// Error is one problem in ferry.yaml, or in the replication file it names.
// Load and Parse return every problem found, joined with errors.Join.
type Error struct {
	// File is the file the problem is in, as the user named it.
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Path is the field, e.g. "destinations[0].acl"; "" for the whole file.
	Path string
	// Err says what is wrong. For rule problems it is a *rules.FieldError.
	Err error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Path == "" {
		return loc + ": " + e.Err.Error()
	}
	return loc + ": " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// checker collects problems with one file, placing each at the line of
// the field it is about.
type checker struct {
	file  string
	lines map[string]int // field path -> line, from the YAML node tree
	errs  []error
}

func (c *checker) add(path, format string, args ...any) {
	c.addErr(path, fmt.Errorf(format, args...))
}

func (c *checker) addErr(path string, err error) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.line(path), Path: path, Err: err})
}

// line is the line of path, or of its closest parent that has one (a
// missing field is reported where its parent is).
func (c *checker) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
	}
	return 0
}

// parentPath drops the last element: "a[0].b" -> "a[0]" -> "a" -> "".
func parentPath(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		switch p[i] {
		case '.':
			return p[:i]
		case '[':
			return p[:i]
		}
	}
	return ""
}
