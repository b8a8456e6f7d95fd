package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Load reads, parses and validates a ferry.yaml. A replication_file in it
// is read relative to the directory path is in.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(data, filepath.Dir(path), path)
}

// Parse parses and validates a ferry.yaml held in data. baseDir is where a
// relative replication_file is looked for; name is how messages refer to
// the file ("ferry.yaml" if empty). The error, if any, joins one *Error
// per problem.
func Parse(data []byte, baseDir, name string) (*Config, error) {
	if name == "" {
		name = "ferry.yaml"
	}
	c, fs, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	c.Name = name
	chk := &checker{file: name, lines: lineIndex(fs)}
	chk.config(c)
	chk.replication(c, baseDir)
	chk.replicationTime(c) // after the rules of replication_file are loaded
	if len(chk.errs) > 0 {
		return nil, errors.Join(chk.errs...)
	}
	return c, nil
}

// decode reads the YAML strictly: unknown fields are errors, so that a
// misspelt setting ("storage_clas") fails instead of being ignored. It also
// returns the document's fields, to place later errors on their lines.
func decode(data []byte, name string) (*Config, []field, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, syntaxError(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 || root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Tag == "!!null" {
		return nil, nil, &Error{File: name, Err: errors.New("empty configuration: source and destinations are required")}
	}
	fs := fields(&root)

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, nil, syntaxError(name, err)
		}
		known := knownFields(reflect.TypeFor[Config]())
		errs := make([]error, 0, len(te.Errors))
		for _, msg := range te.Errors {
			errs = append(errs, describeTypeError(name, msg, fs, known))
		}
		return nil, nil, errors.Join(errs...)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		return nil, nil, &Error{File: name, Line: next.Line, Err: errors.New("more than one YAML document; ferry.yaml holds exactly one")}
	}
	return &c, fs, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError reformats "yaml: line 3: did not find expected key" as
// "ferry.yaml:3: did not find expected key".
func syntaxError(name string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Err: errorString(m[2])}
	}
	return &Error{File: name, Err: err}
}
