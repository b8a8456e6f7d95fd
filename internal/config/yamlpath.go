package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yaml.v3 reports decode problems as "line N: ..." strings with Go type
// names in them. Ferry's users know field paths, not Go types, so the
// helpers here map lines back to paths such as "destinations[0].acl".

// field is one key (or sequence item) in the YAML document.
type field struct {
	path      string
	key       string // the mapping key; "" for sequence items
	line      int    // of the key, or of the item
	valueLine int
}

// fields lists every key and item under root, depth first.
func fields(root *yaml.Node) []field {
	var out []field
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out = append(out, field{path: p, key: k.Value, line: k.Line, valueLine: v.Line})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				out = append(out, field{path: p, line: v.Line, valueLine: v.Line})
				walk(v, p)
			}
		}
	}
	walk(root, "")
	return out
}

// lineIndex maps each path to the line it starts on.
func lineIndex(fs []field) map[string]int {
	m := make(map[string]int, len(fs))
	for _, f := range fs {
		m[f.path] = f.line
	}
	return m
}

var (
	unknownFieldMsg = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)
	lineMsg         = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// describeTypeError turns one of yaml.TypeError's messages into an Error
// naming the field path.
func describeTypeError(file, msg string, fs []field, known map[string][]string) *Error {
	if m := unknownFieldMsg.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		path := m[2]
		for _, f := range fs {
			if f.line == line && f.key == m[2] {
				path = f.path
				break
			}
		}
		problem := "unknown field"
		if names := known[m[3]]; len(names) > 0 {
			problem += " (known: " + strings.Join(names, ", ") + ")"
		}
		return &Error{File: file, Line: line, Path: path, Err: errorString(problem)}
	}
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// The deepest field whose value is on that line is the one that
		// could not be decoded.
		path := ""
		for _, f := range fs {
			if f.valueLine == line && len(f.path) > len(path) {
				path = f.path
			}
		}
		return &Error{File: file, Line: line, Path: path, Err: errorString(m[2])}
	}
	return &Error{File: file, Err: errorString(msg)}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// knownFields maps the Go type names yaml.v3 prints ("config.Destination",
// "rules.Rule") to the YAML keys that type accepts, so an unknown-field
// error can list the right ones.
func knownFields(t reflect.Type) map[string][]string {
	out := map[string][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if _, done := out[t.String()]; done {
			return
		}
		out[t.String()] = nil // mark before recursing
		out[t.String()] = yamlKeys(t, visit)
	}
	visit(t)
	return out
}

// yamlKeys lists the YAML keys of a struct type, following inline fields,
// and visits the types of its fields.
func yamlKeys(t reflect.Type, visit func(reflect.Type)) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			keys = append(keys, yamlKeys(f.Type, visit)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
		visit(f.Type)
	}
	return keys
}
